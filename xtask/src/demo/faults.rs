//! The phases' faults, run against the cluster while the workload goes on.

use std::time::{Duration, Instant};

use slotwise_test_cluster::Cluster;

use super::Result;
use super::keys::SLOTS;
use super::ledger::KillWindow;
use super::stats::KILL_PHASE;

/// Runs the fault of phase `phase` (none for the steady ones); returns a note for the report.
pub(crate) fn inflict(
    cluster: &Cluster,
    phase: usize,
    kill: &mut Option<KillWindow>,
) -> Result<String> {
    match phase {
        1 => failover(cluster),
        KILL_PHASE => {
            let (note, window) = sigkill(cluster)?;
            *kill = Some(window);
            Ok(note)
        }
        3 => freeze(cluster),
        4 => reshard(cluster, 1000),
        _ => Ok(String::new()),
    }
}

fn failover(cluster: &Cluster) -> Result<String> {
    let primary = cluster.primaries()?[0].port;
    let p = cluster.failover(primary)?;
    Ok(format!(
        "CLUSTER FAILOVER: replica {} took over from {} (promoted after {}, all nodes agreed after {})",
        p.new_primary,
        p.old_primary,
        secs(p.promoted_after),
        secs(p.converged_after)
    ))
}

fn sigkill(cluster: &Cluster) -> Result<(String, KillWindow)> {
    let primaries = cluster.primaries()?;
    let victim = primaries.get(1).unwrap_or(&primaries[0]);
    let mut slots = vec![false; SLOTS];
    for range in &victim.slots {
        for s in range.clone() {
            slots[usize::from(s)] = true;
        }
    }
    let p = cluster.kill(victim.port)?;
    let restart = Instant::now();
    cluster.restart(victim.port)?;
    let note = format!(
        "SIGKILL of primary {} ({} slots): replica {} promoted after {} (node timeout {} ms), \
         all nodes agreed after {}; {} restarted as a replica in {}",
        p.old_primary,
        victim.slot_count(),
        p.new_primary,
        secs(p.promoted_after),
        cluster.options().node_timeout_ms,
        secs(p.converged_after),
        victim.port,
        secs(restart.elapsed())
    );
    Ok((
        note,
        KillWindow {
            phase: KILL_PHASE,
            slots,
        },
    ))
}

/// `SIGSTOP` of a primary — it answers nothing and closes nothing — until its replica is
/// promoted, then `SIGCONT` (it rejoins as a replica). The client suspects the silent node within
/// a few hundred ms: only requests written before that can end ambiguous.
fn freeze(cluster: &Cluster) -> Result<String> {
    let primaries = cluster.primaries()?;
    let victim = primaries.last().unwrap_or(&primaries[0]);
    let p = cluster.pause(victim.port)?;
    let wake = Instant::now();
    cluster.resume(victim.port)?;
    Ok(format!(
        "SIGSTOP of primary {} ({} slots): replica {} promoted after {} (node timeout {} ms); \
         SIGCONT, {} rejoined as a replica in {}",
        p.old_primary,
        victim.slot_count(),
        p.new_primary,
        secs(p.promoted_after),
        cluster.options().node_timeout_ms,
        victim.port,
        secs(wake.elapsed())
    ))
}

fn reshard(cluster: &Cluster, want: usize) -> Result<String> {
    let mut primaries = cluster.primaries()?;
    primaries.sort_by_key(|p| std::cmp::Reverse(p.slot_count()));
    let (from, to) = match primaries.as_slice() {
        [from, .., to] => (from, to),
        _ => return Ok("one primary: nothing to reshard to".into()),
    };
    let n = want.min(from.slot_count().saturating_sub(1));
    let start = Instant::now();
    let moved = cluster.reshard(from.port, to.port, n)?;
    Ok(format!(
        "moved {} slots ({}..={}) with their keys from {} to {} in {} (ASK while each migrates, MOVED after)",
        moved.len(),
        moved.first().copied().unwrap_or_default(),
        moved.last().copied().unwrap_or_default(),
        from.port,
        to.port,
        secs(start.elapsed())
    ))
}

pub(crate) fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}
