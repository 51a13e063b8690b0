//! The scenarios every adapter runs. Each starts its own cluster (dropped, and so stopped, at the
//! end, also on panic), prints what it measured, and panics when a promise is broken.

mod basic;
mod faults;
mod frozen;
mod garbage;
mod multi_node;
mod pubsub;
mod scaling;
mod security;
mod sentinel;
mod state;

pub use basic::{basic_commands, hostname_seed, many_callers};
pub use faults::{failover_under_load, kill_under_load};
pub use frozen::{frozen_primary_under_load, stalled_connection_under_load};
pub use garbage::garbage_on_one_connection;
pub use multi_node::multi_node;
pub use pubsub::{pubsub_faults, pubsub_shards_and_keyspace};
pub use scaling::{add_node_under_load, reshard_under_load};
pub use security::tls_acl_hostnames;
pub use sentinel::sentinel_failover_and_kill;
pub use state::connection_state;

use std::sync::Arc;
use std::time::Duration;

use slotwise_cluster::{Frame, Request};
use slotwise_test_cluster::{Cluster, ClusterOptions};

use crate::client::{Adapter, CallError, ClientSpec, TestClient};
use crate::load::LoadReport;
use crate::verify::{CounterCheck, check_counters, read_counters};

/// Starts a cluster, or panics saying why.
pub(crate) fn start(options: ClusterOptions) -> Cluster {
    Cluster::start(&options).unwrap_or_else(|e| panic!("starting a test cluster: {e}"))
}

/// Connects a client, or panics saying why.
pub(crate) fn connect(adapter: &dyn Adapter, spec: &ClientSpec) -> Arc<dyn TestClient> {
    Arc::from(
        adapter
            .connect(spec)
            .unwrap_or_else(|e| panic!("[{}] connect: {e}", adapter.name())),
    )
}

/// Runs a command, or panics.
pub(crate) fn must(client: &dyn TestClient, args: &[&str]) -> Frame {
    client
        .call(Request::new(args.iter().copied()))
        .unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

/// The longest to wait for a load to visit every slot once more after a fault (each scenario
/// then checks the client really met the fault: redirects, retries or a lost connection).
pub(crate) const SWEEP_LIMIT: Duration = Duration::from_secs(20);

/// A short wait for faults to meet traffic.
pub(crate) fn pause(ms: u64) {
    std::thread::sleep(Duration::from_millis(ms));
}

/// Reads the counters back and checks them; panics with the problems when they do not hold.
pub(crate) fn verify_counters(
    name: &str,
    cluster: &Cluster,
    report: &LoadReport,
    loss_allowed: &dyn Fn(usize) -> bool,
) -> CounterCheck {
    let values = read_counters(cluster, report);
    let check = check_counters(report, &values, loss_allowed);
    assert!(
        check.holds(),
        "[{name}] counters in Redis do not match what callers were told: {check:?}"
    );
    check
}

/// Runs a short load (150 steps per worker of `options`, in a namespace of its own) to its end:
/// no caller may see an error, and every counter must check out.
pub(crate) fn traffic_succeeds(
    name: &str,
    what: &str,
    cluster: &Cluster,
    client: Arc<dyn TestClient>,
    options: crate::load::LoadOptions,
) {
    let after = crate::load::Load::start(
        client,
        crate::load::LoadOptions {
            max_steps: 150,
            namespace: "after",
            ..options
        },
    );
    while !after.finished() {
        pause(20);
    }
    let report = after.stop();
    assert_no_errors(name, what, &report);
    verify_counters(name, cluster, &report, &|_| false);
}

/// Panics when `report` has any caller-visible error.
pub(crate) fn assert_no_errors(name: &str, what: &str, report: &LoadReport) {
    assert_eq!(
        report.error_count(),
        0,
        "[{name}] {what}: callers saw errors: {:?}; e.g. {:?}",
        report.errors,
        report.samples
    );
}

/// True when `e` is the core's error for a malformed reply.
pub(crate) fn is_protocol(e: &CallError) -> bool {
    e.kind() == "Protocol"
}
