//! Explicit pipelines and cross-slot `MGET` against a real local Redis Cluster (3 primaries, no
//! replicas, started by `slotwise-test-cluster` on loopback), every client side by side in one run.
//! Async clients share one tokio runtime (2 worker threads); redis-rs's synchronous cluster
//! connection runs on the bench thread. Values are 16 bytes.
//!
//! - `pipeline/cross_slot/{16,64,256}/*`: a pipeline of N `SET key value`, keys `bench:{i}` spread
//!   over all slots (so over all three nodes). Peers: **slotwise** (`Handle::pipeline`), **fred**
//!   10 (`Client::pipeline` on a clustered client: every command routed on its own) and
//!   **redis-rs-sync** (`redis::cluster::ClusterConnection` with `redis::cluster::cluster_pipe()`,
//!   which groups the commands by node). redis-rs's async cluster connection sits out: it refuses
//!   a pipeline whose keys are in more than one slot ("Received crossed slots in pipeline", checked
//!   and printed at start).
//! - `pipeline/same_slot/16/*`: 16 `SET`s on keys of one slot (`{bench}:{i}`). Peers: slotwise,
//!   **redis-rs-async** (`cluster_async::ClusterConnection`, `redis::pipe()` + `query_async`), fred.
//! - `mget/cross_slot/100/*`: one `MGET` of 100 keys spread over the slots. Peers: slotwise
//!   (`Handle::mget`, split by slot in the core), redis-rs-async (splits `MGET` by slot itself,
//!   `MultiSlot` routing) and fred if it can (fred 10 sends the command whole to the first key's
//!   node, which refuses it with `CROSSSLOT`; checked and printed at start).
//!
//! Every pipeline's replies are checked once before its bench (all `OK`, in order; `MGET` values
//! right). Throughput is `Elements(N)`: per command (per key for `MGET`), so that criterion's
//! elements/s compare across sizes; the `bencher` output is ns per pipeline (per `MGET`).
//!
//! `cargo bench -p slotwise-benches --bench pipeline`

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main};
use fred::prelude::{ClientLike, KeysInterface};
use slotwise_test_cluster::{Cluster, ClusterOptions};

const VALUE: &str = "0123456789abcdef";
const CROSS_SIZES: [usize; 3] = [16, 64, 256];
const SAME_SLOT: usize = 16;
const MGET_KEYS: usize = 100;

/// Keys spread over the slots.
fn cross_keys(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("bench:{i}")).collect()
}

/// Keys of one slot (hash tag).
fn same_slot_keys(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{{bench}}:{i}")).collect()
}

struct Clients {
    slotwise: slotwise_tokio::Client,
    redis_async: redis::cluster_async::ClusterConnection,
    redis_sync: redis::cluster::ClusterConnection,
    fred: fred::clients::Client,
}

async fn connect_async(
    cluster: &Cluster,
) -> (
    slotwise_tokio::Client,
    redis::cluster_async::ClusterConnection,
    fred::clients::Client,
) {
    let seed = cluster.seed().expect("seed");
    let slotwise = slotwise_tokio::Client::connect(
        slotwise_tokio::ClientConfig::new([seed.to_string()]).expect("config"),
    )
    .await
    .expect("slotwise connect");
    let redis_async = redis::cluster::ClusterClient::new(vec![format!("redis://{seed}")])
        .expect("redis-rs client")
        .get_async_connection()
        .await
        .expect("redis-rs async connect");
    let config = fred::types::config::Config {
        server: fred::types::config::ServerConfig::new_clustered(vec![(
            seed.ip().to_string(),
            seed.port(),
        )]),
        ..Default::default()
    };
    let fred = fred::clients::Client::new(config, None, None, None);
    fred.init().await.expect("fred connect");
    (slotwise, redis_async, fred)
}

fn connect(cluster: &Cluster, rt: &tokio::runtime::Runtime) -> Clients {
    let (slotwise, redis_async, fred) = rt.block_on(connect_async(cluster));
    let seed = cluster.seed().expect("seed");
    let redis_sync = redis::cluster::ClusterClient::new(vec![format!("redis://{seed}")])
        .expect("redis-rs client")
        .get_connection()
        .expect("redis-rs sync connect");
    Clients {
        slotwise,
        redis_async,
        redis_sync,
        fred,
    }
}

// One pipeline of `SET key VALUE` per client; each returns how many replies were `OK`.

async fn slotwise_sets(c: &slotwise_tokio::Client, keys: &[String]) -> usize {
    let mut p = c.pipeline();
    for k in keys {
        p.cmd(["SET", k.as_str(), VALUE]);
    }
    let replies = p.run().await.expect("slotwise pipeline");
    replies
        .iter()
        .filter(|r| matches!(r, Ok(f) if f.as_bytes().is_some_and(|b| b == "OK")))
        .count()
}

async fn fred_sets(c: &fred::clients::Client, keys: &[String]) -> usize {
    let p = c.pipeline();
    for k in keys {
        let () = p
            .set(k.as_str(), VALUE, None, None, false)
            .await
            .expect("fred queue");
    }
    let replies: Vec<fred::types::Value> = p.all().await.expect("fred pipeline");
    replies
        .iter()
        .filter(|v| v.as_str().is_some_and(|s| s == "OK"))
        .count()
}

fn redis_pipe(keys: &[String]) -> redis::Pipeline {
    let mut p = redis::pipe();
    for k in keys {
        p.cmd("SET").arg(k).arg(VALUE);
    }
    p
}

async fn redis_async_sets(
    c: &mut redis::cluster_async::ClusterConnection,
    keys: &[String],
) -> redis::RedisResult<usize> {
    let replies: Vec<redis::Value> = redis_pipe(keys).query_async(c).await?;
    Ok(replies.iter().filter(|v| is_ok(v)).count())
}

fn redis_sync_sets(c: &mut redis::cluster::ClusterConnection, keys: &[String]) -> usize {
    let mut p = redis::cluster::cluster_pipe();
    for k in keys {
        p.cmd("SET").arg(k).arg(VALUE);
    }
    let replies: Vec<redis::Value> = p.query(c).expect("redis-rs cluster_pipe");
    replies.iter().filter(|v| is_ok(v)).count()
}

fn is_ok(v: &redis::Value) -> bool {
    matches!(v, redis::Value::Okay) || matches!(v, redis::Value::SimpleString(s) if s == "OK")
}

// MGET per client; each returns how many values were VALUE.

async fn slotwise_mget(c: &slotwise_tokio::Client, keys: &[String]) -> usize {
    let values = c.mget(keys).await.expect("slotwise MGET");
    values
        .iter()
        .filter(|v| v.as_ref().is_some_and(|b| b == VALUE))
        .count()
}

async fn redis_async_mget(
    c: &mut redis::cluster_async::ClusterConnection,
    keys: &[String],
) -> usize {
    let values: Vec<Option<Vec<u8>>> = redis::cmd("MGET")
        .arg(keys)
        .query_async(c)
        .await
        .expect("redis-rs MGET");
    values
        .iter()
        .filter(|v| v.as_deref().is_some_and(|b| b == VALUE.as_bytes()))
        .count()
}

async fn fred_mget(
    c: &fred::clients::Client,
    keys: &[String],
) -> Result<usize, fred::error::Error> {
    let values: Vec<Option<String>> = c.mget(keys.to_vec()).await?;
    Ok(values
        .iter()
        .filter(|v| v.as_deref().is_some_and(|s| s == VALUE))
        .count())
}

/// Times `iters` awaits of `op` on `rt`.
fn time_async<F, Fut>(rt: &tokio::runtime::Runtime, iters: u64, mut op: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = usize>,
{
    rt.block_on(async {
        let start = Instant::now();
        for _ in 0..iters {
            std::hint::black_box(op().await);
        }
        start.elapsed()
    })
}

fn set_benches(
    group: &mut BenchmarkGroup<'_, WallTime>,
    rt: &tokio::runtime::Runtime,
    clients: &mut Clients,
    label: &str,
    keys: &[String],
    redis_async: bool,
    redis_sync: bool,
) {
    let n = keys.len();
    group.throughput(Throughput::Elements(n as u64));
    let slotwise = &clients.slotwise;
    assert_eq!(
        rt.block_on(slotwise_sets(slotwise, keys)),
        n,
        "slotwise: all OK"
    );
    group.bench_function(format!("{label}/slotwise"), |b| {
        b.iter_custom(|iters| time_async(rt, iters, || slotwise_sets(slotwise, keys)))
    });
    if redis_async {
        let conn = &clients.redis_async;
        let ok = rt.block_on(redis_async_sets(&mut conn.clone(), keys));
        assert_eq!(
            ok.expect("redis-rs async pipeline"),
            n,
            "redis-rs async: all OK"
        );
        group.bench_function(format!("{label}/redis-rs-async"), |b| {
            b.iter_custom(|iters| {
                let mut conn = conn.clone();
                rt.block_on(async {
                    let start = Instant::now();
                    for _ in 0..iters {
                        let ok = redis_async_sets(&mut conn, keys).await;
                        std::hint::black_box(ok.expect("redis-rs async pipeline"));
                    }
                    start.elapsed()
                })
            })
        });
    }
    if redis_sync {
        let conn = &mut clients.redis_sync;
        assert_eq!(redis_sync_sets(conn, keys), n, "redis-rs sync: all OK");
        group.bench_function(format!("{label}/redis-rs-sync"), |b| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                for _ in 0..iters {
                    std::hint::black_box(redis_sync_sets(conn, keys));
                }
                start.elapsed()
            })
        });
    }
    let fred = &clients.fred;
    assert_eq!(rt.block_on(fred_sets(fred, keys)), n, "fred: all OK");
    group.bench_function(format!("{label}/fred"), |b| {
        b.iter_custom(|iters| time_async(rt, iters, || fred_sets(fred, keys)))
    });
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
    let mut clients = connect(&cluster, &rt);

    // What the peers refuse, said once.
    let keys16 = cross_keys(16);
    match rt.block_on(redis_async_sets(&mut clients.redis_async.clone(), &keys16)) {
        Ok(n) => println!("redis-rs async: a cross-slot pipeline ran ({n} OK): include it"),
        Err(e) => println!("redis-rs async refuses a cross-slot pipeline: {e}"),
    }
    let mget_keys = cross_keys(MGET_KEYS);
    // Every MGET key set (the pipeline benches set cross_keys(256) ⊇ these, but not yet).
    assert_eq!(
        rt.block_on(slotwise_sets(&clients.slotwise, &mget_keys)),
        MGET_KEYS
    );
    let fred_mget_ok = match rt.block_on(fred_mget(&clients.fred, &mget_keys)) {
        Ok(n) => {
            println!("fred: cross-slot MGET returned {n} of {MGET_KEYS} values");
            n == MGET_KEYS
        }
        Err(e) => {
            println!("fred refuses a cross-slot MGET: {e}");
            false
        }
    };

    let mut group = c.benchmark_group("pipeline");
    group.sample_size(20);
    for n in CROSS_SIZES {
        let keys = cross_keys(n);
        set_benches(
            &mut group,
            &rt,
            &mut clients,
            &format!("cross_slot/{n}"),
            &keys,
            false,
            true,
        );
    }
    let keys = same_slot_keys(SAME_SLOT);
    set_benches(
        &mut group,
        &rt,
        &mut clients,
        &format!("same_slot/{SAME_SLOT}"),
        &keys,
        true,
        false,
    );
    group.finish();

    let mut group = c.benchmark_group("mget");
    group.sample_size(20);
    group.throughput(Throughput::Elements(MGET_KEYS as u64));
    let label = format!("cross_slot/{MGET_KEYS}");
    let slotwise = &clients.slotwise;
    assert_eq!(rt.block_on(slotwise_mget(slotwise, &mget_keys)), MGET_KEYS);
    group.bench_function(format!("{label}/slotwise"), |b| {
        b.iter_custom(|iters| time_async(&rt, iters, || slotwise_mget(slotwise, &mget_keys)))
    });
    let conn = &clients.redis_async;
    assert_eq!(
        rt.block_on(redis_async_mget(&mut conn.clone(), &mget_keys)),
        MGET_KEYS
    );
    group.bench_function(format!("{label}/redis-rs-async"), |b| {
        b.iter_custom(|iters| {
            let mut conn = conn.clone();
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    std::hint::black_box(redis_async_mget(&mut conn, &mget_keys).await);
                }
                start.elapsed()
            })
        })
    });
    if fred_mget_ok {
        let fred = &clients.fred;
        group.bench_function(format!("{label}/fred"), |b| {
            b.iter_custom(|iters| {
                time_async(&rt, iters, || async {
                    fred_mget(fred, &mget_keys).await.expect("fred MGET")
                })
            })
        });
    }
    group.finish();

    rt.block_on(clients.slotwise.shutdown());
    drop(clients);
    drop(cluster);
}

criterion_group!(benches, bench);
criterion_main!(benches);
