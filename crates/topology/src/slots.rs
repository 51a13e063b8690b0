//! `CLUSTER SLOTS`: an array of `[start, end, primary, replica…]`, each node being
//! `[endpoint, port, id, metadata]` (the id since Redis 4, the metadata map since Redis 7:
//! `hostname`, `ip`). Failed replicas are left out by the server.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::vec::Vec;
use slotwise_resp::Frame;

use crate::announced::{Announced, find_responder};
use crate::reply::{is_null, items, pairs, port, slot, string, text, top_level};
use crate::{
    Format, Health, Node, NodeId, Origin, ParseError, Problem, Role, SlotRange, Topology,
    TopologyBuilder,
};

const FORMAT: Format = Format::Slots;

impl Topology {
    /// Parses a `CLUSTER SLOTS` reply (RESP2 or RESP3) received from `origin`.
    ///
    /// A NULL or empty endpoint is the node that answered (the origin's host with the given port);
    /// `?` leaves the endpoint unknown. Ranges with the same primary id make one shard; if their
    /// replica lists differ, the union is kept and [`Problem::ReplicasDiffer`] reported. Nodes without
    /// an id (Redis before 4.0) are rejected. CLUSTER SLOTS gives no health: nodes are
    /// [`Health::Unknown`].
    ///
    /// ```
    /// use slotwise_resp::{decode_complete, Limits, bytes::Bytes};
    /// use slotwise_topology::{Endpoint, Origin, Topology};
    ///
    /// // One range whose primary has an empty endpoint: "the node you asked".
    /// let reply = Bytes::from_static(
    ///     b"*1\r\n*3\r\n:0\r\n:16383\r\n*4\r\n$0\r\n\r\n:7000\r\n$1\r\na\r\n*0\r\n",
    /// );
    /// let (frame, _) = decode_complete(&reply, &Limits::DEFAULT)?.expect("complete");
    /// let origin = Origin::new(Endpoint::new("10.0.0.5", 7000));
    /// let topology = Topology::from_cluster_slots(&frame, &origin)?;
    /// let primary = topology.primary_for_slot(100).unwrap();
    /// assert_eq!(primary.endpoint, Some(Endpoint::new("10.0.0.5", 7000)));
    /// assert_eq!(topology.responder().unwrap().as_str(), "a");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_cluster_slots(reply: &Frame, origin: &Origin) -> Result<Topology, ParseError> {
        let reply = top_level(reply, FORMAT)?;
        let entries = items(reply).ok_or_else(|| {
            ParseError::malformed(FORMAT, "the reply".into(), "an array of slot ranges")
        })?;
        let mut shards: Vec<(Node, Vec<Node>, Vec<SlotRange>)> = Vec::new();
        let mut by_primary: BTreeMap<NodeId, usize> = BTreeMap::new();
        let mut problems = Vec::new();
        for (i, entry) in entries.iter().enumerate() {
            let (range, primary, replicas) = parse_entry(entry, i, origin)?;
            match by_primary.get(&primary.id).and_then(|&k| shards.get_mut(k)) {
                Some((_, known, ranges)) => {
                    ranges.push(range);
                    let same = known.len() == replicas.len()
                        && known.iter().zip(&replicas).all(|(a, b)| a.id == b.id);
                    if !same {
                        let reported = Problem::ReplicasDiffer {
                            primary: primary.id.clone(),
                        };
                        if !problems.contains(&reported) {
                            problems.push(reported);
                        }
                        for replica in replicas {
                            if !known.iter().any(|k| k.id == replica.id) {
                                known.push(replica);
                            }
                        }
                    }
                }
                None => {
                    by_primary.insert(primary.id.clone(), shards.len());
                    shards.push((primary, replicas, alloc::vec![range]));
                }
            }
        }
        let mut builder = TopologyBuilder::new();
        builder.format(FORMAT);
        for problem in problems {
            builder.problem(problem);
        }
        for (primary, replicas, ranges) in shards {
            builder.shard(primary, replicas, &ranges);
        }
        let mut topology = builder.build();
        topology.responder = find_responder(origin, topology.nodes());
        Ok(topology)
    }
}

type Entry = (SlotRange, Node, Vec<Node>);

fn parse_entry(entry: &Frame, i: usize, origin: &Origin) -> Result<Entry, ParseError> {
    let at = || format!("range {i}");
    let fields = items(entry).ok_or_else(|| ParseError::malformed(FORMAT, at(), "an array"))?;
    let [start, end, primary, replicas @ ..] = fields else {
        return Err(ParseError::malformed(
            FORMAT,
            at(),
            "start, end and a primary",
        ));
    };
    let (Some(start), Some(end)) = (slot(start), slot(end)) else {
        return Err(ParseError::malformed(FORMAT, at(), "slots 0..=16383"));
    };
    let range = SlotRange::new(start, end)
        .ok_or_else(|| ParseError::malformed(FORMAT, at(), "start <= end"))?;
    let primary = parse_node(primary, i, 0, Role::Primary, origin)?;
    let replicas = replicas
        .iter()
        .enumerate()
        .map(|(j, r)| parse_node(r, i, j + 1, Role::Replica, origin))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((range, primary, replicas))
}

fn parse_node(
    node: &Frame,
    i: usize,
    j: usize,
    role: Role,
    origin: &Origin,
) -> Result<Node, ParseError> {
    let at = |what: &str| format!("range {i}, node {j}{what}");
    let bad = |what: &str, expected| ParseError::malformed(FORMAT, at(what), expected);
    let fields = items(node).ok_or_else(|| bad("", "an array"))?;
    let [endpoint, port_frame, id, rest @ ..] = fields else {
        return Err(bad("", "endpoint, port and node id"));
    };
    let endpoint = if is_null(endpoint) {
        None
    } else {
        Some(string(endpoint).ok_or_else(|| bad(", endpoint", "a string or null"))?)
    };
    let plain_port = port(port_frame).ok_or_else(|| bad(", port", "a port"))?;
    let id = text(id)
        .and_then(NodeId::from_bytes)
        .ok_or_else(|| bad(", id", "a node id"))?;
    let (mut ip, mut hostname) = (None, None);
    if let Some(metadata) = rest.first() {
        let metadata = pairs(metadata).ok_or_else(|| bad(", metadata", "a map"))?;
        for (key, value) in metadata {
            match text(key) {
                Some(b"ip") => ip = string(value),
                Some(b"hostname") => hostname = string(value),
                _ => {}
            }
        }
    }
    let announced = Announced::from_text(endpoint.as_deref());
    let mut node = Node::new(id, announced.resolve(Some(plain_port), origin), role)
        .with_health(Health::Unknown);
    // The endpoint is the IP unless the metadata says otherwise (hostname or unknown-endpoint type).
    node.ip = ip.or(match &announced {
        Announced::Host(h) if hostname.as_deref() != Some(h) && ip_like(h) => Some(h.clone()),
        _ => None,
    });
    node.hostname = hostname.filter(|h| !h.is_empty());
    // Over TLS the server gives the TLS port here.
    if origin.tls {
        node.port = None;
        node.tls_port = Some(plain_port);
    } else {
        node.port = Some(plain_port);
    }
    Ok(node)
}

/// True for text that looks like an IPv4 or IPv6 address (digits, dots, colons, hex letters).
fn ip_like(host: &str) -> bool {
    host.contains(':') || host.bytes().all(|b| b.is_ascii_digit() || b == b'.')
}
