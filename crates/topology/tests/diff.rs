//! `diff`: unit cases for each kind of change, and properties over random topologies.

mod common;

use std::collections::BTreeMap;

use common::*;
use proptest::prelude::*;
use slotwise_topology::{
    Endpoint, Health, NodeId, Role, SLOT_COUNT, SlotRange, Topology, TopologyBuilder, diff,
};

#[test]
fn failover_is_a_primary_change_not_a_slot_move() {
    let old = even(3);
    let mut b = TopologyBuilder::new();
    for (i, shard) in old.shards().iter().enumerate() {
        if i == 1 {
            let mut primary = shard.replicas[0].clone();
            primary.role = Role::Primary;
            let mut demoted = shard.primary.clone();
            demoted.role = Role::Replica;
            b.shard(
                primary,
                vec![demoted.with_health(Health::Failed)],
                &shard.slots,
            );
        } else {
            b.shard(shard.primary.clone(), shard.replicas.clone(), &shard.slots);
        }
    }
    let d = diff(&old, &b.build());
    assert_eq!(d.primaries_changed.len(), 1);
    assert_eq!(d.primaries_changed[0].old, node_id("p1"));
    assert_eq!(d.primaries_changed[0].new, node_id("r1"));
    assert_eq!(
        d.primaries_changed[0].new_endpoint,
        Some(Endpoint::new("127.0.0.1", 8001))
    );
    assert!(d.slots_moved.is_empty());
    assert!(d.nodes_added.is_empty() && d.nodes_removed.is_empty());
    // The failed old primary is now a failed replica: nobody wants a connection to it.
    assert_eq!(d.connections.close, vec![Endpoint::new("127.0.0.1", 7001)]);
    assert!(d.connections.connect.is_empty());
    assert_eq!(d.connections.keep.len(), 5);
}

#[test]
fn reshard_moves_slots_between_named_shards() {
    let old = even(2); // p0: 0-8191, p1: 8192-16383
    let mut b = TopologyBuilder::new();
    b.shard(
        node("p0", 7000, Role::Primary),
        vec![node("r0", 8000, Role::Replica)],
        &[range(0, 8291)],
    );
    b.shard(
        node("p1", 7001, Role::Primary),
        vec![node("r1", 8001, Role::Replica)],
        &[range(8292, 16383)],
    );
    let d = diff(&old, &b.build());
    assert_eq!(d.slots_moved.len(), 1);
    let m = &d.slots_moved[0];
    assert_eq!(m.slots, range(8192, 8291));
    assert_eq!(
        (m.from.clone(), m.to.clone()),
        (Some(node_id("p1")), Some(node_id("p0")))
    );
    assert_eq!((m.from_shard, m.to_shard), (Some(1), Some(0)));
    assert!(d.primaries_changed.is_empty() && d.replicas_changed.is_empty());
    assert!(d.connections.connect.is_empty() && d.connections.close.is_empty());
}

#[test]
fn add_and_remove_nodes() {
    let old = even(2);
    let mut b = TopologyBuilder::new();
    b.shard(node("p0", 7000, Role::Primary), vec![], &[range(0, 8191)]);
    b.shard(
        node("p1", 7001, Role::Primary),
        vec![node("r1", 8001, Role::Replica)],
        &[range(8192, 12000)],
    );
    b.shard(
        node("p2", 7002, Role::Primary),
        vec![node("r2", 8002, Role::Replica)],
        &[range(12001, 16383)],
    );
    let d = diff(&old, &b.build());
    let added: Vec<_> = d.nodes_added.iter().map(|n| n.id.clone()).collect();
    assert_eq!(added, vec![node_id("p2"), node_id("r2")]);
    assert_eq!(d.nodes_removed.len(), 1);
    assert_eq!(d.nodes_removed[0].id, node_id("r0"));
    assert_eq!(d.replicas_changed.len(), 1);
    assert_eq!(d.replicas_changed[0].removed, vec![node_id("r0")]);
    assert_eq!(d.slots_moved.len(), 1);
    assert_eq!(d.slots_moved[0].to, Some(node_id("p2")));
    assert_eq!(
        d.connections.connect,
        vec![
            Endpoint::new("127.0.0.1", 7002),
            Endpoint::new("127.0.0.1", 8002)
        ]
    );
    assert_eq!(d.connections.close, vec![Endpoint::new("127.0.0.1", 8000)]);
}

#[test]
fn a_removed_shard_leaves_its_slots_uncovered_and_that_is_a_move() {
    let old = even(2);
    let mut b = TopologyBuilder::new();
    b.shard(
        node("p0", 7000, Role::Primary),
        vec![node("r0", 8000, Role::Replica)],
        &[range(0, 8191)],
    );
    let d = diff(&old, &b.build());
    assert_eq!(d.slots_moved.len(), 1);
    assert_eq!(d.slots_moved[0].slots, range(8192, 16383));
    assert_eq!(d.slots_moved[0].to, None);
}

#[test]
fn endpoint_change_of_a_known_node() {
    let old = even(1);
    let mut b = TopologyBuilder::new();
    b.shard(
        node("p0", 7100, Role::Primary),
        vec![node("r0", 8000, Role::Replica)],
        &[SlotRange::ALL],
    );
    let d = diff(&old, &b.build());
    assert_eq!(d.endpoints_changed.len(), 1);
    assert_eq!(
        d.connections.connect,
        vec![Endpoint::new("127.0.0.1", 7100)]
    );
    assert_eq!(d.connections.close, vec![Endpoint::new("127.0.0.1", 7000)]);
    assert!(d.to_string().contains("endpoint changed"));
}

/// Random topologies over a small pool of node ids, so that old and new share nodes in every role.
fn topology() -> impl Strategy<Value = Topology> {
    let shard = (
        0u8..12,
        proptest::collection::vec(0u8..12, 0..3),
        any::<bool>(),
    );
    (
        proptest::collection::vec(shard, 0..6),
        proptest::collection::vec((0u16..SLOT_COUNT, 0usize..8), 0..10),
    )
        .prop_map(|(shards, cuts)| {
            let mut cuts = cuts;
            cuts.sort();
            let mut claims: Vec<Vec<SlotRange>> = vec![Vec::new(); shards.len()];
            let mut start = 0u16;
            for (k, &(cut, owner)) in cuts.iter().enumerate() {
                let end = if k + 1 == cuts.len() {
                    SLOT_COUNT - 1
                } else {
                    cut
                };
                if let (Some(r), Some(c)) = (SlotRange::new(start, end), claims.get_mut(owner)) {
                    c.push(r);
                }
                start = end.saturating_add(1).min(SLOT_COUNT - 1);
            }
            let mut b = TopologyBuilder::new();
            for ((primary, replicas, failed), claims) in shards.into_iter().zip(claims) {
                let n = |i: u8, role| node(&format!("n{i}"), 7000 + u16::from(i), role);
                let replicas = replicas
                    .into_iter()
                    .map(|r| {
                        n(r, Role::Replica).with_health(if failed {
                            Health::Failed
                        } else {
                            Health::Online
                        })
                    })
                    .collect();
                b.shard(n(primary, Role::Primary), replicas, &claims);
            }
            b.build()
        })
}

fn owner(t: &Topology, slot: u16) -> Option<NodeId> {
    t.primary_for_slot(slot).map(|n| n.id.clone())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn diff_with_itself_is_empty(t in topology()) {
        let d = diff(&t, &t);
        prop_assert!(d.is_empty(), "{d:?}");
        prop_assert!(d.connections.connect.is_empty() && d.connections.close.is_empty());
    }

    #[test]
    fn slot_moves_and_failovers_turn_the_old_map_into_the_new(old in topology(), new in topology()) {
        let d = diff(&old, &new);
        let failovers: BTreeMap<NodeId, NodeId> =
            d.primaries_changed.iter().map(|c| (c.old.clone(), c.new.clone())).collect();
        let mut map: Vec<Option<NodeId>> = (0..SLOT_COUNT)
            .map(|s| owner(&old, s).map(|o| failovers.get(&o).cloned().unwrap_or(o)))
            .collect();
        for m in &d.slots_moved {
            for s in m.slots.slots() {
                prop_assert_eq!(&m.from, &owner(&old, s));
                map[usize::from(s)] = m.to.clone();
            }
        }
        for s in 0..SLOT_COUNT {
            prop_assert_eq!(&map[usize::from(s)], &owner(&new, s), "slot {}", s);
        }
        // Moves are maximal and disjoint: sorted, no two adjacent with the same ends.
        for w in d.slots_moved.windows(2) {
            prop_assert!(w[0].slots.end() < w[1].slots.start());
            let joined = w[0].slots.end() + 1 == w[1].slots.start()
                && w[0].from_shard == w[1].from_shard
                && w[0].to_shard == w[1].to_shard;
            prop_assert!(!joined);
        }
    }

    #[test]
    fn the_connection_plan_partitions_the_endpoints(old in topology(), new in topology()) {
        let d = diff(&old, &new);
        let plan = &d.connections;
        for e in &plan.connect {
            prop_assert!(!plan.keep.contains(e) && !plan.close.contains(e));
        }
        for e in &plan.keep {
            prop_assert!(!plan.close.contains(e));
        }
        for n in &d.nodes_added {
            prop_assert!(old.node(&n.id).is_none() && new.node(&n.id).is_some());
        }
        for n in &d.nodes_removed {
            prop_assert!(old.node(&n.id).is_some() && new.node(&n.id).is_none());
        }
        // Reversing the diff swaps connect and close.
        let back = diff(&new, &old);
        prop_assert_eq!(&back.connections.connect, &plan.close);
        prop_assert_eq!(&back.connections.close, &plan.connect);
    }
}
