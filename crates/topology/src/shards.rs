//! `CLUSTER SHARDS` (Redis 7+): an array of shards, each a map (RESP3) or an array of alternating keys
//! and values (RESP2) with `slots` (start/end pairs) and `nodes` (one map per node: `id`, `port`,
//! `tls-port`, `ip`, `endpoint`, `hostname`, `role`, `replication-offset`, `health`).

use alloc::format;
use alloc::vec::Vec;
use slotwise_resp::Frame;

use crate::announced::{Announced, find_responder};
use crate::reply::{integer, items, pairs, port, slot, string, text, top_level};
use crate::{
    Format, Health, Node, NodeId, Origin, ParseError, Problem, Role, SlotRange, Topology,
    TopologyBuilder,
};

const FORMAT: Format = Format::Shards;

impl Topology {
    /// Parses a `CLUSTER SHARDS` reply (RESP2 or RESP3) received from `origin`.
    ///
    /// Unknown fields are ignored (Redis adds fields over time). A shard with several `master` nodes
    /// takes the first healthy one as primary ([`Problem::PrimaryCount`]); a shard with none has its
    /// nodes kept as orphan replicas and its slots left uncovered.
    ///
    /// ```
    /// use slotwise_resp::{decode_complete, Limits, bytes::Bytes};
    /// use slotwise_topology::{Origin, Topology};
    ///
    /// let reply = Bytes::from_static(
    ///     b"*1\r\n*4\r\n$5\r\nslots\r\n*2\r\n:0\r\n:16383\r\n$5\r\nnodes\r\n*1\r\n\
    ///       *10\r\n$2\r\nid\r\n$1\r\na\r\n$4\r\nport\r\n:7000\r\n$2\r\nip\r\n$9\r\n127.0.0.1\r\n\
    ///       $4\r\nrole\r\n$6\r\nmaster\r\n$6\r\nhealth\r\n$6\r\nonline\r\n",
    /// );
    /// let (frame, _) = decode_complete(&reply, &Limits::DEFAULT)?.expect("complete");
    /// let topology = Topology::from_cluster_shards(&frame, &Origin::unknown())?;
    /// assert!(topology.is_fully_covered());
    /// assert_eq!(topology.primary_for_slot(0).unwrap().endpoint.as_ref().unwrap().port, 7000);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_cluster_shards(reply: &Frame, origin: &Origin) -> Result<Topology, ParseError> {
        let reply = top_level(reply, FORMAT)?;
        let shards = items(reply).ok_or_else(|| {
            ParseError::malformed(FORMAT, "the reply".into(), "an array of shards")
        })?;
        let mut builder = TopologyBuilder::new();
        builder.format(FORMAT);
        for (i, shard) in shards.iter().enumerate() {
            parse_shard(shard, i, origin, &mut builder)?;
        }
        let mut topology = builder.build();
        topology.responder = find_responder(origin, topology.nodes());
        Ok(topology)
    }
}

fn parse_shard(
    shard: &Frame,
    i: usize,
    origin: &Origin,
    builder: &mut TopologyBuilder,
) -> Result<(), ParseError> {
    let fields =
        pairs(shard).ok_or_else(|| ParseError::malformed(FORMAT, format!("shard {i}"), "a map"))?;
    let mut ranges = Vec::new();
    let mut nodes = Vec::new();
    for (key, value) in fields {
        match text(key) {
            Some(b"slots") => ranges = parse_ranges(value, i)?,
            Some(b"nodes") => {
                let list = items(value).ok_or_else(|| {
                    ParseError::malformed(FORMAT, format!("shard {i}, field \"nodes\""), "an array")
                })?;
                for (j, node) in list.iter().enumerate() {
                    nodes.push(parse_node(node, i, j, origin)?);
                }
            }
            _ => {}
        }
    }
    let primaries = nodes.iter().filter(|n| n.role == Role::Primary).count();
    let chosen = nodes
        .iter()
        .position(|n| n.role == Role::Primary && n.health == Health::Online)
        .or_else(|| nodes.iter().position(|n| n.role == Role::Primary));
    let Some(chosen) = chosen else {
        for node in nodes {
            builder.orphan_replica(node, None);
        }
        return Ok(());
    };
    let primary = nodes.remove(chosen);
    if primaries > 1 {
        builder.problem(Problem::PrimaryCount {
            primary: primary.id.clone(),
            count: primaries,
        });
    }
    builder.shard(primary, nodes, &ranges);
    Ok(())
}

fn parse_ranges(value: &Frame, i: usize) -> Result<Vec<SlotRange>, ParseError> {
    let at = || format!("shard {i}, field \"slots\"");
    let list = items(value).ok_or_else(|| ParseError::malformed(FORMAT, at(), "an array"))?;
    if list.len() % 2 != 0 {
        return Err(ParseError::malformed(FORMAT, at(), "start/end pairs"));
    }
    list.chunks_exact(2)
        .map(|pair| {
            let (Some(start), Some(end)) = (pair.first(), pair.get(1)) else {
                return Err(ParseError::malformed(FORMAT, at(), "start/end pairs"));
            };
            let (Some(start), Some(end)) = (slot(start), slot(end)) else {
                return Err(ParseError::malformed(FORMAT, at(), "slots 0..=16383"));
            };
            SlotRange::new(start, end)
                .ok_or_else(|| ParseError::malformed(FORMAT, at(), "start <= end"))
        })
        .collect()
}

fn parse_node(node: &Frame, i: usize, j: usize, origin: &Origin) -> Result<Node, ParseError> {
    let at = |field: &str| format!("shard {i}, node {j}, field \"{field}\"");
    let fields = pairs(node)
        .ok_or_else(|| ParseError::malformed(FORMAT, format!("shard {i}, node {j}"), "a map"))?;
    let mut id = None;
    let (mut plain_port, mut tls_port) = (None, None);
    let (mut ip, mut endpoint, mut hostname) = (None, None, None);
    let mut role = None;
    let mut health = Health::Unknown;
    let mut offset = None;
    for (key, value) in fields {
        let Some(key) = text(key) else { continue };
        let bad = |field: &str, expected| ParseError::malformed(FORMAT, at(field), expected);
        match key {
            b"id" => {
                id = Some(
                    text(value)
                        .and_then(NodeId::from_bytes)
                        .ok_or_else(|| bad("id", "a node id"))?,
                )
            }
            b"port" => plain_port = Some(port(value).ok_or_else(|| bad("port", "a port"))?),
            b"tls-port" => tls_port = Some(port(value).ok_or_else(|| bad("tls-port", "a port"))?),
            b"ip" => ip = Some(string(value).ok_or_else(|| bad("ip", "a string"))?),
            b"endpoint" => {
                endpoint = Some(string(value).ok_or_else(|| bad("endpoint", "a string"))?)
            }
            b"hostname" => {
                hostname = Some(string(value).ok_or_else(|| bad("hostname", "a string"))?)
            }
            b"role" => {
                role = Some(match text(value) {
                    Some(b"master" | b"primary") => Role::Primary,
                    Some(b"replica" | b"slave") => Role::Replica,
                    _ => return Err(bad("role", "master or replica")),
                })
            }
            b"health" => {
                health = match text(value) {
                    Some(b"online") => Health::Online,
                    // Redis 7.0 sends `fail`; the documentation says `failed`.
                    Some(b"failed" | b"fail") => Health::Failed,
                    Some(b"loading") => Health::Loading,
                    Some(_) => Health::Unknown,
                    None => return Err(bad("health", "a string")),
                }
            }
            b"replication-offset" => {
                offset =
                    Some(integer(value).ok_or_else(|| bad("replication-offset", "an integer"))?)
            }
            _ => {}
        }
    }
    let id = id.ok_or_else(|| ParseError::malformed(FORMAT, at("id"), "a node id (missing)"))?;
    let role = role.ok_or_else(|| ParseError::malformed(FORMAT, at("role"), "a role (missing)"))?;
    let announced = Announced::from_text(endpoint.as_deref().or(ip.as_deref()));
    let connect_port = if origin.tls {
        tls_port.or(plain_port)
    } else {
        plain_port
    };
    let mut node = Node::new(id, announced.resolve(connect_port, origin), role).with_health(health);
    node.ip = ip.filter(|s| !s.is_empty() && s != "?");
    node.hostname = hostname.filter(|s| !s.is_empty());
    node.port = plain_port;
    node.tls_port = tls_port;
    node.replication_offset = offset;
    Ok(node)
}
