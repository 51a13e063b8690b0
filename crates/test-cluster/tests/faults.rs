//! Failover, kill and restart on real clusters (one cluster per test; tests run in parallel).

use std::time::Duration;

use slotwise_test_cluster::{Cluster, ClusterOptions, Role};

fn start() -> Cluster {
    Cluster::start(&ClusterOptions::default()).unwrap()
}

#[test]
fn failover_swaps_roles() {
    let cluster = start();
    let primary = cluster.primaries().unwrap()[0].clone();
    let replica = cluster.replicas_of(primary.port).unwrap()[0].clone();
    let promotion = cluster.failover(primary.port).unwrap();
    eprintln!("graceful failover: {promotion:?}");
    assert_eq!(promotion.old_primary, primary.port);
    assert_eq!(promotion.new_primary, replica.port);

    let old = cluster.node(primary.port).unwrap();
    let new = cluster.node(replica.port).unwrap();
    assert_eq!(new.role, Role::Primary);
    assert_eq!(
        new.slots, primary.slots,
        "the replica took over exactly the old slots"
    );
    assert_eq!(old.role, Role::Replica);
    assert_eq!(old.primary_id.as_deref(), Some(new.id.as_str()));
    assert!(old.slots.is_empty());
    // Failing over the replica side works too (and swaps them back).
    let back = cluster.failover(primary.port).unwrap();
    assert_eq!(back.new_primary, primary.port);
    assert_eq!(cluster.node(primary.port).unwrap().role, Role::Primary);
}

#[test]
fn kill_promotes_the_replica_and_restart_rejoins_as_replica() {
    let cluster = start();
    let primary = cluster.primaries().unwrap()[1].clone();
    let replica = cluster.replicas_of(primary.port).unwrap()[0].clone();
    let key = key_for(&cluster, primary.port);
    cluster
        .conn(primary.port)
        .unwrap()
        .ok(["SET", key.as_str(), "survives"])
        .unwrap();
    // Let the write reach the replica before the primary dies.
    cluster
        .conn(primary.port)
        .unwrap()
        .ok(["WAIT", "1", "2000"])
        .unwrap();

    let promotion = cluster.kill(primary.port).unwrap();
    eprintln!("kill → promotion: {promotion:?}");
    let node_timeout = Duration::from_millis(cluster.options().node_timeout_ms);
    assert_eq!(promotion.new_primary, replica.port);
    // A replica cannot be promoted before the primary has been unreachable for node-timeout …
    assert!(promotion.promoted_after >= node_timeout, "{promotion:?}");
    // … and with one replica it should take little more (failure report, election delay ≤ 1 s).
    assert!(
        promotion.promoted_after < node_timeout + Duration::from_secs(6),
        "{promotion:?}"
    );
    let dead = cluster.node(primary.port).unwrap();
    assert!(!dead.is_up());
    assert!(!cluster.ports().contains(&primary.port));
    let new = cluster.node(replica.port).unwrap();
    assert_eq!(new.role, Role::Primary);
    assert_eq!(new.slots, primary.slots);
    let value = cluster
        .conn(replica.port)
        .unwrap()
        .ok(["GET", key.as_str()])
        .unwrap();
    assert_eq!(value.as_bytes().map(|b| &b[..]), Some(&b"survives"[..]));

    cluster.restart(primary.port).unwrap();
    let back = cluster.node(primary.port).unwrap();
    assert!(back.is_up());
    assert_eq!(back.id, primary.id, "same node id after restart");
    assert_eq!(back.role, Role::Replica);
    assert_eq!(back.primary_id.as_deref(), Some(new.id.as_str()));
    // The rejoined replica has the data (full sync from the new primary).
    let mut conn = cluster.conn(primary.port).unwrap();
    conn.ok(["READONLY"]).unwrap();
    let value = conn.ok(["GET", key.as_str()]).unwrap();
    assert_eq!(value.as_bytes().map(|b| &b[..]), Some(&b"survives"[..]));
}

#[test]
fn faults_refuse_what_they_cannot_do() {
    let cluster = start();
    let primary = cluster.primaries().unwrap()[2].clone();
    let replica = cluster.replicas_of(primary.port).unwrap()[0].clone();
    let err = cluster.kill(replica.port).unwrap_err().to_string();
    assert!(err.contains("replica"), "{err}");
    let err = cluster.restart(primary.port).unwrap_err().to_string();
    assert!(err.contains("running"), "{err}");
    let err = cluster.failover(1).unwrap_err().to_string();
    assert!(err.contains("port 1"), "{err}");
}

/// A key whose slot the primary on `port` owns.
fn key_for(cluster: &Cluster, port: u16) -> String {
    let mut conn = cluster.conn(port).unwrap();
    let node = cluster.node(port).unwrap();
    for i in 0.. {
        let key = format!("key:{i}");
        let slot = conn
            .ok(["CLUSTER", "KEYSLOT", key.as_str()])
            .unwrap()
            .as_integer()
            .unwrap() as u16;
        if node.slots.iter().any(|r| r.contains(&slot)) {
            return key;
        }
    }
    unreachable!()
}
