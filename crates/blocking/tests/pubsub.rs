//! Pub/sub through the blocking adapter on a real cluster: messages, a kill -9 of the
//! subscriber's node (the subscription moves, the window is reported), and a flood faster than
//! the caller reads (bounded buffer, counted drops, nothing misdelivered).

use std::time::Duration;

use slotwise_blocking::{Client, ClientConfig, PubSubEvent, Subscriber};
use slotwise_test_cluster::{Cluster, ClusterOptions, Role};

fn next(sub: &mut Subscriber) -> PubSubEvent {
    sub.recv_timeout(Duration::from_secs(20))
        .expect("an event within 20 s")
        .expect("client running")
}

fn subscribed_on(sub: &mut Subscriber) -> u16 {
    loop {
        if let PubSubEvent::Subscribed { node, .. } = next(sub) {
            return node.port;
        }
    }
}

#[test]
fn blocking_subscriber_survives_a_kill_and_a_flood() {
    let cluster = Cluster::start(&ClusterOptions {
        primaries: 3,
        replicas: 1,
        ..Default::default()
    })
    .expect("cluster starts");
    let seed = format!("127.0.0.1:{}", cluster.seed().unwrap().port());
    let client = Client::connect(ClientConfig::new([seed.as_str()]).unwrap()).expect("connects");

    let mut sub = client.subscriber();
    sub.subscribe(["b:news"]);
    let node = subscribed_on(&mut sub);
    client.cmd(["PUBLISH", "b:news", "one"]).unwrap();
    match next(&mut sub) {
        PubSubEvent::Message(m) => assert_eq!(&m.payload[..], b"one"),
        other => panic!("expected the message, got {other:?}"),
    }

    // kill -9 of the node it lives on (made a primary first if it is a replica).
    if cluster.node(node).unwrap().role != Role::Primary {
        cluster.failover(node).unwrap();
    }
    cluster.kill(node).unwrap();
    let (mut interrupted, mut resubscribed) = (false, None);
    while resubscribed.is_none() {
        match next(&mut sub) {
            PubSubEvent::Interrupted { node: n, .. } => {
                assert_eq!(n.port, node);
                interrupted = true;
            }
            PubSubEvent::Resubscribed {
                node: n,
                missed_from,
                missed_until,
                ..
            } => resubscribed = Some((n.port, missed_until.saturating_duration_since(missed_from))),
            _ => {}
        }
    }
    let (moved_to, window) = resubscribed.unwrap();
    assert!(interrupted, "the loss was announced first");
    assert_ne!(moved_to, node, "the subscription moved off the dead node");
    assert!(window < Duration::from_secs(5), "window {window:?}");
    client.cmd(["PUBLISH", "b:news", "two"]).unwrap();
    loop {
        if let PubSubEvent::Message(m) = next(&mut sub) {
            assert_eq!(&m.payload[..], b"two");
            break;
        }
    }

    // A flood the caller does not read: at most the buffer waits, the rest is counted.
    let total = 3 * slotwise_blocking::SUBSCRIBER_BUFFER;
    let mut pipeline = client.pipeline();
    for i in 0..total {
        pipeline.cmd(["PUBLISH", "b:news", &i.to_string()]);
    }
    for r in pipeline.wait().unwrap() {
        r.unwrap();
    }
    // Let every message reach the driver before reading (so the buffer bound is what counts),
    // then read until the counts add up.
    std::thread::sleep(Duration::from_secs(1));
    let mut received = 0usize;
    let mut seen = std::collections::BTreeSet::new();
    let started = std::time::Instant::now();
    while received + sub.dropped() as usize != total {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "received {received}, dropped {}",
            sub.dropped()
        );
        match sub.recv_timeout(Duration::from_millis(500)) {
            Ok(Some(PubSubEvent::Message(m))) => {
                let n: usize = std::str::from_utf8(&m.payload).unwrap().parse().unwrap();
                // PUBLISH goes to any primary, so order across them is the cluster bus's.
                assert!(n < total && seen.insert(n), "each message once: {n}");
                received += 1;
            }
            Ok(Some(_)) | Err(()) => {}
            Ok(None) => panic!("client stopped"),
        }
    }
    assert!(sub.dropped() > 0, "the flood overflowed the buffer");
    assert!(
        received <= slotwise_blocking::SUBSCRIBER_BUFFER + 2,
        "at most the buffer was kept: {received}"
    );
    // And requests still flow.
    assert_eq!(
        client.cmd(["PING"]).unwrap(),
        slotwise_blocking::Frame::SimpleString("PONG".into())
    );
    cluster.restart(node).unwrap();
}
