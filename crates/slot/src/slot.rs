//! Key slots: [`Slot`], [`key_slot`] and [`hash_tag`], exactly as the Redis Cluster specification
//! defines them. Nothing here allocates.

use core::fmt;

use crate::crc16::crc16;

/// A Redis Cluster hash slot: a number in `0..16384`.
///
/// The invariant is kept by construction: [`Slot::new`] refuses 16384 and above, and [`Slot::for_key`]
/// reduces the CRC modulo 16384.
///
/// ```
/// use slotwise_slot::Slot;
/// assert_eq!(Slot::new(16383).map(Slot::get), Some(16383));
/// assert_eq!(Slot::new(16384), None);
/// assert_eq!(Slot::for_key(b"foo").get(), 12182);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Slot(u16);

impl Slot {
    /// The number of slots in a Redis Cluster: 16384.
    pub const COUNT: u16 = 16384;
    /// Slot 0.
    pub const MIN: Slot = Slot(0);
    /// Slot 16383.
    pub const MAX: Slot = Slot(Self::COUNT - 1);

    /// The slot numbered `n`, or `None` when `n` is 16384 or more.
    #[must_use]
    pub const fn new(n: u16) -> Option<Slot> {
        if n < Self::COUNT { Some(Slot(n)) } else { None }
    }

    /// The slot `key` belongs to (see [`key_slot`]).
    #[must_use]
    pub fn for_key(key: &[u8]) -> Slot {
        key_slot(key)
    }

    /// The slot's number, always below 16384.
    #[must_use]
    pub const fn get(self) -> u16 {
        self.0
    }

    /// All 16384 slots, in order.
    pub fn all() -> impl DoubleEndedIterator<Item = Slot> + ExactSizeIterator + Clone {
        (0..Self::COUNT).map(Slot)
    }
}

impl From<Slot> for u16 {
    fn from(slot: Slot) -> u16 {
        slot.0
    }
}

impl From<Slot> for usize {
    fn from(slot: Slot) -> usize {
        usize::from(slot.0)
    }
}

impl TryFrom<u16> for Slot {
    type Error = SlotOutOfRange;
    fn try_from(n: u16) -> Result<Slot, SlotOutOfRange> {
        Slot::new(n).ok_or(SlotOutOfRange(u64::from(n)))
    }
}

impl TryFrom<i64> for Slot {
    type Error = SlotOutOfRange;
    /// For slot numbers read off the wire (`MOVED 3999 …`, `CLUSTER SHARDS` ranges).
    fn try_from(n: i64) -> Result<Slot, SlotOutOfRange> {
        u16::try_from(n)
            .ok()
            .and_then(Slot::new)
            .ok_or(SlotOutOfRange(n.unsigned_abs()))
    }
}

impl fmt::Display for Slot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// A number that is not a slot (16384 or more, or negative).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlotOutOfRange(pub u64);

impl fmt::Display for SlotOutOfRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "slot {} is out of range (slots are 0..16384)", self.0)
    }
}

impl core::error::Error for SlotOutOfRange {}

/// The part of `key` that is hashed: the hash tag when there is one, otherwise the whole key.
///
/// Per the Redis Cluster specification: if the key contains a `{`, and a `}` somewhere after that
/// first `{`, and at least one byte between them, only those bytes are hashed. Only the first `{` and
/// the first `}` after it count; `{}` (an empty tag) means the whole key is hashed.
///
/// ```
/// use slotwise_slot::hash_tag;
/// assert_eq!(hash_tag(b"{user1000}.following"), b"user1000");
/// assert_eq!(hash_tag(b"foo{}{bar}"), b"foo{}{bar}"); // first tag is empty: whole key
/// assert_eq!(hash_tag(b"foo{{bar}}zap"), b"{bar");     // from the first `{` to the first `}`
/// assert_eq!(hash_tag(b"foo{bar}{zap}"), b"bar");
/// assert_eq!(hash_tag(b"no braces"), b"no braces");
/// ```
#[must_use]
#[inline]
pub fn hash_tag(key: &[u8]) -> &[u8] {
    let Some(open) = find(b'{', key) else {
        return key;
    };
    let after = key.get(open + 1..).unwrap_or_default();
    match find(b'}', after) {
        Some(close) if close > 0 => after.get(..close).unwrap_or(key),
        _ => key,
    }
}

/// The first this many bytes are searched eight bytes at a time in plain integer arithmetic; what
/// follows in longer inputs with `memchr`, whose vector setup only pays for itself on longer inputs.
/// (A hash tag is usually near the start of a key, so a long tagged key rarely gets that far.)
const SHORT_KEY: usize = 64;

/// The offset of the first `needle` in `hay`.
#[inline(always)]
fn find(needle: u8, hay: &[u8]) -> Option<usize> {
    match hay.split_at_checked(SHORT_KEY) {
        Some((head, tail)) if !tail.is_empty() => {
            find_short(needle, head).or_else(|| memchr::memchr(needle, tail).map(|i| i + SHORT_KEY))
        }
        _ => find_short(needle, hay),
    }
}

/// [`find`] in plain integer arithmetic, eight bytes at a time.
#[inline(always)]
fn find_short(needle: u8, hay: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::from_le_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_le_bytes([0x80; 8]);
    let pattern = u64::from_le_bytes([needle; 8]);
    let (words, rest) = hay.as_chunks::<8>();
    for (i, word) in words.iter().enumerate() {
        // A byte of `v` is zero where the word holds `needle`. The classic zero-byte test can flag a
        // byte above a true zero (the borrow runs upwards), never one below, so the lowest flag is exact.
        let v = u64::from_le_bytes(*word) ^ pattern;
        let zero = v.wrapping_sub(ONES) & !v & HIGHS;
        if zero != 0 {
            return Some(i * 8 + (zero.trailing_zeros() / 8) as usize);
        }
    }
    rest.iter()
        .position(|&b| b == needle)
        .map(|p| words.len() * 8 + p)
}

/// The slot of `key`: CRC16-XMODEM of its [`hash_tag`] part, modulo 16384.
///
/// ```
/// use slotwise_slot::key_slot;
/// assert_eq!(key_slot(b"foo").get(), 12182);
/// // Keys with the same hash tag share a slot, so multi-key commands can use them together.
/// assert_eq!(key_slot(b"{user1000}.following"), key_slot(b"{user1000}.followers"));
/// assert_eq!(key_slot(b"").get(), 0);
/// ```
#[must_use]
#[inline]
pub fn key_slot(key: &[u8]) -> Slot {
    Slot(crc16(hash_tag(key)) & (Slot::COUNT - 1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The specification's rule, written as plainly as possible.
    fn reference_slot(key: &[u8]) -> u16 {
        let mut hashed = key;
        if let Some(s) = key.iter().position(|&b| b == b'{')
            && let Some(e) = key[s + 1..].iter().position(|&b| b == b'}')
            && e > 0
        {
            hashed = &key[s + 1..s + 1 + e];
        }
        ::crc16::State::<::crc16::XMODEM>::calculate(hashed) % 16384
    }

    #[test]
    fn spec_examples() {
        assert_eq!(key_slot(b"123456789").get(), 0x31c3 & 0x3fff);
        assert_eq!(key_slot(b"{}"), Slot(reference_slot(b"{}")));
        assert_eq!(key_slot(b"{"), Slot(reference_slot(b"{")));
        assert_eq!(key_slot(b"}{a}"), key_slot(b"a"));
        assert_eq!(key_slot(b"{a}}"), key_slot(b"a"));
        assert_eq!(key_slot(b"x{a"), Slot(reference_slot(b"x{a")));
    }

    #[test]
    fn slot_conversions() {
        assert_eq!(Slot::try_from(16383u16), Ok(Slot::MAX));
        assert_eq!(Slot::try_from(16384u16), Err(SlotOutOfRange(16384)));
        assert_eq!(Slot::try_from(-1i64), Err(SlotOutOfRange(1)));
        assert_eq!(Slot::all().len(), 16384);
        assert_eq!(Slot::all().last(), Some(Slot::MAX));
    }

    #[test]
    fn find_agrees_with_a_plain_search_at_every_offset() {
        for len in 0..(2 * SHORT_KEY + 9) {
            for at in 0..=len {
                let mut hay = std::vec![b'a'; len];
                if let Some(b) = hay.get_mut(at) {
                    *b = b'{';
                }
                // A second needle after the first must not change the answer.
                if let Some(b) = hay.get_mut(at + 3) {
                    *b = b'{';
                }
                let expected = hay.iter().position(|&b| b == b'{');
                assert_eq!(find(b'{', &hay), expected, "length {len}, needle at {at}");
            }
        }
        // Bytes one above and one below the needle, which the zero-byte test must not confuse with it.
        for hay in [&b"zzzzzzz|{"[..], b"|||||||||}", b"\x01{", b"\xff\x7b"] {
            assert_eq!(find(b'{', hay), hay.iter().position(|&b| b == b'{'));
        }
    }

    fn braces() -> impl Strategy<Value = std::vec::Vec<u8>> {
        proptest::collection::vec(
            prop_oneof![Just(b'{'), Just(b'}'), any::<u8>(), Just(b'a')],
            0..40,
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]
        #[test]
        fn slot_matches_the_specification(key in prop_oneof![braces(), proptest::collection::vec(any::<u8>(), 0..300)]) {
            prop_assert_eq!(key_slot(&key).get(), reference_slot(&key));
            prop_assert!(key_slot(&key).get() < Slot::COUNT);
        }
    }
}
