//! A standalone server (cluster mode off) as the cluster of one shard it amounts to: every slot
//! on that one primary. A seed that answers `CLUSTER SHARDS` with "cluster support disabled"
//! runs the client in standalone mode — unless [`Config::deployment`](crate::Config::deployment)
//! demands a cluster — and everything else (routing, retries, deadlines, `maybe_applied`,
//! transactions, pub/sub, fan-out to "every primary") works unchanged.
//!
//! Its `ROLE` (asked at every refresh) fills in the shard: a primary lists the replicas online
//! with it, which serve reads under a [`ReadFrom`](crate::ReadFrom) that uses replicas; a seed
//! that is a replica names its primary, which then takes the writes (the seed serves reads). A
//! server that does not answer `ROLE` is a primary without replicas.

use alloc::string::String;
use alloc::vec::Vec;

use slotwise_resp::Frame;
use slotwise_topology::{Endpoint, Node, NodeId, Role, SlotRange, Topology, TopologyBuilder};

use crate::Cluster;
use crate::entry::Kind;

/// What kind of deployment the seeds are.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Deployment {
    /// A cluster, or a standalone server if the seed says cluster support is disabled.
    #[default]
    Auto,
    /// Only a cluster: a standalone seed is an unusable answer
    /// ([`Event::TopologyUnusable`](crate::Event::TopologyUnusable)).
    Cluster,
}

/// The id a standalone server gets in the one-shard topology.
pub(crate) fn standalone_id(endpoint: &Endpoint) -> Option<NodeId> {
    NodeId::new(&alloc::format!(
        "standalone@{}:{}",
        endpoint.host,
        endpoint.port
    ))
}

/// The topology of a standalone server at `endpoint`: one shard, every slot.
pub(crate) fn one_shard(endpoint: &Endpoint) -> Option<Topology> {
    one_shard_of(endpoint, &[])
}

/// One shard, every slot: `primary` and its `replicas` (a Sentinel deployment's, say).
pub(crate) fn one_shard_of(primary: &Endpoint, replicas: &[Endpoint]) -> Option<Topology> {
    let id = standalone_id(primary)?;
    let node = Node::new(id.clone(), Some(primary.clone()), Role::Primary);
    let replicas = replicas
        .iter()
        .filter(|r| *r != primary)
        .filter_map(|r| Some(Node::new(standalone_id(r)?, Some(r.clone()), Role::Replica)))
        .collect();
    let mut builder = TopologyBuilder::new();
    builder
        .shard(node, replicas, &[SlotRange::new(0, 16383)?])
        .responder(Some(id));
    Some(builder.build())
}

/// What a server's `ROLE` says.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum RoleAnswer {
    /// A primary, with the replicas online with it.
    Primary(Vec<Endpoint>),
    /// A replica of this primary.
    Replica(Endpoint),
    /// A sentinel, or a role this client does not know.
    Other,
}

fn text(frame: &Frame) -> Option<&str> {
    match frame {
        Frame::BulkString(b) | Frame::SimpleString(b) => core::str::from_utf8(b).ok(),
        _ => None,
    }
}

fn endpoint(host: Option<&Frame>, port: Option<&Frame>) -> Option<Endpoint> {
    let host = text(host?)?;
    let port: u16 = match port? {
        Frame::Integer(p) => u16::try_from(*p).ok()?,
        other => text(other)?.parse().ok()?,
    };
    (!host.is_empty() && port != 0).then(|| Endpoint::new(host, port))
}

/// Reads a `ROLE` answer: `[master, offset, [[ip, port, offset] …]]` or `[slave, ip, port, state,
/// offset]`; `Err` says what was wrong with it.
pub(crate) fn parse_role(frame: &Frame) -> Result<RoleAnswer, String> {
    let items = match frame {
        Frame::Array(items) => items,
        Frame::SimpleError(line) | Frame::BulkError(line) => {
            return Err(alloc::format!("`{}`", String::from_utf8_lossy(line)));
        }
        other => return Err(alloc::format!("{other:?}")),
    };
    match items.first().and_then(text) {
        Some(r) if r.eq_ignore_ascii_case("master") => {
            let replicas = match items.get(2) {
                Some(Frame::Array(list)) => list
                    .iter()
                    .filter_map(|r| match r {
                        Frame::Array(f) => endpoint(f.first(), f.get(1)),
                        _ => None,
                    })
                    .collect(),
                _ => Vec::new(),
            };
            Ok(RoleAnswer::Primary(replicas))
        }
        Some(r) if r.eq_ignore_ascii_case("slave") || r.eq_ignore_ascii_case("replica") => {
            endpoint(items.get(1), items.get(2))
                .map(RoleAnswer::Replica)
                .ok_or_else(|| alloc::format!("a replica of no readable primary: {items:?}"))
        }
        Some(_) => Ok(RoleAnswer::Other),
        None => Err(alloc::format!("{items:?}")),
    }
}

/// `ROLE`.
pub(crate) fn role_command() -> bytes::Bytes {
    bytes::Bytes::from_static(b"*1\r\n$4\r\nROLE\r\n")
}

impl Cluster {
    /// Asks standalone server `node` its `ROLE`, for refresh round `round`.
    pub(crate) fn ask_role(&mut self, round: u64, node: usize) {
        self.ask_node(node, Kind::StandaloneRole { round }, role_command());
    }

    /// Standalone server `node`'s `ROLE` (`None`: no answer): the one-shard topology it makes.
    pub(crate) fn on_standalone_role(
        &mut self,
        round: u64,
        node: Option<usize>,
        reply: Option<Frame>,
    ) {
        let Some(server) = self.endpoint_of(node) else {
            return self.round_answer(round, None);
        };
        let topology = match reply.as_ref().map(parse_role) {
            Some(Ok(RoleAnswer::Primary(replicas))) => one_shard_of(&server, &replicas),
            Some(Ok(RoleAnswer::Replica(primary))) => {
                one_shard_of(&primary, core::slice::from_ref(&server))
            }
            // No ROLE (or an odd one): the server is all there is.
            _ => one_shard(&server),
        };
        self.round_answer(round, topology);
    }
}

/// True if an error reply to `CLUSTER SHARDS`/`SLOTS` says the server is not in cluster mode.
pub(crate) fn says_standalone(line: &[u8]) -> bool {
    line.windows(24)
        .any(|w| w.eq_ignore_ascii_case(b"cluster support disabled"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Frame {
        Frame::BulkString(bytes::Bytes::copy_from_slice(s.as_bytes()))
    }

    #[test]
    fn role_answers() {
        let primary = Frame::Array(alloc::vec![
            bulk("master"),
            Frame::Integer(10),
            Frame::Array(alloc::vec![
                Frame::Array(alloc::vec![bulk("127.0.0.1"), bulk("6380"), bulk("10")]),
                Frame::Array(alloc::vec![bulk("127.0.0.1"), bulk("x"), bulk("10")]),
            ]),
        ]);
        assert_eq!(
            parse_role(&primary),
            Ok(RoleAnswer::Primary(alloc::vec![Endpoint::new(
                "127.0.0.1",
                6380
            )]))
        );
        let replica = Frame::Array(alloc::vec![
            bulk("slave"),
            bulk("127.0.0.1"),
            Frame::Integer(6379),
            bulk("connected"),
            Frame::Integer(10),
        ]);
        assert_eq!(
            parse_role(&replica),
            Ok(RoleAnswer::Replica(Endpoint::new("127.0.0.1", 6379)))
        );
        let sentinel = Frame::Array(alloc::vec![bulk("sentinel"), Frame::Array(alloc::vec![])]);
        assert_eq!(parse_role(&sentinel), Ok(RoleAnswer::Other));
        assert!(parse_role(&Frame::Array(alloc::vec![bulk("slave")])).is_err());
        assert!(parse_role(&Frame::SimpleError("ERR unknown command".into())).is_err());
        assert!(parse_role(&Frame::Integer(1)).is_err());
    }

    #[test]
    fn one_shard_covers_every_slot() {
        let t = one_shard(&Endpoint::new("127.0.0.1", 6379)).unwrap();
        assert!(t.is_fully_covered());
        assert_eq!(t.shards().len(), 1);
        assert!(says_standalone(
            b"ERR This instance has cluster support disabled"
        ));
        assert!(!says_standalone(b"ERR unknown subcommand"));
    }
}
