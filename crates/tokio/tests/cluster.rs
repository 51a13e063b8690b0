//! slotwise-tokio against real `redis-server` clusters: a single hostname seed, keys in every
//! slot, many concurrent callers, TLS + ACL with announced hostnames (SNI) and mutual TLS, a wrong
//! password, shutdown.

use slotwise_tokio::prelude::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use slotwise_test_cluster::{Cluster, ClusterOptions};

use slotwise_tokio::{
    Auth, Client, ClientConfig, CredentialsProvider, DownCause, Endpoint, Error, Frame, Request,
    RequestError, TlsOptions,
};

/// Gives the ACL user's password and counts how often it was asked.
struct Counting(AtomicUsize);

impl CredentialsProvider for Counting {
    fn credentials(&self, _endpoint: &Endpoint) -> Option<Auth> {
        self.0.fetch_add(1, Ordering::Relaxed);
        Some(Auth {
            username: Some("app".into()),
            password: "s3cret".into(),
        })
    }
}

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

/// A client of `cluster` with the default configuration.
async fn connected(cluster: &Cluster) -> Client {
    Client::connect(ClientConfig::new([seed(cluster)]).unwrap())
        .await
        .expect("connects")
}

fn seed(cluster: &Cluster) -> String {
    format!("localhost:{}", cluster.seed().expect("a seed").port())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_slot_through_one_hostname_seed() {
    let cluster = plain_cluster();
    let started = Instant::now();
    let client = Client::connect(ClientConfig::new([seed(&cluster)]).unwrap())
        .await
        .expect("connects");
    let keys = keys_in_every_slot();

    // SET every key (submitted together: one pipeline per node), then GET and INCR them.
    let sets: Vec<_> = keys
        .iter()
        .map(|k| client.submit(slotwise_tokio::commands::set(k, k)))
        .collect();
    for s in sets {
        assert_eq!(s.await.unwrap(), Frame::SimpleString("OK".into()));
    }
    for (i, k) in keys.iter().enumerate().step_by(7) {
        assert_eq!(
            client.get(k).await.unwrap().as_deref(),
            Some(k.as_bytes()),
            "slot {i}"
        );
    }
    let counters: Vec<_> = keys
        .iter()
        .map(|k| client.submit(slotwise_tokio::commands::incr(format!("{k}:n"))))
        .collect();
    for c in counters {
        assert_eq!(c.await.unwrap(), Frame::Integer(1));
    }

    // Typed helpers and conversions.
    assert!(
        client
            .set_ex("ttl", "v", Duration::from_secs(60))
            .await
            .is_ok()
    );
    let ttl = client.ttl("ttl").await.unwrap().unwrap();
    assert!(ttl > Duration::from_secs(50));
    assert_eq!(client.incr_by("by", 5).await.unwrap(), 5);
    assert!(client.exists("by").await.unwrap());
    assert!(client.del("by").await.unwrap());
    assert!(!client.exists("by").await.unwrap());
    assert!(client.expire("ttl", Duration::from_secs(5)).await.unwrap());
    let n: i64 = client
        .query(["GET", &format!("{}:n", keys[0])])
        .await
        .unwrap();
    assert_eq!(n, 1);

    // Error replies keep their code; client-side errors are typed.
    client.cmd(["LPUSH", "list", "x"]).await.unwrap();
    let e = client.cmd(["INCR", "list"]).await.unwrap_err();
    assert_eq!(e.server_code(), Some("WRONGTYPE"), "{e}");
    let e = client
        .cmd(["MSETNX", "a", "1", "b", "2"])
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Request(RequestError::CrossSlot)), "{e}");
    let e = client
        .query::<i64, _>(["GET", keys[1].as_str()])
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Convert(_)), "{e}");
    // A per-request deadline.
    let e = client
        .send(Request::new(["BLPOP", "empty-list", "0"]).timeout(Duration::from_millis(200)))
        .await
        .unwrap_err();
    assert!(e.is_timeout(), "{e}");
    eprintln!("every slot: {:?}", started.elapsed());
    client.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_concurrent_callers_share_one_client() {
    let cluster = plain_cluster();
    let config = ClientConfig::new([seed(&cluster)])
        .unwrap()
        .client_name("slotwise-test");
    let client = Client::connect(config).await.expect("connects");
    let started = Instant::now();
    let tasks: Vec<_> = (0..32)
        .map(|t| {
            let client = client.clone();
            tokio::spawn(async move {
                for i in 0..200 {
                    let key = format!("task{t}:key{i}");
                    client.set(&key, i.to_string()).await.unwrap();
                    let v: i64 = client.query(["GET", key.as_str()]).await.unwrap();
                    assert_eq!(v, i);
                    client.incr(format!("task{t}:count")).await.unwrap();
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    eprintln!("32 tasks x 200 x 3 ops: {:?}", started.elapsed());
    for t in 0..32 {
        let n: i64 = client
            .query(["GET", &format!("task{t}:count")])
            .await
            .unwrap();
        assert_eq!(n, 200);
    }
    // One connection per node, multiplexing all 32 callers.
    assert_eq!(
        cluster.clients_named("slotwise-test").unwrap(),
        vec![1, 1, 1]
    );
    // The last clone gone: the driver stops and closes its connections.
    drop(client);
    let t = Instant::now();
    while cluster.clients_named("slotwise-test").unwrap() != vec![0, 0, 0] {
        assert!(
            t.elapsed() < Duration::from_secs(3),
            "connections left open"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_acl_announced_hostnames_and_mutual_tls() {
    let cluster = Cluster::start(&ClusterOptions {
        primaries: 3,
        replicas: 0,
        tls: true,
        acl: Some(("app".into(), "s3cret".into())),
        announce_hostname: Some("localhost".into()),
        // Client certificates required, not optional: mutual TLS is really checked.
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

    // Hostname seed, hostnames announced: every connection verifies "localhost" against the CA.
    let client = Client::connect(
        config(format!("localhost:{port}"))
            .user("app", "s3cret")
            .tls(tls()),
    )
    .await
    .expect("TLS + ACL connect");
    for k in keys_in_every_slot().iter().step_by(97) {
        client.set(k, "v").await.unwrap();
        assert_eq!(client.get(k).await.unwrap().as_deref(), Some(&b"v"[..]));
    }
    let who: String = client.query(["ACL", "WHOAMI"]).await.unwrap();
    assert_eq!(who, "app");
    client.shutdown().await;

    // Credentials from a callback, asked at every connection's handshake.
    let provider = Arc::new(Counting(AtomicUsize::new(0)));
    let client = Client::connect(
        config(format!("localhost:{port}"))
            .credentials_provider(provider.clone())
            .tls(tls()),
    )
    .await
    .expect("connect with a credentials provider");
    for k in keys_in_every_slot().iter().step_by(1000) {
        client.set(k, "p").await.unwrap();
    }
    assert!(
        provider.0.load(Ordering::Relaxed) >= 3,
        "one call per node connection"
    );
    client.shutdown().await;

    // Wrong password: a clear auth error, quickly (not a timeout).
    let t = Instant::now();
    let e = Client::connect(
        config(format!("localhost:{port}"))
            .user("app", "wrong")
            .tls(tls()),
    )
    .await
    .unwrap_err();
    assert!(e.is_auth(), "{e}");
    assert!(e.to_string().contains("WRONGPASS"), "{e}");
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());

    // A name the certificate does not carry: verification fails (the seed is an IP address, so the
    // configured server name is what is verified).
    let e = Client::connect(
        config(format!("127.0.0.1:{port}"))
            .user("app", "s3cret")
            .tls(tls().server_name("not-this-host.example")),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, Error::Connect { .. }), "{e}");
    assert!(e.to_string().to_lowercase().contains("certificate"), "{e}");

    // A CA that did not sign the servers' certificates.
    let e = Client::connect(
        config(format!("localhost:{port}"))
            .user("app", "s3cret")
            .tls(TlsOptions::ca_file(&files.client_cert)),
    )
    .await
    .unwrap_err();
    assert!(e.to_string().to_lowercase().contains("certificate"), "{e}");

    // No client certificate while the servers require one.
    let e = Client::connect(
        config(format!("localhost:{port}"))
            .user("app", "s3cret")
            .connect_wait(Duration::from_secs(2))
            .tls(TlsOptions::ca_file(&files.ca_cert)),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, Error::Connect { .. }), "{e}");
    eprintln!("no client certificate: {e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_ends_pending_requests_and_refuses_new_ones() {
    let cluster = plain_cluster();
    let client = connected(&cluster).await;
    let other = client.clone();
    let blocked = client.submit(Request::new(["BLPOP", "nothing", "10"]));
    tokio::time::sleep(Duration::from_millis(100)).await;
    let t = Instant::now();
    client.shutdown().await;
    assert!(matches!(blocked.await, Err(Error::Closed)));
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    assert!(matches!(other.get("k").await, Err(Error::Closed)));
    assert!(other.is_closed());

    // No seed answering: a clear connect error naming the seed.
    let dead = slotwise_test_cluster::free_port().unwrap();
    let e = Client::connect(
        ClientConfig::new([format!("127.0.0.1:{dead}")])
            .unwrap()
            .connect_wait(Duration::from_millis(500)),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, Error::Connect { .. }), "{e}");
    assert!(e.to_string().contains(&dead.to_string()), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_count_requests_and_the_moved_after_a_reshard() {
    let cluster = plain_cluster();
    let client = connected(&cluster).await;
    let boot = client.stats().await.unwrap();
    assert_eq!(boot.connections, 3, "{boot:?}");
    assert_eq!(boot.topology_epoch, 1, "{boot:?}");
    assert_eq!((boot.requests, boot.moved), (0, 0), "{boot:?}");

    // One slot moves behind the client's back; its next request for that slot meets a MOVED.
    let primaries = cluster.primaries().unwrap();
    let (from, to) = (primaries[0].port, primaries[1].port);
    let moved = tokio::task::block_in_place(|| cluster.reshard(from, to, 1)).unwrap();
    let key = format!(
        "k{{{}}}",
        slotwise_test_cluster::slot_tags()[usize::from(moved[0])]
    );
    let before = client.stats().await.unwrap();
    client.set(&key, "v").await.unwrap();
    assert_eq!(client.get(&key).await.unwrap().as_deref(), Some(&b"v"[..]));
    let after = client.stats().await.unwrap();
    assert_eq!(after.moved - before.moved, 1, "{after:?}");
    assert_eq!(after.requests - before.requests, 2, "{after:?}");
    assert_eq!(after.replies - before.replies, 2, "{after:?}");
    assert_eq!(after.failed, 0, "{after:?}");
    assert!(after.bytes_sent > before.bytes_sent && after.bytes_received > before.bytes_received);

    client.shutdown().await;
    assert!(matches!(client.stats().await, Err(Error::Closed)));
}

/// A pipeline far larger than the per-node queue bound: the driver feeds it to the core in a
/// window, so nothing fails with `QueueFull`, and every reply comes back in its place.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pipeline_of_100000_commands_stays_within_the_queue_bound() {
    let cluster = plain_cluster();
    let mut config = ClientConfig::new([seed(&cluster)]).unwrap();
    config.core.queue_bound = 1000;
    let client = Client::connect(config).await.expect("connects");
    let keys: Vec<String> = keys_in_every_slot().into_iter().step_by(16).collect();
    assert_eq!(keys.len(), 1024);
    let mut pipe = client.pipeline();
    for i in 0..100_000 {
        pipe.cmd(["INCR", keys[i % keys.len()].as_str()]);
    }
    assert_eq!(pipe.len(), 100_000);
    let replies = pipe.run().await.expect("the pipeline runs");
    assert_eq!(replies.len(), 100_000);
    for (i, r) in replies.into_iter().enumerate() {
        // The n-th INCR of a key answers n: replies are in the order added.
        let n = (i / keys.len() + 1) as i64;
        assert_eq!(r.expect("no error"), Frame::Integer(n), "command {i}");
    }
    let stats = client.stats().await.unwrap();
    assert_eq!(stats.failed, 0, "{stats:?}");
    // An atomic pipeline on one slot: MULTI … EXEC, the replies of the queued commands.
    let key = &keys[3];
    let mut tx = client.pipeline();
    tx.atomic()
        .cmd(["SET", key.as_str(), "10"])
        .cmd(["INCRBY", key.as_str(), "5"]);
    let replies = tx.run().await.expect("EXEC");
    assert_eq!(replies.len(), 2);
    assert_eq!(replies[1].as_ref().unwrap(), &Frame::Integer(15));
    let mut cross = client.pipeline();
    cross
        .atomic()
        .cmd(["SET", keys[0].as_str(), "1"])
        .cmd(["SET", keys[1].as_str(), "1"]);
    assert!(matches!(
        cross.run().await,
        Err(slotwise_tokio::Error::Request(
            slotwise_tokio::RequestError::CrossSlot
        ))
    ));
    client.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_does_not_wait_on_dead_or_silent_seeds() {
    // A silent seed: it accepts connections and never answers (held open by this test).
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent = format!("127.0.0.1:{}", silent.local_addr().unwrap().port());
    let refusing = || format!("127.0.0.1:{}", slotwise_test_cluster::free_port().unwrap());

    // Every seed refuses: the error comes as soon as they have, not after `connect_wait`.
    let t = Instant::now();
    let e = Client::connect(
        ClientConfig::new([refusing(), refusing()])
            .unwrap()
            .connect_wait(Duration::from_secs(10)),
    )
    .await
    .unwrap_err();
    let took = t.elapsed();
    eprintln!("every seed refused: {e} (after {took:?})");
    assert!(matches!(e, Error::Connect { .. }), "{e}");
    assert!(e.to_string().contains("127.0.0.1"), "{e}");
    assert!(took < Duration::from_secs(2), "{took:?}");

    // A dead and a silent seed before a real one: the real one's answer wins at once.
    let cluster = plain_cluster();
    let t = Instant::now();
    let client = Client::connect(
        ClientConfig::new([refusing(), silent.clone(), seed(&cluster)])
            .unwrap()
            .connect_wait(Duration::from_secs(10)),
    )
    .await
    .expect("connects through the live seed");
    let took = t.elapsed();
    eprintln!("dead, silent and live seeds: connected after {took:?}");
    assert!(took < Duration::from_secs(1), "{took:?}");
    client.set("k", "v").await.unwrap();
    client.shutdown().await;
}

/// A `MOVED` to an address that refuses connections: the client backs off its connects there and
/// asks the topology, rather than reconnecting at the rate requests arrive.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_moved_to_a_refusing_address_backs_off() {
    let cluster = plain_cluster();
    let client = connected(&cluster).await;
    let primaries = cluster.primaries().unwrap();
    let (a, b) = (&primaries[0], &primaries[1]);
    let slot = *a.slots[0].start();
    let key = format!(
        "k:{{{}}}",
        slotwise_test_cluster::slot_tags()[usize::from(slot)]
    );
    client.set(&key, "v").await.unwrap();
    client.del(&key).await.unwrap();

    // B announces a port nothing listens on, and A hands the (empty) slot to B: A now answers
    // `MOVED slot 127.0.0.1:<refusing>` for the key.
    let refusing = slotwise_test_cluster::free_port().unwrap();
    let mut conn_b = cluster.conn(b.port).unwrap();
    conn_b
        .ok([
            "CONFIG",
            "SET",
            "cluster-announce-port",
            &refusing.to_string(),
        ])
        .unwrap();
    let mut conn_a = cluster.conn(a.port).unwrap();
    let announced = format!("127.0.0.1:{refusing}@");
    // In every node's view, not A's alone: while some views still have B's old port, refreshes
    // alternate between the two addresses, and each time B comes back under the refusing one it
    // is a new node to the client, with no backoff yet.
    let t = Instant::now();
    while !primaries.iter().all(|p| {
        cluster
            .conn(p.port)
            .unwrap()
            .text(["CLUSTER", "NODES"])
            .unwrap()
            .contains(&announced)
    }) {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "B's new port never gossiped"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    conn_a
        .ok(["CLUSTER", "SETSLOT", &slot.to_string(), "NODE", &b.id])
        .unwrap();

    // Three seconds of requests for the key, one after another (each with a short deadline).
    let before = client.stats().await.unwrap();
    let t = Instant::now();
    let (mut sent, mut failed) = (0u32, std::collections::BTreeMap::<&str, u32>::new());
    while t.elapsed() < Duration::from_secs(3) && sent < 10_000 {
        sent += 1;
        let reply = client
            .send(Request::new(["GET", &key]).timeout(Duration::from_millis(200)))
            .await;
        if let Err(Error::Request(e)) = &reply {
            *failed.entry(e.kind()).or_default() += 1;
        }
    }
    let took = t.elapsed().as_secs_f64();
    let after = client.stats().await.unwrap();
    let failures = after.connection_failures - before.connection_failures;
    let connects = after.connects - before.connects;
    let refreshes = after.refreshes - before.refreshes;
    eprintln!(
        "MOVED to a refusing address for {took:.1} s: {sent} requests ({failed:?}), {connects} \
         connects ({failures} failed), {refreshes} refreshes, {} MOVED",
        after.moved - before.moved
    );
    assert!(after.moved > before.moved, "the redirect was never seen");
    assert!(failures >= 1, "the refusing address was never tried");
    // Backoff (20 ms doubling, capped at 1 s) allows about 8 attempts in 3 s; without it this
    // was ~31 a second.
    assert!(connects <= 20, "{connects} connects in {took:.1} s");
    // Refreshes are coalesced (100 ms), not one per redirect.
    assert!(refreshes <= 45, "{refreshes} refreshes in {took:.1} s");
    client.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_and_request_errors_name_their_cause() {
    let cluster = plain_cluster();

    // TLS to a port that speaks plain RESP.
    let dir = cluster.dir().join("tls-for-a-plain-port");
    std::fs::create_dir_all(&dir).unwrap();
    let files = slotwise_test_cluster::TlsFiles::generate(&dir).unwrap();
    let t = Instant::now();
    let e = Client::connect(
        ClientConfig::new([seed(&cluster)])
            .unwrap()
            .connect_wait(Duration::from_secs(5))
            .tls(TlsOptions::ca_file(&files.ca_cert)),
    )
    .await
    .unwrap_err();
    eprintln!("TLS to a plain port: {e} (after {:?})", t.elapsed());
    assert!(e.to_string().contains("is it a TLS port?"), "{e}");

    // A standalone server where only a cluster will do: its own answer is shown.
    let server =
        slotwise_test_cluster::Server::start(&slotwise_test_cluster::ServerOptions::default())
            .unwrap();
    let t = Instant::now();
    let e = Client::connect(
        ClientConfig::new([format!("127.0.0.1:{}", server.port())])
            .unwrap()
            .deployment(slotwise_tokio::Deployment::Cluster)
            .connect_wait(Duration::from_secs(5)),
    )
    .await
    .unwrap_err();
    eprintln!("a standalone server: {e} (after {:?})", t.elapsed());
    assert!(matches!(e, Error::Connect { .. }), "{e}");
    assert!(e.to_string().contains("cluster support disabled"), "{e}");
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());

    // A cluster-enabled node that was never given slots (`--cluster create` forgotten).
    let lonely = slotwise_test_cluster::Server::start(&slotwise_test_cluster::ServerOptions {
        cluster_enabled: true,
        ..Default::default()
    })
    .unwrap();
    let t = Instant::now();
    let e = Client::connect(
        ClientConfig::new([format!("127.0.0.1:{}", lonely.port())])
            .unwrap()
            .connect_wait(Duration::from_secs(5)),
    )
    .await
    .unwrap_err();
    eprintln!("a node without slots: {e} (after {:?})", t.elapsed());
    assert!(matches!(e, Error::Connect { .. }), "{e}");
    assert!(e.to_string().contains("no slots"), "{e}");
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());

    // An argument longer than the server takes (`proto-max-bulk-len`, lowered here): refused
    // before it is sent, at once.
    let mut config = ClientConfig::new([seed(&cluster)]).unwrap();
    config.core.max_arg_len = 1024;
    let client = Client::connect(config).await.unwrap();
    let t = Instant::now();
    let e = client
        .send(Request::new(["SET", "big", &"x".repeat(1025)]))
        .await
        .unwrap_err();
    eprintln!("too large: {e} (after {:?})", t.elapsed());
    assert!(
        matches!(
            e,
            Error::Request(RequestError::TooLarge {
                len: 1025,
                limit: 1024
            })
        ),
        "{e}"
    );
    client
        .send(Request::new(["SET", "big", &"x".repeat(1024)]))
        .await
        .unwrap();

    // A primary that stops serving: it forgets one of its slots, so (with full coverage required)
    // it answers CLUSTERDOWN for every key. The error names the node and gives its own line.
    let primary = cluster.primaries().unwrap().remove(0);
    let first = *primary.slots[0].start();
    cluster
        .conn(primary.port)
        .unwrap()
        .ok(["CLUSTER", "DELSLOTS", &first.to_string()])
        .unwrap();
    let key = format!(
        "k:{{{}}}",
        slotwise_test_cluster::slot_tags()[usize::from(first) + 1]
    );
    let t = Instant::now();
    let e = client
        .send(Request::new(["GET", &key]).timeout(Duration::from_secs(1)))
        .await
        .unwrap_err();
    eprintln!(
        "a primary that says CLUSTERDOWN: {e} (after {:?})",
        t.elapsed()
    );
    match &e {
        Error::Request(RequestError::ClusterDown {
            slot: Some(slot),
            seen: DownCause::Said { node, line },
        }) => {
            assert_eq!(*slot, first + 1);
            assert_eq!(node.port, primary.port);
            assert!(line.starts_with("CLUSTERDOWN"), "{line}");
        }
        other => panic!("expected ClusterDown with the node's own line, got {other:?}"),
    }
    assert!(e.to_string().contains("answered `CLUSTERDOWN"), "{e}");
    client.shutdown().await;
}

/// Nodes that announce addresses nothing listens on (each announces a port of its own choosing,
/// as behind NAT or port forwarding): without a remap the client cannot reach them and the error
/// says where it tried; with one, every slot works.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn announced_addresses_that_cannot_be_dialed_work_with_a_remap() {
    let cluster = plain_cluster();
    let mut announced = std::collections::BTreeMap::new();
    for node in cluster.nodes().unwrap() {
        let fake = slotwise_test_cluster::free_port().unwrap();
        cluster
            .conn(node.port)
            .unwrap()
            .ok(["CONFIG", "SET", "cluster-announce-port", &fake.to_string()])
            .unwrap();
        announced.insert(fake, node.port);
    }
    // Every node says every other is at its announced port (gossip carries it).
    let t = Instant::now();
    loop {
        let agreed = cluster.ports().iter().all(|&p| {
            let nodes = cluster.conn(p).unwrap().text(["CLUSTER", "NODES"]).unwrap();
            announced
                .keys()
                .all(|fake| nodes.contains(&format!("127.0.0.1:{fake}@")))
        });
        if agreed {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(15),
            "the announced ports never spread"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let seed = format!("127.0.0.1:{}", cluster.seed().unwrap().port());
    let keys = keys_in_every_slot();

    // As announced: connected (the seed answered), but no node can be reached.
    let client = Client::connect(ClientConfig::new([seed.clone()]).unwrap())
        .await
        .unwrap();
    let e = client
        .send(Request::new(["GET", &keys[0]]).timeout(Duration::from_millis(500)))
        .await
        .unwrap_err();
    eprintln!("without a remap: {e}");
    assert!(
        announced
            .keys()
            .any(|fake| e.to_string().contains(&format!("127.0.0.1:{fake}"))),
        "the error should name the announced address: {e}"
    );
    client.shutdown().await;

    // Remapped: the announced port to the real one.
    let map = announced.clone();
    let config = ClientConfig::new([seed])
        .unwrap()
        .remap(move |e: &Endpoint| {
            let real = *map.get(&e.port)?;
            Some(slotwise_tokio::Dial::to(Endpoint::new("127.0.0.1", real)))
        });
    let client = Client::connect(config).await.unwrap();
    let t = Instant::now();
    let pending: Vec<_> = keys
        .iter()
        .step_by(7)
        .map(|k| client.submit(Request::new(["SET", k, k])))
        .collect();
    let n = pending.len();
    for p in pending {
        p.await.expect("SET through the remap");
    }
    for k in keys.iter().step_by(7).step_by(47) {
        let v: Option<String> = client.query(["GET", k]).await.unwrap();
        assert_eq!(v.as_deref(), Some(k.as_str()));
    }
    let topology = client.topology().await.unwrap();
    let ports: std::collections::BTreeSet<u16> = topology
        .shards()
        .iter()
        .filter_map(|s| s.primary.endpoint.as_ref().map(|e| e.port))
        .collect();
    eprintln!(
        "with a remap: {n} SETs over every slot in {:?}; topology ports {ports:?}",
        t.elapsed()
    );
    // The topology still names the nodes as they announce themselves.
    assert!(ports.iter().all(|p| announced.contains_key(p)), "{ports:?}");
    client.shutdown().await;
}

/// `GET`/`SET` calls per node since `CONFIG RESETSTAT`, from `INFO commandstats`.
fn calls(cluster: &Cluster, port: u16, command: &str) -> u64 {
    let info = cluster
        .conn(port)
        .unwrap()
        .text(["INFO", "commandstats"])
        .unwrap();
    let prefix = format!("cmdstat_{command}:calls=");
    info.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .and_then(|rest| rest.split(',').next())
        .map_or(0, |n| n.parse().unwrap())
}

/// Zone affinity: with each node's zone mapped, reads go to the replica in the client's zone,
/// writes to the primary; when that replica dies, reads go to the shard's other replica.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_go_to_the_replica_in_the_clients_zone() {
    let cluster = Cluster::start(&ClusterOptions {
        primaries: 3,
        replicas: 2,
        ..Default::default()
    })
    .expect("cluster starts");
    let mut zones = std::collections::BTreeMap::new();
    let mut shards = Vec::new();
    for primary in cluster.primaries().unwrap() {
        let mut replicas: Vec<u16> = cluster
            .replicas_of(primary.port)
            .unwrap()
            .iter()
            .map(|r| r.port)
            .collect();
        replicas.sort_unstable();
        assert_eq!(replicas.len(), 2);
        zones.insert(primary.port, "zone-p");
        zones.insert(replicas[0], "zone-a");
        zones.insert(replicas[1], "zone-b");
        shards.push((primary.clone(), replicas[0], replicas[1]));
    }
    // Replicas of a cluster that has had no writes report `health: loading` (replication offset
    // 0), and the client does not read from those: write something, and wait until they are online.
    let keys = keys_in_every_slot();
    let writer = connected(&cluster).await;
    for k in keys.iter().step_by(1024) {
        writer.set(k.as_str(), "warm").await.unwrap();
    }
    writer.shutdown().await;
    // Every node's view, not one: a topology refresh may ask any node, and a view in which gossip
    // has not yet brought a replica's offset still says `loading` (the client then reads that
    // shard from its primary).
    let t = Instant::now();
    while zones.keys().any(|&port| {
        cluster
            .conn(port)
            .unwrap()
            .cmd(["CLUSTER", "SHARDS"])
            .map(|f| format!("{f:?}").contains("loading"))
            .unwrap()
    }) {
        assert!(
            t.elapsed() < Duration::from_secs(15),
            "replicas never came online"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for &port in zones.keys() {
        cluster
            .conn(port)
            .unwrap()
            .ok(["CONFIG", "RESETSTAT"])
            .unwrap();
    }
    let map = zones.clone();
    let config = ClientConfig::new([seed(&cluster)])
        .unwrap()
        .same_zone("zone-b", move |e: &Endpoint| {
            map.get(&e.port).map(|z| (*z).to_string())
        });
    let client = Client::connect(config).await.unwrap();
    let sample: Vec<&String> = keys.iter().step_by(41).collect();
    for k in &sample {
        client.set(k.as_str(), "v").await.unwrap();
    }
    for k in &sample {
        client.get(k.as_str()).await.unwrap();
    }
    let n = sample.len() as u64;
    let sum = |ports: &mut dyn Iterator<Item = u16>, command: &str| -> u64 {
        ports.map(|p| calls(&cluster, p, command)).sum()
    };
    let gets_b = sum(&mut shards.iter().map(|s| s.2), "get");
    let gets_a = sum(&mut shards.iter().map(|s| s.1), "get");
    let gets_p = sum(&mut shards.iter().map(|s| s.0.port), "get");
    let sets_p = sum(&mut shards.iter().map(|s| s.0.port), "set");
    eprintln!(
        "{n} GETs: zone-b replicas {gets_b}, zone-a {gets_a}, primaries {gets_p}; {sets_p} SETs on primaries"
    );
    assert_eq!(gets_b, n, "every read on a zone-b replica");
    assert_eq!(gets_a + gets_p, 0);
    assert_eq!(sets_p, n, "every write on a primary");

    // The zone-b replica of the first shard dies: its reads go to the shard's other replica.
    let (primary, other, dead) = (&shards[0].0, shards[0].1, shards[0].2);
    let _ = cluster.conn(dead).unwrap().cmd(["SHUTDOWN", "NOSAVE"]);
    let before = calls(&cluster, other, "get");
    let first_shard: Vec<&String> = keys
        .iter()
        .enumerate()
        .filter(|(slot, _)| primary.slots.iter().any(|r| r.contains(&(*slot as u16))))
        .map(|(_, k)| k)
        .step_by(97)
        .take(50)
        .collect();
    for k in &first_shard {
        client
            .get(k.as_str())
            .await
            .expect("a read after its zone's replica died");
    }
    let moved = calls(&cluster, other, "get") - before;
    let primary_gets = calls(&cluster, primary.port, "get");
    eprintln!(
        "after the zone-b replica died: {} reads, {moved} on the zone-a replica, {primary_gets} on the primary",
        first_shard.len()
    );
    assert!(
        moved + primary_gets == first_shard.len() as u64 && moved >= first_shard.len() as u64 - 1,
        "reads should go to the shard's other replica: {moved} of {}",
        first_shard.len()
    );
    client.shutdown().await;
}
