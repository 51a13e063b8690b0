//! # slotwise-topology
//!
//! What a Redis Cluster says about itself, turned into a slot map and a diff. `no_std` + `alloc`; no IO,
//! no clock, no randomness; no input makes it panic.
//!
//! ## Contents
//! - Parsers, each giving a [`Topology`]:
//!   [`Topology::from_cluster_shards`] (`CLUSTER SHARDS`, RESP2 and RESP3),
//!   [`Topology::from_cluster_slots`] (`CLUSTER SLOTS`, with Redis 7's networking metadata),
//!   [`Topology::from_cluster_nodes`] (`CLUSTER NODES` text, parsed with `nom`; the lines themselves
//!   via [`parse_cluster_nodes`]). An [`Origin`] says where the reply came from, which resolves NULL
//!   and empty endpoints ("the node you asked") and picks plaintext or TLS ports.
//! - [`Topology`]: [`Shard`]s (a primary [`Node`] and its replicas), a 16384-entry slot map to shard,
//!   uncovered slots, [`Migration`]s in progress, and every [`Problem`] found (slots claimed twice,
//!   overlapping ranges, replicas without a primary, duplicate nodes, unknown endpoints …): reported,
//!   never hidden. [`TopologyBuilder`] builds one in code.
//! - [`select_view`]: which of several nodes' answers to believe (membership, then agreement, then
//!   config epoch, then coverage).
//! - [`diff`]: nodes added and removed, failovers, slot moves, replica changes, and the
//!   [`ConnectionPlan`] (connect, keep, close) that follows — a [`TopologyDiff`].
//! - [`ParseError`]: a reply that cannot be read at all, with where and what was expected.
//!
//! Slots are plain `u16` numbers below [`SLOT_COUNT`] (the slot crate's `Slot` type will replace them).
//!
//! ## Example
//!
//! ```
//! use slotwise_topology::{diff, Origin, Topology};
//!
//! let before = "\
//! a0000000000000000000000000000000000000aa 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-8191
//! b0000000000000000000000000000000000000bb 127.0.0.1:7001@17001 master - 0 0 2 connected 8192-16383
//! ";
//! let after = "\
//! a0000000000000000000000000000000000000aa 127.0.0.1:7000@17000 myself,master - 0 0 3 connected 0-9000
//! b0000000000000000000000000000000000000bb 127.0.0.1:7001@17001 master - 0 0 2 connected 9001-16383
//! ";
//! let old = Topology::from_cluster_nodes(before.as_bytes(), &Origin::unknown())?;
//! let new = Topology::from_cluster_nodes(after.as_bytes(), &Origin::unknown())?;
//! assert!(old.is_fully_covered() && old.problems().is_empty());
//! let changes = diff(&old, &new);
//! assert_eq!(changes.slots_moved.len(), 1);
//! assert_eq!(changes.slots_moved[0].slots.to_string(), "8192-9000");
//! assert!(changes.connections.connect.is_empty());
//! # Ok::<(), slotwise_topology::ParseError>(())
//! ```
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
#[cfg(any(test, feature = "std"))]
extern crate std;

mod announced;
mod build;
mod diff;
mod error;
mod node;
mod nodes;
mod problem;
mod reply;
mod select;
mod shards;
mod slot_range;
mod slots;
mod topology;

pub use build::TopologyBuilder;
pub use diff::{
    ConnectionPlan, EndpointChange, NodeRef, PrimaryChange, ReplicaChange, SlotMove, TopologyDiff,
    diff,
};
pub use error::{Format, ParseError};
pub use node::{Endpoint, Health, Node, NodeId, Origin, Role};
pub use nodes::{LinkState, NodeFlags, NodeLine, SlotEntry, parse_cluster_nodes};
pub use problem::Problem;
pub use select::{Rejection, Selection, select_view};
pub use slot_range::{SLOT_COUNT, SlotRange};
pub use topology::{Migration, MigrationDirection, Shard, Topology};
