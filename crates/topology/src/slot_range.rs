//! Slot numbers and inclusive slot ranges.
//!
//! Slots are plain `u16` numbers below [`SLOT_COUNT`] for now; the slot crate's `Slot` type will take
//! their place once it exists.

use core::fmt;

/// The number of hash slots in a Redis Cluster.
pub const SLOT_COUNT: u16 = 16384;

/// An inclusive range of slots, `start..=end`, with `start <= end < SLOT_COUNT`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SlotRange {
    start: u16,
    end: u16,
}

impl SlotRange {
    /// The range `start..=end`, if `start <= end < SLOT_COUNT`.
    ///
    /// ```
    /// use slotwise_topology::SlotRange;
    /// assert!(SlotRange::new(0, 16383).is_some());
    /// assert!(SlotRange::new(5, 4).is_none());
    /// assert!(SlotRange::new(0, 16384).is_none());
    /// ```
    pub const fn new(start: u16, end: u16) -> Option<SlotRange> {
        if start <= end && end < SLOT_COUNT {
            Some(SlotRange { start, end })
        } else {
            None
        }
    }

    /// The range holding one slot, if `slot < SLOT_COUNT`.
    pub const fn single(slot: u16) -> Option<SlotRange> {
        SlotRange::new(slot, slot)
    }

    /// Every slot: `0..=16383`.
    pub const ALL: SlotRange = SlotRange {
        start: 0,
        end: SLOT_COUNT - 1,
    };

    /// The first slot.
    pub const fn start(&self) -> u16 {
        self.start
    }

    /// The last slot (inclusive).
    pub const fn end(&self) -> u16 {
        self.end
    }

    /// How many slots the range holds (at least 1).
    pub const fn len(&self) -> usize {
        (self.end - self.start) as usize + 1
    }

    /// Always false: a range holds at least one slot. (Here for clippy's `len_without_is_empty`.)
    pub const fn is_empty(&self) -> bool {
        false
    }

    /// True if `slot` is in the range.
    pub const fn contains(&self, slot: u16) -> bool {
        self.start <= slot && slot <= self.end
    }

    /// The slots of the range.
    pub fn slots(&self) -> core::ops::RangeInclusive<u16> {
        self.start..=self.end
    }
}

impl fmt::Display for SlotRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `pad` so that width and alignment flags work (`{:>11}`).
        if self.start == self.end {
            f.pad(&alloc::format!("{}", self.start))
        } else {
            f.pad(&alloc::format!("{}-{}", self.start, self.end))
        }
    }
}

/// Groups consecutive slots that share a value into ranges: `(range, value)` for each run.
///
/// `values` is indexed by slot; only its first [`SLOT_COUNT`] entries are read.
pub(crate) fn runs<T: PartialEq + Copy>(values: &[T]) -> impl Iterator<Item = (SlotRange, T)> + '_ {
    let mut iter = values
        .iter()
        .take(usize::from(SLOT_COUNT))
        .enumerate()
        .peekable();
    core::iter::from_fn(move || {
        let (start, &value) = iter.next()?;
        let mut end = start;
        while let Some(&(i, &next)) = iter.peek() {
            if next != value {
                break;
            }
            end = i;
            iter.next();
        }
        // `take(SLOT_COUNT)` keeps both ends below 16384, so the conversions are exact.
        let range = SlotRange::new(start as u16, end as u16)?;
        Some((range, value))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec;
    use alloc::vec::Vec;

    #[test]
    fn runs_group_equal_neighbours() {
        let mut values = vec![0u8; usize::from(SLOT_COUNT)];
        values[10] = 1;
        values[11] = 1;
        let got: Vec<_> = runs(&values).collect();
        assert_eq!(
            got,
            vec![
                (SlotRange::new(0, 9).unwrap(), 0),
                (SlotRange::new(10, 11).unwrap(), 1),
                (SlotRange::new(12, 16383).unwrap(), 0),
            ]
        );
    }

    #[test]
    fn display() {
        assert_eq!(SlotRange::single(7).unwrap().to_string(), "7");
        assert_eq!(SlotRange::ALL.to_string(), "0-16383");
    }
}
