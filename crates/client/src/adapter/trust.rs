//! [`Trust`]: whether a yield that only pays off if others act meanwhile is worth making — kept
//! while it pays off, dropped after a few that did not, and tried again now and then. The loop's
//! task coming back after the callers it woke ([`super::come_back`]) and a lone caller yielding
//! before its first write ([`super::gather`]) both use one.

/// How many tries in a row may find nothing before trying stops.
pub(super) const TRUST: u8 = 4;

/// How far a try that paid off, or a new [`Trust`], is from being dropped, and how many chances
/// to try pass, once dropped, before the next try.
#[derive(Debug)]
pub(super) struct Trust {
    /// Set to [`TRUST`] by a try that paid off, lowered by one that did not.
    score: u8,
    /// Chances passed since trying stopped.
    skipped: u8,
    /// How many chances pass between two tries, once dropped.
    retry: u8,
}

impl Trust {
    /// Trusted at first; once dropped, tried again every `retry + 1` chances.
    pub(super) const fn new(retry: u8) -> Trust {
        Trust {
            score: TRUST,
            skipped: 0,
            retry,
        }
    }

    /// A chance to try: true if trying now.
    pub(super) fn attempt(&mut self) -> bool {
        if self.score == 0 && self.skipped < self.retry {
            self.skipped += 1;
            return false;
        }
        self.skipped = 0;
        true
    }

    /// How a try went.
    pub(super) fn paid(&mut self, fruitful: bool) {
        self.score = if fruitful {
            TRUST
        } else {
            self.score.saturating_sub(1)
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_while_it_pays_dropped_after_trust_misses_and_retried() {
        let mut t = Trust::new(3);
        for _ in 0..10 {
            assert!(t.attempt());
            t.paid(true);
        }
        for _ in 0..TRUST {
            assert!(t.attempt());
            t.paid(false);
        }
        // Dropped: three chances pass, the fourth tries.
        for _ in 0..3 {
            assert!(!t.attempt());
        }
        assert!(t.attempt());
        t.paid(true);
        assert!(t.attempt(), "trusted again after a try that paid");
    }
}
