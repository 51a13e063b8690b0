//! Plain traffic: every slot, a hostname seed, many concurrent callers.

use std::sync::Arc;
use std::time::{Duration, Instant};

use slotwise_cluster::{Frame, Request};
use slotwise_test_cluster::ClusterOptions;

use super::{assert_no_errors, connect, must, start, verify_counters};
use crate::client::{Adapter, CallError, ClientSpec, TestClient};
use crate::keys::{self, SLOTS};
use crate::load::{Load, LoadOptions};

/// `SET`, `GET`, `INCR`, `DEL` on a key in each of the 16384 slots (8 threads), then a keyless
/// command (`ECHO`) and an error reply.
pub fn basic_commands(adapter: &dyn Adapter) {
    let cluster = start(ClusterOptions {
        replicas: 0,
        ..Default::default()
    });
    let client = connect(adapter, &ClientSpec::for_cluster(&cluster));
    let started = Instant::now();
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let client = Arc::clone(&client);
            std::thread::spawn(move || {
                for slot in (t..SLOTS).step_by(8) {
                    every_slot_step(&*client, slot);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("a basic-commands thread failed");
    }
    println!(
        "[{}] basic: 4 commands × 16384 slots in {:?}",
        adapter.name(),
        started.elapsed()
    );
    // A keyless command goes to any primary.
    assert_eq!(
        must(&*client, &["ECHO", "hi"]),
        Frame::BulkString("hi".into())
    );
    let key = keys::value(42);
    match client.call(Request::new(["INCR", key.as_str()])) {
        Err(CallError::Redis(line)) => assert!(line.starts_with("ERR"), "{line}"),
        other => panic!("INCR on a non-integer string: expected an error reply, got {other:?}"),
    }
}

fn every_slot_step(client: &dyn TestClient, slot: usize) {
    let (value, counter) = (keys::value(slot), keys::counter(slot));
    let v = format!("v{slot}");
    assert_eq!(
        must(client, &["SET", &value, &v]),
        Frame::SimpleString("OK".into()),
        "SET in slot {slot}"
    );
    assert_eq!(
        must(client, &["GET", &value]),
        Frame::BulkString(v.into_bytes().into()),
        "GET in slot {slot}"
    );
    assert_eq!(
        must(client, &["INCR", &counter]),
        Frame::Integer(1),
        "INCR in slot {slot}"
    );
    assert_eq!(
        must(client, &["DEL", &counter]),
        Frame::Integer(1),
        "DEL in slot {slot}"
    );
}

/// One seed, `localhost`: the client resolves it and discovers the rest.
pub fn hostname_seed(adapter: &dyn Adapter) {
    let cluster = start(ClusterOptions {
        replicas: 0,
        ..Default::default()
    });
    let mut spec = ClientSpec::for_cluster(&cluster);
    spec.seeds = vec![("localhost".into(), cluster.seed().expect("a seed").port())];
    let client = connect(adapter, &spec);
    for slot in (0..SLOTS).step_by(97) {
        let key = keys::value(slot);
        must(&*client, &["SET", &key, "x"]);
        assert_eq!(
            must(&*client, &["GET", &key]),
            Frame::BulkString("x".into())
        );
    }
    println!("[{}] hostname seed: localhost works", adapter.name());
}

/// 64 threads share one client; every reply is right and every counter matches.
pub fn many_callers(adapter: &dyn Adapter) {
    let cluster = start(ClusterOptions {
        replicas: 0,
        ..Default::default()
    });
    let client = connect(adapter, &ClientSpec::for_cluster(&cluster));
    let started = Instant::now();
    let load = Load::start(
        client,
        LoadOptions {
            workers: 64,
            max_steps: 150,
            max_time: Duration::from_secs(30),
            ..Default::default()
        },
    );
    // The workers stop after their steps; stop() waits for them.
    while started.elapsed() < Duration::from_secs(30) && !load.finished() {
        std::thread::sleep(Duration::from_millis(20));
    }
    let report = load.stop();
    println!(
        "[{}] many callers: {} in {:?}",
        adapter.name(),
        report.summary(),
        started.elapsed()
    );
    assert_eq!(report.ops, 64 * 150 * 3, "every step ran");
    assert_no_errors(adapter.name(), "many callers", &report);
    assert_eq!(report.stale_reads, 0);
    verify_counters(adapter.name(), &cluster, &report, &|_| false);
}
