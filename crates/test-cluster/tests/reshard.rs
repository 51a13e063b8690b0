//! Live resharding, adding and removing shards on real clusters.

use std::collections::BTreeMap;

use slotwise_test_cluster::{Cluster, ClusterOptions, ReshardStep, Role};

#[test]
fn reshard_moves_exactly_n_slots_with_their_keys() {
    let cluster = Cluster::start(&ClusterOptions::default()).unwrap();
    let primaries = cluster.primaries().unwrap();
    let (from, to) = (primaries[0].clone(), primaries[1].clone());
    // Keys in the slots about to move (the source's highest ones) and elsewhere.
    let keys = write_keys(&cluster, 2000);

    let mut asked = 0;
    let mut mid_state_checked = false;
    let mut steps = 0;
    let moved = cluster
        .reshard_with(from.port, to.port, 20, &mut |step| {
            steps += 1;
            match step {
                ReshardStep::Migrating { slot, .. } if !mid_state_checked => {
                    // Mid-migration: the source says MIGRATING, the target IMPORTING.
                    let nodes = cluster
                        .conn(from.port)
                        .unwrap()
                        .text(["CLUSTER", "NODES"])
                        .unwrap();
                    assert!(nodes.contains(&format!("[{slot}->-{}]", to.id)), "{nodes}");
                    let nodes = cluster
                        .conn(to.port)
                        .unwrap()
                        .text(["CLUSTER", "NODES"])
                        .unwrap();
                    assert!(
                        nodes.contains(&format!("[{slot}-<-{}]", from.id)),
                        "{nodes}"
                    );
                    mid_state_checked = true;
                }
                ReshardStep::KeysMoved { slot, keys } if keys > 0 && asked == 0 => {
                    // Keys gone from the source, slot not yet handed over: the source answers ASK.
                    let key = find_key(&cluster, slot);
                    let reply = cluster
                        .conn(from.port)
                        .unwrap()
                        .cmd(["GET", key.as_str()])
                        .unwrap();
                    let text = String::from_utf8_lossy(reply.as_bytes().unwrap()).into_owned();
                    assert_eq!(text, format!("ASK {slot} 127.0.0.1:{}", to.port));
                    asked += 1;
                }
                _ => {}
            }
            Ok(())
        })
        .unwrap();
    assert_eq!(moved.len(), 20);
    assert_eq!(steps, 60, "three steps per slot");
    assert!(mid_state_checked && asked == 1);
    let last = *from.slots.last().unwrap().end();
    assert_eq!(moved, ((last - 19)..=last).collect::<Vec<u16>>());

    let before: BTreeMap<u16, usize> = primaries.iter().map(|n| (n.port, n.slot_count())).collect();
    let after = cluster.nodes().unwrap();
    let count = |port: u16| after.iter().find(|n| n.port == port).unwrap().slot_count();
    assert_eq!(count(from.port), before[&from.port] - 20);
    assert_eq!(count(to.port), before[&to.port] + 20);
    let to_now = after.iter().find(|n| n.port == to.port).unwrap();
    for slot in &moved {
        assert!(to_now.slots.iter().any(|r| r.contains(slot)));
    }
    assert_keys(&cluster, &keys);
    // Refuses impossible requests with a reason.
    let err = cluster
        .reshard(from.port, to.port, 100_000)
        .unwrap_err()
        .to_string();
    assert!(err.contains("owns only"), "{err}");
}

#[test]
fn add_node_then_remove_node_keep_full_coverage() {
    let cluster = Cluster::start(&ClusterOptions::default()).unwrap();
    let keys = write_keys(&cluster, 500);
    let t = std::time::Instant::now();
    let added = cluster.add_node().unwrap();
    eprintln!("add_node: {added:?} in {:?}", t.elapsed());
    assert_eq!(added.replicas.len(), 1);
    assert_eq!(added.slots_moved, 4096);
    let nodes = cluster.nodes().unwrap();
    assert_eq!(nodes.len(), 8);
    let primaries: Vec<_> = nodes.iter().filter(|n| n.role == Role::Primary).collect();
    assert_eq!(primaries.len(), 4);
    assert_eq!(
        primaries.iter().map(|n| n.slot_count()).sum::<usize>(),
        16384
    );
    for p in &primaries {
        assert!((4096..=4096).contains(&p.slot_count()), "{p:?}");
    }
    let replica = nodes.iter().find(|n| n.port == added.replicas[0]).unwrap();
    assert_eq!(replica.role, Role::Replica);
    assert_eq!(
        replica.primary_id.as_deref(),
        Some(
            nodes
                .iter()
                .find(|n| n.port == added.primary)
                .unwrap()
                .id
                .as_str()
        )
    );
    assert_keys(&cluster, &keys);

    // Remove an original primary: its slots spread over the other three, it and its replica go.
    let victim = primaries
        .iter()
        .find(|n| n.port != added.primary)
        .unwrap()
        .port;
    let victim_replica = cluster.replicas_of(victim).unwrap()[0].port;
    let t = std::time::Instant::now();
    cluster.remove_node(victim).unwrap();
    eprintln!("remove_node in {:?}", t.elapsed());
    let nodes = cluster.nodes().unwrap();
    assert_eq!(nodes.len(), 6);
    assert!(
        nodes
            .iter()
            .all(|n| n.port != victim && n.port != victim_replica)
    );
    let primaries: Vec<_> = nodes.iter().filter(|n| n.role == Role::Primary).collect();
    assert_eq!(primaries.len(), 3);
    assert_eq!(
        primaries.iter().map(|n| n.slot_count()).sum::<usize>(),
        16384
    );
    for port in cluster.ports() {
        let nodes = cluster
            .conn(port)
            .unwrap()
            .text(["CLUSTER", "NODES"])
            .unwrap();
        assert_eq!(
            nodes.lines().count(),
            6,
            "{port} still knows a removed node:\n{nodes}"
        );
    }
    assert_keys(&cluster, &keys);
}

/// Writes `n` keys, each through the primary that owns it; returns (key, value) pairs.
fn write_keys(cluster: &Cluster, n: usize) -> Vec<(String, String)> {
    let mut conns: BTreeMap<u16, _> = BTreeMap::new();
    let mut out = Vec::new();
    for i in 0..n {
        let key = format!("k{i}");
        let value = format!("v{i}");
        let owner = owner(cluster, &key);
        let conn = conns
            .entry(owner)
            .or_insert_with(|| cluster.conn(owner).unwrap());
        conn.ok(["SET", key.as_str(), value.as_str()]).unwrap();
        out.push((key, value));
    }
    out
}

/// Every key reads back its value from the primary that owns it now.
fn assert_keys(cluster: &Cluster, keys: &[(String, String)]) {
    let nodes = cluster.nodes().unwrap();
    let mut conns: BTreeMap<u16, _> = BTreeMap::new();
    for (key, value) in keys {
        let slot = slot_of(cluster, key);
        let owner = nodes
            .iter()
            .find(|n| n.role == Role::Primary && n.slots.iter().any(|r| r.contains(&slot)))
            .unwrap()
            .port;
        let conn = conns
            .entry(owner)
            .or_insert_with(|| cluster.conn(owner).unwrap());
        let got = conn.ok(["GET", key.as_str()]).unwrap();
        assert_eq!(
            got.as_bytes().map(|b| b.to_vec()),
            Some(value.as_bytes().to_vec()),
            "{key} on {owner}"
        );
    }
}

fn owner(cluster: &Cluster, key: &str) -> u16 {
    let slot = slot_of(cluster, key);
    cluster
        .primaries()
        .unwrap()
        .into_iter()
        .find(|n| n.slots.iter().any(|r| r.contains(&slot)))
        .unwrap()
        .port
}

fn slot_of(cluster: &Cluster, key: &str) -> u16 {
    let seed = cluster.seed().unwrap().port();
    cluster
        .conn(seed)
        .unwrap()
        .ok(["CLUSTER", "KEYSLOT", key])
        .unwrap()
        .as_integer()
        .unwrap() as u16
}

/// One of the keys written by `write_keys` that hashes to `slot`.
fn find_key(cluster: &Cluster, slot: u16) -> String {
    (0..2000)
        .map(|i| format!("k{i}"))
        .find(|k| slot_of(cluster, k) == slot)
        .unwrap()
}
