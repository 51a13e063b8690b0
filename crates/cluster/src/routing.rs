//! Routing a request: choosing the node for it (`route`, `dispatch`), queueing it there
//! (`enqueue`), writing it on the node's connection (`write_on`, `flush_queue`).

use crate::conn::Waiting;
use crate::entry::{Lane, Place};
use crate::slab::Key;
use crate::{Cluster, ConnId, DownCause, RefreshReason, RequestError};

/// `ASKING`, written just before an asked request.
const ASKING: &[u8] = b"*1\r\n$6\r\nASKING\r\n";

impl Cluster {
    /// Sends the request where it belongs now: a node's connection or queue, or the unrouted queue
    /// (no node serves its slot yet).
    pub(crate) fn dispatch(&mut self, key: Key) {
        let Some(entry) = self.entries.get(key) else {
            return;
        };
        let session_node = match entry.lane {
            Lane::Session(s) => self.sessions.get(&s).and_then(|s| s.node),
            _ => None,
        };
        let target = if let Some(node) = entry.pinned.or(session_node) {
            Some(node)
        } else if let Some(ask) = entry.ask.clone() {
            Some(self.node_for(&ask))
        } else {
            self.route(key)
        };
        match target {
            Some(node) => self.enqueue(key, node),
            None => {
                let no_topology = self.slot_map.known.is_none();
                let seen = self.unrouted_cause();
                if let Some(e) = self.entries.get_mut(key) {
                    e.place = Place::Unrouted;
                    // A node's own CLUSTERDOWN line says more than the map: keep it.
                    let said = matches!(
                        e.last,
                        Some(RequestError::ClusterDown {
                            seen: DownCause::Said { .. },
                            ..
                        })
                    );
                    if e.last.is_none()
                        || !said && matches!(e.last, Some(RequestError::ClusterDown { .. }))
                    {
                        e.last = Some(RequestError::ClusterDown { slot: e.slot, seen });
                    }
                }
                self.unrouted.push_back(key);
                let held = self.sentinel_holds_writes();
                if !no_topology && !held && self.config.refresh.triggers.uncovered_slot {
                    self.trigger_refresh(RefreshReason::UncoveredSlot);
                }
            }
        }
    }

    /// Why a request has nowhere to go, as of now: no topology yet (and the last unusable
    /// answer), or no shard for its slot.
    pub(crate) fn unrouted_cause(&self) -> DownCause {
        if self.slot_map.known.is_none() {
            DownCause::NoTopology {
                last_unusable: self.refresh.last_unusable.clone(),
            }
        } else if let Some(s) = self
            .config
            .sentinel
            .as_ref()
            .filter(|_| self.sentinel_holds_writes())
        {
            DownCause::FailingOver {
                master: s.master.clone(),
            }
        } else {
            DownCause::Uncovered
        }
    }

    fn route(&mut self, key: Key) -> Option<usize> {
        let entry = self.entries.get(key)?;
        let (slot, read_only, to_primary) = (entry.slot, entry.read_only, entry.to_primary);
        if !read_only && self.sentinel_holds_writes() {
            // A Sentinel failover is under way: writes wait for the new primary (`sentinel/`).
            return None;
        }
        match slot {
            Some(slot) => {
                let primary = self.slot_map.owner(slot)?;
                if read_only
                    && !to_primary
                    && self.config.read_from.uses_replicas()
                    && let Some(r) = self.replica_for_read(slot)
                {
                    return Some(r);
                }
                Some(primary)
            }
            None => {
                // Keyless: any primary, preferring one with a healthy connection.
                let count = self.slot_map.shards.len() as u64;
                if count == 0 {
                    return None;
                }
                let start = self.rng.below(count) as usize;
                let primaries: alloc::vec::Vec<usize> = self.slot_map.primaries().collect();
                let pick = |ok: &dyn Fn(usize) -> bool| {
                    (0..primaries.len())
                        .filter_map(|i| primaries.get((start + i) % primaries.len()))
                        .copied()
                        .find(|&p| ok(p))
                };
                pick(&|p| self.node(p).is_some_and(|n| n.failures == 0)).or_else(|| pick(&|_| true))
            }
        }
    }

    /// Queues the request on `node`, or writes it if the connection is ready: the shared
    /// connection, a dedicated one (blocking commands), or its session's.
    pub(crate) fn enqueue(&mut self, key: Key, node: usize) {
        let bound = self.config.queue_bound;
        let Some(n) = self.node(node) else {
            return;
        };
        match self.entries.get(key).map(|e| e.lane) {
            Some(Lane::Blocking) => return self.enqueue_blocking(key, node),
            Some(Lane::Session(s)) => return self.session_enqueue(s, key, node),
            _ => {}
        }
        if n.load() >= bound {
            let endpoint = n.endpoint.clone();
            self.fail(key, RequestError::QueueFull { node: endpoint });
            return;
        }
        // While a connection is set aside as suspect, new requests wait behind what is in flight
        // on it, even if the probe is ready: never reordered past it.
        let ready = n
            .conn
            .as_ref()
            .filter(|c| c.is_ready() && n.suspect.is_none())
            .map(|c| c.id);
        if let Some(e) = self.entries.get_mut(key) {
            e.node = Some(node);
        }
        if let Some(id) = ready {
            self.write_on(node, id, key);
            return;
        }
        let Some(n) = self.node_mut(node) else {
            return;
        };
        n.queue.push_back(key);
        n.queued += 1;
        if let Some(e) = self.entries.get_mut(key) {
            e.place = Place::Queued(node);
        }
        self.ensure_connecting(node);
    }

    /// Writes the request on the node's (ready) connection `id`.
    pub(crate) fn write_on(&mut self, node: usize, id: ConnId, key: Key) {
        let now = self.now;
        let Some(entry) = self.entries.get_mut(key) else {
            return;
        };
        let Some(conn) = self
            .nodes
            .get_mut(node)
            .and_then(Option::as_mut)
            .and_then(|n| n.conn_mut(id))
        else {
            return;
        };
        let was_idle = conn.fifo.is_empty();
        if was_idle {
            conn.busy_since = now;
        }
        if entry.ask.take().is_some() {
            conn.wbuf.extend_from_slice(ASKING);
            conn.fifo.push_back(Waiting::Asking);
        }
        conn.wbuf.extend_from_slice(&entry.wire);
        conn.fifo.push_back(Waiting::Request(key));
        entry.place = Place::InFlight(node);
        entry.node = Some(node);
        entry.sent_at = now;
        self.mark_dirty(node, id);
        if was_idle {
            self.suspicion_watch(now);
        }
    }

    pub(crate) fn mark_dirty(&mut self, node: usize, id: ConnId) {
        if !self.dirty.contains(&(node, id)) {
            self.dirty.push((node, id));
        }
    }

    /// Writes every live request queued on `node` (its connection just became ready).
    pub(crate) fn flush_queue(&mut self, node: usize) {
        let Some(n) = self.node_mut(node) else {
            return;
        };
        let queue = core::mem::take(&mut n.queue);
        n.queued = 0;
        let Some(id) = n.conn.as_ref().map(|c| c.id) else {
            return;
        };
        for key in queue {
            if self
                .entries
                .get(key)
                .is_some_and(|e| e.place == Place::Queued(node))
            {
                self.write_on(node, id, key);
            }
        }
    }
}
