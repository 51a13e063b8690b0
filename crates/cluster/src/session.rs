//! Sessions: a connection held by one caller from its first command to
//! [`Cluster::close_session`] — what a transaction needs (`WATCH` … `MULTI` … `EXEC`), since its
//! state lives in the connection. Each session takes a connection of its node's dedicated pool
//! (see `pool.rs`), to the primary of its slot, and gives it back clean (`DISCARD`/`UNWATCH`).
//!
//! The core tracks the transaction state from what was submitted, so that misuse is refused
//! before it reaches the server (`EXEC` without `MULTI`, nested `MULTI`, `WATCH` inside `MULTI`),
//! and a command that fails inside `MULTI` before reaching the server (`CROSSSLOT`, queue full)
//! makes the `EXEC` a `DISCARD`: a transaction never runs with a command missing.
//!
//! Nothing in a session is retried: its state would not survive a new connection. A `MOVED` or
//! `ASK` ends that request with [`RequestError::SlotMoved`] (the slot map is corrected), except on
//! a session's very first request — nothing of it has run — which moves the whole session to the
//! slot's new node. A connection lost ends the session: requests written on it end with
//! [`RequestError::ConnectionLost`] (`maybe_applied` for writes and `EXEC`, never for commands
//! queued inside `MULTI`), later ones with [`RequestError::SessionEnded`].

use alloc::collections::VecDeque;
use alloc::string::String;
use core::fmt;

use slotwise_topology::Endpoint;

use crate::conn::{Holder, Waiting};
use crate::entry::{Entry, Lane, Place};
use crate::redirect::{self, Redirect};
use crate::request::{ArgList, Request};
use crate::slab::Key;
use crate::stateful::{self, StateCommand, Tx};
use crate::{Cluster, ConnId, Instant, RedirectKind, RefreshReason, RequestError, RequestId};

/// A session, named by [`Cluster::open_session`]. Ids are never reused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SessionId(pub u64);

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "session#{}", self.0)
    }
}

const DISCARD: &[u8] = b"*1\r\n$7\r\nDISCARD\r\n";
const UNWATCH: &[u8] = b"*1\r\n$7\r\nUNWATCH\r\n";

/// Why a session can take no more requests.
const LOST: &str = "its connection was lost";
const POISONED: &str = "an earlier request of the session ended before it reached the server, so \
                        the session's state (MULTI, WATCH) is not what its caller expects";
const CLOSED: &str = "the session is closed";

#[derive(Debug, Default)]
pub(crate) struct Session {
    /// The slot every keyed command must be in (from `open_session`, or its first keyed command).
    slot: Option<u16>,
    /// The node, once the first request was routed.
    pub(crate) node: Option<usize>,
    /// The leased connection.
    conn: Option<ConnId>,
    /// Waiting in the node's pool for a connection.
    leasing: bool,
    /// Requests submitted before the connection was ready.
    queue: VecDeque<Key>,
    in_multi: bool,
    watching: bool,
    /// Why the open `MULTI` cannot run (a command in it failed before reaching the server).
    multi_failed: Option<String>,
    /// An `EXEC` written as `DISCARD`, with why.
    aborted_exec: Option<(Key, String)>,
    /// No reply yet: nothing of the session has run.
    fresh: bool,
    ended: Option<&'static str>,
    closed: bool,
    reset_written: bool,
}

impl Cluster {
    /// Opens a session for the keys of `slot` (or, with `None`, the slot of its first keyed
    /// command). Requests go in with [`Cluster::submit_in`], in order, on one connection of its own
    /// to the slot's primary; [`Cluster::close_session`] gives the connection back. Nothing is sent
    /// until the first request.
    pub fn open_session(&mut self, now: Instant, slot: Option<u16>) -> SessionId {
        self.advance(now);
        self.next_session += 1;
        let id = SessionId(self.next_session);
        let session = Session {
            slot: slot.map(|s| s & 0x3FFF),
            fresh: true,
            ..Session::default()
        };
        self.sessions.insert(id, session);
        id
    }

    /// Submits `request` in `session`: it runs after the session's earlier requests, on the
    /// session's connection. `MULTI`, `EXEC`, `DISCARD`, `WATCH` and `UNWATCH` are allowed here
    /// (and only here); keys must be in the session's slot. Its outcome comes as an
    /// [`Output::Reply`](crate::Output::Reply) like any request's: `EXEC` aborted by a `WATCH`ed
    /// key's change replies a null.
    pub fn submit_in(&mut self, now: Instant, session: SessionId, request: Request) -> RequestId {
        self.advance(now);
        self.next_request += 1;
        let id = RequestId(self.next_request);
        match self.admit_in_session(session, &request) {
            Ok(admitted) => {
                let Admitted {
                    slot,
                    read_only,
                    tx,
                    deadline,
                } = admitted;
                let in_multi = self.sessions.get(&session).is_some_and(|s| s.in_multi)
                    && !matches!(tx, Some(Tx::Multi | Tx::Exec | Tx::Discard));
                let aborted = match tx {
                    Some(Tx::Exec) => self
                        .sessions
                        .get_mut(&session)
                        .and_then(|s| s.multi_failed.take()),
                    _ => None,
                };
                let wire = if aborted.is_some() {
                    bytes::Bytes::from_static(DISCARD)
                } else {
                    request.wire
                };
                let key = self.entries.insert(Entry {
                    slot,
                    read_only,
                    to_primary: true,
                    lane: Lane::Session(session),
                    in_multi,
                    ..Entry::new(id, crate::entry::Kind::User, wire, now)
                });
                if let Some(s) = self.sessions.get_mut(&session) {
                    if s.slot.is_none() {
                        s.slot = slot;
                    }
                    match tx {
                        Some(Tx::Multi) => {
                            s.in_multi = true;
                            s.multi_failed = None;
                        }
                        Some(Tx::Exec | Tx::Discard) => {
                            s.in_multi = false;
                            s.watching = false;
                            s.multi_failed = None;
                        }
                        Some(Tx::Watch) => s.watching = true,
                        Some(Tx::Unwatch) if !s.in_multi => s.watching = false,
                        _ => {}
                    }
                    if let Some(reason) = aborted {
                        s.aborted_exec = Some((key, reason));
                    }
                }
                if let Some(d) = deadline {
                    self.add_deadline(d, key);
                }
                self.dispatch(key);
            }
            Err(error) => {
                // A command of the transaction that never reaches the server (refused
                // transaction commands, like the server's own refusals of them, leave the
                // transaction as it was).
                if let Some(s) = self.sessions.get_mut(&session)
                    && s.in_multi
                    && s.multi_failed.is_none()
                    && !matches!(error, RequestError::Transaction { .. })
                {
                    s.multi_failed = Some(alloc::format!("a queued command failed: {error}"));
                }
                self.reply(id, Err(error));
            }
        }
        id
    }

    /// Checks a request for `session` against the session's state; what to create for it.
    fn admit_in_session(
        &mut self,
        session: SessionId,
        request: &Request,
    ) -> Result<Admitted, RequestError> {
        let Some(s) = self.sessions.get(&session) else {
            return Err(RequestError::SessionEnded { reason: CLOSED });
        };
        if let Some(reason) = s.ended.or(s.closed.then_some(CLOSED)) {
            return Err(RequestError::SessionEnded { reason });
        }
        let args = ArgList::of(&request.wire);
        let args = args.as_slice();
        if let Some(error) = self.too_large(args) {
            return Err(error);
        }
        let c = self
            .table
            .classify(args)
            .map_err(RequestError::InvalidCommand)?;
        let name = c.command.map(|c| &*c.name).unwrap_or("");
        let tx = match c.command.and_then(stateful::state_command) {
            Some(StateCommand::Transaction(tx)) => Some(tx),
            Some(kind) => return Err(stateful::refusal(kind, name, true)),
            None => None,
        };
        let misuse = |problem| RequestError::Transaction {
            command: name.into(),
            problem,
        };
        match tx {
            Some(Tx::Multi) if s.in_multi => return Err(misuse("MULTI calls can not be nested")),
            Some(Tx::Exec) if !s.in_multi => return Err(misuse("EXEC without MULTI")),
            Some(Tx::Discard) if !s.in_multi => return Err(misuse("DISCARD without MULTI")),
            Some(Tx::Watch) if s.in_multi => {
                return Err(misuse("WATCH inside MULTI is not allowed"));
            }
            _ => {}
        }
        let (slot, read_only) = match c.route {
            slotwise_slot::Route::SingleSlot { slot, read_only } => (Some(slot.get()), read_only),
            slotwise_slot::Route::NoKey { read_only } => (None, read_only),
            _ => return Err(RequestError::CrossSlot),
        };
        if let (Some(mine), Some(slot)) = (s.slot, slot)
            && mine != slot
        {
            return Err(RequestError::CrossSlot);
        }
        let load = s.queue.len()
            + s.node
                .zip(s.conn)
                .and_then(|(n, c)| self.node(n)?.conn_ref(c).map(|c| c.fifo.len()))
                .unwrap_or(0);
        // EXEC and DISCARD are always taken, so that a transaction can always be ended.
        if load >= self.config.queue_bound && !matches!(tx, Some(Tx::Exec | Tx::Discard)) {
            let node = s
                .node
                .and_then(|n| self.node(n))
                .map(|n| n.endpoint.clone())
                .unwrap_or_else(|| Endpoint::new("", 0));
            return Err(RequestError::QueueFull { node });
        }
        let deadline = self.deadline_of(self.now, request, args);
        // Of the transaction commands only EXEC changes data.
        let read_only = read_only || matches!(tx, Some(tx) if tx != Tx::Exec);
        Ok(Admitted {
            slot: slot.or(s.slot),
            read_only,
            tx,
            deadline,
        })
    }

    /// Ends `session`: once its requests are answered, `DISCARD`/`UNWATCH` reset the connection
    /// where the session left a transaction or a `WATCH` open, and the connection goes back to
    /// the pool. Requests already submitted still get their outcomes; later ones in it end with
    /// [`RequestError::SessionEnded`].
    pub fn close_session(&mut self, now: Instant, session: SessionId) {
        self.advance(now);
        if let Some(s) = self.sessions.get_mut(&session) {
            s.closed = true;
        }
        self.session_try_end(session);
    }

    /// Sessions open (not yet closed, or closed with requests still running).
    #[must_use]
    pub fn sessions_open(&self) -> usize {
        self.sessions.len()
    }

    /// Queues `key` on its session, or writes it on the session's ready connection.
    pub(crate) fn session_enqueue(&mut self, session: SessionId, key: Key, node: usize) {
        let Some(s) = self.sessions.get_mut(&session) else {
            return self.fail(key, RequestError::SessionEnded { reason: CLOSED });
        };
        if let Some(reason) = s.ended {
            return self.fail(key, RequestError::SessionEnded { reason });
        }
        if let Some(e) = self.entries.get_mut(key) {
            e.node = Some(node);
        }
        let conn = s.conn;
        let queue_empty = s.queue.is_empty();
        if let Some(id) = conn
            && queue_empty
            && self
                .node(node)
                .and_then(|n| n.conn_ref(id))
                .is_some_and(|c| c.is_ready())
        {
            self.write_on(node, id, key);
            return;
        }
        let Some(s) = self.sessions.get_mut(&session) else {
            return;
        };
        s.queue.push_back(key);
        let lease = conn.is_none() && !s.leasing;
        if lease {
            s.leasing = true;
            s.node = Some(node);
        }
        if let Some(e) = self.entries.get_mut(key) {
            e.place = Place::Waiting;
        }
        if lease {
            self.lease(node, Holder::Session(session));
        }
    }

    pub(crate) fn session_conn(&self, session: SessionId) -> Option<ConnId> {
        self.sessions.get(&session).and_then(|s| s.conn)
    }

    pub(crate) fn session_leased(&mut self, session: SessionId, conn: ConnId) {
        if let Some(s) = self.sessions.get_mut(&session) {
            s.conn = Some(conn);
            s.leasing = false;
        }
    }

    pub(crate) fn session_waits_for_lease(&self, session: SessionId) -> bool {
        self.sessions
            .get(&session)
            .is_some_and(|s| s.leasing && s.conn.is_none())
    }

    /// The session's connection is ready: writes what it queued.
    pub(crate) fn session_flush(&mut self, session: SessionId, node: usize, conn: ConnId) {
        let queue = match self.sessions.get_mut(&session) {
            Some(s) => core::mem::take(&mut s.queue),
            None => {
                // Closed while it waited, with nothing to send.
                self.release(node, conn);
                return;
            }
        };
        for key in queue {
            if self
                .entries
                .get(key)
                .is_some_and(|e| e.place == Place::Waiting)
            {
                self.write_on(node, conn, key);
            }
        }
        self.session_try_end(session);
    }

    /// A closed session whose requests are done: reset its connection, then release it. Runs
    /// after every reply on a session's connection, and whenever a session may have finished.
    pub(crate) fn session_try_end(&mut self, session: SessionId) {
        let Some(s) = self.sessions.get(&session) else {
            return;
        };
        if !s.closed {
            return;
        }
        let live_queued = s.queue.iter().any(|&k| {
            self.entries
                .get(k)
                .is_some_and(|e| e.place == Place::Waiting)
        });
        if live_queued {
            return; // written once the connection is ready, then this runs again
        }
        let (Some(node), Some(id)) = (s.node, s.conn) else {
            // Never got a connection (or lost it): nothing to give back.
            self.sessions.remove(&session);
            return;
        };
        let Some(c) = self.node(node).and_then(|n| n.conn_ref(id)) else {
            self.sessions.remove(&session);
            return;
        };
        if !c.is_ready() {
            return;
        }
        if !s.reset_written {
            let unknown = s.ended.is_some();
            let (discard, unwatch) = (s.in_multi || unknown, s.in_multi || s.watching || unknown);
            if let Some(s) = self.sessions.get_mut(&session) {
                s.reset_written = true;
            }
            if let Some(c) = self.node_mut(node).and_then(|n| n.conn_mut(id)) {
                // DISCARD first: outside MULTI it is a harmless error, and the UNWATCH after it
                // then runs rather than being queued.
                if discard {
                    c.wbuf.extend_from_slice(DISCARD);
                    c.fifo.push_back(Waiting::Reset);
                }
                if unwatch {
                    c.wbuf.extend_from_slice(UNWATCH);
                    c.fifo.push_back(Waiting::Reset);
                }
            }
            if discard || unwatch {
                self.mark_dirty(node, id);
            }
        }
        let drained = self
            .node(node)
            .and_then(|n| n.conn_ref(id))
            .is_some_and(|c| c.fifo.is_empty());
        if drained {
            self.sessions.remove(&session);
            self.release(node, id);
        }
    }

    /// The session's connection is gone.
    pub(crate) fn session_lost(&mut self, session: SessionId, node: &Endpoint) {
        let error = RequestError::ConnectionLost {
            maybe_applied: false,
            node: node.clone(),
        };
        if let Some(s) = self.sessions.get_mut(&session) {
            s.conn = None;
            s.leasing = false;
        }
        self.session_end(session, LOST, &error);
    }

    /// A request of the session ended before it was written.
    pub(crate) fn session_poison(&mut self, session: SessionId) {
        let error = RequestError::SessionEnded { reason: POISONED };
        self.session_end(session, POISONED, &error);
    }

    pub(crate) fn session_fail_queued(&mut self, session: SessionId, error: &RequestError) {
        self.session_end(session, LOST, error);
    }

    /// No more requests in `session`: queued ones end with `error`.
    fn session_end(&mut self, session: SessionId, reason: &'static str, error: &RequestError) {
        let Some(s) = self.sessions.get_mut(&session) else {
            return;
        };
        if s.ended.is_some() {
            return;
        }
        s.ended = Some(reason);
        let queue = core::mem::take(&mut s.queue);
        for key in queue {
            if self
                .entries
                .get(key)
                .is_some_and(|e| e.place == Place::Waiting)
            {
                self.fail(key, error.clone());
            }
        }
        self.session_try_end(session);
    }

    /// A reply for a request of `session`, on its connection `conn` of `node`.
    pub(crate) fn on_session_reply(
        &mut self,
        session: SessionId,
        node: usize,
        conn: ConnId,
        key: Key,
        frame: slotwise_resp::Frame,
    ) {
        let aborted = self
            .sessions
            .get_mut(&session)
            .and_then(|s| s.aborted_exec.take_if(|(k, _)| *k == key));
        if let Some((_, reason)) = aborted {
            return self.finish(key, Err(RequestError::TransactionAborted { reason }));
        }
        let Some(replier) = self.node(node).map(|n| n.endpoint.clone()) else {
            return;
        };
        let (kind, slot, to) = match redirect::classify(&frame, &replier) {
            Some(Redirect::Moved { slot, to }) => (RedirectKind::Moved, slot, to),
            Some(Redirect::Ask { slot, to }) => (RedirectKind::Ask, slot, to),
            _ => {
                if let Some(s) = self.sessions.get_mut(&session) {
                    s.fresh = false;
                }
                return self.finish(key, Ok(frame));
            }
        };
        self.redirected(key, kind, slot, to.clone());
        let target = self.node_for(&to);
        if kind == RedirectKind::Moved && target != node {
            self.slot_map.correct(slot, target);
            self.trigger_refresh(RefreshReason::Moved);
        }
        let alone = self
            .sessions
            .get(&session)
            .is_some_and(|s| s.fresh && s.queue.is_empty() && !s.closed && s.ended.is_none())
            && self
                .node(node)
                .and_then(|n| n.conn_ref(conn))
                .is_some_and(|c| c.fifo.is_empty());
        let redirects_left = self
            .entries
            .get(key)
            .is_some_and(|e| e.redirects < self.config.max_redirects);
        if kind == RedirectKind::Moved && target != node && alone && redirects_left {
            // Nothing of the session has run: move it to the slot's new node.
            if let Some(s) = self.sessions.get_mut(&session) {
                s.conn = None;
                s.node = None;
            }
            if let Some(e) = self.entries.get_mut(key) {
                e.redirects += 1;
                e.place = Place::Unrouted;
            }
            self.release(node, conn);
            self.dispatch(key);
            return;
        }
        self.finish(key, Err(RequestError::SlotMoved { slot, to, kind }));
    }
}

struct Admitted {
    slot: Option<u16>,
    read_only: bool,
    tx: Option<Tx>,
    deadline: Option<Instant>,
}
