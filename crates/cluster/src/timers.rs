//! Time: request deadlines, retry backoffs, connect timeouts, reconnects and refreshes — all driven
//! by the `now` each input carries.

use core::cmp::Reverse;

use crate::conn::{Phase, Waiting};
use crate::entry::{Lane, Place};
use crate::lifecycle::CloseReason;
use crate::slab::Key;
use crate::{Cluster, DownCause, Instant, RequestError};

/// Without suspicion ([`Config::suspect_after`](crate::Config::suspect_after) `None`): how long
/// a connection must have heard nothing, with requests on it, for a deadline to close it as
/// stalled.
const STALL_GRACE: core::time::Duration = core::time::Duration::from_millis(300);

impl Cluster {
    /// Moves time forward and fires everything due.
    pub(crate) fn advance(&mut self, now: Instant) {
        if now > self.now {
            self.now = now;
        }
        let now = self.now;
        // Deadlines first, so that a request past its deadline is not retried.
        loop {
            let front = self.deadlines.front().copied();
            let top = self.deadlines_heap.peek().map(|r| r.0);
            let (at, key, from_heap) = match (front, top) {
                (Some(f), Some(t)) if t.0 < f.0 => (t.0, t.1, true),
                (Some(f), _) => (f.0, f.1, false),
                (None, Some(t)) => (t.0, t.1, true),
                (None, None) => break,
            };
            let live = self
                .entries
                .get(key)
                .is_some_and(|e| e.place != Place::Abandoned);
            if live && at > now {
                break;
            }
            if from_heap {
                self.deadlines_heap.pop();
            } else {
                self.deadlines.pop_front();
            }
            if live {
                self.on_deadline(key);
            }
        }
        while let Some(&Reverse((at, key))) = self.retries.peek() {
            if at > now {
                break;
            }
            self.retries.pop();
            if self
                .entries
                .get(key)
                .is_some_and(|e| e.place == Place::Backoff)
            {
                self.dispatch(key);
            }
        }
        if self.node_timer <= now {
            self.node_timers();
        }
        self.suspicion_timers();
        self.sentinel_hold_timers();
        self.sentinel_watch_timers();
        self.refresh_timers();
        self.pubsub_timers();
    }

    fn on_deadline(&mut self, key: Key) {
        let Some(entry) = self.entries.get(key) else {
            return;
        };
        let node = self.endpoint_of(entry.node);
        let error = match &entry.last {
            // Still nowhere to go: say why as of now (an answer may have come since).
            Some(RequestError::ClusterDown { slot, seen })
                if entry.place == Place::Unrouted && !matches!(seen, DownCause::Said { .. }) =>
            {
                RequestError::ClusterDown {
                    slot: *slot,
                    seen: self.unrouted_cause(),
                }
            }
            Some(last) => last.clone(),
            None => RequestError::Timeout {
                slot: entry.slot,
                node,
                written: false,
            },
        };
        match entry.place {
            Place::InFlight(n) => {
                let lane = entry.lane;
                let sent_at = entry.sent_at;
                let slot = entry.slot;
                let conn = match lane {
                    // The shared connection, or the one set aside as suspect.
                    Lane::Shared => self.node(n).and_then(|n| {
                        [n.conn.as_ref(), n.suspect.as_ref()]
                            .into_iter()
                            .flatten()
                            .find(|c| c.fifo.contains(&Waiting::Request(key)))
                            .map(|c| c.id)
                    }),
                    Lane::Blocking => self.blocking_conn(n, key),
                    Lane::Session(s) => self.session_conn(s),
                };
                // Stalled: nothing came since it was written and the connection has been
                // silent a while (a request sent again with a few milliseconds of its budget
                // left condemns no healthy connection), or a reply is still arriving (trickled,
                // or a huge one cut short) — either way, the next request would wait behind it.
                let grace = self.config.suspect_after.unwrap_or(STALL_GRACE);
                let now = self.now;
                let conn_state = conn.and_then(|id| self.node(n)?.conn_ref(id)).map(|c| {
                    let silent_for = now.saturating_duration_since(c.last_rx.max(c.busy_since));
                    let stalled = (c.last_rx <= sent_at && silent_for >= grace)
                        || c.decoder.is_mid_frame()
                        || !c.rbuf.is_empty();
                    (c.id, c.was_written(key), stalled)
                });
                let written = conn_state.is_some_and(|(_, w, _)| w);
                let timeout = RequestError::Timeout {
                    slot,
                    node: self.endpoint_of(Some(n)),
                    written,
                };
                self.abandon(key, timeout);
                match (lane, conn_state) {
                    // The server still blocks it, or will answer it late: the connection can
                    // serve nobody else.
                    (Lane::Blocking, Some((id, ..))) => {
                        self.close_conn(n, id, CloseReason::Released, true);
                    }
                    (_, Some((id, _, true))) => self.close_conn(n, id, CloseReason::Stalled, true),
                    _ => {}
                }
            }
            Place::Abandoned => {}
            _ => self.fail(key, error),
        }
    }

    /// Connect timeouts, reconnects, and draining connections.
    fn node_timers(&mut self) {
        let now = self.now;
        let mut next = Instant::MAX;
        for i in 0..self.nodes.len() {
            let Some(n) = self.node(i) else { continue };
            let late = n
                .dedicated
                .iter()
                .filter(|c| c.phase != Phase::Ready && c.ready_by <= now)
                .map(|c| c.id)
                .collect::<alloc::vec::Vec<_>>();
            for id in late {
                self.close_conn(i, id, CloseReason::Failed, true);
            }
            self.pool_timers(i);
            let Some(n) = self.node(i) else { continue };
            match &n.conn {
                Some(c) if c.phase != Phase::Ready && c.ready_by <= now => {
                    let id = c.id;
                    self.close_conn(i, id, CloseReason::Failed, true);
                }
                Some(c) if c.phase != Phase::Ready => next = next.min(c.ready_by),
                Some(_) => {}
                None if (n.wanted || n.queued > 0) && n.retry_at <= now => {
                    self.ensure_connecting(i);
                }
                None => {}
            }
            // Whatever happened above, note this node's next timer.
            if let Some(n) = self.node(i) {
                for c in n.dedicated.iter().filter(|c| c.phase != Phase::Ready) {
                    next = next.min(c.ready_by);
                }
                if !n.pool_waiting.is_empty() && n.retry_at > now {
                    next = next.min(n.retry_at);
                }
                match &n.conn {
                    Some(c) if c.phase != Phase::Ready => next = next.min(c.ready_by),
                    None if n.wanted || n.queued > 0 => next = next.min(n.retry_at),
                    _ => {}
                }
            }
        }
        self.node_timer = next;
    }

    /// The earliest instant something is due.
    pub(crate) fn next_timeout(&mut self) -> Instant {
        // Drop ended requests from the front of the deadline queues, so they stay small.
        while let Some(&(_, key)) = self.deadlines.front() {
            if self
                .entries
                .get(key)
                .is_some_and(|e| e.place != Place::Abandoned)
            {
                break;
            }
            self.deadlines.pop_front();
        }
        while let Some(&Reverse((_, key))) = self.deadlines_heap.peek() {
            if self
                .entries
                .get(key)
                .is_some_and(|e| e.place != Place::Abandoned)
            {
                break;
            }
            self.deadlines_heap.pop();
        }
        let mut t = self.node_timer;
        if let Some(&(d, _)) = self.deadlines.front() {
            t = t.min(d);
        }
        if let Some(Reverse((d, _))) = self.deadlines_heap.peek() {
            t = t.min(*d);
        }
        if let Some(Reverse((d, _))) = self.retries.peek() {
            t = t.min(*d);
        }
        t.min(self.refresh.next_due())
            .min(self.pubsub.next_timer())
            .min(self.suspicion.next_timer())
            .min(self.sentinel.hold.next_timer())
            .min(if self.config.sentinel.is_some() {
                self.sentinel.watch.next_timer()
            } else {
                Instant::MAX
            })
    }
}
