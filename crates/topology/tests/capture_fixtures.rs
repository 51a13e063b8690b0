//! Captures the fixtures under `tests/fixtures/` from real clusters. Not a test: run it by hand when the
//! fixtures need refreshing (see `tests/fixtures/README.md`):
//!
//! `cargo test -p slotwise-topology --test capture_fixtures -- --ignored --nocapture`

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::live::capture;
use slotwise_test_cluster::{Cluster, ClusterOptions, ReshardStep};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

#[test]
#[ignore = "starts real clusters and rewrites tests/fixtures; run by hand"]
fn capture_all() {
    let dir = fixtures();
    let cluster = Cluster::start(&ClusterOptions::default()).unwrap();
    let primaries = cluster.primaries().unwrap();
    let (p0, p1, p2) = (primaries[0].port, primaries[1].port, primaries[2].port);
    capture(&cluster, p0)
        .unwrap()
        .save(&dir.join("healthy"))
        .unwrap();

    // Mid-reshard: one slot MIGRATING on p0 and IMPORTING on p1.
    let mut saved = false;
    cluster
        .reshard_with(p0, p1, 1, &mut |step| {
            if let ReshardStep::Migrating { from, to, .. } = step
                && !saved
            {
                capture(&cluster, from)?.save(&dir.join("mid-reshard-source"))?;
                capture(&cluster, to)?.save(&dir.join("mid-reshard-target"))?;
                saved = true;
            }
            Ok(())
        })
        .unwrap();
    capture(&cluster, p0)
        .unwrap()
        .save(&dir.join("after-reshard"))
        .unwrap();

    // Mid-failover: p1 killed, seen as failing by p0, its replica not yet promoted.
    let killed = cluster
        .nodes()
        .unwrap()
        .into_iter()
        .find(|n| n.port == p1)
        .unwrap();
    std::thread::scope(|s| {
        let kill = s.spawn(|| cluster.kill(p1));
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            let c = capture(&cluster, p0).unwrap();
            let line = c
                .nodes
                .lines()
                .find(|l| l.starts_with(&killed.id))
                .unwrap()
                .to_string();
            let failing = line.contains("fail");
            let still_primary = line.contains("master") && line.split(' ').count() > 8;
            if failing && still_primary {
                c.save(&dir.join("mid-failover")).unwrap();
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        kill.join().unwrap().unwrap();
    });
    capture(&cluster, p0)
        .unwrap()
        .save(&dir.join("after-kill"))
        .unwrap();

    cluster.failover(p2).unwrap();
    capture(&cluster, p0)
        .unwrap()
        .save(&dir.join("after-failover"))
        .unwrap();

    cluster.add_node().unwrap();
    capture(&cluster, p0)
        .unwrap()
        .save(&dir.join("after-add-node"))
        .unwrap();
    drop(cluster);

    let tls = Cluster::start(&ClusterOptions {
        tls: true,
        ..Default::default()
    })
    .unwrap();
    let port = tls.primaries().unwrap()[0].port;
    capture(&tls, port).unwrap().save(&dir.join("tls")).unwrap();
    drop(tls);

    let named = Cluster::start(&ClusterOptions {
        announce_hostname: Some("localhost".into()),
        ..Default::default()
    })
    .unwrap();
    let port = named.primaries().unwrap()[0].port;
    capture(&named, port)
        .unwrap()
        .save(&dir.join("hostnames"))
        .unwrap();
}
