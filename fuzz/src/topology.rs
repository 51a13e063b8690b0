//! Fuzz bodies for slotwise-topology: the three parsers never panic, and what they build keeps the
//! topology's invariants (the slot map covers each slot at most once, diff with itself is empty).

use arbitrary::{Arbitrary, Unstructured};
use bytes::Bytes;
use slotwise_resp::{Frame, Limits, decode_complete};
use slotwise_topology::{
    Endpoint, Origin, SLOT_COUNT, Topology, diff, parse_cluster_nodes, select_view,
};

fn limits() -> Limits {
    let mut limits = Limits::DEFAULT;
    limits.max_depth = 16;
    limits.max_bulk_len = 4096;
    limits.max_aggregate_len = 2048;
    limits.max_frame_len = 256 * 1024;
    limits
}

/// The origins a reply may come from: unknown, a plain IPv4 address, an IPv6 address over TLS.
fn origins() -> [Origin; 3] {
    [
        Origin::unknown(),
        Origin::new(Endpoint::new("127.0.0.1", 7000)),
        Origin::new(Endpoint::new("::1", 7000)).with_tls(true),
    ]
}

/// The frames to try: `data` decoded as RESP, and `data` read as an arbitrary frame.
fn frames(data: &[u8]) -> Vec<Frame> {
    let mut frames = Vec::new();
    if let Ok(Some((frame, _))) = decode_complete(&Bytes::copy_from_slice(data), &limits()) {
        frames.push(frame);
    }
    if let Ok(frame) = Frame::arbitrary(&mut Unstructured::new(data)) {
        frames.push(frame);
    }
    frames
}

fn check(topology: &Topology) {
    let covered: usize = topology.shards().iter().map(|s| s.slot_count()).sum();
    assert_eq!(covered, topology.covered_slot_count());
    let uncovered: usize = topology.uncovered_slots().iter().map(|r| r.len()).sum();
    assert_eq!(covered + uncovered, usize::from(SLOT_COUNT));
    for slot in [0, 1, 8191, SLOT_COUNT - 1] {
        if let Some(shard) = topology.shard_for_slot(slot) {
            assert!(shard.slots.iter().any(|r| r.contains(slot)));
        }
    }
    assert!(diff(topology, topology).is_empty());
    let views = [topology.clone()];
    // A view always belongs to the cluster it describes.
    assert_eq!(
        select_view(&views, Some(topology)).map(|s| s.chosen),
        Some(0)
    );
    let _ = topology.to_string();
}

/// CLUSTER SHARDS replies.
pub fn shards(data: &[u8]) {
    for frame in frames(data) {
        for origin in origins() {
            if let Ok(topology) = Topology::from_cluster_shards(&frame, &origin) {
                check(&topology);
            }
        }
    }
}

/// CLUSTER SLOTS replies.
pub fn slots(data: &[u8]) {
    for frame in frames(data) {
        for origin in origins() {
            if let Ok(topology) = Topology::from_cluster_slots(&frame, &origin) {
                check(&topology);
            }
        }
    }
}

/// CLUSTER NODES text.
pub fn nodes(data: &[u8]) {
    let parsed = parse_cluster_nodes(data);
    for origin in origins() {
        let topology = Topology::from_cluster_nodes(data, &origin);
        assert_eq!(parsed.is_ok(), topology.is_ok());
        if let Ok(topology) = topology {
            check(&topology);
        }
    }
}
