//! Live tests on a real Redis Cluster (started on free loopback ports, killed on drop): while and after
//! a fault, the three commands parsed from one node at one moment agree on the slot map, and
//! `diff(before, after)` names exactly what the fault changed.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::live::{Parsed, capture};
use slotwise_test_cluster::{Cluster, ClusterOptions};
use slotwise_topology::{Endpoint, NodeId, diff};

fn start() -> Cluster {
    Cluster::start(&ClusterOptions::default()).expect("start a 3×2 cluster")
}

fn id_of(cluster: &Cluster, port: u16) -> NodeId {
    NodeId::new(&cluster.node(port).unwrap().id).unwrap()
}

/// The three commands from `port`, which must agree on every slot's primary. The cluster may change
/// between the commands (they are a few milliseconds apart), so a disagreement is retried a few times
/// before it counts: the spec allows transient states, not lasting ones.
fn agreeing_view(cluster: &Cluster, port: u16) -> Parsed {
    let mut last = String::new();
    for _ in 0..5 {
        let Ok(c) = capture(cluster, port) else {
            std::thread::sleep(Duration::from_millis(50));
            continue;
        };
        let p = c.parse();
        let agree = p.shards.same_slot_owners(&p.nodes)
            && p.slots.same_slot_owners(&p.nodes)
            && p.shards_resp3.same_slot_owners(&p.nodes);
        if agree {
            return p;
        }
        last = format!(
            "shards:\n{}\nslots:\n{}\nnodes:\n{}",
            p.shards, p.slots, p.nodes
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("the three commands from {port} kept disagreeing:\n{last}");
}

/// Runs `fault` while another thread keeps checking that the three commands agree on `watch`.
fn during<T>(cluster: &Cluster, watch: u16, fault: impl FnOnce() -> T + Send) -> (T, usize)
where
    T: Send,
{
    let done = AtomicBool::new(false);
    std::thread::scope(|s| {
        let checker = s.spawn(|| {
            let mut checks = 0;
            while !done.load(Ordering::Relaxed) {
                agreeing_view(cluster, watch);
                checks += 1;
                std::thread::sleep(Duration::from_millis(25));
            }
            checks
        });
        let out = fault();
        done.store(true, Ordering::Relaxed);
        (out, checker.join().unwrap())
    })
}

#[test]
fn failover_then_kill_then_restart() {
    let cluster = start();
    let primaries = cluster.primaries().unwrap();
    let (watch, p1, p2) = (primaries[0].port, primaries[1].port, primaries[2].port);

    // Graceful failover of p1.
    let before = agreeing_view(&cluster, watch);
    let (promotion, checks) = during(&cluster, watch, || cluster.failover(p1).unwrap());
    assert!(checks > 0);
    let after = agreeing_view(&cluster, watch);
    for (old, new) in [
        (&before.shards, &after.shards),
        (&before.nodes, &after.nodes),
    ] {
        let d = diff(old, new);
        assert_eq!(d.primaries_changed.len(), 1, "{d}");
        assert_eq!(d.primaries_changed[0].old, id_of(&cluster, p1));
        assert_eq!(
            d.primaries_changed[0].new,
            id_of(&cluster, promotion.new_primary)
        );
        assert!(d.slots_moved.is_empty(), "{d}");
        assert!(
            d.nodes_added.is_empty() && d.nodes_removed.is_empty(),
            "{d}"
        );
        assert!(
            d.connections.connect.is_empty() && d.connections.close.is_empty(),
            "{d}"
        );
    }

    // SIGKILL of p2: its replica is promoted; the dead node is a failed primary without slots.
    let before = after;
    let killed = id_of(&cluster, p2);
    let (promotion, _) = during(&cluster, watch, || cluster.kill(p2).unwrap());
    let after = agreeing_view(&cluster, watch);
    for (old, new) in [
        (&before.shards, &after.shards),
        (&before.nodes, &after.nodes),
    ] {
        let d = diff(old, new);
        assert_eq!(d.primaries_changed.len(), 1, "{d}");
        assert_eq!(d.primaries_changed[0].old, killed);
        assert_eq!(
            d.primaries_changed[0].new,
            id_of(&cluster, promotion.new_primary)
        );
        assert!(d.slots_moved.is_empty(), "{d}");
        assert_eq!(
            d.connections.close,
            vec![Endpoint::new("127.0.0.1", p2)],
            "{d}"
        );
        assert!(d.connections.connect.is_empty(), "{d}");
    }

    // Restart: p2 comes back as a replica of the promoted node.
    let before = after;
    cluster.restart(p2).unwrap();
    let after = agreeing_view(&cluster, watch);
    let d = diff(&before.nodes, &after.nodes);
    assert!(
        d.primaries_changed.is_empty() && d.slots_moved.is_empty(),
        "{d}"
    );
    assert_eq!(d.replicas_changed.len(), 1, "{d}");
    assert_eq!(d.replicas_changed[0].added, vec![killed]);
    assert_eq!(
        d.connections.connect,
        vec![Endpoint::new("127.0.0.1", p2)],
        "{d}"
    );
}

#[test]
fn reshard_then_add_node() {
    let cluster = start();
    let primaries = cluster.primaries().unwrap();
    let (from, to) = (primaries[0].port, primaries[1].port);
    let watch = primaries[2].port;

    let before = agreeing_view(&cluster, watch);
    let (moved, _) = during(&cluster, watch, || cluster.reshard(from, to, 5).unwrap());
    let after = agreeing_view(&cluster, watch);
    for (old, new) in [
        (&before.shards, &after.shards),
        (&before.slots, &after.slots),
        (&before.nodes, &after.nodes),
    ] {
        let d = diff(old, new);
        let slots: Vec<u16> = d.slots_moved.iter().flat_map(|m| m.slots.slots()).collect();
        assert_eq!(slots, moved, "{d}");
        for m in &d.slots_moved {
            assert_eq!(m.from, Some(id_of(&cluster, from)));
            assert_eq!(m.to, Some(id_of(&cluster, to)));
        }
        assert!(
            d.primaries_changed.is_empty() && d.nodes_added.is_empty(),
            "{d}"
        );
        assert!(
            d.connections.connect.is_empty() && d.connections.close.is_empty(),
            "{d}"
        );
    }

    let before = after;
    let (added, _) = during(&cluster, watch, || cluster.add_node().unwrap());
    let after = agreeing_view(&cluster, watch);
    let new_primary = id_of(&cluster, added.primary);
    let d = diff(&before.nodes, &after.nodes);
    let mut ports: Vec<u16> = d
        .nodes_added
        .iter()
        .map(|n| n.endpoint.as_ref().unwrap().port)
        .collect();
    ports.sort();
    let mut expected = vec![added.primary];
    expected.extend(&added.replicas);
    expected.sort();
    assert_eq!(ports, expected, "{d}");
    let count: usize = d.slots_moved.iter().map(|m| m.slots.len()).sum();
    assert_eq!(count, added.slots_moved, "{d}");
    assert!(
        d.slots_moved
            .iter()
            .all(|m| m.to.as_ref() == Some(&new_primary)),
        "{d}"
    );
    assert!(
        d.primaries_changed.is_empty() && d.nodes_removed.is_empty(),
        "{d}"
    );
    assert_eq!(d.connections.connect.len(), expected.len(), "{d}");
}
