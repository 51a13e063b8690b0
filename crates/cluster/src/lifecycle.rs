//! A connection's life: connect, handshake, bytes in, and its end — with what happens to the
//! requests that were on it.

use alloc::string::String;
use alloc::vec::Vec;

use slotwise_resp::DecodeError;

use crate::conn::{Conn, Holder, Phase, Role, Waiting};
use crate::entry::{Lane, Place};
use crate::handshake::{self, Outcome, Step};
use crate::slab::Key;
use crate::stateful;
use crate::{Cluster, ConnId, DownCause, Event, Output, Protocol, RefreshReason, RequestError};

/// Why a connection ends.
#[derive(Clone, Debug)]
pub(crate) enum CloseReason {
    /// Connect failed, the peer closed, or connect/handshake took too long.
    Failed,
    /// A reply could not be decoded, or came with no request waiting for it.
    Protocol(Option<DecodeError>),
    /// Authentication was refused.
    Auth(String),
    /// Nothing came back for a request past its deadline.
    Stalled,
    /// The node left the topology.
    Removed,
    /// A dedicated connection closed on purpose (its blocking command was cancelled or passed its
    /// deadline while the server still blocks it): not a failure of the node.
    Released,
}

impl Cluster {
    /// Opens the shared connection to `node` unless it has one or is backing off.
    pub(crate) fn ensure_connecting(&mut self, node: usize) {
        let Some(n) = self.node(node) else {
            return;
        };
        if n.conn.is_some() {
            return;
        }
        if n.retry_at > self.now {
            self.node_timer = self.node_timer.min(n.retry_at);
            return;
        }
        self.open_conn(node, Role::Shared);
    }

    /// Asks the adapter for a new connection to `node`, in `role`.
    pub(crate) fn open_conn(&mut self, node: usize, role: Role) -> Option<ConnId> {
        let now = self.now;
        let ready_by = now + self.config.connect_timeout;
        let limits = self.config.decoder_limits;
        let announced = &self.node(node)?.endpoint;
        let mut tls_server_name = self.tls_server_name(node);
        let endpoint = match self.config.remap.as_ref().and_then(|r| r.dial(announced)) {
            Some(dial) => {
                if self.config.tls.is_some() && dial.tls_server_name.is_some() {
                    tls_server_name = dial.tls_server_name;
                }
                dial.endpoint
            }
            None => announced.clone(),
        };
        self.next_conn += 1;
        let id = ConnId(self.next_conn);
        let conn = Conn::new(id, now, ready_by, limits, role);
        let n = self.node_mut(node)?;
        match role {
            Role::Shared => n.conn = Some(conn),
            Role::Dedicated(_) => n.dedicated.push(conn),
            Role::Subscriber => n.subscriber = Some(conn),
            Role::SentinelWatch => n.watch = Some(conn),
        }
        self.conns.insert(id, node);
        self.node_timer = self.node_timer.min(ready_by);
        self.out.push_back(Output::Connect {
            conn: id,
            endpoint,
            tls_server_name,
        });
        Some(id)
    }

    fn tls_server_name(&self, node: usize) -> Option<String> {
        let tls = self.config.tls.as_ref()?;
        let n = self.node(node)?;
        n.hostname
            .clone()
            .or_else(|| tls.server_name.clone())
            .or_else(|| self.config.seeds.first().map(|s| s.host.clone()))
            .or_else(|| Some(n.endpoint.host.clone()))
    }

    pub(crate) fn on_connected(&mut self, conn: ConnId) {
        let Some(&node) = self.conns.get(&conn) else {
            return;
        };
        let resp3 = self.config.protocol == Protocol::Resp3;
        self.start_handshake(node, conn, resp3);
    }

    fn start_handshake(&mut self, node: usize, id: ConnId, resp3: bool) {
        let Some(n) = self.node(node) else {
            return;
        };
        let sentinel = self.config.sentinel.as_ref();
        let auth = match sentinel.filter(|s| s.sentinels.contains(&n.endpoint)) {
            Some(s) => s
                .credentials
                .as_ref()
                .unwrap_or(&self.config.credentials)
                .for_endpoint(&n.endpoint),
            None => self.config.credentials.for_endpoint(&n.endpoint),
        };
        // `READONLY` is for cluster replicas (a standalone or Sentinel replica serves reads as is).
        let readonly = n.serves_reads && sentinel.is_none() && !self.refresh.standalone;
        let client_name = self.config.client_name.clone();
        let plan = handshake::Plan {
            resp3,
            auth: auth.as_ref(),
            client_name: client_name.as_deref(),
            readonly,
        };
        let mut steps = Vec::new();
        let Some(conn) = self.node_mut(node).and_then(|n| n.conn_mut(id)) else {
            return;
        };
        handshake::write(&plan, &mut conn.wbuf, &mut steps);
        conn.resp3 = resp3;
        conn.phase = Phase::Handshake {
            pending: steps.len(),
            fallback: false,
        };
        conn.fifo
            .extend(steps.iter().map(|&s| Waiting::Handshake(s)));
        if steps.is_empty() {
            self.on_ready(node, id);
        } else {
            self.mark_dirty(node, id);
        }
    }

    fn on_ready(&mut self, node: usize, id: ConnId) {
        let mut role = None;
        if let Some(n) = self.node_mut(node) {
            n.failures = 0;
            if let Some(c) = n.conn_mut(id) {
                c.phase = Phase::Ready;
                role = Some(c.role);
            }
        }
        match role {
            // Not while a connection is set aside as suspect: what waits goes after what is in
            // flight there, in order (see `suspicion.rs`).
            Some(Role::Shared) if !self.is_suspect(node) => self.flush_queue(node),
            Some(Role::Shared) => {}
            Some(Role::Dedicated(holder)) => self.on_dedicated_ready(node, id, holder),
            Some(Role::Subscriber) => self.on_subscriber_ready(id),
            Some(Role::SentinelWatch) => self.sentinel_watch_ready(node, id),
            None => {}
        }
    }

    fn on_handshake_reply(
        &mut self,
        node: usize,
        id: ConnId,
        step: Step,
        frame: &slotwise_resp::Frame,
    ) {
        let outcome = handshake::outcome(step, frame);
        if step == Step::Hello && outcome == Outcome::Ok {
            self.zone_reported(node, frame);
        }
        if let Outcome::AuthFailed(line) = &outcome {
            let message = String::from_utf8_lossy(line).into_owned();
            self.close_conn(node, id, CloseReason::Auth(message), true);
            return;
        }
        let Some(conn) = self.node_mut(node).and_then(|n| n.conn_mut(id)) else {
            return;
        };
        let Phase::Handshake { pending, fallback } = conn.phase else {
            return;
        };
        let fallback = fallback || outcome == Outcome::Fallback;
        let pending = pending.saturating_sub(1);
        conn.phase = Phase::Handshake { pending, fallback };
        if pending > 0 {
            return;
        }
        if fallback {
            if let Some(endpoint) = self.endpoint_of(Some(node)) {
                self.event(Event::Resp2Fallback { endpoint });
            }
            self.start_handshake(node, id, false);
        } else {
            self.on_ready(node, id);
        }
    }

    pub(crate) fn on_received(&mut self, conn: ConnId, bytes: &[u8]) {
        let Some(&node) = self.conns.get(&conn) else {
            return;
        };
        let now = self.now;
        match self.node_mut(node).and_then(|n| n.conn_mut(conn)) {
            Some(c) if c.phase != Phase::Connecting => {
                c.last_rx = now;
                c.rbuf.extend_from_slice(bytes);
                self.stats.bytes_received += bytes.len() as u64;
                self.suspicion_heard(node, conn);
            }
            _ => {
                // Bytes before `Connected`: the adapter broke the contract; treat the connection
                // as failed.
                self.close_conn(node, conn, CloseReason::Protocol(None), true);
                return;
            }
        }
        loop {
            let Some(c) = self.node_mut(node).and_then(|n| n.conn_mut(conn)) else {
                return;
            };
            let subscriber = c.role == Role::Subscriber && c.phase == Phase::Ready;
            let watch = c.role == Role::SentinelWatch && c.phase == Phase::Ready;
            let frame = match c.decoder.decode(&mut c.rbuf) {
                Ok(Some(frame)) => frame,
                Ok(None) => return,
                Err(e) => {
                    self.close_conn(node, conn, CloseReason::Protocol(Some(e)), true);
                    return;
                }
            };
            if subscriber {
                self.on_subscriber_frame(node, conn, frame);
                continue;
            }
            if watch {
                self.sentinel_heard(&frame);
                continue;
            }
            if let slotwise_resp::Frame::Push(items) = &frame {
                // Out-of-band (RESP3): not a reply to anything. A pub/sub push means the
                // connection is in a subscriber state no request of ours put it in: its replies
                // can no longer be trusted to match the FIFO.
                if stateful::is_pubsub_push(items) {
                    self.close_conn(node, conn, CloseReason::Protocol(None), true);
                    return;
                }
                continue;
            }
            let Some(waiting) = c.fifo.pop_front() else {
                self.close_conn(node, conn, CloseReason::Protocol(None), true);
                return;
            };
            c.flushed = c.flushed.saturating_sub(1);
            match waiting {
                Waiting::Reset if stateful::is_queued(&frame) => {
                    // A reset that was queued: the connection is still inside a MULTI, so it
                    // must not go back to the pool.
                    self.close_conn(node, conn, CloseReason::Protocol(None), true);
                    return;
                }
                Waiting::Asking | Waiting::Reset => {}
                Waiting::Handshake(step) => self.on_handshake_reply(node, conn, step, &frame),
                Waiting::Request(key) => {
                    if stateful::is_queued(&frame)
                        && self.entries.get(key).is_some_and(|e| !e.in_multi)
                    {
                        // `+QUEUED` for a request sent outside a transaction: the connection is
                        // inside a `MULTI` we did not send. Nothing on it can be trusted.
                        if let Some(c) = self.node_mut(node).and_then(|n| n.conn_mut(conn)) {
                            c.fifo.push_front(waiting);
                            c.flushed += 1;
                        }
                        self.close_conn(node, conn, CloseReason::Protocol(None), true);
                        return;
                    }
                    self.on_reply(node, conn, key, frame);
                }
            }
            self.after_reply(node, conn);
        }
    }

    /// Closes a draining connection (its node left the topology) once nothing is expected on it.
    pub(crate) fn close_if_drained(&mut self, node: usize, conn: ConnId) {
        let drained = self
            .node(node)
            .and_then(|n| n.conn_ref(conn))
            .is_some_and(|c| c.draining && c.fifo.is_empty() && c.role == Role::Shared);
        if drained {
            self.close_conn(node, conn, CloseReason::Removed, true);
        }
    }

    /// After each reply: a draining shared connection may close; a dedicated one may go back to
    /// the pool (its session ended and its last reply came).
    fn after_reply(&mut self, node: usize, conn: ConnId) {
        let role = self
            .node(node)
            .and_then(|n| n.conn_ref(conn))
            .map(|c| c.role);
        match role {
            Some(Role::Shared) => self.close_if_drained(node, conn),
            Some(Role::Dedicated(Holder::Session(s))) => self.session_try_end(s),
            _ => {}
        }
    }

    /// Ends one of the node's connections: requests on it are retried or failed (see the crate
    /// docs), the node backs off after a failure, and a refresh may be triggered. `emit`: tell
    /// the adapter to close it.
    pub(crate) fn close_conn(&mut self, node: usize, id: ConnId, reason: CloseReason, emit: bool) {
        let now = self.now;
        let Some(n) = self.node_mut(node) else {
            return;
        };
        let was_suspect = n.suspect.as_ref().is_some_and(|c| c.id == id);
        let Some(mut conn) = n.take_conn(id) else {
            return;
        };
        let endpoint = n.endpoint.clone();
        let last_rx = conn.last_rx;
        let failed = !matches!(reason, CloseReason::Removed | CloseReason::Released);
        let never_ready = conn.phase != Phase::Ready && conn.role == Role::Shared;
        if failed {
            n.failures = n.failures.saturating_add(1);
        }
        let failures = n.failures;
        self.conns.remove(&conn.id);
        if emit {
            self.out.push_back(Output::Close { conn: conn.id });
        }
        if let Role::Dedicated(Holder::Session(s)) = conn.role {
            self.session_lost(s, &endpoint);
        }
        let waiting = conn.take_waiting();
        let mut again: Vec<Key> = Vec::new();
        for (w, written) in waiting {
            let Waiting::Request(key) = w else { continue };
            let Some(entry) = self.entries.get(key) else {
                continue;
            };
            match (entry.place, entry.kind, entry.lane) {
                (Place::Abandoned, _, _) => {
                    self.entries.remove(key);
                }
                (_, kind, _) if kind.is_topology_question() => self.finish(
                    key,
                    Err(RequestError::ClusterDown {
                        slot: None,
                        seen: DownCause::NoTopology {
                            last_unusable: None,
                        },
                    }),
                ),
                (_, _, Lane::Session(_)) => {
                    // A session's state (WATCH, MULTI) died with its connection: nothing in it is
                    // retried. Commands queued inside MULTI cannot have run without their EXEC.
                    let maybe_applied = written && !entry.read_only && !entry.in_multi;
                    let error = RequestError::ConnectionLost {
                        maybe_applied,
                        node: endpoint.clone(),
                    };
                    self.finish(key, Err(error));
                }
                _ if !written || entry.retry_written => again.push(key),
                _ => {
                    let error = match &reason {
                        CloseReason::Protocol(Some(e)) => RequestError::Protocol {
                            node: endpoint.clone(),
                            error: e.clone(),
                        },
                        _ => RequestError::ConnectionLost {
                            maybe_applied: true,
                            node: endpoint.clone(),
                        },
                    };
                    self.finish(key, Err(error));
                }
            }
        }
        if let CloseReason::Auth(message) = &reason {
            // A refused password does not get better by waiting: fail what waits for this node.
            let (queue, pool_waiting) = self
                .node_mut(node)
                .map(|n| {
                    n.queued = 0;
                    (
                        core::mem::take(&mut n.queue),
                        core::mem::take(&mut n.pool_waiting),
                    )
                })
                .unwrap_or_default();
            let error = RequestError::Auth {
                node: endpoint.clone(),
                message: message.clone(),
            };
            // The cause before its consequences (a refresh that fails for it, say).
            self.event(Event::AuthFailed {
                endpoint: endpoint.clone(),
                message: message.clone(),
            });
            for key in queue.into_iter().chain(again.drain(..)) {
                self.finish(key, Err(error.clone()));
            }
            for holder in pool_waiting {
                self.fail_holder(holder, &error);
            }
        }
        if failed && never_ready {
            // A topology question waiting for this node will not be answered soon: it ends now,
            // so the refresh goes on with the other answers (a dead seed costs no timeout).
            self.fail_queued_refresh(node);
        }
        if failed {
            let delay = self
                .config
                .backoff
                .delay(failures.saturating_sub(1), &mut self.rng);
            if let Some(n) = self.node_mut(node) {
                n.retry_at = now + delay;
            }
            self.node_timer = self.node_timer.min(now + delay);
            self.event(Event::NodeFailing { endpoint, failures });
            if self.config.refresh.triggers.connection_failure {
                self.trigger_refresh(RefreshReason::ConnectionFailure);
            }
        }
        self.stats.retries += again.len() as u64;
        for key in again {
            if let Some(e) = self.entries.get_mut(key) {
                e.place = crate::entry::Place::Backoff;
            }
            self.dispatch(key);
        }
        if conn.role == Role::Subscriber {
            let place_again = !matches!(reason, CloseReason::Released);
            self.subscriber_conn_lost(node, id, last_rx, place_again);
        }
        if conn.role == Role::SentinelWatch {
            self.sentinel_watch_lost(node);
        }
        if was_suspect {
            self.suspect_gone(node);
        }
        self.gc_node(node);
    }

    /// Ends the topology questions queued for `node` (no usable answer).
    fn fail_queued_refresh(&mut self, node: usize) {
        let Some(n) = self.node(node) else { return };
        let refresh: Vec<Key> = n
            .queue
            .iter()
            .copied()
            .filter(|&k| {
                self.entries.get(k).is_some_and(|e| {
                    e.place == Place::Queued(node) && e.kind.is_topology_question()
                })
            })
            .collect();
        if refresh.is_empty() {
            return;
        }
        if let Some(n) = self.node_mut(node) {
            n.queue.retain(|k| !refresh.contains(k));
            n.queued = n.queued.saturating_sub(refresh.len());
        }
        for key in refresh {
            self.finish(
                key,
                Err(RequestError::ClusterDown {
                    slot: None,
                    seen: DownCause::NoTopology {
                        last_unusable: None,
                    },
                }),
            );
        }
    }

    /// Forgets a node that is not in the topology, not referenced, and has nothing queued.
    pub(crate) fn gc_node(&mut self, node: usize) {
        let unused = self.node(node).is_some_and(|n| {
            !n.in_topology
                && !n.wanted
                && n.conn.is_none()
                && n.queued == 0
                && n.dedicated.is_empty()
                && n.subscriber.is_none()
                && n.suspect.is_none()
                && n.watch.is_none()
                && n.pool_waiting.is_empty()
        }) && !self.slot_map.references(node)
            && !self.pubsub.uses(node)
            && !self.refresh.uses(node)
            && !self.sentinel.uses(node)
            && !self.plans.uses(node)
            && !self.scans.uses(node);
        if !unused {
            return;
        }
        if let Some(cell) = self.nodes.get_mut(node)
            && let Some(n) = cell.take()
        {
            self.by_endpoint.remove(&n.endpoint);
            self.free_nodes.push(node);
        }
    }
}
