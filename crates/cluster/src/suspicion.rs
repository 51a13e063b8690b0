//! Suspicion: a node that stops answering without closing (a paused VM, a long fork, a half-open
//! path, `SIGSTOP`) is noticed in [`Config::suspect_after`](crate::Config::suspect_after), long
//! before the cluster's own failure detection, and stops costing requests.
//!
//! A node's shared connection is *suspect* when it has requests written and in flight and has
//! received nothing for `suspect_after` (counted from the later of its last bytes in and the
//! first write after it was idle). Blocking commands never ride the shared connection, so their
//! block time never counts. Then, at once:
//!
//! - the connection is set aside (`Node::suspect`): nothing new is written on it, but its replies
//!   still count, and it closes by itself once nothing is expected on it;
//! - new requests for the node wait in its queue (so they stay safely retryable) while a fresh
//!   connection is opened to it: the probe. They wait behind what is in flight on the set-aside
//!   connection even once the probe is ready — the node may only be paused (`CLIENT PAUSE`, a
//!   manual failover), and what it still runs from that connection must not be overtaken (a
//!   `GET` after a `SET` reads that `SET`). So the queue flows on the probe once the set-aside
//!   connection is gone: drained, or closed when a request on it passes its deadline with
//!   nothing heard (a stuck path), or closed after a failover (below);
//! - a refresh asks the other nodes (a suspect node is never asked), and again after each answer
//!   while the node is suspect and still serves slots. When the topology shows its slots moved
//!   (the failover), queued requests go to the new primary at once, and the set-aside connection
//!   is closed: reads and idempotent writes in flight on it are sent again, non-idempotent
//!   writes in flight end `ConnectionLost { maybe_applied: true }` — honest, and now only those
//!   written before the suspicion.
//!
//! When the set-aside connection hears from the node again, the
//! node is trusted again: the connection takes its place back (the probe goes) and the queue
//! flows on it.

use core::time::Duration;

use crate::conn::{Phase, Role};
use crate::lifecycle::CloseReason;
use crate::{Cluster, ConnId, Event, Instant, RefreshReason};

/// The suspicion part of the core.
#[derive(Debug)]
pub(crate) struct Suspicion {
    /// When to look at the busy shared connections again (`Instant::MAX`: none is busy).
    next_check: Instant,
}

impl Default for Suspicion {
    fn default() -> Self {
        Suspicion {
            next_check: Instant::MAX,
        }
    }
}

impl Suspicion {
    /// The earliest instant a connection may become suspect.
    pub(crate) fn next_timer(&self) -> Instant {
        self.next_check
    }
}

impl Cluster {
    /// A shared connection is busy from `since` (it was idle, or it just heard something while
    /// requests remain): it becomes suspect if it stays silent `suspect_after` from then.
    pub(crate) fn suspicion_watch(&mut self, since: Instant) {
        if let Some(after) = self.config.suspect_after {
            let at = since + after;
            if at < self.suspicion.next_check {
                self.suspicion.next_check = at;
            }
        }
    }

    /// Bytes came on connection `id` of `node`: a set-aside connection that hears again makes its
    /// node trusted again; a shared one that still has requests in flight is watched afresh.
    pub(crate) fn suspicion_heard(&mut self, node: usize, id: ConnId) {
        let now = self.now;
        let Some(n) = self.node(node) else { return };
        if n.suspect.as_ref().is_some_and(|c| c.id == id) {
            self.trust_again(node);
        } else if n
            .conn
            .as_ref()
            .is_some_and(|c| c.id == id && !c.fifo.is_empty())
        {
            self.suspicion_watch(now);
        }
    }

    /// Finds the shared connections silent past `suspect_after` with requests in flight.
    pub(crate) fn suspicion_timers(&mut self) {
        let now = self.now;
        if self.suspicion.next_check > now {
            return;
        }
        self.suspicion.next_check = Instant::MAX;
        let Some(after) = self.config.suspect_after else {
            return;
        };
        let mut next = Instant::MAX;
        let mut due = alloc::vec::Vec::new();
        for (i, n) in self.nodes.iter().enumerate() {
            let Some(c) = n.as_ref().and_then(|n| n.conn.as_ref()) else {
                continue;
            };
            if c.phase != Phase::Ready || c.draining || c.flushed == 0 || c.role != Role::Shared {
                continue;
            }
            let silent_from = c.last_rx.max(c.busy_since);
            if silent_from + after <= now {
                due.push((i, now.saturating_duration_since(silent_from)));
            } else {
                next = next.min(silent_from + after);
            }
        }
        self.suspicion.next_check = self.suspicion.next_check.min(next);
        for (node, silent_for) in due {
            self.suspect(node, silent_for);
        }
    }

    /// Sets the node's shared connection aside, opens a probe and asks for a refresh.
    fn suspect(&mut self, node: usize, silent_for: Duration) {
        let Some(n) = self.node_mut(node) else { return };
        if n.suspect.is_some() {
            // One set aside already (and the probe became the shared connection, then fell
            // silent too): the older one goes, as a stalled connection.
            let old = n.suspect.as_ref().map(|c| c.id);
            if let Some(old) = old {
                self.close_conn(node, old, CloseReason::Stalled, true);
            }
        }
        let Some(n) = self.node_mut(node) else { return };
        let Some(mut conn) = n.conn.take() else {
            return;
        };
        conn.draining = true;
        let in_flight = conn.flushed;
        n.suspect = Some(conn);
        let endpoint = n.endpoint.clone();
        self.stats.suspicions += 1;
        self.event(Event::NodeSuspect {
            endpoint,
            silent_for,
            in_flight,
        });
        self.ensure_connecting(node);
        self.trigger_refresh(RefreshReason::NodeSuspect);
    }

    /// The set-aside connection heard from its node: it is the node's connection again (the
    /// probe, ready or not, is dropped), and what waits flows on it, after what is in flight.
    fn trust_again(&mut self, node: usize) {
        let Some(n) = self.node(node) else { return };
        let probe = n.conn.as_ref().map(|c| c.id);
        let endpoint = n.endpoint.clone();
        self.event(Event::NodeTrusted { endpoint });
        if let Some(probe) = probe {
            self.close_conn(node, probe, CloseReason::Released, true);
        }
        let Some(n) = self.node_mut(node) else { return };
        if n.conn.is_some() {
            return;
        }
        let Some(mut conn) = n.suspect.take() else {
            return;
        };
        conn.draining = false;
        n.conn = Some(conn);
        if n.in_topology {
            self.flush_queue(node);
        }
        let now = self.now;
        self.suspicion_watch(now);
    }

    /// The set-aside connection is gone (drained, closed at a deadline or after a failover):
    /// what waited behind it goes on the node's connection, if that is ready.
    pub(crate) fn suspect_gone(&mut self, node: usize) {
        let ready = self
            .node(node)
            .is_some_and(|n| n.in_topology && n.conn.as_ref().is_some_and(|c| c.is_ready()));
        if ready {
            self.flush_queue(node);
        }
    }

    /// After a topology change: a suspect node that serves no slots any more (failed over) loses
    /// its set-aside connection; one that still serves slots is asked about again soon.
    pub(crate) fn suspicion_reconcile(&mut self) {
        let mut still_serving = false;
        for node in 0..self.nodes.len() {
            let Some(id) = self
                .node(node)
                .and_then(|n| n.suspect.as_ref())
                .map(|c| c.id)
            else {
                continue;
            };
            let serves_slots = self.slot_map.owns_any(node);
            if serves_slots {
                still_serving = true;
            } else {
                self.close_conn(node, id, CloseReason::Removed, true);
            }
        }
        if still_serving {
            self.trigger_refresh(RefreshReason::NodeSuspect);
        }
    }

    /// True when `node` has a set-aside connection (a refresh does not ask it).
    pub(crate) fn is_suspect(&self, node: usize) -> bool {
        self.node(node).is_some_and(|n| n.suspect.is_some())
    }
}
