//! Parses every fixture captured from a real Redis 7.0 cluster (see `fixtures/README.md`): the three
//! commands (CLUSTER SHARDS in RESP2 and RESP3, SLOTS, NODES) taken from one node at one moment agree,
//! and each scenario shows what it should.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::live::{Capture, Parsed};
use slotwise_topology::{Health, MigrationDirection, NodeId, Topology, diff};

fn load(name: &str) -> Parsed {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    Capture::load(&dir)
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .parse()
}

fn ids(t: &Topology) -> BTreeSet<NodeId> {
    t.nodes().map(|n| n.id.clone()).collect()
}

const ALL: &[&str] = &[
    "healthy",
    "mid-reshard-source",
    "mid-reshard-target",
    "after-reshard",
    "mid-failover",
    "after-kill",
    "after-failover",
    "after-add-node",
    "tls",
    "hostnames",
];

#[test]
fn the_three_commands_agree_in_every_fixture() {
    for name in ALL {
        let p = load(name);
        for (format, t) in [
            ("shards", &p.shards),
            ("shards-resp3", &p.shards_resp3),
            ("slots", &p.slots),
        ] {
            assert!(
                t.same_slot_owners(&p.nodes),
                "{name}: {format} and nodes disagree"
            );
            assert!(
                t.problems().is_empty(),
                "{name}: {format}: {:?}",
                t.problems()
            );
            assert!(t.is_fully_covered(), "{name}: {format}");
            assert_eq!(t.responder(), p.nodes.responder(), "{name}: {format}");
        }
        assert!(
            p.nodes.problems().is_empty(),
            "{name}: {:?}",
            p.nodes.problems()
        );
        assert_eq!(ids(&p.shards), ids(&p.nodes), "{name}");
        assert_eq!(ids(&p.shards), ids(&p.shards_resp3), "{name}");
        // CLUSTER SLOTS leaves out replicas that are not serving yet (Redis 7.0: replication offset 0),
        // so its nodes are a subset.
        assert!(ids(&p.slots).is_subset(&ids(&p.nodes)), "{name}");
        assert!(diff(&p.shards, &p.nodes).slots_moved.is_empty(), "{name}");
    }
}

#[test]
fn healthy() {
    let p = load("healthy");
    assert_eq!(p.shards.shards().len(), 3);
    assert!(p.shards.shards().iter().all(|s| s.replicas.len() == 1));
    assert!(p.nodes.nodes().all(|n| n.health == Health::Online));
    assert!(p.nodes.migrations().is_empty());
}

#[test]
fn mid_reshard_has_migrating_and_importing_markers() {
    let source = load("mid-reshard-source");
    let target = load("mid-reshard-target");
    let m = &source.nodes.migrations()[0];
    assert_eq!(m.direction, MigrationDirection::Migrating);
    assert_eq!(Some(&m.node), source.nodes.responder());
    let i = &target.nodes.migrations()[0];
    assert_eq!(i.direction, MigrationDirection::Importing);
    assert_eq!((i.slot, &i.peer, &i.node), (m.slot, &m.node, &m.peer));
    // The slot still belongs to the source until the migration ends.
    assert_eq!(source.nodes.primary_for_slot(m.slot).unwrap().id, m.node);
    let after = load("after-reshard");
    let d = diff(&source.nodes, &after.nodes);
    assert_eq!(d.slots_moved.len(), 1);
    let moved = &d.slots_moved[0];
    assert_eq!((moved.slots.start(), moved.slots.len()), (m.slot, 1));
    assert_eq!(
        (moved.from.as_ref(), moved.to.as_ref()),
        (Some(&m.node), Some(&m.peer))
    );
    assert!(after.nodes.migrations().is_empty());
}

#[test]
fn failover_by_kill() {
    let mid = load("mid-failover");
    let after = load("after-kill");
    let failing: Vec<_> = mid
        .nodes
        .nodes()
        .filter(|n| matches!(n.health, Health::PossiblyFailed | Health::Failed))
        .collect();
    assert_eq!(
        failing.len(),
        1,
        "the killed primary is suspected or failed"
    );
    let killed = failing[0].clone();
    assert!(
        mid.nodes
            .shards()
            .iter()
            .any(|s| s.primary.id == killed.id && !s.slots.is_empty())
    );

    for (old, new) in [(&mid.nodes, &after.nodes), (&mid.shards, &after.shards)] {
        let d = diff(old, new);
        assert_eq!(d.primaries_changed.len(), 1, "{d}");
        assert_eq!(d.primaries_changed[0].old, killed.id);
        assert!(d.slots_moved.is_empty(), "{d}");
        assert!(
            d.nodes_added.is_empty() && d.nodes_removed.is_empty(),
            "{d}"
        );
        assert_eq!(
            d.connections.close,
            vec![killed.endpoint.clone().unwrap()],
            "{d}"
        );
        assert!(d.connections.connect.is_empty(), "{d}");
    }
    // After the kill the dead primary is listed as a failed primary with no slots.
    let dead = after
        .shards
        .shards()
        .iter()
        .find(|s| s.primary.id == killed.id)
        .unwrap();
    assert_eq!(dead.primary.health, Health::Failed);
    assert!(dead.slots.is_empty());
}

#[test]
fn graceful_failover() {
    let before = load("after-kill");
    let after = load("after-failover");
    let d = diff(&before.shards, &after.shards);
    assert_eq!(d.primaries_changed.len(), 1, "{d}");
    assert!(d.slots_moved.is_empty() && d.nodes_added.is_empty(), "{d}");
    assert_eq!(d.replicas_changed.len(), 1, "{d}");
}

#[test]
fn add_node() {
    let before = load("after-failover");
    let after = load("after-add-node");
    let d = diff(&before.nodes, &after.nodes);
    assert_eq!(d.nodes_added.len(), 2, "{d}");
    let new_primary = d
        .nodes_added
        .iter()
        .find(|n| n.role == slotwise_topology::Role::Primary)
        .unwrap();
    assert!(!d.slots_moved.is_empty());
    assert!(
        d.slots_moved
            .iter()
            .all(|m| m.to.as_ref() == Some(&new_primary.id)),
        "{d}"
    );
    assert_eq!(d.connections.connect.len(), 2, "{d}");
}

#[test]
fn tls_ports() {
    let p = load("tls");
    for n in p.shards.nodes() {
        assert!(n.tls_port.is_some() && n.port.is_none(), "{n:?}");
        assert_eq!(n.endpoint.as_ref().map(|e| e.port), n.tls_port);
    }
}

#[test]
fn announced_hostnames() {
    let p = load("hostnames");
    for t in [&p.shards, &p.slots] {
        assert!(
            t.nodes()
                .all(|n| n.endpoint.as_ref().unwrap().host == "localhost")
        );
        assert!(t.nodes().all(|n| n.ip.as_deref() == Some("127.0.0.1")));
    }
    assert!(
        p.nodes
            .nodes()
            .all(|n| n.hostname.as_deref() == Some("localhost"))
    );
}
