//! [`TopologyBuilder`]: turns shards and their slot claims into a [`Topology`], reporting conflicts.

use alloc::collections::BTreeSet;
use alloc::vec;
use alloc::vec::Vec;

use crate::topology::NO_SHARD;
use crate::{
    Format, Migration, MigrationDirection, Node, NodeId, Problem, SLOT_COUNT, Shard, SlotRange,
    Topology,
};

/// Builds a [`Topology`] from shards, as the parsers do; useful for tests, simulations and benches.
///
/// Slots claimed by two shards go to the primary with the higher config epoch, then to the shard
/// added first; every conflict, duplicate node and unknown endpoint is reported as a [`Problem`].
///
/// ```
/// use slotwise_topology::{Endpoint, Node, NodeId, Role, SlotRange, TopologyBuilder};
///
/// let node = |id: &str, port, role| {
///     Node::new(NodeId::new(id).unwrap(), Some(Endpoint::new("127.0.0.1", port)), role)
/// };
/// let mut builder = TopologyBuilder::new();
/// builder.shard(
///     node("a", 7000, Role::Primary),
///     vec![node("b", 7001, Role::Replica)],
///     &[SlotRange::new(0, 16383).unwrap()],
/// );
/// let topology = builder.build();
/// assert!(topology.is_fully_covered());
/// assert_eq!(topology.primary_for_slot(42).unwrap().id.as_str(), "a");
/// ```
#[derive(Clone, Debug)]
pub struct TopologyBuilder {
    shards: Vec<(Shard, Vec<SlotRange>)>,
    orphans: Vec<Node>,
    migrations: Vec<Migration>,
    problems: Vec<Problem>,
    responder: Option<NodeId>,
    format: Format,
}

impl Default for TopologyBuilder {
    fn default() -> Self {
        TopologyBuilder::new()
    }
}

impl TopologyBuilder {
    /// An empty builder.
    pub fn new() -> TopologyBuilder {
        TopologyBuilder {
            shards: Vec::new(),
            orphans: Vec::new(),
            migrations: Vec::new(),
            problems: Vec::new(),
            responder: None,
            format: Format::Built,
        }
    }

    /// Adds a shard claiming `slots`.
    pub fn shard(&mut self, primary: Node, replicas: Vec<Node>, slots: &[SlotRange]) -> &mut Self {
        let shard = Shard {
            primary,
            replicas,
            slots: Vec::new(),
        };
        self.shards.push((shard, slots.to_vec()));
        self
    }

    /// Adds a replica whose primary is unknown (and reports it).
    pub fn orphan_replica(&mut self, replica: Node, primary: Option<NodeId>) -> &mut Self {
        self.problems.push(Problem::ReplicaWithoutPrimary {
            replica: replica.id.clone(),
            primary,
        });
        self.orphans.push(replica);
        self
    }

    /// Records a migration `node` reports for `slot`.
    pub fn migration(
        &mut self,
        slot: u16,
        node: NodeId,
        peer: NodeId,
        direction: MigrationDirection,
    ) -> &mut Self {
        self.migrations.push(Migration {
            slot,
            node,
            peer,
            direction,
        });
        self
    }

    /// Sets the id of the node that answered.
    pub fn responder(&mut self, id: Option<NodeId>) -> &mut Self {
        self.responder = id;
        self
    }

    pub(crate) fn format(&mut self, format: Format) -> &mut Self {
        self.format = format;
        self
    }

    pub(crate) fn problem(&mut self, problem: Problem) -> &mut Self {
        self.problems.push(problem);
        self
    }

    /// The topology.
    pub fn build(self) -> Topology {
        let TopologyBuilder {
            shards: pending,
            orphans,
            migrations,
            mut problems,
            responder,
            format,
        } = self;

        // Each node id once: a later duplicate is dropped (a duplicate primary drops its whole shard).
        let mut seen: BTreeSet<NodeId> = BTreeSet::new();
        let mut shards: Vec<Shard> = Vec::with_capacity(pending.len());
        let mut claims: Vec<Vec<SlotRange>> = Vec::with_capacity(pending.len());
        let max_shards = usize::from(NO_SHARD);
        let mut dropped = 0;
        for (mut shard, ranges) in pending {
            if !seen.insert(shard.primary.id.clone()) {
                problems.push(Problem::DuplicateNode {
                    node: shard.primary.id.clone(),
                });
                continue;
            }
            shard.replicas.retain(|r| {
                let fresh = seen.insert(r.id.clone());
                if !fresh {
                    problems.push(Problem::DuplicateNode { node: r.id.clone() });
                }
                fresh
            });
            if shards.len() >= max_shards {
                dropped += 1;
                continue;
            }
            shards.push(shard);
            claims.push(ranges);
        }
        if dropped > 0 {
            problems.push(Problem::TooManyShards { dropped });
        }
        let orphans: Vec<Node> = orphans
            .into_iter()
            .filter(|o| {
                let fresh = seen.insert(o.id.clone());
                if !fresh {
                    problems.push(Problem::DuplicateNode { node: o.id.clone() });
                }
                fresh
            })
            .collect();

        // Claim slots: higher config epoch first, then reply order.
        let mut order: Vec<usize> = (0..shards.len()).collect();
        order.sort_by_key(|&i| {
            core::cmp::Reverse(
                shards
                    .get(i)
                    .and_then(|s| s.primary.config_epoch)
                    .unwrap_or(0),
            )
        });
        let mut slot_map = vec![NO_SHARD; usize::from(SLOT_COUNT)];
        for &index in &order {
            let Some(ranges) = claims.get(index) else {
                continue;
            };
            // `index < max_shards`, so it fits in u16 and differs from NO_SHARD.
            let tag = index as u16;
            for range in ranges {
                claim(&mut slot_map, *range, tag, &shards, &mut problems);
            }
        }

        for (range, index) in crate::slot_range::runs(&slot_map) {
            if let Some(shard) = shards.get_mut(usize::from(index)) {
                shard.slots.push(range);
            }
        }
        for node in shards.iter().flat_map(Shard::nodes).chain(orphans.iter()) {
            if node.endpoint.is_none() {
                problems.push(Problem::UnknownEndpoint {
                    node: node.id.clone(),
                });
            }
        }

        Topology {
            shards,
            slot_map,
            orphan_replicas: orphans,
            migrations,
            problems,
            responder,
            format,
        }
    }
}

/// Gives `range` to shard `tag` where it is free, reporting the slots that were not.
fn claim(
    slot_map: &mut [u16],
    range: SlotRange,
    tag: u16,
    shards: &[Shard],
    problems: &mut Vec<Problem>,
) {
    let primary = |i: u16| shards.get(usize::from(i)).map(|s| s.primary.id.clone());
    // A run of slots already taken by the same owner, reported as one problem.
    let mut run: Option<(u16, u16, u16)> = None;
    let report = |run: Option<(u16, u16, u16)>, problems: &mut Vec<Problem>| {
        let Some((start, end, owner)) = run else {
            return;
        };
        let (Some(slots), Some(mine)) = (SlotRange::new(start, end), primary(tag)) else {
            return;
        };
        if owner == tag {
            problems.push(Problem::OverlappingRanges {
                primary: mine,
                slots,
            });
        } else if let Some(kept) = primary(owner) {
            problems.push(Problem::SlotClaimedTwice {
                slots,
                kept,
                dropped: mine,
            });
        }
    };
    for slot in range.slots() {
        let Some(entry) = slot_map.get_mut(usize::from(slot)) else {
            continue;
        };
        if *entry == NO_SHARD {
            *entry = tag;
            report(run.take(), problems);
            continue;
        }
        let owner = *entry;
        run = match run {
            Some((start, _, o)) if o == owner => Some((start, slot, o)),
            other => {
                report(other, problems);
                Some((slot, slot, owner))
            }
        };
    }
    report(run, problems);
}
