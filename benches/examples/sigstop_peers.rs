//! A primary frozen with `SIGSTOP` under a steady `INCR` load, side by side: **slotwise-tokio**,
//! **redis-rs** (`redis` 1.x `cluster_async`, defaults) and **fred** (10.x clustered, reconnecting
//! every 100 ms), one after another on one real cluster (3 primaries, a replica each, node timeout
//! 2 s). For each: 2,000 `INCR`/s over every slot (open loop: one request started every 500 µs,
//! each with a 10 s limit), 3 s steady, then `SIGSTOP` of a primary for 10 s (its replica is
//! promoted meanwhile), `SIGCONT`, 3 s more.
//!
//! Prints, per client: the promotion time; when the frozen shard's slots answered again; the
//! longest gap between answers on the frozen shard and on the others; errors by kind; ambiguous
//! outcomes (slotwise: `maybe_applied`; a peer's error on an `INCR` says nothing, so every one
//! counts); and, from the counters read back from each slot's primary at the end, acknowledged
//! `INCR`s lost and `INCR`s applied more often than acknowledged + ambiguous (duplicates: a
//! client that sends a written `INCR` again after a connection loss).
//!
//! ```text
//! cargo run --release -p slotwise-benches --example sigstop_peers
//! ```

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fred::interfaces::{ClientLike, KeysInterface};
use slotwise_test_cluster::{Cluster, ClusterOptions, SLOTS, slot_tags};

const RATE_GAP: Duration = Duration::from_micros(500);
const STEADY: Duration = Duration::from_secs(3);
const FROZEN: Duration = Duration::from_secs(10);
const LIMIT: Duration = Duration::from_secs(10);

#[derive(Clone)]
enum Peer {
    Slotwise(slotwise_tokio::Client),
    RedisRs(redis::cluster_async::ClusterConnection),
    Fred(fred::clients::Client),
}

/// How one `INCR` ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum End {
    Ok,
    /// May have run.
    Ambiguous(&'static str),
    /// Did not run.
    Failed(&'static str),
}

struct Record {
    slot: usize,
    started: Instant,
    done: Instant,
    end: End,
}

impl Peer {
    async fn incr(&self, key: &str) -> End {
        match self {
            Peer::Slotwise(c) => {
                match tokio::time::timeout(
                    LIMIT,
                    c.send(slotwise_tokio::Request::new(["INCR", key])),
                )
                .await
                {
                    Ok(Ok(_)) => End::Ok,
                    Ok(Err(slotwise_tokio::Error::Request(e))) if e.maybe_applied() => {
                        End::Ambiguous(e.kind())
                    }
                    Ok(Err(slotwise_tokio::Error::Request(e))) => End::Failed(e.kind()),
                    Ok(Err(_)) => End::Failed("other"),
                    Err(_) => End::Ambiguous("limit"),
                }
            }
            Peer::RedisRs(c) => {
                let mut c = c.clone();
                let r: Result<redis::RedisResult<i64>, _> =
                    tokio::time::timeout(LIMIT, redis::AsyncCommands::incr(&mut c, key, 1)).await;
                match r {
                    Ok(Ok(_)) => End::Ok,
                    Ok(Err(_)) => End::Ambiguous("error"),
                    Err(_) => End::Ambiguous("limit"),
                }
            }
            Peer::Fred(c) => {
                let r: Result<Result<i64, _>, _> =
                    tokio::time::timeout(LIMIT, c.incr::<i64, _>(key)).await;
                match r {
                    Ok(Ok(_)) => End::Ok,
                    Ok(Err(_)) => End::Ambiguous("error"),
                    Err(_) => End::Ambiguous("limit"),
                }
            }
        }
    }
}

async fn connect(name: &str, cluster: &Cluster) -> Peer {
    let seed = cluster.seed().expect("seed");
    match name {
        "slotwise" => Peer::Slotwise(
            slotwise_tokio::Client::connect(
                slotwise_tokio::ClientConfig::new([seed.to_string()]).expect("config"),
            )
            .await
            .expect("slotwise connects"),
        ),
        "redis-rs" => Peer::RedisRs(
            redis::cluster::ClusterClient::new(vec![format!("redis://{seed}")])
                .expect("redis-rs client")
                .get_async_connection()
                .await
                .expect("redis-rs connects"),
        ),
        _ => {
            let config = fred::types::config::Config {
                server: fred::types::config::ServerConfig::new_clustered(vec![(
                    seed.ip().to_string(),
                    seed.port(),
                )]),
                ..Default::default()
            };
            let client = fred::types::Builder::from_config(config)
                .set_policy(fred::types::config::ReconnectPolicy::new_constant(0, 100))
                .build()
                .expect("fred client");
            client.init().await.expect("fred connects");
            Peer::Fred(client)
        }
    }
}

/// Runs the schedule for one client; prints its line.
fn run(rt: &tokio::runtime::Runtime, cluster: &Cluster, name: &str) {
    let peer = rt.block_on(connect(name, cluster));
    let victim = cluster.primaries().expect("primaries")[1].clone();
    let mut faulted = vec![false; SLOTS];
    for r in &victim.slots {
        for s in r.clone() {
            faulted[usize::from(s)] = true;
        }
    }
    let records = Arc::new(Mutex::new(Vec::<Record>::new()));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let load = {
        let (peer, records, stop) = (peer.clone(), records.clone(), stop.clone());
        let keys: Vec<String> = (0..SLOTS)
            .map(|s| format!("{name}:c{{{}}}", slot_tags()[s]))
            .collect();
        let keys = Arc::new(keys);
        rt.spawn(async move {
            let mut tick = tokio::time::interval(RATE_GAP);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
            let mut n = 0usize;
            let mut tasks = Vec::new();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) && n < 200_000 {
                tick.tick().await;
                let slot = (n * 7919) % SLOTS;
                n += 1;
                let (peer, records, keys) = (peer.clone(), records.clone(), keys.clone());
                tasks.push(tokio::spawn(async move {
                    let started = Instant::now();
                    let end = peer.incr(&keys[slot]).await;
                    records.lock().unwrap().push(Record {
                        slot,
                        started,
                        done: Instant::now(),
                        end,
                    });
                }));
            }
            for t in tasks {
                let _ = t.await;
            }
        })
    };
    std::thread::sleep(STEADY);
    let frozen_at = Instant::now();
    let promotion = cluster.pause(victim.port).expect("SIGSTOP and promotion");
    std::thread::sleep(FROZEN.saturating_sub(frozen_at.elapsed()));
    cluster.resume(victim.port).expect("SIGCONT");
    std::thread::sleep(STEADY);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    rt.block_on(load).expect("load task");

    let records = records.lock().unwrap();
    let gap = |on_faulted: bool| {
        let mut done: Vec<Instant> = records
            .iter()
            .filter(|r| r.end == End::Ok && faulted[r.slot] == on_faulted)
            .map(|r| r.done)
            .collect();
        done.sort();
        done.windows(2)
            .map(|w| w[1] - w[0])
            .max()
            .unwrap_or_default()
    };
    let recovered = records
        .iter()
        .filter(|r| {
            faulted[r.slot] && r.end == End::Ok && r.done > frozen_at + Duration::from_millis(100)
        })
        .map(|r| r.done - frozen_at)
        .min();
    let mut ends: BTreeMap<(bool, End), usize> = BTreeMap::new();
    for r in records.iter().filter(|r| r.end != End::Ok) {
        *ends.entry((faulted[r.slot], r.end)).or_default() += 1;
    }
    let ambiguous: usize = ends
        .iter()
        .filter(|((_, e), _)| matches!(e, End::Ambiguous(_)))
        .map(|(_, n)| n)
        .sum();
    let written_while_frozen = records
        .iter()
        .filter(|r| {
            faulted[r.slot]
                && r.started >= frozen_at
                && r.started < frozen_at + promotion.promoted_after
        })
        .count();
    println!(
        "{name:>9}: {} INCRs; promoted after {:.2} s; frozen shard answered again after {}; longest gap \
         frozen shard {:.2} s, other shards {:.3} s; ambiguous {ambiguous}; errors (frozen shard?, kind) {ends:?}; \
         {written_while_frozen} INCRs for the frozen shard started between the freeze and the promotion",
        records.len(),
        promotion.promoted_after.as_secs_f64(),
        recovered.map_or("never".to_string(), |d| format!("{:.2} s", d.as_secs_f64())),
        gap(true).as_secs_f64(),
        gap(false).as_secs_f64(),
    );
    let (lost, duplicated) = read_back(cluster, name, &records);
    println!(
        "{:>9}  counters read back: {lost} acknowledged INCRs lost, {duplicated} applied more than \
         acknowledged + ambiguous",
        ""
    );
    drop(records);
    if let Peer::Slotwise(c) = peer {
        rt.block_on(c.shutdown());
    }
}

/// Reads every counter of the run from its slot's primary; returns (acknowledged increments
/// missing, increments beyond acknowledged + ambiguous).
fn read_back(cluster: &Cluster, name: &str, records: &[Record]) -> (u64, u64) {
    let mut acked = vec![0u64; SLOTS];
    let mut ambiguous = vec![0u64; SLOTS];
    for r in records {
        match r.end {
            End::Ok => acked[r.slot] += 1,
            End::Ambiguous(_) => ambiguous[r.slot] += 1,
            End::Failed(_) => {}
        }
    }
    let (mut lost, mut duplicated) = (0, 0);
    for primary in cluster.primaries().expect("primaries") {
        let mut conn = cluster
            .conn(primary.port)
            .expect("a connection to a primary");
        for range in &primary.slots {
            for slot in range.clone() {
                let slot = usize::from(slot);
                let key = format!("{name}:c{{{}}}", slot_tags()[slot]);
                let value: u64 = match conn.cmd(["GET", key.as_str()]).expect("GET") {
                    f if f.as_bytes().is_some() => std::str::from_utf8(f.as_bytes().unwrap())
                        .ok()
                        .and_then(|s| s.parse().ok())
                        .unwrap_or(0),
                    _ => 0,
                };
                lost += acked[slot].saturating_sub(value);
                duplicated += value.saturating_sub(acked[slot] + ambiguous[slot]);
            }
        }
    }
    (lost, duplicated)
}

fn main() {
    let cluster = Cluster::start(&ClusterOptions {
        primaries: 3,
        replicas: 1,
        node_timeout_ms: 2000,
        ..Default::default()
    })
    .expect("cluster starts");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let only = std::env::args().nth(1);
    for name in ["slotwise", "redis-rs", "fred"] {
        if only.as_deref().is_none_or(|o| o == name) {
            run(&rt, &cluster, name);
        }
    }
}
