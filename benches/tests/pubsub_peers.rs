//! The pub/sub fault schedule side by side: **slotwise-tokio**, **redis-rs** (`redis` 1.x
//! `cluster_async`, RESP3 pushes, which resubscribes on its own) and **fred** (10.x
//! `SubscriberClient` with `manage_subscriptions`, reconnecting every 100 ms), one after another on
//! one real cluster (3 primaries, a replica each). Each subscribes to a channel of its own; then
//! `slotwise_test_cluster::pubsub` publishes 10 messages/s for 36 s while the node its
//! subscription landed on (as `CLIENT LIST` shows) is failed over gracefully, killed with SIGKILL
//! and restarted.
//!
//! Holds: slotwise loses no more messages than either peer, and none outside the loss windows it
//! reported (the only window being the kill's). Prints each client's figures (recorded in
//! `benches/README.md`).

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fred::interfaces::{ClientLike, EventInterface, PubsubInterface};
use slotwise_test_cluster::pubsub::{
    Faults, Ticks, lost, outside_windows, publisher_port, subscriber_faults,
};
use slotwise_test_cluster::{Cluster, ClusterOptions};
use slotwise_tokio::PubSubEvent;

/// What one client received, filled in by its receiving task.
#[derive(Default)]
struct Received {
    got: BTreeSet<u64>,
    /// slotwise's reported loss windows (peers report none).
    windows: Vec<(Instant, Instant)>,
}

type Shared = Arc<Mutex<Received>>;

/// Records message `payload` (a number).
fn record(shared: &Shared, payload: &[u8]) {
    if let Some(n) = std::str::from_utf8(payload)
        .ok()
        .and_then(|s| s.parse().ok())
    {
        shared.lock().unwrap().got.insert(n);
    }
}

/// A subscribed client, kept alive until the run ends.
enum Subscribed {
    Slotwise(slotwise_tokio::Client, tokio::task::JoinHandle<()>),
    RedisRs(redis::cluster_async::ClusterConnection),
    Fred(fred::clients::SubscriberClient, tokio::task::JoinHandle<()>),
}

impl Subscribed {
    async fn close(self) {
        match self {
            Subscribed::Slotwise(client, task) => {
                task.abort();
                client.shutdown().await;
            }
            Subscribed::RedisRs(con) => drop(con),
            Subscribed::Fred(client, task) => {
                task.abort();
                let _ = client.quit().await;
            }
        }
    }
}

/// Connects `peer` to the cluster at `seed` and subscribes it to `channel`, feeding `shared`.
async fn subscribe(
    peer: &str,
    seed: std::net::SocketAddr,
    channel: &str,
    shared: Shared,
) -> Subscribed {
    match peer {
        "slotwise" => {
            let client = slotwise_tokio::Client::connect(
                slotwise_tokio::ClientConfig::new([seed.to_string()]).expect("config"),
            )
            .await
            .expect("slotwise connects");
            let mut sub = client.subscriber();
            sub.subscribe([channel]);
            let task = tokio::spawn(async move {
                while let Some(event) = sub.next().await {
                    match event {
                        PubSubEvent::Message(m) => record(&shared, &m.payload),
                        PubSubEvent::Resubscribed {
                            missed_from,
                            missed_until,
                            ..
                        } => shared
                            .lock()
                            .unwrap()
                            .windows
                            .push((sub.instant(missed_from), sub.instant(missed_until))),
                        _ => {}
                    }
                }
            });
            Subscribed::Slotwise(client, task)
        }
        "redis-rs" => {
            let sink = shared.clone();
            let client = redis::cluster::ClusterClientBuilder::new(vec![format!("redis://{seed}")])
                .use_protocol(redis::ProtocolVersion::RESP3)
                .push_sender(move |info: redis::PushInfo| {
                    if info.kind == redis::PushKind::Message
                        && let [_, redis::Value::BulkString(payload)] = &info.data[..]
                    {
                        record(&sink, payload);
                    }
                    Ok::<(), ()>(())
                })
                .build()
                .expect("redis-rs client");
            let mut con = client
                .get_async_connection()
                .await
                .expect("redis-rs connects");
            con.subscribe(channel).await.expect("redis-rs subscribes");
            Subscribed::RedisRs(con)
        }
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
                .build_subscriber_client()
                .expect("fred client");
            client.init().await.expect("fred connects");
            let _resubscribing = client.manage_subscriptions();
            let mut rx = client.message_rx();
            let task = tokio::spawn(async move {
                loop {
                    match rx.recv().await {
                        Ok(message) => {
                            if let Some(payload) = message.value.as_bytes() {
                                record(&shared, payload);
                            }
                        }
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                        Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                    }
                }
            });
            client.subscribe(channel).await.expect("fred subscribes");
            Subscribed::Fred(client, task)
        }
    }
}

/// Waits until exactly one node has a subscribed client; returns it.
fn subscriber_node(cluster: &Cluster, peer: &str) -> u16 {
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        let nodes = cluster.subscriber_nodes().expect("CLIENT LIST");
        match nodes[..] {
            [(port, 1)] => return port,
            _ if Instant::now() > until => {
                panic!("{peer}: not one subscribed client after 10 s: {nodes:?}")
            }
            _ => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

/// Waits until no client is subscribed anywhere (the previous run's connections are gone).
fn no_subscribers(cluster: &Cluster) {
    let until = Instant::now() + Duration::from_secs(10);
    while !cluster.subscriber_nodes().expect("CLIENT LIST").is_empty() {
        assert!(Instant::now() < until, "subscribers left after 10 s");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// One client's run of the schedule.
struct Run {
    peer: &'static str,
    node: u16,
    published: usize,
    lost: Vec<(u64, Instant)>,
    windows: Vec<(Instant, Instant)>,
    faults: Faults,
}

fn run(rt: &tokio::runtime::Runtime, cluster: &Cluster, peer: &'static str) -> Run {
    no_subscribers(cluster);
    let seed = cluster.seed().expect("seed");
    let shared = Shared::default();
    let channel = format!("ticks-{peer}");
    let subscribed = rt.block_on(subscribe(peer, seed, &channel, shared.clone()));
    let node = subscriber_node(cluster, peer);
    let ticks = Ticks::start(cluster, publisher_port(cluster, node).unwrap(), &channel).unwrap();
    let faults = subscriber_faults(cluster, node, Instant::now()).unwrap();
    let sent = ticks.stop().unwrap();
    std::thread::sleep(Duration::from_secs(1));
    rt.block_on(subscribed.close());
    let received = shared.lock().unwrap();
    Run {
        peer,
        node,
        published: sent.len(),
        lost: lost(&sent, &received.got),
        windows: received.windows.clone(),
        faults,
    }
}

#[test]
fn subscriptions_through_failover_kill_and_restart_beside_redis_rs_and_fred() {
    let cluster = Cluster::start(&ClusterOptions {
        primaries: 3,
        replicas: 1,
        ..Default::default()
    })
    .expect("cluster starts");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let runs: Vec<Run> = ["slotwise", "redis-rs", "fred"]
        .into_iter()
        .map(|peer| run(&rt, &cluster, peer))
        .collect();
    for r in &runs {
        let f = r.faults;
        let during = |from: Option<Instant>, until: Option<Instant>| {
            r.lost
                .iter()
                .filter(|(_, at)| from.is_none_or(|t| *at >= t) && until.is_none_or(|t| *at < t))
                .count()
        };
        eprintln!(
            "{:>9}: subscribed on {}; {} published, {} lost: {} before the failover, {} from the failover to the kill, {} from the kill to the restart, {} after{}",
            r.peer,
            r.node,
            r.published,
            r.lost.len(),
            during(None, Some(f.failover)),
            during(Some(f.failover), Some(f.kill)),
            during(Some(f.kill), Some(f.restarted)),
            during(Some(f.restarted), None),
            if r.windows.is_empty() {
                String::new()
            } else {
                format!(
                    "; windows {:?}",
                    r.windows.iter().map(|(a, b)| *b - *a).collect::<Vec<_>>()
                )
            }
        );
    }
    let ours = &runs[0];
    assert_eq!(
        outside_windows(&ours.lost, &ours.windows),
        [0u64; 0],
        "slotwise lost messages outside its reported windows {:?}",
        ours.windows
    );
    for peer in &runs[1..] {
        assert!(
            ours.lost.len() <= peer.lost.len(),
            "slotwise lost {} messages, {} lost {}",
            ours.lost.len(),
            peer.peer,
            peer.lost.len()
        );
    }
}
