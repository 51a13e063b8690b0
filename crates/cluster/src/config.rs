//! [`Config`]: everything the core needs to know up front, with defaults that ride out a managed
//! service's failover.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;
use core::time::Duration;

use slotwise_resp::Limits;
use slotwise_topology::Endpoint;

/// A user name (ACL; `None` is the `default` user) and a password or token.
#[derive(Clone, PartialEq, Eq)]
pub struct Auth {
    /// The ACL user; `None` authenticates as `default` (the `requirepass` form).
    pub username: Option<String>,
    /// The password or token.
    pub password: String,
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Auth")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// Gives the credentials for a connection, asked again at every handshake: rotating tokens (IAM
/// auth, short-lived ACL passwords) stay fresh without rebuilding the client.
pub trait CredentialsProvider: Send + Sync {
    /// The credentials for a new connection to `endpoint`, or `None` to connect without `AUTH`.
    fn credentials(&self, endpoint: &Endpoint) -> Option<Auth>;
}

/// How connections authenticate.
#[derive(Clone, Default)]
#[non_exhaustive]
pub enum Credentials {
    /// No `AUTH`.
    #[default]
    None,
    /// The same user and password on every connection.
    Static(Auth),
    /// Asked at each handshake.
    Provider(Arc<dyn CredentialsProvider>),
}

impl Credentials {
    /// A password for the `default` user (`requirepass`).
    pub fn password(password: impl Into<String>) -> Credentials {
        Credentials::Static(Auth {
            username: None,
            password: password.into(),
        })
    }

    /// An ACL user and its password.
    pub fn user(username: impl Into<String>, password: impl Into<String>) -> Credentials {
        Credentials::Static(Auth {
            username: Some(username.into()),
            password: password.into(),
        })
    }

    pub(crate) fn for_endpoint(&self, endpoint: &Endpoint) -> Option<Auth> {
        match self {
            Credentials::None => None,
            Credentials::Static(auth) => Some(auth.clone()),
            Credentials::Provider(p) => p.credentials(endpoint),
        }
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::None => f.write_str("None"),
            Credentials::Static(a) => f.debug_tuple("Static").field(a).finish(),
            Credentials::Provider(_) => f.write_str("Provider(..)"),
        }
    }
}

/// Which protocol the handshake asks for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Protocol {
    /// `HELLO 3`, falling back to `AUTH` + RESP2 on a server without `HELLO` (or without RESP3).
    #[default]
    Resp3,
    /// RESP2: `AUTH` and `CLIENT SETNAME`, no `HELLO`.
    Resp2,
}

/// Which nodes serve read-only commands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReadFrom {
    /// Every command goes to the slot's primary.
    #[default]
    Primary,
    /// Read-only commands go to a replica of the slot's shard (after `READONLY` on that connection),
    /// chosen at random, or to the primary when the shard has no replica with a working connection.
    PreferReplica,
    /// As `PreferReplica`, taking the shard's replicas in turn.
    RoundRobin,
    /// As `RoundRobin` over the replicas in the client's zone ([`Config::zone`]); when none is
    /// there (or working), over all replicas; then the primary. Saves cross-zone latency and cost
    /// on managed services that spread replicas over availability zones.
    SameZone,
}

impl ReadFrom {
    /// True if reads may go to replicas (their connections send `READONLY`).
    #[must_use]
    pub fn uses_replicas(self) -> bool {
        self != ReadFrom::Primary
    }
}

/// TLS settings the core needs (the adapter does the TLS itself).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Tls {
    /// The name to verify when a node announces no hostname and its endpoint is an IP address
    /// (e.g. the certificate name of a managed service). Without it, the first seed's host is used.
    pub server_name: Option<String>,
}

/// Jittered exponential backoff: attempt `n` waits `min(max, base * 2^n)`, less a random part of up
/// to `jitter_percent` of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Backoff {
    /// The first delay.
    pub base: Duration,
    /// The longest delay.
    pub max: Duration,
    /// How much of each delay is random (0 to 100).
    pub jitter_percent: u8,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            base: Duration::from_millis(20),
            max: Duration::from_secs(1),
            jitter_percent: 50,
        }
    }
}

impl Backoff {
    /// Sets the first and the longest delay.
    #[must_use]
    pub fn new(base: Duration, max: Duration) -> Backoff {
        Backoff {
            base,
            max,
            ..Backoff::default()
        }
    }

    pub(crate) fn delay(&self, attempt: u32, rng: &mut crate::rng::Rng) -> Duration {
        let factor = 1u32.checked_shl(attempt.min(20)).unwrap_or(u32::MAX);
        let full = self.base.saturating_mul(factor).min(self.max);
        let pct = u32::from(self.jitter_percent.min(100));
        let random_part = full.saturating_mul(pct) / 100;
        full.saturating_sub(rng.duration_up_to(random_part))
    }
}

/// Which events trigger a topology refresh (besides the periodic one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RefreshTriggers {
    /// A `MOVED` redirect (the slot is patched at once either way).
    pub moved: bool,
    /// A connection that failed, closed, or failed its handshake; and `CLUSTERDOWN`, `MASTERDOWN`,
    /// `READONLY` replies.
    pub connection_failure: bool,
    /// A request for a slot no known shard serves.
    pub uncovered_slot: bool,
}

impl Default for RefreshTriggers {
    fn default() -> Self {
        RefreshTriggers {
            moved: true,
            connection_failure: true,
            uncovered_slot: true,
        }
    }
}

/// When and how the slot map is refreshed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RefreshPolicy {
    /// Periodic refresh (`None`: only triggered ones).
    pub interval: Option<Duration>,
    /// What triggers a refresh.
    pub triggers: RefreshTriggers,
    /// Coalescing window: triggered refreshes start at most once per window, so a burst of `MOVED`
    /// replies costs one refresh.
    pub coalesce: Duration,
    /// Each scheduled refresh is delayed by a random part of this, so that many clients do not ask
    /// the cluster at the same moment.
    pub jitter: Duration,
    /// How many known nodes to ask per refresh; their answers go to `select_view`.
    pub nodes_to_ask: usize,
    /// How long a refresh waits for answers (connecting included).
    pub timeout: Duration,
}

impl Default for RefreshPolicy {
    fn default() -> Self {
        RefreshPolicy {
            interval: Some(Duration::from_secs(60)),
            triggers: RefreshTriggers::default(),
            coalesce: Duration::from_millis(100),
            jitter: Duration::from_millis(20),
            nodes_to_ask: 3,
            timeout: Duration::from_secs(2),
        }
    }
}

/// Configuration of a [`Cluster`](crate::Cluster).
///
/// ```
/// use core::time::Duration;
/// use slotwise_cluster::{Config, Credentials, Endpoint};
/// let mut config = Config::new([Endpoint::new("clustercfg.example.invalid", 6379)]);
/// config.credentials = Credentials::user("app", "secret");
/// config.client_name = Some("billing".into());
/// config.request_timeout = Duration::from_secs(15);
/// config.tls = Some(Default::default());
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Config {
    /// Where discovery starts: one configuration endpoint (a DNS name the adapter resolves) is enough.
    pub seeds: Vec<Endpoint>,
    /// How connections authenticate.
    pub credentials: Credentials,
    /// `SETNAME` in the handshake.
    pub client_name: Option<String>,
    /// RESP3 (with fallback) or RESP2.
    pub protocol: Protocol,
    /// TLS on (`Some`) or off. The core only picks the name each `Connect` should verify.
    pub tls: Option<Tls>,
    /// How long one address may take to connect and finish its handshake.
    pub connect_timeout: Duration,
    /// The default deadline of a request, from `submit` to its outcome, redirects and retries
    /// included. Ten seconds rides out a managed service's failover.
    pub request_timeout: Duration,
    /// How many `MOVED`/`ASK` redirects one request may follow.
    pub max_redirects: u8,
    /// Topology refresh.
    pub refresh: RefreshPolicy,
    /// Reconnect and retry backoff.
    pub backoff: Backoff,
    /// Most requests queued or in flight for one node; more fail with
    /// [`RequestError::QueueFull`](crate::RequestError::QueueFull).
    pub queue_bound: usize,
    /// Per node: the most dedicated connections (each held by one blocking command or one
    /// session at a time) open at once; past it, blocking commands and sessions wait their turn.
    pub dedicated_pool: usize,
    /// Which nodes serve reads.
    pub read_from: ReadFrom,
    /// Seeds the PRNG used for jitter and node choice.
    pub rng_seed: u64,
    /// Limits on every reply the decoder accepts.
    pub decoder_limits: Limits,
    /// Split a multi-key command whose keys span slots (`MGET`, `MSET`, `DEL`, `UNLINK`,
    /// `EXISTS`, `TOUCH`: the commands whose tips say `request_policy:multi_shard` and whose
    /// replies are per key or add up) into one command per slot, and join the replies (on by
    /// default). Such a command is then not atomic across slots: `MSET` may apply on some
    /// shards and fail on another (the error says so: [`RequestError::Partial`](crate::RequestError::Partial)
    /// `{ maybe_applied }`). Off: such commands end with
    /// [`RequestError::CrossSlot`](crate::RequestError::CrossSlot), as `MSETNX` always does.
    pub split_multi_key: bool,
    /// A subscriber connection silent this long is sent a `PING`; one still silent three times
    /// this long after it is closed, and its subscriptions move (with a
    /// [`PubSubEvent::Interrupted`](crate::PubSubEvent::Interrupted) window). Default 1 s.
    pub pubsub_keepalive: Duration,
    /// A shared connection with requests in flight that hears nothing for this long is
    /// *suspect*: nothing new is written on it, a fresh connection probes the node, and a
    /// refresh asks the other nodes whether it was failed over (see the crate docs on a node
    /// that stops answering). `None`: never (requests then wait for their deadline). Default
    /// 300 ms.
    pub suspect_after: Option<Duration>,
    /// The longest argument a request may carry: the server's `proto-max-bulk-len` (512 MB by
    /// default). A longer one ends with [`RequestError::TooLarge`](crate::RequestError::TooLarge)
    /// before anything is sent (the server would refuse it only after reading it all).
    pub max_arg_len: usize,
    /// Where to connect for an announced address the client cannot dial (NAT, containers, port
    /// forwarding): see [`Remap`](crate::Remap). `None`: dial what nodes announce.
    pub remap: Option<crate::Remap>,
    /// The client's own zone, for [`ReadFrom::SameZone`].
    pub zone: Option<String>,
    /// Each node's zone, for servers that do not report theirs in `HELLO`
    /// (`availability_zone`).
    pub zone_of: Option<crate::ZoneOf>,
    /// A cluster, or also a standalone server (the default: a seed that says cluster support is
    /// disabled is run as a one-shard cluster). See [`Deployment`](crate::Deployment).
    pub deployment: crate::Deployment,
    /// A Sentinel-managed primary: the sentinels are asked for it instead of the seeds for a
    /// cluster topology (see the crate docs). `None` (the default): a cluster or a standalone
    /// server, from the seeds.
    pub sentinel: Option<crate::SentinelConfig>,
}

impl Config {
    /// Defaults, with these seeds.
    pub fn new(seeds: impl IntoIterator<Item = Endpoint>) -> Config {
        Config {
            seeds: seeds.into_iter().collect(),
            credentials: Credentials::None,
            client_name: None,
            protocol: Protocol::Resp3,
            tls: None,
            connect_timeout: Duration::from_secs(2),
            request_timeout: Duration::from_secs(10),
            max_redirects: 16,
            refresh: RefreshPolicy::default(),
            backoff: Backoff::default(),
            queue_bound: 8192,
            dedicated_pool: 16,
            read_from: ReadFrom::Primary,
            rng_seed: 0x5107_5157,
            decoder_limits: Limits::default(),
            split_multi_key: true,
            pubsub_keepalive: Duration::from_secs(1),
            suspect_after: Some(Duration::from_millis(300)),
            max_arg_len: 512 * 1024 * 1024,
            remap: None,
            zone: None,
            zone_of: None,
            deployment: crate::Deployment::Auto,
            sentinel: None,
        }
    }
}
