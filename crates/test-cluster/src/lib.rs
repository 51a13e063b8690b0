//! # slotwise-test-cluster
//!
//! Real `redis-server` processes for tests and for `cargo xtask cluster`: started on free loopback
//! ports, in their own directory under `target/`, and killed (by PID, only the ones started here)
//! when dropped — also when a test panics.
//!
//! - [`Cluster`]: a whole Redis Cluster (primaries, replicas, optionally TLS, ACL and announced
//!   hostnames) with faults to inject while traffic runs: [`Cluster::failover`], [`Cluster::kill`],
//!   [`Cluster::restart`], [`Cluster::reshard`], [`Cluster::add_node`], [`Cluster::remove_node`].
//!   [`Cluster::detach`] and [`Cluster::attach`] let it outlive the process that started it (that
//!   is how `cargo xtask cluster` works).
//! - [`SentinelGroup`]: a primary, its replicas and the Redis Sentinels monitoring it (optionally
//!   with a password and TLS), with [`SentinelGroup::failover`] (`SENTINEL FAILOVER`),
//!   [`SentinelGroup::kill_primary`] and [`SentinelGroup::restart`], each timed by a
//!   `+switch-master` subscriber ([`SentinelSwitch`]).
//! - [`Server`]: one `redis-server` process (optionally cluster-enabled, with no slots).
//! - [`Conn`]: a minimal blocking RESP connection (plain or TLS, optionally authenticated) for
//!   driving a server in tests and tools.
//! - [`TlsFiles`]: certificates generated for a TLS cluster (CA, server, client).
//! - [`model`]: a model of a cluster's observable protocol, with no processes, for deterministic
//!   tests (the core's simulation, the adapter glue's in-memory runtime).
//! - [`pubsub`]: the pub/sub fault schedule every subscriber test runs (a 10/s publisher, a
//!   failover, kill -9 and restart of the subscriber's node over 36 s), so losses compare across
//!   clients.
//! - [`redis_server_binary`]: finds `redis-server`, installing it with `apt-get` on Debian as root.
//!
//! ## How cluster nodes are set up
//!
//! Each node binds `127.0.0.1` only, keeps no data on disk (`save ""`, no AOF), writes its log,
//! `nodes.conf` and PID file in `node-PORT/`, and runs with `cluster-replica-validity-factor 0` (a
//! replica may always take over, however recently it heard from its primary),
//! `cluster-allow-replica-migration no` (replicas stay where they were put, so faults are
//! predictable) and `repl-diskless-sync-delay 0` (replicas sync at once). Slots are split evenly
//! and each node gets a distinct config epoch before `CLUSTER MEET`, as `redis-cli --cluster create`
//! does. A cluster counts as stable when every running node says `cluster_state:ok`, all views agree
//! on the slot map and the roles, no running node is flagged failing, every down node is flagged
//! `fail`, and every replica reports `master_link_status:up` with no sync in progress.
//!
//! With TLS, nodes listen only on their TLS port (`--port 0`); [`Conn`] speaks TLS itself (rustls
//! with the ring provider), trusting the cluster's CA and presenting its client certificate. With an
//! ACL user, every connection this crate makes authenticates as that user, and `MIGRATE` uses
//! `AUTH2`.
//!
//! Processes are only ever killed by the PID this crate recorded, after checking it still is a
//! `redis-server`. A test process that dies without dropping its clusters leaves them running; the
//! next cluster started under the same `target/` kills those orphans (matching PID file and working
//! directory).
//!
//! ```no_run
//! use slotwise_test_cluster::{Cluster, ClusterOptions};
//!
//! let cluster = Cluster::start(&ClusterOptions::default())?; // 3 primaries, 1 replica each
//! let primary = cluster.primaries()?[0].port;
//! let promotion = cluster.kill(primary)?;
//! println!("replica {} promoted after {:?}", promotion.new_primary, promotion.promoted_after);
//! cluster.restart(primary)?; // back as a replica
//! # Ok::<(), slotwise_test_cluster::Error>(())
//! ```

#![forbid(unsafe_code)]

mod cluster;
mod conn;
pub mod model;
mod process;
pub mod pubsub;
mod reap;
mod sentinel;
mod server;
mod slot_tags;
mod tls;

pub use cluster::{
    AddedShard, Cluster, ClusterOptions, ClusterState, NodeInfo, NodeState, Promotion, ReshardHook,
    ReshardStep, Role,
};
pub use conn::{Conn, ConnOptions};
pub use sentinel::{SentinelGroup, SentinelOptions, SentinelSwitch};
pub use server::{Server, ServerOptions, free_port, redis_server_binary};
pub use slot_tags::{SLOTS, slot_tags};
pub use tls::TlsFiles;

/// Errors from starting or talking to test servers: a message that says what to do.
pub type Error = Box<dyn std::error::Error + Send + Sync>;
