//! The application API (`Handle`, typed helpers, conversions, errors, configuration, TLS setup) on
//! the in-memory runtime: no sockets, a model of a 2-shard cluster behind pipes.

mod support;

use slotwise_client::prelude::*;
use std::time::Duration;

use bytes::Bytes;
use futures_lite::future::block_on;
use slotwise_client::{ClientConfig, Error, Frame, ReadFrom, Request, RequestError, TlsOptions};
use support::{Memory, config, eventually, keys_of, port};

#[test]
fn typed_helpers_and_conversions() {
    let memory = Memory::new(2);
    let client = memory.client(config()).expect("connects");
    for shard in 0..2 {
        let key = keys_of(&memory, shard, 1).remove(0);
        block_on(client.set(&key, "ada")).expect("SET");
        assert_eq!(
            block_on(client.get(&key)).expect("GET"),
            Some(Bytes::from("ada"))
        );
        let name: Option<String> = block_on(client.query(["GET", key.as_str()])).expect("GET");
        assert_eq!(name.as_deref(), Some("ada"));
        assert!(block_on(client.exists(&key)).expect("EXISTS"));
        assert!(block_on(client.del(&key)).expect("DEL"));
        assert!(!block_on(client.exists(&key)).expect("EXISTS"));
        assert_eq!(block_on(client.get(&key)).expect("GET"), None);
        assert_eq!(block_on(client.incr(&key)).expect("INCR"), 1);
        assert_eq!(block_on(client.incr(&key)).expect("INCR"), 2);
        let n: i64 = block_on(client.send_as(Request::new(["GET", key.as_str()]))).expect("GET");
        assert_eq!(n, 2);
    }
    // A reply that does not convert is a typed error, not a panic.
    let key = keys_of(&memory, 0, 1).remove(0);
    block_on(client.set(&key, "not a number")).expect("SET");
    let e = block_on(client.query::<i64, _>(["GET", key.as_str()])).expect_err("not an integer");
    assert!(matches!(e, Error::Convert(_)), "{e}");
    assert_eq!(e.kind(), "Convert");
    block_on(client.shutdown());
}

#[test]
fn error_replies_are_typed_with_their_code() {
    let memory = Memory::new(2);
    let client = memory.client(config()).expect("connects");
    let key = keys_of(&memory, 1, 1).remove(0);
    block_on(client.set(&key, "text")).expect("SET");
    let e = block_on(client.incr(&key)).expect_err("INCR on text");
    assert_eq!(e.server_code(), Some("ERR"), "{e}");
    assert!(!e.maybe_applied());
    assert!(!e.is_timeout());
    assert_eq!(e.kind(), "Redis");
    // An unknown command reaches the server and comes back as its error reply.
    let e = block_on(client.cmd(["NOSUCH", "x"])).expect_err("unknown command");
    assert_eq!(e.server_code(), Some("ERR"), "{e}");
    block_on(client.shutdown());
}

#[test]
fn connection_state_commands_are_refused_with_what_to_use() {
    let memory = Memory::new(2);
    let client = memory.client(config()).expect("connects");
    // Both shared connections up and idle first.
    for shard in 0..2 {
        let key = keys_of(&memory, shard, 1).remove(0);
        block_on(client.get(&key)).expect("GET");
    }
    let writes: usize = memory.world().conns.iter().map(|p| p.writes.len()).sum();
    for args in [
        &["MULTI"][..],
        &["WATCH", "k"],
        &["SUBSCRIBE", "ch"],
        &["SELECT", "2"],
    ] {
        let e = block_on(client.cmd(args.iter().copied())).expect_err("refused");
        assert!(
            matches!(e, Error::Request(RequestError::ConnectionState { .. })),
            "{args:?}: {e}"
        );
        assert_eq!(e.kind(), "ConnectionState");
    }
    let e = block_on(client.cmd(["MULTI"])).unwrap_err();
    assert!(e.to_string().contains("transaction"), "{e}");
    // Nothing reached the network.
    let after: usize = memory.world().conns.iter().map(|p| p.writes.len()).sum();
    assert_eq!(writes, after);
    block_on(client.shutdown());
}

#[test]
fn a_blocked_command_delays_nothing_on_the_shared_connection() {
    let memory = Memory::new(2);
    let client = memory.client(config()).expect("connects");
    let keys = keys_of(&memory, 1, 101);
    let blpop = client.submit(Request::new(["BLPOP", keys[0].as_str(), "0"]));
    for k in &keys[1..] {
        assert_eq!(block_on(client.get(k)).expect("GET"), None);
    }
    // Still blocked: its own connection, in the model's BLPOP.
    let blocked = memory.world().conns.iter().filter(|p| !p.closed).count();
    assert_eq!(blocked, 3, "two shared connections and the BLPOP's");
    drop(blpop);
    block_on(client.shutdown());
}

#[test]
fn stats_count_what_the_core_did() {
    let memory = Memory::new(2);
    let client = memory.client(config()).expect("connects");
    let keys = keys_of(&memory, 0, 10);
    for k in &keys {
        block_on(client.set(k, "v")).expect("SET");
    }
    let _ = block_on(client.cmd(["MULTI"]));
    let stats = block_on(client.stats()).expect("stats");
    assert_eq!(stats.requests, 11, "{stats:?}");
    assert_eq!((stats.replies, stats.failed), (10, 1), "{stats:?}");
    assert_eq!(stats.connections, 2, "{stats:?}");
    assert!(
        stats.bytes_sent > 0 && stats.bytes_received > 0,
        "{stats:?}"
    );
    block_on(client.shutdown());
    assert!(matches!(block_on(client.stats()), Err(Error::Closed)));
    assert!(client.is_closed());
}

#[test]
fn dropping_the_last_handle_stops_the_driver() {
    let memory = Memory::new(2);
    let client = memory.client(config()).expect("connects");
    let key = keys_of(&memory, 0, 1).remove(0);
    block_on(client.set(&key, "v")).expect("SET");
    let pending = client.clone().submit(Request::new(["GET", key.as_str()]));
    assert_eq!(pending.wait().expect("GET"), Frame::BulkString("v".into()));
    drop(client);
    eventually("every connection to close", || {
        memory.world().conns.iter().all(|p| p.closed)
    });
}

#[test]
fn read_from_replicas_needs_no_more_than_the_config() {
    let config = config()
        .read_from(ReadFrom::PreferReplica)
        .request_timeout(Duration::from_millis(1500))
        .connect_timeout(Duration::from_millis(700))
        .client_name("api-test");
    let core = config.core_config();
    assert_eq!(core.read_from, ReadFrom::PreferReplica);
    assert_eq!(core.request_timeout, Duration::from_millis(1500));
    assert_eq!(core.connect_timeout, Duration::from_millis(700));
    assert_eq!(core.client_name.as_deref(), Some("api-test"));
    assert!(core.tls.is_none());
    // With TLS options the core gets TLS on, with the configured name to verify.
    let core = config
        .tls(TlsOptions::system_roots().server_name("cfg.example"))
        .core_config();
    assert_eq!(
        core.tls.and_then(|t| t.server_name).as_deref(),
        Some("cfg.example")
    );
}

#[test]
fn unusable_tls_files_fail_at_connect_with_a_clear_error() {
    let memory = Memory::new(2);
    let missing = config().tls(TlsOptions::ca_file("/nonexistent/ca.pem"));
    let e = memory.client(missing).expect_err("no such CA file");
    assert!(matches!(e, Error::Io { .. } | Error::Tls(_)), "{e}");
    assert!(e.to_string().contains("/nonexistent/ca.pem"), "{e}");
    let garbage = config().tls(TlsOptions::ca_pem(b"not a certificate".to_vec()));
    let e = memory
        .client(garbage)
        .expect_err("no certificate in the PEM");
    assert!(matches!(e, Error::Tls(_)), "{e}");
    // Nothing was dialled for either.
    assert_eq!(memory.connects_to(port(0)), 0);
}

#[test]
fn seeds_that_do_not_parse_are_config_errors() {
    for bad in ["", "host:notaport", "redis://user:pw@host:1", "host:0"] {
        let e = ClientConfig::new([bad]).expect_err(bad);
        assert!(matches!(e, Error::Config(_)), "{bad}: {e}");
        assert!(e.to_string().starts_with("invalid configuration"), "{e}");
    }
    let tls = ClientConfig::new(["rediss://cfg.example:6380"]).expect("a TLS seed");
    assert!(tls.tls.is_some());
}

#[test]
fn a_closed_client_refuses_everything_with_closed() {
    let memory = Memory::new(2);
    let client = memory.client(config()).expect("connects");
    block_on(client.shutdown());
    let e = block_on(client.set("k", "v")).expect_err("closed");
    assert!(matches!(e, Error::Closed));
    assert_eq!(e.to_string(), "the client is shut down");
    assert!(matches!(
        client.submit(Request::new(["GET", "k"])).wait(),
        Err(Error::Closed)
    ));
    let tx = client.session("k");
    assert!(matches!(block_on(tx.cmd(["GET", "k"])), Err(Error::Closed)));
}
