//! [`Script`]: a Lua script run by its SHA-1 (`EVALSHA`), sent whole (`EVAL`) only when a node
//! answers `NOSCRIPT` — after a restart, a failover to a replica that never loaded it, or on
//! first use.

use std::fmt::Write as _;

/// A Lua script and its SHA-1 digest (computed here, as Redis computes it).
///
/// ```
/// use slotwise_client::Script;
/// let script = Script::new("return 1");
/// assert_eq!(script.sha(), "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Script {
    source: String,
    sha: String,
}

impl Script {
    /// A script from its source.
    #[must_use]
    pub fn new(source: impl Into<String>) -> Script {
        let source = source.into();
        let mut sha = String::with_capacity(40);
        for b in sha1(source.as_bytes()) {
            let _ = write!(sha, "{b:02x}");
        }
        Script { source, sha }
    }

    /// Its source.
    #[must_use]
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Its SHA-1, lowercase hex (what `EVALSHA` and `SCRIPT LOAD` use).
    #[must_use]
    pub fn sha(&self) -> &str {
        &self.sha
    }
}

/// SHA-1 (FIPS 180-4) of `data`. Only for naming scripts as Redis does; not for security.
fn sha1(data: &[u8]) -> [u8; 20] {
    let mut h: [u32; 5] = [
        0x6745_2301,
        0xEFCD_AB89,
        0x98BA_DCFE,
        0x1032_5476,
        0xC3D2_E1F0,
    ];
    let bit_len = (data.len() as u64).wrapping_mul(8);
    let mut message = data.to_vec();
    message.push(0x80);
    while message.len() % 64 != 56 {
        message.push(0);
    }
    message.extend_from_slice(&bit_len.to_be_bytes());
    for block in message.chunks_exact(64) {
        let mut w = [0u32; 80];
        for (i, word) in block.chunks_exact(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = h;
        for (i, &wi) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5A82_7999),
                20..=39 => (b ^ c ^ d, 0x6ED9_EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC),
                _ => (b ^ c ^ d, 0xCA62_C1D6),
            };
            let t = a
                .rotate_left(5)
                .wrapping_add(f)
                .wrapping_add(e)
                .wrapping_add(k)
                .wrapping_add(wi);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = t;
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d, e]) {
            *x = x.wrapping_add(y);
        }
    }
    let mut out = [0u8; 20];
    for (chunk, word) in out.chunks_exact_mut(4).zip(h) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha1_test_vectors() {
        // FIPS 180 examples, the empty string, and a message longer than one block.
        let cases: [(&[u8], &str); 4] = [
            (b"abc", "a9993e364706816aba3e25717850c26c9cd0d89d"),
            (b"", "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
            (
                b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
                "84983e441c3bd26ebaae4aa1f95129e5e54670f1",
            ),
            (
                b"The quick brown fox jumps over the lazy dog",
                "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12",
            ),
        ];
        for (input, want) in cases {
            let got: String = sha1(input).iter().map(|b| format!("{b:02x}")).collect();
            assert_eq!(got, want, "{:?}", String::from_utf8_lossy(input));
        }
        let long = vec![b'a'; 1000];
        assert_eq!(
            Script::new(String::from_utf8(long).unwrap()).sha(),
            "291e9a6c66994949b57ba5e650361e98fc36b1ba"
        );
    }
}
