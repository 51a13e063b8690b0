//! Waiting: every wait polls with a deadline and fails saying what it waited for and what it saw
//! last.

use std::time::{Duration, Instant};

use super::Cluster;
use super::view::{Snapshot, coverage, info_field, parse_nodes, slot_map};
use crate::Error;

/// A slot map as `(first, last, owner id)` ranges.
type SlotMap = Vec<(u16, u16, String)>;

/// `(node id, is primary, primary id)` of every live node, sorted.
type Roles = Vec<(String, bool, Option<String>)>;

/// How often waits poll.
pub(crate) const POLL: Duration = Duration::from_millis(25);

impl Cluster {
    /// `(port, node id)` of every running node.
    pub(crate) fn live_ids(&self) -> Vec<(u16, String)> {
        self.lock_nodes()
            .iter()
            .filter(|n| n.is_running())
            .map(|n| (n.port, n.id.clone()))
            .collect()
    }

    /// `(port, node id)` of every node that is down.
    pub(crate) fn dead_ids(&self) -> Vec<(u16, String)> {
        self.lock_nodes()
            .iter()
            .filter(|n| !n.is_running())
            .map(|n| (n.port, n.id.clone()))
            .collect()
    }

    /// Polls `check` until it returns `Ok`, for at most the cluster's wait timeout.
    pub(crate) fn wait_for<T>(
        &self,
        what: &str,
        check: impl FnMut() -> Result<T, String>,
    ) -> Result<T, Error> {
        Ok(poll_until(what, self.options.wait_timeout, POLL, check)?)
    }

    /// `CLUSTER NODES` from every running node.
    pub(crate) fn snapshot(&self) -> Result<Snapshot, String> {
        let mut snapshot = Snapshot::default();
        for (port, _) in self.live_ids() {
            let text = self
                .conn(port)
                .and_then(|mut c| c.text(["CLUSTER", "NODES"]))
                .map_err(|e| format!("CLUSTER NODES on {port}: {e}"))?;
            snapshot.views.insert(port, parse_nodes(&text)?);
        }
        if snapshot.views.is_empty() {
            return Err("no node of the cluster is running".into());
        }
        Ok(snapshot)
    }

    /// Checks the cluster is converged (see [`Cluster::wait_stable`]) and returns the views.
    pub(crate) fn check_converged(&self) -> Result<Snapshot, String> {
        let live = self.live_ids();
        let dead = self.dead_ids();
        let snapshot = self.snapshot()?;
        // The first view's slot map and roles, which every other view must equal.
        let mut reference: Option<(u16, SlotMap)> = None;
        let mut roles: Option<(u16, Roles)> = None;
        for (port, view) in &snapshot.views {
            for (other, id) in &live {
                let line = view
                    .iter()
                    .find(|n| &n.id == id)
                    .ok_or_else(|| format!("{port} does not know {other}"))?;
                if let Some(flag) = line.unhealthy() {
                    return Err(format!("{port} sees {other} as {flag}"));
                }
                if !line.is_myself() && !line.connected {
                    return Err(format!("{port} has no link to {other}"));
                }
            }
            for (other, id) in &dead {
                if let Some(line) = view.iter().find(|n| &n.id == id)
                    && !line.has("fail")
                {
                    return Err(format!("{port} does not yet flag the dead {other} as fail"));
                }
            }
            let map = slot_map(view);
            let covered = coverage(&map);
            if covered != 16384 {
                return Err(format!("{port} sees {covered} of 16384 slots covered"));
            }
            match &reference {
                None => reference = Some((*port, map)),
                Some((first, expected)) if *expected != map => {
                    return Err(format!("{port} and {first} disagree on the slot map"));
                }
                Some(_) => {}
            }
            let mut seen: Vec<(String, bool, Option<String>)> = view
                .iter()
                .filter(|n| live.iter().any(|(_, id)| *id == n.id))
                .map(|n| (n.id.clone(), n.is_primary(), n.primary_id.clone()))
                .collect();
            seen.sort();
            match &roles {
                None => roles = Some((*port, seen)),
                Some((first, expected)) if *expected != seen => {
                    return Err(format!("{port} and {first} disagree on the roles"));
                }
                Some(_) => {}
            }
        }
        for (port, _) in &live {
            let mut conn = self.conn(*port).map_err(|e| e.to_string())?;
            let info = conn
                .text(["CLUSTER", "INFO"])
                .map_err(|e| format!("CLUSTER INFO on {port}: {e}"))?;
            let state = info_field(&info, "cluster_state").unwrap_or("?");
            if state != "ok" {
                return Err(format!("{port} reports cluster_state:{state}"));
            }
            let is_replica = snapshot.myself(*port).is_some_and(|n| !n.is_primary());
            if is_replica {
                let info = conn
                    .text(["INFO", "replication"])
                    .map_err(|e| format!("INFO replication on {port}: {e}"))?;
                let link = info_field(&info, "master_link_status").unwrap_or("?");
                let syncing = info_field(&info, "master_sync_in_progress").unwrap_or("?");
                if link != "up" || syncing != "0" {
                    return Err(format!(
                        "replica {port} not in sync (master_link_status:{link}, master_sync_in_progress:{syncing})"
                    ));
                }
            }
        }
        Ok(snapshot)
    }

    /// Waits until the cluster is converged and `extra` holds on the converged views.
    pub(crate) fn wait_converged(
        &self,
        what: &str,
        extra: impl Fn(&Snapshot) -> Result<(), String>,
    ) -> Result<Snapshot, Error> {
        self.wait_for(what, || {
            let snapshot = self.check_converged()?;
            extra(&snapshot)?;
            Ok(snapshot)
        })
    }
}

/// Polls `check` every `every` until it returns `Ok`, for at most `timeout`; then the error says
/// what it waited for and what `check` said last.
pub(crate) fn poll_until<T>(
    what: &str,
    timeout: Duration,
    every: Duration,
    mut check: impl FnMut() -> Result<T, String>,
) -> Result<T, String> {
    let deadline = Instant::now() + timeout;
    loop {
        match check() {
            Ok(value) => return Ok(value),
            Err(last) if Instant::now() > deadline => {
                return Err(format!(
                    "timed out after {timeout:?} waiting for {what}; last seen: {last}"
                ));
            }
            Err(_) => std::thread::sleep(every),
        }
    }
}
