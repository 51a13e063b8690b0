//! The state file that lets a later process attach to a running cluster (how `cargo xtask cluster`
//! keeps a cluster across invocations).

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use super::{Cluster, ClusterOptions, Node};
use crate::conn::ConnOptions;
use crate::process;
use crate::tls::TlsFiles;
use crate::{Error, redis_server_binary};

const HEADER: &str = "slotwise-cluster-state 1";

/// Everything needed to find a running cluster again: its options, directory and node processes.
/// Saved as a small line-oriented text file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterState {
    /// The options it was started with (`dir` is always set).
    pub options: ClusterOptions,
    /// Its nodes.
    pub nodes: Vec<NodeState>,
}

/// One node in a [`ClusterState`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeState {
    /// Client port (the TLS port on a TLS cluster).
    pub port: u16,
    /// Cluster node id.
    pub id: String,
    /// Process id, `None` when down.
    pub pid: Option<u32>,
    /// Its working directory (`nodes.conf`, `redis.log`).
    pub dir: PathBuf,
}

impl ClusterState {
    /// Writes it to `path` (directories created as needed).
    pub fn save(&self, path: &Path) -> Result<(), Error> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, self.to_text())
            .map_err(|e| format!("could not write {}: {e}", path.display()).into())
    }

    /// Reads a state file written by [`ClusterState::save`].
    pub fn load(path: &Path) -> Result<ClusterState, Error> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("could not read cluster state {}: {e}", path.display()))?;
        ClusterState::parse(&text).map_err(|e| format!("{}: {e}", path.display()).into())
    }

    /// The text form.
    pub fn to_text(&self) -> String {
        let o = &self.options;
        let opt = |v: Option<String>| v.unwrap_or_else(|| "-".into());
        let mut out = format!("{HEADER}\n");
        let dir = o.dir.as_deref().unwrap_or(Path::new("."));
        out += &format!("dir {}\n", dir.display());
        out += &format!("primaries {}\nreplicas {}\n", o.primaries, o.replicas);
        out += &format!("base_port {}\n", opt(o.base_port.map(|p| p.to_string())));
        out += &format!("tls {}\n", u8::from(o.tls));
        if let Some((user, pass)) = &o.acl {
            out += &format!("acl {user} {pass}\n");
        }
        if let Some(host) = &o.announce_hostname {
            out += &format!("announce_hostname {host}\n");
        }
        out += &format!("node_timeout_ms {}\n", o.node_timeout_ms);
        out += &format!("wait_timeout_ms {}\n", o.wait_timeout.as_millis());
        out += &format!("own_process_group {}\n", u8::from(o.own_process_group));
        for arg in &o.extra_args {
            out += &format!("extra_arg {arg}\n");
        }
        for n in &self.nodes {
            let pid = opt(n.pid.map(|p| p.to_string()));
            out += &format!("node {} {} {pid} {}\n", n.port, n.id, n.dir.display());
        }
        out
    }

    /// Parses the text form.
    pub fn parse(text: &str) -> Result<ClusterState, Error> {
        let mut lines = text.lines();
        if lines.next() != Some(HEADER) {
            return Err(format!("not a cluster state file (first line is not {HEADER:?})").into());
        }
        let mut options = ClusterOptions {
            primaries: 0,
            replicas: 0,
            ..ClusterOptions::default()
        };
        let mut nodes = Vec::new();
        for line in lines.filter(|l| !l.is_empty()) {
            let bad = || format!("bad line {line:?}");
            let (key, value) = line.split_once(' ').ok_or_else(bad)?;
            let num = |v: &str| v.parse::<u64>().map_err(|_| bad());
            match key {
                "dir" => options.dir = Some(PathBuf::from(value)),
                "primaries" => options.primaries = num(value)? as usize,
                "replicas" => options.replicas = num(value)? as usize,
                "base_port" if value == "-" => options.base_port = None,
                "base_port" => options.base_port = Some(value.parse().map_err(|_| bad())?),
                "tls" => options.tls = value == "1",
                "acl" => {
                    let (user, pass) = value.split_once(' ').ok_or_else(bad)?;
                    options.acl = Some((user.to_owned(), pass.to_owned()));
                }
                "announce_hostname" => options.announce_hostname = Some(value.to_owned()),
                "node_timeout_ms" => options.node_timeout_ms = num(value)?,
                "wait_timeout_ms" => options.wait_timeout = Duration::from_millis(num(value)?),
                "own_process_group" => options.own_process_group = value == "1",
                "extra_arg" => options.extra_args.push(value.to_owned()),
                "node" => {
                    let mut parts = value.splitn(4, ' ');
                    let mut next = || parts.next().ok_or_else(bad);
                    let port = next()?.parse().map_err(|_| bad())?;
                    let id = next()?.to_owned();
                    let pid = match next()? {
                        "-" => None,
                        p => Some(p.parse().map_err(|_| bad())?),
                    };
                    let dir = PathBuf::from(next()?);
                    nodes.push(NodeState { port, id, pid, dir });
                }
                _ => return Err(bad().into()),
            }
        }
        if options.dir.is_none() || nodes.is_empty() {
            return Err("cluster state without a directory or nodes".into());
        }
        Ok(ClusterState { options, nodes })
    }
}

impl Cluster {
    /// Its state now: options, directory and node processes.
    pub fn state(&self) -> ClusterState {
        let mut options = self.options.clone();
        options.dir = Some(self.dir.clone());
        let nodes = self
            .lock_nodes()
            .iter()
            .map(|n| NodeState {
                port: n.port,
                id: n.id.clone(),
                pid: n.pid,
                dir: n.dir.clone(),
            })
            .collect();
        ClusterState { options, nodes }
    }

    /// Lets the cluster outlive this value (and this process): nothing is killed on drop. Returns
    /// the state to [`Cluster::attach`] to later. Start it with
    /// [`ClusterOptions::own_process_group`] so the processes also survive a Ctrl-C.
    pub fn detach(mut self) -> ClusterState {
        self.owned = false;
        self.state()
    }

    /// Takes charge of a running cluster from its state. Nodes whose PID is no longer a
    /// `redis-server` count as down. The attached value does not kill anything on drop: call
    /// [`Cluster::stop`] for that, or [`Cluster::state`] to save what changed.
    pub fn attach(state: ClusterState) -> Result<Cluster, Error> {
        let dir = state
            .options
            .dir
            .clone()
            .ok_or("cluster state without a directory")?;
        let tls = if state.options.tls {
            Some(TlsFiles::in_dir(&dir.join("tls")))
        } else {
            None
        };
        let conn_options = ConnOptions {
            auth: state.options.acl.clone(),
            tls: tls.as_ref().map(TlsFiles::client_config).transpose()?,
        };
        let nodes = state
            .nodes
            .iter()
            .map(|n| Node {
                port: n.port,
                id: n.id.clone(),
                dir: n.dir.clone(),
                pid: n.pid.filter(|&pid| process::is_redis_server(pid)),
                child: None,
                paused: false,
            })
            .collect();
        Ok(Cluster {
            binary: redis_server_binary()?,
            options: state.options,
            dir,
            remove_dir: false,
            tls,
            conn_options,
            nodes: Mutex::new(nodes),
            ops: Mutex::new(()),
            owned: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trips() {
        let state = ClusterState {
            options: ClusterOptions {
                base_port: Some(7000),
                tls: true,
                acl: Some(("app".into(), "pass word".into())),
                announce_hostname: Some("localhost".into()),
                dir: Some(PathBuf::from("/tmp/some dir")),
                own_process_group: true,
                extra_args: vec!["--loglevel".into(), "debug".into()],
                ..ClusterOptions::default()
            },
            nodes: vec![
                NodeState {
                    port: 7000,
                    id: "a".repeat(40),
                    pid: Some(42),
                    dir: PathBuf::from("/tmp/some dir/node-7000"),
                },
                NodeState {
                    port: 7001,
                    id: "b".repeat(40),
                    pid: None,
                    dir: PathBuf::from("/tmp/some dir/node-7001"),
                },
            ],
        };
        assert_eq!(ClusterState::parse(&state.to_text()).unwrap(), state);
        assert!(ClusterState::parse("something else").is_err());
    }
}
