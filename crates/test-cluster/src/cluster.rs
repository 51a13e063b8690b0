//! A real Redis Cluster of `redis-server` processes on loopback: started, inspected, broken on
//! demand, and killed on drop.

mod faults;
mod launch;
mod reshard;
mod state;
mod types;
mod view;
mod wait;

pub(crate) use wait::poll_until;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Child;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

pub use reshard::ReshardHook;
pub use state::{ClusterState, NodeState};
pub use types::{AddedShard, ClusterOptions, NodeInfo, Promotion, ReshardStep, Role};

use crate::conn::{Conn, ConnOptions};
use crate::process;
use crate::tls::TlsFiles;
use crate::{Error, redis_server_binary};

/// A running Redis Cluster that this process started (or attached to, see [`Cluster::attach`]).
///
/// Every method takes `&self` and the type is `Send + Sync`: one thread can inject faults while
/// others run traffic. Faults are serialized among themselves; accessors do not wait for them.
///
/// Dropping a cluster that [`Cluster::start`] returned kills every process it started (by PID) and
/// removes its directory, also when a test panics. An attached cluster is left running on drop;
/// [`Cluster::stop`] stops it.
#[derive(Debug)]
pub struct Cluster {
    options: ClusterOptions,
    dir: PathBuf,
    /// Remove `dir` when stopped (true when it is a scratch directory made for this cluster).
    remove_dir: bool,
    binary: PathBuf,
    tls: Option<TlsFiles>,
    conn_options: ConnOptions,
    nodes: Mutex<Vec<Node>>,
    /// Serializes faults (failover, kill, reshard …) so they never interleave.
    ops: Mutex<()>,
    /// Kill the processes on drop.
    owned: bool,
}

/// One node process of the cluster (running or down).
#[derive(Debug)]
pub(crate) struct Node {
    pub(crate) port: u16,
    pub(crate) id: String,
    pub(crate) dir: PathBuf,
    /// `None` while down.
    pub(crate) pid: Option<u32>,
    /// Present when this process spawned it (so it can be reaped).
    pub(crate) child: Option<Child>,
    /// Stopped with SIGSTOP ([`Cluster::pause`]): its process lives, but it counts as down.
    pub(crate) paused: bool,
}

impl Node {
    /// Running and not paused.
    pub(crate) fn is_running(&self) -> bool {
        self.pid.is_some() && !self.paused
    }
}

impl Node {
    fn kill(&mut self) -> Result<(), Error> {
        if let Some(child) = &mut self.child {
            process::kill_child(child)?;
        } else if let Some(pid) = self.pid {
            process::kill_pid(pid)?;
        }
        self.child = None;
        self.pid = None;
        Ok(())
    }
}

static NEXT_CLUSTER: AtomicUsize = AtomicUsize::new(0);

impl Cluster {
    /// Starts `options.primaries × (1 + options.replicas)` nodes, assigns the slots evenly
    /// (`CLUSTER ADDSLOTSRANGE`), joins them (`CLUSTER MEET`), attaches the replicas
    /// (`CLUSTER REPLICATE`), and waits until every node reports `cluster_state:ok`, all agree on the
    /// slot map and roles, and every replica is in sync.
    pub fn start(options: &ClusterOptions) -> Result<Cluster, Error> {
        if options.primaries == 0 {
            return Err("a cluster needs at least one primary".into());
        }
        let binary = redis_server_binary()?;
        let (dir, remove_dir) = match &options.dir {
            Some(dir) => (dir.clone(), false),
            None => {
                let n = NEXT_CLUSTER.fetch_add(1, Ordering::Relaxed);
                let root = crate::server::target_dir().join("slotwise-test");
                if n == 0 {
                    crate::reap::reap_orphans(&root);
                }
                let dir = root.join(format!("cluster-{}-{n}", std::process::id()));
                (dir, true)
            }
        };
        let _ = std::fs::remove_dir_all(dir.join("tls"));
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("could not create {}: {e}", dir.display()))?;
        let tls = if options.tls {
            Some(TlsFiles::generate(&dir.join("tls"))?)
        } else {
            None
        };
        let conn_options = ConnOptions {
            auth: options.acl.clone(),
            tls: tls.as_ref().map(TlsFiles::client_config).transpose()?,
        };
        let cluster = Cluster {
            options: options.clone(),
            dir,
            remove_dir,
            binary,
            tls,
            conn_options,
            nodes: Mutex::new(Vec::new()),
            ops: Mutex::new(()),
            owned: true,
        };
        cluster.form()?;
        Ok(cluster)
    }

    /// Launches the nodes and makes them one cluster (on error, `Drop` cleans up).
    fn form(&self) -> Result<(), Error> {
        let p = self.options.primaries;
        let total = p * (1 + self.options.replicas);
        let ports: Vec<Option<u16>> = (0..total)
            .map(|i| self.options.base_port.map(|b| b + i as u16))
            .collect();
        let launched = self.launch(&ports)?;
        let ids: Vec<(u16, String)> = launched.iter().map(|n| (n.port, n.id.clone())).collect();
        self.lock_nodes().extend(launched);

        for (i, (port, _)) in ids.iter().enumerate() {
            let mut conn = self.conn(*port)?;
            // Distinct epochs up front, as redis-cli does, so no epoch collision has to be resolved.
            conn.ok(["CLUSTER", "SET-CONFIG-EPOCH", &(i + 1).to_string()])?;
            if i < p {
                let first = i * 16384 / p;
                let last = (i + 1) * 16384 / p - 1;
                conn.ok([
                    "CLUSTER",
                    "ADDSLOTSRANGE",
                    &first.to_string(),
                    &last.to_string(),
                ])?;
            }
        }
        let ports: Vec<u16> = ids.iter().map(|(port, _)| *port).collect();
        self.meet(ports[0], &ports[1..])?;
        for r in 0..self.options.replicas {
            for i in 0..p {
                let (replica, _) = &ids[p + i * self.options.replicas + r];
                self.replicate(*replica, &ids[i].1)?;
            }
        }
        self.wait_stable()?;
        Ok(())
    }

    /// Locks the node table (never held across a wait).
    pub(crate) fn lock_nodes(&self) -> MutexGuard<'_, Vec<Node>> {
        self.nodes.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Serializes faults.
    pub(crate) fn lock_ops(&self) -> MutexGuard<'_, ()> {
        self.ops.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The options it was started with.
    pub fn options(&self) -> &ClusterOptions {
        &self.options
    }

    /// Its directory (node directories `node-PORT/`, certificates in `tls/`).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The ports of all running nodes, in the order they were started.
    pub fn ports(&self) -> Vec<u16> {
        self.lock_nodes()
            .iter()
            .filter(|n| n.is_running())
            .map(|n| n.port)
            .collect()
    }

    /// How many client connections named `name` (`CLIENT SETNAME`) each running node has, in
    /// [`Cluster::ports`] order.
    pub fn clients_named(&self, name: &str) -> Result<Vec<usize>, Error> {
        let needle = format!(" name={name} ");
        self.ports()
            .into_iter()
            .map(|port| {
                let list = self.conn(port)?.text(["CLIENT", "LIST"])?;
                Ok(list.lines().filter(|l| l.contains(&needle)).count())
            })
            .collect()
    }

    /// The loopback address of a port.
    pub fn addr(port: u16) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, port))
    }

    /// A seed address for clients: the first running node.
    pub fn seed(&self) -> Result<SocketAddr, Error> {
        self.ports()
            .first()
            .map(|&p| Cluster::addr(p))
            .ok_or_else(|| "no node of the cluster is running".into())
    }

    /// How to connect to its nodes (TLS client configuration, ACL credentials).
    pub fn conn_options(&self) -> &ConnOptions {
        &self.conn_options
    }

    /// The certificate files of a TLS cluster (`None` without TLS).
    pub fn tls_files(&self) -> Option<&TlsFiles> {
        self.tls.as_ref()
    }

    /// A new connection to the node on `port` (over TLS and authenticated as the cluster needs).
    pub fn conn(&self, port: u16) -> Result<Conn, Error> {
        Conn::connect_with(Cluster::addr(port), &self.conn_options)
    }

    /// Every node (running or down) with its role, node id and slots as the cluster sees them now.
    pub fn nodes(&self) -> Result<Vec<NodeInfo>, Error> {
        let snapshot = self
            .snapshot()
            .map_err(|e| format!("reading the cluster's view: {e}"))?;
        let nodes = self.lock_nodes();
        nodes
            .iter()
            .map(|n| {
                let line = snapshot
                    .line(&n.id)
                    .ok_or_else(|| format!("no live node knows node {} (port {})", n.id, n.port))?;
                Ok(NodeInfo {
                    port: n.port,
                    pid: n.pid.filter(|_| !n.paused),
                    id: n.id.clone(),
                    role: if line.is_primary() {
                        Role::Primary
                    } else {
                        Role::Replica
                    },
                    primary_id: line.primary_id.clone(),
                    slots: line.slots.iter().map(|&(a, b)| a..=b).collect(),
                })
            })
            .collect()
    }

    /// The node on `port`.
    pub fn node(&self, port: u16) -> Result<NodeInfo, Error> {
        self.nodes()?
            .into_iter()
            .find(|n| n.port == port)
            .ok_or_else(|| format!("no node of this cluster on port {port}").into())
    }

    /// The running primaries (including ones that own no slots).
    pub fn primaries(&self) -> Result<Vec<NodeInfo>, Error> {
        Ok(self
            .nodes()?
            .into_iter()
            .filter(|n| n.is_up() && n.role == Role::Primary)
            .collect())
    }

    /// The running replicas of the primary on `port`.
    pub fn replicas_of(&self, port: u16) -> Result<Vec<NodeInfo>, Error> {
        let nodes = self.nodes()?;
        let primary = nodes
            .iter()
            .find(|n| n.port == port)
            .ok_or_else(|| format!("no node of this cluster on port {port}"))?;
        Ok(nodes
            .iter()
            .filter(|n| n.is_up() && n.primary_id.as_deref() == Some(primary.id.as_str()))
            .cloned()
            .collect())
    }

    /// Waits until every running node reports `cluster_state:ok`, all agree on the slot map, the
    /// roles and who is failing, all 16384 slots are covered, and every replica is in sync.
    pub fn wait_stable(&self) -> Result<(), Error> {
        self.wait_converged("the cluster to agree and be ok", |_| Ok(()))
            .map(|_| ())
    }

    /// Kills every process of the cluster (checking each PID still is a `redis-server`) and removes
    /// the node directories (and the whole directory when it is a scratch one).
    pub fn stop(mut self) -> Result<(), Error> {
        self.shutdown()
    }

    fn shutdown(&mut self) -> Result<(), Error> {
        self.owned = false;
        let mut first_error = None;
        let mut nodes = self.lock_nodes();
        for node in nodes.iter_mut() {
            if let Err(e) = node.kill() {
                first_error.get_or_insert(e);
            }
            let _ = std::fs::remove_dir_all(&node.dir);
        }
        nodes.clear();
        drop(nodes);
        if self.remove_dir {
            let _ = std::fs::remove_dir_all(&self.dir);
        } else {
            let _ = std::fs::remove_dir_all(self.dir.join("tls"));
        }
        first_error.map_or(Ok(()), Err)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if self.owned {
            let _ = self.shutdown();
        }
    }
}
