//! One node the core knows: where it is, what it is for, its connection and the requests queued for
//! it while that connection is not ready.

use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::vec::Vec;

use slotwise_topology::Endpoint;

use crate::Instant;
use crate::conn::{Conn, Holder};
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
    /// The shared connection.
    pub(crate) conn: Option<Conn>,
    /// The dedicated pool: connections for blocking commands and sessions (see `pool.rs`).
    pub(crate) dedicated: Vec<Conn>,
    /// The subscriber connection (pub/sub).
    pub(crate) subscriber: Option<Conn>,
    /// The shared connection set aside as suspect (see `suspicion.rs`): draining, nothing new
    /// written on it; its replies still count.
    pub(crate) suspect: Option<Conn>,
    /// A sentinel's watch connection (Sentinel deployments only).
    pub(crate) watch: Option<Conn>,
    /// Who waits for a dedicated connection (the pool is at its bound); may hold stale holders.
    pub(crate) pool_waiting: VecDeque<Holder>,
    /// Requests waiting for the connection (may hold stale keys of requests that ended).
    pub(crate) queue: VecDeque<Key>,
    /// Live requests in `queue`.
    pub(crate) queued: usize,
    /// Consecutive connection failures.
    pub(crate) failures: u32,
    /// No new connection before this.
    pub(crate) retry_at: Instant,
    /// Its zone: as the server reports it, else as `Config::zone_of` maps it (see `read_from.rs`).
    pub(crate) zone: Option<String>,
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
            dedicated: Vec::new(),
            subscriber: None,
            watch: None,
            suspect: None,
            pool_waiting: VecDeque::new(),
            queue: VecDeque::new(),
            queued: 0,
            failures: 0,
            retry_at: Instant::ZERO,
            zone: None,
        }
    }

    /// Requests queued or waiting for a reply here (the queue bound counts both).
    pub(crate) fn load(&self) -> usize {
        self.queued
            + self.conn.as_ref().map_or(0, |c| c.fifo.len())
            + self.suspect.as_ref().map_or(0, |c| c.fifo.len())
    }

    pub(crate) fn is_idle(&self) -> bool {
        self.queued == 0
            && self.conn.as_ref().is_none_or(|c| c.fifo.is_empty())
            && self.suspect.is_none()
    }

    /// The node's connection `id`: the shared one or one of the dedicated pool.
    pub(crate) fn conn_mut(&mut self, id: crate::ConnId) -> Option<&mut Conn> {
        let singles = [
            &mut self.conn,
            &mut self.subscriber,
            &mut self.suspect,
            &mut self.watch,
        ];
        match singles.into_iter().flatten().find(|c| c.id == id) {
            Some(c) => Some(c),
            None => self.dedicated.iter_mut().find(|c| c.id == id),
        }
    }

    /// The node's connection `id`, read-only.
    pub(crate) fn conn_ref(&self, id: crate::ConnId) -> Option<&Conn> {
        [&self.conn, &self.subscriber, &self.suspect, &self.watch]
            .into_iter()
            .flatten()
            .find(|c| c.id == id)
            .or_else(|| self.dedicated.iter().find(|c| c.id == id))
    }

    /// Takes connection `id` out of the node.
    pub(crate) fn take_conn(&mut self, id: crate::ConnId) -> Option<Conn> {
        if self.conn.as_ref().is_some_and(|c| c.id == id) {
            return self.conn.take();
        }
        if self.subscriber.as_ref().is_some_and(|c| c.id == id) {
            return self.subscriber.take();
        }
        if self.suspect.as_ref().is_some_and(|c| c.id == id) {
            return self.suspect.take();
        }
        if self.watch.as_ref().is_some_and(|c| c.id == id) {
            return self.watch.take();
        }
        let i = self.dedicated.iter().position(|c| c.id == id)?;
        Some(self.dedicated.swap_remove(i))
    }
}
