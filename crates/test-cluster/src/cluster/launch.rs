//! Launching node processes and joining them: arguments, free ports, readiness, `MEET`, `REPLICATE`.

use std::collections::BTreeSet;
use std::net::{Ipv4Addr, TcpListener};
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::{Cluster, Node};
use crate::{Error, free_port, process};

/// How many times a node on an automatically chosen port is retried on another port when its port
/// (or bus port) was taken between choosing and binding.
const PORT_ATTEMPTS: usize = 5;

impl Cluster {
    /// The `redis-server` arguments of the node on `port` living in `dir`.
    fn node_args(&self, port: u16, dir: &Path) -> Vec<String> {
        let o = &self.options;
        let path = |p: &Path| p.to_string_lossy().into_owned();
        let mut args: Vec<String> = Vec::new();
        let mut push = |items: &[&str]| args.extend(items.iter().map(|s| (*s).to_owned()));
        match &self.tls {
            Some(_) => {}
            None => push(&["--port", &port.to_string()]),
        }
        push(&[
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
            "--dir",
            &path(dir),
            "--logfile",
            &path(&dir.join("redis.log")),
            // Lets a later run find and kill it should this process die without cleaning up.
            "--pidfile",
            &path(&dir.join("redis.pid")),
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            &path(&dir.join("nodes.conf")),
            "--cluster-node-timeout",
            &o.node_timeout_ms.to_string(),
            // Tests kill primaries right after writing: let any replica take over, however
            // recently it heard from its primary.
            "--cluster-replica-validity-factor",
            "0",
            // Replicas stay where they were put, so add/remove-node and failovers are predictable.
            "--cluster-allow-replica-migration",
            "no",
            // The default waits 5 s for more replicas before a full sync.
            "--repl-diskless-sync-delay",
            "0",
        ]);
        if let Some(tls) = &self.tls {
            args.extend(tls.server_args(port));
        }
        if let Some((user, pass)) = &o.acl {
            let pass_rule = format!(">{pass}");
            let mut push = |items: &[&str]| args.extend(items.iter().map(|s| (*s).to_owned()));
            push(&[
                "--user",
                user,
                "on",
                &pass_rule,
                "~*",
                "&*",
                "+@all",
                "--masteruser",
                user,
                "--masterauth",
                pass,
            ]);
            if user != "default" {
                push(&["--user", "default", "off"]);
            }
        }
        if let Some(host) = &o.announce_hostname {
            args.extend(
                [
                    "--cluster-announce-hostname",
                    host,
                    "--cluster-preferred-endpoint-type",
                    "hostname",
                ]
                .map(str::to_owned),
            );
        }
        args.extend(o.extra_args.iter().cloned());
        args
    }

    /// Starts one node per entry (a fixed port, or `None` for a free one), waits until each answers
    /// `PING`, and reads its node id. A node that could not bind its automatically chosen port is
    /// retried on another.
    pub(crate) fn launch(&self, ports: &[Option<u16>]) -> Result<Vec<Node>, Error> {
        let mut pending: Vec<(Option<u16>, usize)> = ports.iter().map(|p| (*p, 0)).collect();
        let mut ready: Vec<Node> = Vec::new();
        // Spawn them all first, then wait: starting is the slow part.
        while !pending.is_empty() {
            let mut spawned = Vec::new();
            for (fixed, attempt) in pending.drain(..) {
                let port = match fixed {
                    Some(p) => {
                        check_port_free(p)?;
                        p
                    }
                    None => claim_port()?,
                };
                let node = self.spawn_node(port)?;
                spawned.push((fixed, attempt, node));
            }
            for (fixed, attempt, mut node) in spawned {
                match self.wait_ready(&mut node) {
                    Ok(()) => ready.push(node),
                    Err(e) => {
                        let _ = node.kill();
                        let _ = std::fs::remove_dir_all(&node.dir);
                        let in_use = e.to_string().contains("Address already in use");
                        if fixed.is_none() && in_use && attempt + 1 < PORT_ATTEMPTS {
                            pending.push((None, attempt + 1));
                        } else {
                            for mut n in ready {
                                let _ = n.kill();
                            }
                            return Err(e);
                        }
                    }
                }
            }
        }
        Ok(ready)
    }

    /// Spawns the process of a node on `port` in a fresh `node-PORT/` directory.
    fn spawn_node(&self, port: u16) -> Result<Node, Error> {
        let dir = self.dir.join(format!("node-{port}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        let mut node = Node {
            port,
            id: String::new(),
            dir,
            pid: None,
            child: None,
            paused: false,
        };
        self.respawn(&mut node)?;
        Ok(node)
    }

    /// Starts the process of `node` again, in its existing directory (so it keeps its node id).
    pub(crate) fn respawn(&self, node: &mut Node) -> Result<(), Error> {
        let args = self.node_args(node.port, &node.dir);
        let child = process::spawn(
            &self.binary,
            &node.dir,
            &args,
            self.options.own_process_group,
        )?;
        node.pid = Some(child.id());
        node.child = Some(child);
        Ok(())
    }

    /// Waits (up to 10 s) until `node` answers `PING`, then reads its node id.
    pub(crate) fn wait_ready(&self, node: &mut Node) -> Result<(), Error> {
        let timeout = Duration::from_secs(10);
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(child) = &mut node.child
                && let Some(status) = child.try_wait()?
            {
                node.child = None;
                node.pid = None;
                let log = std::fs::read_to_string(node.dir.join("redis.log")).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(15).collect();
                let tail: Vec<&str> = tail.into_iter().rev().collect();
                return Err(format!(
                    "redis-server for port {} exited ({status}); end of its log:\n{}",
                    node.port,
                    tail.join("\n")
                )
                .into());
            }
            let last = match self.ask_identity(node.port) {
                // Another process may own the port (ours then fails to bind and exits): only a
                // server reporting our child's PID is ours.
                Ok((pid, id)) if Some(pid) == node.pid => {
                    node.id = id;
                    return Ok(());
                }
                Ok((pid, _)) => format!("port {} is served by another process ({pid})", node.port),
                Err(e) => e.to_string(),
            };
            if Instant::now() > deadline {
                return Err(format!(
                    "redis-server on port {} did not answer CLUSTER MYID within {timeout:?} (last error: {last}; log: {})",
                    node.port,
                    node.dir.join("redis.log").display()
                )
                .into());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `(process_id, node id)` of the server on `port`.
    fn ask_identity(&self, port: u16) -> Result<(u32, String), Error> {
        let mut conn = self.conn(port)?;
        let info = conn.text(["INFO", "server"])?;
        let pid = super::view::info_field(&info, "process_id")
            .and_then(|p| p.parse().ok())
            .ok_or("INFO server without process_id")?;
        Ok((pid, conn.text(["CLUSTER", "MYID"])?))
    }

    /// `CLUSTER MEET` from `via` to each of `ports`, then waits until every node knows every other
    /// (no handshake left, all links up).
    pub(crate) fn meet(&self, via: u16, ports: &[u16]) -> Result<(), Error> {
        let mut conn = self.conn(via)?;
        for port in ports {
            conn.ok(["CLUSTER", "MEET", "127.0.0.1", &port.to_string()])
                .map_err(|e| format!("CLUSTER MEET 127.0.0.1 {port} on {via}: {e}"))?;
        }
        self.wait_for("every node to know every other node", || {
            let snapshot = self.snapshot()?;
            let live = self.live_ids();
            for (port, view) in &snapshot.views {
                for (other_port, id) in &live {
                    let line = view
                        .iter()
                        .find(|n| &n.id == id)
                        .ok_or_else(|| format!("{port} does not know {other_port} yet"))?;
                    if let Some(flag) = line.unhealthy() {
                        return Err(format!("{port} sees {other_port} as {flag}"));
                    }
                    if !line.is_myself() && !line.connected {
                        return Err(format!("{port} has no link to {other_port} yet"));
                    }
                }
            }
            Ok(())
        })
    }

    /// `CLUSTER REPLICATE primary_id` on `port`.
    pub(crate) fn replicate(&self, port: u16, primary_id: &str) -> Result<(), Error> {
        self.conn(port)?
            .ok(["CLUSTER", "REPLICATE", primary_id])
            .map_err(|e| format!("CLUSTER REPLICATE {primary_id} on {port}: {e}"))?;
        Ok(())
    }
}

/// A free port no other cluster of this process has been given (parallel tests would otherwise
/// race for the same one between choosing and binding).
fn claim_port() -> Result<u16, Error> {
    static CLAIMED: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());
    for _ in 0..100 {
        let port = free_port()?;
        if CLAIMED
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(port)
        {
            return Ok(port);
        }
    }
    Err("no unclaimed free port found in 100 attempts".into())
}

/// A clear error when a fixed port (or its bus port) is taken.
fn check_port_free(port: u16) -> Result<(), Error> {
    let bus = port.checked_add(10000).ok_or_else(|| {
        format!("port {port} is too high: its cluster bus port would be {port} + 10000")
    })?;
    for p in [port, bus] {
        TcpListener::bind((Ipv4Addr::LOCALHOST, p)).map_err(|e| {
            format!("port {p} on 127.0.0.1 is not free ({e}); choose another base port")
        })?;
    }
    Ok(())
}
