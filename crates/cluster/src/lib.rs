//! # slotwise-cluster
//!
//! The sans-IO Redis Cluster state machine: commands, bytes, connection events and time go in;
//! connects, transmits, closes, replies and events come out. No sockets, clocks, threads, sleeps
//! or OS randomness: `no_std` + `alloc`, so the same core runs under tokio, async-std, plain threads,
//! a simulator or a fuzzer.
//!
//! ## Contents
//! - [`writing_an_adapter`]: the guide for driving the core yourself (the drain order, calls inside
//!   the drain, partial writes, the TLS name, time, back-pressure), with a runnable std example.
//! - [`Cluster`]: the state machine — [`Cluster::new`], [`Cluster::submit`],
//!   [`Cluster::handle_input`], [`Cluster::poll_output`]. Its documentation is the drain contract.
//! - [`Config`] (with [`Credentials`], [`CredentialsProvider`], [`Protocol`], [`Tls`],
//!   [`RefreshPolicy`], [`RefreshTriggers`], [`Backoff`], [`ReadFrom`]).
//! - [`Request`]: a command, encoded once; `idempotent` / `not_idempotent` and a deadline
//!   override.
//! - Sessions ([`Cluster::open_session`], [`Cluster::submit_in`], [`Cluster::close_session`],
//!   [`SessionId`]): a connection held for a transaction; [`Cluster::cancel`] for blocking commands.
//! - Pub/sub ([`Cluster::open_subscriber`], [`Cluster::subscribe`], [`Cluster::unsubscribe`],
//!   [`SubscriptionKind`]): subscriptions on subscriber connections of their own, kept alive
//!   through failover and slot moves; [`PubSubEvent`]s out as [`Output::PubSub`].
//! - [`Input`] / [`Output`] with [`ConnId`], [`RequestId`]; [`Instant`] (the core's time).
//! - [`RequestError`]: why a request ended without a Redis reply; [`Event`]: what happened inside;
//!   [`Stats`]: counters of it all ([`Cluster::stats`]).
//!
//! ## The drain loop
//!
//! ```
//! use slotwise_cluster::{Cluster, Config, Endpoint, Input, Instant, Output, Request};
//!
//! let mut cluster = Cluster::new(Config::new([Endpoint::new("127.0.0.1", 7000)]), Instant::ZERO);
//! let id = cluster.submit(Instant::ZERO, Request::new(["GET", "user:1"]));
//! let mut now = Instant::ZERO;
//! // An adapter loops: drain, perform, wait, feed. Here, the seed refuses to connect and time runs.
//! for _ in 0..1000 {
//!     let mut wake = None;
//!     loop {
//!         match cluster.poll_output() {
//!             Output::Connect { conn, .. } => cluster.handle_input(Input::ConnectFailed { conn, now }),
//!             Output::Transmit { .. } | Output::Close { .. } | Output::Event(_) => {}
//!             Output::Reply { id: got, result } => {
//!                 assert_eq!(got, id);
//!                 assert!(result.is_err()); // ClusterDown: no topology before the deadline
//!                 return;
//!             }
//!             Output::Timeout(at) => { wake = Some(at); break; }
//!             Output::Idle => break,
//!             _ => {}
//!         }
//!     }
//!     now = wake.expect("a deadline is pending");
//!     cluster.handle_input(Input::Timeout { now });
//! }
//! unreachable!("the request's deadline ends it");
//! ```
//!
//! ## The life of a request
//!
//! `submit` classifies the command with the command table: its slot, whether it only reads, and how
//! long it may block. Its deadline is `now + timeout` (+ block time for `BLPOP`, `XREAD … BLOCK`,
//! `WAIT` …; none for a zero block time without an explicit timeout). The request goes to the node
//! serving its slot (a replica for reads with [`ReadFrom::PreferReplica`]), or any primary for a
//! keyless command. It waits in that node's bounded queue until the connection has finished its
//! handshake, then is written there; replies on a connection match requests in FIFO order (RESP3
//! push frames are out-of-band and skipped; a pub/sub push closes the connection, since nothing of
//! ours subscribed on it).
//!
//! Blocking commands take a connection of the node's dedicated pool instead (bounded by
//! [`Config::dedicated_pool`]), so they never delay the shared connection; commands that change a
//! connection's state (`MULTI`, `WATCH`, `SUBSCRIBE`, `SELECT`, `CLIENT REPLY` …) are refused with
//! [`RequestError::ConnectionState`], and transactions run in sessions.
//!
//! - `MOVED slot ep`: the slot is patched in the map at once, the request resent there, a refresh
//!   scheduled. The patch records when it was made; a refresh that started earlier cannot undo it.
//! - `ASK slot ep`: `ASKING` and the request are written together on the target; the map is unchanged.
//! - `TRYAGAIN`, `LOADING`: retried after a jittered backoff. `CLUSTERDOWN`, `MASTERDOWN`, `READONLY`
//!   (a demoted primary), `MOVED` to the node itself: backoff and a refresh.
//! - At most [`Config::max_redirects`] redirects, and never past the deadline.
//!
//! ## Failure semantics
//!
//! - **Exactly one outcome** per submitted request: a [`Output::Reply`] with Redis's reply (which may
//!   be an error reply like `-WRONGTYPE`) or a [`RequestError`].
//! - **No silent duplicates.** A request written to a connection that dies before its reply is
//!   ambiguous. It is retried when it is read-only (command-table flag) or a write that leaves the
//!   same data when run twice: `SET` (without `NX`, `XX`, `GET`, `IFEQ` …; a relative `EX`/`PX`
//!   restarts), `SETEX`, `PSETEX`, `MSET`, `SETRANGE`, `DEL`, `UNLINK`, `EXPIRE`, `PEXPIRE`,
//!   `EXPIREAT`, `PEXPIREAT` (without `NX`/`XX`/`GT`/`LT`), `PERSIST`, `HSET`, `HMSET`, `HDEL`,
//!   `SADD`, `SREM`, `ZADD` (without `INCR`), `ZREM`, `ZREMRANGEBYSCORE`, `ZREMRANGEBYLEX`, `LSET`,
//!   `LREM key 0 …`, `LTRIM` keeping a prefix or suffix, `GEOADD`, `PFADD`, `XDEL`, `XACK` (a
//!   retried `DEL` may report 0 keys removed). [`Request::idempotent`] and
//!   [`Request::not_idempotent`] override that for a write. Other writes — `INCR*`, `DECR*`,
//!   `APPEND`, `LPUSH`/`RPUSH`, pops, `SET … NX`, `SETNX`, `GETDEL`, `GETEX`, `RENAME`, `XADD`,
//!   `EVAL`/`EVALSHA`/`FCALL`, anything unknown — end with [`RequestError::ConnectionLost`]
//!   `{ maybe_applied: true }` (or [`RequestError::Protocol`] when the connection was closed for a
//!   malformed reply). A request never handed to the adapter in a [`Output::Transmit`] is always
//!   retried. Sessions retry nothing.
//! - **Deadlines.** A request past its deadline ends with [`RequestError::Timeout`] (or
//!   [`RequestError::ClusterDown`] if the cluster said so, or no node served its slot: its
//!   [`DownCause`] says which, with the node's own line). If it was in
//!   flight, its late reply is dropped and `Timeout { written: true }` says it may have run
//!   ([`RequestError::maybe_applied`]); if nothing at all came back on that connection since it was
//!   written and it has been silent at least [`Config::suspect_after`] (300 ms without
//!   suspicion), or a reply is still arriving on it (trickled, or cut short), the connection is
//!   considered stalled and closed.
//! - **A node that stops answering** without closing (a paused VM, a long fork, `SIGSTOP`, a
//!   half-open path) is *suspect* once its shared connection has had requests in flight and heard
//!   nothing for [`Config::suspect_after`] (300 ms): nothing new is written on that connection
//!   (new requests wait in the node's queue, still safely retryable), a fresh connection probes
//!   the node, and refreshes ask the other nodes until its slots move. If they move (failover),
//!   the queue follows at once and the silent connection is closed: reads and idempotent writes
//!   on it are sent again, other writes end `ConnectionLost { maybe_applied: true }` — only those
//!   written before the suspicion. If the node answers on the silent connection, it is trusted
//!   again and the queue flows there ([`Event::NodeSuspect`], [`Event::NodeTrusted`]). Queued
//!   requests never overtake what is in flight on the silent connection (the node may be only
//!   paused): if its path is stuck, the queue goes on the probe once those requests have passed
//!   their deadline.
//! - **Sentinel** ([`Config::sentinel`], [`SentinelConfig`]): the primary comes from the
//!   sentinels (`SENTINEL GET-MASTER-ADDR-BY-NAME`, `SENTINEL REPLICAS`), checked with `ROLE`;
//!   every sentinel is watched for `+switch-master` ([`Event::SentinelSwitch`]); from
//!   `+try-failover` ([`Event::SentinelFailover`]) writes wait for the new primary (the old one
//!   would acknowledge writes its demotion discards), and one whose deadline comes first ends
//!   [`RequestError::ClusterDown`] with [`DownCause::FailingOver`].
//! - **Isolation.** Each node has its own queue and connection: a failing node delays only requests
//!   for its slots.
//! - **Bounded memory.** [`Config::queue_bound`] requests per node (queued + in flight), decoder
//!   [`Limits`](slotwise_resp::Limits); an argument longer than [`Config::max_arg_len`] (the
//!   server's `proto-max-bulk-len`) ends with [`RequestError::TooLarge`] before it is sent.
//! - **Bad peers.** A malformed reply, or a reply with no request waiting for it, closes that
//!   connection like any connection loss. No input sequence makes the core panic.
//! - **Multi-node commands** run as request plans, one outcome for the whole: commands the
//!   server's tips send to every shard or node (`DBSIZE`, `KEYS`, `FLUSHALL`, `SCRIPT LOAD`,
//!   `INFO` …) fan out and join by the tips' response policy; `MGET`, `MSET`, `DEL`, `UNLINK`,
//!   `EXISTS` and `TOUCH` over several slots are split by slot ([`Config::split_multi_key`]) and
//!   joined in key order. If any part ends without a reply the request ends with
//!   [`RequestError::Partial`], naming the nodes — never a partial answer; a split write whose
//!   other parts ran says `maybe_applied`. `PING` is answered by one primary. Other commands with
//!   keys in several slots (`MSETNX`, `RENAME`, `SUNIONSTORE` …) end with
//!   [`RequestError::CrossSlot`].
//! - **Cluster `SCAN`.** `SCAN cursor …` walks every shard with a cursor of the core's own (checked:
//!   [`RequestError::InvalidCursor`]); every key present for the whole walk is returned at least
//!   once, through failovers and resharding.
//! - **A node of the caller's choice**: [`Cluster::submit_to`] with a [`Target`]; the current
//!   shards, primaries and replicas: [`Cluster::topology`].
//! - **Pub/sub** losses are never silent: every window in which messages may have been missed is
//!   a [`PubSubEvent::Interrupted`] … [`PubSubEvent::Resubscribed`] pair.
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

extern crate alloc;
#[cfg(any(feature = "std", test))]
extern crate std;

mod cluster;
mod config;
mod conn;
mod entry;
mod error;
mod event;
mod handshake;
mod idempotent;
mod io;
mod lifecycle;
mod node;
mod outcome;
mod plan;
mod pool;
mod pubsub;
mod read_from;
mod redirect;
mod refresh;
mod remap;
mod request;
mod rng;
mod routing;
mod scan;
mod sentinel;
mod session;
mod slab;
mod slot_map;
mod standalone;
mod stateful;
mod stats;
mod suspicion;
mod target;
mod time;
mod timers;

#[doc = include_str!("../../../docs/WRITING_AN_ADAPTER.md")]
pub mod writing_an_adapter {}

pub use cluster::Cluster;
pub use config::{
    Auth, Backoff, Config, Credentials, CredentialsProvider, Protocol, ReadFrom, RefreshPolicy,
    RefreshTriggers, Tls,
};
pub use error::{DownCause, PartFailure, RequestError};
pub use event::{Event, RedirectKind, RefreshReason};
pub use io::{ConnId, Input, Output, RequestId};
pub use pubsub::{Message, MessageKind, PubSubEvent, SubscriberId, SubscriptionKind};
pub use read_from::ZoneOf;
pub use remap::{AddressRemap, Dial, Remap};
pub use request::Request;
pub use sentinel::SentinelConfig;
pub use session::SessionId;
pub use standalone::Deployment;
pub use stats::Stats;
pub use target::Target;
pub use time::Instant;

/// Re-exported: the frames replies come in, and the endpoints and diffs events speak of.
pub use slotwise_resp::Frame;
pub use slotwise_topology::{Endpoint, Topology, TopologyDiff};
