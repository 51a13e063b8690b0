//! Everyday work on a cluster with slotwise-async-std (the same code runs under smol): typed
//! commands of every family, a pipeline, an atomic pipeline, pub/sub, and what to do with an
//! error that may have been applied.
//!
//! ```text
//! cargo run -p slotwise-async-std --example async_std_everyday -- 127.0.0.1:7000
//! ```
//!
//! Exits non-zero if any answer is not the expected one (CI runs it against a real cluster).

use std::collections::BTreeSet;
use std::time::Duration;

use slotwise_async_std::prelude::*;
use slotwise_async_std::{Client, ClientConfig, Error, PubSubEvent, Request};

fn main() -> Result<(), Error> {
    let seed = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:7000".into());
    async_std::task::block_on(everyday(seed))
}

async fn everyday(seed: String) -> Result<(), Error> {
    let client = Client::connect(ClientConfig::new([seed])?).await?;

    // Typed commands: arguments from Rust values, replies into Rust types.
    client.sadd("tags", ["rust", "redis", "cluster"]).await?;
    let tags: BTreeSet<String> = client.smembers("tags").await?;
    assert!(tags.contains("rust"));
    client
        .hset("user:2", [("name", "Grace"), ("visits", "0")])
        .await?;
    let visits = client.hincr_by("user:2", "visits", 1).await?;
    assert_eq!(visits, 1);
    let score = client.zincr_by("board", 2.5, "grace").await?;
    println!("tags {tags:?}, visits {visits}, score {score}");
    client
        .xgroup_create("jobs:stream", "workers", "$", true)
        .await
        .ok();
    client.xadd("jobs:stream", "*", [("job", "resize")]).await?;
    let batch = client
        .xreadgroup("workers", "w1", ["jobs:stream"], [">"], Some(10), None)
        .await?;
    for entry in batch.entries("jobs:stream") {
        client.xack("jobs:stream", "workers", [&entry.id]).await?;
    }

    // A pipeline over any slots, and an atomic one (MULTI/EXEC) on one slot.
    let mut pipe = client.pipeline();
    pipe.cmd(["SET", "a", "1"])
        .cmd(["SET", "b", "2"])
        .cmd(["MGET", "a", "b"]);
    let replies = pipe.run().await?;
    assert_eq!(replies.len(), 3);
    let mut tx = client.pipeline();
    tx.atomic()
        .cmd(["INCR", "{order:7}:items"])
        .cmd(["EXPIRE", "{order:7}:items", "60"]);
    println!("atomic: {:?}", tx.run().await?);

    // Pub/sub.
    let mut subscriber = client.subscriber();
    subscriber.subscribe(["alerts"]);
    while !matches!(
        subscriber.next().await,
        Some(PubSubEvent::Subscribed { .. })
    ) {}
    client.cmd(["PUBLISH", "alerts", "disk"]).await?;
    match async_std::future::timeout(Duration::from_secs(5), subscriber.next()).await {
        Ok(Some(PubSubEvent::Message(m))) => println!("alert: {:?}", m.payload),
        other => panic!("expected the message, got {other:?}"),
    }

    // Errors: `maybe_applied` says whether a failed write may have run.
    let push = Request::new(["LPUSH", "queue", "job"]).timeout(Duration::from_secs(2));
    match client.send(push).await {
        Ok(_) => {}
        Err(e) if e.maybe_applied() => println!("LPUSH may have run: check before repeating ({e})"),
        Err(e) => println!("LPUSH did not run: safe to repeat ({e})"),
    }

    client.shutdown().await;
    println!("everyday: ok");
    Ok(())
}
