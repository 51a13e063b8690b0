//! A request inside the core: what it is, where it is, and what it has been through.

use bytes::Bytes;
use slotwise_topology::Endpoint;

use crate::{Instant, RequestError, RequestId};

/// Who waits for the outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// The application: the outcome becomes an `Output::Reply`.
    User,
    /// A topology refresh round: `CLUSTER SHARDS`, or `CLUSTER SLOTS` when `slots`.
    Refresh { round: u64, slots: bool },
    /// Part `index` of a request plan (see `plan.rs`): the outcome goes to the plan.
    Part { plan: u64, index: u32 },
    /// A request of cluster `SCAN` step `step` (see `scan.rs`).
    Scan { step: u64 },
    /// A question of Sentinel refresh round `round`, for the part of sentinel `ask` (see
    /// `sentinel/mod.rs`).
    Sentinel {
        round: u64,
        question: crate::sentinel::Question,
        ask: u32,
    },
    /// `ROLE` of a standalone server in refresh round `round` (see `standalone.rs`).
    StandaloneRole { round: u64 },
}

impl Kind {
    /// A question the core asks to learn the topology (its answer goes to the refresh, never
    /// to a caller; a connection lost ends it rather than retries it).
    pub(crate) fn is_topology_question(&self) -> bool {
        matches!(
            self,
            Kind::Refresh { .. } | Kind::Sentinel { .. } | Kind::StandaloneRole { .. }
        )
    }
}

/// Which kind of connection a request runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Lane {
    /// The node's shared, multiplexed connection.
    Shared,
    /// A dedicated connection from the node's pool, for this one (blocking) command.
    Blocking,
    /// The connection held by this session.
    Session(crate::SessionId),
}

/// Where a request is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Place {
    /// Waiting for a topology that serves its slot.
    Unrouted,
    /// In a node's queue, waiting for its connection.
    Queued(usize),
    /// Waiting for a dedicated connection, or in its session's queue until the session's
    /// connection is ready.
    Waiting,
    /// Waiting out a backoff before it is routed again.
    Backoff,
    /// Written (or about to be) on the node's connection; its reply is expected there.
    InFlight(usize),
    /// Answered already (deadline passed) but its reply is still expected on the node's
    /// connection, where it will be dropped.
    Abandoned,
}

#[derive(Debug)]
pub(crate) struct Entry {
    pub(crate) id: RequestId,
    pub(crate) kind: Kind,
    pub(crate) wire: Bytes,
    pub(crate) slot: Option<u16>,
    pub(crate) read_only: bool,
    /// Read-only or idempotent (the core's facts, or the caller's override): may be retried after
    /// it was written.
    pub(crate) retry_written: bool,
    pub(crate) redirects: u8,
    pub(crate) attempts: u32,
    /// Send to this node with `ASKING` (one time).
    pub(crate) ask: Option<Endpoint>,
    /// Skip replicas (a replica redirected or refused the read).
    pub(crate) to_primary: bool,
    /// Always this node (refresh requests).
    pub(crate) pinned: Option<usize>,
    pub(crate) place: Place,
    /// The node it was last queued or written to, for error context.
    pub(crate) node: Option<usize>,
    pub(crate) sent_at: Instant,
    /// What to report if the deadline passes while retrying (e.g. `ClusterDown`).
    pub(crate) last: Option<RequestError>,
    pub(crate) lane: Lane,
    /// Submitted inside `MULTI` (its reply is `+QUEUED`; it cannot run without the `EXEC`).
    pub(crate) in_multi: bool,
    /// `MOVED`/`ASK` replies are followed (false for a request sent to a node the caller chose:
    /// the redirect is its reply).
    pub(crate) follow_redirects: bool,
}

impl Entry {
    /// A request not yet routed: no redirects, attempts or pinning, on the shared lane; callers
    /// set what differs.
    pub(crate) fn new(id: RequestId, kind: Kind, wire: Bytes, now: Instant) -> Entry {
        Entry {
            id,
            kind,
            wire,
            slot: None,
            read_only: false,
            retry_written: false,
            redirects: 0,
            attempts: 0,
            ask: None,
            to_primary: false,
            pinned: None,
            place: Place::Unrouted,
            node: None,
            sent_at: now,
            last: None,
            lane: Lane::Shared,
            in_multi: false,
            follow_redirects: true,
        }
    }
}
