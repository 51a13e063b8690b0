//! The options a [`Cluster`](crate::Cluster) starts with, and what its accessors and faults return.

use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::time::Duration;

/// How to start a [`Cluster`](crate::Cluster). Build with `..Default::default()`: the defaults are
/// three primaries with one replica each, free ports, plain TCP, no ACL, a 2000 ms node timeout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterOptions {
    /// Number of primaries (each gets an even share of the 16384 slots). At least 1.
    pub primaries: usize,
    /// Replicas per primary.
    pub replicas: usize,
    /// Ports `base`, `base + 1`, … (primaries first, then replicas) instead of free ones picked at
    /// random. Each port's cluster bus port (port + 10000) must be free too.
    pub base_port: Option<u16>,
    /// TLS only: `--port 0 --tls-port PORT`, `tls-cluster yes`, `tls-replication yes`,
    /// `tls-auth-clients optional`, with certificates generated for the cluster (see
    /// [`Cluster::tls_files`](crate::Cluster::tls_files)).
    pub tls: bool,
    /// `(user, password)`: an ACL user with full permissions, used for replication
    /// (`masteruser`/`masterauth`); the `default` user is disabled (or, when the user *is*
    /// `default`, given the password).
    pub acl: Option<(String, String)>,
    /// `cluster-announce-hostname` for every node, with `cluster-preferred-endpoint-type hostname`
    /// (use a name that resolves to 127.0.0.1, such as `localhost`).
    pub announce_hostname: Option<String>,
    /// `cluster-node-timeout` in milliseconds.
    pub node_timeout_ms: u64,
    /// The longest any single wait (convergence, promotion, sync …) may take before it fails.
    pub wait_timeout: Duration,
    /// Directory for node directories and certificates. `None`: a fresh directory under
    /// `target/slotwise-test/`, removed when the cluster is dropped.
    pub dir: Option<PathBuf>,
    /// Start each process in a process group of its own, so it outlives this process and a Ctrl-C
    /// in its terminal (what `cargo xtask cluster start` wants; tests leave it off).
    pub own_process_group: bool,
    /// Extra `redis-server` arguments for every node.
    pub extra_args: Vec<String>,
}

impl Default for ClusterOptions {
    fn default() -> Self {
        ClusterOptions {
            primaries: 3,
            replicas: 1,
            base_port: None,
            tls: false,
            acl: None,
            announce_hostname: None,
            node_timeout_ms: 2000,
            wait_timeout: Duration::from_secs(30),
            dir: None,
            own_process_group: false,
            extra_args: Vec::new(),
        }
    }
}

/// A node's role, as the cluster sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Role {
    /// A primary (it may own no slots, e.g. after `remove_node` moved them away … or before
    /// `add_node` rebalanced).
    Primary,
    /// A replica of [`NodeInfo::primary_id`].
    Replica,
}

/// One node of a [`Cluster`](crate::Cluster): its process and what the cluster says about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeInfo {
    /// Its client port (the TLS port on a TLS cluster).
    pub port: u16,
    /// Its process id, or `None` while it is down (killed and not restarted).
    pub pid: Option<u32>,
    /// Its cluster node id (40 hex characters).
    pub id: String,
    /// Primary or replica (a down node: its role as the live nodes last saw it).
    pub role: Role,
    /// For a replica: its primary's node id.
    pub primary_id: Option<String>,
    /// The slot ranges it owns (empty for replicas).
    pub slots: Vec<RangeInclusive<u16>>,
}

impl NodeInfo {
    /// True while its process runs.
    pub fn is_up(&self) -> bool {
        self.pid.is_some()
    }

    /// How many slots it owns.
    pub fn slot_count(&self) -> usize {
        self.slots.iter().map(|r| r.clone().count()).sum()
    }
}

/// What a failover or kill did: which replica took over, and how long it took.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Promotion {
    /// The port of the primary that was failed over or killed.
    pub old_primary: u16,
    /// The port of the replica that is now primary.
    pub new_primary: u16,
    /// From the `CLUSTER FAILOVER` / `SIGKILL` until the replica reported itself primary.
    pub promoted_after: Duration,
    /// From the `CLUSTER FAILOVER` / `SIGKILL` until every live node agreed on the new slot map and
    /// roles, and reported `cluster_state:ok`.
    pub converged_after: Duration,
}

/// A shard added by [`Cluster::add_node`](crate::Cluster::add_node).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddedShard {
    /// The new primary's port.
    pub primary: u16,
    /// Its replicas' ports.
    pub replicas: Vec<u16>,
    /// How many slots were moved onto it.
    pub slots_moved: usize,
}

/// A point in a live slot migration, handed to the hook of
/// [`Cluster::reshard_with`](crate::Cluster::reshard_with).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReshardStep {
    /// `slot` is now `IMPORTING` on the target and `MIGRATING` on the source; no key has moved yet.
    /// Clients asking the source for a key that is missing there get `ASK`.
    Migrating {
        /// The slot being migrated.
        slot: u16,
        /// Source port.
        from: u16,
        /// Target port.
        to: u16,
    },
    /// The slot's keys have been migrated (`keys` of them) but ownership has not been set yet.
    KeysMoved {
        /// The slot being migrated.
        slot: u16,
        /// How many keys `MIGRATE` moved.
        keys: usize,
    },
    /// `CLUSTER SETSLOT slot NODE target` has been sent to every primary.
    Done {
        /// The slot that moved.
        slot: u16,
    },
}
