//! slotwise-tokio against a standalone `redis-server` (cluster mode off): the seed says cluster
//! support is disabled, and the client runs it as a cluster of one shard — the typed helpers of
//! every family, pipelines, a transaction and pub/sub work as they do on a cluster.

use std::time::Duration;

use slotwise_test_cluster::{Server, ServerOptions};
use slotwise_tokio::prelude::*;
use slotwise_tokio::{Client, ClientConfig, Error, PubSubEvent};

macro_rules! run {
    ($e:expr) => {
        $e.await
    };
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_standalone_server_works_as_a_cluster_of_one_shard() {
    let server = Server::start(&ServerOptions::default()).expect("server starts");
    let client =
        Client::connect(ClientConfig::new([format!("127.0.0.1:{}", server.port())]).unwrap())
            .await
            .expect("connects to a standalone server");
    let topology = client.topology().await.unwrap();
    assert_eq!(topology.shards().len(), 1);
    assert!(topology.is_fully_covered());

    let ns = "standalone";
    include!("../../client/tests/shared/typed_families.rs");

    // A pipeline over keys of many slots, and a cross-slot MGET (one node: one part).
    let mut pipe = client.pipeline();
    for i in 0..50 {
        pipe.cmd(["SET", &format!("p:{i}"), &i.to_string()]);
    }
    pipe.cmd(["MGET", "p:0", "p:49"]);
    let replies = pipe.run().await.unwrap();
    assert!(replies.iter().all(Result::is_ok), "{replies:?}");
    let values = client.mget(["p:1", "p:2", "p:3"]).await.unwrap();
    assert_eq!(values.len(), 3);
    assert!(client.dbsize().await.unwrap() >= 50);

    // A transaction.
    let n: i64 = client
        .transaction(["acct"], |tx| async move {
            let now: Option<i64> = tx.query(["GET", "acct"]).await?;
            tx.multi().await?;
            tx.queue(["SET", "acct", &(now.unwrap_or(0) + 5).to_string()]);
            Ok(tx.exec().await?.map(|_| now.unwrap_or(0) + 5))
        })
        .await
        .unwrap();
    assert_eq!(n, 5);

    // Pub/sub.
    let mut sub = client.subscriber();
    sub.subscribe(["news"]);
    while !matches!(sub.next().await, Some(PubSubEvent::Subscribed { .. })) {}
    client.cmd(["PUBLISH", "news", "hi"]).await.unwrap();
    match tokio::time::timeout(Duration::from_secs(5), sub.next()).await {
        Ok(Some(PubSubEvent::Message(m))) => assert_eq!(&m.payload[..], b"hi"),
        other => panic!("expected the message, got {other:?}"),
    }
    client.shutdown().await;
}

/// GET calls a server has run (`INFO commandstats`).
fn gets(port: u16) -> u64 {
    let mut conn = slotwise_test_cluster::Conn::connect(([127, 0, 0, 1], port).into()).unwrap();
    let info = conn.text(["INFO", "commandstats"]).unwrap();
    info.lines()
        .find_map(|l| l.strip_prefix("cmdstat_get:calls="))
        .and_then(|rest| rest.split(',').next())
        .map_or(0, |n| n.parse().unwrap())
}

/// A standalone primary with a replica: the client learns the replica from the primary's `ROLE`
/// and reads there under `ReadFrom::PreferReplica`; a seed that is the replica leads to the
/// primary, which takes every write.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_standalone_primary_and_its_replica() {
    let primary = Server::start(&ServerOptions::default()).expect("primary starts");
    let replica = Server::start(&ServerOptions {
        extra_args: vec![
            "--replicaof".into(),
            "127.0.0.1".into(),
            primary.port().to_string(),
        ],
        ..ServerOptions::default()
    })
    .expect("replica starts");
    // Wait until the primary lists the replica as online.
    let mut conn = slotwise_test_cluster::Conn::connect(([127, 0, 0, 1], primary.port()).into())
        .expect("a connection to the primary");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !conn
        .text(["INFO", "replication"])
        .unwrap()
        .contains("state=online")
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the replica never synced"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    for seed in [primary.port(), replica.port()] {
        let config = ClientConfig::new([format!("127.0.0.1:{seed}")])
            .unwrap()
            .read_from(slotwise_tokio::ReadFrom::PreferReplica);
        let client = Client::connect(config).await.expect("connects");
        let topology = client.topology().await.unwrap();
        let shard = &topology.shards()[0];
        assert_eq!(
            shard.primary.endpoint.as_ref().map(|e| e.port),
            Some(primary.port()),
            "seed {seed}"
        );
        let replicas: Vec<_> = shard
            .replicas
            .iter()
            .filter_map(|r| r.endpoint.as_ref().map(|e| e.port))
            .collect();
        assert_eq!(replicas, vec![replica.port()], "seed {seed}");

        let key = format!("standalone:replica:{seed}");
        let _: () = client.set(&key, "v").await.unwrap();
        // Replicated (EXISTS: the GET count below is the client's alone).
        let mut on = replica.conn().unwrap();
        while on.ok(["EXISTS", key.as_str()]).unwrap().as_integer() != Some(1) {
            assert!(std::time::Instant::now() < deadline, "never replicated");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let (on_primary, on_replica) = (gets(primary.port()), gets(replica.port()));
        for _ in 0..20 {
            assert_eq!(client.get(&key).await.unwrap().as_deref(), Some(&b"v"[..]));
        }
        assert_eq!(gets(primary.port()), on_primary, "no read on the primary");
        assert_eq!(
            gets(replica.port()),
            on_replica + 20,
            "every read on the replica"
        );
        // Writes never go to the replica (it would refuse them: READONLY).
        let n: i64 = client.incr(format!("{key}:n")).await.unwrap();
        assert_eq!(n, 1);
        client.shutdown().await;
    }
}
