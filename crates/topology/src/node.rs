//! Nodes: their ids, endpoints, roles and health.

use alloc::string::String;
use core::fmt;

/// A node's id: the 40-character name a Redis Cluster node gives itself.
///
/// Accepted ids are 1 to 64 visible ASCII characters (Redis uses 40 hex digits; the parser does not
/// insist on that, so that a proxy's or a test's ids still work).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId(String);

impl NodeId {
    /// The longest id accepted.
    pub const MAX_LEN: usize = 64;

    /// An id from its text, if it is 1 to [`NodeId::MAX_LEN`] visible ASCII characters.
    ///
    /// ```
    /// use slotwise_topology::NodeId;
    /// assert!(NodeId::new("e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca").is_some());
    /// assert!(NodeId::new("").is_none());
    /// assert!(NodeId::new("has space").is_none());
    /// ```
    pub fn new(text: &str) -> Option<NodeId> {
        NodeId::from_bytes(text.as_bytes())
    }

    /// An id from bytes, with the same rule as [`NodeId::new`].
    pub fn from_bytes(bytes: &[u8]) -> Option<NodeId> {
        let valid = !bytes.is_empty()
            && bytes.len() <= NodeId::MAX_LEN
            && bytes.iter().all(u8::is_ascii_graphic);
        // Visible ASCII is valid UTF-8.
        let text = core::str::from_utf8(bytes).ok()?;
        valid.then(|| NodeId(String::from(text)))
    }

    /// The id's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where to reach a node: a host (an IP address or a hostname) and a port.
///
/// IPv6 addresses are kept without brackets; [`Display`](fmt::Display) adds them (`[::1]:7000`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Endpoint {
    /// An IP address (v4 or v6, no brackets) or a hostname.
    pub host: String,
    /// The TCP port.
    pub port: u16,
}

impl Endpoint {
    /// An endpoint from a host and a port.
    pub fn new(host: impl Into<String>, port: u16) -> Endpoint {
        Endpoint {
            host: host.into(),
            port,
        }
    }

    /// Parses `host:port`, `[v6]:port` or `v6:port` (the last colon separates the port).
    ///
    /// ```
    /// use slotwise_topology::Endpoint;
    /// assert_eq!(Endpoint::parse("127.0.0.1:7000"), Some(Endpoint::new("127.0.0.1", 7000)));
    /// assert_eq!(Endpoint::parse("[::1]:7000"), Some(Endpoint::new("::1", 7000)));
    /// assert_eq!(Endpoint::parse("::1:7000"), Some(Endpoint::new("::1", 7000)));
    /// assert_eq!(Endpoint::parse("nohost"), None);
    /// ```
    pub fn parse(text: &str) -> Option<Endpoint> {
        let (host, port) = text.rsplit_once(':')?;
        let port = port.parse().ok()?;
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        (!host.is_empty()).then(|| Endpoint::new(host, port))
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// A node's role in its shard.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Role {
    /// Serves the shard's slots (Redis: `master`).
    Primary,
    /// Replicates the shard's primary (Redis: `slave` / `replica`).
    Replica,
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Role::Primary => "primary",
            Role::Replica => "replica",
        })
    }
}

/// A node's health, as the answering node sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Health {
    /// Reachable and serving (`online`; in CLUSTER NODES, no failure flag).
    Online,
    /// Loading its data set (`loading`): a replica that cannot serve reads yet.
    Loading,
    /// Suspected down by the answering node only (CLUSTER NODES `fail?`, Redis's PFAIL).
    PossiblyFailed,
    /// Agreed down by the cluster (`failed`; CLUSTER NODES `fail`).
    Failed,
    /// The reply did not say (CLUSTER SLOTS, which lists no health), or said something unknown.
    Unknown,
}

impl fmt::Display for Health {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Health::Online => "online",
            Health::Loading => "loading",
            Health::PossiblyFailed => "possibly-failed",
            Health::Failed => "failed",
            Health::Unknown => "unknown",
        })
    }
}

/// One node of a shard, with what the reply told about it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Node {
    /// The node's id.
    pub id: NodeId,
    /// Where clients reach it: the preferred endpoint (ip or hostname) with the port for the
    /// connection type (see [`Origin::tls`](crate::Origin::tls)). `None` when the reply gave no
    /// usable endpoint (`?`, or an empty/NULL one with no [`Origin`](crate::Origin) endpoint to
    /// stand in for it).
    pub endpoint: Option<Endpoint>,
    /// The node's IP address, when the reply gave it.
    pub ip: Option<String>,
    /// The node's announced hostname, when it has one.
    pub hostname: Option<String>,
    /// The plaintext port, when the reply gave it.
    pub port: Option<u16>,
    /// The TLS port, when the reply gave it (CLUSTER SHARDS with `tls-cluster yes`).
    pub tls_port: Option<u16>,
    /// Primary or replica.
    pub role: Role,
    /// Health as the answering node sees it.
    pub health: Health,
    /// The node's config epoch (CLUSTER NODES only).
    pub config_epoch: Option<u64>,
    /// The replication offset (CLUSTER SHARDS only).
    pub replication_offset: Option<i64>,
}

impl Node {
    /// A node with the given id, endpoint and role; healthy, and nothing else known.
    pub fn new(id: NodeId, endpoint: Option<Endpoint>, role: Role) -> Node {
        Node {
            ip: None,
            hostname: None,
            port: endpoint.as_ref().map(|e| e.port),
            tls_port: None,
            id,
            endpoint,
            role,
            health: Health::Online,
            config_epoch: None,
            replication_offset: None,
        }
    }

    /// The node with another health.
    pub fn with_health(mut self, health: Health) -> Node {
        self.health = health;
        self
    }

    /// The node with a config epoch.
    pub fn with_config_epoch(mut self, epoch: u64) -> Node {
        self.config_epoch = Some(epoch);
        self
    }

    /// The node with a hostname.
    pub fn with_hostname(mut self, hostname: impl Into<String>) -> Node {
        self.hostname = Some(hostname.into());
        self
    }

    /// The node with a TLS port.
    pub fn with_tls_port(mut self, port: u16) -> Node {
        self.tls_port = Some(port);
        self
    }
}

/// Where a reply came from, which the parsers need to resolve endpoints the reply leaves out.
///
/// A NULL or empty endpoint means "the node you asked" (Redis docs of CLUSTER SLOTS), so the parser
/// uses the answering node's host with the port from the reply. `?` means the node is misconfigured
/// (announced hostnames without a hostname): its endpoint stays unknown and is reported.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Origin {
    /// The endpoint the command was sent to, if known.
    pub endpoint: Option<Endpoint>,
    /// The id of the node that answered, if the caller knows it (e.g. from `CLUSTER MYID`).
    pub node_id: Option<NodeId>,
    /// Whether the client connects with TLS: CLUSTER SHARDS lists both `port` and `tls-port`, and
    /// this picks the one that goes into [`Node::endpoint`].
    pub tls: bool,
}

impl Origin {
    /// A reply from `endpoint`, over plaintext.
    pub fn new(endpoint: Endpoint) -> Origin {
        Origin {
            endpoint: Some(endpoint),
            node_id: None,
            tls: false,
        }
    }

    /// A reply from an unknown place (files, tests): empty endpoints stay unresolved.
    pub fn unknown() -> Origin {
        Origin::default()
    }

    /// The same origin over TLS (or not).
    pub fn with_tls(mut self, tls: bool) -> Origin {
        self.tls = tls;
        self
    }

    /// The same origin with the answering node's id.
    pub fn with_node_id(mut self, id: NodeId) -> Origin {
        self.node_id = Some(id);
        self
    }
}
