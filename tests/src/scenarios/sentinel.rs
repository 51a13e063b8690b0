//! A Sentinel-managed primary (three sentinels, a primary, two replicas) under INCR load, through
//! `SENTINEL FAILOVER` and through `SIGKILL` of the primary: nothing acknowledged is lost or
//! doubled, callers wait no longer than the sentinels' failover plus 300 ms, and the client
//! heard the `+switch-master`.

use std::collections::BTreeMap;
use std::time::Duration;

use slotwise_cluster::Frame;
use slotwise_test_cluster::{SentinelGroup, SentinelOptions, SentinelSwitch};

use super::{SWEEP_LIMIT, connect, must, pause};
use crate::client::{Adapter, ClientSpec};
use crate::load::{Load, LoadOptions, LoadReport, Op};
use crate::verify::{check_counters, read_counters_on};

/// How long callers may wait beyond the sentinels' own failover time.
const AFTER_SWITCH: Duration = Duration::from_millis(300);

fn load_options(namespace: &'static str) -> LoadOptions {
    LoadOptions {
        workers: 8,
        max_steps: 100_000,
        max_time: Duration::from_secs(40),
        timeout: Duration::from_secs(10),
        namespace,
    }
}

/// Reads every counter the load touched from `port` (the primary now), pipelined.
fn read_counters(group: &SentinelGroup, port: u16, report: &LoadReport) -> BTreeMap<usize, i64> {
    let mut conn = group.conn(port).expect("connect to the primary");
    let slots: Vec<usize> = report.counters.keys().copied().collect();
    let mut values = BTreeMap::new();
    read_counters_on(&mut conn, report.namespace, &slots, &mut values);
    values
}

/// One fault under load; checks what the callers saw and what Redis holds.
fn through(
    name: &str,
    what: &str,
    group: &SentinelGroup,
    client: std::sync::Arc<dyn crate::client::TestClient>,
    namespace: &'static str,
    fault: &dyn Fn() -> SentinelSwitch,
) {
    let switches_before = client.stats().expect("stats").sentinel_switches;
    let load = Load::start(client, load_options(namespace));
    pause(700);
    let switch = fault();
    load.wait_for_one_sweep(SWEEP_LIMIT);
    let report = load.stop();
    println!(
        "[{name}] Sentinel {what}: {} → {}, the sentinels switched after {:?}; longest wait of a \
         caller {:?} (bound {:?}); {}",
        switch.old_primary,
        switch.new_primary,
        switch.failover_time,
        report.max_gap,
        switch.failover_time + AFTER_SWITCH,
        report.summary()
    );
    for ((op, kind), n) in &report.errors {
        assert!(
            *op == Op::Incr && *kind == "ConnectionLost(maybe_applied)",
            "[{name}] Sentinel {what}: only INCRs in flight on a lost connection may fail, as \
             maybe_applied; got {n} × {op:?} {kind}; e.g. {:?}",
            report.samples
        );
    }
    assert_eq!(report.stale_reads, 0, "[{name}] stale reads");
    assert!(
        report.client.sentinel_switches > switches_before,
        "[{name}] the client never heard +switch-master: {:?}",
        report.client
    );
    assert!(
        report.max_gap <= switch.failover_time + AFTER_SWITCH,
        "[{name}] Sentinel {what}: callers waited {:?}, the sentinels' failover took {:?}",
        report.max_gap,
        switch.failover_time
    );
    let primary = group
        .primary_port()
        .expect("the primary after the failover");
    assert_eq!(primary, switch.new_primary);
    let values = read_counters(group, primary, &report);
    let check = check_counters(&report, &values, &|_| false);
    assert!(
        check.holds(),
        "[{name}] Sentinel {what}: counters in Redis do not match what callers were told: \
         {check:?}"
    );
    println!(
        "[{name}] Sentinel {what}: {} counters checked on {primary}: none lost or doubled",
        check.counters
    );
}

/// The scenario (see the module docs).
pub fn sentinel_failover_and_kill(adapter: &dyn Adapter) {
    let name = adapter.name();
    let group = SentinelGroup::start(&SentinelOptions::default())
        .unwrap_or_else(|e| panic!("starting the sentinels: {e}"));
    let sentinels: Vec<String> = group
        .sentinel_ports()
        .iter()
        .map(|p| format!("127.0.0.1:{p}"))
        .collect();
    let spec = ClientSpec {
        seeds: Vec::new(),
        tls: None,
        auth: None,
        request_timeout: Duration::from_secs(10),
        url: Some(format!(
            "redis+sentinel://{}/{}",
            sentinels.join(","),
            group.master_name()
        )),
    };
    let client = connect(adapter, &spec);
    must(client.as_ref(), &["SET", "sentinel-hello", "1"]);
    assert_eq!(
        must(client.as_ref(), &["GET", "sentinel-hello"]),
        Frame::BulkString("1".into())
    );
    through(
        name,
        "FAILOVER",
        &group,
        client.clone(),
        "sentinel-failover",
        &|| group.failover().expect("SENTINEL FAILOVER"),
    );
    through(
        name,
        "SIGKILL of the primary",
        &group,
        client,
        "sentinel-kill",
        &|| group.kill_primary().expect("kill -9 of the primary"),
    );
}
