//! Pub/sub against a real cluster (3 primaries, a replica each), one cluster for the binary's one
//! test, whose steps run in order because they fail nodes over: channels, patterns, 100 shard
//! channels over every shard and keyspace notifications from every primary; then 10 messages/s
//! through a graceful failover, a kill -9 and a restart of the subscriber's node; then a shard
//! channel through a failover of its shard and a live migration of its slot.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use slotwise_test_cluster::{Cluster, ClusterOptions, Role};
use slotwise_tokio::{
    Client, ClientConfig, MessageKind, PubSubEvent, Subscriber, SubscriptionKind,
};

/// The next event within `limit`, or a panic naming `what`.
async fn next(sub: &mut Subscriber, what: &str) -> PubSubEvent {
    tokio::time::timeout(Duration::from_secs(20), sub.next())
        .await
        .unwrap_or_else(|_| panic!("no event in 20 s while waiting for {what}"))
        .expect("client running")
}

/// Waits until `n` subscriptions are confirmed; returns where each lives.
async fn confirmed(sub: &mut Subscriber, n: usize) -> BTreeMap<(SubscriptionKind, Vec<u8>), u16> {
    let mut at = BTreeMap::new();
    let mut confirmations = 0;
    while confirmations < n {
        if let PubSubEvent::Subscribed {
            kind,
            channel,
            node,
        } = next(sub, "confirmations").await
        {
            at.insert((kind, channel.to_vec()), node.port);
            confirmations += 1;
        }
    }
    at
}

/// A channel name hashing to `slot`.
fn channel_in(slot: u16, name: &str) -> String {
    format!(
        "{name}{{{}}}",
        slotwise_test_cluster::slot_tags()[usize::from(slot)]
    )
}

/// What a subscriber saw of one channel while messages `0..` were published to it at 10/s.
#[derive(Default)]
struct Seen {
    got: BTreeSet<u64>,
    /// Loss windows as the test saw them: from the `Interrupted` to the `Resubscribed`.
    windows: Vec<(Instant, Instant)>,
    interrupted_at: Option<Instant>,
}

impl Seen {
    fn on(&mut self, event: PubSubEvent, channel: &str) {
        match event {
            PubSubEvent::Message(m) if m.channel == channel.as_bytes() => {
                let n: u64 = std::str::from_utf8(&m.payload).unwrap().parse().unwrap();
                self.got.insert(n);
            }
            PubSubEvent::Interrupted { .. } => {
                self.interrupted_at.get_or_insert_with(Instant::now);
            }
            PubSubEvent::Resubscribed { .. } => {
                let from = self.interrupted_at.take().expect("Interrupted came first");
                self.windows.push((from, Instant::now()));
            }
            _ => {}
        }
    }
}

/// Publishes `0..` to `channel` every 100 ms (with SPUBLISH if `shard`) until told to stop;
/// returns when each was published.
fn publisher(
    client: Client,
    channel: String,
    shard: bool,
    stop: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<Vec<Instant>> {
    tokio::spawn(async move {
        let mut sent = Vec::new();
        let command = if shard { "SPUBLISH" } else { "PUBLISH" };
        while !stop.load(Ordering::Relaxed) && sent.len() < 1000 {
            let n = sent.len().to_string();
            let at = Instant::now();
            // Every message goes out (a failed publish is retried: it is the subscriber side
            // that is under test).
            for _ in 0..100 {
                if client
                    .cmd([command, channel.as_str(), n.as_str()])
                    .await
                    .is_ok()
                {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            sent.push(at);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        sent
    })
}

/// Runs `fault` on a blocking thread while `sub` collects what comes for `channel`.
async fn during<T: Send + 'static>(
    sub: &mut Subscriber,
    seen: &mut Seen,
    channel: &str,
    fault: impl FnOnce() -> T + Send + 'static,
) -> T {
    let mut fault = tokio::task::spawn_blocking(fault);
    loop {
        tokio::select! {
            done = &mut fault => return done.expect("fault ran"),
            event = sub.next() => seen.on(event.expect("client running"), channel),
        }
    }
}

/// Collects for `d`.
async fn collect_for(sub: &mut Subscriber, seen: &mut Seen, channel: &str, d: Duration) {
    let until = tokio::time::Instant::now() + d;
    while let Ok(Some(event)) = tokio::time::timeout_at(until, sub.next()).await {
        seen.on(event, channel);
    }
}

/// Every message not received was published inside a reported loss window (with 300 ms slack
/// before it for messages in flight when the node died); returns how many were lost.
fn check_losses(seen: &Seen, sent: &[Instant], what: &str) -> usize {
    let mut lost = 0;
    for (n, &at) in sent.iter().enumerate() {
        if seen.got.contains(&(n as u64)) {
            continue;
        }
        lost += 1;
        let inside = seen
            .windows
            .iter()
            .any(|&(from, until)| at + Duration::from_millis(300) >= from && at <= until);
        assert!(
            inside,
            "{what}: message {n} lost outside any reported window (windows {:?})",
            seen.windows
        );
    }
    lost
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriptions_survive_failover_kill_and_migration() {
    let cluster = Arc::new(
        Cluster::start(&ClusterOptions {
            primaries: 3,
            replicas: 1,
            ..Default::default()
        })
        .expect("cluster starts"),
    );
    let seed = format!("127.0.0.1:{}", cluster.seed().unwrap().port());
    let client = Client::connect(ClientConfig::new([seed.as_str()]).unwrap())
        .await
        .expect("connects");
    client
        .cmd(["CONFIG", "SET", "notify-keyspace-events", "KA"])
        .await
        .expect("keyspace events on every node");

    // 1. Channels, patterns, 100 shard channels, keyspace notifications.
    let mut sub = client.subscriber();
    let shard_channels: Vec<String> = (0..100).map(|i| format!("sch:{i}")).collect();
    sub.subscribe(["news"]);
    sub.psubscribe(["news.*"]);
    sub.ssubscribe(&shard_channels);
    sub.keyspace("ks:*");
    let at = confirmed(&mut sub, 1 + 1 + 100 + 3).await;
    let shard_nodes: BTreeSet<u16> = at
        .iter()
        .filter(|((k, _), _)| *k == SubscriptionKind::ShardChannel)
        .map(|(_, &p)| p)
        .collect();
    assert_eq!(shard_nodes.len(), 3, "shard channels live on every shard");
    client.cmd(["PUBLISH", "news", "a"]).await.unwrap();
    client.cmd(["PUBLISH", "news.x", "b"]).await.unwrap();
    for c in &shard_channels {
        client
            .cmd(["SPUBLISH", c.as_str(), c.as_str()])
            .await
            .unwrap();
    }
    for i in 0..30 {
        client.cmd(["SET", &format!("ks:{i}"), "v"]).await.unwrap();
    }
    let (mut plain, mut pattern, mut shard, mut keyspace) =
        (0, 0, BTreeSet::new(), BTreeSet::new());
    let mut keyspace_nodes = BTreeSet::new();
    while plain < 1 || pattern < 1 || shard.len() < 100 || keyspace.len() < 30 {
        if let PubSubEvent::Message(m) = next(&mut sub, "the first messages").await {
            match m.kind {
                MessageKind::Message => {
                    assert_eq!((&m.channel[..], &m.payload[..]), (&b"news"[..], &b"a"[..]));
                    plain += 1;
                }
                MessageKind::PMessage if m.pattern.as_deref() == Some(&b"news.*"[..]) => {
                    assert_eq!(&m.channel[..], b"news.x");
                    pattern += 1;
                }
                MessageKind::PMessage => {
                    assert_eq!(&m.payload[..], b"set");
                    keyspace.insert(m.channel.to_vec());
                    keyspace_nodes.insert(m.node.port);
                }
                MessageKind::SMessage => {
                    assert_eq!(m.channel, m.payload);
                    shard.insert(m.channel.to_vec());
                }
                _ => {}
            }
        }
    }
    assert_eq!((plain, pattern), (1, 1), "each message once");
    assert_eq!(
        keyspace_nodes.len(),
        3,
        "keyspace events from every primary"
    );
    drop(sub);

    // 2. 10 messages/s through a graceful failover, kill -9 and restart of the subscriber's node.
    let mut sub = client.subscriber();
    sub.subscribe(["ticks"]);
    let node = *confirmed(&mut sub, 1).await.values().next().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let publishing = publisher(client.clone(), "ticks".into(), false, stop.clone());
    let mut seen = Seen::default();
    collect_for(&mut sub, &mut seen, "ticks", Duration::from_secs(3)).await;
    let state = cluster.node(node).unwrap();
    let faults = {
        let c = cluster.clone();
        move || {
            // Make the node a primary that has just been failed over to (twice if it was one).
            if state.role == Role::Primary {
                c.failover(node).unwrap();
            }
            c.failover(node).unwrap();
            std::thread::sleep(Duration::from_secs(3));
            let kill = Instant::now();
            c.kill(node).unwrap();
            std::thread::sleep(Duration::from_secs(3));
            c.restart(node).unwrap();
            kill
        }
    };
    let kill = during(&mut sub, &mut seen, "ticks", faults).await;
    collect_for(&mut sub, &mut seen, "ticks", Duration::from_secs(4)).await;
    stop.store(true, Ordering::Relaxed);
    let sent = publishing.await.unwrap();
    collect_for(&mut sub, &mut seen, "ticks", Duration::from_millis(500)).await;
    let lost = check_losses(&seen, &sent, "ticks");
    assert!(!seen.windows.is_empty(), "the kill is a reported window");
    assert!(
        seen.windows
            .iter()
            .all(|&(from, _)| from + Duration::from_millis(500) >= kill),
        "no window before the kill (the failovers lose nothing): {:?} kill at {kill:?}",
        seen.windows
    );
    eprintln!(
        "ticks: {} published, {} received, {lost} lost, windows {:?}",
        sent.len(),
        seen.got.len(),
        seen.windows
            .iter()
            .map(|(a, b)| *b - *a)
            .collect::<Vec<_>>()
    );
    drop(sub);

    // 3. A shard channel through a failover of its shard and a migration of its slot.
    let primary = cluster.primaries().unwrap()[0].clone();
    let slot = *primary.slots.last().unwrap().end();
    let channel = channel_in(slot, "moving");
    let mut sub = client.subscriber();
    sub.ssubscribe([channel.as_str()]);
    confirmed(&mut sub, 1).await;
    let stop = Arc::new(AtomicBool::new(false));
    let publishing = publisher(client.clone(), channel.clone(), true, stop.clone());
    let mut seen = Seen::default();
    collect_for(&mut sub, &mut seen, &channel, Duration::from_secs(2)).await;
    let faults = {
        let c = cluster.clone();
        move || {
            let promotion = c.failover(primary.port).unwrap();
            std::thread::sleep(Duration::from_secs(2));
            let other = c
                .primaries()
                .unwrap()
                .into_iter()
                .find(|p| p.port != promotion.new_primary)
                .unwrap();
            let moved = c.reshard(promotion.new_primary, other.port, 1).unwrap();
            assert_eq!(moved, [slot]);
        }
    };
    during(&mut sub, &mut seen, &channel, faults).await;
    collect_for(&mut sub, &mut seen, &channel, Duration::from_secs(3)).await;
    stop.store(true, Ordering::Relaxed);
    let sent = publishing.await.unwrap();
    collect_for(&mut sub, &mut seen, &channel, Duration::from_millis(500)).await;
    let lost = check_losses(&seen, &sent, "shard channel");
    assert!(seen.got.len() + lost == sent.len());
    assert!(
        sent.len() - lost >= sent.len() * 3 / 4,
        "most messages arrive: {} of {}",
        sent.len() - lost,
        sent.len()
    );
    eprintln!(
        "shard channel: {} published, {} received, windows {:?}",
        sent.len(),
        seen.got.len(),
        seen.windows
            .iter()
            .map(|(a, b)| *b - *a)
            .collect::<Vec<_>>()
    );
}
