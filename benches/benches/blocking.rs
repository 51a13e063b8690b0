//! slotwise-blocking end to end against a real local Redis Cluster (3 primaries on loopback):
//! calls from plain threads, alternating `SET` and `GET` over 1,024 keys on every shard.
//!
//! - `blocking/serial`: one thread, one request at a time (latency-bound: the thread hops per
//!   request show here).
//! - `blocking/threads32`: 32 threads, each one request at a time.
//!
//! `cargo bench -p slotwise-benches --bench blocking`

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use slotwise_blocking::{Client, ClientConfig, commands};
use slotwise_test_cluster::{Cluster, ClusterOptions};

const KEYS: usize = 1024;

fn op(client: &Client, keys: &[String], n: usize) {
    let key = &keys[n % KEYS];
    if n.is_multiple_of(2) {
        client
            .send(commands::set(key, "0123456789abcdef"))
            .expect("SET");
    } else {
        client.send(commands::get(key)).expect("GET");
    }
}

fn bench(c: &mut Criterion) {
    let cluster = Cluster::start(&ClusterOptions {
        primaries: 3,
        replicas: 0,
        ..Default::default()
    })
    .expect("cluster");
    let seed = format!("127.0.0.1:{}", cluster.seed().expect("seed").port());
    let client = Client::connect(ClientConfig::new([seed]).expect("config")).expect("connect");
    let keys: Arc<Vec<String>> = Arc::new(
        slotwise_test_cluster::slot_tags()
            .iter()
            .step_by(16)
            .take(KEYS)
            .map(|t| format!("b{{{t}}}"))
            .collect(),
    );
    let mut group = c.benchmark_group("blocking");
    group.throughput(Throughput::Elements(1));
    group.sample_size(20);
    group.bench_function("serial", |b| {
        let mut n = 0;
        b.iter(|| {
            op(&client, &keys, n);
            n += 1;
        })
    });
    group.bench_function("threads32", |b| {
        b.iter_custom(|iters| {
            let per = iters.div_ceil(32);
            let started = Instant::now();
            let threads: Vec<_> = (0..32)
                .map(|t| {
                    let (client, keys) = (client.clone(), Arc::clone(&keys));
                    std::thread::spawn(move || {
                        for i in 0..per {
                            op(&client, &keys, t * 1000 + i as usize);
                        }
                    })
                })
                .collect();
            for t in threads {
                t.join().expect("bench thread");
            }
            let elapsed = started.elapsed();
            elapsed
                .mul_f64(iters as f64 / (per * 32) as f64)
                .max(Duration::from_nanos(1))
        })
    });
    group.finish();
    client.shutdown();
}

criterion_group!(benches, bench);
criterion_main!(benches);
