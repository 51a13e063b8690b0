//! The slot map: which node serves each slot, the shards' replicas, and the `MOVED` corrections
//! made since the last refresh (with when they were made, so that a refresh that started before a
//! correction cannot undo it).

use alloc::collections::BTreeMap;
use alloc::vec;
use alloc::vec::Vec;

use slotwise_topology::{SLOT_COUNT, Topology};

/// No node.
const NONE: u32 = u32::MAX;

#[derive(Debug, Default)]
pub(crate) struct ShardNodes {
    pub(crate) primary: usize,
    pub(crate) replicas: Vec<usize>,
}

#[derive(Debug)]
pub(crate) struct SlotMap {
    /// Slot → node index of the node serving it (the topology's primary, or a `MOVED` correction).
    owner: Vec<u32>,
    /// Slot → shard index (into `shards`), from the topology.
    shard_of: Vec<u32>,
    pub(crate) shards: Vec<ShardNodes>,
    /// Slot → (node, correction sequence number) for `MOVED` corrections not yet confirmed by a
    /// refresh that started after them.
    corrections: BTreeMap<u16, (usize, u64)>,
    /// Counts corrections; a refresh records it when it starts.
    pub(crate) seq: u64,
    /// The topology last applied.
    pub(crate) known: Option<Topology>,
}

impl SlotMap {
    pub(crate) fn new() -> SlotMap {
        SlotMap {
            owner: vec![NONE; usize::from(SLOT_COUNT)],
            shard_of: vec![NONE; usize::from(SLOT_COUNT)],
            shards: Vec::new(),
            corrections: BTreeMap::new(),
            seq: 0,
            known: None,
        }
    }

    /// The node serving `slot`.
    pub(crate) fn owner(&self, slot: u16) -> Option<usize> {
        match self.owner.get(usize::from(slot)) {
            Some(&n) if n != NONE => Some(n as usize),
            _ => None,
        }
    }

    /// The replicas that may serve reads of `slot`: the shard's, unless a correction moved the slot
    /// away from that shard's primary.
    pub(crate) fn replicas(&self, slot: u16) -> &[usize] {
        let owner = self.owner(slot);
        match self.shard_of.get(usize::from(slot)) {
            Some(&s) if s != NONE => match self.shards.get(s as usize) {
                Some(shard) if Some(shard.primary) == owner => &shard.replicas,
                _ => &[],
            },
            _ => &[],
        }
    }

    /// Records a `MOVED`: `slot` is served by `node` from now on.
    pub(crate) fn correct(&mut self, slot: u16, node: usize) {
        self.seq += 1;
        if let Some(o) = self.owner.get_mut(usize::from(slot)) {
            *o = node as u32;
        }
        self.corrections.insert(slot, (node, self.seq));
    }

    /// True if a correction points at `node`.
    pub(crate) fn references(&self, node: usize) -> bool {
        self.corrections.values().any(|&(n, _)| n == node)
            || self
                .shards
                .iter()
                .any(|s| s.primary == node || s.replicas.contains(&node))
    }

    /// Replaces the table with a new one: `shards` (primary and replicas as node indices) serving
    /// `slot → shard`. Corrections made after `started_seq` (after the refresh that produced the
    /// table started) win over it; older ones are dropped.
    pub(crate) fn replace(
        &mut self,
        shards: Vec<ShardNodes>,
        slot_shard: impl Iterator<Item = (u16, Option<usize>)>,
        started_seq: u64,
    ) {
        self.owner.fill(NONE);
        self.shard_of.fill(NONE);
        for (slot, shard) in slot_shard {
            let Some(s) = shard.and_then(|i| shards.get(i).map(|sh| (i, sh.primary))) else {
                continue;
            };
            if let Some(o) = self.owner.get_mut(usize::from(slot)) {
                *o = s.1 as u32;
            }
            if let Some(o) = self.shard_of.get_mut(usize::from(slot)) {
                *o = s.0 as u32;
            }
        }
        self.shards = shards;
        self.corrections
            .retain(|_, &mut (_, seq)| seq > started_seq);
        for (&slot, &(node, _)) in &self.corrections {
            if let Some(o) = self.owner.get_mut(usize::from(slot)) {
                *o = node as u32;
            }
        }
    }

    /// Primaries (for keyless commands).
    /// True when `node` owns at least one slot (corrections included).
    pub(crate) fn owns_any(&self, node: usize) -> bool {
        let node = node as u32;
        self.owner.contains(&node)
    }

    pub(crate) fn primaries(&self) -> impl Iterator<Item = usize> + '_ {
        self.shards.iter().map(|s| s.primary)
    }
}
