//! Which node serves a read-only command under [`ReadFrom`]: the primary, a replica at random,
//! the replicas in turn, or a replica in the client's own zone (availability zone), falling back
//! to any replica and then the primary. A replica whose connection is failing is skipped; a
//! replica that was promoted is a primary in the next topology (and a `READONLY`/`MOVED` on the
//! way sends the read to the primary).
//!
//! A node's zone is what the server reports in its `HELLO` reply (`availability_zone`, as Valkey
//! 8 announces it), else what [`Config::zone_of`](crate::Config::zone_of) maps its endpoint to.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;

use slotwise_resp::Frame;
use slotwise_topology::Endpoint;

use crate::{Cluster, ReadFrom};

/// Maps a node's endpoint to its zone, for servers that do not report one. Closures implement
/// it through [`ZoneOf::new`].
#[derive(Clone)]
pub struct ZoneOf(Arc<ZoneFn>);

/// The mapping inside a [`ZoneOf`].
type ZoneFn = dyn Fn(&Endpoint) -> Option<String> + Send + Sync;

impl ZoneOf {
    /// From a mapping.
    ///
    /// ```
    /// use slotwise_cluster::{Endpoint, ZoneOf};
    /// let zones = ZoneOf::new(|e: &Endpoint| Some(if e.port % 2 == 0 { "a" } else { "b" }.into()));
    /// assert_eq!(zones.zone(&Endpoint::new("10.0.0.1", 7000)).as_deref(), Some("a"));
    /// ```
    pub fn new(map: impl Fn(&Endpoint) -> Option<String> + Send + Sync + 'static) -> ZoneOf {
        ZoneOf(Arc::new(map))
    }

    /// The zone of `endpoint`, if the mapping knows it.
    #[must_use]
    pub fn zone(&self, endpoint: &Endpoint) -> Option<String> {
        (self.0)(endpoint)
    }
}

impl fmt::Debug for ZoneOf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ZoneOf(..)")
    }
}

/// The state of replica choice: whose turn it is under [`ReadFrom::RoundRobin`].
#[derive(Debug, Default)]
pub(crate) struct Reads {
    turn: u64,
}

/// The `availability_zone` field of a `HELLO` reply, if the server reports one.
pub(crate) fn hello_zone(reply: &Frame) -> Option<String> {
    let pairs: Vec<(&Frame, &Frame)> = match reply {
        Frame::Map(pairs) => pairs.iter().map(|(k, v)| (k, v)).collect(),
        Frame::Array(items) => items
            .chunks_exact(2)
            .filter_map(|p| Some((p.first()?, p.get(1)?)))
            .collect(),
        _ => return None,
    };
    pairs.into_iter().find_map(|(k, v)| {
        let key = k.as_bytes()?;
        if key.as_ref() != b"availability_zone" {
            return None;
        }
        let zone = core::str::from_utf8(v.as_bytes()?).ok()?;
        (!zone.is_empty()).then(|| String::from(zone))
    })
}

impl Cluster {
    /// The replica to read `slot` from, or `None` for the primary. Allocates nothing: it counts
    /// the candidates, picks an index, and walks to it.
    pub(crate) fn replica_for_read(&mut self, slot: u16) -> Option<usize> {
        let read_from = self.config.read_from;
        if read_from == ReadFrom::Primary {
            return None;
        }
        // SameZone: the replicas in the client's zone if one of them works, else all of them.
        let in_zone = read_from == ReadFrom::SameZone
            && self.config.zone.is_some()
            && self
                .readers(slot, self.config.zone.as_deref())
                .next()
                .is_some();
        let zone = if in_zone {
            self.config.zone.as_deref()
        } else {
            None
        };
        let count = self.readers(slot, zone).count() as u64;
        if count == 0 {
            return None;
        }
        let pick = match read_from {
            ReadFrom::PreferReplica => self.rng.below(count),
            _ => {
                self.reads.turn = self.reads.turn.wrapping_add(1);
                self.reads.turn % count
            }
        };
        self.readers(slot, zone).nth(usize::try_from(pick).ok()?)
    }

    /// The replicas of `slot`'s shard that may serve a read now (their connection is not
    /// failing), only those in `zone` when it is given.
    fn readers<'a>(&'a self, slot: u16, zone: Option<&'a str>) -> impl Iterator<Item = usize> + 'a {
        self.slot_map
            .replicas(slot)
            .iter()
            .copied()
            .filter(move |&r| {
                self.node(r).is_some_and(|n| {
                    n.failures == 0 && zone.is_none_or(|z| n.zone.as_deref() == Some(z))
                })
            })
    }

    /// Where a shard channel of `slot` is subscribed when reads use replicas: a stable choice (a
    /// subscription must not hop on every reconcile), the shard's first replica — in the client's
    /// zone under [`ReadFrom::SameZone`] if one is there. `None`: the primary.
    pub(crate) fn subscription_replica(&self, slot: u16) -> Option<usize> {
        let replicas = self.slot_map.replicas(slot);
        match self.config.read_from {
            ReadFrom::Primary => None,
            ReadFrom::SameZone => replicas
                .iter()
                .copied()
                .find(|&r| {
                    self.config.zone.is_some()
                        && self.node(r).and_then(|n| n.zone.as_ref()) == self.config.zone.as_ref()
                })
                .or_else(|| replicas.first().copied()),
            _ => replicas.first().copied(),
        }
    }

    /// A node's zone as it reported it (`HELLO`), over any mapped one.
    pub(crate) fn zone_reported(&mut self, node: usize, reply: &Frame) {
        if let Some(zone) = hello_zone(reply)
            && let Some(n) = self.node_mut(node)
        {
            n.zone = Some(zone);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_zone_from_hello() {
        let bulk = |s: &'static str| Frame::BulkString(s.into());
        let resp3 = Frame::Map(alloc::vec![
            (bulk("server"), bulk("valkey")),
            (bulk("availability_zone"), bulk("us-east-1a")),
        ]);
        assert_eq!(hello_zone(&resp3).as_deref(), Some("us-east-1a"));
        let resp2 = Frame::Array(alloc::vec![bulk("availability_zone"), bulk("b")]);
        assert_eq!(hello_zone(&resp2).as_deref(), Some("b"));
        let none = Frame::Map(alloc::vec![(bulk("availability_zone"), bulk(""))]);
        assert_eq!(hello_zone(&none), None);
        assert_eq!(hello_zone(&Frame::SimpleString("OK".into())), None);
    }
}
