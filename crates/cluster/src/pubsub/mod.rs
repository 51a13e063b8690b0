//! Pub/sub: subscriptions kept on subscriber connections of their own, apart from request
//! traffic, and kept alive through connection loss, failover and slot migration.
//!
//! The caller says what it wants ([`Cluster::subscribe`]); the core works out where each
//! subscription must live and makes the servers agree:
//!
//! | kind | command | lives on |
//! |---|---|---|
//! | [`SubscriptionKind::Channel`], [`SubscriptionKind::Pattern`] | `SUBSCRIBE`, `PSUBSCRIBE` | one node, any (the cluster broadcasts `PUBLISH` to every node) |
//! | [`SubscriptionKind::ShardChannel`] | `SSUBSCRIBE` | the node serving the channel's slot (a replica with [`ReadFrom::PreferReplica`](crate::ReadFrom)) |
//! | [`SubscriptionKind::NodeChannel`], [`SubscriptionKind::NodePattern`] | `SUBSCRIBE`, `PSUBSCRIBE` | every primary (node-local channels: keyspace notifications) |
//!
//! Each node has at most one subscriber connection, which carries every subscription placed
//! there. After anything that may move a subscription — a subscriber connection lost, a topology
//! change, `MOVED` on `SSUBSCRIBE`, the server's own `sunsubscribe` when a slot moves away — the
//! core *reconciles*: it subscribes where a subscription is now placed and, once that is
//! confirmed, unsubscribes where it is no longer placed (make before break: a message published
//! during a move may come twice, never not at all). A subscription that lost its server side is
//! [`PubSubEvent::Interrupted`]; when it is back everywhere it is placed,
//! [`PubSubEvent::Resubscribed`] carries the window in which messages may have been missed.
//! A node that unsubscribed a shard channel by itself is not asked for that slot again while the
//! slot map still names it (for up to 5 s; refreshes are asked meanwhile): a view taken
//! mid-failover may still name the demoted primary, which as a replica would accept the
//! `SSUBSCRIBE` and keep the subscription away from the new primary.
//!
//! Every command on a subscriber connection names one channel, so each has exactly one answer
//! (a confirmation or an error), matched in order; messages and the server's own unsubscribes
//! come between. An idle subscriber connection is pinged; one that stops answering is closed and
//! its subscriptions move.

//!
//! The parts: `types` (what callers see), `reconcile` (where each subscription belongs, and the
//! commands that put it there), `heard` (confirmations, messages and errors from subscriber
//! connections, and their loss), `keepalive` (pings, stalls, retries) and `wire` (the bytes).

use alloc::collections::{BTreeMap, BTreeSet, VecDeque};
use alloc::vec::Vec;

use bytes::Bytes;

use crate::{Cluster, ConnId, Instant, Output};
use wire::Wire;

mod heard;
mod keepalive;
mod reconcile;
mod types;
pub(crate) mod wire;

pub use types::{Message, MessageKind, PubSubEvent, SubscriberId, SubscriptionKind};

/// A subscription's server-side state on one connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    Subscribing,
    Active,
    Unsubscribing,
}

/// An answer a subscriber connection owes, in the order the commands were written.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Expect {
    Sub(Wire, Bytes),
    Unsub(Wire, Bytes),
    Ping,
}

#[derive(Debug)]
struct SubConn {
    node: usize,
    ready: bool,
    active: BTreeMap<(Wire, Bytes), Status>,
    expect: VecDeque<Expect>,
    ping_sent: Option<Instant>,
}

#[derive(Debug, Default)]
struct Want {
    subscribers: BTreeSet<SubscriberId>,
    /// Since when messages may be missed (set while the subscription is interrupted).
    interrupted: Option<Instant>,
}

/// The pub/sub part of the core.
#[derive(Debug, Default)]
pub(crate) struct PubSub {
    next_subscriber: u64,
    subscribers: BTreeSet<SubscriberId>,
    wants: BTreeMap<(SubscriptionKind, Bytes), Want>,
    /// The node cluster-wide channels and patterns live on.
    global: Option<usize>,
    conns: BTreeMap<ConnId, SubConn>,
    /// When to look again (pings, reconnects, a retried subscribe).
    timer: Option<Instant>,
    /// A refused-for-now subscribe (`TRYAGAIN`, `CLUSTERDOWN` …) is written again at this time.
    retry_at: Option<Instant>,
    /// Slots whose shard channels a node unsubscribed by itself (`sunsubscribe`: the slot moved
    /// away), until when that is believed over a slot map that still names the node (see
    /// `reconcile.rs`).
    disowned: BTreeMap<u16, (usize, Instant)>,
}

impl PubSub {
    /// True while `node` carries or should carry subscriptions (it must not be forgotten).
    pub(crate) fn uses(&self, node: usize) -> bool {
        self.global == Some(node) || self.conns.values().any(|c| c.node == node)
    }

    /// The earliest instant something is due.
    pub(crate) fn next_timer(&self) -> Instant {
        self.timer.unwrap_or(Instant::MAX)
    }
}

/// How long a `TRYAGAIN`-like refusal waits before the subscribe is written again.
const RETRY: core::time::Duration = core::time::Duration::from_millis(100);

impl Cluster {
    /// A new subscriber, with no subscriptions yet.
    pub fn open_subscriber(&mut self) -> SubscriberId {
        self.pubsub.next_subscriber += 1;
        let id = SubscriberId(self.pubsub.next_subscriber);
        self.pubsub.subscribers.insert(id);
        id
    }

    /// Subscribes `subscriber` to `channels` (patterns, for the pattern kinds). Each confirmation
    /// comes as [`PubSubEvent::Subscribed`], then messages; already subscribed ones are kept. An
    /// unknown or closed subscriber is ignored.
    pub fn subscribe(
        &mut self,
        now: Instant,
        subscriber: SubscriberId,
        kind: SubscriptionKind,
        channels: impl IntoIterator<Item = Bytes>,
    ) {
        self.advance(now);
        if !self.pubsub.subscribers.contains(&subscriber) {
            return;
        }
        for channel in channels {
            let want = self
                .pubsub
                .wants
                .entry((kind, channel.clone()))
                .or_default();
            let fresh = want.subscribers.insert(subscriber);
            // Joining a subscription the server already confirmed: say so at once.
            if fresh && want.subscribers.len() > 1 && want.interrupted.is_none() {
                let placed = self.placements(kind, &channel);
                if let Some(&node) = placed.first()
                    && self.covered(kind, &channel, &placed)
                    && let Some(node) = self.endpoint_of(Some(node))
                {
                    self.out.push_back(Output::PubSub {
                        subscriber,
                        event: PubSubEvent::Subscribed {
                            kind,
                            channel,
                            node,
                        },
                    });
                }
            }
        }
        self.pubsub_reconcile();
    }

    /// Unsubscribes `subscriber` from `channels` of `kind` (from all of that kind if `channels` is
    /// empty). Each ends with [`PubSubEvent::Unsubscribed`] at once: no message of it follows.
    pub fn unsubscribe(
        &mut self,
        now: Instant,
        subscriber: SubscriberId,
        kind: SubscriptionKind,
        channels: impl IntoIterator<Item = Bytes>,
    ) {
        self.advance(now);
        let mut names: Vec<Bytes> = channels.into_iter().collect();
        if names.is_empty() {
            names = self
                .pubsub
                .wants
                .iter()
                .filter(|((k, _), w)| *k == kind && w.subscribers.contains(&subscriber))
                .map(|((_, c), _)| c.clone())
                .collect();
        }
        for channel in names {
            let key = (kind, channel);
            let Some(want) = self.pubsub.wants.get_mut(&key) else {
                continue;
            };
            if !want.subscribers.remove(&subscriber) {
                continue;
            }
            if want.subscribers.is_empty() {
                self.pubsub.wants.remove(&key);
            }
            let (kind, channel) = key;
            self.out.push_back(Output::PubSub {
                subscriber,
                event: PubSubEvent::Unsubscribed { kind, channel },
            });
        }
        self.pubsub_reconcile();
    }

    /// Ends `subscriber`: its subscriptions go (quietly), and nothing more comes for it.
    pub fn close_subscriber(&mut self, now: Instant, subscriber: SubscriberId) {
        self.advance(now);
        if !self.pubsub.subscribers.remove(&subscriber) {
            return;
        }
        self.pubsub.wants.retain(|_, w| {
            w.subscribers.remove(&subscriber);
            !w.subscribers.is_empty()
        });
        self.pubsub_reconcile();
    }

    /// What `subscriber` is subscribed to (asked for: confirmed or not).
    pub fn subscriptions(
        &self,
        subscriber: SubscriberId,
    ) -> impl Iterator<Item = (SubscriptionKind, &Bytes)> + '_ {
        self.pubsub
            .wants
            .iter()
            .filter(move |(_, w)| w.subscribers.contains(&subscriber))
            .map(|((k, c), _)| (*k, c))
    }
}

/// Queues `event` for each of `subscribers`.
fn tell(out: &mut VecDeque<Output>, subscribers: &BTreeSet<SubscriberId>, event: &PubSubEvent) {
    for &subscriber in subscribers {
        out.push_back(Output::PubSub {
            subscriber,
            event: event.clone(),
        });
    }
}
