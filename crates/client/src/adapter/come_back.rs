//! [`ComeBack`]: whether the loop's task, after a run that woke callers with their outcomes while
//! others still wait, wakes itself to run again behind them (see [`super::drive`]).
//!
//! Waking itself puts the task behind the callers it just woke: it comes back once they have
//! submitted their next requests, which then leave together, none of them waking it. That pays
//! off when the woken callers submit again at once (many tasks each awaiting one request at a
//! time), and costs a needless reschedule when they do not (one task awaiting a batch of its own
//! submits nothing until the whole batch is in). So coming back is trusted while it finds
//! requests, stops after [`TRUST`](super::trust::TRUST) come-backs in a row that found none, and is tried again once
//! [`RETRY`] runs that woke callers have passed without it.

use super::trust::Trust;

/// Once coming back stopped: how many runs that woke callers pass between two tries.
pub(super) const RETRY: u8 = 8;

/// The come-back's state, kept with the loop (under its mutex).
#[derive(Debug)]
pub(super) struct ComeBack {
    /// The task has yielded to come back after the callers it woke: they need not wake it.
    coming: bool,
    /// Paid off: a come-back found requests taken in since the task yielded.
    trust: Trust,
    /// The loop's count of messages taken in when the task yielded.
    since: u64,
}

impl Default for ComeBack {
    fn default() -> ComeBack {
        ComeBack {
            coming: false,
            trust: Trust::new(RETRY),
            since: 0,
        }
    }
}

impl ComeBack {
    /// The loop's task has yielded to come back and has not run since.
    pub(super) fn is_coming(&self) -> bool {
        self.coming
    }

    /// After a run of the loop's task: `taken_in` is the loop's count of messages taken in so
    /// far (by any path), `woke_others` whether the run woke callers with their outcomes while
    /// others still wait. True if the task is to wake itself now and come back.
    pub(super) fn after_run(&mut self, taken_in: u64, woke_others: bool) -> bool {
        if std::mem::take(&mut self.coming) {
            self.trust.paid(taken_in != self.since);
        }
        if !woke_others || !self.trust.attempt() {
            return false;
        }
        self.coming = true;
        self.since = taken_in;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::super::trust::TRUST;
    use super::*;

    #[test]
    fn comes_back_only_after_waking_others() {
        let mut c = ComeBack::default();
        assert!(!c.after_run(0, false));
        assert!(!c.is_coming());
        assert!(c.after_run(0, true));
        assert!(c.is_coming());
        // The come-back run found two requests: still trusted.
        assert!(c.after_run(2, true));
        assert!(
            !c.after_run(2, false),
            "nothing woken, nothing to come back for"
        );
        assert!(!c.is_coming());
    }

    #[test]
    fn fruitless_come_backs_stop_it_and_it_is_tried_again_later() {
        let mut c = ComeBack::default();
        assert!(c.after_run(5, true));
        // TRUST come-backs in a row find nothing taken in since the yield.
        for _ in 0..TRUST - 1 {
            assert!(c.after_run(5, true));
        }
        assert!(!c.after_run(5, true), "the last fruitless one stops it");
        for _ in 0..RETRY - 1 {
            assert!(!c.after_run(5, true));
        }
        // Tried again; this time requests came while it was away: trusted again.
        assert!(c.after_run(5, true));
        assert!(c.after_run(9, true));
        for _ in 0..TRUST - 1 {
            assert!(c.after_run(9, true));
        }
        assert!(!c.after_run(9, true));
    }
}
