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
