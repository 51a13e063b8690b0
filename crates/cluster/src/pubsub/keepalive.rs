//! Timers of subscriber connections: pings when idle, closing a stalled one, retried subscribes.

use alloc::vec::Vec;

use super::Expect;
use super::wire::{self};
use crate::lifecycle::CloseReason;
use crate::{Cluster, Instant};

impl Cluster {
    pub(super) fn pubsub_timer(&mut self, at: Instant) {
        self.pubsub.timer = Some(self.pubsub.timer.map_or(at, |t| t.min(at)));
    }

    /// Pings, stalled and late connections, reconnects and retried subscribes.
    pub(crate) fn pubsub_timers(&mut self) {
        let now = self.now;
        if self.pubsub.timer.is_none_or(|t| t > now) {
            return;
        }
        self.pubsub.timer = None;
        let keepalive = self.config.pubsub_keepalive;
        let mut close = Vec::new();
        let mut ping = Vec::new();
        let mut next = Instant::MAX;
        for (&id, state) in &self.pubsub.conns {
            let Some(conn) = self
                .node(state.node)
                .and_then(|n| n.subscriber.as_ref())
                .filter(|c| c.id == id)
            else {
                continue;
            };
            if !state.ready {
                if conn.ready_by <= now {
                    close.push((state.node, id, CloseReason::Failed));
                } else {
                    next = next.min(conn.ready_by);
                }
                continue;
            }
            let silent_since = conn.last_rx.max(state.ping_sent.unwrap_or(Instant::ZERO));
            match state.ping_sent {
                Some(_) if conn.last_rx + keepalive * 3 <= now => {
                    close.push((state.node, id, CloseReason::Stalled));
                }
                Some(_) => next = next.min(conn.last_rx + keepalive * 3),
                None if silent_since + keepalive <= now => {
                    ping.push((state.node, id));
                    next = next.min(now + keepalive * 3);
                }
                None => next = next.min(silent_since + keepalive),
            }
        }
        for (node, id) in ping {
            if let Some(state) = self.pubsub.conns.get_mut(&id) {
                state.ping_sent = Some(now);
                state.expect.push_back(Expect::Ping);
            }
            if let Some(conn) = self.node_mut(node).and_then(|n| n.subscriber.as_mut()) {
                wire::write_ping(&mut conn.wbuf);
            }
            self.mark_dirty(node, id);
        }
        for (node, id, reason) in close {
            self.close_conn(node, id, reason, true);
        }
        if self.pubsub.retry_at.is_some_and(|t| t <= now) {
            self.pubsub.retry_at = None;
        }
        if let Some(t) = self.pubsub.retry_at {
            next = next.min(t);
        }
        if next != Instant::MAX {
            self.pubsub_timer(next);
        }
        self.pubsub_reconcile();
    }
}
