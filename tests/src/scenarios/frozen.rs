//! A primary that stops answering without closing: frozen with `SIGSTOP` for 10 s (failed over
//! by the cluster meanwhile), or one connection's path that stops forwarding (the node is fine).
//! The client suspects the silent connection within `suspect_after` (300 ms) and stops writing to
//! it, so only requests written before that can end ambiguous; the faulted slots come back when
//! the replica is promoted (or at once on a fresh connection); no acknowledged write is lost.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use slotwise_test_cluster::{Cluster, ClusterOptions, Conn};

use super::garbage::announce_port;
use super::{SWEEP_LIMIT, connect, pause, start, traffic_succeeds, verify_counters};
use crate::bystanders::Bystanders;
use crate::client::{Adapter, ClientSpec, TestClient};
use crate::keys::SLOTS;
use crate::load::{Load, LoadOptions, LoadReport, Op};
use crate::proxy::CorruptingProxy;
use crate::verify::slot_owners;

/// Node timeout of the cluster.
const NODE_TIMEOUT_MS: u64 = 2000;
/// How long the primary stays frozen.
const FROZEN_FOR: Duration = Duration::from_secs(10);
/// Load workers: each has one request in flight at a time, so at most this many are written to
/// the silent connection before it is suspected.
const WORKERS: usize = 8;
/// Generous bounds for timing on a shared CI machine; the figures are printed.
const RECOVERY_BOUND: Duration = Duration::from_secs(1);
/// The faulted slots answer again within this of the promotion (the figure; measured
/// 0–130 ms: one refresh, asked every 100 ms while the suspect node owns slots); and the other
/// shards within this of the end of the server's own CLUSTERDOWN window (measured +70–90 ms).
const AFTER_PROMOTION: Duration = Duration::from_millis(300);

fn load_options() -> LoadOptions {
    LoadOptions {
        workers: WORKERS,
        max_steps: 100_000,
        max_time: Duration::from_secs(40),
        ..Default::default()
    }
}

/// Only `INCR`s written before the suspicion may fail, and only as `maybe_applied`.
fn assert_only_ambiguous_incrs(name: &str, what: &str, report: &LoadReport) -> u64 {
    let mut ambiguous = 0;
    for ((op, kind), n) in &report.errors {
        assert!(
            *op == Op::Incr && *kind == "ConnectionLost(maybe_applied)",
            "[{name}] {what}: only INCRs in flight may fail, and only as maybe_applied; got {n} × \
             {op:?} {kind}; e.g. {:?}",
            report.samples
        );
        ambiguous += n;
    }
    assert!(
        ambiguous <= WORKERS as u64,
        "[{name}] {what}: {ambiguous} ambiguous INCRs, more than the {WORKERS} that can be in \
         flight at the suspicion"
    );
    ambiguous
}

/// Traffic of its own for the slots `victim` does not own (see [`Bystanders`]).
fn bystanders_outside(cluster: &Cluster, client: &Arc<dyn TestClient>, victim: u16) -> Bystanders {
    let owners = slot_owners(cluster);
    let others = (0..SLOTS).filter(|&s| owners[s] != victim).collect();
    Bystanders::start(client, others, 2, Duration::from_secs(10))
}

/// Watches `CLUSTER INFO` on one node every 20 ms until `stop`: the longest stretch it said
/// `cluster_state:fail` (the server's own CLUSTERDOWN window, when other shards are refused).
fn watch_cluster_state(mut conn: Conn, stop: Arc<AtomicBool>) -> JoinHandle<Duration> {
    std::thread::spawn(move || {
        let (mut longest, mut failed_since) = (Duration::ZERO, None::<Instant>);
        let started = Instant::now();
        while !stop.load(Ordering::Relaxed) && started.elapsed() < Duration::from_secs(60) {
            let down = conn
                .text(["CLUSTER", "INFO"])
                .is_ok_and(|t| t.contains("cluster_state:fail"));
            match (down, failed_since) {
                (true, None) => failed_since = Some(Instant::now()),
                (false, Some(since)) => {
                    longest = longest.max(since.elapsed());
                    failed_since = None;
                }
                _ => {}
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        failed_since.map_or(longest, |since| longest.max(since.elapsed()))
    })
}

/// `SIGSTOP` of a primary under load for 10 s: its replica is promoted after the node timeout;
/// the client's faulted slots follow it, and nothing new was written into the frozen node.
pub fn frozen_primary_under_load(adapter: &dyn Adapter) {
    let name = adapter.name();
    let cluster = start(ClusterOptions {
        node_timeout_ms: NODE_TIMEOUT_MS,
        ..Default::default()
    });
    let client = connect(adapter, &ClientSpec::for_cluster(&cluster));
    let primaries = cluster.primaries().expect("primaries");
    let victim = primaries[1].clone();
    let bystanders = bystanders_outside(&cluster, &client, victim.port);
    // Every other primary is watched: each leaves CLUSTERDOWN on its own time, and the bystanders'
    // requests go to all of them.
    let watching = Arc::new(AtomicBool::new(false));
    let watchers: Vec<_> = primaries
        .iter()
        .filter(|p| p.port != victim.port)
        .map(|p| watch_cluster_state(cluster.conn(p.port).expect("a conn"), Arc::clone(&watching)))
        .collect();
    let load = Load::start(client.clone(), load_options());
    pause(700);
    let frozen_at = Instant::now();
    let promotion = cluster.pause(victim.port).expect("SIGSTOP and promotion");
    load.wait_for_one_sweep(SWEEP_LIMIT);
    let report = load.stop();
    let others = bystanders.stop();
    watching.store(true, Ordering::Relaxed);
    let clusterdown = watchers
        .into_iter()
        .map(|w| w.join().expect("a CLUSTER INFO watcher"))
        .max()
        .unwrap_or_default();
    std::thread::sleep(FROZEN_FOR.saturating_sub(frozen_at.elapsed()));
    cluster.resume(victim.port).expect("SIGCONT and rejoin");
    let outage = report.max_gap;
    println!(
        "[{name}] SIGSTOP of {} for {FROZEN_FOR:?}: replica {} promoted after {:?}; longest gap \
         seen by callers {outage:?} (recovery after the promotion {:?}); suspicions {}; {}",
        victim.port,
        promotion.new_primary,
        promotion.promoted_after,
        outage.saturating_sub(promotion.promoted_after),
        report.client.suspicions,
        report.summary()
    );
    println!(
        "[{name}] SIGSTOP: other shards' longest gap {:?} ({} requests, {} failed); the \
         servers' own CLUSTERDOWN window (longest of the other primaries) {clusterdown:?}",
        others.max_gap,
        others.ok,
        others.failed.len()
    );
    assert!(
        others.failed.is_empty(),
        "[{name}] SIGSTOP: requests for the other shards failed: {:?}",
        &others.failed[..others.failed.len().min(5)]
    );
    assert!(
        others.max_gap <= clusterdown + AFTER_PROMOTION,
        "[{name}] SIGSTOP: the other shards waited {:?}, beyond the server's CLUSTERDOWN window \
         {clusterdown:?}",
        others.max_gap
    );
    let ambiguous = assert_only_ambiguous_incrs(name, "SIGSTOP", &report);
    assert!(
        report.client.suspicions >= 1,
        "[{name}] the frozen primary was never suspected: {:?}",
        report.client
    );
    assert!(
        outage <= promotion.promoted_after + AFTER_PROMOTION,
        "[{name}] the client took {:?} after the promotion to recover",
        outage.saturating_sub(promotion.promoted_after)
    );
    let check = verify_counters(name, &cluster, &report, &|_| false);
    println!(
        "[{name}] SIGSTOP: {ambiguous} ambiguous INCRs, {} counters checked, none lost or doubled",
        check.counters
    );

    // Awake again (a replica now): everything succeeds.
    traffic_succeeds(
        name,
        "traffic after the resume",
        &cluster,
        client,
        load_options(),
    );
}

/// Request deadline of the stalled-connection scenario.
const STALL_TIMEOUT: Duration = Duration::from_secs(2);

/// One connection's path stops forwarding (a proxy in front of a primary stalls the connections
/// open at that moment; the node itself is fine): the client suspects it and writes nothing more
/// on it; a fresh connection gets through, and what waited goes on it once the requests in flight
/// on the stuck one have ended (at their deadline: never overtaken, since the node might still run
/// them). Only those requests can fail, and they say they may have run.
pub fn stalled_connection_under_load(adapter: &dyn Adapter) {
    let name = adapter.name();
    let cluster = start(ClusterOptions {
        replicas: 0,
        ..Default::default()
    });
    let primaries = cluster.primaries().expect("primaries");
    let victim = primaries[1].clone();
    let proxy = CorruptingProxy::start(Cluster::addr(victim.port)).expect("proxy");
    announce_port(&cluster, victim.port, &victim.id, proxy.port());
    let mut spec = ClientSpec::for_cluster(&cluster);
    spec.seeds = vec![("127.0.0.1".into(), primaries[0].port)];
    let client = connect(adapter, &spec);
    let bystanders = bystanders_outside(&cluster, &client, victim.port);
    let load = Load::start(
        client,
        LoadOptions {
            timeout: STALL_TIMEOUT,
            ..load_options()
        },
    );
    pause(700);
    let through_proxy = proxy.connections();
    assert!(
        through_proxy >= 1,
        "[{name}] the client did not go through the proxy"
    );
    proxy.stall_open_connections();
    pause(300);
    // Past the deadline of what was stuck, then one more sweep of every slot.
    std::thread::sleep(STALL_TIMEOUT);
    load.wait_for_one_sweep(SWEEP_LIMIT);
    let report = load.stop();
    let others = bystanders.stop();
    println!(
        "[{name}] stalled connection: other shards' longest gap {:?} ({} requests, {} failed)",
        others.max_gap,
        others.ok,
        others.failed.len()
    );
    assert!(
        others.failed.is_empty() && others.max_gap <= RECOVERY_BOUND,
        "[{name}] stalled connection: the other shards were affected: gap {:?}, failures {:?}",
        others.max_gap,
        &others.failed[..others.failed.len().min(5)]
    );
    println!(
        "[{name}] stalled connection to {}: longest gap seen by callers {:?}; suspicions {}; \
         connections through the proxy {} before, {} after; {}",
        victim.port,
        report.max_gap,
        report.client.suspicions,
        through_proxy,
        proxy.connections(),
        report.summary()
    );
    let mut failed = 0;
    for ((op, kind), n) in &report.errors {
        assert!(
            *kind == "Timeout" || (*op == Op::Incr && *kind == "ConnectionLost(maybe_applied)"),
            "[{name}] stalled connection: only requests in flight on it may fail, as timeouts \
             (or INCRs as maybe_applied); got {n} × {op:?} {kind}; e.g. {:?}",
            report.samples
        );
        failed += n;
    }
    assert!(
        failed <= WORKERS as u64,
        "[{name}] {failed} failures: more than the {WORKERS} requests in flight at the stall"
    );
    assert!(
        report.client.suspicions >= 1,
        "[{name}] the stalled connection was never suspected: {:?}",
        report.client
    );
    assert!(
        proxy.connections() > through_proxy,
        "[{name}] no fresh connection went through the proxy"
    );
    assert!(
        report.max_gap <= STALL_TIMEOUT + RECOVERY_BOUND,
        "[{name}] callers waited {:?} for a stalled connection",
        report.max_gap
    );
    verify_counters(name, &cluster, &report, &|_| false);
}
