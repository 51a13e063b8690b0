//! Scenario tests, written as scripts: expect a connect, expect the bytes sent, send a reply, close,
//! advance time. Two shards: A = :7000 serves slots 0-8191 ("bar" is slot 5061), B = :7001 serves
//! 8192-16383 ("foo" is slot 12182).

mod common;

use std::time::Duration;

use common::*;
use slotwise_cluster::{
    Config, Credentials, DownCause, Endpoint, Event, Frame, RedirectKind, Request, RequestError,
};

const A: &str = "127.0.0.1:7000";
const B: &str = "127.0.0.1:7001";
const C: &str = "127.0.0.1:7002";

fn two_shards() -> Vec<u8> {
    shards_reply(&[(&[(0, 8191)], A, &[]), (&[(8192, 16383)], B, &[])])
}

/// Bootstrapped from A, with B connected and ready.
fn ready(config: Config) -> (Script, slotwise_cluster::ConnId, slotwise_cluster::ConnId) {
    let mut s = Script::new(config);
    let a = s.bootstrap(A, &two_shards());
    assert!(
        s.events
            .iter()
            .any(|e| matches!(e, Event::TopologyChanged { epoch: 1, .. }))
    );
    let b = s.open(B);
    s.no_connect();
    (s, a, b)
}

#[test]
fn requests_wait_for_the_handshake_then_pipeline() {
    let mut s = Script::new(Script::config(A));
    let a = s.bootstrap(A, &two_shards());
    let b = s.expect_connect_pending(B);
    let get = s.get(&["GET", "foo"]);
    let set = s.get(&["SET", "bar", "1"]);
    // A is ready: SET goes at once. B is still connecting: GET waits.
    s.expect_sent(a, &[&["SET", "bar", "1"]]);
    s.nothing_sent(b);
    s.connected(b);
    s.expect_sent(b, &[HELLO]);
    s.recv(b, HELLO_OK);
    s.expect_sent(b, &[&["GET", "foo"]]);
    s.recv(b, "$3\r\nval\r\n");
    s.recv(a, "+OK\r\n");
    assert_eq!(s.reply_of(get), Ok(Frame::BulkString("val".into())));
    assert_eq!(s.reply_of(set), Ok(ok("OK")));
    // Replies split at any byte still match in order.
    let g1 = s.get(&["GET", "foo"]);
    let g2 = s.get(&["GET", "{foo}x"]);
    s.expect_sent(b, &[&["GET", "foo"], &["GET", "{foo}x"]]);
    for byte in b":1\r\n:2\r\n" {
        s.recv_bytes(b, &[*byte]);
    }
    assert_eq!(s.reply_of(g1), Ok(Frame::Integer(1)));
    assert_eq!(s.reply_of(g2), Ok(Frame::Integer(2)));
}

#[test]
fn hello_fallback_to_auth_and_resp2() {
    let mut config = Script::config(A);
    config.credentials = Credentials::user("app", "pw");
    config.client_name = Some("svc".into());
    let mut s = Script::new(config);
    let a = s.expect_connect(A);
    s.expect_sent(a, &[&["HELLO", "3", "AUTH", "app", "pw", "SETNAME", "svc"]]);
    s.recv(
        a,
        "-ERR unknown command 'HELLO', with args beginning with: '3'\r\n",
    );
    assert!(
        s.events
            .iter()
            .any(|e| matches!(e, Event::Resp2Fallback { .. }))
    );
    s.expect_sent(a, &[&["AUTH", "app", "pw"], &["CLIENT", "SETNAME", "svc"]]);
    s.recv(a, "+OK\r\n+OK\r\n");
    s.expect_sent(a, &[&["CLUSTER", "SHARDS"]]);
    // An old server: no CLUSTER SHARDS, so CLUSTER SLOTS.
    s.recv(a, "-ERR unknown subcommand 'SHARDS'\r\n");
    s.expect_sent(a, &[&["CLUSTER", "SLOTS"]]);
    s.recv(
        a,
        "*1\r\n*3\r\n:0\r\n:16383\r\n*3\r\n$9\r\n127.0.0.1\r\n:7000\r\n$1\r\na\r\n",
    );
    let id = s.get(&["GET", "foo"]);
    s.expect_sent(a, &[&["GET", "foo"]]);
    s.recv(a, "$-1\r\n");
    assert_eq!(s.reply_of(id), Ok(Frame::NullBulk));
}

#[test]
fn auth_refused_fails_waiting_requests() {
    let mut config = Script::config(A);
    config.credentials = Credentials::password("bad");
    let mut s = Script::new(config);
    let id = s.get(&["GET", "foo"]);
    let a = s.expect_connect(A);
    s.expect_sent(a, &[&["HELLO", "3", "AUTH", "default", "bad"]]);
    s.recv(a, "-WRONGPASS invalid username-password pair\r\n");
    s.expect_closed(a);
    // No topology: the request waits for one until its deadline.
    s.no_reply(id);
    s.advance(Duration::from_secs(10));
    // The error says why: no topology, and the refresh never got an answer it could use.
    assert_eq!(
        s.reply_of(id),
        Err(RequestError::ClusterDown {
            slot: Some(12182),
            seen: DownCause::NoTopology {
                last_unusable: None
            }
        })
    );
}

#[test]
fn moved_patches_the_slot_and_resends() {
    let (mut s, a, b) = ready(Script::config(A));
    let id = s.get(&["GET", "bar"]);
    s.expect_sent(a, &[&["GET", "bar"]]);
    s.recv(a, "-MOVED 5061 127.0.0.1:7001\r\n");
    s.expect_sent(b, &[&["GET", "bar"]]);
    assert!(s.events.iter().any(|e| matches!(
        e,
        Event::Redirected {
            kind: RedirectKind::Moved,
            slot: 5061,
            ..
        }
    )));
    s.recv(b, "$1\r\nx\r\n");
    assert_eq!(s.reply_of(id), Ok(Frame::BulkString("x".into())));
    // The map is patched: the next one goes straight to B.
    let id = s.get(&["GET", "bar"]);
    s.expect_sent(b, &[&["GET", "bar"]]);
    s.recv(b, "$1\r\ny\r\n");
    assert_eq!(s.reply_of(id), Ok(Frame::BulkString("y".into())));
    // A refresh was scheduled (coalesced).
    s.run_next_timer();
    assert!(
        s.events
            .iter()
            .any(|e| matches!(e, Event::RefreshStarted { .. }))
    );
}

#[test]
fn a_stale_refresh_does_not_undo_a_newer_moved() {
    let mut config = Script::config(A);
    config.refresh.interval = Some(Duration::from_secs(1));
    let (mut s, a, b) = ready(config);
    s.advance(Duration::from_secs(1));
    // The periodic refresh asks both nodes.
    s.expect_sent(a, &[&["CLUSTER", "SHARDS"]]);
    s.expect_sent(b, &[&["CLUSTER", "SHARDS"]]);
    // Meanwhile slot 5061 moves to B, and a MOVED tells us.
    let id = s.get(&["GET", "bar"]);
    s.expect_sent(a, &[&["GET", "bar"]]);
    // Replies on A: the (stale) topology first, then the MOVED.
    s.recv(a, std::str::from_utf8(&two_shards()).unwrap());
    s.recv(a, "-MOVED 5061 127.0.0.1:7001\r\n");
    s.expect_sent(b, &[&["GET", "bar"]]);
    // B's answer is as stale: the refresh started before the MOVED.
    s.recv_bytes(b, &two_shards());
    s.recv(b, "+v\r\n");
    assert_eq!(s.reply_of(id), Ok(ok("v")));
    let id = s.get(&["GET", "bar"]);
    s.expect_sent(b, &[&["GET", "bar"]]);
    s.recv(b, "+w\r\n");
    assert_eq!(s.reply_of(id), Ok(ok("w")));
    // A refresh that starts after the MOVED wins, whatever it says.
    s.advance(Duration::from_secs(1));
    s.expect_sent(a, &[&["CLUSTER", "SHARDS"]]);
    s.expect_sent(b, &[&["CLUSTER", "SHARDS"]]);
    s.recv_bytes(a, &two_shards());
    s.recv_bytes(b, &two_shards());
    let id = s.get(&["GET", "bar"]);
    s.expect_sent(a, &[&["GET", "bar"]]);
    s.recv(a, "+z\r\n");
    assert_eq!(s.reply_of(id), Ok(ok("z")));
}

#[test]
fn ask_sends_asking_with_the_command_and_keeps_the_map() {
    let (mut s, a, b) = ready(Script::config(A));
    let id = s.get(&["GET", "bar"]);
    s.expect_sent(a, &[&["GET", "bar"]]);
    s.recv(a, "-ASK 5061 127.0.0.1:7001\r\n");
    s.expect_sent(b, &[&["ASKING"], &["GET", "bar"]]);
    s.recv(b, "+OK\r\n$1\r\nx\r\n");
    assert_eq!(s.reply_of(id), Ok(Frame::BulkString("x".into())));
    let id = s.get(&["GET", "bar"]);
    s.expect_sent(a, &[&["GET", "bar"]]);
    s.recv(a, "+still-a\r\n");
    assert_eq!(s.reply_of(id), Ok(ok("still-a")));
}

#[test]
fn too_many_redirects() {
    let mut config = Script::config(A);
    config.max_redirects = 2;
    let (mut s, a, b) = ready(config);
    let id = s.get(&["GET", "bar"]);
    s.expect_sent(a, &[&["GET", "bar"]]);
    s.recv(a, "-ASK 5061 127.0.0.1:7001\r\n");
    s.expect_sent(b, &[&["ASKING"], &["GET", "bar"]]);
    s.recv(b, "+OK\r\n-ASK 5061 127.0.0.1:7000\r\n");
    s.expect_sent(a, &[&["ASKING"], &["GET", "bar"]]);
    s.recv(a, "+OK\r\n-ASK 5061 127.0.0.1:7001\r\n");
    assert!(matches!(
        s.reply_of(id),
        Err(RequestError::TooManyRedirects { slot: 5061, .. })
    ));
}

#[test]
fn tryagain_and_loading_retry_after_backoff() {
    let (mut s, _a, b) = ready(Script::config(A));
    let id = s.get(&["GET", "foo"]);
    s.expect_sent(b, &[&["GET", "foo"]]);
    s.recv(
        b,
        "-TRYAGAIN Multiple keys request during rehashing of slot\r\n",
    );
    s.nothing_sent(b);
    s.advance(Duration::from_millis(20));
    s.expect_sent(b, &[&["GET", "foo"]]);
    s.recv(b, "-LOADING Redis is loading the dataset in memory\r\n");
    s.advance(Duration::from_millis(40));
    s.expect_sent(b, &[&["GET", "foo"]]);
    s.recv(b, "+done\r\n");
    assert_eq!(s.reply_of(id), Ok(ok("done")));
}

#[test]
fn clusterdown_retries_refreshes_and_reports_cluster_down_at_the_deadline() {
    let (mut s, a, b) = ready(Script::config(A));
    let id = s.submit(Request::new(["GET", "foo"]).timeout(Duration::from_millis(500)));
    s.expect_sent(b, &[&["GET", "foo"]]);
    s.recv(b, "-CLUSTERDOWN The cluster is down\r\n");
    for _ in 0..200 {
        if s.replies.iter().any(|(i, _)| *i == id) {
            break;
        }
        s.run_next_timer();
        // Keep answering: the cluster stays down; refreshes get the same view.
        let sent_b = s.sent_on(b);
        for c in sent_b {
            if c.contains("SHARDS") {
                s.recv_bytes(b, &two_shards());
            } else {
                s.recv(b, "-CLUSTERDOWN The cluster is down\r\n");
            }
        }
        for c in s.sent_on(a) {
            assert!(c.contains("SHARDS"));
            s.recv_bytes(a, &two_shards());
        }
    }
    // The error names what the client saw: the node and its own line.
    let err = s.reply_of(id).unwrap_err();
    assert_eq!(
        err,
        RequestError::ClusterDown {
            slot: Some(12182),
            seen: DownCause::Said {
                node: Endpoint::new("127.0.0.1", 7001),
                line: "CLUSTERDOWN The cluster is down".into()
            }
        }
    );
    assert_eq!(
        err.to_string(),
        "cluster down (slot 12182): 127.0.0.1:7001 answered `CLUSTERDOWN The cluster is down`"
    );
    assert!(
        s.events
            .iter()
            .any(|e| matches!(e, Event::RefreshStarted { .. }))
    );
}

#[test]
fn readonly_after_failover_refreshes_and_goes_to_the_new_primary() {
    let (mut s, a, b) = ready(Script::config(A));
    let id = s.get(&["SET", "foo", "1"]);
    s.expect_sent(b, &[&["SET", "foo", "1"]]);
    s.recv(
        b,
        "-READONLY You can't write against a read only replica.\r\n",
    );
    // Backoff, then the refresh: C is B's primary now.
    s.run_next_timer();
    s.run_next_timer();
    let failover = shards_reply(&[(&[(0, 8191)], A, &[]), (&[(8192, 16383)], C, &[B])]);
    for (conn, sent) in [(a, s.sent_on(a)), (b, s.sent_on(b))] {
        for c in sent {
            if c.contains("SHARDS") {
                s.recv_bytes(conn, &failover);
            } else {
                s.recv(
                    conn,
                    "-READONLY You can't write against a read only replica.\r\n",
                );
            }
        }
    }
    for _ in 0..10 {
        if s.has_connect(C) {
            break;
        }
        s.run_next_timer();
    }
    let c = s.open(C);
    // B is C's replica now: kept (not used for writes).
    for _ in 0..10 {
        let sent = s.sent_on(c);
        if !sent.is_empty() {
            assert_eq!(
                sent,
                vec![String::from_utf8(cmd(&["SET", "foo", "1"])).unwrap()]
            );
            break;
        }
        s.run_next_timer();
    }
    s.recv(c, "+OK\r\n");
    assert_eq!(s.reply_of(id), Ok(ok("OK")));
}

#[test]
fn failover_mid_pipeline_retries_what_is_safe() {
    let (mut s, a, b) = ready(Script::config(A));
    let get = s.get(&["GET", "foo"]);
    let incr = s.get(&["INCR", "foo"]);
    let set = s.submit(Request::new(["SET", "foo", "v"]).idempotent());
    s.expect_sent(
        b,
        &[&["GET", "foo"], &["INCR", "foo"], &["SET", "foo", "v"]],
    );
    // B dies (its replica C takes over).
    s.close(b);
    assert_eq!(
        s.reply_of(incr),
        Err(RequestError::ConnectionLost {
            maybe_applied: true,
            node: ep(B)
        })
    );
    s.no_reply(get);
    s.no_reply(set);
    // The refresh (triggered by the failure) asks A; B refuses to connect.
    let failover = shards_reply(&[(&[(0, 8191)], A, &[]), (&[(8192, 16383)], C, &[])]);
    for _ in 0..20 {
        if s.has_connect(C) {
            break;
        }
        if s.has_connect(B) {
            let b2 = s.expect_connect_pending(B);
            s.connect_failed(b2);
        }
        if s.sent_on(a).iter().any(|c| c.contains("SHARDS")) {
            s.recv_bytes(a, &failover);
            continue;
        }
        s.run_next_timer();
    }
    let c = s.open(C);
    let sent: Vec<String> = s
        .sent_on(c)
        .into_iter()
        .filter(|c| !c.contains("SHARDS"))
        .collect();
    let want =
        [cmd(&["GET", "foo"]), cmd(&["SET", "foo", "v"])].map(|c| String::from_utf8(c).unwrap());
    assert_eq!(sent, want);
    s.recv(c, "$1\r\nv\r\n+OK\r\n");
    s.recv_bytes(c, &failover);
    assert_eq!(s.reply_of(get), Ok(Frame::BulkString("v".into())));
    assert_eq!(s.reply_of(set), Ok(ok("OK")));
}

#[test]
fn a_lost_connection_retries_idempotent_writes_unmarked() {
    let (mut s, _a, b) = ready(Script::config(A));
    // Nothing marked: the core knows SET k v may run twice and INCR may not.
    let set = s.get(&["SET", "foo", "v", "EX", "10"]);
    let incr = s.get(&["INCR", "foo"]);
    let once = s.submit(Request::new(["SET", "foo", "w"]).not_idempotent());
    let del = s.get(&["DEL", "foo"]);
    s.expect_sent(
        b,
        &[
            &["SET", "foo", "v", "EX", "10"],
            &["INCR", "foo"],
            &["SET", "foo", "w"],
            &["DEL", "foo"],
        ],
    );
    s.close(b);
    assert_eq!(
        s.reply_of(incr),
        Err(RequestError::ConnectionLost {
            maybe_applied: true,
            node: ep(B)
        })
    );
    assert_eq!(
        s.reply_of(once),
        Err(RequestError::ConnectionLost {
            maybe_applied: true,
            node: ep(B)
        }),
        "the caller said not to run it twice"
    );
    s.no_reply(set);
    s.no_reply(del);
    let b2 = s.open_after_backoff(B);
    s.expect_sent_besides_refresh(b2, &[&["SET", "foo", "v", "EX", "10"], &["DEL", "foo"]]);
    s.recv(b2, "+OK\r\n:1\r\n");
    assert_eq!(s.reply_of(set), Ok(ok("OK")));
    assert_eq!(s.reply_of(del), Ok(Frame::Integer(1)));
    let stats = s.cluster.stats();
    assert_eq!((stats.failed, stats.maybe_applied), (2, 2));
}

#[test]
fn queue_bound() {
    let mut config = Script::config(A);
    config.queue_bound = 2;
    let mut s = Script::new(config);
    let _a = s.bootstrap(A, &two_shards());
    let _b = s.expect_connect_pending(B);
    let r1 = s.get(&["GET", "foo"]);
    let r2 = s.get(&["GET", "foo"]);
    let r3 = s.get(&["GET", "foo"]);
    assert_eq!(s.reply_of(r3), Err(RequestError::QueueFull { node: ep(B) }));
    s.no_reply(r1);
    s.no_reply(r2);
}

#[test]
fn deadline_expiry_drops_the_late_reply() {
    // Without suspicion, which would set B aside long before the deadline (see
    // `a_silent_node_is_suspect_and_its_queue_follows_the_failover`).
    let mut config = Script::config(A);
    config.suspect_after = None;
    let (mut s, _a, b) = ready(config);
    let slow = s.get(&["GET", "foo"]);
    s.expect_sent(b, &[&["GET", "foo"]]);
    s.advance(Duration::from_millis(9_999));
    s.no_reply(slow);
    // Something came back on B meanwhile (so B is not stalled): a second request and its reply.
    let other = s.submit(Request::new(["GET", "foo"]));
    s.expect_sent(b, &[&["GET", "foo"]]);
    s.advance(Duration::from_millis(1));
    assert_eq!(
        s.reply_of(slow),
        Err(RequestError::Timeout {
            slot: Some(12182),
            node: Some(ep(B)),
            written: true,
        })
    );
    // B was stalled (nothing received since): closed; the other request (a read) is retried.
    s.expect_closed(b);
    s.no_reply(other);
    let b2 = s.open_after_backoff(B);
    s.expect_sent_besides_refresh(b2, &[&["GET", "foo"]]);
    s.recv(b2, "+fresh\r\n");
    assert_eq!(s.reply_of(other), Ok(ok("fresh")));
}

#[test]
fn late_reply_on_a_live_connection_is_dropped() {
    let (mut s, _a, b) = ready(Script::config(A));
    let slow = s.submit(Request::new(["GET", "foo"]).timeout(Duration::from_millis(100)));
    s.expect_sent(b, &[&["GET", "foo"]]);
    s.advance(Duration::from_millis(50));
    let fast = s.get(&["GET", "foo"]);
    s.expect_sent(b, &[&["GET", "foo"]]);
    s.recv(b, "+slow\r\n"); // the slow one's reply, nothing yet for fast
    s.advance(Duration::from_millis(60));
    assert_eq!(s.reply_of(slow), Ok(ok("slow")));
    let late = s.submit(Request::new(["GET", "foo"]).timeout(Duration::from_millis(10)));
    s.expect_sent(b, &[&["GET", "foo"]]);
    s.recv(b, "+fast\r\n");
    s.advance(Duration::from_millis(20));
    assert!(matches!(
        s.reply_of(late),
        Err(RequestError::Timeout { .. })
    ));
    s.recv(b, "+late\r\n"); // dropped: no second outcome
    assert_eq!(s.reply_of(fast), Ok(ok("fast")));
    assert!(s.replies.is_empty());
}

#[test]
fn blocking_command_deadline_includes_block_time() {
    let (mut s, _a, b) = ready(Script::config(A));
    let id = s.get(&["BLPOP", "foo", "5"]);
    // On a dedicated connection of B's pool, not on B's shared one.
    s.nothing_sent(b);
    let d = s.open(B);
    s.expect_sent(d, &[&["BLPOP", "foo", "5"]]);
    s.advance(Duration::from_secs(14));
    s.no_reply(id);
    s.advance(Duration::from_secs(1));
    assert!(matches!(
        s.reply_of(id),
        Err(RequestError::Timeout { written: true, .. })
    ));
    // The server may still answer it: that connection can serve nobody else.
    s.expect_closed(d);
}

#[test]
fn malformed_reply_closes_the_connection_and_retries_reads() {
    let (mut s, _a, b) = ready(Script::config(A));
    let get = s.get(&["GET", "foo"]);
    let incr = s.get(&["INCR", "foo"]);
    s.expect_sent(b, &[&["GET", "foo"], &["INCR", "foo"]]);
    s.recv(b, "?garbage\r\n");
    s.expect_closed(b);
    assert!(matches!(
        s.reply_of(incr),
        Err(RequestError::Protocol { .. })
    ));
    s.no_reply(get);
    let b2 = s.open_after_backoff(B);
    s.expect_sent(b2, &[&["GET", "foo"]]);
    s.recv(b2, "+ok\r\n");
    assert_eq!(s.reply_of(get), Ok(ok("ok")));
    // A reply nobody asked for is a protocol violation too.
    s.recv(b2, "+surprise\r\n");
    s.expect_closed(b2);
}

#[test]
fn connect_timeout_and_reconnect_backoff() {
    let mut s = Script::new(Script::config(A));
    let a = s.expect_connect_pending(A);
    s.advance(Duration::from_secs(2));
    s.expect_closed(a);
    assert!(
        s.events
            .iter()
            .any(|e| matches!(e, Event::NodeFailing { failures: 1, .. }))
    );
    // The refresh retries from the seed after a backoff.
    for _ in 0..10 {
        if s.has_connect(A) {
            break;
        }
        s.run_next_timer();
    }
    let a = s.expect_connect(A);
    s.expect_sent(a, &[HELLO]);
}

#[test]
fn tls_server_name_and_readonly_replicas() {
    let mut config = Script::config("seed.example.invalid:6379");
    config.tls = Some(Default::default());
    config.read_from = slotwise_cluster::ReadFrom::PreferReplica;
    let mut s = Script::new(config);
    let seed = s.expect_connect("seed.example.invalid:6379");
    s.expect_sent(seed, &[HELLO]);
    s.recv(seed, HELLO_OK);
    s.expect_sent(seed, &[&["CLUSTER", "SHARDS"]]);
    s.recv_bytes(seed, &shards_reply(&[(&[(0, 16383)], A, &[B])]));
    // The seed is not a node of the topology: closed.
    s.expect_closed(seed);
    let (a, name) = s.expect_connect_full(A);
    assert_eq!(name.as_deref(), Some("seed.example.invalid"));
    let (b, _) = s.expect_connect_full(B);
    s.connected(a);
    s.connected(b);
    s.expect_sent(a, &[HELLO]);
    s.expect_sent(b, &[HELLO, &["READONLY"]]);
    s.recv(a, HELLO_OK);
    s.recv(b, HELLO_OK);
    s.recv(b, "+OK\r\n");
    let read = s.get(&["GET", "foo"]);
    let write = s.get(&["SET", "foo", "1"]);
    s.expect_sent(b, &[&["GET", "foo"]]);
    s.expect_sent(a, &[&["SET", "foo", "1"]]);
    s.recv(b, "+r\r\n");
    s.recv(a, "+OK\r\n");
    assert_eq!(s.reply_of(read), Ok(ok("r")));
    assert_eq!(s.reply_of(write), Ok(ok("OK")));
}

#[test]
fn stats_count_redirects_retries_failures_and_bytes() {
    let (mut s, a, b) = ready(Script::config(A));
    let boot = s.cluster.stats();
    assert_eq!(boot.topology_epoch, 1);
    assert_eq!(boot.refreshes, 1, "the bootstrap");
    assert_eq!((boot.connects, boot.connections), (2, 2));
    assert_eq!((boot.requests, boot.replies, boot.failed), (0, 0, 0));
    assert!(boot.bytes_sent > 0 && boot.bytes_received > 0, "{boot:?}");

    // A MOVED, an ASK, a TRYAGAIN.
    let moved = s.get(&["GET", "bar"]);
    s.expect_sent(a, &[&["GET", "bar"]]);
    s.recv(a, "-MOVED 5061 127.0.0.1:7001\r\n");
    s.expect_sent(b, &[&["GET", "bar"]]);
    s.recv(b, "+x\r\n");
    assert_eq!(s.reply_of(moved), Ok(ok("x")));
    let asked = s.get(&["GET", "foo"]);
    s.expect_sent(b, &[&["GET", "foo"]]);
    s.recv(b, "-ASK 12182 127.0.0.1:7000\r\n");
    s.expect_sent(a, &[&["ASKING"], &["GET", "foo"]]);
    s.recv(a, "+OK\r\n+y\r\n");
    assert_eq!(s.reply_of(asked), Ok(ok("y")));
    let retried = s.get(&["GET", "foo"]);
    s.expect_sent(b, &[&["GET", "foo"]]);
    s.recv(b, "-TRYAGAIN\r\n");
    s.advance(Duration::from_millis(20));
    s.expect_sent(b, &[&["GET", "foo"]]);
    let before = s.cluster.stats();
    s.recv(b, "-WRONGTYPE not a string\r\n");
    assert!(s.reply_of(retried).is_ok(), "an error reply is a reply");
    let after = s.cluster.stats();
    assert_eq!(after.bytes_received - before.bytes_received, 25);
    assert_eq!((after.moved, after.ask, after.retries), (1, 1, 1));
    assert_eq!((after.requests, after.replies, after.failed), (3, 3, 0));

    // B dies with a read and a write in flight: the read is retried, the write may have applied.
    let get = s.get(&["GET", "foo"]);
    let incr = s.get(&["INCR", "foo"]);
    s.expect_sent(b, &[&["GET", "foo"], &["INCR", "foo"]]);
    s.close(b);
    assert!(matches!(
        s.reply_of(incr),
        Err(RequestError::ConnectionLost {
            maybe_applied: true,
            ..
        })
    ));
    let lost = s.cluster.stats();
    assert_eq!((lost.failed, lost.maybe_applied, lost.timeouts), (1, 1, 0));
    assert_eq!(lost.retries, 2, "the read, again");
    assert_eq!(lost.connection_failures, 1);
    assert_eq!(lost.connections, 1);
    // Nobody answers for B until the read's deadline.
    s.advance(Duration::from_secs(10));
    assert!(matches!(s.reply_of(get), Err(RequestError::Timeout { .. })));
    let end = s.cluster.stats();
    assert_eq!((end.requests, end.replies, end.failed), (5, 3, 2));
    assert_eq!((end.timeouts, end.maybe_applied), (1, 1));
    // The MOVED and the loss each asked for a refresh (coalesced, so started after a short window).
    assert!(end.refreshes >= 2, "{end:?}");
}

/// Runs timers until `conn` has sent something; returns what.
fn next_sent(s: &mut Script, conn: slotwise_cluster::ConnId) -> Vec<String> {
    for _ in 0..20 {
        let sent = s.sent_on(conn);
        if !sent.is_empty() {
            return sent;
        }
        s.run_next_timer();
    }
    panic!("nothing sent on {conn}");
}

fn suspects(s: &Script) -> usize {
    s.events
        .iter()
        .filter(|e| matches!(e, Event::NodeSuspect { .. }))
        .count()
}

#[test]
fn a_silent_node_is_suspect_and_its_queue_follows_the_failover() {
    let (mut s, a, b) = ready(Script::config(A));
    let incr = s.get(&["INCR", "foo"]);
    let get = s.get(&["GET", "foo"]);
    s.expect_sent(b, &[&["INCR", "foo"], &["GET", "foo"]]);
    // B stops answering (frozen): suspect after 300 ms of silence, not before.
    s.advance(Duration::from_millis(299));
    assert_eq!(suspects(&s), 0);
    s.advance(Duration::from_millis(1));
    assert!(
        s.events
            .iter()
            .any(|e| matches!(e, Event::NodeSuspect { in_flight: 2, .. }))
    );
    // A fresh connection probes B; nothing new is written on the silent one.
    let probe = s.expect_connect_pending(B);
    let queued = s.get(&["GET", "{foo}2"]);
    s.nothing_sent(b);
    // The refresh asks A, never the suspect B; while B still serves its slots, again and again.
    let shards = String::from_utf8(cmd(&["CLUSTER", "SHARDS"])).unwrap();
    assert_eq!(next_sent(&mut s, a), std::slice::from_ref(&shards));
    s.recv_bytes(a, &two_shards());
    assert_eq!(next_sent(&mut s, a), [shards]);
    s.nothing_sent(b);
    s.nothing_sent(probe);
    assert_eq!(s.cluster.stats().suspicions, 1);
    // Now C has taken over B's slots.
    let failover = shards_reply(&[(&[(0, 8191)], A, &[]), (&[(8192, 16383)], C, &[B])]);
    s.recv_bytes(a, &failover);
    // The INCR written before the suspicion may have run: ambiguous. The GET is sent again,
    // and the queued request goes to C.
    assert_eq!(
        s.reply_of(incr),
        Err(RequestError::ConnectionLost {
            maybe_applied: true,
            node: ep(B),
        })
    );
    s.expect_closed(b);
    let c = s.open(C);
    s.expect_sent(c, &[&["GET", "{foo}2"], &["GET", "foo"]]);
    s.recv(c, "$1\r\n2\r\n$1\r\n1\r\n");
    assert_eq!(s.reply_of(queued), Ok(Frame::BulkString("2".into())));
    assert_eq!(s.reply_of(get), Ok(Frame::BulkString("1".into())));
}

#[test]
fn a_suspect_node_that_answers_again_is_trusted_again() {
    let (mut s, _a, b) = ready(Script::config(A));
    let first = s.get(&["GET", "foo"]);
    s.expect_sent(b, &[&["GET", "foo"]]);
    s.advance(Duration::from_millis(400));
    assert_eq!(suspects(&s), 1);
    let probe = s.expect_connect_pending(B);
    let queued = s.get(&["GET", "{foo}2"]);
    s.nothing_sent(b);
    // B answers (the pause is over): trusted, the probe is dropped, the queue flows on B.
    s.recv(b, "$1\r\n1\r\n");
    assert_eq!(s.reply_of(first), Ok(Frame::BulkString("1".into())));
    assert!(
        s.events
            .iter()
            .any(|e| matches!(e, Event::NodeTrusted { .. }))
    );
    s.expect_closed(probe);
    s.expect_sent_besides_refresh(b, &[&["GET", "{foo}2"]]);
    s.recv(b, "$1\r\n2\r\n");
    assert_eq!(s.reply_of(queued), Ok(Frame::BulkString("2".into())));
}

#[test]
fn a_stuck_connection_is_replaced_by_the_probe_once_its_requests_end() {
    let (mut s, _a, b) = ready(Script::config(A));
    let stuck_set = s.submit(Request::new(["SET", "foo", "1"]).timeout(Duration::from_secs(1)));
    s.expect_sent(b, &[&["SET", "foo", "1"]]);
    s.advance(Duration::from_millis(300));
    // The node answers on a fresh connection (only that path is stuck, or the node is paused):
    // what comes next still waits behind the SET in flight, which the node may yet run — a GET
    // must not overtake it.
    let get = s.get(&["GET", "foo"]);
    let probe = s.open(B);
    s.nothing_sent(probe);
    s.nothing_sent(b);
    // The SET's deadline: it ends (it may have run), its silent connection goes, and the GET
    // flows on the probe.
    s.advance(Duration::from_millis(700));
    assert_eq!(
        s.reply_of(stuck_set),
        Err(RequestError::Timeout {
            slot: Some(12182),
            node: Some(ep(B)),
            written: true,
        })
    );
    s.expect_closed(b);
    s.expect_sent_besides_refresh(probe, &[&["GET", "foo"]]);
    s.recv(probe, "$1\r\n1\r\n");
    assert_eq!(s.reply_of(get), Ok(Frame::BulkString("1".into())));
    let next = s.get(&["GET", "{foo}3"]);
    s.expect_sent_besides_refresh(probe, &[&["GET", "{foo}3"]]);
    s.recv(probe, "$1\r\n3\r\n");
    assert_eq!(s.reply_of(next), Ok(Frame::BulkString("3".into())));
}

#[test]
fn a_request_sent_again_late_does_not_condemn_the_probe() {
    let (mut s, _a, b) = ready(Script::config(A));
    let stuck_set = s.submit(Request::new(["SET", "foo", "1"]).timeout(Duration::from_secs(1)));
    let stuck_get = s.submit(Request::new(["GET", "foo"]).timeout(Duration::from_millis(1_005)));
    s.expect_sent(b, &[&["SET", "foo", "1"], &["GET", "foo"]]);
    s.advance(Duration::from_millis(300));
    let probe = s.open(B);
    // The SET's deadline closes the stuck connection; the GET (a read) is sent again on the
    // probe with 5 ms of its budget left.
    s.advance(Duration::from_millis(700));
    assert!(matches!(
        s.reply_of(stuck_set),
        Err(RequestError::Timeout { written: true, .. })
    ));
    s.expect_closed(b);
    s.expect_sent_besides_refresh(probe, &[&["GET", "foo"]]);
    // Its deadline passes 5 ms later, before the probe answered anything: the request ends, but
    // a connection written to 5 ms ago is not stalled, so the probe stays and serves what comes.
    s.advance(Duration::from_millis(5));
    assert!(matches!(
        s.reply_of(stuck_get),
        Err(RequestError::Timeout { written: true, .. })
    ));
    s.expect_open(probe);
    let next = s.get(&["GET", "{foo}3"]);
    s.expect_sent_besides_refresh(probe, &[&["GET", "{foo}3"]]);
    s.recv(probe, "$1\r\n1\r\n$1\r\n3\r\n");
    assert_eq!(s.reply_of(next), Ok(Frame::BulkString("3".into())));
}

#[test]
fn a_paused_node_answers_in_order_on_its_connection() {
    let (mut s, _a, b) = ready(Script::config(A));
    let set = s.get(&["SET", "foo", "1"]);
    s.expect_sent(b, &[&["SET", "foo", "1"]]);
    s.advance(Duration::from_millis(300));
    // Paused (CLIENT PAUSE, a manual failover): the probe's handshake goes through, the SET waits.
    let get = s.get(&["GET", "foo"]);
    let probe = s.open(B);
    s.nothing_sent(probe);
    // The pause ends: the SET's reply; B is the node's connection again, the GET follows it.
    s.recv(b, "+OK\r\n");
    assert_eq!(s.reply_of(set), Ok(ok("OK")));
    s.expect_closed(probe);
    s.expect_sent_besides_refresh(b, &[&["GET", "foo"]]);
    s.recv(b, "$1\r\n1\r\n");
    assert_eq!(s.reply_of(get), Ok(Frame::BulkString("1".into())));
}

#[test]
fn a_reply_still_arriving_at_the_deadline_closes_its_connection() {
    let (mut s, _a, b) = ready(Script::config(A));
    let slow = s.submit(Request::new(["GET", "foo"]).timeout(Duration::from_millis(100)));
    s.expect_sent(b, &[&["GET", "foo"]]);
    // The reply trickles: part of a bulk string, byte by byte, past the deadline.
    for byte in b"$100\r\nabc" {
        s.recv_bytes(b, &[*byte]);
        s.advance(Duration::from_millis(20));
    }
    assert_eq!(
        s.reply_of(slow),
        Err(RequestError::Timeout {
            slot: Some(12182),
            node: Some(ep(B)),
            written: true,
        })
    );
    // Not reused: whatever came next would wait behind the rest of that reply.
    s.expect_closed(b);
}

#[test]
fn the_first_seed_that_answers_wins() {
    // Two seeds; the first never answers (a dead or silent address).
    let mut config = Script::config("127.0.0.1:7999");
    config.seeds.push(ep(A));
    let mut s = Script::new(config);
    let silent = s.expect_connect_pending("127.0.0.1:7999");
    let a = s.open(A);
    s.expect_sent(a, &[&["CLUSTER", "SHARDS"]]);
    s.recv_bytes(a, &two_shards());
    // The topology is in at once, without waiting for the silent seed.
    assert!(
        s.events
            .iter()
            .any(|e| matches!(e, Event::TopologyChanged { epoch: 1, .. }))
    );
    let get = s.get(&["GET", "bar"]);
    s.expect_sent(a, &[&["GET", "bar"]]);
    s.recv(a, "$1\r\nx\r\n");
    assert_eq!(s.reply_of(get), Ok(Frame::BulkString("x".into())));
    s.nothing_sent(silent);
}

fn unusable(s: &Script) -> Vec<String> {
    s.events
        .iter()
        .filter_map(|e| match e {
            Event::TopologyUnusable { reason, .. } => Some(reason.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn an_unusable_topology_answer_says_what_was_wrong() {
    // A standalone server when only a cluster will do: its own words, and what they mean.
    let mut config = Script::config(A);
    config.deployment = slotwise_cluster::Deployment::Cluster;
    let mut s = Script::new(config);
    let a = s.open(A);
    s.expect_sent(a, &[&["CLUSTER", "SHARDS"]]);
    s.recv(a, "-ERR This instance has cluster support disabled\r\n");
    s.expect_sent(a, &[&["CLUSTER", "SLOTS"]]);
    s.recv(a, "-ERR This instance has cluster support disabled\r\n");
    let reasons = unusable(&s);
    assert_eq!(reasons.len(), 1, "{reasons:?}");
    assert!(
        reasons[0].contains("`ERR This instance has cluster support disabled`")
            && reasons[0].contains("standalone server"),
        "{reasons:?}"
    );
    assert!(s.events.iter().any(|e| matches!(e, Event::RefreshFailed)));

    // An answer that is not a CLUSTER SHARDS reply: what was invalid.
    let mut s = Script::new(Script::config(A));
    let a = s.open(A);
    s.expect_sent(a, &[&["CLUSTER", "SHARDS"]]);
    s.recv(a, "*1\r\n:5\r\n");
    let reasons = unusable(&s);
    assert_eq!(reasons.len(), 1, "{reasons:?}");
    assert!(
        reasons[0].starts_with("gave an invalid CLUSTER SHARDS answer: "),
        "{reasons:?}"
    );

    // A node that was never given slots (CLUSTER SLOTS: an empty list): nothing to route by, and
    // a request waiting meanwhile says so at its deadline.
    let mut s = Script::new(Script::config(A));
    let get = s.submit(Request::new(["GET", "foo"]).timeout(Duration::from_millis(300)));
    let a = s.open(A);
    s.expect_sent(a, &[&["CLUSTER", "SHARDS"]]);
    s.recv(a, "-ERR unknown subcommand 'SHARDS'\r\n");
    s.expect_sent(a, &[&["CLUSTER", "SLOTS"]]);
    s.recv(a, "*0\r\n");
    let reasons = unusable(&s);
    assert_eq!(reasons.len(), 1, "{reasons:?}");
    assert!(
        reasons[0].starts_with("answered CLUSTER SLOTS with no slots assigned"),
        "{reasons:?}"
    );
    s.advance(Duration::from_millis(1000));
    let reply = s.reply_of(get);
    let Err(RequestError::ClusterDown {
        seen: DownCause::NoTopology {
            last_unusable: Some(last),
        },
        ..
    }) = reply
    else {
        panic!("expected ClusterDown with no topology, got {reply:?}");
    };
    assert!(last.contains("with no slots assigned"), "{last}");
}

#[test]
fn an_argument_longer_than_the_server_takes_is_refused_before_it_is_sent() {
    let mut config = Script::config(A);
    config.max_arg_len = 8;
    let (mut s, _a, b) = ready(config);
    let big = s.get(&["SET", "foo", "123456789"]);
    assert_eq!(
        s.reply_of(big),
        Err(RequestError::TooLarge { len: 9, limit: 8 })
    );
    s.nothing_sent(b);
    let fits = s.get(&["SET", "foo", "12345678"]);
    s.expect_sent(b, &[&["SET", "foo", "12345678"]]);
    s.recv(b, "+OK\r\n");
    assert_eq!(s.reply_of(fits), Ok(ok("OK")));
}

#[test]
fn a_moved_to_an_unreachable_address_backs_off_and_asks_the_topology() {
    let (mut s, a, b) = ready(Script::config(A));
    let get = s.get(&["GET", "foo"]);
    s.expect_sent(b, &[&["GET", "foo"]]);
    // B says the slot lives at C, which refuses every connection.
    s.recv(b, "-MOVED 12182 127.0.0.1:7002\r\n");
    let mut connects = 0;
    let mut refreshes = 0;
    let start = s.now;
    while s.now < start + Duration::from_secs(1) {
        while s.has_connect(C) {
            let c = s.expect_connect(C);
            connects += 1;
            s.connect_failed(c);
        }
        for conn in [a, b] {
            for c in s.sent_on(conn) {
                if c.contains("SHARDS") {
                    refreshes += 1;
                    // The cluster still says B (the MOVED was stale).
                    s.recv_bytes(conn, &two_shards());
                } else {
                    // The request, back on B once the topology said so.
                    assert_eq!(
                        (conn, c),
                        (b, String::from_utf8(cmd(&["GET", "foo"])).unwrap())
                    );
                    s.recv(b, "$1\r\nv\r\n");
                }
            }
        }
        if s.timeout.is_none() {
            break; // nothing left to do: no more reconnects either
        }
        s.run_next_timer();
    }
    eprintln!(
        "in 1 s: {connects} connects to the refusing address, {refreshes} topology questions"
    );
    // Backing off (20 ms doubling, capped), not a storm; and the topology was asked.
    assert!((1..=8).contains(&connects), "{connects} connects");
    assert!(refreshes >= 1);
    // The topology says B: the request went back there and was answered.
    assert_eq!(s.reply_of(get), Ok(Frame::BulkString("v".into())));
}

#[test]
fn a_changed_topology_ends_the_backoff_of_requests_told_clusterdown() {
    let (mut s, a, b) = ready(Script::config(A));
    let id = s.submit(Request::new(["GET", "foo"]).timeout(Duration::from_secs(10)));
    s.expect_sent(b, &[&["GET", "foo"]]);
    s.recv(b, "-CLUSTERDOWN The cluster is down\r\n");
    let mut downs = 1;
    // The same view until the GET has been refused four times (its backoff is long by then);
    // then a refresh finds a changed topology (A gained a replica: a failover elsewhere).
    let changed = shards_reply(&[(&[(0, 8191)], A, &[C]), (&[(8192, 16383)], B, &[])]);
    for _ in 0..200 {
        s.run_next_timer();
        let (mut get_sent, mut asked) = (false, Vec::new());
        for conn in [a, b] {
            for c in s.sent_on(conn) {
                if c.contains("SHARDS") {
                    asked.push(conn);
                } else {
                    assert_eq!(conn, b, "{c}");
                    get_sent = true;
                    s.recv(b, "-CLUSTERDOWN The cluster is down\r\n");
                    downs += 1;
                }
            }
        }
        if asked.is_empty() {
            continue;
        }
        if downs < 4 || get_sent {
            for conn in asked {
                s.recv_bytes(conn, &two_shards());
            }
            continue;
        }
        let before = s.now;
        for conn in asked {
            s.recv_bytes(conn, &changed);
        }
        // At once, not at the end of the backoff.
        assert_eq!(s.now, before);
        assert_eq!(
            s.sent_on(b),
            vec![String::from_utf8(cmd(&["GET", "foo"])).unwrap()]
        );
        s.recv(b, "$1\r\nx\r\n");
        assert_eq!(s.reply_of(id), Ok(Frame::BulkString("x".into())));
        return;
    }
    panic!("no refresh came while the GET was backing off ({downs} CLUSTERDOWN answers)");
}

#[test]
fn a_remapped_node_is_dialed_where_the_map_says_and_keeps_its_announced_name() {
    let mut config = Script::config(A);
    config.remap = Some(slotwise_cluster::Remap::new(|e: &Endpoint| {
        (e.port == 7001).then(|| slotwise_cluster::Dial::to(Endpoint::new("127.0.0.1", 9001)))
    }));
    let mut s = Script::new(config);
    let a = s.bootstrap(A, &two_shards());
    // B (announced 127.0.0.1:7001) is dialed at 9001.
    let b = s.open("127.0.0.1:9001");
    s.no_connect();
    let id = s.get(&["GET", "foo"]);
    s.expect_sent(b, &[&["GET", "foo"]]);
    s.recv(b, "$1\r\nb\r\n");
    assert_eq!(s.reply_of(id), Ok(Frame::BulkString("b".into())));
    // A MOVED to the announced address goes to the same (remapped) connection.
    let id = s.get(&["GET", "bar"]);
    s.expect_sent(a, &[&["GET", "bar"]]);
    s.recv(a, "-MOVED 5061 127.0.0.1:7001\r\n");
    s.expect_sent(b, &[&["GET", "bar"]]);
    s.recv(b, "$1\r\nm\r\n");
    assert_eq!(s.reply_of(id), Ok(Frame::BulkString("m".into())));
    s.no_connect();
}

#[test]
fn round_robin_reads_take_the_replicas_in_turn_and_writes_the_primary() {
    let mut config = Script::config(A);
    config.read_from = slotwise_cluster::ReadFrom::RoundRobin;
    let mut s = Script::new(config);
    let a = s.bootstrap(A, &shards_reply(&[(&[(0, 16383)], A, &[B, C])]));
    let mut replicas = Vec::new();
    for r in [B, C] {
        let c = s.expect_connect(r);
        s.expect_sent(c, &[HELLO, &["READONLY"]]);
        s.recv(c, HELLO_OK);
        s.recv(c, "+OK\r\n");
        replicas.push(c);
    }
    let mut served = Vec::new();
    for i in 0..4 {
        let id = s.get(&["GET", "foo"]);
        let on = replicas
            .iter()
            .copied()
            .find(|&c| !s.sent_on(c).is_empty())
            .expect("a replica got the read");
        s.recv(on, &format!("${}\r\n{i}\r\n", i.to_string().len()));
        assert_eq!(s.reply_of(id), Ok(Frame::BulkString(i.to_string().into())));
        served.push(on);
    }
    assert_ne!(served[0], served[1]);
    assert_eq!(served[0], served[2]);
    assert_eq!(served[1], served[3]);
    let write = s.get(&["SET", "foo", "1"]);
    s.expect_sent(a, &[&["SET", "foo", "1"]]);
    s.recv(a, "+OK\r\n");
    assert_eq!(s.reply_of(write), Ok(ok("OK")));
}

#[test]
fn a_standalone_seed_runs_as_a_cluster_of_one_shard() {
    let mut s = Script::new(Script::config(A));
    let get = s.get(&["GET", "foo"]);
    let a = s.open(A);
    s.expect_sent(a, &[&["CLUSTER", "SHARDS"]]);
    s.recv(a, "-ERR This instance has cluster support disabled\r\n");
    assert!(unusable(&s).is_empty(), "{:?}", unusable(&s));
    // Its ROLE: a primary with no replica online.
    s.expect_sent(a, &[&["ROLE"]]);
    s.recv(a, "*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n");
    // Every slot is on the seed: the waiting GET goes there, on the same connection.
    s.expect_sent(a, &[&["GET", "foo"]]);
    s.recv(a, "$1\r\nv\r\n");
    assert_eq!(s.reply_of(get), Ok(Frame::BulkString("v".into())));
    let other = s.get(&["GET", "bar"]);
    s.expect_sent(a, &[&["GET", "bar"]]);
    s.recv(a, "$-1\r\n");
    assert_eq!(s.reply_of(other), Ok(Frame::NullBulk));
    s.no_connect();
}

#[test]
fn a_standalone_seed_that_is_a_replica_leads_to_its_primary() {
    let mut config = Script::config(B);
    config.read_from = slotwise_cluster::ReadFrom::PreferReplica;
    let mut s = Script::new(config);
    let set = s.get(&["SET", "foo", "1"]);
    let get = s.get(&["GET", "foo"]);
    let b = s.open(B);
    s.expect_sent(b, &[&["CLUSTER", "SHARDS"]]);
    s.recv(b, "-ERR This instance has cluster support disabled\r\n");
    s.expect_sent(b, &[&["ROLE"]]);
    // A replica of A: A takes the write, the seed (a replica) the read, with no READONLY.
    s.recv(
        b,
        "*5\r\n$5\r\nslave\r\n$9\r\n127.0.0.1\r\n:7000\r\n$9\r\nconnected\r\n:0\r\n",
    );
    let a = s.open(A);
    s.expect_sent(a, &[&["SET", "foo", "1"]]);
    s.expect_sent(b, &[&["GET", "foo"]]);
    s.recv(a, "+OK\r\n");
    s.recv(b, "$1\r\n1\r\n");
    assert_eq!(s.reply_of(set), Ok(ok("OK")));
    assert_eq!(s.reply_of(get), Ok(Frame::BulkString("1".into())));
    let topology = s.cluster.topology().expect("a topology");
    let shard = &topology.shards()[0];
    assert_eq!(shard.primary.endpoint, Some(ep(A)));
    assert_eq!(
        shard
            .replicas
            .iter()
            .map(|r| r.endpoint.clone())
            .collect::<Vec<_>>(),
        vec![Some(ep(B))]
    );
}
