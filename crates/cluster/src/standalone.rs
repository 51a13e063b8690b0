//! A standalone server (cluster mode off) as the cluster of one shard it amounts to: every slot
//! on that one primary. A seed that answers `CLUSTER SHARDS` with "cluster support disabled"
//! runs the client in standalone mode — unless [`Config::deployment`](crate::Config::deployment)
//! demands a cluster — and everything else (routing, retries, deadlines, `maybe_applied`,
//! transactions, pub/sub, fan-out to "every primary") works unchanged.

use slotwise_topology::{Endpoint, Node, NodeId, Role, SlotRange, Topology, TopologyBuilder};

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

/// True if an error reply to `CLUSTER SHARDS`/`SLOTS` says the server is not in cluster mode.
pub(crate) fn says_standalone(line: &[u8]) -> bool {
    line.windows(24)
        .any(|w| w.eq_ignore_ascii_case(b"cluster support disabled"))
}

#[cfg(test)]
mod tests {
    use super::*;

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
