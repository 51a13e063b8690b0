//! Failover and `SIGKILL` of a primary while traffic runs.

use std::time::Duration;

use slotwise_test_cluster::ClusterOptions;

use super::{
    SWEEP_LIMIT, assert_no_errors, connect, pause, start, traffic_succeeds, verify_counters,
};
use crate::client::{Adapter, ClientSpec};
use crate::keys::SLOTS;
use crate::load::{Load, LoadOptions, Op};

/// Node timeout of the fault clusters.
const NODE_TIMEOUT_MS: u64 = 2000;
/// What the outage after a `SIGKILL` may exceed the node timeout by: failure agreement, the
/// replica's election delay (500 ms + up to 500 ms random; more on a loaded machine), the client's
/// refresh and backoff.
const OUTAGE_MARGIN: Duration = Duration::from_secs(4);
/// How long after the replica's promotion the client may take to use it (refresh + backoff).
const CLIENT_RECOVERY: Duration = Duration::from_secs(2);

fn load_options() -> LoadOptions {
    LoadOptions {
        workers: 8,
        max_steps: 100_000,
        max_time: Duration::from_secs(40),
        ..Default::default()
    }
}

/// `CLUSTER FAILOVER` of a primary under load: no caller sees an error, no write is lost.
pub fn failover_under_load(adapter: &dyn Adapter) {
    let name = adapter.name();
    let cluster = start(ClusterOptions {
        node_timeout_ms: NODE_TIMEOUT_MS,
        ..Default::default()
    });
    let client = connect(adapter, &ClientSpec::for_cluster(&cluster));
    let load = Load::start(client, load_options());
    pause(700);
    let primary = cluster.primaries().expect("primaries")[0].port;
    let promotion = cluster.failover(primary).expect("failover");
    // Traffic meets every slot of the demoted primary afterwards.
    load.wait_for_one_sweep(SWEEP_LIMIT);
    let report = load.stop();
    println!(
        "[{name}] failover ({} → {} in {:?}): {}",
        promotion.old_primary,
        promotion.new_primary,
        promotion.promoted_after,
        report.summary()
    );
    assert!(
        report.ops > 100,
        "[{name}] too little traffic: {}",
        report.ops
    );
    assert_no_errors(name, "graceful failover", &report);
    assert_eq!(
        report.stale_reads, 0,
        "[{name}] stale reads after a graceful failover"
    );
    // The failover really met the traffic: the demoted primary answered MOVED (or READONLY,
    // retried) — zero errors above is not zero work.
    assert!(
        report.client.moved + report.client.retries > 0,
        "[{name}] the client never saw the failover: {:?}",
        report.client
    );
    verify_counters(name, &cluster, &report, &|_| false);
}

/// `SIGKILL` of a primary under load: reads and idempotent writes are retried (no error), `INCR`s
/// in flight end as `maybe_applied` at worst, the outage is bounded by the node timeout plus a
/// margin, and afterwards all traffic succeeds.
pub fn kill_under_load(adapter: &dyn Adapter) {
    let name = adapter.name();
    let cluster = start(ClusterOptions {
        node_timeout_ms: NODE_TIMEOUT_MS,
        ..Default::default()
    });
    let client = connect(adapter, &ClientSpec::for_cluster(&cluster));
    let load = Load::start(client.clone(), load_options());
    pause(700);
    let victim = cluster.primaries().expect("primaries")[1].clone();
    let mut on_victim = vec![false; SLOTS];
    for r in &victim.slots {
        for s in r.clone() {
            on_victim[usize::from(s)] = true;
        }
    }
    let promotion = cluster.kill(victim.port).expect("kill");
    // Traffic meets every slot of the killed primary after its replica took over.
    load.wait_for_one_sweep(SWEEP_LIMIT);
    let report = load.stop();
    let outage = report.max_gap;
    println!(
        "[{name}] SIGKILL of {}: replica {} promoted after {:?}; outage seen by callers {:?} \
         (node timeout {NODE_TIMEOUT_MS} ms; bound {:?}; client recovery after promotion {:?}); {}",
        victim.port,
        promotion.new_primary,
        promotion.promoted_after,
        outage,
        Duration::from_millis(NODE_TIMEOUT_MS) + OUTAGE_MARGIN,
        outage.saturating_sub(promotion.promoted_after),
        report.summary()
    );
    for ((op, kind), n) in &report.errors {
        assert!(
            *op == Op::Incr && *kind == "ConnectionLost(maybe_applied)",
            "[{name}] after SIGKILL only INCRs in flight may fail, and only as maybe_applied; \
             got {n} × {op:?} {kind}; e.g. {:?}",
            report.samples
        );
    }
    assert!(
        outage <= Duration::from_millis(NODE_TIMEOUT_MS) + OUTAGE_MARGIN,
        "[{name}] outage {outage:?} exceeds node timeout + margin"
    );
    assert!(
        outage <= promotion.promoted_after + CLIENT_RECOVERY,
        "[{name}] the client took {:?} after the promotion to recover",
        outage.saturating_sub(promotion.promoted_after)
    );
    assert!(
        report.client.connection_failures > 0,
        "[{name}] the client never lost its connection to the killed primary: {:?}",
        report.client
    );
    let check = verify_counters(name, &cluster, &report, &|slot| on_victim[slot]);
    println!(
        "[{name}] SIGKILL: {} acknowledged INCRs lost with the killed primary (allowed), none elsewhere",
        check.lost_allowed
    );

    // Afterwards, everything succeeds.
    traffic_succeeds(
        name,
        "traffic after the kill",
        &cluster,
        client,
        load_options(),
    );
}
