//! The adapter glue (handle, driver, the driver loop) on an in-memory runtime: no sockets, no
//! servers — connections are pipes to a model of a 2-shard cluster (slots 0-8191 on :7000,
//! 8192-16383 on :7001). Each test drives the real loop and checks what reached the "network".

mod support;

use slotwise_client::prelude::*;
use std::time::{Duration, Instant};

use slotwise_client::{Error, Frame, Request, RequestError, TlsOptions};
use support::{Memory, config, eventually, keys_of, poll_once, poll_twice, port, writes};

#[test]
fn requests_submitted_together_leave_in_one_write_per_node() {
    let memory = Memory::new(2);
    let client = memory.client(config()).expect("connects");
    let keys = keys_of(&memory, 1, 200);
    for k in &keys {
        futures_lite::future::block_on(client.send(Request::new(["SET", k.as_str(), k.as_str()])))
            .expect("SET");
    }
    let writes_before = memory
        .world()
        .conns
        .iter()
        .map(|p| p.writes.len())
        .sum::<usize>();
    // 200 GETs submitted before any is awaited, while the loop's task is not scheduled (on a
    // real runtime, a burst from one task while the loop's task waits for a worker): one batch
    // for the loop, one write for the node. (Unpaused, the loop's task runs beside the burst on
    // the other core and writes whatever has come so far, each time the inbox wakes it.)
    memory.pause_tasks();
    let pending: Vec<_> = keys
        .iter()
        .map(|k| client.submit(Request::new(["GET", k.as_str()])))
        .collect();
    memory.resume_tasks();
    for (k, p) in keys.iter().zip(pending) {
        assert_eq!(p.wait().expect("GET"), Frame::BulkString(k.clone().into()));
    }
    let writes: usize = memory.world().conns.iter().map(|p| p.writes.len()).sum();
    assert!(
        writes - writes_before <= 2,
        "200 GETs took {} writes",
        writes - writes_before
    );
    futures_lite::future::block_on(client.shutdown());
}

#[test]
fn writes_queued_behind_a_write_in_flight_coalesce() {
    let memory = Memory::new(2);
    let client = memory.client(config()).expect("connects");
    let keys = keys_of(&memory, 0, 51);
    // Both connections up, and the bootstrap's refreshes done, so that only our GETs write.
    for shard in 0..2 {
        let k = keys_of(&memory, shard, 1).remove(0);
        futures_lite::future::block_on(client.get(&k)).expect("GET");
    }
    std::thread::sleep(Duration::from_millis(20));
    // The first write is in flight (the peer does not read); 50 more requests come meanwhile.
    memory.world().hold_writes = true;
    let first = client.submit(Request::new(["GET", keys[0].as_str()]));
    eventually("the first write to start", || memory.writes_held() > 0);
    let rest: Vec<_> = keys[1..]
        .iter()
        .map(|k| client.submit(Request::new(["GET", k.as_str()])))
        .collect();
    std::thread::sleep(Duration::from_millis(20)); // let the loop take them all in
    memory.release_writes();
    assert_eq!(first.wait().expect("GET"), Frame::NullBulk);
    for p in rest {
        assert_eq!(p.wait().expect("GET"), Frame::NullBulk);
    }
    let w = memory.world();
    let shared = w
        .conns
        .iter()
        .filter(|p| p.port == port(0))
        .max_by_key(|p| p.writes.len())
        .expect("a connection to :7000");
    // The first GET alone, then the 50 that queued behind it in one write.
    let len = |k: &String| Request::new(["GET", k.as_str()]).encoded().len();
    let (first, rest) = (len(&keys[0]), keys[1..].iter().map(len).sum::<usize>());
    assert!(
        shared.writes.windows(2).any(|w| w == [first, rest]),
        "the first GET alone ({first} bytes), then the 50 in one write ({rest} bytes): {:?}",
        shared.writes
    );
    drop(w);
    futures_lite::future::block_on(client.shutdown());
}

#[test]
fn a_connection_the_server_closes_is_replaced_and_reads_retried() {
    let memory = Memory::new(2);
    let client = memory.client(config()).expect("connects");
    let key = keys_of(&memory, 1, 1).remove(0);
    futures_lite::future::block_on(client.send(Request::new(["SET", key.as_str(), "v"])))
        .expect("SET");
    let before = memory.connects_to(port(1));
    let written_before = writes(&memory)[1];
    memory.world().stall.insert(port(1));
    let mut get = client.submit(Request::new(["GET", key.as_str()]));
    // A stalled node cannot have answered; the GET is written (by the second poll if the first
    // only yielded, the gather) and waits for its reply.
    poll_twice(&mut get);
    eventually("the GET to be written", || {
        writes(&memory)[1] > written_before
    });
    std::thread::sleep(Duration::from_millis(20));
    assert!(
        poll_once(&mut get).is_pending(),
        "a stalled node cannot have answered"
    );
    memory.world().stall.remove(&port(1));
    memory.close_from_server(port(1));
    // A read: sent again on a new connection, transparently.
    assert_eq!(get.wait().expect("GET"), Frame::BulkString("v".into()));
    assert!(memory.connects_to(port(1)) > before);
    futures_lite::future::block_on(client.shutdown());
}

#[test]
fn connect_to_refusing_seeds_fails_as_soon_as_all_have_refused() {
    let memory = Memory::new(2);
    memory.world().refuse.extend([port(0), port(1)]);
    let started = Instant::now();
    let e = memory
        .client(config().connect_wait(Duration::from_secs(10)))
        .expect_err("nothing answers");
    let took = started.elapsed();
    assert!(matches!(&e, Error::Connect { .. }), "{e}");
    assert!(e.to_string().contains("refused"), "{e}");
    // Not the whole `connect_wait`: every seed has said no.
    assert!(took < Duration::from_secs(2), "{took:?}");
}

#[test]
fn a_bad_tls_server_name_fails_the_connect_with_its_reason() {
    let memory = Memory::new(2);
    let roots = slotwise_client::rustls::RootCertStore::empty();
    let tls = slotwise_client::rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        slotwise_client::rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("protocols")
    .with_root_certificates(roots)
    .with_no_client_auth();
    let config = config()
        .tls(TlsOptions::rustls(std::sync::Arc::new(tls)).server_name("not a host name!"))
        .connect_wait(Duration::from_millis(300));
    let e = memory.client(config).expect_err("the name is unusable");
    assert!(e.to_string().contains("not a host name!"), "{e}");
    // It failed before any connection was attempted.
    assert_eq!(memory.world().conns.len(), 0);
}

#[test]
fn shutdown_ends_pending_requests_and_closes_every_connection() {
    let memory = Memory::new(2);
    let client = memory.client(config()).expect("connects");
    let key = keys_of(&memory, 0, 1).remove(0);
    memory.world().stall.insert(port(0));
    let pending = client.submit(Request::new(["GET", key.as_str()]));
    futures_lite::future::block_on(client.shutdown());
    assert!(matches!(pending.wait(), Err(Error::Closed)));
    assert!(matches!(
        futures_lite::future::block_on(client.get("x")),
        Err(Error::Closed)
    ));
    eventually("every connection to close", || {
        memory.world().conns.iter().all(|p| p.closed)
    });
}

#[test]
fn the_queue_bound_is_back_pressure_with_a_typed_error() {
    let memory = Memory::new(2);
    let mut config = config();
    config.core.queue_bound = 4;
    let client = memory.client(config).expect("connects");
    let keys = keys_of(&memory, 0, 10);
    memory.world().stall.insert(port(0));
    let pending: Vec<_> = keys
        .iter()
        .map(|k| {
            client.submit(Request::new(["GET", k.as_str()]).timeout(Duration::from_millis(200)))
        })
        .collect();
    let mut full = 0;
    let mut timed_out = 0;
    for p in pending {
        match p.wait() {
            Err(Error::Request(RequestError::QueueFull { .. })) => full += 1,
            Err(Error::Request(RequestError::Timeout { .. })) => timed_out += 1,
            other => panic!("{other:?}"),
        }
    }
    assert_eq!((full, timed_out), (6, 4));
    futures_lite::future::block_on(client.shutdown());
}

#[test]
fn dropping_a_blocking_future_closes_its_connection_only() {
    let memory = Memory::new(2);
    let client = memory.client(config()).expect("connects");
    let key = keys_of(&memory, 1, 1).remove(0);
    let blpop = client.submit(Request::new(["BLPOP", key.as_str(), "0"]));
    // A dedicated connection for it, blocked in the model.
    eventually("the BLPOP to be written", || {
        memory
            .world()
            .conns
            .iter()
            .any(|p| p.port == port(1) && p.writes.len() >= 2 && !p.closed)
            && memory.connects_to(port(1)) >= 2
    });
    let open = |m: &Memory| m.world().conns.iter().filter(|p| !p.closed).count();
    let before = open(&memory);
    drop(blpop);
    eventually("the blocked connection to close", || {
        open(&memory) == before - 1
    });
    // The shared connection to that node still serves.
    assert_eq!(
        futures_lite::future::block_on(client.get(key.as_str())).expect("GET"),
        None
    );
    futures_lite::future::block_on(client.shutdown());
}

#[test]
fn dropped_ordinary_futures_never_shift_replies() {
    let memory = Memory::new(2);
    let client = memory.client(config()).expect("connects");
    let keys = keys_of(&memory, 0, 40);
    for k in &keys {
        futures_lite::future::block_on(client.send(Request::new(["SET", k.as_str(), k.as_str()])))
            .expect("SET");
    }
    // Every other GET's future is dropped at once (skipped if the driver had not taken it yet,
    // else run with its reply discarded): the others still get their own values.
    let mut kept = Vec::new();
    for (i, k) in keys.iter().enumerate() {
        let p = client.submit(Request::new(["GET", k.as_str()]));
        if i % 2 == 0 {
            drop(p);
        } else {
            kept.push((k, p));
        }
    }
    for (k, p) in kept {
        assert_eq!(p.wait().expect("GET"), Frame::BulkString(k.clone().into()));
    }
    let open = memory.world().conns.iter().filter(|p| !p.closed).count();
    assert_eq!(open, 2, "still one shared connection per node");
    futures_lite::future::block_on(client.shutdown());
}

#[test]
fn a_refused_password_fails_connect_at_once_with_the_servers_words() {
    let memory = Memory::new(2);
    memory.world().model.password = Some("right".into());
    let started = Instant::now();
    let e = memory
        .client(config().user("app", "wrong"))
        .expect_err("WRONGPASS");
    assert!(e.is_auth(), "{e}");
    assert!(e.to_string().contains("WRONGPASS"), "{e}");
    assert!(
        !e.to_string().contains("wrong\""),
        "the password never shows: {e}"
    );
    // Not after connect_wait (5 s here): as soon as the server said no.
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    let client = memory
        .client(config().user("app", "right"))
        .expect("the right password");
    futures_lite::future::block_on(client.shutdown());
}

#[test]
fn a_slot_that_moved_is_followed_and_counted() {
    let memory = Memory::new(2);
    let client = memory.client(config()).expect("connects");
    let key = keys_of(&memory, 0, 1).remove(0);
    let slot = usize::from(slotwise_slot::key_slot(key.as_bytes()).get());
    futures_lite::future::block_on(client.set(&key, "v")).expect("SET");
    // The slot moves to shard 1 behind the client's back: its next request meets MOVED.
    memory.world().model.owner[slot] = 1;
    assert_eq!(
        futures_lite::future::block_on(client.get(&key)).expect("GET"),
        Some("v".into())
    );
    let stats = futures_lite::future::block_on(client.stats()).expect("stats");
    assert_eq!(stats.moved, 1, "{stats:?}");
    // The map was patched: the next request goes straight to the new owner.
    futures_lite::future::block_on(client.get(&key)).expect("GET");
    let stats = futures_lite::future::block_on(client.stats()).expect("stats");
    assert_eq!(stats.moved, 1, "{stats:?}");
    futures_lite::future::block_on(client.shutdown());
}

#[test]
fn a_migrating_slot_is_served_through_ask() {
    let memory = Memory::new(2);
    let client = memory.client(config()).expect("connects");
    let key = keys_of(&memory, 0, 1).remove(0);
    let slot = slotwise_slot::key_slot(key.as_bytes()).get();
    futures_lite::future::block_on(client.set(&key, "v")).expect("SET");
    {
        let mut w = memory.world();
        let mut moved = std::collections::HashSet::new();
        moved.insert(key.clone());
        w.model.migration = Some(slotwise_test_cluster::model::Migration {
            slot,
            from: 0,
            to: 1,
            moved,
        });
    }
    for _ in 0..3 {
        assert_eq!(
            futures_lite::future::block_on(client.get(&key)).expect("GET"),
            Some("v".into())
        );
    }
    let stats = futures_lite::future::block_on(client.stats()).expect("stats");
    // ASK every time (the map is not changed by ASK), never MOVED.
    assert_eq!((stats.ask, stats.moved), (3, 0), "{stats:?}");
    futures_lite::future::block_on(client.shutdown());
}

#[test]
fn blocking_commands_wait_for_the_bounded_pool_and_cancel_cleanly() {
    let memory = Memory::new(2);
    let mut config = config();
    config.core.dedicated_pool = 2;
    let client = memory.client(config).expect("connects");
    let keys = keys_of(&memory, 1, 6);
    // The shared connection to that node is up before counting.
    futures_lite::future::block_on(client.get(&keys[0])).expect("GET");
    let before = memory.connects_to(port(1));
    let blocked: Vec<_> = keys
        .iter()
        .map(|k| client.submit(Request::new(["BLPOP", k.as_str(), "0"])))
        .collect();
    eventually("two BLPOPs to be written", || {
        memory.connects_to(port(1)) == before + 2
    });
    std::thread::sleep(Duration::from_millis(20));
    // Never more than the pool's two dedicated connections to that node.
    assert_eq!(memory.connects_to(port(1)), before + 2);
    // Dropping the waiting ones and the blocked ones: the blocked connections close, the others
    // never open.
    drop(blocked);
    eventually("the dedicated connections to close", || {
        let w = memory.world();
        w.conns
            .iter()
            .filter(|p| p.port == port(1) && !p.closed)
            .count()
            == 1
    });
    std::thread::sleep(Duration::from_millis(20));
    assert!(
        memory.connects_to(port(1)) <= before + 4,
        "a reconnect at most per cancelled one"
    );
    futures_lite::future::block_on(client.shutdown());
}
