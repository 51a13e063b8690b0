//! [`diff`]: what changed between two topologies, and which connections to open, keep and close.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

use crate::topology::NO_SHARD;
use crate::{Endpoint, Health, Node, NodeId, Role, Shard, SlotRange, Topology};

/// A node that joined or left, as the topology it is in describes it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct NodeRef {
    /// The node's id.
    pub id: NodeId,
    /// Its endpoint, if known.
    pub endpoint: Option<Endpoint>,
    /// Its role.
    pub role: Role,
}

/// A node whose endpoint changed (same id).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct EndpointChange {
    /// The node.
    pub id: NodeId,
    /// The endpoint before.
    pub old: Option<Endpoint>,
    /// The endpoint now.
    pub new: Option<Endpoint>,
}

/// A shard whose primary changed: a failover (or a manual `CLUSTER FAILOVER`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct PrimaryChange {
    /// The primary before.
    pub old: NodeId,
    /// The primary now.
    pub new: NodeId,
    /// The new primary's endpoint.
    pub new_endpoint: Option<Endpoint>,
}

/// Slots that changed shard: `from` (in the old topology) and `to` (in the new one). A slot whose
/// shard only failed over did not move; it is in [`TopologyDiff::primaries_changed`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct SlotMove {
    /// The slots.
    pub slots: SlotRange,
    /// The old owner's primary (`None`: the slots were uncovered).
    pub from: Option<NodeId>,
    /// The new owner's primary (`None`: the slots are now uncovered).
    pub to: Option<NodeId>,
    /// The old owner's index in the old topology's [`Topology::shards`].
    pub from_shard: Option<usize>,
    /// The new owner's index in the new topology's [`Topology::shards`].
    pub to_shard: Option<usize>,
}

/// A shard (matched between old and new) whose replica set changed.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct ReplicaChange {
    /// The shard's primary now.
    pub primary: NodeId,
    /// Replicas now that were not replicas of this shard before.
    pub added: Vec<NodeId>,
    /// Replicas before that are not replicas of this shard now.
    pub removed: Vec<NodeId>,
}

/// Which endpoints a client should be connected to after the change.
///
/// A client wants a connection to every primary with a known endpoint (even a failed one that still
/// serves slots: requests for them must fail on their own, and it may come back; but not a failed
/// primary without slots, which is what a killed primary looks like after its replica took over) and
/// to every replica that is not [`Health::Failed`]. The plan is the set difference between the wants of the old and new
/// topologies; each list is sorted and holds each endpoint once.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct ConnectionPlan {
    /// Endpoints wanted now and not before.
    pub connect: Vec<Endpoint>,
    /// Endpoints wanted before and now.
    pub keep: Vec<Endpoint>,
    /// Endpoints wanted before and not now.
    pub close: Vec<Endpoint>,
}

/// What changed from one topology to the next.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct TopologyDiff {
    /// Nodes in a shard now that were in none before.
    pub nodes_added: Vec<NodeRef>,
    /// Nodes in a shard before that are in none now.
    pub nodes_removed: Vec<NodeRef>,
    /// Nodes whose endpoint changed.
    pub endpoints_changed: Vec<EndpointChange>,
    /// Shards whose primary changed (failovers).
    pub primaries_changed: Vec<PrimaryChange>,
    /// Slots that changed shard, as maximal ranges.
    pub slots_moved: Vec<SlotMove>,
    /// Shards whose replicas changed.
    pub replicas_changed: Vec<ReplicaChange>,
    /// Connections to open, keep and close.
    pub connections: ConnectionPlan,
}

impl TopologyDiff {
    /// True if nothing changed: every list is empty except [`ConnectionPlan::keep`].
    pub fn is_empty(&self) -> bool {
        self.nodes_added.is_empty()
            && self.nodes_removed.is_empty()
            && self.endpoints_changed.is_empty()
            && self.primaries_changed.is_empty()
            && self.slots_moved.is_empty()
            && self.replicas_changed.is_empty()
            && self.connections.connect.is_empty()
            && self.connections.close.is_empty()
    }
}

/// What changed from `old` to `new`.
///
/// Shards are matched one to one between the two: only shards that share a node id can match, and
/// pairs are taken best first by slots in common, then nodes in common, then the same primary (so
/// a killed primary's shard follows the replica that took its slots over). A matched pair with different primaries is a
/// [`PrimaryChange`]; a slot whose old shard's match is not its new shard is a [`SlotMove`]. So for
/// every slot, the new primary is the move's `to` if a move covers the slot, or else the old primary
/// carried through `primaries_changed`.
///
/// The cost is one pass over the 16384 slots plus a few ordered maps over the nodes: about
/// tens of microseconds for 100 shards (see `benches/README.md`), cheap enough for every refresh.
///
/// ```
/// use slotwise_topology::{diff, Endpoint, Node, NodeId, Role, SlotRange, TopologyBuilder};
///
/// let node = |id: &str, port, role| Node::new(NodeId::new(id).unwrap(), Some(Endpoint::new("127.0.0.1", port)), role);
/// let mut before = TopologyBuilder::new();
/// before.shard(node("a", 7000, Role::Primary), vec![node("b", 7001, Role::Replica)], &[SlotRange::ALL]);
/// let mut after = TopologyBuilder::new();
/// after.shard(node("b", 7001, Role::Primary), vec![node("a", 7000, Role::Replica)], &[SlotRange::ALL]);
/// let d = diff(&before.build(), &after.build());
/// assert_eq!(d.primaries_changed.len(), 1);
/// assert!(d.slots_moved.is_empty());
/// assert!(d.connections.connect.is_empty() && d.connections.close.is_empty());
/// ```
pub fn diff(old: &Topology, new: &Topology) -> TopologyDiff {
    let matched = match_shards(old, new);
    let mut out = TopologyDiff::default();

    // Failovers and replica changes, per matched shard.
    for (i, o) in old.shards.iter().enumerate() {
        let Some(n) = matched
            .get(i)
            .copied()
            .flatten()
            .and_then(|j| new.shards.get(j))
        else {
            continue;
        };
        if o.primary.id != n.primary.id {
            out.primaries_changed.push(PrimaryChange {
                old: o.primary.id.clone(),
                new: n.primary.id.clone(),
                new_endpoint: n.primary.endpoint.clone(),
            });
        }
        let before: BTreeSet<&NodeId> = o.replicas.iter().map(|r| &r.id).collect();
        let after: BTreeSet<&NodeId> = n.replicas.iter().map(|r| &r.id).collect();
        if before != after {
            out.replicas_changed.push(ReplicaChange {
                primary: n.primary.id.clone(),
                added: after.difference(&before).map(|&id| id.clone()).collect(),
                removed: before.difference(&after).map(|&id| id.clone()).collect(),
            });
        }
    }

    out.slots_moved = slot_moves(old, new, &matched);

    // Nodes by id.
    let before: BTreeMap<&NodeId, &Node> = old.nodes().map(|n| (&n.id, n)).collect();
    let after: BTreeMap<&NodeId, &Node> = new.nodes().map(|n| (&n.id, n)).collect();
    let node_ref = |n: &Node| NodeRef {
        id: n.id.clone(),
        endpoint: n.endpoint.clone(),
        role: n.role,
    };
    for (id, n) in &after {
        match before.get(id) {
            None => out.nodes_added.push(node_ref(n)),
            Some(o) if o.endpoint != n.endpoint => out.endpoints_changed.push(EndpointChange {
                id: n.id.clone(),
                old: o.endpoint.clone(),
                new: n.endpoint.clone(),
            }),
            Some(_) => {}
        }
    }
    for (id, o) in &before {
        if !after.contains_key(id) {
            out.nodes_removed.push(node_ref(o));
        }
    }

    let want_old = wanted(old);
    let want_new = wanted(new);
    out.connections = ConnectionPlan {
        connect: want_new.difference(&want_old).map(|&e| e.clone()).collect(),
        keep: want_new
            .intersection(&want_old)
            .map(|&e| e.clone())
            .collect(),
        close: want_old.difference(&want_new).map(|&e| e.clone()).collect(),
    };
    out
}

/// The endpoints a client wants connections to (see [`ConnectionPlan`]).
fn wanted(t: &Topology) -> BTreeSet<&Endpoint> {
    t.shards
        .iter()
        .flat_map(|s| {
            let dead = s.primary.health == Health::Failed && s.slots.is_empty();
            let primary = s.primary.endpoint.as_ref().filter(|_| !dead);
            let replicas = s
                .replicas
                .iter()
                .filter(|r| r.health != Health::Failed)
                .filter_map(|r| r.endpoint.as_ref());
            primary.into_iter().chain(replicas)
        })
        .collect()
}

/// For each old shard, the index of its match among the new shards.
///
/// Candidates are pairs of shards that share at least one node id. They are taken greedily, best
/// first: more slots in common, then more nodes in common, then the same primary. Slots come first
/// so that after a primary is killed its shard follows the promoted replica (which kept the slots),
/// not the dead primary that is still listed, slotless, as a primary of its own.
fn match_shards(old: &Topology, new: &Topology) -> Vec<Option<usize>> {
    // Nodes in common, per (old shard, new shard).
    let old_home: BTreeMap<&NodeId, usize> = old
        .shards
        .iter()
        .enumerate()
        .flat_map(|(i, s)| s.nodes().map(move |n| (&n.id, i)))
        .collect();
    let mut common: BTreeMap<(usize, usize), (usize, usize)> = BTreeMap::new();
    for (j, shard) in new.shards.iter().enumerate() {
        for node in shard.nodes() {
            if let Some(&i) = old_home.get(&node.id) {
                common.entry((i, j)).or_insert((0, 0)).1 += 1;
            }
        }
    }
    // Slots in common, counted per run of equal (old, new) shard indices.
    let mut last: Option<(u16, u16)> = None;
    let mut run = 0usize;
    let add_run =
        |pair: Option<(u16, u16)>, run: usize, common: &mut BTreeMap<_, (usize, usize)>| {
            if let Some((o, n)) = pair
                && let Some(entry) = common.get_mut(&(usize::from(o), usize::from(n)))
            {
                entry.0 += run;
            }
        };
    for (&o, &n) in old.slot_map.iter().zip(&new.slot_map) {
        if last == Some((o, n)) {
            run += 1;
        } else {
            add_run(last, run, &mut common);
            last = Some((o, n));
            run = 1;
        }
    }
    add_run(last, run, &mut common);

    let same_primary = |i: usize, j: usize| matches!((old.shards.get(i), new.shards.get(j)), (Some(a), Some(b)) if a.primary.id == b.primary.id);
    let mut candidates: Vec<(usize, usize, bool, usize, usize)> = common
        .into_iter()
        .map(|((i, j), (slots, nodes))| (slots, nodes, same_primary(i, j), i, j))
        .collect();
    candidates.sort_by(|a, b| {
        (b.0, b.1, b.2)
            .cmp(&(a.0, a.1, a.2))
            .then((a.3, a.4).cmp(&(b.3, b.4)))
    });
    let mut matched: Vec<Option<usize>> = vec![None; old.shards.len()];
    let mut taken = vec![false; new.shards.len()];
    for (_, _, _, i, j) in candidates {
        if let (Some(m @ None), Some(t @ false)) = (matched.get_mut(i), taken.get_mut(j)) {
            *m = Some(j);
            *t = true;
        }
    }
    matched
}

/// Slot moves, as maximal ranges of slots with the same (old shard, new shard).
fn slot_moves(old: &Topology, new: &Topology, matched: &[Option<usize>]) -> Vec<SlotMove> {
    // Old shard index -> new shard index, as u32 so that a slot of an unmatched old shard (GONE)
    // never equals a new index, not even "uncovered".
    const GONE: u32 = u32::MAX;
    let remap: Vec<u32> = matched
        .iter()
        .map(|m| m.map_or(GONE, |j| j as u32))
        .collect();
    let carried = |old_index: u16| -> u32 {
        if old_index == NO_SHARD {
            u32::from(NO_SHARD)
        } else {
            remap.get(usize::from(old_index)).copied().unwrap_or(GONE)
        }
    };
    let mut moves: Vec<SlotMove> = Vec::new();
    // The run being built: (start, end, old index, new index).
    let mut run: Option<(u16, u16, u16, u16)> = None;
    fn shard_at(t: &Topology, i: u16) -> Option<(usize, &Shard)> {
        let i = usize::from(i);
        t.shards.get(i).map(|s| (i, s))
    }
    let flush = |run: Option<(u16, u16, u16, u16)>, moves: &mut Vec<SlotMove>| {
        let Some((start, end, o, n)) = run else {
            return;
        };
        let Some(slots) = SlotRange::new(start, end) else {
            return;
        };
        let from = shard_at(old, o);
        let to = shard_at(new, n);
        moves.push(SlotMove {
            slots,
            from: from.map(|(_, s)| s.primary.id.clone()),
            to: to.map(|(_, s)| s.primary.id.clone()),
            from_shard: from.map(|(i, _)| i),
            to_shard: to.map(|(i, _)| i),
        });
    };
    for (slot, (&o, &n)) in old.slot_map.iter().zip(&new.slot_map).enumerate() {
        // `slot_map` is SLOT_COUNT long, so `slot` fits in u16.
        let slot = slot as u16;
        if carried(o) == u32::from(n) {
            if run.is_some() {
                flush(run.take(), &mut moves);
            }
            continue;
        }
        match &mut run {
            Some((_, end, ro, rn)) if *ro == o && *rn == n => *end = slot,
            _ => flush(run.replace((slot, slot, o, n)), &mut moves),
        }
    }
    flush(run, &mut moves);
    moves
}

impl fmt::Display for TopologyDiff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let endpoint = |e: &Option<Endpoint>| match e {
            Some(e) => alloc::format!("{e}"),
            None => alloc::string::String::from("?"),
        };
        let id = |id: &Option<NodeId>| match id {
            Some(id) => alloc::format!("{id}"),
            None => alloc::string::String::from("(uncovered)"),
        };
        if self.is_empty() {
            writeln!(f, "no changes")?;
        }
        for n in &self.nodes_added {
            writeln!(
                f,
                "node added: {} {} ({})",
                n.role,
                endpoint(&n.endpoint),
                n.id
            )?;
        }
        for n in &self.nodes_removed {
            writeln!(
                f,
                "node removed: {} {} ({})",
                n.role,
                endpoint(&n.endpoint),
                n.id
            )?;
        }
        for c in &self.endpoints_changed {
            writeln!(
                f,
                "endpoint changed: {} {} -> {}",
                c.id,
                endpoint(&c.old),
                endpoint(&c.new)
            )?;
        }
        for c in &self.primaries_changed {
            writeln!(
                f,
                "primary changed: {} -> {} ({})",
                c.old,
                c.new,
                endpoint(&c.new_endpoint)
            )?;
        }
        for m in &self.slots_moved {
            writeln!(
                f,
                "slots moved: {} from {} to {}",
                m.slots,
                id(&m.from),
                id(&m.to)
            )?;
        }
        for c in &self.replicas_changed {
            write!(f, "replicas changed for {}:", c.primary)?;
            for r in &c.added {
                write!(f, " +{r}")?;
            }
            for r in &c.removed {
                write!(f, " -{r}")?;
            }
            writeln!(f)?;
        }
        for e in &self.connections.connect {
            writeln!(f, "connect {e}")?;
        }
        for e in &self.connections.close {
            writeln!(f, "close {e}")?;
        }
        if !self.connections.keep.is_empty() {
            writeln!(f, "keep {} connections", self.connections.keep.len())?;
        }
        Ok(())
    }
}
