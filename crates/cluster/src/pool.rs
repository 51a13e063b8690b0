//! The dedicated pool: per node, a few connections that are held by one holder at a time — one
//! blocking command (`BLPOP`, `XREAD … BLOCK`, `WAIT` …) until its reply, or one session
//! (a transaction with its `WATCH`es) until it is closed — so that neither ever delays the shared
//! connection's requests, and no connection state leaks between holders.
//!
//! A connection is opened for a holder when no idle one is ready and the node has fewer than
//! [`Config::dedicated_pool`](crate::Config::dedicated_pool); past that the holder waits its turn.
//! A released connection serves the next waiting holder, or stays idle for the next one. A
//! blocking command that is cancelled, or whose deadline passes while the server still blocks it,
//! closes its connection (the server would answer it later, into the next holder's FIFO);
//! `CLIENT UNBLOCK` from the shared connection would save the reconnect but needs the connection's
//! client id and an ACL permission, so the core does not depend on it.

use crate::conn::{Holder, Role};
use crate::entry::Place;
use crate::lifecycle::CloseReason;
use crate::slab::Key;
use crate::{Cluster, ConnId, RequestError, RequestId};

impl Cluster {
    /// Queues a blocking command for a dedicated connection of `node`.
    pub(crate) fn enqueue_blocking(&mut self, key: Key, node: usize) {
        let bound = self.config.queue_bound;
        let Some(n) = self.node(node) else {
            return;
        };
        if n.pool_waiting.len() >= bound {
            let endpoint = n.endpoint.clone();
            self.fail(key, RequestError::QueueFull { node: endpoint });
            return;
        }
        if let Some(e) = self.entries.get_mut(key) {
            e.node = Some(node);
            e.place = Place::Waiting;
        }
        self.lease(node, Holder::Request(key));
    }

    /// Gives `holder` a dedicated connection of `node`: an idle ready one, an idle one still
    /// connecting, a new one, or (the pool is full, or the node backs off) a place in the queue.
    pub(crate) fn lease(&mut self, node: usize, holder: Holder) {
        let bound = self.config.dedicated_pool.max(1);
        let now = self.now;
        let Some(n) = self.node(node) else {
            return;
        };
        let idle = |ready: bool| {
            n.dedicated
                .iter()
                .find(|c| {
                    c.role == Role::Dedicated(Holder::Idle) && c.is_ready() == ready && !c.draining
                })
                .map(|c| c.id)
        };
        if let Some(id) = idle(true).or_else(|| idle(false)) {
            self.assign(node, id, holder);
            return;
        }
        if n.dedicated.len() < bound && n.retry_at <= now {
            if let Some(id) = self.open_conn(node, Role::Dedicated(Holder::Idle)) {
                self.assign(node, id, holder);
            }
            return;
        }
        let retry_at = n.retry_at;
        if let Some(n) = self.node_mut(node) {
            n.pool_waiting.push_back(holder);
        }
        if retry_at > now {
            self.node_timer = self.node_timer.min(retry_at);
        }
    }

    /// Hands connection `id` to `holder`; starts its work if the connection is ready.
    fn assign(&mut self, node: usize, id: ConnId, holder: Holder) {
        let Some(c) = self.node_mut(node).and_then(|n| n.conn_mut(id)) else {
            return;
        };
        c.role = Role::Dedicated(holder);
        let ready = c.is_ready();
        if let Holder::Session(s) = holder {
            self.session_leased(s, id);
        }
        if ready {
            self.start_holder(node, id, holder);
        }
    }

    fn start_holder(&mut self, node: usize, id: ConnId, holder: Holder) {
        match holder {
            Holder::Idle => {}
            Holder::Request(key) if self.holder_waits(holder) => self.write_on(node, id, key),
            // It ended (cancelled, past its deadline) while its connection opened.
            Holder::Request(_) => self.release(node, id),
            Holder::Session(s) => self.session_flush(s, node, id),
        }
    }

    /// A dedicated connection finished its handshake.
    pub(crate) fn on_dedicated_ready(&mut self, node: usize, id: ConnId, holder: Holder) {
        if holder == Holder::Idle {
            self.serve_waiting(node, id);
        } else {
            self.start_holder(node, id, holder);
        }
    }

    /// The holder of connection `id` is done with it: the next waiting holder gets it, or it
    /// stays idle (closed instead if its node left the topology).
    pub(crate) fn release(&mut self, node: usize, id: ConnId) {
        let Some(n) = self.node_mut(node) else {
            return;
        };
        let in_topology = n.in_topology;
        let Some(c) = n.conn_mut(id) else {
            return;
        };
        c.role = Role::Dedicated(Holder::Idle);
        if c.draining || !in_topology {
            self.close_conn(node, id, CloseReason::Removed, true);
            return;
        }
        self.serve_waiting(node, id);
    }

    /// Gives idle connection `id` to the first holder still waiting.
    fn serve_waiting(&mut self, node: usize, id: ConnId) {
        loop {
            let Some(holder) = self.node_mut(node).and_then(|n| n.pool_waiting.pop_front()) else {
                return;
            };
            if self.holder_waits(holder) {
                self.assign(node, id, holder);
                return;
            }
        }
    }

    fn holder_waits(&self, holder: Holder) -> bool {
        match holder {
            Holder::Idle => false,
            Holder::Request(key) => self
                .entries
                .get(key)
                .is_some_and(|e| e.place == Place::Waiting),
            Holder::Session(s) => self.session_waits_for_lease(s),
        }
    }

    /// Ends a waiting holder with `error` (its node refused the credentials).
    pub(crate) fn fail_holder(&mut self, holder: Holder, error: &RequestError) {
        match holder {
            Holder::Idle => {}
            Holder::Request(key) => {
                if self.holder_waits(holder) {
                    self.fail(key, error.clone());
                }
            }
            Holder::Session(s) => self.session_fail_queued(s, error),
        }
    }

    /// Opens connections for holders that wait while the pool has room (after a backoff).
    pub(crate) fn pool_timers(&mut self, node: usize) {
        let bound = self.config.dedicated_pool.max(1);
        loop {
            let Some(n) = self.node(node) else {
                return;
            };
            if n.pool_waiting.is_empty() || n.dedicated.len() >= bound || n.retry_at > self.now {
                return;
            }
            let Some(holder) = self.node_mut(node).and_then(|n| n.pool_waiting.pop_front()) else {
                return;
            };
            if self.holder_waits(holder) {
                self.lease(node, holder);
            }
        }
    }

    /// The node left the topology: idle dedicated connections close, held ones once released.
    pub(crate) fn drain_pool(&mut self, node: usize) {
        let Some(n) = self.node_mut(node) else {
            return;
        };
        let mut idle = alloc::vec::Vec::new();
        for c in &mut n.dedicated {
            if c.role == Role::Dedicated(Holder::Idle) {
                idle.push(c.id);
            } else {
                c.draining = true;
            }
        }
        for id in idle {
            self.close_conn(node, id, CloseReason::Removed, true);
        }
    }

    /// The dedicated connection that holds blocking request `key`.
    pub(crate) fn blocking_conn(&self, node: usize, key: Key) -> Option<ConnId> {
        self.node(node)?
            .dedicated
            .iter()
            .find(|c| c.role == Role::Dedicated(Holder::Request(key)))
            .map(|c| c.id)
    }

    /// Ends a blocking command now, with [`RequestError::Cancelled`]: the caller no longer wants
    /// it. Written already: its connection closes (the server stops blocking for it). Requests
    /// that do not block are not cancellable (they run to their outcome, which is then dropped).
    pub fn cancel(&mut self, now: crate::Instant, id: RequestId) {
        self.advance(now);
        let Some(&key) = self.cancellable.get(&id) else {
            return;
        };
        let Some(entry) = self.entries.get(key) else {
            self.cancellable.remove(&id);
            return;
        };
        match entry.place {
            Place::Abandoned => {}
            Place::InFlight(node) => {
                let conn = self.blocking_conn(node, key);
                self.abandon(key, RequestError::Cancelled);
                if let Some(conn) = conn {
                    self.close_conn(node, conn, CloseReason::Released, true);
                }
            }
            _ => self.fail(key, RequestError::Cancelled),
        }
    }
}
