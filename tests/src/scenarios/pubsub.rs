//! Pub/sub on a real cluster. [`pubsub_faults`]: a subscription through the shared fault schedule
//! (`slotwise_test_cluster::pubsub`): 10 messages/s for 36 s while the subscriber's node is failed
//! over gracefully, killed with SIGKILL and restarted. Every message arrives except those published inside a loss window the
//! subscriber reported, and the only window is the kill's. [`pubsub_shards_and_keyspace`]: every
//! kind of subscription at once (100 shard channels on every shard, keyspace notifications from
//! every primary), then a shard channel through a failover and a migration of its slot.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use slotwise_cluster::{MessageKind, PubSubEvent, Request, SubscriptionKind};
use slotwise_test_cluster::ClusterOptions;
use slotwise_test_cluster::pubsub::{
    TICK, Ticks, lost, outside_windows, publisher_port, subscriber_faults,
};

use super::{connect, must, start};
use crate::client::{Adapter, ClientSpec};

/// What the subscriber saw.
#[derive(Default)]
struct Seen {
    got: BTreeSet<u64>,
    duplicates: usize,
    interrupted: usize,
    /// The loss windows the `Resubscribed` events reported.
    windows: Vec<(Instant, Instant)>,
}

/// Subscribes to one channel and runs the schedule on its node.
pub fn pubsub_faults(adapter: &dyn Adapter) {
    let name = adapter.name();
    let cluster = start(ClusterOptions {
        primaries: 3,
        replicas: 1,
        ..Default::default()
    });
    let client = connect(adapter, &ClientSpec::for_cluster(&cluster));
    let mut sub = client.subscriber();
    sub.subscribe(["ticks"]);
    let until = Instant::now() + Duration::from_secs(20);
    let node = loop {
        match sub.recv_timeout(until.saturating_duration_since(Instant::now())) {
            Ok(Some(PubSubEvent::Subscribed { node, .. })) => break node.port,
            Ok(Some(_)) => {}
            other => panic!("[{name}] no confirmation of SUBSCRIBE in 20 s: {other:?}"),
        }
    };
    assert_eq!(
        cluster.subscriber_nodes().unwrap(),
        [(node, 1)],
        "[{name}] the server sees the one subscriber where the client says it is"
    );
    let role = cluster.node(node).unwrap().role;

    let ticks = Ticks::start(&cluster, publisher_port(&cluster, node).unwrap(), "ticks").unwrap();
    let begin = Instant::now();
    let mut seen = Seen::default();
    let faults = std::thread::scope(|s| {
        let faults = s.spawn(|| subscriber_faults(&cluster, node, begin));
        while !faults.is_finished() {
            if let Ok(Some(event)) = sub.recv_timeout(Duration::from_millis(200)) {
                seen.on(event, &sub);
            }
        }
        faults.join().expect("the schedule ran").unwrap()
    });
    let sent = ticks.stop().unwrap();
    let drain = Instant::now() + Duration::from_secs(1);
    while let Ok(Some(event)) = sub.recv_timeout(drain.saturating_duration_since(Instant::now())) {
        seen.on(event, &sub);
    }

    let missing = lost(&sent, &seen.got);
    eprintln!(
        "[{name}] pubsub: subscriber on {node} ({role:?}); {} published, {} received, {} lost, {} duplicates, windows {:?}",
        sent.len(),
        seen.got.len(),
        missing.len(),
        seen.duplicates,
        seen.windows
            .iter()
            .map(|(a, b)| *b - *a)
            .collect::<Vec<_>>()
    );
    assert!(sent.len() >= 300, "[{name}] the publisher kept its pace");
    assert_eq!(
        outside_windows(&missing, &seen.windows),
        [0u64; 0],
        "[{name}] messages lost outside every reported window (windows {:?}, kill at {:?})",
        seen.windows,
        faults.kill
    );
    assert_eq!(
        seen.interrupted,
        seen.windows.len(),
        "[{name}] every interruption ended in a resubscription"
    );
    assert!(
        !seen.windows.is_empty(),
        "[{name}] the kill is a reported window"
    );
    for &(from, _) in &seen.windows {
        assert!(
            from + Duration::from_millis(500) >= faults.kill && from <= faults.restarted,
            "[{name}] a window outside the kill (the graceful failover and the restart lose nothing): from {:?} after the start, kill at {:?}",
            from - begin,
            faults.kill - begin
        );
    }
    assert_eq!(
        sub.dropped(),
        0,
        "[{name}] nothing dropped for a slow reader"
    );
}

impl Seen {
    fn on(&mut self, event: PubSubEvent, sub: &slotwise_client::Subscriber) {
        self.on_channel(event, "ticks", sub);
    }

    fn on_channel(&mut self, event: PubSubEvent, channel: &str, sub: &slotwise_client::Subscriber) {
        match event {
            PubSubEvent::Message(m) if m.channel == channel.as_bytes() => {
                let n: u64 = std::str::from_utf8(&m.payload)
                    .ok()
                    .and_then(|s| s.parse().ok())
                    .expect("a number");
                if !self.got.insert(n) {
                    self.duplicates += 1;
                }
            }
            PubSubEvent::Interrupted { .. } => self.interrupted += 1,
            PubSubEvent::Resubscribed {
                missed_from,
                missed_until,
                ..
            } => self
                .windows
                .push((sub.instant(missed_from), sub.instant(missed_until))),
            _ => {}
        }
    }
}

/// Waits for `n` confirmations (a subscription placed on every primary is confirmed by each);
/// returns where each subscription lives (the last node that confirmed it).
fn confirmed(
    name: &str,
    sub: &mut slotwise_client::Subscriber,
    n: usize,
) -> BTreeMap<(SubscriptionKind, Vec<u8>), u16> {
    let mut at = BTreeMap::new();
    let until = Instant::now() + Duration::from_secs(20);
    for confirmations in 0..n {
        loop {
            match sub.recv_timeout(until.saturating_duration_since(Instant::now())) {
                Ok(Some(PubSubEvent::Subscribed {
                    kind,
                    channel,
                    node,
                })) => {
                    at.insert((kind, channel.to_vec()), node.port);
                    break;
                }
                Ok(Some(_)) => {}
                other => panic!(
                    "[{name}] {confirmations} of {n} subscriptions confirmed in 20 s, then {other:?}"
                ),
            }
        }
    }
    at
}

/// Channels, patterns, 100 shard channels over every shard and keyspace notifications from every
/// primary; then a shard channel at 10 messages/s through a graceful failover of its shard and a
/// live migration of its slot.
pub fn pubsub_shards_and_keyspace(adapter: &dyn Adapter) {
    let name = adapter.name();
    let cluster = start(ClusterOptions {
        primaries: 3,
        replicas: 1,
        ..Default::default()
    });
    for port in cluster.ports() {
        cluster
            .conn(port)
            .and_then(|mut c| c.ok(["CONFIG", "SET", "notify-keyspace-events", "KA"]))
            .unwrap();
    }
    let client = connect(adapter, &ClientSpec::for_cluster(&cluster));

    // Every kind at once.
    let mut sub = client.subscriber();
    let shard_channels: Vec<String> = (0..100).map(|i| format!("sch:{i}")).collect();
    sub.subscribe(["news"]);
    sub.psubscribe(["news.*"]);
    sub.ssubscribe(&shard_channels);
    sub.keyspace("ks:*");
    let at = confirmed(name, &mut sub, 1 + 1 + 100 + 3);
    let primaries: BTreeSet<u16> = cluster
        .primaries()
        .unwrap()
        .iter()
        .map(|p| p.port)
        .collect();
    let shard_nodes: BTreeSet<u16> = at
        .iter()
        .filter(|((k, _), _)| *k == SubscriptionKind::ShardChannel)
        .map(|(_, &p)| p)
        .collect();
    assert_eq!(
        shard_nodes, primaries,
        "[{name}] shard channels live on every shard's primary"
    );
    must(&*client, &["PUBLISH", "news", "a"]);
    must(&*client, &["PUBLISH", "news.x", "b"]);
    for c in &shard_channels {
        must(&*client, &["SPUBLISH", c, c]);
    }
    for i in 0..30 {
        must(&*client, &["SET", &format!("ks:{i}"), "v"]);
    }
    let (mut plain, mut pattern) = (0, 0);
    let (mut shard, mut keyspace, mut keyspace_nodes) =
        (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
    let until = Instant::now() + Duration::from_secs(20);
    while plain < 1 || pattern < 1 || shard.len() < 100 || keyspace.len() < 30 {
        let event = sub.recv_timeout(until.saturating_duration_since(Instant::now()));
        let Ok(Some(PubSubEvent::Message(m))) = event else {
            assert!(
                matches!(event, Ok(Some(_))),
                "[{name}] messages missing after 20 s: {plain} plain, {pattern} pattern, {} shard, {} keyspace",
                shard.len(),
                keyspace.len()
            );
            continue;
        };
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
            other => panic!("[{name}] unexpected message kind {other:?}"),
        }
    }
    std::thread::sleep(Duration::from_millis(300));
    while let Some(event) = sub.try_next() {
        assert!(
            !matches!(&event, PubSubEvent::Message(m) if m.kind == MessageKind::Message),
            "[{name}] a message twice: {event:?}"
        );
    }
    assert_eq!((plain, pattern), (1, 1), "[{name}] each message once");
    assert_eq!(
        keyspace_nodes, primaries,
        "[{name}] keyspace events from every primary"
    );
    drop(sub);

    // A shard channel through a failover of its shard and a migration of its slot.
    let primary = cluster.primaries().unwrap()[0].clone();
    let slot = *primary.slots.last().unwrap().end();
    let channel = format!(
        "moving{{{}}}",
        slotwise_test_cluster::slot_tags()[usize::from(slot)]
    );
    let mut sub = client.subscriber();
    sub.ssubscribe([channel.as_str()]);
    confirmed(name, &mut sub, 1);
    let mut seen = Seen::default();
    let stop = AtomicBool::new(false);
    let sent = std::thread::scope(|s| {
        let publishing = s.spawn(|| {
            let mut sent = Vec::new();
            while !stop.load(Ordering::Relaxed) && sent.len() < 1000 {
                let at = Instant::now();
                let n = sent.len().to_string();
                // Every message goes out (retried): the subscriber side is under test.
                for _ in 0..100 {
                    let request = Request::new(["SPUBLISH", channel.as_str(), n.as_str()]);
                    if client.call(request).is_ok() {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
                sent.push(at);
                std::thread::sleep(TICK);
            }
            sent
        });
        let faults = s.spawn(|| {
            std::thread::sleep(Duration::from_secs(2));
            let promotion = cluster.failover(primary.port).unwrap();
            std::thread::sleep(Duration::from_secs(2));
            let other = cluster
                .primaries()
                .unwrap()
                .into_iter()
                .find(|p| p.port != promotion.new_primary)
                .unwrap();
            let moved = cluster
                .reshard(promotion.new_primary, other.port, 1)
                .unwrap();
            assert_eq!(moved, [slot]);
            std::thread::sleep(Duration::from_secs(3));
        });
        while !faults.is_finished() {
            if let Ok(Some(event)) = sub.recv_timeout(Duration::from_millis(200)) {
                seen.on_channel(event, &channel, &sub);
            }
        }
        faults.join().expect("the faults ran");
        stop.store(true, Ordering::Relaxed);
        publishing.join().expect("the publisher ran")
    });
    let drain = Instant::now() + Duration::from_millis(500);
    while let Ok(Some(event)) = sub.recv_timeout(drain.saturating_duration_since(Instant::now())) {
        seen.on_channel(event, &channel, &sub);
    }
    let missing = lost(&sent, &seen.got);
    eprintln!(
        "[{name}] shard channel: {} published, {} received, windows {:?}",
        sent.len(),
        seen.got.len(),
        seen.windows
            .iter()
            .map(|(a, b)| *b - *a)
            .collect::<Vec<_>>()
    );
    assert_eq!(
        outside_windows(&missing, &seen.windows),
        [0u64; 0],
        "[{name}] shard channel: lost outside every reported window ({:?})",
        seen.windows
    );
    assert!(
        missing.len() * 4 <= sent.len(),
        "[{name}] most messages arrive: {} of {}",
        seen.got.len(),
        sent.len()
    );
    assert_eq!(
        seen.interrupted,
        seen.windows.len(),
        "[{name}] every interruption ended in a resubscription"
    );
}
