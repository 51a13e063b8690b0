//! slotwise-tokio alone on a fresh local cluster, for A/B runs of the driver loop across commits
//! (benches/README.md, "who runs the loop"): `SET`/`GET` alternating over 1,024 keys, three
//! rounds of 60,000 requests, µs per request printed per round.
//!
//! ```text
//! cargo run --release -p slotwise-benches --example drive_probe -- serial|batch64|concurrent32
//! ```
//!
//! - `serial`: one task, one request at a time;
//! - `batch64`: one task, 64 requests polled together (each submitted on its first poll);
//! - `concurrent32`: 32 tasks, each one request at a time;
//! - `batch64-main`: `batch64` on the thread that called `block_on` (as the e2e bench does), not
//!   on a worker.
//!
//! Run it under `strace -f -c` to count the syscalls per request.

use std::time::Instant;

use slotwise_benches::join::join_all;

use slotwise_test_cluster::{Cluster, ClusterOptions};
use slotwise_tokio::{Client, ClientConfig, commands};

const ROUNDS: usize = 3;
const REQUESTS: usize = 60_000;

fn main() {
    let mode = std::env::args().nth(1).unwrap_or_else(|| "serial".into());
    let (tasks, batch) = match mode.as_str() {
        "serial" => (1, 1),
        "batch64" => (1, 64),
        "concurrent32" => (32, 1),
        "batch64-main" => (0, 64),
        other => {
            eprintln!("unknown mode {other:?}: serial, batch64, concurrent32 or batch64-main");
            std::process::exit(2);
        }
    };
    let cluster = Cluster::start(&ClusterOptions {
        replicas: 0,
        ..Default::default()
    })
    .expect("start a local cluster");
    let seed = cluster.seed().expect("seed").to_string();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(async move {
        let config = ClientConfig::new([seed]).expect("config");
        let client = Client::connect(config).await.expect("connect");
        let keys: Vec<String> = (0..1024).map(|i| format!("key:{i}")).collect();
        for round in 0..ROUNDS {
            if tasks == 0 {
                let start = Instant::now();
                for b in 0..REQUESTS / batch {
                    let ops = (0..batch).map(|j| op(&client, &keys, b * batch + j));
                    join_all(ops).await;
                }
                println!(
                    "{mode} round {round}: {:.2} µs/request",
                    start.elapsed().as_secs_f64() * 1e6 / (REQUESTS / batch * batch) as f64
                );
                continue;
            }
            let per_task = REQUESTS / tasks;
            let start = Instant::now();
            let handles: Vec<_> = (0..tasks)
                .map(|t| {
                    let (client, keys) = (client.clone(), keys.clone());
                    tokio::spawn(async move {
                        for b in 0..per_task / batch {
                            let ops = (0..batch)
                                .map(|j| op(&client, &keys, t * per_task + b * batch + j));
                            join_all(ops).await;
                        }
                    })
                })
                .collect();
            for h in handles {
                h.await.expect("task");
            }
            let n = per_task / batch * batch * tasks;
            println!(
                "{mode} round {round}: {:.2} µs/request",
                start.elapsed().as_secs_f64() * 1e6 / n as f64
            );
        }
        client.shutdown().await;
    });
    drop(cluster);
}

/// Request `i`: `SET` on even, `GET` on odd.
async fn op(client: &Client, keys: &[String], i: usize) {
    let key = &keys[i % keys.len()];
    if i.is_multiple_of(2) {
        client
            .send(commands::set(key, "0123456789abcdef"))
            .await
            .expect("SET");
    } else {
        let _: Option<Vec<u8>> = client.query(["GET", key.as_str()]).await.expect("GET");
    }
}
