//! Slot hashing and command classification.
//!
//! - `slot/<len>`: ns per key for 8–256-byte keys without a hash tag: slotwise's table-driven CRC16
//!   (sliced by 16) against the same hash-tag rule with the `crc16` crate's CRC, and against redis-rs's
//!   `Slot::for_key`.
//! - `slot_tagged/<len>`: the same for 16–256-byte keys with a hash tag near the front
//!   (`{user1000}.…`), where the tag search decides the cost.
//! - `classify/<command>`: command lookup + key extraction + routing decision per command line, and
//!   key extraction alone (`keys/<command>`).
//!
//! `cargo bench -p slotwise-benches --bench slot`

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use slotwise_slot::{CommandTable, hash_tag, key_slot};

/// Deterministic key bytes (no hash tag, so every byte is hashed).
fn key(len: usize) -> Vec<u8> {
    (0..len).map(|i| b'a' + (i * 7 % 26) as u8).collect()
}

fn slot(c: &mut Criterion) {
    let mut group = c.benchmark_group("slot");
    for len in [8, 16, 32, 64, 128, 256] {
        let k = key(len);
        group.throughput(Throughput::Elements(1));
        group.bench_with_input(BenchmarkId::new("slotwise", len), &k, |b, k| {
            b.iter(|| key_slot(black_box(k)))
        });
        group.bench_with_input(BenchmarkId::new("crc16-crate", len), &k, |b, k| {
            b.iter(|| crc16::State::<crc16::XMODEM>::calculate(hash_tag(black_box(k))) % 16384)
        });
        group.bench_with_input(BenchmarkId::new("redis-rs", len), &k, |b, k| {
            b.iter(|| redis::cluster_routing::Slot::for_key(black_box(k)))
        });
    }
    group.finish();

    let mut group = c.benchmark_group("slot_tagged");
    for len in [16, 32, 64, 256] {
        let k = tagged_key(len);
        group.throughput(Throughput::Elements(1));
        group.bench_with_input(BenchmarkId::new("slotwise", len), &k, |b, k| {
            b.iter(|| key_slot(black_box(k)))
        });
        group.bench_with_input(BenchmarkId::new("crc16-crate", len), &k, |b, k| {
            b.iter(|| crc16::State::<crc16::XMODEM>::calculate(hash_tag(black_box(k))) % 16384)
        });
        group.bench_with_input(BenchmarkId::new("redis-rs", len), &k, |b, k| {
            b.iter(|| redis::cluster_routing::Slot::for_key(black_box(k)))
        });
    }
    group.finish();
}

/// A `len`-byte key whose hash tag is `user1000`: `{user1000}.` and then filler.
fn tagged_key(len: usize) -> Vec<u8> {
    let mut k = b"{user1000}.".to_vec();
    k.extend(key(len - k.len()));
    k
}

const LINES: &[(&str, &[&str])] = &[
    ("get", &["GET", "user:1000:name"]),
    ("set-ex", &["SET", "session:{u1}", "payload", "EX", "60"]),
    (
        "mget-8",
        &[
            "MGET", "{t}1", "{t}2", "{t}3", "{t}4", "{t}5", "{t}6", "{t}7", "{t}8",
        ],
    ),
    (
        "zunionstore",
        &[
            "ZUNIONSTORE",
            "{z}d",
            "3",
            "{z}a",
            "{z}b",
            "{z}c",
            "WEIGHTS",
            "1",
            "2",
            "3",
        ],
    ),
    (
        "xread",
        &[
            "XREAD", "COUNT", "10", "BLOCK", "0", "STREAMS", "{s}a", "{s}b", "0", "0",
        ],
    ),
    ("eval", &["EVAL", "return 1", "2", "{e}a", "{e}b", "arg"]),
    (
        "sort-store",
        &[
            "SORT", "{l}src", "BY", "w_*", "LIMIT", "0", "10", "STORE", "{l}dst",
        ],
    ),
    ("object-encoding", &["object", "encoding", "k"]),
    ("dbsize", &["DBSIZE"]),
    ("unknown-module", &["JSON.GET", "doc", "$.a"]),
];

fn classify(c: &mut Criterion) {
    let table = CommandTable::new();
    let mut group = c.benchmark_group("classify");
    group.throughput(Throughput::Elements(1));
    for (name, line) in LINES {
        let args: Vec<&[u8]> = line.iter().map(|a| a.as_bytes()).collect();
        group.bench_with_input(BenchmarkId::new("classify", name), &args, |b, args| {
            b.iter(|| table.classify(black_box(args)).map(|c| c.route))
        });
        group.bench_with_input(BenchmarkId::new("keys", name), &args, |b, args| {
            b.iter(|| table.keys(black_box(args)))
        });
    }
    group.finish();
}

criterion_group!(benches, slot, classify);
criterion_main!(benches);
