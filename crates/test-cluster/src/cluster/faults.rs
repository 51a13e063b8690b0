//! Faults: graceful failover, killing or pausing (SIGSTOP) a primary, restarting a killed node,
//! resuming a paused one.

use std::time::{Duration, Instant};

use super::view::Snapshot;
use super::{Cluster, Promotion};
use crate::Error;

impl Cluster {
    /// Graceful failover (`CLUSTER FAILOVER` on a replica). `port` is a primary (its first running
    /// replica takes over) or a replica (it takes over from its primary). Waits until the replica is
    /// primary, the old primary is its replica and in sync, and every node agrees.
    pub fn failover(&self, port: u16) -> Result<Promotion, Error> {
        let _ops = self.lock_ops();
        let snapshot = self.check_converged().map_err(|e| {
            format!("failover {port}: the cluster is not stable before the failover: {e}")
        })?;
        let (primary, replica) = self.pair_for(&snapshot, port)?;
        let replica_id = self.id_of(replica)?;
        let start = Instant::now();
        // A manual failover that cannot complete (the replica never catches up) is aborted by the
        // server after 5 s without a reply to us, so it is asked again until the deadline.
        let mut asked = None::<Instant>;
        let promoted_after = self.wait_for(
            &format!("replica {replica} to take over from {primary} (CLUSTER FAILOVER)"),
            || {
                if asked.is_none_or(|t| t.elapsed() > Duration::from_secs(6)) {
                    self.conn(replica)
                        .and_then(|mut c| c.ok(["CLUSTER", "FAILOVER"]))
                        .map_err(|e| format!("CLUSTER FAILOVER on {replica}: {e}"))?;
                    asked = Some(Instant::now());
                }
                self.is_primary_now(replica)?;
                Ok(start.elapsed())
            },
        )?;
        self.wait_converged(
            &format!("every node to agree that {replica} replaced {primary}"),
            |s| {
                let old = s
                    .myself(primary)
                    .ok_or_else(|| format!("{primary} gave no view"))?;
                if old.is_primary() || old.primary_id.as_deref() != Some(replica_id.as_str()) {
                    return Err(format!("{primary} is not yet a replica of {replica}"));
                }
                Ok(())
            },
        )?;
        Ok(Promotion {
            old_primary: primary,
            new_primary: replica,
            promoted_after,
            converged_after: start.elapsed(),
        })
    }

    /// SIGKILLs the primary on `port` (by PID) and waits until one of its replicas is promoted and
    /// every running node agrees; reports how long that took. The node stays down until
    /// [`Cluster::restart`].
    pub fn kill(&self, port: u16) -> Result<Promotion, Error> {
        self.take_down(port, "kill", |node| node.kill())
    }

    /// Freezes a primary with SIGSTOP — what a paused VM, a long fork or a half-open path looks
    /// like to clients: its sockets stay open and nothing answers — then waits, as [`Cluster::kill`]
    /// does, until a replica is promoted and every running node agrees. It counts as down
    /// (not in [`Cluster::ports`]) until [`Cluster::resume`].
    pub fn pause(&self, port: u16) -> Result<Promotion, Error> {
        self.take_down(port, "pause", |node| {
            let pid = node.pid.ok_or("not running")?;
            crate::process::signal(pid, "STOP")?;
            node.paused = true;
            Ok(())
        })
    }

    /// Wakes a paused node (SIGCONT): it rejoins and, its slots having moved on, becomes a
    /// replica. Waits until it is a replica in sync and every node agrees.
    pub fn resume(&self, port: u16) -> Result<(), Error> {
        {
            let _ops = self.lock_ops();
            let mut nodes = self.lock_nodes();
            let node = nodes
                .iter_mut()
                .find(|n| n.port == port && n.paused)
                .ok_or_else(|| format!("resume {port}: not a paused node of this cluster"))?;
            let pid = node.pid.ok_or("not running")?;
            crate::process::signal(pid, "CONT")?;
            node.paused = false;
        }
        self.wait_rejoined(port)
    }

    /// Takes primary `port` down with `action` (`what`: its name in errors); waits for the
    /// promotion of a replica and for every running node to agree.
    fn take_down(
        &self,
        port: u16,
        what: &str,
        action: impl FnOnce(&mut super::Node) -> Result<(), Error>,
    ) -> Result<Promotion, Error> {
        let _ops = self.lock_ops();
        let snapshot = self
            .check_converged()
            .map_err(|e| format!("{what} {port}: the cluster is not stable before it: {e}"))?;
        let me = snapshot.myself(port).ok_or_else(|| {
            format!("{what} {port}: no running node of this cluster on that port")
        })?;
        if !me.is_primary() {
            return Err(format!("{what} {port}: it is a replica; {what} expects a primary").into());
        }
        let primary_id = me.id.clone();
        let replicas: Vec<u16> = snapshot
            .views
            .get(&port)
            .into_iter()
            .flatten()
            .filter(|n| n.primary_id.as_deref() == Some(primary_id.as_str()))
            .filter_map(|n| self.port_of(&n.id))
            .filter(|p| self.ports().contains(p))
            .collect();
        if replicas.is_empty() {
            return Err(format!("{what} {port}: it has no running replica to promote").into());
        }
        {
            let mut nodes = self.lock_nodes();
            let node = nodes
                .iter_mut()
                .find(|n| n.port == port)
                .ok_or_else(|| format!("{what} {port}: not a node of this cluster"))?;
            action(node)?;
        }
        let start = Instant::now();
        let (new_primary, promoted_after) = self.wait_for(
            &format!("a replica of {port} ({replicas:?}) to be promoted after the {what}"),
            || {
                for &r in &replicas {
                    if self.is_primary_now(r).is_ok() {
                        return Ok((r, start.elapsed()));
                    }
                }
                Err(format!("no replica of {port} is primary yet"))
            },
        )?;
        self.wait_converged(
            &format!("every node to agree that {new_primary} replaced {port} ({what})"),
            |_| Ok(()),
        )?;
        Ok(Promotion {
            old_primary: port,
            new_primary,
            promoted_after,
            converged_after: start.elapsed(),
        })
    }

    /// Starts a killed node again on its port, in its old directory (same node id): it rejoins and,
    /// its slots having moved on, becomes a replica. Waits until it is a replica in sync and every
    /// node agrees.
    pub fn restart(&self, port: u16) -> Result<(), Error> {
        let _ops = self.lock_ops();
        let (index, mut node) = {
            let mut nodes = self.lock_nodes();
            let index = nodes
                .iter()
                .position(|n| n.port == port)
                .ok_or_else(|| format!("restart {port}: not a node of this cluster"))?;
            if nodes[index].pid.is_some() {
                return Err(
                    format!("restart {port}: it is running; kill it first (cluster kill)").into(),
                );
            }
            (index, nodes.remove(index))
        };
        let started = self
            .respawn(&mut node)
            .and_then(|()| self.wait_ready(&mut node));
        {
            let mut nodes = self.lock_nodes();
            let index = index.min(nodes.len());
            nodes.insert(index, node);
        }
        started?;
        drop(_ops);
        self.wait_rejoined(port)
    }

    /// Waits until `port`, back after a kill or a pause, is a replica in sync and every node
    /// agrees.
    fn wait_rejoined(&self, port: u16) -> Result<(), Error> {
        let _ops = self.lock_ops();
        self.wait_converged(
            &format!("{port} to rejoin as a replica in sync"),
            |s| match s.myself(port) {
                Some(me) if !me.is_primary() => Ok(()),
                Some(_) => Err(format!("{port} is still a primary")),
                None => Err(format!("{port} gave no view")),
            },
        )?;
        Ok(())
    }

    /// The `(primary, replica)` pair a failover of `port` involves.
    fn pair_for(&self, snapshot: &Snapshot, port: u16) -> Result<(u16, u16), Error> {
        let me = snapshot
            .myself(port)
            .ok_or_else(|| format!("no running node of this cluster on port {port}"))?;
        if let Some(primary_id) = &me.primary_id {
            let primary = self
                .port_of(primary_id)
                .ok_or_else(|| format!("{port} replicates an unknown node {primary_id}"))?;
            return Ok((primary, port));
        }
        let live = self.ports();
        let replica = snapshot
            .view(port)
            .into_iter()
            .flatten()
            .filter(|n| n.primary_id.as_deref() == Some(me.id.as_str()))
            .filter_map(|n| self.port_of(&n.id))
            .find(|p| live.contains(p))
            .ok_or_else(|| format!("primary {port} has no running replica to fail over to"))?;
        Ok((port, replica))
    }

    /// `Ok` when the node on `port` says it is a primary.
    fn is_primary_now(&self, port: u16) -> Result<(), String> {
        let text = self
            .conn(port)
            .and_then(|mut c| c.text(["CLUSTER", "NODES"]))
            .map_err(|e| format!("CLUSTER NODES on {port}: {e}"))?;
        let view = super::view::parse_nodes(&text)?;
        match view.iter().find(|n| n.is_myself()) {
            Some(me) if me.is_primary() => Ok(()),
            _ => Err(format!("{port} is not primary yet")),
        }
    }

    /// The port of the node with id `id`, if it is one of ours.
    pub(crate) fn port_of(&self, id: &str) -> Option<u16> {
        self.lock_nodes()
            .iter()
            .find(|n| n.id == id)
            .map(|n| n.port)
    }

    /// The node id of our node on `port`.
    pub(crate) fn id_of(&self, port: u16) -> Result<String, Error> {
        self.lock_nodes()
            .iter()
            .find(|n| n.port == port)
            .map(|n| n.id.clone())
            .ok_or_else(|| format!("no node of this cluster on port {port}").into())
    }
}
