//! Everyday work on a cluster with slotwise-blocking (no async anywhere): typed commands of every
//! family, a pipeline, an atomic pipeline, pub/sub, and what to do with an error that may have
//! been applied.
//!
//! ```text
//! cargo run -p slotwise-blocking --example blocking_everyday -- 127.0.0.1:7000
//! ```
//!
//! Exits non-zero if any answer is not the expected one (CI runs it against a real cluster).

use std::time::Duration;

use slotwise_blocking::prelude::*;
use slotwise_blocking::{Client, ClientConfig, Error, PubSubEvent, Request};

fn main() -> Result<(), Error> {
    let seed = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:7000".into());
    let client = Client::connect(ClientConfig::new([seed])?)?;

    // Typed commands: arguments from Rust values, replies into Rust types.
    client.rpush("tasks", [1, 2, 3])?;
    let tasks: Vec<u32> = client.lrange("tasks", 0, -1)?;
    assert_eq!(tasks[..3], [1, 2, 3]);
    client.hset("user:3", [("name", "Alan")])?;
    let name: Option<String> = client.hget("user:3", "name")?;
    assert_eq!(name.as_deref(), Some("Alan"));
    client.zadd("board", [(1.0, "alan")])?;
    assert_eq!(client.zscore("board", "alan")?, Some(1.0));
    let script = Script::new("return redis.call('INCRBY', KEYS[1], ARGV[1])");
    let total: i64 = client.eval_script(&script, ["script:counter"], [5])?;
    println!("tasks {tasks:?}, name {name:?}, counter {total}");

    // A pipeline over any slots, and an atomic one (MULTI/EXEC) on one slot.
    let mut pipe = client.pipeline();
    for i in 0..5 {
        pipe.cmd(["INCR", &format!("hits:{i}")]);
    }
    let replies = pipe.wait()?;
    assert!(replies.iter().all(Result::is_ok));
    let mut tx = client.pipeline();
    tx.atomic()
        .cmd(["SET", "{cart:1}:total", "0"])
        .cmd(["INCRBY", "{cart:1}:total", "42"]);
    println!("atomic: {:?}", tx.wait()?);

    // Pub/sub.
    let mut subscriber = client.subscriber();
    subscriber.subscribe(["chat"]);
    while !matches!(subscriber.recv(), Some(PubSubEvent::Subscribed { .. })) {}
    client.cmd(["PUBLISH", "chat", "hi"])?;
    match subscriber.recv_timeout(Duration::from_secs(5)) {
        Ok(Some(PubSubEvent::Message(m))) => println!("chat: {:?}", m.payload),
        other => panic!("expected the message, got {other:?}"),
    }

    // Errors: `maybe_applied` says whether a failed write may have run.
    match client.send(Request::new(["INCR", "visits"]).timeout(Duration::from_secs(2))) {
        Ok(_) => {}
        Err(e) if e.maybe_applied() => println!("INCR may have run: check before repeating ({e})"),
        Err(e) => println!("INCR did not run: safe to repeat ({e})"),
    }

    client.shutdown();
    println!("everyday: ok");
    Ok(())
}
