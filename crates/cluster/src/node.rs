//! One node the core knows: where it is, what it is for, its connection and the requests queued for
//! it while that connection is not ready.

use alloc::collections::VecDeque;
use alloc::string::String;

use slotwise_topology::Endpoint;

use crate::Instant;
use crate::conn::Conn;
use crate::slab::Key;

#[derive(Debug)]
pub(crate) struct Node {
    pub(crate) endpoint: Endpoint,
    /// The announced hostname (for the TLS server name).
    pub(crate) hostname: Option<String>,
    /// In the current topology (as a primary or a replica).
    pub(crate) in_topology: bool,
    /// A replica that serves reads: its handshake sends `READONLY`.
    pub(crate) serves_reads: bool,
    /// Keep a connection open even with nothing to send.
    pub(crate) wanted: bool,
    pub(crate) conn: Option<Conn>,
    /// Requests waiting for the connection (may hold stale keys of requests that ended).
    pub(crate) queue: VecDeque<Key>,
    /// Live requests in `queue`.
    pub(crate) queued: usize,
    /// Consecutive connection failures.
    pub(crate) failures: u32,
    /// No new connection before this.
    pub(crate) retry_at: Instant,
}

impl Node {
    pub(crate) fn new(endpoint: Endpoint) -> Node {
        Node {
            endpoint,
            hostname: None,
            in_topology: false,
            serves_reads: false,
            wanted: false,
            conn: None,
            queue: VecDeque::new(),
            queued: 0,
            failures: 0,
            retry_at: Instant::ZERO,
        }
    }

    /// Requests queued or waiting for a reply here (the queue bound counts both).
    pub(crate) fn load(&self) -> usize {
        self.queued + self.conn.as_ref().map_or(0, |c| c.fifo.len())
    }

    pub(crate) fn is_idle(&self) -> bool {
        self.queued == 0 && self.conn.as_ref().is_none_or(|c| c.fifo.is_empty())
    }
}
