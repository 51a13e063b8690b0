//! Slots moving while traffic runs: a live reshard (ASK during each migration, MOVED after) and a
//! new shard taking its even share.

use std::time::{Duration, Instant};

use slotwise_test_cluster::{ClusterOptions, ReshardStep};

use super::{SWEEP_LIMIT, assert_no_errors, connect, pause, start, verify_counters};
use crate::client::{Adapter, ClientSpec};
use crate::load::{Load, LoadOptions};

fn load_options() -> LoadOptions {
    LoadOptions {
        workers: 8,
        max_steps: 100_000,
        max_time: Duration::from_secs(60),
        ..Default::default()
    }
}

/// Moves 500 slots (with their keys) between primaries under load, one of them held mid-migration:
/// the client follows `ASK` and `MOVED` with zero caller errors.
pub fn reshard_under_load(adapter: &dyn Adapter) {
    let name = adapter.name();
    let cluster = start(ClusterOptions {
        replicas: 0,
        ..Default::default()
    });
    let client = connect(adapter, &ClientSpec::for_cluster(&cluster));
    let load = Load::start(client, load_options());
    pause(500);
    let primaries = cluster.primaries().expect("primaries");
    let started = Instant::now();
    // The first slot is held half-migrated (its keys on the target, ownership not yet handed over)
    // until the traffic has visited every slot: requests for it get `ASK`. The rest move at full
    // speed, and afterwards the client's map is stale for all of them: `MOVED`.
    let mut held = false;
    let moved = cluster
        .reshard_with(primaries[0].port, primaries[1].port, 500, &mut |step| {
            if !held && matches!(step, ReshardStep::KeysMoved { .. }) {
                held = true;
                load.wait_for_one_sweep(SWEEP_LIMIT);
            }
            Ok(())
        })
        .expect("reshard");
    let took = started.elapsed();
    // Traffic meets every moved slot afterwards too (with the map the client had before).
    load.wait_for_one_sweep(SWEEP_LIMIT);
    let report = load.stop();
    println!(
        "[{name}] reshard of {} slots in {took:?}: {}",
        moved.len(),
        report.summary()
    );
    assert_no_errors(name, "live reshard", &report);
    assert!(
        report.client.ask > 0 && report.client.moved > 0,
        "[{name}] a reshard of {} slots, one held mid-migration, without both ASK and MOVED: {:?}",
        moved.len(),
        report.client
    );
    assert_eq!(
        report.stale_reads, 0,
        "[{name}] stale reads during a reshard"
    );
    verify_counters(name, &cluster, &report, &|_| false);
}

/// Adds a shard and moves an even share of slots onto it under load: zero caller errors.
pub fn add_node_under_load(adapter: &dyn Adapter) {
    let name = adapter.name();
    let cluster = start(ClusterOptions {
        replicas: 0,
        ..Default::default()
    });
    let client = connect(adapter, &ClientSpec::for_cluster(&cluster));
    let load = Load::start(client, load_options());
    pause(500);
    let started = Instant::now();
    let added = cluster.add_node().expect("add-node");
    let took = started.elapsed();
    load.wait_for_one_sweep(SWEEP_LIMIT);
    let report = load.stop();
    println!(
        "[{name}] add-node ({} slots onto {} in {took:?}): {}",
        added.slots_moved,
        added.primary,
        report.summary()
    );
    assert_no_errors(name, "add-node and rebalance", &report);
    assert!(
        report.client.moved + report.client.ask > 0,
        "[{name}] no redirect while {} slots moved to a new node: {:?}",
        added.slots_moved,
        report.client
    );
    assert_eq!(
        report.stale_reads, 0,
        "[{name}] stale reads during rebalancing"
    );
    verify_counters(name, &cluster, &report, &|_| false);
}
