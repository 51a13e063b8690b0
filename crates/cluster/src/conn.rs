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
    /// Set when the node left the topology: no new requests; closed once `fifo` is empty.
    pub(crate) draining: bool,
}

impl Conn {
    pub(crate) fn new(id: ConnId, now: Instant, ready_by: Instant, limits: Limits) -> Conn {
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
            draining: false,
        }
    }

    pub(crate) fn is_ready(&self) -> bool {
        self.phase == Phase::Ready && !self.draining
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
