//! Pub/sub through the async-std adapter, under async-std and under smol, on one real cluster
//! (3 primaries, a replica each): shard channels over every shard, a cluster-wide pattern and
//! key events (`expired`) from every primary, over RESP3 and RESP2; then a graceful failover of a shard channel's shard, after which its
//! messages come from the new primary.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use slotwise_async_std::{Client, ClientConfig, MessageKind, Protocol, PubSubEvent, Subscriber};
use slotwise_test_cluster::{Cluster, ClusterOptions};

async fn next(sub: &mut Subscriber) -> PubSubEvent {
    let timeout = async {
        async_io::Timer::after(Duration::from_secs(20)).await;
        None
    };
    futures_lite::future::or(sub.next(), timeout)
        .await
        .expect("an event within 20 s")
}

async fn run(cluster: &Arc<Cluster>, tag: &str, protocol: Protocol) {
    let seed = format!("127.0.0.1:{}", cluster.seed().unwrap().port());
    let config = ClientConfig::new([seed.as_str()])
        .unwrap()
        .protocol(protocol);
    let client = Client::connect(config).await.expect("connects");
    client
        .cmd(["CONFIG", "SET", "notify-keyspace-events", "KEA"])
        .await
        .unwrap();
    let mut sub = client.subscriber();
    let channels: Vec<String> = (0..30).map(|i| format!("{tag}:s{i}")).collect();
    sub.ssubscribe(&channels);
    sub.psubscribe([format!("{tag}:p.*")]);
    sub.keyevents("expired");
    let mut shard_nodes = BTreeSet::new();
    let mut confirmed = 0;
    while confirmed < 30 + 1 + 3 {
        if let PubSubEvent::Subscribed { kind, node, .. } = next(&mut sub).await {
            if kind == slotwise_async_std::SubscriptionKind::ShardChannel {
                shard_nodes.insert(node.port);
            }
            confirmed += 1;
        }
    }
    assert_eq!(shard_nodes.len(), 3, "shard channels on every shard");
    for c in &channels {
        client.cmd(["SPUBLISH", c.as_str(), "x"]).await.unwrap();
    }
    client
        .cmd(["PUBLISH", &format!("{tag}:p.1"), "y"])
        .await
        .unwrap();
    for i in 0..10 {
        client
            .cmd(["SET", &format!("{tag}:exp{i}"), "v", "PX", "1"])
            .await
            .unwrap();
    }
    let (mut smessages, mut pmessages, mut expired) = (BTreeSet::new(), 0, BTreeSet::new());
    while smessages.len() < 30 || pmessages < 1 || expired.len() < 10 {
        if let PubSubEvent::Message(m) = next(&mut sub).await {
            match m.kind {
                MessageKind::SMessage => {
                    smessages.insert(m.channel.to_vec());
                }
                MessageKind::PMessage if m.payload.starts_with(tag.as_bytes()) => {
                    expired.insert(m.payload.to_vec());
                }
                MessageKind::PMessage => pmessages += 1,
                _ => {}
            }
        }
    }
    // A failover of a shard channel's shard: its messages then come from the new primary.
    let old = cluster.primaries().unwrap()[0].clone();
    let slot = *old.slots[0].start();
    let first = format!(
        "{tag}:f{{{}}}",
        slotwise_test_cluster::slot_tags()[usize::from(slot)]
    );
    sub.ssubscribe([first.as_str()]);
    loop {
        if let PubSubEvent::Subscribed { node, .. } = next(&mut sub).await {
            assert_eq!(node.port, old.port);
            break;
        }
    }
    let old_port = old.port;
    let failing = {
        let cluster = cluster.clone();
        std::thread::spawn(move || cluster.failover(old.port).expect("failover").new_primary)
    };
    while !failing.is_finished() {
        async_io::Timer::after(Duration::from_millis(50)).await;
    }
    let promoted = failing.join().unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let mut seen: Vec<String> = Vec::new();
    loop {
        if std::time::Instant::now() >= deadline {
            let owner = client.topology().await.ok().and_then(|t| {
                t.shards()
                    .iter()
                    .find(|s| s.slots.iter().any(|r| r.contains(slot)))
                    .and_then(|s| s.primary.endpoint.clone())
            });
            let stats = client.stats().await.ok();
            let others: Vec<&String> = seen.iter().filter(|e| !e.starts_with("Message")).collect();
            panic!(
                "no message from the new primary {promoted} (old {}); the client's owner of slot \
                 {slot}: {owner:?}; events other than messages: {others:?}; last events: {:?}; \
                 client stats: {stats:?}",
                old_port,
                &seen[seen.len().saturating_sub(2)..]
            );
        }
        client
            .cmd(["SPUBLISH", first.as_str(), "after"])
            .await
            .unwrap();
        let wait = async {
            async_io::Timer::after(Duration::from_millis(200)).await;
            None
        };
        let event = futures_lite::future::or(sub.next(), wait).await;
        if let Some(PubSubEvent::Message(m)) = &event
            && m.channel == first.as_bytes()
            && m.payload == "after"
            && m.node.port == promoted
        {
            break;
        }
        seen.extend(event.map(|e| format!("{e:?}")));
    }
    client.shutdown().await;
}

#[test]
fn subscriptions_under_async_std_and_smol() {
    let cluster = Arc::new(
        Cluster::start(&ClusterOptions {
            primaries: 3,
            replicas: 1,
            ..Default::default()
        })
        .expect("cluster starts"),
    );
    // RESP3 (pushes) under async-std; RESP2 (subscriber mode, arrays) under smol.
    async_std::task::block_on(run(&cluster, "as", Protocol::Resp3));
    smol::block_on(run(&cluster, "smol", Protocol::Resp2));
}
