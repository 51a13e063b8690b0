//! `CLUSTER NODES`: one text line per node, parsed with `nom`.
//!
//! ```text
//! <id> <ip:port@cport[,hostname]> <flags> <primary|-> <ping-sent> <pong-recv> <config-epoch> <link-state> <slot>…
//! ```
//!
//! Slots are `N`, `N-M`, and on the answering node's own line `[N->-peer]` (migrating to `peer`) and
//! `[N-<-peer]` (importing from `peer`).

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use nom::branch::alt;
use nom::bytes::complete::{tag, take_till1, take_while1};
use nom::character::complete::{char, u16 as dec_u16, u64 as dec_u64};
use nom::combinator::{all_consuming, map_opt, opt, value};
use nom::sequence::{delimited, preceded};
use nom::{IResult, Parser};
use slotwise_resp::Frame;

use crate::announced::Announced;
use crate::reply::top_level;
use crate::{
    Format, Health, MigrationDirection, Node, NodeId, Origin, ParseError, Problem, Role, SlotRange,
    Topology, TopologyBuilder,
};

const FORMAT: Format = Format::Nodes;

/// The flags of a CLUSTER NODES line. Unknown flags are ignored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct NodeFlags {
    /// `myself`: the node that answered.
    pub myself: bool,
    /// `master`.
    pub primary: bool,
    /// `slave`.
    pub replica: bool,
    /// `fail?`: the answering node suspects it is down (PFAIL).
    pub possibly_failed: bool,
    /// `fail`: the cluster agreed it is down.
    pub failed: bool,
    /// `handshake`: not yet a trusted member; its id is provisional.
    pub handshake: bool,
    /// `noaddr`: its address is unknown.
    pub no_address: bool,
    /// `nofailover`: a replica that will not attempt failover.
    pub no_failover: bool,
}

/// The link between the answering node and this one over the cluster bus.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LinkState {
    /// `connected`.
    Connected,
    /// `disconnected`.
    Disconnected,
}

/// A slot entry of a CLUSTER NODES line.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SlotEntry {
    /// `N` or `N-M`: slots the node serves.
    Range(SlotRange),
    /// `[N->-peer]` or `[N-<-peer]`: a migration in progress.
    Migration {
        /// The slot.
        slot: u16,
        /// Migrating (to `peer`) or importing (from `peer`).
        direction: MigrationDirection,
        /// The other node.
        peer: NodeId,
    },
}

/// One line of CLUSTER NODES.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct NodeLine {
    /// The node's id.
    pub id: NodeId,
    /// Its IP address; empty when the node does not know it yet.
    pub ip: String,
    /// Its client port (the TLS port when the cluster uses TLS and the connection does too).
    pub port: u16,
    /// Its cluster bus port (absent before Redis 4).
    pub cluster_bus_port: Option<u16>,
    /// Its announced hostname (Redis 7), if any.
    pub hostname: Option<String>,
    /// Its flags.
    pub flags: NodeFlags,
    /// For a replica, its primary's id.
    pub primary: Option<NodeId>,
    /// When the last ping was sent (ms since the epoch; 0 if none is pending).
    pub ping_sent: u64,
    /// When the last pong was received (ms since the epoch).
    pub pong_received: u64,
    /// The node's config epoch.
    pub config_epoch: u64,
    /// The cluster bus link state.
    pub link: LinkState,
    /// Its slots and migrations, in line order.
    pub slots: Vec<SlotEntry>,
}

/// Parses the text of a CLUSTER NODES reply into its lines (empty lines are skipped; `\r\n` is fine).
///
/// ```
/// use slotwise_topology::parse_cluster_nodes;
/// let text = "07c37dfeb235213a872192d90877d0cd55635b91 127.0.0.1:30004@31004,host-4 slave \
///             e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 0 1426238317239 4 connected\n\
///             e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 127.0.0.1:30001@31001 myself,master - 0 0 1 \
///             connected 0-5460 [93->-292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f]\n";
/// let lines = parse_cluster_nodes(text.as_bytes())?;
/// assert_eq!(lines.len(), 2);
/// assert_eq!(lines[0].hostname.as_deref(), Some("host-4"));
/// assert!(lines[1].flags.myself && lines[1].flags.primary);
/// # Ok::<(), slotwise_topology::ParseError>(())
/// ```
pub fn parse_cluster_nodes(text: &[u8]) -> Result<Vec<NodeLine>, ParseError> {
    let text = core::str::from_utf8(text).map_err(|e| {
        ParseError::malformed(FORMAT, format!("byte {}", e.valid_up_to()), "UTF-8 text")
    })?;
    text.split('\n')
        .enumerate()
        .map(|(i, line)| (i + 1, line.strip_suffix('\r').unwrap_or(line)))
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(number, line)| parse_line(line, number))
        .collect()
}

fn parse_line(line: &str, number: usize) -> Result<NodeLine, ParseError> {
    let mut fields = line.split(' ').filter(|f| !f.is_empty());
    let mut next = |name: &'static str| {
        fields.next().ok_or_else(|| {
            ParseError::malformed(
                FORMAT,
                format!("line {number}, field \"{name}\""),
                "a value (missing)",
            )
        })
    };
    let id_text = next("id")?;
    let address = next("address")?;
    let flags = next("flags")?;
    let primary = next("primary")?;
    let ping = next("ping-sent")?;
    let pong = next("pong-recv")?;
    let epoch = next("config-epoch")?;
    let link = next("link-state")?;
    let slots: Vec<&str> = fields.collect();

    let bad = |field: &str, token: &str, expected| {
        let shown: String = token.chars().take(48).collect();
        ParseError::malformed(
            FORMAT,
            format!("line {number}, field \"{field}\" ({shown:?})"),
            expected,
        )
    };
    let id = NodeId::new(id_text).ok_or_else(|| bad("id", id_text, "a node id"))?;
    let (ip, port, cluster_bus_port, hostname) = parse_address(address)
        .ok_or_else(|| bad("address", address, "ip:port@cport[,hostname]"))?;
    let flags =
        whole(node_flags, flags).ok_or_else(|| bad("flags", flags, "comma-separated flags"))?;
    let primary = match primary {
        "-" => None,
        other => Some(NodeId::new(other).ok_or_else(|| bad("primary", other, "a node id or -"))?),
    };
    let number_of =
        |field, token| whole(dec_u64, token).ok_or_else(|| bad(field, token, "a number"));
    let ping_sent = number_of("ping-sent", ping)?;
    let pong_received = number_of("pong-recv", pong)?;
    let config_epoch = number_of("config-epoch", epoch)?;
    let link = match link {
        "connected" => LinkState::Connected,
        "disconnected" => LinkState::Disconnected,
        other => return Err(bad("link-state", other, "connected or disconnected")),
    };
    let slots = slots
        .into_iter()
        .map(|token| {
            whole(slot_entry, token)
                .ok_or_else(|| bad("slot", token, "N, N-M, [N->-id] or [N-<-id]"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(NodeLine {
        id,
        ip,
        port,
        cluster_bus_port,
        hostname,
        flags,
        primary,
        ping_sent,
        pong_received,
        config_epoch,
        link,
        slots,
    })
}

/// Runs `parser` on the whole of `token`.
fn whole<'a, O>(
    parser: impl Parser<&'a str, Output = O, Error = nom::error::Error<&'a str>>,
    token: &'a str,
) -> Option<O> {
    all_consuming(parser).parse(token).ok().map(|(_, out)| out)
}

type Address = (String, u16, Option<u16>, Option<String>);

/// `ip:port@cport[,hostname[,aux=value…]]`. The IP may be IPv6 (the last colon ends it) or empty.
fn parse_address(token: &str) -> Option<Address> {
    let mut parts = token.split(',');
    let address = parts.next()?;
    // Auxiliary `key=value` fields (nodes.conf in Redis 7.2+) after the hostname are ignored.
    let hostname = parts.next().filter(|h| !h.is_empty() && !h.contains('='));
    let (host_port, bus) = match address.split_once('@') {
        Some((hp, bus)) => (hp, Some(whole(dec_u16, bus)?)),
        None => (address, None),
    };
    let (ip, port) = host_port.rsplit_once(':')?;
    let port = whole(dec_u16, port)?;
    let ip = ip
        .strip_prefix('[')
        .and_then(|i| i.strip_suffix(']'))
        .unwrap_or(ip);
    Some((String::from(ip), port, bus, hostname.map(String::from)))
}

fn node_flags(input: &str) -> IResult<&str, NodeFlags> {
    let mut flags = NodeFlags::default();
    let (rest, words) =
        nom::multi::separated_list1(char(','), take_while1(|c: char| c != ',')).parse(input)?;
    for word in words {
        match word {
            "myself" => flags.myself = true,
            "master" => flags.primary = true,
            "slave" => flags.replica = true,
            "fail?" => flags.possibly_failed = true,
            "fail" => flags.failed = true,
            "handshake" => flags.handshake = true,
            "noaddr" => flags.no_address = true,
            "nofailover" => flags.no_failover = true,
            _ => {} // `noflags`, and flags a later Redis may add.
        }
    }
    Ok((rest, flags))
}

fn slot_number(input: &str) -> IResult<&str, u16> {
    map_opt(dec_u16, |s| (s < crate::SLOT_COUNT).then_some(s)).parse(input)
}

fn slot_entry(input: &str) -> IResult<&str, SlotEntry> {
    let range = map_opt(
        (slot_number, opt(preceded(char('-'), slot_number))),
        |(start, end)| SlotRange::new(start, end.unwrap_or(start)).map(SlotEntry::Range),
    );
    let direction = alt((
        value(MigrationDirection::Migrating, tag("->-")),
        value(MigrationDirection::Importing, tag("-<-")),
    ));
    let migration = map_opt(
        delimited(
            char('['),
            (slot_number, direction, take_till1(|c| c == ']')),
            char(']'),
        ),
        |(slot, direction, peer)| {
            Some(SlotEntry::Migration {
                slot,
                direction,
                peer: NodeId::new(peer)?,
            })
        },
    );
    alt((migration, range)).parse(input)
}

impl Topology {
    /// Builds a topology from the text of a CLUSTER NODES reply received from `origin`.
    ///
    /// Nodes in `handshake` are left out (their ids are provisional). A slot claimed by two primaries
    /// goes to the one with the higher config epoch. An empty IP on the `myself` line is the origin's
    /// host. `fail` is [`Health::Failed`], `fail?` is [`Health::PossiblyFailed`].
    pub fn from_cluster_nodes(text: &[u8], origin: &Origin) -> Result<Topology, ParseError> {
        let lines = parse_cluster_nodes(text)?;
        Ok(Topology::from_node_lines(&lines, origin))
    }

    /// Like [`Topology::from_cluster_nodes`], from the RESP reply (a bulk or verbatim string).
    pub fn from_cluster_nodes_reply(
        reply: &Frame,
        origin: &Origin,
    ) -> Result<Topology, ParseError> {
        let reply = top_level(reply, FORMAT)?;
        let text = crate::reply::text(reply)
            .ok_or_else(|| ParseError::malformed(FORMAT, "the reply".into(), "a string"))?;
        Topology::from_cluster_nodes(text, origin)
    }

    /// Builds a topology from already parsed CLUSTER NODES lines.
    pub fn from_node_lines(lines: &[NodeLine], origin: &Origin) -> Topology {
        let mut builder = TopologyBuilder::new();
        builder.format(FORMAT);
        let members: Vec<&NodeLine> = lines.iter().filter(|l| !l.flags.handshake).collect();
        let mut replicas: BTreeMap<&NodeId, Vec<Node>> = BTreeMap::new();
        let primaries: Vec<&NodeLine> = members
            .iter()
            .copied()
            .filter(|l| l.flags.primary)
            .collect();
        for line in members
            .iter()
            .filter(|l| l.flags.replica && !l.flags.primary)
        {
            let node = to_node(line, Role::Replica, origin);
            match &line.primary {
                Some(p) if primaries.iter().any(|q| &q.id == p) => {
                    replicas.entry(p).or_default().push(node);
                }
                other => {
                    builder.orphan_replica(node, other.clone());
                }
            }
        }
        for line in &primaries {
            let ranges: Vec<SlotRange> = line
                .slots
                .iter()
                .filter_map(|s| match s {
                    SlotEntry::Range(r) => Some(*r),
                    SlotEntry::Migration { .. } => None,
                })
                .collect();
            let own = replicas.remove(&line.id).unwrap_or_default();
            builder.shard(to_node(line, Role::Primary, origin), own, &ranges);
        }
        for line in &members {
            for entry in &line.slots {
                if let SlotEntry::Migration {
                    slot,
                    direction,
                    peer,
                } = entry
                {
                    if !members.iter().any(|m| &m.id == peer) {
                        builder.problem(Problem::MigrationPeerUnknown {
                            slot: *slot,
                            peer: peer.clone(),
                        });
                    }
                    builder.migration(*slot, line.id.clone(), peer.clone(), *direction);
                }
            }
        }
        let myself = members
            .iter()
            .find(|l| l.flags.myself)
            .map(|l| l.id.clone());
        builder.responder(myself.or_else(|| origin.node_id.clone()));
        builder.build()
    }
}

fn to_node(line: &NodeLine, role: Role, origin: &Origin) -> Node {
    let announced = if line.flags.no_address || (line.ip.is_empty() && !line.flags.myself) {
        Announced::Unknown
    } else {
        Announced::from_text(Some(&line.ip))
    };
    let health = if line.flags.failed {
        Health::Failed
    } else if line.flags.possibly_failed {
        Health::PossiblyFailed
    } else {
        Health::Online
    };
    let mut node = Node::new(
        line.id.clone(),
        announced.resolve(Some(line.port), origin),
        role,
    )
    .with_health(health)
    .with_config_epoch(line.config_epoch);
    node.ip = (!line.ip.is_empty()).then(|| line.ip.clone());
    node.hostname = line.hostname.clone();
    if origin.tls {
        node.port = None;
        node.tls_port = Some(line.port);
    }
    node
}
