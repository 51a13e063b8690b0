//! Commands that change a connection's state: refused on shared connections (so no reply is ever
//! misdelivered), blocking commands on connections of their own, transactions through the
//! adapter's helper (a `WATCH` abort re-run; a live reshard of the transaction's slot).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use slotwise_cluster::{Frame, Request, RequestError};
use slotwise_test_cluster::{Cluster, ClusterOptions, slot_tags};

use super::{connect, must, start};
use crate::client::{Adapter, CallError, ClientSpec, TestClient};

/// Everything of this file on one 3-primary cluster, step after step (the steps do not disturb
/// each other, and one cluster keeps the suite short).
pub fn connection_state(adapter: &dyn Adapter) {
    let cluster = start(ClusterOptions {
        replicas: 0,
        ..Default::default()
    });
    let spec = ClientSpec::for_cluster(&cluster);
    let client = connect(adapter, &spec);
    refused_and_never_misdelivered(adapter, &*client, &spec);
    blocking_on_their_own_connections(adapter, &client, &cluster);
    dropped_blpop_frees_its_connection(adapter, &*client, &cluster);
    watch_abort_is_rerun(adapter, &*client);
    transaction_across_a_live_reshard(adapter, &client, &cluster);
}

fn refused_and_never_misdelivered(
    adapter: &dyn Adapter,
    client: &dyn TestClient,
    spec: &ClientSpec,
) {
    for args in [
        &["SUBSCRIBE", "news"][..],
        &["SSUBSCRIBE", "news"],
        &["PSUBSCRIBE", "n*"],
        &["MULTI"],
        &["WATCH", "k"],
        &["CLIENT", "REPLY", "OFF"],
        &["SELECT", "1"],
    ] {
        match client.call(Request::new(args.iter().copied())) {
            Err(CallError::Request(RequestError::ConnectionState { .. })) => {}
            other => panic!(
                "[{}] {args:?}: expected ConnectionState, got {other:?}",
                adapter.name()
            ),
        }
    }
    // After them, every reply is its own request's: 1,024 slots, SET then GET.
    let tags = slot_tags();
    for slot in (0..16384).step_by(16) {
        let key = format!("{{{}}}:state", tags[slot]);
        let value = format!("v{slot}");
        must(client, &["SET", &key, &value]);
        assert_eq!(
            must(client, &["GET", &key]),
            Frame::BulkString(value.into()),
            "[{}] slot {slot}",
            adapter.name()
        );
    }
    // And they landed in Redis: a second client (its own connections) reads them back.
    let other = connect(adapter, spec);
    for slot in (0..16384).step_by(16) {
        let key = format!("{{{}}}:state", tags[slot]);
        assert_eq!(
            must(&*other, &["GET", &key]),
            Frame::BulkString(format!("v{slot}").into()),
            "[{}] read back slot {slot}",
            adapter.name()
        );
    }
}

/// Client connections over every node: all of them, and those blocked in `cmd`.
fn clients(cluster: &Cluster, cmd: &str) -> (usize, usize) {
    let needle = format!(" cmd={cmd} ");
    let lists: Vec<String> = cluster
        .ports()
        .into_iter()
        .map(|port| {
            cluster
                .conn(port)
                .and_then(|mut c| c.text(["CLIENT", "LIST"]))
                .unwrap_or_default()
        })
        .collect();
    let lines = lists.iter().flat_map(|l| l.lines());
    // The tooling's own connection (this CLIENT LIST) is not counted.
    let all = lines
        .clone()
        .filter(|l| !l.contains(" cmd=client|list "))
        .count();
    let blocked = lines
        .filter(|l| l.contains(&needle) && l.contains(" flags=b "))
        .count();
    (all, blocked)
}

fn clients_running(cluster: &Cluster, cmd: &str) -> usize {
    clients(cluster, cmd).1
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let until = Instant::now() + Duration::from_secs(5);
    while !done() {
        assert!(Instant::now() < until, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn blocking_on_their_own_connections(
    adapter: &dyn Adapter,
    client: &Arc<dyn TestClient>,
    cluster: &Cluster,
) {
    let list = "{blk}:list";
    let waiters: Vec<_> = (0..10)
        .map(|_| {
            let client = Arc::clone(client);
            std::thread::spawn(move || client.call(Request::new(["BLPOP", list, "5"])))
        })
        .collect();
    wait_for("10 BLPOPs blocked in the server", || {
        clients_running(cluster, "blpop") == 10
    });
    // 1,000 GETs on the same node (the same slot) meanwhile: none waits behind a BLPOP.
    let mut latencies = Vec::with_capacity(1000);
    for i in 0..1000 {
        let key = format!("{{blk}}:get{}", i % 10);
        let t = Instant::now();
        must(&**client, &["GET", &key]);
        latencies.push(t.elapsed());
    }
    latencies.sort();
    let p99 = latencies[989];
    println!(
        "[{}] 1,000 GETs beside 10 blocked BLPOPs: p50 {:?}, p99 {p99:?}, max {:?}",
        adapter.name(),
        latencies[500],
        latencies[999]
    );
    assert!(
        p99 < Duration::from_millis(5),
        "[{}] GET p99 {p99:?}",
        adapter.name()
    );
    // RPUSH through the same client wakes every one of them.
    let mut push = vec!["RPUSH".to_string(), list.to_string()];
    push.extend((0..10).map(|i| format!("item{i}")));
    assert_eq!(
        must(
            &**client,
            &push.iter().map(String::as_str).collect::<Vec<_>>()
        ),
        Frame::Integer(10)
    );
    let mut got: Vec<String> = waiters
        .into_iter()
        .map(|w| match w.join().expect("a BLPOP thread") {
            Ok(Frame::Array(ref pair)) => match &pair[..] {
                [_, Frame::BulkString(v)] => String::from_utf8_lossy(v).into_owned(),
                other => panic!("BLPOP reply {other:?}"),
            },
            other => panic!("[{}] BLPOP: {other:?}", adapter.name()),
        })
        .collect();
    got.sort();
    let want: Vec<String> = (0..10).map(|i| format!("item{i}")).collect();
    assert_eq!(
        got,
        want,
        "[{}] every BLPOP woke with one item",
        adapter.name()
    );
}

fn dropped_blpop_frees_its_connection(
    adapter: &dyn Adapter,
    client: &dyn TestClient,
    cluster: &Cluster,
) {
    assert_eq!(clients_running(cluster, "blpop"), 0);
    let pending = client.submit_detached(Request::new(["BLPOP", "{blk}:never", "0"]));
    wait_for("the BLPOP to block", || {
        clients_running(cluster, "blpop") == 1
    });
    drop(pending);
    wait_for("the dropped BLPOP's connection to close", || {
        clients_running(cluster, "blpop") == 0
    });
    println!(
        "[{}] a dropped BLPOP future freed its connection",
        adapter.name()
    );
}

fn watch_abort_is_rerun(adapter: &dyn Adapter, client: &dyn TestClient) {
    let key = "{tx}:counter";
    must(client, &["SET", key, "0"]);
    // Between the transaction's read and its MULTI, the first attempt sees a concurrent write.
    let (value, attempts) = client
        .incr_in_transaction(key, &|attempt| {
            if attempt == 1 {
                must(client, &["SET", key, "100"]);
            }
        })
        .unwrap_or_else(|e| panic!("[{}] transaction: {e}", adapter.name()));
    assert_eq!((value, attempts), (101, 2), "[{}]", adapter.name());
    assert_eq!(must(client, &["GET", key]), Frame::BulkString("101".into()));
}

fn transaction_across_a_live_reshard(
    adapter: &dyn Adapter,
    client: &Arc<dyn TestClient>,
    cluster: &Cluster,
) {
    let primaries = cluster.primaries().expect("primaries");
    let (from, to) = (primaries[0].port, primaries[1].port);
    let highest = primaries[0]
        .slots
        .iter()
        .map(|r| *r.end())
        .max()
        .expect("the primary owns slots");
    // reshard() moves the highest-numbered slots: this key's slot is among the 20 moved.
    let key = format!("{{{}}}:tx", slot_tags()[usize::from(highest)]);
    must(&**client, &["SET", &key, "0"]);
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let worker = {
        let (client, stop, done, key) =
            (Arc::clone(client), stop.clone(), done.clone(), key.clone());
        std::thread::spawn(move || {
            let started = Instant::now();
            while !stop.load(Ordering::SeqCst) && started.elapsed() < Duration::from_secs(30) {
                let (value, _) = client
                    .incr_in_transaction(&key, &|_| {})
                    .unwrap_or_else(|e| panic!("transaction during the reshard: {e}"));
                let n = done.fetch_add(1, Ordering::SeqCst) + 1;
                assert_eq!(value, n as i64, "each transaction adds exactly one");
            }
        })
    };
    wait_for("transactions to run", || done.load(Ordering::SeqCst) >= 20);
    let before = done.load(Ordering::SeqCst);
    let moved = cluster.reshard(from, to, 20).expect("reshard");
    assert!(moved.contains(&highest));
    let after_reshard = done.load(Ordering::SeqCst);
    wait_for("transactions after the reshard", || {
        done.load(Ordering::SeqCst) >= after_reshard + 20
    });
    stop.store(true, Ordering::SeqCst);
    worker.join().expect("the transaction worker");
    let total = done.load(Ordering::SeqCst);
    assert_eq!(
        must(&**client, &["GET", &key]),
        Frame::BulkString(total.to_string().into()),
        "[{}] every acknowledged transaction applied exactly once",
        adapter.name()
    );
    let moved_stat = client.stats().map(|s| s.moved).unwrap_or(0);
    println!(
        "[{}] {total} transactions across a live reshard of their slot ({before} before, {} during, MOVED seen {moved_stat})",
        adapter.name(),
        after_reshard - before
    );
    assert!(
        moved_stat > 0,
        "[{}] the client met the slot move",
        adapter.name()
    );
}
