//! [`Stats`]: counters of what the core did since it was created, for metrics and status lines.

/// What the core has done since [`Cluster::new`](crate::Cluster::new), read with
/// [`Cluster::stats`](crate::Cluster::stats). Counters only grow; the fields marked *now* are the
/// current value.
///
/// Every submitted request ends in exactly one of `replies` and `failed` (once it has ended), so
/// `requests - replies - failed` is the number still running.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Requests submitted.
    pub requests: u64,
    /// Requests that ended with Redis's reply (an error reply like `-WRONGTYPE` included).
    pub replies: u64,
    /// Requests that ended with a [`RequestError`](crate::RequestError).
    pub failed: u64,
    /// Of `failed`: deadlines passed ([`RequestError::Timeout`](crate::RequestError::Timeout)).
    pub timeouts: u64,
    /// Of `failed`: writes whose connection died before their reply
    /// ([`RequestError::ConnectionLost`](crate::RequestError::ConnectionLost) with
    /// `maybe_applied`, or [`RequestError::Protocol`](crate::RequestError::Protocol)).
    pub maybe_applied: u64,
    /// `MOVED` redirects followed.
    pub moved: u64,
    /// `ASK` redirects followed.
    pub ask: u64,
    /// Requests sent again: after a backoff (`TRYAGAIN`, `LOADING`, `CLUSTERDOWN`, `MASTERDOWN`,
    /// `READONLY`), or after their connection was lost (never written, read-only, or idempotent).
    pub retries: u64,
    /// Topology refreshes started (the bootstrap included).
    pub refreshes: u64,
    /// Refreshes that got no usable answer from any node asked.
    pub refresh_failures: u64,
    /// *Now*: accepted topology changes (0 until the first topology).
    pub topology_epoch: u64,
    /// Connections asked for ([`Output::Connect`](crate::Output::Connect)).
    pub connects: u64,
    /// Connections that failed to open, failed their handshake, or were lost.
    pub connection_failures: u64,
    /// *Now*: connections open or opening.
    pub connections: u64,
    /// Bytes handed out in [`Output::Transmit`](crate::Output::Transmit).
    pub bytes_sent: u64,
    /// Bytes fed in with [`Input::Received`](crate::Input::Received) on live connections.
    pub bytes_received: u64,
    /// Pub/sub messages delivered to subscribers (each message once, however many subscribers).
    pub messages_received: u64,
    /// Times a node's shared connection became suspect (requests in flight, silent for
    /// [`Config::suspect_after`](crate::Config::suspect_after)).
    pub suspicions: u64,
    /// `+switch-master` announcements of a new primary heard from the sentinels (Sentinel
    /// deployments).
    pub sentinel_switches: u64,
}
