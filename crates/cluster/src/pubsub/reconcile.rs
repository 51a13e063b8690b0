//! Where each subscription belongs, and the commands that put it there (make before break).

use alloc::collections::{BTreeMap, BTreeSet, VecDeque};
use alloc::vec::Vec;

use bytes::Bytes;

use super::wire::{self, Wire};
use super::{Expect, RETRY, Status, SubConn, SubscriptionKind};
use crate::conn::Role;
use crate::lifecycle::CloseReason;
use crate::{Cluster, ConnId, Instant};

/// How long a node's own `sunsubscribe` outweighs a slot map that still names it as the slot's
/// owner (refreshes are asked for meanwhile); after that the slot map is trusted again.
const DISOWNED_FOR: core::time::Duration = core::time::Duration::from_secs(5);

impl Cluster {
    /// The nodes a subscription belongs on now.
    pub(super) fn placements(&self, kind: SubscriptionKind, channel: &[u8]) -> Vec<usize> {
        match kind {
            SubscriptionKind::Channel | SubscriptionKind::Pattern => {
                self.pubsub.global.into_iter().collect()
            }
            SubscriptionKind::ShardChannel => {
                let slot = slotwise_slot::key_slot(channel).get();
                let replica = self.subscription_replica(slot);
                let owner = self.slot_map.owner(slot);
                if replica.is_none()
                    && self.pubsub.disowned.get(&slot).map(|&(n, _)| n) == owner
                    && owner.is_some()
                {
                    // The node itself said the slot is no longer its own: the slot map is stale
                    // (a refresh is asked for), and a replica would take the SSUBSCRIBE.
                    return Vec::new();
                }
                replica.or(owner).into_iter().collect()
            }
            SubscriptionKind::NodeChannel | SubscriptionKind::NodePattern => {
                let mut primaries: Vec<usize> = self.slot_map.primaries().collect();
                primaries.sort_unstable();
                primaries.dedup();
                primaries
            }
        }
    }

    /// Whether the subscription is confirmed on every node it is placed on.
    pub(super) fn covered(
        &self,
        kind: SubscriptionKind,
        channel: &Bytes,
        placed: &[usize],
    ) -> bool {
        let key = (kind.wire(), channel.clone());
        !placed.is_empty()
            && placed.iter().all(|&node| {
                self.subscriber_conn(node)
                    .and_then(|id| self.pubsub.conns.get(&id))
                    .is_some_and(|c| c.active.get(&key) == Some(&Status::Active))
            })
    }

    pub(super) fn subscriber_conn(&self, node: usize) -> Option<ConnId> {
        self.node(node)?.subscriber.as_ref().map(|c| c.id)
    }

    /// Keeps the node for cluster-wide subscriptions, or chooses one (a node in the topology that
    /// is not backing off, at random).
    pub(super) fn choose_global(&mut self) {
        let needed = self
            .pubsub
            .wants
            .keys()
            .any(|(k, _)| matches!(k, SubscriptionKind::Channel | SubscriptionKind::Pattern));
        if !needed {
            self.pubsub.global = None;
            return;
        }
        let now = self.now;
        let usable = |c: &Cluster, i: usize| {
            c.node(i)
                .is_some_and(|n| n.in_topology && (n.subscriber.is_some() || n.retry_at <= now))
        };
        if let Some(g) = self.pubsub.global
            && usable(self, g)
        {
            return;
        }
        let candidates: Vec<usize> = (0..self.nodes.len()).filter(|&i| usable(self, i)).collect();
        self.pubsub.global = match candidates.len() {
            0 => None,
            n => candidates.get(self.rng.below(n as u64) as usize).copied(),
        };
    }

    /// Node `node` unsubscribed shard channel `channel` by itself: its slot moved away.
    pub(super) fn disowned(&mut self, node: usize, channel: &[u8]) {
        let slot = slotwise_slot::key_slot(channel).get();
        self.pubsub
            .disowned
            .insert(slot, (node, self.now + DISOWNED_FOR));
    }

    /// Makes every node's subscriber connection carry what is placed there (see the module docs).
    pub(crate) fn pubsub_reconcile(&mut self) {
        if self.pubsub.wants.is_empty() && self.pubsub.conns.is_empty() {
            return;
        }
        // A disowned slot is believed until the slot map names another node or the time is up;
        // meanwhile refreshes are asked for (coalesced) until the map catches up.
        let now = self.now;
        let slot_map = &self.slot_map;
        self.pubsub
            .disowned
            .retain(|&slot, &mut (node, until)| until > now && slot_map.owner(slot) == Some(node));
        if !self.pubsub.disowned.is_empty() {
            self.trigger_refresh(crate::RefreshReason::Moved);
        }
        self.choose_global();
        let mut desired: BTreeMap<usize, BTreeSet<(Wire, Bytes)>> = BTreeMap::new();
        for (kind, channel) in self.pubsub.wants.keys() {
            for node in self.placements(*kind, channel) {
                desired
                    .entry(node)
                    .or_default()
                    .insert((kind.wire(), channel.clone()));
            }
        }
        let mut nodes: BTreeSet<usize> = desired.keys().copied().collect();
        nodes.extend(self.pubsub.conns.values().map(|c| c.node));
        let now = self.now;
        // After a refusal-for-now (`TRYAGAIN` …), nothing is subscribed until the retry time.
        let hold = self.pubsub.retry_at.is_some_and(|t| t > now);
        let empty = BTreeSet::new();
        for node in nodes {
            let want = desired.get(&node).unwrap_or(&empty);
            let Some(id) = self.subscriber_conn(node) else {
                if want.is_empty() {
                    continue;
                }
                let retry_at = self.node(node).map_or(Instant::MAX, |n| n.retry_at);
                if retry_at > now {
                    self.pubsub_timer(retry_at);
                } else if let Some(id) = self.open_conn(node, Role::Subscriber) {
                    self.pubsub_timer(now + self.config.connect_timeout);
                    self.pubsub.conns.insert(
                        id,
                        SubConn {
                            node,
                            ready: false,
                            active: BTreeMap::new(),
                            expect: VecDeque::new(),
                            ping_sent: None,
                        },
                    );
                }
                continue;
            };
            let Some(conn) = self.pubsub.conns.get(&id) else {
                continue;
            };
            if !conn.ready {
                continue;
            }
            let subscribe: Vec<(Wire, Bytes)> = want
                .iter()
                .filter(|_| !hold)
                .filter(|k| {
                    !matches!(
                        conn.active.get(*k),
                        Some(Status::Subscribing | Status::Active)
                    )
                })
                .cloned()
                .collect();
            let unsubscribe: Vec<(Wire, Bytes)> = conn
                .active
                .iter()
                .filter(|(k, s)| **s != Status::Unsubscribing && !want.contains(*k))
                .map(|(k, _)| k.clone())
                .filter(|k| self.moved_everywhere(k, &desired))
                .collect();
            if subscribe.is_empty() && unsubscribe.is_empty() {
                if want.is_empty() && conn.active.is_empty() && conn.expect.is_empty() {
                    self.close_conn(node, id, CloseReason::Released, true);
                }
                continue;
            }
            self.write_subscriptions(node, id, &subscribe, &unsubscribe);
        }
    }

    /// Whether `key`, no longer placed on some node, is confirmed everywhere it is placed now (or
    /// is placed nowhere): then the old node may drop it.
    pub(super) fn moved_everywhere(
        &self,
        key: &(Wire, Bytes),
        desired: &BTreeMap<usize, BTreeSet<(Wire, Bytes)>>,
    ) -> bool {
        desired
            .iter()
            .filter(|(_, set)| set.contains(key))
            .all(|(&node, _)| {
                self.subscriber_conn(node)
                    .and_then(|id| self.pubsub.conns.get(&id))
                    .is_some_and(|c| c.active.get(key) == Some(&Status::Active))
            })
    }

    pub(super) fn write_subscriptions(
        &mut self,
        node: usize,
        id: ConnId,
        subscribe: &[(Wire, Bytes)],
        unsubscribe: &[(Wire, Bytes)],
    ) {
        let Some(state) = self.pubsub.conns.get_mut(&id) else {
            return;
        };
        let Some(conn) = self
            .nodes
            .get_mut(node)
            .and_then(Option::as_mut)
            .and_then(|n| n.subscriber.as_mut())
        else {
            return;
        };
        for (wire, name) in subscribe {
            wire::write_command(&mut conn.wbuf, *wire, true, name);
            state.expect.push_back(Expect::Sub(*wire, name.clone()));
            state
                .active
                .insert((*wire, name.clone()), Status::Subscribing);
        }
        for (wire, name) in unsubscribe {
            wire::write_command(&mut conn.wbuf, *wire, false, name);
            state.expect.push_back(Expect::Unsub(*wire, name.clone()));
            state
                .active
                .insert((*wire, name.clone()), Status::Unsubscribing);
        }
        self.mark_dirty(node, id);
    }

    /// Writes refused-for-now subscribes again a little later.
    pub(super) fn pubsub_retry(&mut self) {
        let at = self.now + RETRY;
        self.pubsub.retry_at = Some(self.pubsub.retry_at.map_or(at, |t| t.min(at)));
        self.pubsub_timer(at);
    }
}
