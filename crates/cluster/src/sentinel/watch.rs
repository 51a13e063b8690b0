//! Watching the sentinels: one connection to each, subscribed to its failover events
//! (`wire::CHANNELS`). Every sentinel is watched because a failover's leader publishes the
//! failover's steps only on its own channels.

use slotwise_resp::Frame;

use super::wire::{self, Heard};
use crate::conn::Role;
use crate::{Cluster, ConnId, Event, Instant, RefreshReason};

/// When to look at the watch connections again.
#[derive(Debug)]
pub(crate) struct Watch {
    /// `Instant::MAX`: every sentinel has its watch connection (or no sentinels).
    next_check: Instant,
}

impl Default for Watch {
    fn default() -> Self {
        Watch {
            next_check: Instant::ZERO,
        }
    }
}

impl Watch {
    /// When a watch connection is due to be opened.
    pub(crate) fn next_timer(&self) -> Instant {
        self.next_check
    }
}

impl Cluster {
    /// Opens the watch connections that are missing and due (after their node's backoff).
    pub(crate) fn sentinel_watch_timers(&mut self) {
        let now = self.now;
        if self.config.sentinel.is_none() || self.sentinel.watch.next_check > now {
            return;
        }
        let mut next = Instant::MAX;
        for node in self.sentinel_nodes() {
            let Some(n) = self.node(node) else { continue };
            if n.watch.is_some() {
                continue;
            }
            if n.retry_at > now {
                next = next.min(n.retry_at);
            } else {
                self.open_conn(node, Role::SentinelWatch);
            }
        }
        self.sentinel.watch.next_check = next;
    }

    /// A watch connection finished its handshake: it subscribes.
    pub(crate) fn sentinel_watch_ready(&mut self, node: usize, id: ConnId) {
        let Some(conn) = self.node_mut(node).and_then(|n| n.conn_mut(id)) else {
            return;
        };
        conn.wbuf.extend_from_slice(&wire::subscribe());
        self.mark_dirty(node, id);
    }

    /// A watch connection closed: reopened after its node's backoff; a refresh asks whether a
    /// switch went unheard meanwhile.
    pub(crate) fn sentinel_watch_lost(&mut self, node: usize) {
        let at = self
            .node(node)
            .map_or(self.now, |n| n.retry_at.max(self.now));
        self.sentinel.watch.next_check = self.sentinel.watch.next_check.min(at);
        self.node_timer = self.node_timer.min(at);
        self.trigger_refresh(RefreshReason::ConnectionFailure);
    }

    /// Something came on a watch connection.
    pub(crate) fn sentinel_heard(&mut self, frame: &Frame) {
        let Some(heard) = wire::parse_heard(frame) else {
            return;
        };
        let Some(ours) = self.config.sentinel.as_ref().map(|s| s.master.clone()) else {
            return;
        };
        match heard {
            Heard::Switch { master, to } if master == ours => {
                let known = self.sentinel.switched_to.as_ref() == Some(&to);
                if known && (self.sentinel.hold.switched || !self.sentinel.hold.active()) {
                    return; // another sentinel telling the switch already applied
                }
                self.stats.sentinel_switches += 1;
                self.event(Event::SentinelSwitch {
                    master,
                    to: to.clone(),
                });
                self.sentinel.switched_to = Some(to);
                self.sentinel_hold(true);
                self.refresh_now(RefreshReason::SentinelSwitch);
            }
            Heard::FailoverBegins { master } if master == ours => {
                if !self.sentinel.hold.active() {
                    self.event(Event::SentinelFailover { master });
                }
                self.sentinel_hold(false);
            }
            Heard::FailoverEnds { master } if master == ours && !self.sentinel.hold.switched => {
                self.sentinel_release();
            }
            _ => {}
        }
    }
}
