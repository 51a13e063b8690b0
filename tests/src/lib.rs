//! # slotwise-e2e
//!
//! End-to-end tests: each adapter (tokio, async-std, smol, blocking) against real Redis Clusters
//! (`slotwise-test-cluster` starts `redis-server` processes on loopback), under faults.
//!
//! - [`client`]: the one interface every adapter is driven through — [`client::TestClient`], a
//!   client with a blocking `call` that many threads may use at once — and [`client::Adapter`],
//!   which connects one.
//! - [`adapters`]: that interface for each adapter (async ones run requests with their runtime's
//!   `block_on` from the calling thread).
//! - [`load`]: bounded traffic (`SET` idempotent, `GET`, `INCR` not idempotent over keys in every
//!   slot) that records every outcome; [`verify`]: counters read back from Redis and checked against
//!   what callers were told; [`bystanders`]: traffic of its own for the shards a fault does not
//!   touch.
//! - [`proxy`]: a proxy in front of one node that sends garbage when armed; [`sni`]: a rustls
//!   configuration that records the name each node's certificate is verified against.
//! - [`scenarios`]: what every adapter must survive. [`scenario_tests!`] turns them into `#[test]`s
//!   (one file per adapter in `tests/tests/`).
//!
//! Each scenario starts its own cluster, so tests run in parallel; every loop is bounded in count
//! and time.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod adapters;
pub mod bystanders;
pub mod client;
pub mod keys;
pub mod load;
pub mod proxy;
pub mod scenarios;
pub mod sni;
pub mod verify;

/// Declares one `#[test]` per scenario for an adapter expression (`impl Adapter`).
#[macro_export]
macro_rules! scenario_tests {
    ($adapter:expr) => {
        $crate::scenario_tests!(@tests $adapter;
            basic_commands_in_every_slot => basic_commands,
            single_seed_hostname_localhost => hostname_seed,
            many_concurrent_callers => many_callers,
            graceful_failover_under_load => failover_under_load,
            sigkill_of_a_primary_under_load => kill_under_load,
            sigstop_of_a_primary_under_load => frozen_primary_under_load,
            a_connection_that_stops_forwarding => stalled_connection_under_load,
            live_reshard_under_load => reshard_under_load,
            add_node_and_rebalance_under_load => add_node_under_load,
            tls_acl_hostnames_and_wrong_password => tls_acl_hostnames,
            garbage_on_one_connection => garbage_on_one_connection,
            connection_state_blocking_and_transactions => connection_state,
            multi_node_commands_pipelines_and_scan => multi_node,
            pubsub_through_failover_kill_and_restart => pubsub_faults,
            pubsub_shard_channels_keyspace_and_migration => pubsub_shards_and_keyspace,
            sentinel_failover_and_kill_under_load => sentinel_failover_and_kill,
        );
    };
    (@tests $adapter:expr; $($test:ident => $scenario:ident,)*) => {
        $(
            #[test]
            fn $test() {
                $crate::scenarios::$scenario(&$adapter);
            }
        )*
    };
}
