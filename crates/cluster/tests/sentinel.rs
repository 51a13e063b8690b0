//! A Sentinel deployment, scripted: two sentinels S1 and S2 monitoring `m`; the primary P with
//! the replica R, later failed over to N.

mod common;

use common::*;
use slotwise_cluster::{ConnId, DownCause, Event, Frame, Request, RequestError, SentinelConfig};

const S1: &str = "127.0.0.1:26379";
const S2: &str = "127.0.0.1:26380";
const P: &str = "127.0.0.1:6379";
const R: &str = "127.0.0.1:6380";
const N: &str = "127.0.0.1:6381";

const MASTER_ADDR: &[&str] = &["SENTINEL", "GET-MASTER-ADDR-BY-NAME", "m"];
const REPLICAS: &[&str] = &["SENTINEL", "REPLICAS", "m"];

fn bulk(s: &str) -> String {
    format!("${}\r\n{s}\r\n", s.len())
}

fn addr(port: u16) -> String {
    format!("*2\r\n{}{}", bulk("127.0.0.1"), bulk(&port.to_string()))
}

fn replicas(ports: &[u16]) -> String {
    let mut out = format!("*{}\r\n", ports.len());
    for p in ports {
        out += &format!(
            "*6\r\n{}{}{}{}{}{}",
            bulk("ip"),
            bulk("127.0.0.1"),
            bulk("port"),
            bulk(&p.to_string()),
            bulk("flags"),
            bulk("slave")
        );
    }
    out
}

fn message(channel: &str, payload: &str) -> String {
    format!(
        ">3\r\n{}{}{}",
        bulk("message"),
        bulk(channel),
        bulk(payload)
    )
}

const MASTER: &str = "*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n";
const SLAVE: &str = "*5\r\n$5\r\nslave\r\n$9\r\n127.0.0.1\r\n:6381\r\n$9\r\nconnected\r\n:0\r\n";

struct Setup {
    s: Script,
    q: [ConnId; 2],
    w: [ConnId; 2],
    p: ConnId,
}

/// Both sentinels asked and watched; S1's answer (P, with R) verified with ROLE on P.
fn bootstrapped() -> Setup {
    let mut config = Script::config(S1);
    config.sentinel = Some(SentinelConfig::new("m", vec![ep(S1), ep(S2)]));
    let mut s = Script::new(config);
    let mut q = Vec::new();
    for sentinel in [S1, S2] {
        let c = s.open(sentinel);
        s.expect_sent(c, &[MASTER_ADDR, REPLICAS]);
        q.push(c);
    }
    let mut w = Vec::new();
    for sentinel in [S1, S2] {
        let c = s.open(sentinel);
        let sent = s.sent_on(c);
        assert!(
            sent.len() == 1 && sent[0].contains("SUBSCRIBE") && sent[0].contains("+switch-master"),
            "{sent:?}"
        );
        w.push(c);
    }
    s.recv(q[0], &(addr(6379) + &replicas(&[6380])));
    let p = s.open(P);
    s.expect_sent(p, &[&["ROLE"]]);
    s.recv(p, MASTER);
    assert!(
        s.events
            .iter()
            .any(|e| matches!(e, Event::TopologyChanged { epoch: 1, .. }))
    );
    // S2's answer comes too late to matter (the first verified answer starts the client).
    s.recv(q[1], &(addr(6379) + &replicas(&[6380])));
    Setup {
        s,
        q: [q[0], q[1]],
        w: [w[0], w[1]],
        p,
    }
}

#[test]
fn the_primary_comes_from_the_sentinels_and_is_checked() {
    let Setup { mut s, p, .. } = bootstrapped();
    let set = s.get(&["SET", "foo", "1"]);
    s.expect_sent(p, &[&["SET", "foo", "1"]]);
    s.recv(p, "+OK\r\n");
    assert_eq!(s.reply_of(set), Ok(ok("OK")));
    // The replica is known (reads may go there), but not connected unless reads use replicas.
    assert!(!s.has_connect(R));
}

#[test]
fn a_sentinel_naming_a_replica_is_not_believed() {
    let mut config = Script::config(S1);
    config.sentinel = Some(SentinelConfig::new("m", vec![ep(S1)]));
    let mut s = Script::new(config);
    let q = s.open(S1);
    s.expect_sent(q, &[MASTER_ADDR, REPLICAS]);
    let _w = s.open(S1);
    s.recv(q, &(addr(6379) + &replicas(&[])));
    let p = s.open(P);
    s.expect_sent(p, &[&["ROLE"]]);
    s.recv(p, SLAVE);
    let unusable = s.events.iter().find_map(|e| match e {
        Event::TopologyUnusable { endpoint, reason } => Some((endpoint.clone(), reason.clone())),
        _ => None,
    });
    let (endpoint, reason) = unusable.expect("an unusable answer");
    assert_eq!(endpoint, ep(S1));
    assert!(reason.contains("ROLE says it is not"), "{reason}");
    // A sentinel that does not know the name says so.
    let get = s.submit(Request::new(["GET", "foo"]).timeout(std::time::Duration::from_secs(60)));
    s.run_next_timer();
    let q2 = if s.has_connect(S1) { s.open(S1) } else { q };
    let _ = s.sent_on(q2);
    s.recv(q2, "*-1\r\n");
    s.no_reply(get);
    assert!(s.events.iter().any(|e| matches!(
        e,
        Event::TopologyUnusable { reason, .. } if reason.contains("monitors no primary named `m`")
    )));
}

#[test]
fn writes_wait_through_a_failover_and_go_to_the_switched_primary() {
    let Setup { mut s, q, w, p, .. } = bootstrapped();
    // The failover's leader (S2) says it begins: writes wait, reads go on.
    s.recv(w[1], &message("+try-failover", "master m 127.0.0.1 6379"));
    assert!(
        s.events
            .iter()
            .any(|e| matches!(e, Event::SentinelFailover { master } if master == "m"))
    );
    let set = s.get(&["SET", "foo", "2"]);
    let get = s.get(&["GET", "foo"]);
    s.expect_sent(p, &[&["GET", "foo"]]);
    s.recv(p, "$1\r\n1\r\n");
    assert_eq!(s.reply_of(get), Ok(Frame::BulkString("1".into())));
    s.no_reply(set);
    // The switch: a refresh asks both sentinels at once. S1 has not learned of it yet.
    s.recv(
        w[1],
        &message("+switch-master", "m 127.0.0.1 6379 127.0.0.1 6381"),
    );
    assert_eq!(s.cluster.stats().sentinel_switches, 1);
    for c in q {
        s.expect_sent(c, &[MASTER_ADDR, REPLICAS]);
    }
    s.recv(q[0], &(addr(6379) + &replicas(&[6380, 6381])));
    s.expect_sent(p, &[&["ROLE"]]);
    s.recv(q[1], &(addr(6381) + &replicas(&[6380])));
    let n = s.open(N);
    s.expect_sent(n, &[&["ROLE"]]);
    s.recv(n, MASTER);
    // The switch's primary verified: the held write goes there, not to P.
    s.expect_sent(n, &[&["SET", "foo", "2"]]);
    s.nothing_sent(p);
    s.recv(n, "+OK\r\n");
    assert_eq!(s.reply_of(set), Ok(ok("OK")));
    // The stale sentinel's ROLE answer changes nothing; the same switch told by S1 later neither.
    s.recv(p, SLAVE);
    s.recv(
        w[0],
        &message("+switch-master", "m 127.0.0.1 6379 127.0.0.1 6381"),
    );
    assert_eq!(s.cluster.stats().sentinel_switches, 1);
    let next = s.get(&["INCR", "n"]);
    s.expect_sent(n, &[&["INCR", "n"]]);
    s.recv(n, ":1\r\n");
    assert_eq!(s.reply_of(next), Ok(Frame::Integer(1)));
}

#[test]
fn a_failover_that_ends_without_a_switch_releases_the_writes() {
    let Setup { mut s, w, p, .. } = bootstrapped();
    s.recv(w[0], &message("+try-failover", "master m 127.0.0.1 6379"));
    // Another primary's failover changes nothing here.
    s.recv(
        w[0],
        &message("-failover-abort-no-good-slave", "master other 127.0.0.1 1"),
    );
    let set = s.get(&["SET", "foo", "3"]);
    s.nothing_sent(p);
    s.recv(
        w[0],
        &message("-failover-abort-no-good-slave", "master m 127.0.0.1 6379"),
    );
    s.expect_sent(p, &[&["SET", "foo", "3"]]);
    s.recv(p, "+OK\r\n");
    assert_eq!(s.reply_of(set), Ok(ok("OK")));
    // And a hold nobody ends lasts its limit: a write whose deadline comes first says why.
    s.recv(w[0], &message("+try-failover", "master m 127.0.0.1 6379"));
    let short =
        s.submit(Request::new(["SET", "foo", "4"]).timeout(std::time::Duration::from_secs(1)));
    s.advance(std::time::Duration::from_secs(1));
    assert_eq!(
        s.reply_of(short),
        Err(RequestError::ClusterDown {
            slot: Some(12182),
            seen: DownCause::FailingOver { master: "m".into() },
        })
    );
    let long =
        s.submit(Request::new(["SET", "foo", "5"]).timeout(std::time::Duration::from_secs(30)));
    s.advance(std::time::Duration::from_secs(9));
    s.expect_sent_besides_refresh(p, &[&["SET", "foo", "5"]]);
    s.recv(p, "+OK\r\n");
    assert_eq!(s.reply_of(long), Ok(ok("OK")));
}

#[test]
fn a_lost_watch_is_reopened_and_asks_again() {
    let Setup { mut s, q, w, .. } = bootstrapped();
    s.close(w[0]);
    assert!(
        s.events
            .iter()
            .any(|e| matches!(e, Event::NodeFailing { .. }))
    );
    // A refresh asks the sentinels (a switch may have gone unheard) and the watch comes back.
    for _ in 0..5 {
        if s.has_connect(S1) {
            break;
        }
        s.run_next_timer();
    }
    let w2 = s.open(S1);
    assert!(s.sent_on(w2).iter().any(|c| c.contains("SUBSCRIBE")));
    let refreshes = |s: &Script| {
        s.events
            .iter()
            .filter(|e| matches!(e, Event::RefreshStarted { .. }))
            .count()
    };
    for _ in 0..5 {
        if refreshes(&s) > 1 {
            break;
        }
        s.run_next_timer();
    }
    let asked = s.sent_on(q[1]);
    let other = s.sent_on(q[0]);
    assert!(
        asked.iter().any(|c| c.contains("GET-MASTER-ADDR-BY-NAME")),
        "{asked:?} {other:?} {:?}",
        s.events,
    );
}

#[test]
fn a_switch_does_not_wait_for_the_round_in_progress() {
    let Setup { mut s, q, w, p } = bootstrapped();
    // The primary dies. The refresh this triggers asks both sentinels, which still name it, so
    // its ROLE question waits for a connection to the dead node that never comes.
    s.close(p);
    let set =
        s.submit(Request::new(["SET", "foo", "7"]).timeout(std::time::Duration::from_secs(30)));
    let asked = |s: &mut Script, c: ConnId| {
        s.sent_on(c)
            .iter()
            .any(|x| x.contains("GET-MASTER-ADDR-BY-NAME"))
    };
    for _ in 0..10 {
        if asked(&mut s, q[0]) {
            break;
        }
        s.run_next_timer();
    }
    let _ = s.sent_on(q[1]);
    s.recv(q[0], &(addr(6379) + &replicas(&[6380, 6381])));
    s.recv(q[1], &(addr(6379) + &replicas(&[6380, 6381])));
    let pending_p = s.expect_connect_pending(P);
    // The switch: a new round now, not after the one that waits on P.
    s.recv(
        w[0],
        &message("+switch-master", "m 127.0.0.1 6379 127.0.0.1 6381"),
    );
    for c in q {
        s.expect_sent(c, &[MASTER_ADDR, REPLICAS]);
    }
    s.recv(q[0], &(addr(6381) + &replicas(&[6380])));
    let n = s.open(N);
    s.expect_sent(n, &[&["ROLE"]]);
    s.recv(n, MASTER);
    s.expect_sent(n, &[&["SET", "foo", "7"]]);
    s.recv(n, "+OK\r\n");
    assert_eq!(s.reply_of(set), Ok(ok("OK")));
    // The abandoned round's question ends with its connection and changes nothing.
    s.connect_failed(pending_p);
    let get = s.get(&["GET", "foo"]);
    s.expect_sent(n, &[&["GET", "foo"]]);
    s.recv(n, "$1\r\n7\r\n");
    assert_eq!(s.reply_of(get), Ok(Frame::BulkString("7".into())));
}

#[test]
fn a_sentinel_listed_twice_is_asked_and_watched_once() {
    let mut config = Script::config(S1);
    config.sentinel = Some(SentinelConfig::new("m", vec![ep(S1), ep(S2), ep(S1)]));
    let mut s = Script::new(config);
    let mut asked = Vec::new();
    for sentinel in [S1, S2] {
        let c = s.open(sentinel);
        s.expect_sent(c, &[MASTER_ADDR, REPLICAS]);
        asked.push(c);
    }
    for sentinel in [S1, S2] {
        let c = s.open(sentinel);
        let sent = s.sent_on(c);
        assert!(
            sent.len() == 1 && sent[0].contains("+switch-master"),
            "{sentinel}: {sent:?}"
        );
    }
    // No third connection: S1 was neither asked nor watched a second time.
    assert!(!s.has_connect(S1), "S1 opened again");
    assert!(!s.has_connect(S2), "S2 opened again");
    s.recv(asked[0], &(addr(6379) + &replicas(&[6380])));
    let p = s.open(P);
    s.expect_sent(p, &[&["ROLE"]]);
}
