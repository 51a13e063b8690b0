//! A profiling aid for `benches/benches/pipeline.rs`: runs one client's pipelines against a fresh
//! local 3-primary cluster in a loop, so `perf record` or `strace -c` can watch one client alone,
//! and prints the mean time per pipeline for each size.
//!
//! ```text
//! cargo run --release -p slotwise-benches --example pipeline_probe -- CLIENT SHAPE [SECONDS] [inside]
//! ```
//!
//! CLIENT:
//! - `slotwise`: one `Pipeline` per round;
//! - `slotwise-serial`: each command alone (`Handle::cmd`), one at a time;
//! - `slotwise-chunks`: pipelines of `PROBE_CHUNK` commands (default 64), each spawned once built;
//! - `slotwise-submit`: each command `Handle::submit`ted, then all awaited;
//! - `redis-rs-async` (same-slot only: it refuses cross-slot pipelines), `redis-rs-sync`
//!   (`cluster_pipe`), `fred`;
//! - `raw`: the floor: a blocking socket per node, the commands pre-encoded, one write per node,
//!   then every node's replies read (no parsing beyond counting `+OK`s).
//!
//! SHAPE: `same` (keys of one slot) or `cross` (keys over all slots). SECONDS per size (default
//! 2). Sizes 1, 4, 16, 64, 256, 1024, or as given by `PROBE_SIZES=16,256`. `inside`: the calling
//! loop runs as a task on the runtime instead of in `block_on` on the main thread (async clients).
//! Allocations are counted for the whole process (a counting global allocator).

#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use fred::prelude::{ClientLike, KeysInterface};
use slotwise_test_cluster::{Cluster, ClusterOptions};

const VALUE: &str = "0123456789abcdef";
/// Counts allocations (and reallocations) of the whole process: every thread of the client.
struct Counting;
static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const DEFAULT_SIZES: [usize; 6] = [1, 4, 16, 64, 256, 1024];

/// The pipeline sizes: `PROBE_SIZES` (comma-separated), else [`DEFAULT_SIZES`].
fn sizes() -> Vec<usize> {
    std::env::var("PROBE_SIZES").map_or_else(
        |_| DEFAULT_SIZES.to_vec(),
        |s| {
            s.split(',')
                .map(|n| n.trim().parse().expect("PROBE_SIZES"))
                .collect()
        },
    )
}

#[derive(Clone)]
enum Peer {
    Slotwise(slotwise_tokio::Client),
    /// The same client, each command sent alone (`Handle::cmd`), one at a time.
    SlotwiseSerial(slotwise_tokio::Client),
    /// The same client, the commands in pipelines of `PROBE_CHUNK` (default 64), each spawned
    /// as soon as it is built, all awaited at the end.
    SlotwiseChunks(slotwise_tokio::Client),
    /// The same client, every command `Handle::submit`ted (one message each), then all awaited.
    SlotwiseSubmit(slotwise_tokio::Client),
    RedisAsync(redis::cluster_async::ClusterConnection),
    Fred(fred::clients::Client),
}

impl Peer {
    async fn run(&mut self, keys: &[String]) {
        match self {
            Peer::Slotwise(c) => {
                let mut p = c.pipeline();
                for k in keys {
                    p.cmd(["SET", k.as_str(), VALUE]);
                }
                let r = p.run().await.expect("slotwise");
                assert!(r.iter().all(Result::is_ok));
            }
            Peer::SlotwiseSerial(c) => {
                for k in keys {
                    c.cmd(["SET", k.as_str(), VALUE]).await.expect("slotwise");
                }
            }
            Peer::SlotwiseChunks(c) => {
                let chunk =
                    std::env::var("PROBE_CHUNK").map_or(64, |s| s.parse().expect("PROBE_CHUNK"));
                let mut tasks = Vec::new();
                for part in keys.chunks(chunk) {
                    let mut p = c.pipeline();
                    for k in part {
                        p.cmd(["SET", k.as_str(), VALUE]);
                    }
                    tasks.push(tokio::spawn(async move { p.run().await }));
                }
                for t in tasks {
                    let r = t.await.expect("task").expect("slotwise");
                    assert!(r.iter().all(Result::is_ok));
                }
            }
            Peer::SlotwiseSubmit(c) => {
                let pending: Vec<_> = keys
                    .iter()
                    .map(|k| c.submit(slotwise_tokio::Request::new(["SET", k.as_str(), VALUE])))
                    .collect();
                for p in pending {
                    p.await.expect("slotwise");
                }
            }
            Peer::RedisAsync(c) => {
                let mut p = redis::pipe();
                for k in keys {
                    p.cmd("SET").arg(k).arg(VALUE).ignore();
                }
                let () = p.query_async(c).await.expect("redis-rs async");
            }
            Peer::Fred(c) => {
                let p = c.pipeline();
                for k in keys {
                    let () = p
                        .set(k.as_str(), VALUE, None, None, false)
                        .await
                        .expect("fred");
                }
                let _: Vec<fred::types::Value> = p.all().await.expect("fred");
            }
        }
    }
}

fn keys(shape: &str, n: usize) -> Vec<String> {
    match shape {
        "same" => (0..n).map(|i| format!("{{bench}}:{i}")).collect(),
        "cross" => (0..n).map(|i| format!("bench:{i}")).collect(),
        other => panic!("SHAPE is same or cross, not {other}"),
    }
}

async fn time_async(mut peer: Peer, keys: Vec<String>, time: Duration) -> (u64, Duration) {
    let start = Instant::now();
    let mut n = 0;
    while start.elapsed() < time {
        peer.run(&keys).await;
        n += 1;
    }
    (n, start.elapsed())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let client = args.first().map_or("slotwise", String::as_str).to_owned();
    let shape = args.get(1).map_or("same", String::as_str).to_owned();
    let secs: f64 = args.get(2).map_or(2.0, |s| s.parse().expect("SECONDS"));
    let inside = args.get(3).is_some_and(|s| s == "inside");
    let time = Duration::from_secs_f64(secs);

    let cluster = Cluster::start(&ClusterOptions {
        replicas: 0,
        ..Default::default()
    })
    .expect("start a local cluster");
    let seed = cluster.seed().expect("seed");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");

    if client == "raw" {
        raw(&rt, seed, &shape, time);
        return;
    }
    if client == "redis-rs-sync" {
        let mut conn = redis::cluster::ClusterClient::new(vec![format!("redis://{seed}")])
            .expect("client")
            .get_connection()
            .expect("connect");
        for n in sizes() {
            let keys = keys(&shape, n);
            let a0 = ALLOCATIONS.load(Ordering::Relaxed);
            let start = Instant::now();
            let mut runs = 0u64;
            while start.elapsed() < time {
                let mut p = redis::cluster::cluster_pipe();
                for k in &keys {
                    p.cmd("SET").arg(k).arg(VALUE).ignore();
                }
                let () = p.query(&mut conn).expect("redis-rs sync");
                runs += 1;
            }
            let took = start.elapsed();
            report(
                &client,
                n,
                runs,
                took,
                ALLOCATIONS.load(Ordering::Relaxed) - a0,
            );
        }
        return;
    }

    let peer = rt.block_on(async {
        match client.as_str() {
            "slotwise" | "slotwise-serial" | "slotwise-submit" | "slotwise-chunks" => {
                let c = slotwise_tokio::Client::connect(
                    slotwise_tokio::ClientConfig::new([seed.to_string()]).expect("config"),
                )
                .await
                .expect("connect");
                match client.as_str() {
                    "slotwise" => Peer::Slotwise(c),
                    "slotwise-serial" => Peer::SlotwiseSerial(c),
                    "slotwise-chunks" => Peer::SlotwiseChunks(c),
                    _ => Peer::SlotwiseSubmit(c),
                }
            }
            "redis-rs-async" => Peer::RedisAsync(
                redis::cluster::ClusterClient::new(vec![format!("redis://{seed}")])
                    .expect("client")
                    .get_async_connection()
                    .await
                    .expect("connect"),
            ),
            "fred" => {
                let config = fred::types::config::Config {
                    server: fred::types::config::ServerConfig::new_clustered(vec![(
                        seed.ip().to_string(),
                        seed.port(),
                    )]),
                    ..Default::default()
                };
                let c = fred::clients::Client::new(config, None, None, None);
                c.init().await.expect("connect");
                Peer::Fred(c)
            }
            other => panic!("unknown client {other}"),
        }
    });
    for n in sizes() {
        let keys = keys(&shape, n);
        let a0 = ALLOCATIONS.load(Ordering::Relaxed);
        let (runs, took) = if inside {
            let peer = peer.clone();
            rt.block_on(async move {
                tokio::spawn(time_async(peer, keys, time))
                    .await
                    .expect("task")
            })
        } else {
            rt.block_on(time_async(peer.clone(), keys, time))
        };
        report(
            &client,
            n,
            runs,
            took,
            ALLOCATIONS.load(Ordering::Relaxed) - a0,
        );
    }
}

fn report(client: &str, n: usize, runs: u64, took: Duration, allocs: u64) {
    let per = took.as_secs_f64() * 1e6 / runs as f64;
    let allocs = allocs as f64 / runs as f64;
    println!(
        "{client:<15} n={n:<5} {per:>9.1} µs per pipeline {:>7.3} µs per command \
         {allocs:>9.1} allocations per pipeline {:>6.2} per command",
        per / n as f64,
        allocs / n as f64
    );
}

/// The floor any client pays: per node, one `write` of the pre-encoded commands, then read until
/// all of its `+OK\r\n`s are in (all nodes written before any is read, as redis-rs's sync
/// `cluster_pipe` does).
fn raw(rt: &tokio::runtime::Runtime, seed: std::net::SocketAddr, shape: &str, time: Duration) {
    use std::io::{Read, Write};
    let topology = rt.block_on(async {
        let c = slotwise_tokio::Client::connect(
            slotwise_tokio::ClientConfig::new([seed.to_string()]).expect("config"),
        )
        .await
        .expect("connect");
        let t = c.topology().await.expect("topology");
        c.shutdown().await;
        t
    });
    let mut socks: std::collections::BTreeMap<String, std::net::TcpStream> = Default::default();
    for n in sizes() {
        let keys = keys(shape, n);
        // Per node: the encoded commands and how many.
        let mut batches: std::collections::BTreeMap<String, (Vec<u8>, usize)> = Default::default();
        for k in &keys {
            let slot = slotwise_slot::key_slot(k.as_bytes()).get();
            let node = topology.primary_for_slot(slot).expect("slot served");
            let ep = node.endpoint.as_ref().expect("endpoint");
            let addr = format!("{}:{}", ep.host, ep.port);
            let b = batches.entry(addr).or_default();
            b.0.extend_from_slice(
                format!(
                    "*3\r\n$3\r\nSET\r\n${}\r\n{k}\r\n${}\r\n{VALUE}\r\n",
                    k.len(),
                    VALUE.len()
                )
                .as_bytes(),
            );
            b.1 += 1;
        }
        for addr in batches.keys() {
            socks.entry(addr.clone()).or_insert_with(|| {
                let s = std::net::TcpStream::connect(addr.as_str()).expect("connect");
                s.set_nodelay(true).expect("nodelay");
                s
            });
        }
        let mut buf = vec![0u8; 1 << 16];
        let a0 = ALLOCATIONS.load(Ordering::Relaxed);
        let start = Instant::now();
        let mut runs = 0u64;
        while start.elapsed() < time {
            for (addr, (bytes, _)) in &batches {
                socks
                    .get_mut(addr)
                    .expect("socket")
                    .write_all(bytes)
                    .expect("write");
            }
            for (addr, (_, count)) in &batches {
                let sock = socks.get_mut(addr).expect("socket");
                let mut got = 0;
                while got < count * 5 {
                    let r = sock.read(&mut buf).expect("read");
                    assert!(r > 0, "closed");
                    got += r;
                }
            }
            runs += 1;
        }
        let took = start.elapsed();
        report(
            "raw",
            n,
            runs,
            took,
            ALLOCATIONS.load(Ordering::Relaxed) - a0,
        );
    }
}
