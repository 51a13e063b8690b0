//! Helpers shared by the integration tests: building RESP replies and topologies.
#![allow(dead_code, unreachable_pub)]

pub mod live;

use slotwise_resp::Frame;
use slotwise_resp::bytes::Bytes;
use slotwise_topology::{Endpoint, Node, NodeId, Role, SlotRange, Topology, TopologyBuilder};

pub fn bulk(s: &str) -> Frame {
    Frame::BulkString(Bytes::copy_from_slice(s.as_bytes()))
}

pub fn int(n: i64) -> Frame {
    Frame::Integer(n)
}

pub fn arr(items: Vec<Frame>) -> Frame {
    Frame::Array(items)
}

/// A RESP3 map, or (resp2) an array of alternating keys and values.
pub fn map(resp3: bool, pairs: Vec<(&str, Frame)>) -> Frame {
    if resp3 {
        Frame::Map(pairs.into_iter().map(|(k, v)| (bulk(k), v)).collect())
    } else {
        Frame::Array(pairs.into_iter().flat_map(|(k, v)| [bulk(k), v]).collect())
    }
}

/// A 40-character node id from a short name.
pub fn id(name: &str) -> String {
    format!("{name:0>40}")
}

pub fn node_id(name: &str) -> NodeId {
    NodeId::new(&id(name)).unwrap()
}

pub fn range(start: u16, end: u16) -> SlotRange {
    SlotRange::new(start, end).unwrap()
}

pub fn node(name: &str, port: u16, role: Role) -> Node {
    Node::new(node_id(name), Some(Endpoint::new("127.0.0.1", port)), role)
}

/// `n` shards splitting the slots evenly, primary `p{i}` on port 7000+i, one replica `r{i}` on 8000+i.
pub fn even(n: u16) -> Topology {
    let mut b = TopologyBuilder::new();
    let per = 16384 / n;
    for i in 0..n {
        let end = if i == n - 1 { 16383 } else { (i + 1) * per - 1 };
        b.shard(
            node(&format!("p{i}"), 7000 + i, Role::Primary),
            vec![node(&format!("r{i}"), 8000 + i, Role::Replica)],
            &[range(i * per, end)],
        );
    }
    b.build()
}
