//! `Transaction` and `Handle::transaction` on the in-memory runtime: what each step sends, how
//! the helper re-runs after a WATCH abort or a slot move, and that it never re-runs after an
//! ambiguous EXEC.

mod support;

use slotwise_client::prelude::*;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

use futures_lite::future::block_on;
use slotwise_client::{Error, Frame, Request, RequestError};
use support::{Memory, config, eventually, keys_of, port};

/// How many writes the client made on connections to `port`.
fn commands_to(memory: &Memory, port: u16) -> usize {
    memory
        .world()
        .conns
        .iter()
        .filter(|p| p.port == port)
        .map(|p| p.writes.len())
        .sum()
}

#[test]
fn a_transaction_runs_watch_multi_exec_on_one_connection_of_its_own() {
    let memory = Memory::new(2);
    let client = memory.client(config()).expect("connects");
    let key = keys_of(&memory, 1, 1).remove(0);
    block_on(client.send(Request::new(["SET", key.as_str(), "1"]))).expect("SET");
    let shared_before = memory.connects_to(port(1));
    let tx = client.session(&key);
    block_on(tx.watch([key.as_str()])).expect("WATCH");
    let now: i64 = block_on(tx.query(["GET", key.as_str()])).expect("GET");
    block_on(tx.multi()).expect("MULTI");
    tx.queue(["SET", key.as_str(), &(now + 1).to_string()])
        .queue(["INCR", key.as_str()]);
    let replies = block_on(tx.exec()).expect("EXEC").expect("not aborted");
    assert_eq!(
        replies,
        vec![Frame::SimpleString("OK".into()), Frame::Integer(3)]
    );
    // One new connection (the session's), next to the node's shared one.
    assert_eq!(memory.connects_to(port(1)), shared_before + 1);
    drop(tx);
    // Back in the pool: the next session reuses it.
    let tx = client.session(&key);
    assert_eq!(
        block_on(tx.cmd(["GET", key.as_str()])).expect("GET"),
        Frame::BulkString("3".into())
    );
    assert_eq!(memory.connects_to(port(1)), shared_before + 1);
    drop(tx);
    block_on(client.shutdown());
}

#[test]
fn the_helper_reruns_the_body_after_a_watch_abort() {
    let memory = Memory::new(2);
    let client = memory.client(config()).expect("connects");
    let key = keys_of(&memory, 0, 1).remove(0);
    memory.world().model.write(&key, b"0");
    let attempts = AtomicU32::new(0);
    let value: i64 = block_on(client.transaction([key.as_str()], |tx| {
        let attempt = attempts.fetch_add(1, Ordering::SeqCst) + 1;
        let (memory, key) = (memory.clone(), key.clone());
        async move {
            let now: i64 = tx.query(["GET", key.as_str()]).await?;
            if attempt == 1 {
                // Another client writes the watched key before our EXEC.
                memory.world().model.write(&key, b"100");
            }
            tx.multi().await?;
            tx.queue(["SET", key.as_str(), &(now + 1).to_string()]);
            Ok(tx.exec().await?.map(|_| now + 1))
        }
    }))
    .expect("transaction");
    assert_eq!((value, attempts.load(Ordering::SeqCst)), (101, 2));
    assert_eq!(memory.world().model.data[&key], b"101");
    block_on(client.shutdown());
}

#[test]
fn the_helper_follows_a_slot_that_moved_under_the_transaction() {
    let memory = Memory::new(2);
    let client = memory.client(config()).expect("connects");
    let key = keys_of(&memory, 0, 1).remove(0);
    let slot = usize::from(slotwise_slot::key_slot(key.as_bytes()).get());
    memory.world().model.write(&key, b"5");
    let attempts = AtomicU32::new(0);
    let value: i64 = block_on(client.transaction([key.as_str()], |tx| {
        let attempt = attempts.fetch_add(1, Ordering::SeqCst) + 1;
        let (memory, key) = (memory.clone(), key.clone());
        async move {
            if attempt == 1 {
                // The WATCH ran on shard 0; now the slot moves to shard 1: the GET gets MOVED.
                memory.world().model.owner[slot] = 1;
            }
            let now: i64 = tx.query(["GET", key.as_str()]).await?;
            tx.multi().await?;
            tx.queue(["SET", key.as_str(), &(now + 1).to_string()]);
            Ok(tx.exec().await?.map(|_| now + 1))
        }
    }))
    .expect("transaction");
    // The second attempt ran on the slot's new node (the model keeps one keyspace, so the key is
    // there), and the first one left nothing behind.
    assert_eq!(attempts.load(Ordering::SeqCst), 2);
    assert_eq!(value, 6);
    assert_eq!(memory.world().model.data[&key], b"6");
    assert!(commands_to(&memory, port(1)) > 0);
    block_on(client.shutdown());
}

#[test]
fn the_helper_never_reruns_after_an_ambiguous_exec() {
    let memory = Memory::new(2);
    let client = memory.client(config()).expect("connects");
    let key = keys_of(&memory, 1, 1).remove(0);
    // The node's shared connection is up first, so the session's is the newest to that node.
    block_on(client.get(&key)).expect("GET");
    let runs = Mutex::new(0);
    let result: Result<i64, Error> = block_on(client.transaction([key.as_str()], |tx| {
        *runs.lock().unwrap() += 1;
        let (memory, key) = (memory.clone(), key.clone());
        async move {
            tx.multi().await?;
            tx.queue(["INCR", key.as_str()]);
            // The EXEC is written, then the connection dies before its reply.
            memory.world().stall.insert(port(1));
            let exec = tx.submit(Request::new(["EXEC"]));
            // The session's connection (the newest to that node) has had every byte of WATCH,
            // MULTI, INCR and EXEC.
            let len = |args: &[&str]| Request::new(args.iter().copied()).encoded().len();
            let all =
                len(&["WATCH", &key]) + len(&["MULTI"]) + len(&["INCR", &key]) + len(&["EXEC"]);
            eventually("EXEC written", || {
                let w = memory.world();
                let session = w.conns.iter().rev().find(|p| p.port == port(1));
                session.is_some_and(|p| p.writes.iter().sum::<usize>() >= all)
            });
            memory.world().stall.remove(&port(1));
            memory.close_from_server(port(1));
            exec.await?;
            Ok(Some(0))
        }
    }));
    let e = result.expect_err("the EXEC's outcome is unknown");
    assert!(e.maybe_applied(), "{e}");
    assert_eq!(*runs.lock().unwrap(), 1, "never run twice");
    block_on(client.shutdown());
}

#[test]
fn misuse_is_refused_and_a_failed_queued_command_discards_the_transaction() {
    let memory = Memory::new(2);
    let client = memory.client(config()).expect("connects");
    let key = keys_of(&memory, 0, 1).remove(0);
    let other_slot = keys_of(&memory, 1, 1).remove(0);
    let tx = client.session(&key);
    for args in [&["EXEC"][..], &["DISCARD"]] {
        assert!(matches!(
            block_on(tx.cmd(args.iter().copied())),
            Err(Error::Request(RequestError::Transaction { .. }))
        ));
    }
    block_on(tx.multi()).expect("MULTI");
    tx.queue(["SET", key.as_str(), "1"])
        .queue(["SET", other_slot.as_str(), "1"]);
    // The second command is in another slot: refused before the server, so the EXEC is sent as
    // DISCARD and reports that command's refusal.
    let e = block_on(tx.exec()).expect_err("discarded");
    assert!(matches!(e, Error::Request(RequestError::CrossSlot)), "{e}");
    assert!(!memory.world().model.data.contains_key(&key), "nothing ran");
    drop(tx);
    block_on(client.shutdown());
}

#[test]
fn keys_of_several_slots_are_refused_up_front() {
    let memory = Memory::new(2);
    let client = memory.client(config()).expect("connects");
    let a = keys_of(&memory, 0, 1).remove(0);
    let b = keys_of(&memory, 1, 1).remove(0);
    let r: Result<(), Error> =
        block_on(client.transaction([a.as_str(), b.as_str()], |_tx| async {
            panic!("the body never runs")
        }));
    assert!(matches!(r, Err(Error::Request(RequestError::CrossSlot))));
    let r: Result<(), Error> =
        block_on(client.transaction(Vec::<&str>::new(), |_tx| async { Ok(Some(())) }));
    assert!(matches!(r, Err(Error::Config(_))));
    block_on(client.shutdown());
}

#[test]
fn a_session_dropped_inside_multi_leaves_nothing_queued_on_its_connection() {
    let memory = Memory::new(2);
    let client = memory.client(config()).expect("connects");
    let key = keys_of(&memory, 0, 1).remove(0);
    let tx = client.session(&key);
    block_on(tx.watch([key.as_str()])).expect("WATCH");
    block_on(tx.multi()).expect("MULTI");
    tx.queue(["SET", key.as_str(), "never"]);
    let connects = memory.connects_to(port(0));
    drop(tx); // no EXEC: the session resets its connection (DISCARD, UNWATCH) before pooling it
    std::thread::sleep(std::time::Duration::from_millis(50)); // the resets' replies come back
    // The next session takes that connection from the pool; its commands run, not queue.
    let tx = client.session(&key);
    assert_eq!(
        block_on(tx.cmd(["GET", key.as_str()])).expect("GET"),
        Frame::NullBulk
    );
    block_on(tx.cmd(["SET", key.as_str(), "now"])).expect("SET");
    assert_eq!(
        memory.connects_to(port(0)),
        connects,
        "the pooled connection was reused"
    );
    drop(tx);
    assert_eq!(memory.world().model.data[&key], b"now");
    block_on(client.shutdown());
}

#[test]
fn discard_and_unwatch_leave_the_session_usable() {
    let memory = Memory::new(2);
    let client = memory.client(config()).expect("connects");
    let key = keys_of(&memory, 1, 1).remove(0);
    let tx = client.session(&key);
    block_on(tx.watch([key.as_str()])).expect("WATCH");
    block_on(tx.unwatch()).expect("UNWATCH");
    // Unwatched: a concurrent write no longer aborts the EXEC.
    memory.world().model.write(&key, b"7");
    block_on(tx.multi()).expect("MULTI");
    tx.queue(["INCR", key.as_str()]);
    block_on(tx.discard()).expect("DISCARD");
    assert_eq!(
        memory.world().model.data[&key],
        b"7",
        "discarded: nothing ran"
    );
    block_on(tx.multi()).expect("MULTI again");
    tx.queue(["INCR", key.as_str()]);
    let replies = block_on(tx.exec()).expect("EXEC").expect("not aborted");
    assert_eq!(replies, vec![Frame::Integer(8)]);
    drop(tx);
    block_on(client.shutdown());
}
