//! Cluster core overhead per request, in steady state: `submit` → `Transmit` out → reply bytes in →
//! `Reply` out, on a ready connection (no IO: the bench is the adapter).
//!
//! - `cluster/get`: a pre-encoded `GET` (the caller's request costs no allocation) and a `+OK` reply.
//! - `cluster/get_new_request`: the same with `Request::new` each time (one allocation: the encoded
//!   command).
//! - `cluster/pipeline16`: 16 requests submitted, one `Transmit` (coalesced), 16 replies in one read.
//!
//! Allocations per request are counted with a counting global allocator and printed before the
//! criterion runs.
//!
//! `cargo bench -p slotwise-benches --bench cluster`
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use slotwise_cluster::{Cluster, Config, ConnId, Endpoint, Input, Instant, Output, Request};

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

fn bench(c: &mut Criterion) {
    let get = Request::from_encoded(Bytes::from_static(b"*2\r\n$3\r\nGET\r\n$3\r\nfoo\r\n"))
        .expect("a command");
    allocations_per_request("get (pre-encoded)", &|| get.clone());
    allocations_per_request("get (Request::new)", &|| Request::new(["GET", "foo"]));

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
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
