//! Cluster core overhead per request, in steady state: `submit` → `Transmit` out → reply bytes in →
//! `Reply` out, on a ready connection (no IO: the bench is the adapter).
//!
//! - `cluster/get`: a pre-encoded `GET` (the caller's request costs no allocation) and a `+OK` reply.
//! - `cluster/get_new_request`: the same with `Request::new` each time (one allocation: the encoded
//!   command).
//! - `cluster/pipeline16`: 16 requests submitted, one `Transmit` (coalesced), 16 replies in one read.
//! - `cluster/mget100_cross_slot`: an `MGET` of 100 keys over 3 shards (`bench:0` … `bench:99`, 100
//!   slots), split by slot into one sub-request per slot, one `Transmit` per node, each node's
//!   replies in one read, joined in key order. Throughput is per sub-request (the count is printed).
//!   The timed loop submits a clone of one pre-encoded `MGET`; the allocation count (printed) uses
//!   a fresh `Request::new` each time and says how many of its allocations that is.
//!
//! Allocations per request are counted with a counting global allocator and printed before the
//! criterion runs.
//!
//! `cargo bench -p slotwise-benches --bench cluster`
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::{HashMap, HashSet};
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::{Bytes, BytesMut};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use slotwise_cluster::{Cluster, Config, ConnId, Endpoint, Frame, Input, Instant, Output, Request};

struct Counting;
static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const SHARDS: &[u8] = b"*1\r\n*4\r\n$5\r\nslots\r\n*2\r\n:0\r\n:16383\r\n$5\r\nnodes\r\n*1\r\n\
*8\r\n$2\r\nid\r\n$1\r\na\r\n$4\r\nport\r\n:7000\r\n$2\r\nip\r\n$9\r\n127.0.0.1\r\n$4\r\nrole\r\n$6\r\nmaster\r\n";

/// A core with one node, connected and past its handshake.
fn ready() -> (Cluster, ConnId) {
    let mut config = Config::new([Endpoint::new("127.0.0.1", 7000)]);
    config.refresh.interval = None;
    let now = Instant::ZERO;
    let mut core = Cluster::new(config, now);
    let mut conn = None;
    let mut feed: Vec<&[u8]> = vec![b"%1\r\n$6\r\nserver\r\n$5\r\nredis\r\n", SHARDS];
    for _ in 0..100 {
        match core.poll_output() {
            Output::Connect { conn: c, .. } => {
                conn = Some(c);
                core.handle_input(Input::Connected { conn: c, now });
            }
            Output::Transmit { conn: c, .. } if !feed.is_empty() => {
                let bytes = feed.remove(0);
                core.handle_input(Input::Received {
                    conn: c,
                    bytes,
                    now,
                });
            }
            Output::Timeout(_) | Output::Idle if feed.is_empty() => break,
            _ => {}
        }
    }
    (core, conn.expect("connected"))
}

/// One request through the core; returns the reply's frame size as a sink.
fn round_trip(core: &mut Cluster, conn: ConnId, request: Request, reply: &[u8]) -> usize {
    let now = Instant::ZERO;
    let _id = core.submit(now, request);
    let mut sink = 0;
    loop {
        match core.poll_output() {
            Output::Transmit { bytes, .. } => sink += bytes.len(),
            Output::Timeout(_) | Output::Idle => break,
            _ => {}
        }
    }
    core.handle_input(Input::Received {
        conn,
        bytes: reply,
        now,
    });
    loop {
        match core.poll_output() {
            Output::Reply { result, .. } => sink += result.map_or(0, |f| f.encoded_len()),
            Output::Timeout(_) | Output::Idle => break,
            _ => {}
        }
    }
    sink
}

fn allocations_per_request(label: &str, make: &dyn Fn() -> Request) {
    let (mut core, conn) = ready();
    for _ in 0..1000 {
        round_trip(&mut core, conn, make(), b"+OK\r\n");
    }
    let n = 100_000;
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    for _ in 0..n {
        black_box(round_trip(&mut core, conn, make(), b"+OK\r\n"));
    }
    let after = ALLOCATIONS.load(Ordering::Relaxed);
    eprintln!(
        "{label}: {:.3} allocations per request",
        (after - before) as f64 / n as f64
    );
}

/// `CLUSTER SHARDS` of three primaries on 127.0.0.1:7000–7002 (slots split as `redis-cli` does).
fn shards3() -> Vec<u8> {
    let ranges = [(0, 5460, 7000), (5461, 10922, 7001), (10923, 16383, 7002)];
    let mut out = format!("*{}\r\n", ranges.len());
    for (i, (lo, hi, port)) in ranges.into_iter().enumerate() {
        out += &format!(
            "*4\r\n$5\r\nslots\r\n*2\r\n:{lo}\r\n:{hi}\r\n$5\r\nnodes\r\n*1\r\n\
             *8\r\n$2\r\nid\r\n$1\r\n{i}\r\n$4\r\nport\r\n:{port}\r\n$2\r\nip\r\n$9\r\n127.0.0.1\r\n\
             $4\r\nrole\r\n$6\r\nmaster\r\n"
        );
    }
    out.into_bytes()
}

const MGET_VALUE: &str = "0123456789abcdef";

/// The answers a Redis node would give to `bytes` (whole commands): `HELLO`, `CLUSTER SHARDS`,
/// `MGET` (16-byte values), `+OK` otherwise. Returns the answers and how many `MGET`s there were.
fn answer(bytes: &[u8]) -> (Vec<u8>, usize) {
    let mut buf = BytesMut::from(bytes);
    let mut decoder = slotwise_resp::Decoder::new();
    let mut out = Vec::new();
    let mut mgets = 0;
    while let Some(frame) = decoder.decode(&mut buf).expect("the core writes RESP") {
        let Ok(args) = frame.into_items() else {
            panic!("a command is an array")
        };
        let arg = |i: usize| {
            args.get(i)
                .and_then(Frame::as_bytes)
                .map(|b| b.to_ascii_uppercase())
                .unwrap_or_default()
        };
        match (&arg(0)[..], &arg(1)[..]) {
            (b"HELLO", _) => out.extend_from_slice(b"%1\r\n$6\r\nserver\r\n$5\r\nredis\r\n"),
            (b"CLUSTER", b"SHARDS") => out.extend_from_slice(&shards3()),
            (b"MGET", _) => {
                mgets += 1;
                let keys = args.len() - 1;
                out.extend_from_slice(format!("*{keys}\r\n").as_bytes());
                for _ in 0..keys {
                    out.extend_from_slice(
                        format!("${}\r\n{MGET_VALUE}\r\n", MGET_VALUE.len()).as_bytes(),
                    );
                }
            }
            _ => out.extend_from_slice(b"+OK\r\n"),
        }
    }
    assert!(buf.is_empty(), "the core writes whole commands");
    (out, mgets)
}

/// A core on a three-primary cluster, every node connected and past its handshake.
fn ready3(keys: &[String]) -> Cluster {
    let mut config = Config::new([Endpoint::new("127.0.0.1", 7000)]);
    config.refresh.interval = None;
    let now = Instant::ZERO;
    let mut core = Cluster::new(config, now);
    // One MGET over every shard makes the core connect to all three.
    let _ = core.submit(now, mget_request(keys));
    let mut replied = false;
    for _ in 0..1000 {
        match core.poll_output() {
            Output::Connect { conn, .. } => core.handle_input(Input::Connected { conn, now }),
            Output::Transmit { conn, bytes } => {
                let (reply, _) = answer(&bytes);
                core.handle_input(Input::Received {
                    conn,
                    bytes: &reply,
                    now,
                });
            }
            Output::Reply { result, .. } => {
                let items = result.expect("MGET replied").as_items().map(<[_]>::len);
                assert_eq!(items, Some(keys.len()));
                replied = true;
            }
            Output::Timeout(_) | Output::Idle if replied => break,
            _ => {}
        }
    }
    assert!(replied, "the warm-up MGET got its reply");
    core
}

fn mget_request(keys: &[String]) -> Request {
    let mut args: Vec<&str> = Vec::with_capacity(keys.len() + 1);
    args.push("MGET");
    args.extend(keys.iter().map(String::as_str));
    Request::new(args)
}

/// One MGET in steady state: submitted, its transmits drained, `replies` (what each connection's
/// node answers, recorded once) fed, the joined reply drained. Returns a sink.
fn mget_round(core: &mut Cluster, request: Request, replies: &[(ConnId, Vec<u8>)]) -> usize {
    let now = Instant::ZERO;
    let _id = core.submit(now, request);
    let mut sink = 0;
    loop {
        match core.poll_output() {
            Output::Transmit { bytes, .. } => sink += bytes.len(),
            Output::Timeout(_) | Output::Idle => break,
            _ => {}
        }
    }
    for (conn, bytes) in replies {
        core.handle_input(Input::Received {
            conn: *conn,
            bytes,
            now,
        });
    }
    loop {
        match core.poll_output() {
            Output::Reply { result, .. } => {
                sink += result.map_or(0, |f| f.as_items().map_or(0, <[_]>::len));
            }
            Output::Timeout(_) | Output::Idle => break,
            _ => {}
        }
    }
    sink
}

/// Records what each node answers to one MGET of `keys` in steady state: the replies per
/// connection (fed back as-is in the bench: routing is deterministic) and the sub-request count.
fn record_mget(core: &mut Cluster, keys: &[String]) -> (Vec<(ConnId, Vec<u8>)>, usize) {
    let now = Instant::ZERO;
    let _ = core.submit(now, mget_request(keys));
    let mut by_conn: HashMap<ConnId, Vec<u8>> = HashMap::new();
    let mut parts = 0;
    loop {
        match core.poll_output() {
            Output::Transmit { conn, bytes } => {
                let (reply, mgets) = answer(&bytes);
                parts += mgets;
                by_conn.entry(conn).or_default().extend_from_slice(&reply);
            }
            Output::Connect { .. } => panic!("steady state: no new connection"),
            Output::Timeout(_) | Output::Idle => break,
            _ => {}
        }
    }
    let mut replies: Vec<_> = by_conn.into_iter().collect();
    replies.sort_by_key(|(c, _)| *c);
    let n = mget_round_feed(core, &replies);
    assert_eq!(
        n,
        keys.len(),
        "the recorded MGET got its {} values",
        keys.len()
    );
    (replies, parts)
}

/// The second half of [`mget_round`] (feed and drain), for [`record_mget`]'s check.
fn mget_round_feed(core: &mut Cluster, replies: &[(ConnId, Vec<u8>)]) -> usize {
    let now = Instant::ZERO;
    for (conn, bytes) in replies {
        core.handle_input(Input::Received {
            conn: *conn,
            bytes,
            now,
        });
    }
    let mut values = 0;
    loop {
        match core.poll_output() {
            Output::Reply { result, .. } => {
                let frame = result.expect("MGET replied");
                let items = frame.as_items().expect("an array");
                assert!(
                    items
                        .iter()
                        .all(|f| f.as_bytes().is_some_and(|b| b == MGET_VALUE))
                );
                values += items.len();
            }
            Output::Timeout(_) | Output::Idle => break,
            _ => {}
        }
    }
    values
}

fn mget_keys() -> Vec<String> {
    (0..100).map(|i| format!("bench:{i}")).collect()
}

/// Allocations per cross-slot MGET of 100 keys (the request's own encoding included), printed
/// with the sub-request and slot counts.
fn allocations_per_mget() {
    let keys = mget_keys();
    let mut core = ready3(&keys);
    let (replies, parts) = record_mget(&mut core, &keys);
    let slots: HashSet<u16> = keys
        .iter()
        .map(|k| slotwise_slot::key_slot(k.as_bytes()).get())
        .collect();
    for _ in 0..1000 {
        mget_round(&mut core, mget_request(&keys), &replies);
    }
    let n = 20_000;
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    for _ in 0..n {
        black_box(mget_round(&mut core, mget_request(&keys), &replies));
    }
    let after = ALLOCATIONS.load(Ordering::Relaxed);
    let per = (after - before) as f64 / n as f64;
    let request = {
        let before = ALLOCATIONS.load(Ordering::Relaxed);
        black_box(mget_request(&keys));
        ALLOCATIONS.load(Ordering::Relaxed) - before
    };
    eprintln!(
        "mget100 cross-slot: {} keys, {} slots, {} sub-requests on {} nodes; {per:.2} allocations \
         per MGET ({request} of them the caller's Request::new), {:.2} per sub-request",
        keys.len(),
        slots.len(),
        parts,
        replies.len(),
        per / parts as f64
    );
}

fn bench(c: &mut Criterion) {
    let get = Request::from_encoded(Bytes::from_static(b"*2\r\n$3\r\nGET\r\n$3\r\nfoo\r\n"))
        .expect("a command");
    allocations_per_request("get (pre-encoded)", &|| get.clone());
    allocations_per_request("get (Request::new)", &|| Request::new(["GET", "foo"]));
    allocations_per_mget();

    let mut group = c.benchmark_group("cluster");
    group.throughput(Throughput::Elements(1));
    let (mut core, conn) = ready();
    group.bench_function("get", |b| {
        b.iter(|| round_trip(&mut core, conn, black_box(get.clone()), b"+OK\r\n"))
    });
    group.bench_function("get_new_request", |b| {
        b.iter(|| {
            round_trip(
                &mut core,
                conn,
                Request::new(black_box(["GET", "foo"])),
                b"+OK\r\n",
            )
        })
    });
    group.throughput(Throughput::Elements(16));
    let replies: Vec<u8> = b"+OK\r\n".repeat(16);
    group.bench_function("pipeline16", |b| {
        b.iter(|| {
            let now = Instant::ZERO;
            for _ in 0..16 {
                let _ = core.submit(now, get.clone());
            }
            let mut sink = 0;
            loop {
                match core.poll_output() {
                    Output::Transmit { bytes, .. } => sink += bytes.len(),
                    Output::Timeout(_) | Output::Idle => break,
                    _ => {}
                }
            }
            core.handle_input(Input::Received {
                conn,
                bytes: &replies,
                now,
            });
            loop {
                match core.poll_output() {
                    Output::Reply { .. } => sink += 1,
                    Output::Timeout(_) | Output::Idle => break,
                    _ => {}
                }
            }
            sink
        })
    });
    let keys = mget_keys();
    let mut core3 = ready3(&keys);
    let (replies, parts) = record_mget(&mut core3, &keys);
    let mget = mget_request(&keys);
    group.throughput(Throughput::Elements(parts as u64));
    group.bench_function("mget100_cross_slot", |b| {
        b.iter(|| mget_round(&mut core3, black_box(mget.clone()), &replies))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
