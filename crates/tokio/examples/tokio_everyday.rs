//! Everyday work on a cluster with slotwise-tokio: typed commands of every family, a pipeline, a
//! transaction, pub/sub, and what to do with an error that may have been applied.
//!
//! ```text
//! cargo run -p slotwise-tokio --example tokio_everyday -- 127.0.0.1:7000
//! ```
//!
//! Exits non-zero if any answer is not the expected one (CI runs it against a real cluster).

use std::collections::HashMap;
use std::time::Duration;

use slotwise_tokio::prelude::*;
use slotwise_tokio::{Client, ClientConfig, Error, PubSubEvent, Request};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let seed = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:7000".into());
    // One seed is enough: the client learns every node from it.
    let client = Client::connect(ClientConfig::new([seed])?).await?;

    // Typed commands: arguments from Rust values, replies into Rust types.
    client
        .hset("user:1", [("name", "Ada"), ("lang", "en")])
        .await?;
    let user: HashMap<String, String> = client.hgetall("user:1").await?;
    assert_eq!(user["name"], "Ada");
    client
        .zadd("board", [(31.5, "ada"), (12.0, "alan")])
        .await?;
    let top: Vec<(String, f64)> = client.zrange_with_scores("board", -1, -1).await?;
    assert_eq!(top, [("ada".to_string(), 31.5)]);
    client.rpush("jobs", ["a", "b"]).await?;
    let job: Option<(String, String)> = client.blpop("jobs", Duration::from_secs(1)).await?;
    println!("user {user:?}, top {top:?}, job {job:?}");
    let id = client.xadd("events", "*", [("kind", "login")]).await?;
    let events = client.xrange("events", "-", "+", Some(10)).await?;
    assert!(events.iter().any(|e| e.id == id));

    // A pipeline over any slots: one batch per node, replies in the order added.
    let mut pipe = client.pipeline();
    for i in 0..10 {
        pipe.cmd(["SET", &format!("item:{i}"), &i.to_string()]);
    }
    pipe.cmd(["MGET", "item:0", "item:9"]);
    let replies = pipe.run().await?;
    assert_eq!(replies.len(), 11);
    println!("pipeline: {:?}", replies.last());

    // A transaction on one slot (hash tags keep the keys together), re-run if a WATCHed key
    // changes or the slot moves.
    let balance: i64 = client
        .transaction(["{acct:1}:balance"], |tx| async move {
            let now: Option<i64> = tx.query(["GET", "{acct:1}:balance"]).await?;
            tx.multi().await?;
            tx.queue([
                "SET",
                "{acct:1}:balance",
                &(now.unwrap_or(0) + 10).to_string(),
            ]);
            Ok(tx.exec().await?.map(|_| now.unwrap_or(0) + 10))
        })
        .await?;
    println!("balance {balance}");

    // Pub/sub: a subscriber of its own; messages arrive from whichever node has the channel.
    let mut subscriber = client.subscriber();
    subscriber.subscribe(["news"]);
    loop {
        match subscriber.next().await {
            Some(PubSubEvent::Subscribed { .. }) => break,
            Some(_) => continue,
            None => return Err(Error::Closed),
        }
    }
    client.cmd(["PUBLISH", "news", "hello"]).await?;
    match tokio::time::timeout(Duration::from_secs(5), subscriber.next()).await {
        Ok(Some(PubSubEvent::Message(m))) => println!("message on news: {:?}", m.payload),
        other => panic!("expected the message, got {other:?}"),
    }

    // Errors: a write whose connection died after it was sent may have run. INCR is not
    // idempotent, so it is not retried for you; ask `maybe_applied` before repeating it.
    let incr = Request::new(["INCR", "visits"]).timeout(Duration::from_secs(2));
    match client.send(incr).await {
        Ok(n) => println!("visits: {n:?}"),
        Err(e) if e.maybe_applied() => println!("INCR may have run: check before repeating ({e})"),
        Err(e) => println!("INCR did not run: safe to repeat ({e})"),
    }
    // An error reply is typed with its code.
    match client.cmd(["INCR", "user:1"]).await {
        Err(Error::Redis(e)) => assert_eq!(e.code(), "WRONGTYPE"),
        other => panic!("expected WRONGTYPE, got {other:?}"),
    }

    client.shutdown().await;
    println!("everyday: ok");
    Ok(())
}
