//! The adapter's side of the contract: [`Input`] in, [`Output`] out, and the ids that tie them.

use alloc::string::String;
use core::fmt;

use bytes::Bytes;
use slotwise_resp::Frame;
use slotwise_topology::Endpoint;

use crate::{Event, Instant, RequestError};

/// A connection, named by the core in [`Output::Connect`]. Ids are never reused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConnId(pub u64);

impl fmt::Display for ConnId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "conn#{}", self.0)
    }
}

/// A submitted request, named by [`Cluster::submit`](crate::Cluster::submit). Ids are never reused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RequestId(pub u64);

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "request#{}", self.0)
    }
}

/// Something that happened on the adapter's side. Each carries the current time.
///
/// Inputs about a connection the core no longer knows (closed, or an id it never gave) are ignored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Input<'a> {
    /// The connection asked for by [`Output::Connect`] is established (TLS included).
    Connected {
        /// The connection.
        conn: ConnId,
        /// Now.
        now: Instant,
    },
    /// The connection could not be established (resolution, refusal, TLS failure …).
    ConnectFailed {
        /// The connection.
        conn: ConnId,
        /// Now.
        now: Instant,
    },
    /// Bytes arrived on the connection.
    Received {
        /// The connection.
        conn: ConnId,
        /// The bytes, in order; any split is fine.
        bytes: &'a [u8],
        /// Now.
        now: Instant,
    },
    /// The connection closed (by the peer or by an error), or a write failed.
    Closed {
        /// The connection.
        conn: ConnId,
        /// Now.
        now: Instant,
    },
    /// The deadline from [`Output::Timeout`] (or any later time) has come.
    Timeout {
        /// Now.
        now: Instant,
    },
}

impl Input<'_> {
    /// The time the input carries.
    #[must_use]
    pub fn now(&self) -> Instant {
        match *self {
            Input::Connected { now, .. }
            | Input::ConnectFailed { now, .. }
            | Input::Received { now, .. }
            | Input::Closed { now, .. }
            | Input::Timeout { now } => now,
        }
    }
}

/// An action for the adapter, from [`Cluster::poll_output`](crate::Cluster::poll_output).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
#[must_use]
pub enum Output {
    /// Open a connection to `endpoint` (resolve the host if it is a name), then report
    /// [`Input::Connected`] or [`Input::ConnectFailed`]. The core times the attempt out itself
    /// (it then emits [`Output::Close`] for it).
    Connect {
        /// The id the core gave the connection.
        conn: ConnId,
        /// Where.
        endpoint: Endpoint,
        /// With TLS on: the name to verify (the node's announced hostname, else the configured name,
        /// else the seed's host). `None` with TLS off.
        tls_server_name: Option<String>,
    },
    /// Write these bytes to the connection, in order after earlier ones.
    Transmit {
        /// The connection.
        conn: ConnId,
        /// The bytes.
        bytes: Bytes,
    },
    /// Close the connection and forget it; report nothing more about it.
    Close {
        /// The connection.
        conn: ConnId,
    },
    /// The one outcome of a request.
    Reply {
        /// The request.
        id: RequestId,
        /// Redis's reply (which may be an error reply such as `-WRONGTYPE`), or why there is none.
        result: Result<Frame, RequestError>,
    },
    /// Something happened (informational).
    Event(Event),
    /// A message, or news of a subscription, for one subscriber (see
    /// [`Cluster::subscribe`](crate::Cluster::subscribe)).
    PubSub {
        /// Whose.
        subscriber: crate::SubscriberId,
        /// What.
        event: crate::PubSubEvent,
    },
    /// Nothing more to do now: call [`Input::Timeout`] at this instant, or earlier with any other
    /// input or submit.
    Timeout(Instant),
    /// Nothing to do and no timer set: wait for the application or the network.
    Idle,
}
