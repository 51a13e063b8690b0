//! CRC16-XMODEM (polynomial `0x1021`, initial value 0, no reflection): the checksum Redis Cluster
//! hashes keys with.
//!
//! Table-driven and "sliced by 8": eight lookup tables (4 KiB, computed at compile time) let the loop
//! consume eight bytes per step with independent lookups instead of a chain of eight dependent ones.
//! Keys of a few bytes take the byte-at-a-time path that Redis itself uses.

// Every table index below is a `u8` widened to `usize`, into a table of 256 entries: it cannot be out
// of bounds, and the checked forms would cost a branch per byte in the hottest loop of routing.
#![allow(clippy::indexing_slicing)]

const POLY: u16 = 0x1021;

/// `TABLES[0][b]` is the CRC of the single byte `b`; `TABLES[k][b]` is the CRC of `b` followed by `k`
/// zero bytes.
static TABLES: [[u16; 256]; 8] = build_tables();

const fn build_tables() -> [[u16; 256]; 8] {
    let mut tables = [[0u16; 256]; 8];
    let mut b = 0;
    while b < 256 {
        let mut crc = (b as u16) << 8;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ POLY
            } else {
                crc << 1
            };
            bit += 1;
        }
        tables[0][b] = crc;
        b += 1;
    }
    let mut k = 1;
    while k < 8 {
        let mut b = 0;
        while b < 256 {
            let prev = tables[k - 1][b];
            tables[k][b] = (prev << 8) ^ tables[0][(prev >> 8) as usize];
            b += 1;
        }
        k += 1;
    }
    tables
}

/// CRC16-XMODEM of `data`, as Redis Cluster computes it (`crc16` in Redis's `crc16.c`).
///
/// ```
/// // The check value of CRC16-XMODEM, also the example in the Redis Cluster specification.
/// assert_eq!(slotwise_slot::crc16(b"123456789"), 0x31c3);
/// ```
#[must_use]
pub fn crc16(data: &[u8]) -> u16 {
    let t = &TABLES;
    let mut crc: u16 = 0;
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        // The 16-bit register is folded into the first two bytes of the block (the CRC is linear),
        // then each byte's contribution after the rest of the block is looked up independently.
        let [hi, lo] = crc.to_be_bytes();
        crc = t[7][usize::from(c[0] ^ hi)]
            ^ t[6][usize::from(c[1] ^ lo)]
            ^ t[5][usize::from(c[2])]
            ^ t[4][usize::from(c[3])]
            ^ t[3][usize::from(c[4])]
            ^ t[2][usize::from(c[5])]
            ^ t[1][usize::from(c[6])]
            ^ t[0][usize::from(c[7])];
    }
    for &b in chunks.remainder() {
        crc = (crc << 8) ^ t[0][usize::from((crc >> 8) as u8 ^ b)];
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::crc16;
    use proptest::prelude::*;

    fn reference(data: &[u8]) -> u16 {
        ::crc16::State::<::crc16::XMODEM>::calculate(data)
    }

    #[test]
    fn check_value_and_small_inputs() {
        assert_eq!(crc16(b""), 0);
        assert_eq!(crc16(b"123456789"), 0x31c3);
        for len in 0..64 {
            let data: std::vec::Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
            assert_eq!(crc16(&data), reference(&data), "length {len}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn equals_the_crc16_crate(data in proptest::collection::vec(any::<u8>(), 0..300)) {
            prop_assert_eq!(crc16(&data), reference(&data));
        }
    }
}
