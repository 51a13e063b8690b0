//! Inconsistencies found while building a topology: reported, never hidden.

use core::fmt;

use crate::{NodeId, SlotRange};

/// Something in a reply that does not add up. The topology is still built (with the rule each variant
/// names), and the problem is kept in [`Topology::problems`](crate::Topology::problems).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Problem {
    /// Two shards claim the same slots. The first claim (in CLUSTER NODES, the one with the higher
    /// config epoch) keeps them.
    SlotClaimedTwice {
        /// The slots claimed twice.
        slots: SlotRange,
        /// The primary whose claim was kept.
        kept: NodeId,
        /// The primary whose claim was dropped.
        dropped: NodeId,
    },
    /// A shard lists the same slots more than once (overlapping ranges).
    OverlappingRanges {
        /// The shard's primary.
        primary: NodeId,
        /// The slots listed again.
        slots: SlotRange,
    },
    /// A replica whose primary is not in the reply (or which names none). It is kept in
    /// [`Topology::orphan_replicas`](crate::Topology::orphan_replicas), outside every shard.
    ReplicaWithoutPrimary {
        /// The replica.
        replica: NodeId,
        /// The primary it names, if any.
        primary: Option<NodeId>,
    },
    /// A shard with no primary, or with more than one (CLUSTER SHARDS). With several, the first
    /// healthy one is taken as the primary and the others are kept as replicas.
    PrimaryCount {
        /// The primary chosen, or the shard's first node when it has no primary at all.
        primary: NodeId,
        /// How many nodes said they were the primary.
        count: usize,
    },
    /// The same node id appears twice; the second appearance is dropped.
    DuplicateNode {
        /// The node.
        node: NodeId,
    },
    /// A node has no usable endpoint (`?`, or empty/NULL with no known origin).
    UnknownEndpoint {
        /// The node.
        node: NodeId,
    },
    /// A primary appears with different replica lists across CLUSTER SLOTS ranges; the union is kept.
    ReplicasDiffer {
        /// The primary.
        primary: NodeId,
    },
    /// More shards than the slot map can index (65535); the extra ones are dropped.
    TooManyShards {
        /// How many shards were dropped.
        dropped: usize,
    },
    /// A migrating/importing marker names a node that is not in the reply.
    MigrationPeerUnknown {
        /// The slot being migrated.
        slot: u16,
        /// The node that is not in the reply.
        peer: NodeId,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::SlotClaimedTwice {
                slots,
                kept,
                dropped,
            } => write!(
                f,
                "slots {slots} are claimed by the shards of {kept} and {dropped}; kept {kept}"
            ),
            Problem::OverlappingRanges { primary, slots } => {
                write!(
                    f,
                    "the shard of {primary} lists slots {slots} more than once"
                )
            }
            Problem::ReplicaWithoutPrimary { replica, primary } => match primary {
                Some(p) => write!(
                    f,
                    "replica {replica} follows {p}, which is not a known primary"
                ),
                None => write!(f, "replica {replica} names no primary"),
            },
            Problem::PrimaryCount { primary, count } => {
                write!(f, "a shard has {count} primaries; took {primary}")
            }
            Problem::DuplicateNode { node } => write!(f, "node {node} appears more than once"),
            Problem::UnknownEndpoint { node } => write!(f, "node {node} has no usable endpoint"),
            Problem::ReplicasDiffer { primary } => write!(
                f,
                "primary {primary} has different replicas in different slot ranges"
            ),
            Problem::TooManyShards { dropped } => {
                write!(f, "{dropped} shards beyond 65535 dropped")
            }
            Problem::MigrationPeerUnknown { slot, peer } => {
                write!(
                    f,
                    "slot {slot} migrates to or from {peer}, which is not in the reply"
                )
            }
        }
    }
}
