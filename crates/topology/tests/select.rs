//! View selection: membership, agreement, config epoch, coverage.

mod common;

use common::*;
use slotwise_topology::{Origin, Rejection, Role, Topology, TopologyBuilder, select_view};

fn nodes_text(epoch_a: u64, a_slots: &str, b_slots: &str) -> Topology {
    let text = format!(
        "{} 127.0.0.1:7000@17000 myself,master - 0 0 {epoch_a} connected {a_slots}\n\
         {} 127.0.0.1:7001@17001 master - 0 0 2 connected {b_slots}\n",
        id("a"),
        id("b")
    );
    Topology::from_cluster_nodes(text.as_bytes(), &Origin::unknown()).unwrap()
}

#[test]
fn agreement_beats_config_epoch() {
    let stale = nodes_text(1, "0-8191", "8192-16383");
    let newer = nodes_text(9, "0-9000", "9001-16383");
    let views = [newer.clone(), stale.clone(), stale.clone()];
    let s = select_view(&views, None).unwrap();
    assert_eq!((s.chosen, s.agreeing, s.accepted), (1, 2, 3));
}

#[test]
fn config_epoch_breaks_a_tie_then_coverage() {
    let stale = nodes_text(1, "0-8191", "8192-16383");
    let newer = nodes_text(9, "0-9000", "9001-16383");
    let s = select_view(&[stale.clone(), newer.clone()], None).unwrap();
    assert_eq!(s.chosen, 1);

    let partial = nodes_text(1, "0-100", "8192-16383");
    let s = select_view(&[partial, stale], None).unwrap();
    assert_eq!(s.chosen, 1, "same epoch: more coverage wins");
}

#[test]
fn a_recycled_seed_address_is_rejected() {
    let known = even(3);
    let mut foreign = TopologyBuilder::new();
    foreign.shard(node("zz", 7000, Role::Primary), vec![], &[range(0, 16383)]);
    foreign.responder(Some(node_id("zz")));
    let foreign = foreign.build();
    let views = [foreign.clone(), even(3)];
    let s = select_view(&views, Some(&known)).unwrap();
    assert_eq!(s.chosen, 1);
    assert_eq!(
        s.rejected,
        vec![(
            0,
            Rejection::ForeignCluster {
                responder: Some(node_id("zz"))
            }
        )]
    );
    assert_eq!(
        select_view(std::slice::from_ref(&foreign), Some(&known)),
        None
    );
    // Bootstrapping (nothing known yet): every view is a candidate.
    assert_eq!(select_view(&[foreign], None).unwrap().chosen, 0);
    assert_eq!(select_view(&[], None), None);
}

#[test]
fn a_new_node_that_knows_the_cluster_is_accepted() {
    // A freshly added node is not in the known topology, but its view names known nodes.
    let known = even(2);
    let mut view = TopologyBuilder::new();
    for shard in known.shards() {
        view.shard(shard.primary.clone(), shard.replicas.clone(), &shard.slots);
    }
    view.shard(node("new", 7100, Role::Primary), vec![], &[]);
    view.responder(Some(node_id("new")));
    let s = select_view(&[view.build()], Some(&known)).unwrap();
    assert!(s.rejected.is_empty());
}
