//! Topology parsing (CLUSTER SHARDS, SLOTS, NODES) and `diff`, on a 100-shard cluster with one replica
//! per shard and all 16384 slots assigned (each primary owns one contiguous range).
//!
//! `cargo bench -p slotwise-benches --bench topology -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use slotwise_resp::{Frame, Limits, decode_complete};
use slotwise_topology::{Origin, Topology, diff};

const SHARDS: u16 = 100;

fn bulk(s: &str) -> Frame {
    Frame::BulkString(Bytes::copy_from_slice(s.as_bytes()))
}

/// A node id that looks like Redis's (40 random hex digits), deterministic per (kind, i).
fn id(kind: char, i: u16) -> String {
    let mut x = (u64::from(kind as u32) << 16 | u64::from(i)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    (0..40)
        .map(|_| {
            x ^= x >> 29;
            x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
            char::from_digit((x >> 60) as u32, 16).unwrap()
        })
        .collect()
}

fn range(i: u16) -> (u16, u16) {
    let per = 16384 / SHARDS;
    let start = i * per;
    let end = if i == SHARDS - 1 {
        16383
    } else {
        start + per - 1
    };
    (start, end)
}

/// The CLUSTER SHARDS reply, RESP2 form (keys and values alternate).
fn shards_reply() -> Frame {
    let node = |kind: char, i: u16, port: u16, role: &str| {
        Frame::Array(vec![
            bulk("id"),
            bulk(&id(kind, i)),
            bulk("port"),
            Frame::Integer(port.into()),
            bulk("ip"),
            bulk("127.0.0.1"),
            bulk("endpoint"),
            bulk("127.0.0.1"),
            bulk("role"),
            bulk(role),
            bulk("replication-offset"),
            Frame::Integer(123_456),
            bulk("health"),
            bulk("online"),
        ])
    };
    Frame::Array(
        (0..SHARDS)
            .map(|i| {
                let (start, end) = range(i);
                Frame::Array(vec![
                    bulk("slots"),
                    Frame::Array(vec![
                        Frame::Integer(start.into()),
                        Frame::Integer(end.into()),
                    ]),
                    bulk("nodes"),
                    Frame::Array(vec![
                        node('a', i, 10000 + i, "master"),
                        node('b', i, 20000 + i, "replica"),
                    ]),
                ])
            })
            .collect(),
    )
}

/// The CLUSTER SLOTS reply with Redis 7 metadata.
fn slots_reply() -> Frame {
    let node = |kind: char, i: u16, port: u16| {
        Frame::Array(vec![
            bulk("127.0.0.1"),
            Frame::Integer(port.into()),
            bulk(&id(kind, i)),
            Frame::Array(vec![]),
        ])
    };
    Frame::Array(
        (0..SHARDS)
            .map(|i| {
                let (start, end) = range(i);
                Frame::Array(vec![
                    Frame::Integer(start.into()),
                    Frame::Integer(end.into()),
                    node('a', i, 10000 + i),
                    node('b', i, 20000 + i),
                ])
            })
            .collect(),
    )
}

/// The CLUSTER NODES text.
fn nodes_text(moved: u16) -> String {
    let mut out = String::new();
    for i in 0..SHARDS {
        let (mut start, mut end) = range(i);
        // Move the first `moved` slots of shard 1 to shard 0.
        if i == 0 {
            end += moved;
        }
        if i == 1 {
            start += moved;
        }
        let me = if i == 0 { "myself,master" } else { "master" };
        out += &format!(
            "{} 127.0.0.1:{}@{} {me} - 0 1700000000000 {} connected {start}-{end}\n",
            id('a', i),
            10000 + i,
            30000 + i,
            i + 1
        );
        out += &format!(
            "{} 127.0.0.1:{}@{} slave {} 0 1700000000000 {} connected\n",
            id('b', i),
            20000 + i,
            40000 + i,
            id('a', i),
            i + 1
        );
    }
    out
}

fn parse(c: &mut Criterion) {
    let origin = Origin::unknown();
    let shards = shards_reply();
    let slots = slots_reply();
    let nodes = nodes_text(0);
    let shards_bytes = shards.to_bytes();
    let mut group = c.benchmark_group("topology/parse-100-shards");
    group.bench_function("shards", |b| {
        b.iter(|| Topology::from_cluster_shards(black_box(&shards), &origin).unwrap())
    });
    group.bench_function("shards+resp-decode", |b| {
        b.iter(|| {
            let (frame, _) = decode_complete(black_box(&shards_bytes), &Limits::DEFAULT)
                .unwrap()
                .unwrap();
            Topology::from_cluster_shards(&frame, &origin).unwrap()
        })
    });
    group.bench_function("slots", |b| {
        b.iter(|| Topology::from_cluster_slots(black_box(&slots), &origin).unwrap())
    });
    group.bench_function("nodes", |b| {
        b.iter(|| Topology::from_cluster_nodes(black_box(nodes.as_bytes()), &origin).unwrap())
    });
    group.finish();
}

fn diffs(c: &mut Criterion) {
    let origin = Origin::unknown();
    let before = Topology::from_cluster_nodes(nodes_text(0).as_bytes(), &origin).unwrap();
    let after = Topology::from_cluster_nodes(nodes_text(100).as_bytes(), &origin).unwrap();
    let failed_over = failover_all();
    assert_eq!(diff(&before, &after).slots_moved.len(), 1);
    assert_eq!(
        diff(&before, &failed_over).primaries_changed.len(),
        usize::from(SHARDS)
    );
    let mut group = c.benchmark_group("topology/diff-100-shards");
    group.bench_function("unchanged", |b| {
        b.iter(|| diff(black_box(&before), black_box(&before)))
    });
    group.bench_function("100-slots-moved", |b| {
        b.iter(|| diff(black_box(&before), black_box(&after)))
    });
    group.bench_function("every-shard-failed-over", |b| {
        b.iter(|| diff(black_box(&before), black_box(&failed_over)))
    });
    group.finish();
}

/// Every shard failed over: the replica is the primary (with the slots), the old primary its replica.
fn failover_all() -> Topology {
    let mut out = String::new();
    for i in 0..SHARDS {
        let (start, end) = range(i);
        out += &format!(
            "{} 127.0.0.1:{}@{} master - 0 0 {} connected {start}-{end}\n",
            id('b', i),
            20000 + i,
            40000 + i,
            i + 200
        );
        out += &format!(
            "{} 127.0.0.1:{}@{} slave {} 0 0 {} connected\n",
            id('a', i),
            10000 + i,
            30000 + i,
            id('b', i),
            i + 200
        );
    }
    Topology::from_cluster_nodes(out.as_bytes(), &Origin::unknown()).unwrap()
}

criterion_group!(benches, parse, diffs);
criterion_main!(benches);
