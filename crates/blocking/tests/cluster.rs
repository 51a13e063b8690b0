//! slotwise-blocking against real `redis-server` clusters: a single hostname seed, keys in every
//! slot, many concurrent threads, TLS + ACL with announced hostnames (SNI) and mutual TLS, a wrong
//! password, shutdown.

use slotwise_blocking::prelude::*;
use std::thread;
use std::time::{Duration, Instant};

use slotwise_blocking::{
    Client, ClientConfig, Error, Frame, Request, RequestError, TlsOptions, commands,
};
use slotwise_test_cluster::{Cluster, ClusterOptions};

/// One key per slot: `keys[slot]` hashes to `slot` (16384 keys).
fn keys_in_every_slot() -> Vec<String> {
    slotwise_test_cluster::slot_tags()
        .iter()
        .map(|tag| format!("k{{{tag}}}"))
        .collect()
}

fn plain_cluster() -> Cluster {
    Cluster::start(&ClusterOptions {
        primaries: 3,
        replicas: 0,
        ..Default::default()
    })
    .expect("cluster starts")
}

fn seed(cluster: &Cluster) -> String {
    format!("localhost:{}", cluster.seed().expect("a seed").port())
}

#[test]
fn every_slot_through_one_hostname_seed() {
    let cluster = plain_cluster();
    let started = Instant::now();
    let client = Client::connect(ClientConfig::new([seed(&cluster)]).unwrap()).expect("connects");
    let keys = keys_in_every_slot();
    let sets: Vec<_> = keys
        .iter()
        .map(|k| client.submit(commands::set(k, k)))
        .collect();
    for s in sets {
        assert_eq!(s.wait().unwrap(), Frame::SimpleString("OK".into()));
    }
    for (i, k) in keys.iter().enumerate().step_by(7) {
        assert_eq!(
            client.get(k).unwrap().as_deref(),
            Some(k.as_bytes()),
            "slot {i}"
        );
    }
    let counters: Vec<_> = keys
        .iter()
        .map(|k| client.submit(commands::incr(format!("{k}:n"))))
        .collect();
    for c in counters {
        assert_eq!(c.wait().unwrap(), Frame::Integer(1));
    }
    client.set_ex("ttl", "v", Duration::from_secs(60)).unwrap();
    assert!(client.ttl("ttl").unwrap().unwrap() > Duration::from_secs(50));
    assert_eq!(client.incr_by("by", 5).unwrap(), 5);
    assert!(client.exists("by").unwrap());
    assert!(client.del("by").unwrap());
    assert!(client.expire("ttl", Duration::from_secs(5)).unwrap());
    client.cmd(["LPUSH", "list", "x"]).unwrap();
    let e = client.cmd(["INCR", "list"]).unwrap_err();
    assert_eq!(e.server_code(), Some("WRONGTYPE"), "{e}");
    let e = client.cmd(["MSETNX", "a", "1", "b", "2"]).unwrap_err();
    assert!(matches!(e, Error::Request(RequestError::CrossSlot)), "{e}");
    let before = client.stats().unwrap();
    assert_eq!(before.connections, 3, "{before:?}");
    let e = client
        .send(Request::new(["BLPOP", "empty-list", "0"]).timeout(Duration::from_millis(200)))
        .unwrap_err();
    assert!(e.is_timeout(), "{e}");
    // The core's counters: every request above, each ended once; the two client-side failures.
    let stats = client.stats().unwrap();
    let requests = 2 * keys.len() + keys.iter().step_by(7).count() + 6 + 4;
    assert_eq!(stats.requests, requests as u64, "{stats:?}");
    assert_eq!(stats.replies + stats.failed, stats.requests, "{stats:?}");
    assert_eq!((stats.failed, stats.timeouts), (2, 1), "{stats:?}");
    // The BLPOP was written before its deadline: it may have run (it pops), and says so.
    assert!(e.maybe_applied(), "{e}");
    assert_eq!(stats.maybe_applied, 1, "{stats:?}");
    // It ran on a dedicated connection, which the core closed (the server still blocks in it):
    // not a node failure, and the shared connections were never involved.
    assert_eq!(
        stats.connection_failures, before.connection_failures,
        "{stats:?}"
    );
    assert_eq!(stats.connections, before.connections, "{stats:?}");
    eprintln!("every slot: {:?}", started.elapsed());
    client.shutdown();
    assert!(matches!(client.stats(), Err(Error::Closed)));
}

#[test]
fn many_concurrent_threads_share_one_client() {
    let cluster = plain_cluster();
    let config = ClientConfig::new([seed(&cluster)])
        .unwrap()
        .client_name("slotwise-test");
    let client = Client::connect(config).expect("connects");
    let started = Instant::now();
    thread::scope(|s| {
        for t in 0..32 {
            let client = &client;
            s.spawn(move || {
                for i in 0..200 {
                    let key = format!("thread{t}:key{i}");
                    client.set(&key, i.to_string()).unwrap();
                    let v: i64 = client.query(["GET", key.as_str()]).unwrap();
                    assert_eq!(v, i);
                    client.incr(format!("thread{t}:count")).unwrap();
                }
            });
        }
    });
    eprintln!("32 threads x 200 x 3 ops: {:?}", started.elapsed());
    for t in 0..32 {
        let n: i64 = client.query(["GET", &format!("thread{t}:count")]).unwrap();
        assert_eq!(n, 200);
    }
    assert_eq!(
        cluster.clients_named("slotwise-test").unwrap(),
        vec![1, 1, 1]
    );
    drop(client);
    let t = Instant::now();
    while cluster.clients_named("slotwise-test").unwrap() != vec![0, 0, 0] {
        assert!(
            t.elapsed() < Duration::from_secs(3),
            "connections left open"
        );
        thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn tls_acl_announced_hostnames_and_mutual_tls() {
    let cluster = Cluster::start(&ClusterOptions {
        primaries: 3,
        replicas: 0,
        tls: true,
        acl: Some(("app".into(), "s3cret".into())),
        announce_hostname: Some("localhost".into()),
        extra_args: vec!["--tls-auth-clients".into(), "yes".into()],
        ..Default::default()
    })
    .expect("TLS cluster starts");
    let files = cluster.tls_files().expect("TLS files").clone();
    let port = cluster.seed().unwrap().port();
    let tls =
        || TlsOptions::ca_file(&files.ca_cert).client_cert(&files.client_cert, &files.client_key);
    let config = |seed: String| {
        ClientConfig::new([seed])
            .unwrap()
            .connect_wait(Duration::from_secs(5))
    };

    let client = Client::connect(
        config(format!("localhost:{port}"))
            .user("app", "s3cret")
            .tls(tls()),
    )
    .expect("TLS + ACL connect");
    for k in keys_in_every_slot().iter().step_by(97) {
        client.set(k, "v").unwrap();
        assert_eq!(client.get(k).unwrap().as_deref(), Some(&b"v"[..]));
    }
    // A large value crosses many TLS records both ways.
    let big = "x".repeat(1 << 20);
    client.set("big", &big).unwrap();
    assert_eq!(client.get("big").unwrap().map(|b| b.len()), Some(big.len()));
    let who: String = client.query(["ACL", "WHOAMI"]).unwrap();
    assert_eq!(who, "app");
    client.shutdown();

    let t = Instant::now();
    let e = Client::connect(
        config(format!("localhost:{port}"))
            .user("app", "wrong")
            .tls(tls()),
    )
    .unwrap_err();
    assert!(e.is_auth(), "{e}");
    assert!(e.to_string().contains("WRONGPASS"), "{e}");
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());

    let e = Client::connect(
        config(format!("127.0.0.1:{port}"))
            .user("app", "s3cret")
            .tls(tls().server_name("not-this-host.example")),
    )
    .unwrap_err();
    assert!(matches!(e, Error::Connect { .. }), "{e}");
    assert!(e.to_string().to_lowercase().contains("certificate"), "{e}");

    let e = Client::connect(
        config(format!("localhost:{port}"))
            .user("app", "s3cret")
            .connect_wait(Duration::from_secs(2))
            .tls(TlsOptions::ca_file(&files.ca_cert)),
    )
    .unwrap_err();
    assert!(matches!(e, Error::Connect { .. }), "{e}");
    eprintln!("no client certificate: {e}");
}

#[test]
fn shutdown_ends_pending_requests_and_refuses_new_ones() {
    let cluster = plain_cluster();
    let client = Client::connect(ClientConfig::new([seed(&cluster)]).unwrap()).unwrap();
    let other = client.clone();
    let blocked = client.submit(Request::new(["BLPOP", "nothing", "10"]));
    thread::sleep(Duration::from_millis(100));
    let t = Instant::now();
    client.shutdown();
    assert!(matches!(blocked.wait(), Err(Error::Closed)));
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    assert!(matches!(other.get("k"), Err(Error::Closed)));
    assert!(other.is_closed());

    let dead = slotwise_test_cluster::free_port().unwrap();
    let e = Client::connect(
        ClientConfig::new([format!("127.0.0.1:{dead}")])
            .unwrap()
            .connect_wait(Duration::from_millis(500)),
    )
    .unwrap_err();
    assert!(matches!(e, Error::Connect { .. }), "{e}");
    assert!(e.to_string().contains(&dead.to_string()), "{e}");
}
