//! One connection to one node: its handshake phase, read and write buffers, decoder, and the FIFO of
//! what each expected reply belongs to.

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use bytes::BytesMut;
use slotwise_resp::{Decoder, Limits};

use crate::handshake::Step;
use crate::slab::Key;
use crate::{ConnId, Instant};

/// Where a connection is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    /// `Output::Connect` was emitted; waiting for `Input::Connected`.
    Connecting,
    /// Handshake commands written; `pending` replies to come. `fallback`: `HELLO` was refused as
    /// unknown, so the RESP2 handshake follows once the pending replies are in.
    Handshake { pending: usize, fallback: bool },
    /// Requests flow.
    Ready,
}

/// What one expected reply belongs to. Replies come back in the order commands were written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Waiting {
    Request(Key),
    /// The `ASKING` written just before an asked request: its `+OK` is dropped.
    Asking,
    Handshake(Step),
    /// An `UNWATCH` or `DISCARD` written when a session ended, to hand its connection back clean:
    /// its reply is dropped.
    Reset,
}

/// What a connection is for (the design's connection roles).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    /// The node's one multiplexed connection: ordinary requests, replies matched in FIFO order.
    Shared,
    /// A connection of the node's dedicated pool, held by one holder at a time.
    Dedicated(Holder),
    /// The node's subscriber connection (pub/sub, see the `pubsub` module): no requests, only
    /// subscriptions, their messages and pings.
    Subscriber,
    /// A sentinel's watch connection (see `sentinel/watch.rs`): subscribed to its failover
    /// events.
    SentinelWatch,
}

/// Who holds a dedicated connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Holder {
    /// Nobody: ready for the next blocking command or session.
    Idle,
    /// One blocking command, until its reply.
    Request(Key),
    /// A session (a transaction with its `WATCH`es), until it is closed.
    Session(crate::SessionId),
}

#[derive(Debug)]
pub(crate) struct Conn {
    pub(crate) id: ConnId,
    pub(crate) phase: Phase,
    /// Connecting and handshake must be done by then.
    pub(crate) ready_by: Instant,
    pub(crate) resp3: bool,
    pub(crate) decoder: Decoder,
    pub(crate) rbuf: BytesMut,
    pub(crate) wbuf: BytesMut,
    pub(crate) fifo: VecDeque<Waiting>,
    /// How many entries at the front of `fifo` were handed to the adapter in a `Transmit` (so may
    /// have reached the server); the rest are still in `wbuf`.
    pub(crate) flushed: usize,
    pub(crate) last_rx: Instant,
    /// When the first request was written after the connection was idle (with `last_rx`, when
    /// its silence began: see `suspicion.rs`).
    pub(crate) busy_since: Instant,
    /// Set when the node left the topology: no new requests; closed once `fifo` is empty.
    pub(crate) draining: bool,
    pub(crate) role: Role,
}

impl Conn {
    pub(crate) fn new(
        id: ConnId,
        now: Instant,
        ready_by: Instant,
        limits: Limits,
        role: Role,
    ) -> Conn {
        Conn {
            id,
            phase: Phase::Connecting,
            ready_by,
            resp3: false,
            decoder: Decoder::with_limits(limits),
            rbuf: BytesMut::new(),
            wbuf: BytesMut::new(),
            fifo: VecDeque::new(),
            flushed: 0,
            last_rx: now,
            busy_since: now,
            draining: false,
            role,
        }
    }

    pub(crate) fn is_ready(&self) -> bool {
        self.phase == Phase::Ready && !self.draining
    }

    /// Whether the expected reply for `key` was handed to the adapter (so may have run).
    pub(crate) fn was_written(&self, key: Key) -> bool {
        self.fifo
            .iter()
            .position(|w| *w == Waiting::Request(key))
            .is_some_and(|i| i < self.flushed)
    }

    /// Takes the expected replies out, each with whether it was written.
    pub(crate) fn take_waiting(&mut self) -> Vec<(Waiting, bool)> {
        let flushed = self.flushed;
        self.flushed = 0;
        self.fifo
            .drain(..)
            .enumerate()
            .map(|(i, w)| (w, i < flushed))
            .collect()
    }
}
