//! [`Gather`]: whether a lone request's first poll yields once before writing, so that the
//! requests its task makes right after (the other futures of a `join`, each submitted at its
//! first poll) leave in the same write.
//!
//! A request handed in while nothing waits is written by its own future's poll ([`super::drive`]).
//! A task that awaits many request futures together submits each at its first poll, so the first
//! would leave alone and the rest through the loop's task. Yielding once first lets the task's
//! other futures hand theirs in too; the next poll writes them all, one write per node. It costs
//! a reschedule of the caller (on tokio's work-stealing scheduler, another worker woken), so it
//! is [`Trust`]ed: kept while the yield gathers others, dropped after a few that gathered none
//! (one request at a time), and tried again every [`RETRY`] + 1 lone requests.

use super::trust::Trust;

/// Once dropped: how many lone requests pass between two tries.
pub(super) const RETRY: u8 = 32;

/// The gather's state, kept with the loop (under its mutex).
#[derive(Debug)]
pub(super) struct Gather {
    /// A lone request's first poll has yielded; not settled yet.
    open: bool,
    trust: Trust,
}

impl Default for Gather {
    fn default() -> Gather {
        Gather {
            open: false,
            trust: Trust::new(RETRY),
        }
    }
}

impl Gather {
    /// A request was handed in while nothing else waited: true if its first poll yields.
    pub(super) fn start(&mut self) -> bool {
        if self.open {
            return false;
        }
        self.open = self.trust.attempt();
        self.open
    }

    /// A lone request's first poll has yielded and the loop has not run since: requests handed
    /// in meanwhile join it (their first polls yield too, so that none writes the gather early).
    pub(super) fn is_open(&self) -> bool {
        self.open
    }

    /// The loop is about to write what was handed in since it last ran (`fresh` messages):
    /// settles an open gather — it paid off if others came.
    pub(super) fn settle(&mut self, fresh: usize) {
        if std::mem::take(&mut self.open) {
            self.trust.paid(fresh > 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::trust::TRUST;
    use super::*;

    #[test]
    fn yields_while_others_come_and_stops_when_none_do() {
        let mut g = Gather::default();
        // A join of 64: the yield gathers the other 63.
        assert!(g.start());
        assert!(!g.start(), "one open gather at a time");
        g.settle(64);
        // One request at a time: TRUST fruitless yields, then none for RETRY lone requests.
        for _ in 0..TRUST {
            assert!(g.start());
            g.settle(1);
        }
        for _ in 0..RETRY {
            assert!(!g.start());
            g.settle(1);
        }
        assert!(g.start(), "tried again");
        g.settle(2);
        assert!(g.start(), "and trusted again once it gathered another");
    }
}
