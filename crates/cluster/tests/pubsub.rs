//! Scripted pub/sub: subscriber connections apart from requests, odd frames as typed events
//! (never a panic, never a misdelivered reply), the server's own `sunsubscribe` and `MOVED` on
//! `SSUBSCRIBE`, and a lost subscriber connection (moved, with its window). Two shards: A = :7000
//! serves slots 0-8191, B = :7001 serves 8192-16383 ("foo" is slot 12182, "bar" 5061).

mod common;

use std::time::Duration;

use common::*;
use slotwise_cluster::{ConnId, Event, Frame, MessageKind, PubSubEvent, SubscriptionKind};

const A: &str = "127.0.0.1:7000";
const B: &str = "127.0.0.1:7001";

fn ready() -> (Script, ConnId, ConnId) {
    let mut s = Script::new(Script::config(A));
    let a = s.bootstrap(
        A,
        &shards_reply(&[(&[(0, 8191)], A, &[]), (&[(8192, 16383)], B, &[])]),
    );
    let b = s.open(B);
    s.no_connect();
    (s, a, b)
}

fn push(items: &[&str]) -> String {
    let mut out = format!(">{}\r\n", items.len());
    for i in items {
        out.push_str(&format!("${}\r\n{i}\r\n", i.len()));
    }
    out
}

fn take(s: &mut Script) -> Vec<PubSubEvent> {
    s.pubsub.drain(..).map(|(_, e)| e).collect()
}

#[test]
fn odd_frames_are_events_and_requests_are_untouched() {
    let (mut s, _a, b) = ready();
    let sub = s.cluster.open_subscriber();
    s.cluster
        .subscribe(s.now, sub, SubscriptionKind::ShardChannel, ["foo".into()]);
    s.drain();
    // foo lives on B: a subscriber connection of its own there.
    let c = s.open(B);
    s.expect_sent(c, &[&["SSUBSCRIBE", "foo"]]);
    s.recv(
        c,
        &(push(&["ssubscribe", "foo"]).replace(">2", ">3") + ":1\r\n"),
    );
    assert!(matches!(
        &take(&mut s)[..],
        [PubSubEvent::Subscribed { kind: SubscriptionKind::ShardChannel, node, .. }] if node.port == 7001
    ));
    // A request on B's shared connection, answered after the odd frames below.
    let get = s.get(&["GET", "foo"]);
    s.expect_sent(b, &[&["GET", "foo"]]);
    s.recv(c, ">2\r\n$10\r\ninvalidate\r\n*0\r\n");
    s.recv(c, &push(&["smessage", "never-subscribed", "x"]));
    s.recv(c, ":5\r\n");
    s.recv(c, "-ERR nothing asked\r\n");
    s.recv(c, &push(&["smessage", "foo", "hello"]));
    let unexpected = s
        .events
        .iter()
        .filter(|e| matches!(e, Event::PubSubUnexpected { .. }))
        .count();
    assert_eq!(unexpected, 4, "{:?}", s.events);
    match &take(&mut s)[..] {
        [PubSubEvent::Message(m)] => {
            assert_eq!(m.kind, MessageKind::SMessage);
            assert_eq!(
                (&m.channel[..], &m.payload[..]),
                (&b"foo"[..], &b"hello"[..])
            );
        }
        other => panic!("{other:?}"),
    }
    s.recv(b, "$1\r\nv\r\n");
    assert_eq!(s.reply_of(get), Ok(Frame::BulkString("v".into())));
    // Idle: a PING, answered, keeps it.
    s.advance(Duration::from_millis(1100));
    s.expect_sent(c, &[&["PING"]]);
    s.recv(c, "+PONG\r\n");
    // Silent past three keepalives with a PING out: closed, and the subscription interrupted.
    s.advance(Duration::from_millis(1100));
    s.expect_sent(c, &[&["PING"]]);
    s.advance(Duration::from_millis(3100));
    s.expect_closed(c);
    assert!(
        take(&mut s)
            .iter()
            .any(|e| matches!(e, PubSubEvent::Interrupted { .. })),
    );
}

/// Answers the next topology refresh (run timers until one is asked on `conns`) with `reply`.
fn answer_refresh(s: &mut Script, conns: &[ConnId], reply: &[u8]) {
    for _ in 0..50 {
        let mut asked = false;
        for &c in conns {
            let n = s.sent_on(c).iter().filter(|x| x.contains("SHARDS")).count();
            for _ in 0..n {
                s.recv_bytes(c, reply);
                asked = true;
            }
        }
        if asked {
            return;
        }
        s.run_next_timer();
    }
    panic!("no refresh asked");
}

/// foo subscribed on B, which then unsubscribes it by itself (its slot moved away).
fn disowned_by_b() -> (Script, ConnId, ConnId, ConnId) {
    let (mut s, a, b) = ready();
    let sub = s.cluster.open_subscriber();
    s.cluster
        .subscribe(s.now, sub, SubscriptionKind::ShardChannel, ["foo".into()]);
    s.drain();
    let c = s.open(B);
    s.expect_sent(c, &[&["SSUBSCRIBE", "foo"]]);
    s.recv(c, ">3\r\n$10\r\nssubscribe\r\n$3\r\nfoo\r\n:1\r\n");
    take(&mut s);
    s.recv(c, ">3\r\n$12\r\nsunsubscribe\r\n$3\r\nfoo\r\n:0\r\n");
    assert!(matches!(
        &take(&mut s)[..],
        [PubSubEvent::Interrupted { node, .. }] if node.port == 7001
    ));
    (s, a, b, c)
}

/// The shard channel `foo` is subscribed again on A, which confirms it.
fn resubscribed_on_a(s: &mut Script) {
    let on_a = s.open(A);
    s.expect_sent(on_a, &[&["SSUBSCRIBE", "foo"]]);
    s.recv(on_a, ">3\r\n$10\r\nssubscribe\r\n$3\r\nfoo\r\n:1\r\n");
    match &take(s)[..] {
        [PubSubEvent::Resubscribed { node, .. }] => assert_eq!(node.port, 7000),
        other => panic!("{other:?}"),
    }
}

#[test]
fn shard_channel_follows_sunsubscribe_past_a_stale_view() {
    let (mut s, a, b, c) = disowned_by_b();
    // B said the slot is no longer its own: not subscribed there again, even when the next
    // refresh still names B (a view taken mid-failover; a replica would take the SSUBSCRIBE).
    let stale = shards_reply(&[(&[(0, 8191)], A, &[]), (&[(8192, 16383)], B, &[])]);
    answer_refresh(&mut s, &[a, b], &stale);
    s.nothing_sent(c);
    assert!(!s.has_connect(A));
    // Another refresh is asked, and this one shows the move.
    let moved = shards_reply(&[(&[(0, 16383)], A, &[B])]);
    answer_refresh(&mut s, &[a, b], &moved);
    resubscribed_on_a(&mut s);
    // B carries nothing now: its subscriber connection closes.
    s.expect_closed(c);
}

#[test]
fn shard_channel_follows_sunsubscribe_and_moved() {
    let (mut s, a, b, c) = disowned_by_b();
    // B carries nothing now: its subscriber connection closes.
    s.expect_closed(c);
    // Views that keep naming B are trusted again after a while: the SSUBSCRIBE goes to B, which
    // answers MOVED, and the subscription follows it to A.
    let stale = shards_reply(&[(&[(0, 8191)], A, &[]), (&[(8192, 16383)], B, &[])]);
    let started = s.now;
    for _ in 0..200 {
        if s.has_connect(B) {
            break;
        }
        answer_refresh(&mut s, &[a, b], &stale);
    }
    let waited = s.now.saturating_duration_since(started);
    assert!(
        waited >= Duration::from_secs(5) && waited < Duration::from_secs(7),
        "{waited:?}"
    );
    let c = s.open(B);
    s.expect_sent(c, &[&["SSUBSCRIBE", "foo"]]);
    s.recv(c, "-MOVED 12182 127.0.0.1:7000\r\n");
    resubscribed_on_a(&mut s);
    s.expect_closed(c);
}

#[test]
fn a_lost_subscriber_connection_moves_with_its_window() {
    let (mut s, _a, _b) = ready();
    let sub = s.cluster.open_subscriber();
    s.cluster
        .subscribe(s.now, sub, SubscriptionKind::Channel, ["news".into()]);
    s.drain();
    let (first, other) = if s.has_connect(A) { (A, B) } else { (B, A) };
    let c = s.open(first);
    s.expect_sent(c, &[&["SUBSCRIBE", "news"]]);
    s.recv(c, ">3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n");
    s.recv(c, &push(&["message", "news", "1"]));
    assert_eq!(take(&mut s).len(), 2, "confirmation and message");
    s.advance(Duration::from_millis(300));
    s.close(c);
    // Moved at once to the other node (the first is backing off).
    let d = s.open(other);
    s.expect_sent(d, &[&["SUBSCRIBE", "news"]]);
    s.advance(Duration::from_millis(5));
    s.recv(d, ">3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n");
    match &take(&mut s)[..] {
        [
            PubSubEvent::Interrupted { since, .. },
            PubSubEvent::Resubscribed {
                missed_from,
                missed_until,
                ..
            },
        ] => {
            assert_eq!(since, missed_from);
            assert_eq!(
                missed_until.saturating_duration_since(*missed_from),
                Duration::from_millis(305)
            );
        }
        other => panic!("{other:?}"),
    }
    // Unsubscribed: said at once, and the connection closes once the server confirms.
    s.cluster
        .unsubscribe(s.now, sub, SubscriptionKind::Channel, Vec::new());
    s.drain();
    assert!(matches!(
        &take(&mut s)[..],
        [PubSubEvent::Unsubscribed { .. }]
    ));
    s.expect_sent(d, &[&["UNSUBSCRIBE", "news"]]);
    s.recv(d, ">3\r\n$11\r\nunsubscribe\r\n$4\r\nnews\r\n:0\r\n");
    s.expect_closed(d);
}
