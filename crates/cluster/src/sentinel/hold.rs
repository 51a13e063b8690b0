//! Holding writes through a Sentinel failover (see the module docs of `sentinel`): from
//! `+try-failover` (or a `+switch-master` heard without it) until the routing table names the new
//! primary, the failover ends without a switch, or the hold's limit passes.

use crate::entry::Place;
use crate::{Cluster, Instant};

/// Whether writes wait, and until when at most.
#[derive(Debug)]
pub(crate) struct Hold {
    /// `Instant::MAX`: no hold.
    until: Instant,
    /// A `+switch-master` came during the hold: it ends when the topology names its primary.
    pub(crate) switched: bool,
}

impl Default for Hold {
    fn default() -> Self {
        Hold {
            until: Instant::MAX,
            switched: false,
        }
    }
}

impl Hold {
    /// Whether writes wait now.
    pub(crate) fn active(&self) -> bool {
        self.until != Instant::MAX
    }

    /// When the hold ends at the latest.
    pub(crate) fn next_timer(&self) -> Instant {
        self.until
    }
}

impl Cluster {
    /// Writes wait from now (a failover began, or a switch was heard), for at most the
    /// configured hold.
    pub(crate) fn sentinel_hold(&mut self, switched: bool) {
        let Some(limit) = self.config.sentinel.as_ref().and_then(|s| s.failover_hold) else {
            return;
        };
        let hold = &mut self.sentinel.hold;
        if !hold.active() {
            hold.until = self.now + limit;
        }
        hold.switched |= switched;
    }

    /// Whether a request that writes must wait now.
    pub(crate) fn sentinel_holds_writes(&self) -> bool {
        self.sentinel.hold.active()
    }

    /// The hold ends: what waited is routed again.
    pub(crate) fn sentinel_release(&mut self) {
        if !self.sentinel.hold.active() {
            return;
        }
        self.sentinel.hold = Hold::default();
        let waiting: alloc::vec::Vec<_> = self.unrouted.drain(..).collect();
        for key in waiting {
            if self
                .entries
                .get(key)
                .is_some_and(|e| e.place == Place::Unrouted)
            {
                self.dispatch(key);
            }
        }
    }

    /// The hold's limit passed without the switch applied.
    pub(crate) fn sentinel_hold_timers(&mut self) {
        if self.sentinel.hold.until <= self.now {
            self.sentinel_release();
        }
    }
}
