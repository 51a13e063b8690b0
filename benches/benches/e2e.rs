//! End-to-end client throughput and latency against a real local Redis Cluster (3 primaries,
//! started by `slotwise-test-cluster` on loopback), side by side in one run:
//! **slotwise-tokio**, **redis-rs** (`redis` 1.x `cluster_async::ClusterConnection`) and **fred**
//! (10.x, clustered). All on the same tokio runtime (2 worker threads), the same keys (1,024 keys
//! spread over every shard, 16-byte values), alternating `SET` and `GET`.
//!
//! - `e2e/serial/*`: one task, one request at a time (latency-bound).
//! - `e2e/concurrent32/*`: 32 tasks, each one request at a time (no explicit pipelining; whatever
//!   the client multiplexes on its connections).
//! - `e2e/batch64/*`: one task issuing batches of 64 concurrent requests and awaiting them together
//!   (pipelining: the client can coalesce them into one write per node).
//!
//! Before the criterion groups, a latency table (p50 / p99 / max of each request, 32 tasks, 3 s
//! per client) is printed.
//!
//! `e2e/serial/raw-floor` is no client at all, for the serial row only: one tokio `TcpStream` per
//! primary, the slot map read once, each request pre-encoded and written by the calling task
//! itself, which then reads its reply from the socket. No task hop, no routing, no bookkeeping:
//! what one round trip costs on this machine through tokio, the floor any tokio client sits on.
//!
//! `cargo bench -p slotwise-benches --bench e2e`

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use fred::prelude::{ClientLike, KeysInterface};
use redis::AsyncCommands;
use slotwise_benches::join::join_all;
use slotwise_test_cluster::{Cluster, ClusterOptions};

const KEYS: usize = 1024;
const VALUE: &str = "0123456789abcdef";

/// The three clients, behind one interface (and the raw floor).
#[derive(Clone)]
enum Peer {
    Slotwise(slotwise_tokio::Client),
    RedisRs(redis::cluster_async::ClusterConnection),
    Fred(fred::clients::Client),
    Raw(Arc<Raw>),
}

/// The serial floor (see the module docs): each key's requests pre-encoded, one socket per
/// primary.
struct Raw {
    /// Per key: the index of its primary's socket, `SET` and `GET` on the wire.
    keys: Vec<(usize, Vec<u8>, Vec<u8>)>,
    nodes: Vec<
        tokio::sync::Mutex<(
            tokio::net::TcpStream,
            slotwise_resp::Decoder,
            bytes::BytesMut,
        )>,
    >,
}

impl Raw {
    async fn connect(topology: &slotwise_tokio::Topology) -> Raw {
        let mut nodes = Vec::new();
        let mut owner = vec![0usize; 16384];
        for (i, shard) in topology.shards().iter().enumerate() {
            let ep = shard.primary.endpoint.as_ref().expect("a primary address");
            let stream = tokio::net::TcpStream::connect((ep.host.as_str(), ep.port))
                .await
                .expect("raw connect");
            stream.set_nodelay(true).expect("nodelay");
            let decoder = slotwise_resp::Decoder::new();
            nodes.push(tokio::sync::Mutex::new((
                stream,
                decoder,
                bytes::BytesMut::new(),
            )));
            for range in &shard.slots {
                for slot in range.slots() {
                    owner[usize::from(slot)] = i;
                }
            }
        }
        let encode = |args: &[&str]| {
            let mut out = bytes::BytesMut::new();
            slotwise_resp::encode::write_array_header(&mut out, args.len());
            for a in args {
                slotwise_resp::encode::write_arg(&mut out, a);
            }
            out.to_vec()
        };
        let keys = KEY_NAMES
            .iter()
            .map(|k| {
                let slot = usize::from(slotwise_slot::key_slot(k.as_bytes()));
                (owner[slot], encode(&["SET", k, VALUE]), encode(&["GET", k]))
            })
            .collect();
        Raw { keys, nodes }
    }

    async fn op(&self, key: usize, set: bool) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (node, set_wire, get_wire) = &self.keys[key];
        let mut conn = self.nodes[*node].lock().await;
        let (stream, decoder, buf) = &mut *conn;
        stream
            .write_all(if set { set_wire } else { get_wire })
            .await
            .expect("raw write");
        loop {
            if decoder.decode(buf).expect("raw decode").is_some() {
                return;
            }
            buf.reserve(4096);
            let n = stream.read_buf(buf).await.expect("raw read");
            assert!(n > 0, "raw: connection closed");
        }
    }
}

impl Peer {
    fn name(&self) -> &'static str {
        match self {
            Peer::Slotwise(_) => "slotwise",
            Peer::RedisRs(_) => "redis-rs",
            Peer::Fred(_) => "fred",
            Peer::Raw(_) => "raw-floor",
        }
    }

    /// Operation `n`: `SET` when even, `GET` when odd, on key `n % KEYS`.
    async fn op(&self, n: usize) {
        let key = &KEY_NAMES[n % KEYS];
        let set = n.is_multiple_of(2);
        match self {
            Peer::Slotwise(c) => {
                let r = if set {
                    c.send(slotwise_tokio::commands::set(key, VALUE)).await
                } else {
                    c.send(slotwise_tokio::commands::get(key)).await
                };
                r.expect("slotwise request");
            }
            Peer::RedisRs(c) => {
                let mut c = c.clone();
                if set {
                    let () = c.set(key, VALUE).await.expect("redis-rs SET");
                } else {
                    let _: Option<Vec<u8>> = c.get(key).await.expect("redis-rs GET");
                }
            }
            Peer::Fred(c) => {
                if set {
                    let () = c
                        .set(key.as_str(), VALUE, None, None, false)
                        .await
                        .expect("fred SET");
                } else {
                    let _: Option<fred::bytes::Bytes> =
                        c.get(key.as_str()).await.expect("fred GET");
                }
            }
            Peer::Raw(raw) => raw.op(n % KEYS, set).await,
        }
    }
}

static KEY_NAMES: std::sync::LazyLock<Vec<String>> =
    std::sync::LazyLock::new(|| (0..KEYS).map(|i| format!("bench:{i}")).collect());

async fn connect_all(cluster: &Cluster) -> Vec<Peer> {
    let seed = cluster.seed().expect("seed");
    let slotwise = slotwise_tokio::Client::connect(
        slotwise_tokio::ClientConfig::new([seed.to_string()]).expect("config"),
    )
    .await
    .expect("slotwise connect");
    let redis_rs = redis::cluster::ClusterClient::new(vec![format!("redis://{seed}")])
        .expect("redis-rs client")
        .get_async_connection()
        .await
        .expect("redis-rs connect");
    let config = fred::types::config::Config {
        server: fred::types::config::ServerConfig::new_clustered(vec![(
            seed.ip().to_string(),
            seed.port(),
        )]),
        ..Default::default()
    };
    let fred = fred::clients::Client::new(config, None, None, None);
    fred.init().await.expect("fred connect");
    vec![
        Peer::Slotwise(slotwise),
        Peer::RedisRs(redis_rs),
        Peer::Fred(fred),
    ]
}

/// `iters` operations over `tasks` tasks, each one at a time.
async fn concurrent(peer: &Peer, tasks: usize, iters: u64) -> Duration {
    let per = (iters as usize).div_ceil(tasks);
    let start = Instant::now();
    let handles: Vec<_> = (0..tasks)
        .map(|t| {
            let peer = peer.clone();
            tokio::spawn(async move {
                for i in 0..per {
                    peer.op(t * per + i).await;
                }
            })
        })
        .collect();
    for h in handles {
        h.await.expect("task");
    }
    start.elapsed()
}

/// `iters` operations in batches of `batch` awaited together.
async fn batched(peer: &Peer, batch: usize, iters: u64) -> Duration {
    let batches = (iters as usize).div_ceil(batch);
    let start = Instant::now();
    for b in 0..batches {
        join_all((0..batch).map(|i| peer.op(b * batch + i))).await;
    }
    start.elapsed()
}

/// p50 / p99 / max latency with 32 tasks for `time`.
async fn latency(peer: &Peer, time: Duration) -> (usize, Vec<Duration>) {
    let start = Instant::now();
    let handles: Vec<_> = (0..32)
        .map(|t| {
            let peer = peer.clone();
            tokio::spawn(async move {
                let mut samples = Vec::new();
                let mut n = t;
                while start.elapsed() < time {
                    let s = Instant::now();
                    peer.op(n).await;
                    samples.push(s.elapsed());
                    n += 32;
                }
                samples
            })
        })
        .collect();
    let mut all = Vec::new();
    for h in handles {
        all.extend(h.await.expect("task"));
    }
    all.sort_unstable();
    (all.len(), all)
}

fn bench(c: &mut Criterion) {
    let cluster = Cluster::start(&ClusterOptions {
        replicas: 0,
        ..Default::default()
    })
    .expect("start a local cluster");
    let rt = Arc::new(
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime"),
    );
    let peers = rt.block_on(connect_all(&cluster));
    rt.block_on(async {
        for peer in &peers {
            concurrent(peer, 32, KEYS as u64 * 2).await; // every key set, connections warm
        }
    });

    println!("latency per request, 32 tasks, SET/GET alternating, 3 s each:");
    println!(
        "{:<10} {:>10} {:>10} {:>10} {:>10} {:>10}",
        "client", "ops/s", "p50", "p99", "p99.9", "max"
    );
    for peer in &peers {
        let time = Duration::from_secs(3);
        let (n, s) = rt.block_on(latency(peer, time));
        let q = |f: f64| s[((n as f64 * f) as usize).min(n - 1)];
        println!(
            "{:<10} {:>10.0} {:>10.1?} {:>10.1?} {:>10.1?} {:>10.1?}",
            peer.name(),
            n as f64 / time.as_secs_f64(),
            q(0.5),
            q(0.99),
            q(0.999),
            s[n - 1]
        );
    }

    let mut group = c.benchmark_group("e2e");
    group.throughput(Throughput::Elements(1));
    group.sample_size(20);
    let topology = match &peers[0] {
        Peer::Slotwise(c) => rt.block_on(c.topology()).expect("topology"),
        _ => unreachable!("slotwise is the first peer"),
    };
    let raw = Peer::Raw(Arc::new(rt.block_on(Raw::connect(&topology))));
    rt.block_on(concurrent(&raw, 1, KEYS as u64 * 2)); // warm, and every reply read
    for peer in peers.iter().chain([&raw]) {
        group.bench_function(format!("serial/{}", peer.name()), |b| {
            b.iter_custom(|iters| rt.block_on(concurrent(peer, 1, iters)))
        });
    }
    for peer in &peers {
        group.bench_function(format!("concurrent32/{}", peer.name()), |b| {
            b.iter_custom(|iters| rt.block_on(concurrent(peer, 32, iters)))
        });
    }
    for peer in &peers {
        group.bench_function(format!("batch64/{}", peer.name()), |b| {
            b.iter_custom(|iters| rt.block_on(batched(peer, 64, iters)))
        });
    }
    group.finish();
    for peer in peers {
        if let Peer::Slotwise(c) = &peer {
            rt.block_on(c.shutdown());
        }
    }
    drop(cluster);
}

criterion_group!(benches, bench);
criterion_main!(benches);
