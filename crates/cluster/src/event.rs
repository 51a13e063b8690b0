//! [`Event`]: what happened inside the core that an application may want to log or count.

use alloc::boxed::Box;
use alloc::string::String;
use core::fmt;

use slotwise_topology::{Endpoint, TopologyDiff};

use crate::RequestId;

/// Which redirect.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RedirectKind {
    /// `MOVED`: the slot lives elsewhere now; the map was patched.
    Moved,
    /// `ASK`: the slot is migrating; this one request goes to the target after `ASKING`.
    Ask,
}

/// Why a topology refresh started.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RefreshReason {
    /// The first discovery, from the seeds.
    Bootstrap,
    /// The periodic refresh.
    Periodic,
    /// A `MOVED` redirect.
    Moved,
    /// A redirect to, or a request for, a node the topology does not have.
    UnknownNode,
    /// A request for a slot no known shard serves.
    UncoveredSlot,
    /// A connection failed, closed or failed its handshake, or a node answered `CLUSTERDOWN`,
    /// `MASTERDOWN` or `READONLY`.
    ConnectionFailure,
    /// The previous refresh got no usable answer.
    Retry,
    /// A node's own `CLUSTER NODES` line (asked at the end of a cluster `SCAN`'s walk of it) does
    /// not serve slots the slot map gives it.
    StaleSlotMap,
    /// A node stopped answering with requests in flight (see
    /// [`Config::suspect_after`](crate::Config::suspect_after)), and still serves slots.
    NodeSuspect,
    /// A sentinel announced a new primary (`+switch-master`).
    SentinelSwitch,
}

impl fmt::Display for RefreshReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RefreshReason::Bootstrap => "bootstrap",
            RefreshReason::Periodic => "periodic",
            RefreshReason::Moved => "MOVED",
            RefreshReason::UnknownNode => "unknown node",
            RefreshReason::UncoveredSlot => "uncovered slot",
            RefreshReason::ConnectionFailure => "connection failure",
            RefreshReason::Retry => "retry",
            RefreshReason::NodeSuspect => "node suspect",
            RefreshReason::StaleSlotMap => "stale slot map",
            RefreshReason::SentinelSwitch => "sentinel switch",
        })
    }
}

/// Something that happened inside the core (informational: the core has already acted on it).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// A refresh produced a topology different from the one before.
    TopologyChanged {
        /// Counts accepted topology changes, from 1.
        epoch: u64,
        /// What changed, and the connection plan the core followed.
        diff: Box<TopologyDiff>,
    },
    /// A request was redirected.
    Redirected {
        /// The request.
        id: RequestId,
        /// `MOVED` or `ASK`.
        kind: RedirectKind,
        /// The slot.
        slot: u16,
        /// The node it goes to now.
        to: Endpoint,
    },
    /// A topology refresh started.
    RefreshStarted {
        /// Why.
        reason: RefreshReason,
    },
    /// No node asked gave a usable topology (the core retries with backoff).
    RefreshFailed,
    /// A connection to a node failed or closed unexpectedly.
    NodeFailing {
        /// The node.
        endpoint: Endpoint,
        /// Consecutive failures so far.
        failures: u32,
    },
    /// The node's shared connection has requests in flight and heard nothing for
    /// [`Config::suspect_after`](crate::Config::suspect_after): nothing new is written on it, a
    /// fresh connection probes the node, a refresh asks the others.
    NodeSuspect {
        /// The node.
        endpoint: Endpoint,
        /// How long the connection had been silent.
        silent_for: core::time::Duration,
        /// Requests written on it and not answered.
        in_flight: usize,
    },
    /// A node's answer to `CLUSTER SHARDS` / `CLUSTER SLOTS` could not be used: an error reply
    /// (a standalone server says cluster support is disabled) or an invalid answer.
    TopologyUnusable {
        /// The node.
        endpoint: Endpoint,
        /// What was wrong, in words (the server's own error line, or what was invalid).
        reason: String,
    },
    /// A suspect node answered again on the connection that fell silent.
    NodeTrusted {
        /// The node.
        endpoint: Endpoint,
    },
    /// The node does not know `HELLO` (or RESP3): the connection fell back to `AUTH` + RESP2.
    Resp2Fallback {
        /// The node.
        endpoint: Endpoint,
    },
    /// The node refused the handshake's `HELLO … AUTH` or `AUTH` (wrong password, disabled user).
    /// Requests waiting for that node end with [`RequestError::Auth`](crate::RequestError::Auth);
    /// this event also tells an adapter that is still bootstrapping (no topology yet, so no request
    /// is queued on the node) why discovery cannot succeed.
    AuthFailed {
        /// The node.
        endpoint: Endpoint,
        /// The server's error line (it never contains the password).
        message: String,
    },
    /// A subscriber connection got something it cannot place: a push of an unknown kind, a
    /// message for a channel nobody subscribed to, an error nothing asked for. It is dropped; the
    /// connection goes on.
    PubSubUnexpected {
        /// The node.
        endpoint: Endpoint,
        /// What came.
        what: String,
    },
    /// A sentinel says a failover of the primary begins (`+try-failover`): writes wait for its
    /// switch (see [`SentinelConfig::failover_hold`](crate::SentinelConfig::failover_hold)).
    SentinelFailover {
        /// The primary's name.
        master: String,
    },
    /// A sentinel announced the new primary (`+switch-master`): a refresh checks it, and
    /// requests go there once it is the routing table's.
    SentinelSwitch {
        /// The primary's name.
        master: String,
        /// The new primary.
        to: Endpoint,
    },
}
