//! CRC16-XMODEM (polynomial `0x1021`, initial value 0, no reflection): the checksum Redis Cluster
//! hashes keys with.
//!
//! Table-driven and "sliced by 16": sixteen lookup tables (8 KiB, computed at compile time) let the
//! loop consume sixteen bytes per step. Only two of a step's sixteen lookups depend on the CRC register;
//! the other fourteen depend on the data alone, so they are computed one block ahead (software
//! pipelining), and the register's dependency chain is two lookups and two XORs per sixteen bytes. What
//! remains is the table loads themselves, one per byte. Keys shorter than sixteen bytes (and the
//! last bytes of longer ones) are consumed eight and four bytes at a time with the same tables.

// Every table index below is a `u8` widened to `usize`, into a table of 256 entries, or a constant
// index into a fixed-size array: it cannot be out of bounds, and the checked forms would cost a branch
// per byte in the hottest loop of routing.
#![allow(clippy::indexing_slicing)]

const POLY: u16 = 0x1021;

/// Number of tables, and bytes consumed per step.
const SLICES: usize = 16;

/// `TABLES[0][b]` is the CRC of the single byte `b`; `TABLES[k][b]` is the CRC of `b` followed by `k`
/// zero bytes.
static TABLES: [[u16; 256]; SLICES] = build_tables();

const fn build_tables() -> [[u16; 256]; SLICES] {
    let mut tables = [[0u16; 256]; SLICES];
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
    while k < SLICES {
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

/// The contribution of bytes 2..16 of a block to the register after the block: independent of the
/// register, so it can be computed ahead. The bytes are taken from two 64-bit words (two loads, then
/// shifts) rather than fourteen byte loads, leaving the load ports to the table lookups.
#[inline(always)]
fn data_part(c: &[u8; SLICES]) -> u16 {
    let t = &TABLES;
    let a = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
    let b = u64::from_le_bytes([c[8], c[9], c[10], c[11], c[12], c[13], c[14], c[15]]);
    let x = |v: u64, shift: u32| usize::from((v >> shift) as u8);
    (t[13][x(a, 16)] ^ t[12][x(a, 24)] ^ t[11][x(a, 32)] ^ t[10][x(a, 40)])
        ^ (t[9][x(a, 48)] ^ t[8][x(a, 56)] ^ t[7][x(b, 0)] ^ t[6][x(b, 8)])
        ^ (t[5][x(b, 16)] ^ t[4][x(b, 24)] ^ t[3][x(b, 32)] ^ t[2][x(b, 40)])
        ^ (t[1][x(b, 48)] ^ t[0][x(b, 56)])
}

/// The register after the block `c`, given the register before it and the block's [`data_part`]: the
/// register is folded into the block's first two bytes (the CRC is linear).
#[inline(always)]
fn finish_block(crc: u16, c: &[u8; SLICES], data: u16) -> u16 {
    let t = &TABLES;
    let [hi, lo] = crc.to_be_bytes();
    data ^ (t[15][usize::from(c[0] ^ hi)] ^ t[14][usize::from(c[1] ^ lo)])
}

/// The register after `crc` has consumed `data`, fewer than sixteen bytes: eight and then four bytes at
/// a time with the same tables (one dependent lookup per step instead of one per byte), then the last
/// three bytes one at a time. Hash tags and short keys are mostly this.
#[inline(always)]
fn short(mut crc: u16, data: &[u8]) -> u16 {
    let t = &TABLES;
    let (eights, rest) = data.as_chunks::<8>();
    for c in eights {
        let [hi, lo] = crc.to_be_bytes();
        crc = (t[7][usize::from(c[0] ^ hi)] ^ t[6][usize::from(c[1] ^ lo)])
            ^ (t[5][usize::from(c[2])] ^ t[4][usize::from(c[3])])
            ^ (t[3][usize::from(c[4])] ^ t[2][usize::from(c[5])])
            ^ (t[1][usize::from(c[6])] ^ t[0][usize::from(c[7])]);
    }
    let (fours, rest) = rest.as_chunks::<4>();
    for c in fours {
        let [hi, lo] = crc.to_be_bytes();
        crc = (t[3][usize::from(c[0] ^ hi)] ^ t[2][usize::from(c[1] ^ lo)])
            ^ (t[1][usize::from(c[2])] ^ t[0][usize::from(c[3])]);
    }
    for &b in rest {
        crc = (crc << 8) ^ t[0][usize::from((crc >> 8) as u8 ^ b)];
    }
    crc
}

/// CRC16-XMODEM of `data`, as Redis Cluster computes it (`crc16` in Redis's `crc16.c`).
///
/// ```
/// // The check value of CRC16-XMODEM, also the example in the Redis Cluster specification.
/// assert_eq!(slotwise_slot::crc16(b"123456789"), 0x31c3);
/// ```
#[must_use]
#[inline]
pub fn crc16(data: &[u8]) -> u16 {
    let (blocks, rest) = data.as_chunks::<SLICES>();
    let Some((first, others)) = blocks.split_first() else {
        return short(0, data);
    };
    let mut crc = 0u16;
    let mut block = first;
    let mut part = data_part(first);
    for next in others {
        // The next block's data part does not wait for this block's register.
        let next_part = data_part(next);
        crc = finish_block(crc, block, part);
        block = next;
        part = next_part;
    }
    crc = finish_block(crc, block, part);
    short(crc, rest)
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
        for len in 0..600 {
            let data: std::vec::Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
            assert_eq!(crc16(&data), reference(&data), "length {len}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn equals_the_crc16_crate(data in proptest::collection::vec(any::<u8>(), 0..1100)) {
            prop_assert_eq!(crc16(&data), reference(&data));
        }
    }
}
