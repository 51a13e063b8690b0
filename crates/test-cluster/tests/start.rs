//! Starting, agreement, cleanup, detach/attach, and use from several threads.

use slotwise_test_cluster::{Cluster, ClusterOptions, ClusterState, Role};

#[test]
fn three_by_one_covers_all_slots_and_agrees() {
    let started = std::time::Instant::now();
    let cluster = Cluster::start(&ClusterOptions::default()).unwrap();
    eprintln!("3x1 cluster started in {:?}", started.elapsed());
    let nodes = cluster.nodes().unwrap();
    assert_eq!(nodes.len(), 6);
    let primaries: Vec<_> = nodes.iter().filter(|n| n.role == Role::Primary).collect();
    assert_eq!(primaries.len(), 3);
    let covered: usize = primaries.iter().map(|n| n.slot_count()).sum();
    assert_eq!(covered, 16384);
    for p in &primaries {
        // Even split: 5461 or 5462 slots each.
        assert!((5461..=5462).contains(&p.slot_count()), "{p:?}");
        let replicas = cluster.replicas_of(p.port).unwrap();
        assert_eq!(replicas.len(), 1, "replicas of {}", p.port);
        assert_eq!(replicas[0].role, Role::Replica);
    }
    // Every node answers CLUSTER SLOTS with the same three ranges.
    let mut answers = Vec::new();
    for port in cluster.ports() {
        let slots = cluster
            .conn(port)
            .unwrap()
            .ok(["CLUSTER", "SLOTS"])
            .unwrap();
        let mut ranges: Vec<(i64, i64)> = slots
            .as_items()
            .unwrap()
            .iter()
            .map(|r| {
                let r = r.as_items().unwrap();
                (r[0].as_integer().unwrap(), r[1].as_integer().unwrap())
            })
            .collect();
        ranges.sort();
        answers.push(ranges);
    }
    assert!(answers.windows(2).all(|w| w[0] == w[1]), "{answers:?}");
    assert_eq!(answers[0].len(), 3);
    // A write through the right node works; the wrong node redirects.
    let seed = cluster.seed().unwrap();
    assert!(cluster.ports().contains(&seed.port()));
    let pids: Vec<u32> = nodes.iter().filter_map(|n| n.pid).collect();
    let dir = cluster.dir().to_path_buf();
    drop(cluster);
    for pid in pids {
        assert!(
            !std::path::Path::new(&format!("/proc/{pid}")).exists()
                || std::fs::read_to_string(format!("/proc/{pid}/cmdline"))
                    .map(|c| !c.contains("redis-server"))
                    .unwrap_or(true),
            "redis-server {pid} still running after drop"
        );
    }
    assert!(!dir.exists(), "{} not removed", dir.display());
}

#[test]
fn detached_cluster_survives_and_attach_finds_it() {
    let dir = std::env::temp_dir().join(format!("slotwise-detach-{}", std::process::id()));
    let options = ClusterOptions {
        primaries: 1,
        replicas: 1,
        dir: Some(dir.clone()),
        ..Default::default()
    };
    let cluster = Cluster::start(&options).expect("starting the 1×1 cluster");
    let state = cluster.detach(); // dropped here without killing anything
    let path = dir.join("state");
    state.save(&path).expect("saving the state");
    let pids: Vec<u32> = state.nodes.iter().filter_map(|n| n.pid).collect();
    assert_eq!(pids.len(), 2, "{state:?}");
    for pid in &pids {
        assert!(
            std::path::Path::new(&format!("/proc/{pid}")).exists(),
            "redis-server {pid} gone after detach"
        );
    }

    let load = || ClusterState::load(&path).expect("loading the state");
    let attached = Cluster::attach(load()).expect("attaching");
    assert_eq!(attached.ports().len(), 2);
    let nodes = attached.nodes().expect("the attached cluster's nodes");
    // Which of the two is primary is not the point (a loaded machine may see a failover).
    let primaries: Vec<_> = nodes.iter().filter(|n| n.role == Role::Primary).collect();
    assert_eq!(primaries.len(), 1, "{nodes:?}");
    assert_eq!(primaries[0].slot_count(), 16384, "{nodes:?}");
    drop(attached); // an attached cluster is left running on drop …
    let attached = Cluster::attach(load()).expect("attaching again");
    assert_eq!(attached.ports().len(), 2);
    attached.stop().expect("stopping the attached cluster"); // … until stopped.
    for pid in &pids {
        // Gone, or a zombie (its parent, the shell that started it, reaps it).
        let alive = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| {
                let state = s.rsplit(')').next().unwrap_or("").trim_start();
                !(state.starts_with('Z') || state.starts_with('X'))
            })
            .unwrap_or(false);
        assert!(!alive, "redis-server {pid} still running after stop");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn cluster_is_send_and_sync_and_faults_run_beside_traffic() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Cluster>();

    let cluster = Cluster::start(&ClusterOptions::default()).unwrap();
    let primary = cluster.primaries().unwrap()[0].port;
    let stop = std::sync::atomic::AtomicBool::new(false);
    let (replies, promotion) = std::thread::scope(|s| {
        let traffic = s.spawn(|| {
            // A naive client pinned to the primary: every command gets a reply (OK, or MOVED once
            // the replica has taken over) — none hangs or fails at the connection level.
            let mut conn = cluster.conn(primary).unwrap();
            let mut replies = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                conn.cmd(["SET", "{traffic}", "x"]).unwrap();
                assert!(cluster.nodes().is_ok());
                replies += 1;
            }
            replies
        });
        let promotion = cluster.failover(primary).unwrap();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        (traffic.join().unwrap(), promotion)
    });
    assert!(replies > 0);
    assert_eq!(promotion.old_primary, primary);
    assert_eq!(cluster.node(primary).unwrap().role, Role::Replica);
}
