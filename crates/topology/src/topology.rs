//! [`Topology`]: shards, the slot map, and what was wrong with the reply.

use alloc::vec::Vec;
use core::fmt;

use crate::slot_range::runs;
use crate::{Format, Node, NodeId, Problem, SLOT_COUNT, SlotRange};

/// Marks a slot no shard serves in the slot map.
pub(crate) const NO_SHARD: u16 = u16::MAX;

/// A shard: a primary, its replicas, and the slots it serves.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Shard {
    /// The node that serves the shard's slots.
    pub primary: Node,
    /// The nodes replicating the primary, in reply order.
    pub replicas: Vec<Node>,
    /// The slots the slot map gives this shard, sorted and merged. Slots the reply gave this shard but
    /// that another shard kept are not here (see [`Problem::SlotClaimedTwice`]).
    pub slots: Vec<SlotRange>,
}

impl Shard {
    /// The primary, then the replicas.
    pub fn nodes(&self) -> impl Iterator<Item = &Node> {
        core::iter::once(&self.primary).chain(self.replicas.iter())
    }

    /// The number of slots the shard serves.
    pub fn slot_count(&self) -> usize {
        self.slots.iter().map(SlotRange::len).sum()
    }
}

/// Which way a slot is moving, from the point of view of the node that reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MigrationDirection {
    /// `[slot->-peer]`: the reporting node is moving the slot to `peer` (`CLUSTER SETSLOT … MIGRATING`).
    Migrating,
    /// `[slot-<-peer]`: the reporting node is taking the slot from `peer` (`CLUSTER SETSLOT … IMPORTING`).
    Importing,
}

/// A slot migration in progress, as CLUSTER NODES reports it (only on the answering node's own line:
/// other formats do not carry it). Clients see `ASK` redirects for such a slot.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Migration {
    /// The slot.
    pub slot: u16,
    /// The node that reported the migration (the answering node).
    pub node: NodeId,
    /// The other side of the migration.
    pub peer: NodeId,
    /// Which way the slot moves, seen from `node`.
    pub direction: MigrationDirection,
}

/// A Redis Cluster topology as one node sees it: shards, a 16384-entry slot map to shard, the slots no
/// shard serves, migrations in progress, and the inconsistencies found in the reply.
///
/// Build one with [`Topology::from_cluster_shards`], [`Topology::from_cluster_slots`],
/// [`Topology::from_cluster_nodes`], or [`TopologyBuilder`](crate::TopologyBuilder).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Topology {
    pub(crate) shards: Vec<Shard>,
    /// Indexed by slot; `NO_SHARD` or an index into `shards`. Always `SLOT_COUNT` long.
    pub(crate) slot_map: Vec<u16>,
    pub(crate) orphan_replicas: Vec<Node>,
    pub(crate) migrations: Vec<Migration>,
    pub(crate) problems: Vec<Problem>,
    pub(crate) responder: Option<NodeId>,
    pub(crate) format: Format,
}

impl Topology {
    /// The shards, in reply order.
    pub fn shards(&self) -> &[Shard] {
        &self.shards
    }

    /// The index (into [`Topology::shards`]) of the shard serving `slot`, if any.
    pub fn shard_index_for_slot(&self, slot: u16) -> Option<usize> {
        match self.slot_map.get(usize::from(slot)) {
            Some(&index) if index != NO_SHARD => Some(usize::from(index)),
            _ => None,
        }
    }

    /// The shard serving `slot`, if any.
    pub fn shard_for_slot(&self, slot: u16) -> Option<&Shard> {
        self.shards.get(self.shard_index_for_slot(slot)?)
    }

    /// The primary serving `slot`, if any.
    pub fn primary_for_slot(&self, slot: u16) -> Option<&Node> {
        self.shard_for_slot(slot).map(|s| &s.primary)
    }

    /// The slot map as runs: each maximal range of slots with the same shard index (`None`: uncovered).
    pub fn slot_ranges(&self) -> impl Iterator<Item = (SlotRange, Option<usize>)> + '_ {
        runs(&self.slot_map).map(|(range, index)| {
            let index = (index != NO_SHARD).then_some(usize::from(index));
            (range, index)
        })
    }

    /// The slots no shard serves.
    pub fn uncovered_slots(&self) -> Vec<SlotRange> {
        self.slot_ranges()
            .filter(|(_, index)| index.is_none())
            .map(|(range, _)| range)
            .collect()
    }

    /// How many of the 16384 slots some shard serves.
    pub fn covered_slot_count(&self) -> usize {
        self.slot_map.iter().filter(|&&i| i != NO_SHARD).count()
    }

    /// True if every slot is served.
    pub fn is_fully_covered(&self) -> bool {
        self.covered_slot_count() == usize::from(SLOT_COUNT)
    }

    /// What did not add up in the reply.
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    /// Slot migrations in progress (CLUSTER NODES only).
    pub fn migrations(&self) -> &[Migration] {
        &self.migrations
    }

    /// Replicas whose primary is not in the reply (see [`Problem::ReplicaWithoutPrimary`]).
    pub fn orphan_replicas(&self) -> &[Node] {
        &self.orphan_replicas
    }

    /// The id of the node that answered, when known: CLUSTER NODES' `myself`, the caller's
    /// [`Origin::node_id`](crate::Origin::node_id), or the node whose endpoint is the origin's.
    pub fn responder(&self) -> Option<&NodeId> {
        self.responder.as_ref()
    }

    /// Which reply this topology came from.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Every node in a shard (primaries and replicas; not the orphans).
    pub fn nodes(&self) -> impl Iterator<Item = &Node> {
        self.shards.iter().flat_map(Shard::nodes)
    }

    /// The node with this id, if it is in a shard.
    pub fn node(&self, id: &NodeId) -> Option<&Node> {
        self.nodes().find(|n| &n.id == id)
    }

    /// True if a node with this id is in a shard or among the orphan replicas.
    pub fn contains_node(&self, id: &NodeId) -> bool {
        self.node(id).is_some() || self.orphan_replicas.iter().any(|n| &n.id == id)
    }

    /// The highest config epoch of any primary (CLUSTER NODES only; `None` for the other formats).
    pub fn max_config_epoch(&self) -> Option<u64> {
        self.shards
            .iter()
            .filter_map(|s| s.primary.config_epoch)
            .max()
    }

    /// True if `self` and `other` give every slot to a primary with the same id: the test of
    /// agreement that view selection uses.
    pub fn same_slot_owners(&self, other: &Topology) -> bool {
        fn owner(t: &Topology, i: u16) -> Option<&NodeId> {
            if i == NO_SHARD {
                None
            } else {
                t.shards.get(usize::from(i)).map(|s| &s.primary.id)
            }
        }
        // Shard indices differ between views: compare owners, but only where the index changes.
        let mut last = (NO_SHARD, NO_SHARD, true);
        for (&a, &b) in self.slot_map.iter().zip(&other.slot_map) {
            if (a, b) != (last.0, last.1) {
                last = (a, b, owner(self, a) == owner(other, b));
            }
            if !last.2 {
                return false;
            }
        }
        true
    }
}

impl fmt::Debug for Topology {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ranges: Vec<_> = self.slot_ranges().collect();
        f.debug_struct("Topology")
            .field("format", &self.format)
            .field("responder", &self.responder)
            .field("shards", &self.shards)
            .field("slot_map", &ranges)
            .field("orphan_replicas", &self.orphan_replicas)
            .field("migrations", &self.migrations)
            .field("problems", &self.problems)
            .finish()
    }
}

/// Prints the slot map (`ranges -> primary endpoint (id), replicas`), uncovered slots, migrations and
/// problems, one per line.
impl fmt::Display for Topology {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (range, index) in self.slot_ranges() {
            let Some(shard) = index.and_then(|i| self.shards.get(i)) else {
                writeln!(f, "{range:>11} -> (uncovered)")?;
                continue;
            };
            write!(f, "{range:>11} -> ")?;
            write_node(f, &shard.primary)?;
            for replica in &shard.replicas {
                f.write_str(", replica ")?;
                write_node(f, replica)?;
            }
            writeln!(f)?;
        }
        for shard in self.shards.iter().filter(|s| s.slots.is_empty()) {
            f.write_str("   no slots -> ")?;
            write_node(f, &shard.primary)?;
            for replica in &shard.replicas {
                f.write_str(", replica ")?;
                write_node(f, replica)?;
            }
            writeln!(f)?;
        }
        for m in &self.migrations {
            let arrow = match m.direction {
                MigrationDirection::Migrating => "migrating to",
                MigrationDirection::Importing => "importing from",
            };
            writeln!(
                f,
                "migration: slot {} on {} {arrow} {}",
                m.slot, m.node, m.peer
            )?;
        }
        for problem in &self.problems {
            writeln!(f, "problem: {problem}")?;
        }
        Ok(())
    }
}

fn write_node(f: &mut fmt::Formatter<'_>, node: &Node) -> fmt::Result {
    match &node.endpoint {
        Some(e) => write!(f, "{e}")?,
        None => f.write_str("?")?,
    }
    write!(f, " ({})", node.id)?;
    if let Some(h) = &node.hostname {
        write!(f, " hostname={h}")?;
    }
    if let Some(p) = node.tls_port {
        write!(f, " tls-port={p}")?;
    }
    if node.health != crate::Health::Online {
        write!(f, " [{}]", node.health)?;
    }
    Ok(())
}
