//! Scenario tests for commands that change a connection's state: refused on shared connections,
//! blocking commands on the dedicated pool, sessions (transactions), written-then-timed-out
//! requests. Two shards: A = :7000 serves slots 0-8191 ("bar" is slot 5061), B = :7001 serves
//! 8192-16383 ("foo" is slot 12182).

mod common;

use std::time::Duration;

use common::*;
use slotwise_cluster::{
    Config, ConnId, Frame, RedirectKind, Request, RequestError, RequestId, SessionId,
};

const A: &str = "127.0.0.1:7000";
const B: &str = "127.0.0.1:7001";
const FOO: u16 = 12182;

fn two_shards() -> Vec<u8> {
    shards_reply(&[(&[(0, 8191)], A, &[]), (&[(8192, 16383)], B, &[])])
}

fn ready(config: Config) -> (Script, ConnId, ConnId) {
    let mut s = Script::new(config);
    let a = s.bootstrap(A, &two_shards());
    let b = s.open(B);
    s.no_connect();
    (s, a, b)
}

fn submit_in(s: &mut Script, session: SessionId, args: &[&str]) -> RequestId {
    let id = s
        .cluster
        .submit_in(s.now, session, Request::new(args.iter().copied()));
    s.drain();
    id
}

fn open_session(s: &mut Script, slot: Option<u16>) -> SessionId {
    let id = s.cluster.open_session(s.now, slot);
    s.drain();
    id
}

fn close_session(s: &mut Script, session: SessionId) {
    s.cluster.close_session(s.now, session);
    s.drain();
}

#[test]
fn connection_state_commands_never_reach_a_shared_connection() {
    let (mut s, a, b) = ready(Script::config(A));
    for args in [
        &["SUBSCRIBE", "news"][..],
        &["SSUBSCRIBE", "foo"],
        &["PSUBSCRIBE", "n*"],
        &["UNSUBSCRIBE"],
        &["MULTI"],
        &["EXEC"],
        &["WATCH", "foo"],
        &["SELECT", "1"],
        &["CLIENT", "REPLY", "OFF"],
        &["CLIENT", "TRACKING", "ON"],
        &["MONITOR"],
        &["HELLO", "2"],
        &["RESET"],
    ] {
        let id = s.get(args);
        match s.reply_of(id) {
            Err(RequestError::ConnectionState { use_instead, .. }) => {
                assert!(!use_instead.is_empty())
            }
            other => panic!("{args:?}: {other:?}"),
        }
    }
    s.nothing_sent(a);
    s.nothing_sent(b);
    s.no_connect();
    // PUBLISH is fine anywhere.
    let publish = s.get(&["PUBLISH", "news", "hi"]);
    s.recv(a, ":0\r\n");
    s.recv(b, ":0\r\n");
    assert_eq!(s.reply_of(publish), Ok(Frame::Integer(0)));
}

#[test]
fn a_pubsub_push_on_a_shared_connection_closes_it() {
    let (mut s, _a, b) = ready(Script::config(A));
    let get = s.get(&["GET", "foo"]);
    let incr = s.get(&["INCR", "foo"]);
    s.expect_sent(b, &[&["GET", "foo"], &["INCR", "foo"]]);
    // A subscribe confirmation: the connection is in a state no request of ours put it in.
    s.recv(b, ">3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n");
    s.expect_closed(b);
    assert!(matches!(
        s.reply_of(incr),
        Err(RequestError::ConnectionLost {
            maybe_applied: true,
            ..
        })
    ));
    s.no_reply(get); // a read: retried on a new connection
    let b2 = s.open_after_backoff(B);
    s.expect_sent_besides_refresh(b2, &[&["GET", "foo"]]);
    s.recv(b2, "$1\r\nv\r\n");
    assert_eq!(s.reply_of(get), Ok(Frame::BulkString("v".into())));
}

#[test]
fn queued_outside_a_transaction_closes_the_connection() {
    let (mut s, _a, b) = ready(Script::config(A));
    // A write that may not run twice (a SET would be retried: the core knows it is idempotent).
    let incr = s.get(&["INCR", "foo"]);
    let get = s.get(&["GET", "foo"]);
    s.expect_sent(b, &[&["INCR", "foo"], &["GET", "foo"]]);
    s.recv(b, "+QUEUED\r\n");
    s.expect_closed(b);
    // Never delivered as a reply: the write may have been queued in a MULTI we did not send.
    assert!(matches!(
        s.reply_of(incr),
        Err(RequestError::ConnectionLost {
            maybe_applied: true,
            ..
        })
    ));
    s.no_reply(get);
}

#[test]
fn blocking_commands_run_on_the_pool_and_never_delay_the_shared_connection() {
    let (mut s, _a, b) = ready(Script::config(A));
    let pop = s.get(&["BLPOP", "foo", "5"]);
    let d = s.open(B);
    s.expect_sent(d, &[&["BLPOP", "foo", "5"]]);
    // The shared connection carries on.
    let get = s.get(&["GET", "foo"]);
    s.expect_sent(b, &[&["GET", "foo"]]);
    s.recv(b, "$1\r\nv\r\n");
    assert_eq!(s.reply_of(get), Ok(Frame::BulkString("v".into())));
    s.no_reply(pop);
    s.recv(d, "*2\r\n$3\r\nfoo\r\n$1\r\nx\r\n");
    assert!(matches!(s.reply_of(pop), Ok(Frame::Array(_))));
    // The connection went back to the pool: the next blocking command reuses it.
    let pop2 = s.get(&["BRPOP", "foo", "1"]);
    s.no_connect();
    s.expect_sent(d, &[&["BRPOP", "foo", "1"]]);
    s.recv(d, "*-1\r\n");
    assert_eq!(s.reply_of(pop2), Ok(Frame::NullArray));
}

#[test]
fn the_pool_is_bounded_and_waiters_take_turns() {
    let mut config = Script::config(A);
    config.dedicated_pool = 1;
    let (mut s, _a, _b) = ready(config);
    let first = s.get(&["BLPOP", "foo", "0"]);
    let second = s.get(&["BLPOP", "{foo}2", "0"]);
    let d = s.open(B);
    s.no_connect();
    s.expect_sent(d, &[&["BLPOP", "foo", "0"]]);
    s.recv(d, "*2\r\n$3\r\nfoo\r\n$1\r\nx\r\n");
    assert!(s.reply_of(first).is_ok());
    s.expect_sent(d, &[&["BLPOP", "{foo}2", "0"]]);
    s.no_reply(second);
}

#[test]
fn cancelling_a_blocking_command_closes_its_connection_only() {
    let (mut s, _a, b) = ready(Script::config(A));
    let pop = s.get(&["BLPOP", "foo", "0"]);
    let d = s.open(B);
    s.expect_sent(d, &[&["BLPOP", "foo", "0"]]);
    s.cluster.cancel(s.now, pop);
    s.drain();
    assert_eq!(s.reply_of(pop), Err(RequestError::Cancelled));
    s.expect_closed(d);
    // Not a failure of the node: the shared connection is untouched.
    let get = s.get(&["GET", "foo"]);
    s.expect_sent(b, &[&["GET", "foo"]]);
    s.recv(b, "$1\r\nv\r\n");
    assert!(s.reply_of(get).is_ok());
    assert_eq!(s.cluster.stats().connection_failures, 0);
    // Cancelling a request that does not block does nothing.
    let get = s.get(&["GET", "foo"]);
    s.cluster.cancel(s.now, get);
    s.drain();
    s.no_reply(get);
}

#[test]
fn a_written_write_that_times_out_says_it_may_have_run() {
    let (mut s, _a, b) = ready(Script::config(A));
    let incr = s.submit(Request::new(["INCR", "foo"]).timeout(Duration::from_millis(5)));
    s.expect_sent(b, &[&["INCR", "foo"]]);
    s.advance(Duration::from_millis(5));
    let timeout = s.reply_of(incr).unwrap_err();
    assert!(matches!(
        timeout,
        RequestError::Timeout { written: true, .. }
    ));
    assert!(timeout.maybe_applied());
    assert!(timeout.to_string().contains("may have been applied"));
    assert_eq!(s.cluster.stats().maybe_applied, 1);
}

#[test]
fn a_transaction_runs_on_a_session_connection_and_gives_it_back() {
    let (mut s, _a, b) = ready(Script::config(A));
    let tx = open_session(&mut s, Some(FOO));
    s.no_connect(); // nothing until the first command
    let watch = submit_in(&mut s, tx, &["WATCH", "foo"]);
    let d = s.open(B);
    s.expect_sent(d, &[&["WATCH", "foo"]]);
    s.recv(d, "+OK\r\n");
    assert_eq!(s.reply_of(watch), Ok(ok("OK")));
    let get = submit_in(&mut s, tx, &["GET", "foo"]);
    s.expect_sent(d, &[&["GET", "foo"]]);
    s.recv(d, "$1\r\n1\r\n");
    assert!(s.reply_of(get).is_ok());
    let multi = submit_in(&mut s, tx, &["MULTI"]);
    let set = submit_in(&mut s, tx, &["SET", "foo", "2"]);
    let incr = submit_in(&mut s, tx, &["INCR", "{foo}n"]);
    let exec = submit_in(&mut s, tx, &["EXEC"]);
    s.expect_sent(
        d,
        &[
            &["MULTI"],
            &["SET", "foo", "2"],
            &["INCR", "{foo}n"],
            &["EXEC"],
        ],
    );
    s.nothing_sent(b);
    s.recv(d, "+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n+OK\r\n:1\r\n");
    assert_eq!(s.reply_of(multi), Ok(ok("OK")));
    assert_eq!(s.reply_of(set), Ok(ok("QUEUED")));
    assert_eq!(s.reply_of(incr), Ok(ok("QUEUED")));
    assert_eq!(
        s.reply_of(exec),
        Ok(Frame::Array(vec![ok("OK"), Frame::Integer(1)]))
    );
    // EXEC ended the transaction and its WATCH: nothing to reset; the connection is reused.
    close_session(&mut s, tx);
    s.nothing_sent(d);
    assert_eq!(s.cluster.sessions_open(), 0);
    let tx2 = open_session(&mut s, Some(FOO));
    let get = submit_in(&mut s, tx2, &["GET", "foo"]);
    s.no_connect();
    s.expect_sent(d, &[&["GET", "foo"]]);
    s.recv(d, "$1\r\n2\r\n");
    assert!(s.reply_of(get).is_ok());
    // Keys of another slot, and commands sessions do not carry, are refused.
    let other = submit_in(&mut s, tx2, &["GET", "bar"]);
    assert_eq!(s.reply_of(other), Err(RequestError::CrossSlot));
    let sub = submit_in(&mut s, tx2, &["SUBSCRIBE", "x"]);
    assert!(matches!(
        s.reply_of(sub),
        Err(RequestError::ConnectionState { .. })
    ));
}

#[test]
fn a_watch_abort_is_a_null_exec() {
    let (mut s, _a, _b) = ready(Script::config(A));
    let tx = open_session(&mut s, Some(FOO));
    let _ = submit_in(&mut s, tx, &["WATCH", "foo"]);
    let d = s.open(B);
    let _ = submit_in(&mut s, tx, &["MULTI"]);
    let _ = submit_in(&mut s, tx, &["SET", "foo", "2"]);
    let exec = submit_in(&mut s, tx, &["EXEC"]);
    s.expect_sent(
        d,
        &[
            &["WATCH", "foo"],
            &["MULTI"],
            &["SET", "foo", "2"],
            &["EXEC"],
        ],
    );
    s.recv(d, "+OK\r\n+OK\r\n+QUEUED\r\n_\r\n");
    assert_eq!(s.reply_of(exec), Ok(Frame::Null));
}

#[test]
fn transaction_misuse_is_refused_before_the_server() {
    let (mut s, _a, _b) = ready(Script::config(A));
    let tx = open_session(&mut s, Some(FOO));
    for args in [&["EXEC"][..], &["DISCARD"]] {
        let id = submit_in(&mut s, tx, args);
        assert!(matches!(
            s.reply_of(id),
            Err(RequestError::Transaction { .. })
        ));
    }
    let multi = submit_in(&mut s, tx, &["MULTI"]);
    let d = s.open(B);
    for args in [&["MULTI"][..], &["WATCH", "foo"]] {
        let id = submit_in(&mut s, tx, args);
        assert!(matches!(
            s.reply_of(id),
            Err(RequestError::Transaction { .. })
        ));
    }
    // A command that fails before reaching the server turns the EXEC into a DISCARD.
    let cross = submit_in(&mut s, tx, &["GET", "bar"]);
    assert_eq!(s.reply_of(cross), Err(RequestError::CrossSlot));
    let set = submit_in(&mut s, tx, &["SET", "foo", "1"]);
    let exec = submit_in(&mut s, tx, &["EXEC"]);
    s.expect_sent(d, &[&["MULTI"], &["SET", "foo", "1"], &["DISCARD"]]);
    s.recv(d, "+OK\r\n+QUEUED\r\n+OK\r\n");
    assert!(s.reply_of(multi).is_ok());
    assert!(s.reply_of(set).is_ok());
    assert!(matches!(
        s.reply_of(exec),
        Err(RequestError::TransactionAborted { .. })
    ));
}

#[test]
fn closing_inside_multi_discards_before_the_connection_is_reused() {
    let (mut s, _a, _b) = ready(Script::config(A));
    let tx = open_session(&mut s, Some(FOO));
    let _ = submit_in(&mut s, tx, &["WATCH", "foo"]);
    let d = s.open(B);
    let _ = submit_in(&mut s, tx, &["MULTI"]);
    let _ = submit_in(&mut s, tx, &["SET", "foo", "1"]);
    close_session(&mut s, tx);
    s.expect_sent(
        d,
        &[
            &["WATCH", "foo"],
            &["MULTI"],
            &["SET", "foo", "1"],
            &["DISCARD"],
            &["UNWATCH"],
        ],
    );
    // Until the resets are answered, the connection is not handed to anyone.
    let pop = s.get(&["BLPOP", "foo", "1"]);
    let d2 = s.open(B);
    s.expect_sent(d2, &[&["BLPOP", "foo", "1"]]);
    s.recv(d, "+OK\r\n+OK\r\n+QUEUED\r\n+OK\r\n+OK\r\n");
    assert_eq!(s.cluster.sessions_open(), 0);
    s.recv(d2, "*-1\r\n");
    assert!(s.reply_of(pop).is_ok());
    // Both are idle in the pool now; the next blocking command takes one of them.
    let _ = s.get(&["BLPOP", "foo", "1"]);
    s.no_connect();
}

#[test]
fn a_session_follows_moved_before_anything_ran_and_reports_it_after() {
    let (mut s, a, _b) = ready(Script::config(A));
    let tx = open_session(&mut s, Some(FOO));
    let watch = submit_in(&mut s, tx, &["WATCH", "foo"]);
    let d = s.open(B);
    s.expect_sent(d, &[&["WATCH", "foo"]]);
    // The slot moved to A: nothing of the session ran, so the session moves there.
    s.recv(d, "-MOVED 12182 127.0.0.1:7000\r\n");
    let da = s.open(A);
    s.expect_sent(da, &[&["WATCH", "foo"]]);
    s.recv(da, "+OK\r\n");
    assert_eq!(s.reply_of(watch), Ok(ok("OK")));
    // Now it has state: a later MOVED is the caller's to handle (re-run the transaction).
    let get = submit_in(&mut s, tx, &["GET", "foo"]);
    s.expect_sent(da, &[&["GET", "foo"]]);
    s.recv(da, "-MOVED 12182 127.0.0.1:7001\r\n");
    assert_eq!(
        s.reply_of(get),
        Err(RequestError::SlotMoved {
            slot: FOO,
            to: ep(B),
            kind: RedirectKind::Moved
        })
    );
    let _ = a;
}

#[test]
fn a_lost_session_connection_is_honest_about_exec() {
    let (mut s, _a, _b) = ready(Script::config(A));
    let tx = open_session(&mut s, Some(FOO));
    let multi = submit_in(&mut s, tx, &["MULTI"]);
    let d = s.open(B);
    let set = submit_in(&mut s, tx, &["SET", "foo", "1"]);
    let exec = submit_in(&mut s, tx, &["EXEC"]);
    s.expect_sent(d, &[&["MULTI"], &["SET", "foo", "1"], &["EXEC"]]);
    s.close(d);
    let lost = |e: &Result<Frame, RequestError>| match e {
        Err(RequestError::ConnectionLost { maybe_applied, .. }) => *maybe_applied,
        other => panic!("{other:?}"),
    };
    assert!(!lost(&s.reply_of(multi)));
    assert!(
        !lost(&s.reply_of(set)),
        "queued inside MULTI: runs only with EXEC"
    );
    assert!(lost(&s.reply_of(exec)), "EXEC was written: it may have run");
    let after = submit_in(&mut s, tx, &["GET", "foo"]);
    assert!(matches!(
        s.reply_of(after),
        Err(RequestError::SessionEnded { .. })
    ));
}

#[test]
fn a_session_request_that_never_reached_the_server_ends_the_session() {
    let (mut s, _a, _b) = ready(Script::config(A));
    let tx = open_session(&mut s, Some(FOO));
    let multi = s.cluster.submit_in(
        s.now,
        tx,
        Request::new(["MULTI"]).timeout(Duration::from_millis(5)),
    );
    s.drain();
    let set = submit_in(&mut s, tx, &["SET", "foo", "1"]);
    let _pending = s.expect_connect_pending(B); // never connects
    s.advance(Duration::from_millis(5));
    assert!(matches!(
        s.reply_of(multi),
        Err(RequestError::Timeout { written: false, .. })
    ));
    // Without its MULTI the SET would run on its own: it must not be sent.
    assert!(matches!(
        s.reply_of(set),
        Err(RequestError::SessionEnded { .. })
    ));
}

#[test]
fn a_huge_transaction_is_bounded() {
    let mut config = Script::config(A);
    config.queue_bound = 100;
    let (mut s, _a, _b) = ready(config);
    let tx = open_session(&mut s, Some(FOO));
    let _ = submit_in(&mut s, tx, &["MULTI"]);
    let mut refused = 0;
    for i in 0..1_000 {
        let id = submit_in(&mut s, tx, &["SET", "foo", &i.to_string()]);
        if let Some((_, Err(RequestError::QueueFull { .. }))) =
            s.replies.iter().find(|(r, _)| *r == id)
        {
            refused += 1;
        }
    }
    assert_eq!(refused, 901);
    let exec = submit_in(&mut s, tx, &["EXEC"]);
    let d = s.open(B);
    let sent = s.sent_on(d);
    assert_eq!(sent.len(), 101);
    assert!(
        sent.last().unwrap().contains("DISCARD"),
        "{:?}",
        sent.last()
    );
    let _ = exec;
}

#[test]
fn a_reset_answered_queued_closes_the_connection_instead_of_pooling_it() {
    let (mut s, _a, _b) = ready(Script::config(A));
    let tx = open_session(&mut s, Some(FOO));
    let _ = submit_in(&mut s, tx, &["WATCH", "foo"]);
    let d = s.open(B);
    s.expect_sent(d, &[&["WATCH", "foo"]]);
    s.recv(d, "+OK\r\n");
    close_session(&mut s, tx);
    s.expect_sent(d, &[&["UNWATCH"]]);
    // The server queued the UNWATCH: it is inside a MULTI nobody knows of.
    s.recv(d, "+QUEUED\r\n");
    s.expect_closed(d);
    // So the next blocking command gets a fresh connection (after the node's backoff), not
    // that one.
    let _ = s.get(&["BLPOP", "foo", "1"]);
    s.nothing_sent(d);
    let d2 = s.open_after_backoff(B);
    assert_ne!(d2, d);
    s.expect_sent_besides_refresh(d2, &[&["BLPOP", "foo", "1"]]);
}
