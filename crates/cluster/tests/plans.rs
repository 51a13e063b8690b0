//! Request plans, scripted: fan-out by the command's tips, multi-key split by slot, a route to one
//! node, and cluster-wide `SCAN`. Two shards: A = :7000 serves 0-8191 ("bar" 5061, "k2" 449),
//! B = :7001 serves 8192-16383 ("foo" 12182); node ids are the port, zero-padded to 40.

mod common;

use std::time::Duration;

use common::*;
use slotwise_cluster::{Frame, Request, RequestError, Target};

const A: &str = "127.0.0.1:7000";
const B: &str = "127.0.0.1:7001";

fn ready() -> (Script, slotwise_cluster::ConnId, slotwise_cluster::ConnId) {
    let mut s = Script::new(Script::config(A));
    let shards = shards_reply(&[(&[(0, 8191)], A, &[]), (&[(8192, 16383)], B, &[])]);
    let a = s.bootstrap(A, &shards);
    let b = s.open(B);
    (s, a, b)
}

fn bulk(s: &str) -> Frame {
    Frame::BulkString(s.as_bytes().to_vec().into())
}

fn id_of(port: u16) -> String {
    format!("{port:0>40}")
}

/// A node's own CLUSTER NODES line (plus the other's), as a RESP bulk string.
fn nodes_reply(me: u16, my_slots: &str, other: u16, other_slots: &str) -> String {
    let text = format!(
        "{} 127.0.0.1:{me}@1{me} myself,master - 0 0 1 connected {my_slots}\n\
         {} 127.0.0.1:{other}@1{other} master - 0 0 2 connected {other_slots}\n",
        id_of(me),
        id_of(other)
    );
    format!("${}\r\n{text}\r\n", text.len())
}

#[test]
fn mget_and_del_split_by_slot_and_join_in_key_order() {
    let (mut s, a, b) = ready();
    let mget = s.get(&["MGET", "foo", "bar", "k2"]);
    // One command per slot, each to its node, written in the same batch.
    s.expect_sent(a, &[&["MGET", "bar"], &["MGET", "k2"]]);
    s.expect_sent(b, &[&["MGET", "foo"]]);
    s.recv(a, "*1\r\n$1\r\n2\r\n*1\r\n$-1\r\n");
    s.no_reply(mget);
    s.recv(b, "*1\r\n$1\r\n1\r\n");
    assert_eq!(
        s.reply_of(mget),
        Ok(Frame::Array(vec![bulk("1"), bulk("2"), Frame::NullBulk]))
    );

    let del = s.get(&["DEL", "foo", "bar", "k2"]);
    s.expect_sent(a, &[&["DEL", "bar"], &["DEL", "k2"]]);
    s.expect_sent(b, &[&["DEL", "foo"]]);
    s.recv(a, ":1\r\n:0\r\n");
    s.recv(b, ":1\r\n");
    assert_eq!(s.reply_of(del), Ok(Frame::Integer(2)));

    let mset = s.get(&["MSET", "foo", "1", "bar", "2"]);
    s.expect_sent(a, &[&["MSET", "bar", "2"]]);
    s.expect_sent(b, &[&["MSET", "foo", "1"]]);
    s.recv(a, "+OK\r\n");
    s.recv(b, "+OK\r\n");
    assert_eq!(s.reply_of(mset), Ok(ok("OK")));

    // All-or-nothing and non-splittable commands stay refused.
    for refused in [
        &["MSETNX", "foo", "1", "bar", "2"][..],
        &["RENAME", "foo", "bar"],
    ] {
        let id = s.get(refused);
        assert_eq!(s.reply_of(id), Err(RequestError::CrossSlot), "{refused:?}");
    }
    s.nothing_sent(a);
    s.nothing_sent(b);
}

#[test]
fn a_redirected_part_follows_its_moved_alone() {
    let (mut s, a, b) = ready();
    let mget = s.get(&["MGET", "foo", "bar"]);
    s.expect_sent(a, &[&["MGET", "bar"]]);
    s.expect_sent(b, &[&["MGET", "foo"]]);
    s.recv(b, "*1\r\n$1\r\n1\r\n");
    // bar's slot moved to B: only that part is sent again.
    s.recv(a, "-MOVED 5061 127.0.0.1:7001\r\n");
    s.expect_sent_besides_refresh(b, &[&["MGET", "bar"]]);
    s.recv(b, "*1\r\n$1\r\n2\r\n");
    assert_eq!(
        s.reply_of(mget),
        Ok(Frame::Array(vec![bulk("1"), bulk("2")]))
    );
}

#[test]
fn fan_out_follows_the_response_policy() {
    let (mut s, a, b) = ready();
    let dbsize = s.get(&["DBSIZE"]);
    s.expect_sent(a, &[&["DBSIZE"]]);
    s.expect_sent(b, &[&["DBSIZE"]]);
    s.recv(a, ":5\r\n");
    s.recv(b, ":7\r\n");
    assert_eq!(s.reply_of(dbsize), Ok(Frame::Integer(12)));

    let keys = s.get(&["KEYS", "*"]);
    s.recv(a, "*1\r\n$3\r\nbar\r\n");
    s.recv(b, "*2\r\n$3\r\nfoo\r\n$1\r\nx\r\n");
    s.sent_on(a);
    s.sent_on(b);
    assert_eq!(
        s.reply_of(keys),
        Ok(Frame::Array(vec![bulk("bar"), bulk("foo"), bulk("x")]))
    );

    let load = s.get(&["SCRIPT", "LOAD", "return 1"]);
    s.expect_sent(a, &[&["SCRIPT", "LOAD", "return 1"]]);
    s.expect_sent(b, &[&["SCRIPT", "LOAD", "return 1"]]);
    s.recv(a, "$3\r\nabc\r\n");
    s.recv(b, "$3\r\nabd\r\n");
    assert!(matches!(
        s.reply_of(load),
        Err(RequestError::Disagreement { .. })
    ));

    let flush = s.get(&["FLUSHALL"]);
    s.recv(a, "+OK\r\n");
    s.recv(b, "-ERR nope\r\n");
    s.sent_on(a);
    s.sent_on(b);
    assert_eq!(s.reply_of(flush), Ok(Frame::SimpleError("ERR nope".into())));

    let info = s.get(&["INFO", "server"]);
    s.recv(a, "$1\r\na\r\n");
    s.recv(b, "$1\r\nb\r\n");
    s.sent_on(a);
    s.sent_on(b);
    assert_eq!(
        s.reply_of(info),
        Ok(Frame::Map(vec![(bulk(A), bulk("a")), (bulk(B), bulk("b"))]))
    );

    // PING is answered by one node.
    let ping = s.get(&["PING"]);
    let sent = s.sent_on(a).len() + s.sent_on(b).len();
    assert_eq!(sent, 1);
    let _ = ping;
}

#[test]
fn a_part_that_fails_makes_a_typed_partial_failure_naming_the_node() {
    let (mut s, a, b) = ready();
    let id = s.submit(Request::new(["DBSIZE"]).timeout(Duration::from_secs(1)));
    s.expect_sent(a, &[&["DBSIZE"]]);
    s.expect_sent(b, &[&["DBSIZE"]]);
    s.recv(a, ":5\r\n");
    s.advance(Duration::from_secs(2));
    match s.reply_of(id) {
        Err(RequestError::Partial {
            failed,
            parts: 2,
            maybe_applied: false,
        }) => {
            assert_eq!(failed.len(), 1);
            assert_eq!(failed[0].node, Some(ep(B)));
            assert!(matches!(failed[0].error, RequestError::Timeout { .. }));
        }
        other => panic!("{other:?}"),
    }
    // A write split over slots that fails on one: it may have applied on the other.
    let id = s.submit(Request::new(["DEL", "foo", "bar"]).timeout(Duration::from_secs(1)));
    s.recv(a, ":1\r\n");
    s.advance(Duration::from_secs(2));
    let e = s.reply_of(id).unwrap_err();
    assert!(e.maybe_applied(), "{e}");
    assert!(e.to_string().contains(B), "{e}");
}

#[test]
fn a_route_to_one_node() {
    let (mut s, a, b) = ready();
    let id = s
        .cluster
        .submit_to(s.now, Request::new(["GET", "bar"]), Target::Node(ep(B)));
    s.drain();
    s.expect_sent(b, &[&["GET", "bar"]]);
    s.nothing_sent(a);
    // The node was the caller's choice: its MOVED is the reply.
    s.recv(b, "-MOVED 5061 127.0.0.1:7000\r\n");
    assert_eq!(
        s.reply_of(id),
        Ok(Frame::SimpleError("MOVED 5061 127.0.0.1:7000".into()))
    );
    let id = s
        .cluster
        .submit_to(s.now, Request::new(["DBSIZE"]), Target::NodeId(id_of(7000)));
    s.drain();
    s.expect_sent(a, &[&["DBSIZE"]]);
    s.recv(a, ":3\r\n");
    assert_eq!(s.reply_of(id), Ok(Frame::Integer(3)));
    let id = s
        .cluster
        .submit_to(s.now, Request::new(["PING"]), Target::SlotPrimary(12182));
    s.drain();
    s.expect_sent(b, &[&["PING"]]);
    s.recv(b, "+PONG\r\n");
    assert_eq!(s.reply_of(id), Ok(ok("PONG")));
    for unknown in [
        Target::Node(ep("127.0.0.1:7999")),
        Target::NodeId("nope".into()),
    ] {
        let id = s.cluster.submit_to(s.now, Request::new(["PING"]), unknown);
        s.drain();
        assert!(matches!(
            s.reply_of(id),
            Err(RequestError::UnknownNode { .. })
        ));
    }
    let t = s.cluster.topology().expect("a topology");
    assert_eq!(t.shards().len(), 2);
}

fn scan_step(s: &mut Script, cursor: &[u8]) -> (Vec<u8>, Frame) {
    let id = s.submit(Request::new([&b"SCAN"[..], cursor, b"COUNT", b"10"]));
    let Some(mut parts) = array(s.reply_of(id)) else {
        panic!("not a SCAN reply");
    };
    let keys = parts.pop().unwrap();
    let last = parts.pop();
    let Some(Frame::BulkString(cursor)) = &last else {
        panic!("no cursor");
    };
    (cursor.to_vec(), keys)
}

#[test]
fn scan_walks_every_shard_and_redoes_slots_that_moved() {
    let (mut s, a, b) = ready();
    let id = s.submit(Request::new(["SCAN", "0", "COUNT", "10"]));
    // The walk starts on the owner of slot 0, with the node's own cursor.
    s.expect_sent(a, &[&["SCAN", "0", "COUNT", "10"]]);
    s.recv(a, "*2\r\n$2\r\n17\r\n*1\r\n$3\r\nbar\r\n");
    let Some(parts) = array(s.reply_of(id)) else {
        panic!()
    };
    let Frame::BulkString(cursor) = &parts[0] else {
        panic!()
    };
    assert_ne!(&cursor[..], b"0");
    let cursor = cursor.to_vec();

    // A's walk ends; its CLUSTER NODES says slot 100 is migrating: that slot is not done.
    let id = s.submit(Request::new([&b"SCAN"[..], &cursor, b"COUNT", b"10"]));
    s.expect_sent(a, &[&["SCAN", "17", "COUNT", "10"]]);
    s.recv(a, "*2\r\n$1\r\n0\r\n*1\r\n$2\r\nk2\r\n");
    s.expect_sent(a, &[&["CLUSTER", "NODES"]]);
    let migrating = format!("0-8191 [100->-{}]", id_of(7001));
    s.recv(a, &nodes_reply(7000, &migrating, 7001, "8192-16383"));
    let Some(parts) = array(s.reply_of(id)) else {
        panic!()
    };
    assert_eq!(parts[1], Frame::Array(vec![bulk("k2")]));
    let Frame::BulkString(cursor) = &parts[0] else {
        panic!()
    };
    let cursor = cursor.to_vec();

    // B next (slot 100 may settle meanwhile), then back to A for slot 100, from A's cursor 0.
    let id = s.submit(Request::new([&b"SCAN"[..], &cursor, b"COUNT", b"10"]));
    s.expect_sent_besides_refresh(b, &[&["SCAN", "0", "COUNT", "10"]]);
    s.recv(b, "*2\r\n$1\r\n0\r\n*1\r\n$3\r\nfoo\r\n");
    s.expect_sent_besides_refresh(b, &[&["CLUSTER", "NODES"]]);
    s.recv(b, &nodes_reply(7001, "8192-16383", 7000, "0-8191"));
    let Some(parts) = array(s.reply_of(id)) else {
        panic!()
    };
    assert_eq!(parts[1], Frame::Array(vec![bulk("foo")]));
    let Frame::BulkString(cursor) = &parts[0] else {
        panic!()
    };
    assert_ne!(&cursor[..], b"0", "slot 100 is not done");
    let cursor = cursor.to_vec();

    let id = s.submit(Request::new([&b"SCAN"[..], &cursor, b"COUNT", b"10"]));
    s.expect_sent_besides_refresh(a, &[&["SCAN", "0", "COUNT", "10"]]);
    s.recv(a, "*2\r\n$1\r\n0\r\n*1\r\n$3\r\nbar\r\n");
    s.expect_sent_besides_refresh(a, &[&["CLUSTER", "NODES"]]);
    s.recv(a, &nodes_reply(7000, "0-8191", 7001, "8192-16383"));
    // Every slot done: the cursor is 0 again.
    assert_eq!(
        s.reply_of(id),
        Ok(Frame::Array(vec![
            bulk("0"),
            Frame::Array(vec![bulk("bar")])
        ]))
    );
}

#[test]
fn scan_refuses_mangled_cursors_and_cursors_of_another_cluster() {
    let (mut s, a, _b) = ready();
    for bad in [&b"12"[..], b"zz", b"00ff00ff"] {
        let id = s.submit(Request::new([&b"SCAN"[..], bad]));
        assert!(
            matches!(s.reply_of(id), Err(RequestError::InvalidCursor { .. })),
            "{bad:?}"
        );
    }
    // A cursor made by a client of another cluster (other node ids).
    let mut other = Script::new(Script::config("127.0.0.1:7100"));
    let shards = shards_reply(&[(&[(0, 16383)], "127.0.0.1:7100", &[])]);
    let c = other.bootstrap("127.0.0.1:7100", &shards);
    let id = other.submit(Request::new(["SCAN", "0"]));
    other.expect_sent(c, &[&["SCAN", "0"]]);
    other.recv(c, "*2\r\n$1\r\n5\r\n*0\r\n");
    let Some(parts) = array(other.reply_of(id)) else {
        panic!()
    };
    let Frame::BulkString(foreign) = &parts[0] else {
        panic!()
    };
    let id = s.submit(Request::new([&b"SCAN"[..], foreign]));
    let e = s.reply_of(id).unwrap_err();
    assert!(matches!(e, RequestError::InvalidCursor { .. }), "{e}");
    s.nothing_sent(a);
    let _ = scan_step;
}

#[test]
fn scan_starts_the_slots_over_on_the_new_primary_after_a_failover() {
    let (mut s, a, b) = ready();
    let (cursor, _) = {
        let id = s.submit(Request::new(["SCAN", "0"]));
        s.expect_sent(a, &[&["SCAN", "0"]]);
        s.recv(a, "*2\r\n$1\r\n9\r\n*0\r\n");
        let Some(mut parts) = array(s.reply_of(id)) else {
            panic!()
        };
        let keys = parts.pop().unwrap();
        let last = parts.pop();
        let Some(Frame::BulkString(c)) = &last else {
            panic!()
        };
        (c.to_vec(), keys)
    };
    // B took over A's slots (A failed over to a replica that lives at B, say): A is no primary.
    s.cluster
        .submit_to(s.now, Request::new(["PING"]), Target::Node(ep(A)));
    s.drain();
    s.recv(a, "+PONG\r\n");
    s.sent_on(a);
    let shards = shards_reply(&[(&[(0, 16383)], B, &[A])]);
    // Trigger a refresh through a MOVED and answer it with the new topology.
    let get = s.get(&["GET", "bar"]);
    s.expect_sent(a, &[&["GET", "bar"]]);
    s.recv(a, "-MOVED 5061 127.0.0.1:7001\r\n");
    let sent = s.sent_on(b).concat();
    assert!(sent.contains("GET"), "{sent}");
    s.recv(b, "$1\r\nv\r\n");
    let _ = s.reply_of(get);
    // The refresh the MOVED asked for goes out once the minimum interval has passed.
    s.advance(Duration::from_secs(5));
    let (on_a, on_b) = (s.sent_on(a).concat(), s.sent_on(b).concat());
    assert!(
        on_a.contains("SHARDS") || on_b.contains("SHARDS"),
        "{on_a:?} {on_b:?}"
    );
    for (conn, sent) in [(a, on_a), (b, on_b)] {
        if sent.contains("SHARDS") {
            s.recv_bytes(conn, &shards);
        }
    }
    assert_eq!(s.cluster.topology().map(|t| t.shards().len()), Some(1));
    let id = s.submit(Request::new([&b"SCAN"[..], &cursor]));
    s.expect_sent(b, &[&["SCAN", "0"]]);
    s.recv(b, "*2\r\n$1\r\n0\r\n*0\r\n");
    s.expect_sent(b, &[&["CLUSTER", "NODES"]]);
    s.recv(b, &nodes_reply(7001, "0-16383", 7000, ""));
    let reply = s.reply_of(id).unwrap();
    assert_eq!(reply, Frame::Array(vec![bulk("0"), Frame::Array(vec![])]));
}

/// The elements of an array reply; `None` for anything else.
fn array<E>(reply: Result<Frame, E>) -> Option<Vec<Frame>> {
    reply
        .ok()
        .filter(|f| matches!(f, Frame::Array(_)))
        .and_then(|f| f.into_items().ok())
}
