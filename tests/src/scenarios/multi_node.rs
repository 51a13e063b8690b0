//! Commands that span slots and nodes, on a real cluster with replicas: fan-out by the server's
//! tips (`DBSIZE`, `KEYS`, `FLUSHALL`, `SCRIPT LOAD`), multi-key split (`MGET`, `DEL` over 1,000
//! keys), pipelines over all slots through a live reshard and a failover, a cluster-wide `SCAN`
//! through a reshard of 1,000 slots and a failover, and a fan-out with a primary killed (a typed
//! partial failure).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use slotwise_cluster::{Endpoint, Frame, Request, RequestError, Target};
use slotwise_test_cluster::{Cluster, ClusterOptions, slot_tags};

use super::{connect, must, start};
use crate::client::{Adapter, CallError, ClientSpec, TestClient};

const KEYS: usize = 1000;

/// Everything of this file on one 3-primary, 1-replica-each cluster, step after step; the kill
/// comes last.
pub fn multi_node(adapter: &dyn Adapter) {
    let cluster = start(ClusterOptions {
        replicas: 1,
        node_timeout_ms: 2000,
        ..Default::default()
    });
    let client = connect(adapter, &ClientSpec::for_cluster(&cluster));
    let name = adapter.name();
    fan_out_and_split(name, &*client, &cluster);
    scripts_everywhere(name, &*client);
    pipelines_through_reshard_and_failover(name, &client, &cluster);
    scan_through_reshard_and_failover(name, &client, &cluster);
    fan_out_with_a_primary_killed(name, &*client, &cluster);
}

/// 1,000 keys over all slots (`{tag}` for slot `i * 16`).
fn keys(prefix: &str) -> Vec<String> {
    let tags = slot_tags();
    (0..KEYS)
        .map(|i| format!("{{{}}}:{prefix}:{i}", tags[(i * 16) % 16384]))
        .collect()
}

fn bulk(s: &str) -> Frame {
    Frame::BulkString(s.as_bytes().to_vec().into())
}

fn array_of_strings(frame: Frame) -> Vec<String> {
    match frame.into_items() {
        Ok(items) => items
            .into_iter()
            .map(|f| match &f {
                Frame::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
                other => panic!("not a key: {other:?}"),
            })
            .collect(),
        other => panic!("not an array: {other:?}"),
    }
}

fn write_all(client: &dyn TestClient, keys: &[String]) {
    let requests = keys
        .iter()
        .map(|k| Request::new(["SET", k.as_str(), &format!("v-{k}")]))
        .collect();
    for (k, r) in keys
        .iter()
        .zip(client.pipeline(requests).expect("pipeline"))
    {
        assert_eq!(r, Ok(Frame::SimpleString("OK".into())), "SET {k}");
    }
}

fn per_primary_dbsize(cluster: &Cluster) -> Vec<(u16, i64)> {
    cluster
        .primaries()
        .expect("primaries")
        .iter()
        .map(|p| {
            let n = cluster
                .conn(p.port)
                .and_then(|mut c| c.cmd(["DBSIZE"]))
                .expect("DBSIZE on a primary");
            match n {
                Frame::Integer(n) => (p.port, n),
                other => panic!("DBSIZE: {other:?}"),
            }
        })
        .collect()
}

fn fan_out_and_split(name: &str, client: &dyn TestClient, cluster: &Cluster) {
    must(client, &["FLUSHALL"]);
    let keys = keys("mn");
    write_all(client, &keys);
    // DBSIZE: summed over every primary.
    assert_eq!(
        must(client, &["DBSIZE"]),
        Frame::Integer(KEYS as i64),
        "[{name}] DBSIZE"
    );
    let direct: i64 = per_primary_dbsize(cluster).iter().map(|(_, n)| n).sum();
    assert_eq!(direct, KEYS as i64, "[{name}] the primaries' own DBSIZE");
    // KEYS *: exactly the keys written, from every shard.
    let listed: BTreeSet<String> = array_of_strings(must(client, &["KEYS", "*"]))
        .into_iter()
        .collect();
    let want: BTreeSet<String> = keys.iter().cloned().collect();
    assert_eq!(listed, want, "[{name}] KEYS *");
    // MGET over 1,000 keys in all slots (and two missing keys): values in the order asked.
    let mut args: Vec<&str> = vec!["MGET", "mn:missing"];
    args.extend(keys.iter().map(String::as_str));
    args.push("mn:missing:2");
    let Ok(values) = must(client, &args).into_items() else {
        panic!("[{name}] MGET: not an array")
    };
    assert_eq!(values.len(), KEYS + 2);
    let nil = |f: &Frame| matches!(f, Frame::Null | Frame::NullBulk);
    assert!(
        nil(&values[0]),
        "[{name}] MGET missing key: {:?}",
        values[0]
    );
    assert!(nil(&values[KEYS + 1]), "[{name}] MGET missing key");
    for (k, v) in keys.iter().zip(&values[1..]) {
        assert_eq!(v, &bulk(&format!("v-{k}")), "[{name}] MGET {k}");
    }
    // A node of my choice: each primary's own DBSIZE through the client adds up.
    let by_node: i64 = cluster
        .primaries()
        .expect("primaries")
        .iter()
        .map(|p| {
            let target = Target::Node(Endpoint::new("127.0.0.1", p.port));
            match client.call_to(target, Request::new(["DBSIZE"])) {
                Ok(Frame::Integer(n)) => n,
                other => panic!("[{name}] DBSIZE on {}: {other:?}", p.port),
            }
        })
        .sum();
    assert_eq!(by_node, KEYS as i64, "[{name}] DBSIZE node by node");
    // DEL over the 1,000 keys and one missing: the total.
    let mut args: Vec<&str> = vec!["DEL"];
    args.extend(keys.iter().map(String::as_str));
    args.push("mn:missing");
    assert_eq!(
        must(client, &args),
        Frame::Integer(KEYS as i64),
        "[{name}] DEL"
    );
    assert_eq!(must(client, &["DBSIZE"]), Frame::Integer(0));
    // FLUSHALL empties every primary.
    write_all(client, &keys);
    assert_eq!(
        must(client, &["FLUSHALL"]),
        Frame::SimpleString("OK".into())
    );
    for (port, n) in per_primary_dbsize(cluster) {
        assert_eq!(n, 0, "[{name}] primary {port} after FLUSHALL");
    }
    // All-or-nothing commands stay refused across slots.
    match client.call(Request::new(["MSETNX", &keys[0], "1", &keys[1], "2"])) {
        Err(CallError::Request(RequestError::CrossSlot)) => {}
        other => panic!("[{name}] MSETNX across slots: {other:?}"),
    }
    // A SCAN cursor this client never made: a typed error, nothing sent.
    for bad in ["17", "not-a-cursor", "0000000000"] {
        match client.call(Request::new(["SCAN", bad])) {
            Err(CallError::Request(RequestError::InvalidCursor { .. })) => {}
            other => panic!("[{name}] SCAN {bad}: {other:?}"),
        }
    }
    println!("[{name}] fan-out and split: DBSIZE, KEYS, MGET and DEL of {KEYS} keys, FLUSHALL");
}

fn scripts_everywhere(name: &str, client: &dyn TestClient) {
    let sha = match &must(client, &["SCRIPT", "LOAD", "return {KEYS[1], ARGV[1]}"]) {
        Frame::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
        other => panic!("[{name}] SCRIPT LOAD: {other:?}"),
    };
    // EVALSHA in every one of the 16,384 slots, as one pipeline.
    let tags = slot_tags();
    let requests = (0..16384)
        .map(|slot| {
            let key = format!("{{{}}}:script", tags[slot]);
            Request::new(["EVALSHA", sha.as_str(), "1", key.as_str(), "x"])
        })
        .collect();
    let outcomes = client.pipeline(requests).expect("pipeline");
    for (slot, r) in outcomes.into_iter().enumerate() {
        let key = format!("{{{}}}:script", tags[slot]);
        assert_eq!(
            r,
            Ok(Frame::Array(vec![bulk(&key), bulk("x")])),
            "[{name}] EVALSHA in slot {slot}"
        );
    }
    // SCRIPT EXISTS: logical AND over the primaries.
    assert_eq!(
        must(client, &["SCRIPT", "EXISTS", &sha, &"0".repeat(40)]),
        Frame::Array(vec![Frame::Integer(1), Frame::Integer(0)])
    );
    println!("[{name}] SCRIPT LOAD on every primary; EVALSHA in all 16,384 slots");
}

/// Pipelines of 1,000 commands over all slots, one after another, while a reshard of 1,000 slots
/// and then a graceful failover run: every reply in order, no errors.
fn pipelines_through_reshard_and_failover(
    name: &str,
    client: &Arc<dyn TestClient>,
    cluster: &Cluster,
) {
    let keys = keys("pl");
    let done = AtomicBool::new(false);
    let rounds = AtomicUsize::new(0);
    std::thread::scope(|s| {
        let worker = s.spawn(|| {
            let started = Instant::now();
            let mut round = 0usize;
            while !done.load(Ordering::SeqCst) || round < 3 {
                assert!(
                    started.elapsed() < Duration::from_secs(120) && round < 100_000,
                    "[{name}] pipelines: bounded"
                );
                round += 1;
                // 500 keys: SET then GET each, interleaved.
                let mut requests = Vec::with_capacity(KEYS);
                let first = (round * 37) % KEYS;
                for k in keys.iter().cycle().skip(first).take(KEYS / 2) {
                    let value = format!("{round}-{k}");
                    requests.push(Request::new(["SET", k.as_str(), &value]));
                    requests.push(Request::new(["GET", k.as_str()]));
                }
                let outcomes = client.pipeline(requests).expect("pipeline");
                assert_eq!(outcomes.len(), KEYS);
                for (i, pair) in outcomes.chunks(2).enumerate() {
                    let k = &keys[(first + i) % KEYS];
                    assert_eq!(
                        pair[0],
                        Ok(Frame::SimpleString("OK".into())),
                        "[{name}] round {round}: SET {k}"
                    );
                    assert_eq!(
                        pair[1],
                        Ok(bulk(&format!("{round}-{k}"))),
                        "[{name}] round {round}: GET {k} (its reply in its place)"
                    );
                }
                rounds.store(round, Ordering::SeqCst);
            }
        });
        let primaries = cluster.primaries().expect("primaries");
        let moved = cluster
            .reshard(primaries[0].port, primaries[1].port, 1000)
            .expect("reshard");
        let promotion = cluster.failover(primaries[2].port).expect("failover");
        done.store(true, Ordering::SeqCst);
        worker.join().expect("pipelines");
        println!(
            "[{name}] {} pipelines of {KEYS} commands through a reshard of {} slots and a \
             failover ({} → {}): every reply in order, no errors",
            rounds.load(Ordering::SeqCst),
            moved.len(),
            promotion.old_primary,
            promotion.new_primary
        );
    });
}

/// 3,000 keys; a `SCAN` with a small `COUNT` walks them while 1,000 slots move and a primary
/// fails over: every key is returned.
fn scan_through_reshard_and_failover(name: &str, client: &Arc<dyn TestClient>, cluster: &Cluster) {
    must(&**client, &["FLUSHALL"]);
    let tags = slot_tags();
    let keys: Vec<String> = (0..3 * KEYS)
        .map(|i| format!("{{{}}}:sc:{i}", tags[(i * 5) % 16384]))
        .collect();
    write_all(&**client, &keys);
    let primaries = cluster.primaries().expect("primaries");
    let (from, to) = (primaries[1].port, primaries[0].port);
    let resharded = AtomicBool::new(false);
    let failed_over = AtomicBool::new(false);
    let steps_during_reshard = AtomicUsize::new(0);
    let found = std::thread::scope(|s| {
        let reshard = std::sync::Mutex::new(None);
        let between = |step: usize| {
            if step == 3 {
                let handle = s.spawn(|| {
                    let moved = cluster.reshard(from, to, 1000).expect("reshard");
                    resharded.store(true, Ordering::SeqCst);
                    moved.len()
                });
                *reshard.lock().expect("lock") = Some(handle);
            }
            if step > 3 && !resharded.load(Ordering::SeqCst) {
                steps_during_reshard.fetch_add(1, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(5));
            }
            if step == 60 {
                // The reshard must be over before the failover (the cluster tooling wants a
                // settled cluster); then a primary fails over mid-scan.
                let started = Instant::now();
                while !resharded.load(Ordering::SeqCst) {
                    assert!(
                        started.elapsed() < Duration::from_secs(120),
                        "reshard bounded"
                    );
                    std::thread::sleep(Duration::from_millis(20));
                }
                // A shard the reshard did not touch: a failover of the source or target right
                // after the reshard can leave the promoted node without the last slot moved
                // (seen once in CI: "sees 16383 of 16384 slots covered" for 30 s), a server-side
                // state no client can mend.
                let current = cluster.primaries().expect("primaries");
                let other = current
                    .iter()
                    .find(|p| p.port != from && p.port != to)
                    .expect("a third primary");
                cluster.failover(other.port).expect("failover");
                failed_over.store(true, Ordering::SeqCst);
            }
        };
        let found = client.scan(10, None, &between).expect("scan");
        let moved = reshard
            .lock()
            .expect("lock")
            .take()
            .map(|h| h.join().expect("reshard"));
        (found, moved)
    });
    let (found, moved) = found;
    assert!(
        failed_over.load(Ordering::SeqCst),
        "[{name}] the scan ended before the failover (too few steps)"
    );
    let seen: BTreeSet<&str> = found
        .iter()
        .map(|k| std::str::from_utf8(k).expect("utf-8"))
        .collect();
    let missing: Vec<&String> = keys.iter().filter(|k| !seen.contains(k.as_str())).collect();
    assert!(
        missing.is_empty(),
        "[{name}] SCAN missed {} of {} keys through a reshard and a failover, e.g. {:?}",
        missing.len(),
        keys.len(),
        &missing[..missing.len().min(5)]
    );
    assert!(
        seen.iter().all(|k| k.contains(":sc:")),
        "[{name}] stray keys"
    );
    // MATCH narrows it, cluster-wide.
    let odd = client
        .scan(100, Some("*:sc:*1"), &|_| {})
        .expect("scan MATCH");
    let want = keys.iter().filter(|k| k.ends_with('1')).count();
    let got: BTreeSet<Vec<u8>> = odd.into_iter().collect();
    assert_eq!(got.len(), want, "[{name}] SCAN MATCH");
    println!(
        "[{name}] SCAN returned all {} keys ({} with repeats) through a reshard of {:?} slots \
         ({} steps ran during it) and a failover",
        keys.len(),
        found.len(),
        moved,
        steps_during_reshard.load(Ordering::SeqCst)
    );
}

fn fan_out_with_a_primary_killed(name: &str, client: &dyn TestClient, cluster: &Cluster) {
    let victim = cluster.primaries().expect("primaries")[1].clone();
    let endpoint = Endpoint::new("127.0.0.1", victim.port);
    let kill = std::thread::scope(|s| {
        let k = s.spawn(|| cluster.kill(victim.port));
        // Ask at once, with a deadline shorter than the failover: the killed primary's part fails.
        std::thread::sleep(Duration::from_millis(200));
        let outcome = client.call(Request::new(["DBSIZE"]).timeout(Duration::from_millis(700)));
        (outcome, k.join().expect("kill"))
    });
    match kill.0 {
        Err(CallError::Request(RequestError::Partial {
            failed,
            parts,
            maybe_applied,
        })) => {
            assert_eq!(parts, 3, "[{name}] one part per shard");
            assert!(!maybe_applied, "[{name}] DBSIZE writes nothing");
            assert_eq!(failed.len(), 1, "[{name}] {failed:?}");
            assert_eq!(
                failed[0].node.as_ref(),
                Some(&endpoint),
                "[{name}] {failed:?}"
            );
        }
        other => panic!("[{name}] DBSIZE with a primary killed: {other:?}"),
    }
    let promotion = kill.1.expect("kill");
    // After the failover the fan-out answers again.
    let started = Instant::now();
    loop {
        match client.call(Request::new(["DBSIZE"])) {
            Ok(Frame::Integer(_)) => break,
            other => assert!(
                started.elapsed() < Duration::from_secs(30),
                "[{name}] DBSIZE after the failover: {other:?}"
            ),
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    println!(
        "[{name}] DBSIZE with {} killed: a typed partial failure naming it; answers again after \
         {} took over",
        promotion.old_primary, promotion.new_primary
    );
}
