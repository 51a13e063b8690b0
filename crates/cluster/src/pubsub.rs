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
//!
//! Every command on a subscriber connection names one channel, so each has exactly one answer
//! (a confirmation or an error), matched in order; messages and the server's own unsubscribes
//! come between. An idle subscriber connection is pinged; one that stops answering is closed and
//! its subscriptions move.

use alloc::collections::{BTreeMap, BTreeSet, VecDeque};
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use bytes::Bytes;
use slotwise_resp::Frame;
use slotwise_topology::Endpoint;

use crate::conn::Role;
use crate::lifecycle::CloseReason;
use crate::pubsub_wire::{self, Heard, Wire};
use crate::redirect::{self, Redirect};
use crate::{Cluster, ConnId, Event, Instant, Output, ReadFrom, RefreshReason};

/// A subscriber, named by [`Cluster::open_subscriber`]: a set of subscriptions whose messages and
/// events come out as [`Output::PubSub`] with its id. Ids are never reused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SubscriberId(pub u64);

impl fmt::Display for SubscriberId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "subscriber#{}", self.0)
    }
}

/// What a subscription is to, and so where it lives (see the module table in the crate docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum SubscriptionKind {
    /// `SUBSCRIBE channel`, cluster-wide.
    Channel,
    /// `PSUBSCRIBE pattern`, cluster-wide.
    Pattern,
    /// `SSUBSCRIBE channel`: a shard channel, on the shard serving the channel's slot.
    ShardChannel,
    /// `SUBSCRIBE channel` on every primary: a node-local channel (`__keyevent@0__:set`).
    NodeChannel,
    /// `PSUBSCRIBE pattern` on every primary: node-local channels (`__keyspace@0__:user:*`).
    NodePattern,
}

impl SubscriptionKind {
    fn wire(self) -> Wire {
        match self {
            SubscriptionKind::Channel | SubscriptionKind::NodeChannel => Wire::Channel,
            SubscriptionKind::Pattern | SubscriptionKind::NodePattern => Wire::Pattern,
            SubscriptionKind::ShardChannel => Wire::Shard,
        }
    }

    const ALL: [SubscriptionKind; 5] = [
        SubscriptionKind::Channel,
        SubscriptionKind::Pattern,
        SubscriptionKind::ShardChannel,
        SubscriptionKind::NodeChannel,
        SubscriptionKind::NodePattern,
    ];

    fn of_wire(wire: Wire) -> impl Iterator<Item = SubscriptionKind> {
        SubscriptionKind::ALL
            .into_iter()
            .filter(move |k| k.wire() == wire)
    }
}

/// How a message was published (and so what it was received through).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MessageKind {
    /// `message`: `PUBLISH` to a subscribed channel.
    Message,
    /// `pmessage`: `PUBLISH` to a channel matching a subscribed pattern.
    PMessage,
    /// `smessage`: `SPUBLISH` to a subscribed shard channel.
    SMessage,
}

impl fmt::Display for MessageKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MessageKind::Message => "message",
            MessageKind::PMessage => "pmessage",
            MessageKind::SMessage => "smessage",
        })
    }
}

/// A published message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// How it came.
    pub kind: MessageKind,
    /// The channel it was published to.
    pub channel: Bytes,
    /// The subscribed pattern it matched (`pmessage` only).
    pub pattern: Option<Bytes>,
    /// What was published.
    pub payload: Bytes,
    /// The node whose subscriber connection delivered it.
    pub node: Endpoint,
}

impl Message {
    fn empty() -> Message {
        Message {
            kind: MessageKind::Message,
            channel: Bytes::new(),
            pattern: None,
            payload: Bytes::new(),
            node: Endpoint::new("", 0),
        }
    }
}

/// What a subscriber hears: messages, and what happened to its subscriptions.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PubSubEvent {
    /// A message.
    Message(Message),
    /// The server confirmed the subscription on `node`.
    Subscribed {
        /// The kind.
        kind: SubscriptionKind,
        /// The channel or pattern.
        channel: Bytes,
        /// Where it lives.
        node: Endpoint,
    },
    /// The subscription lost its server side on `node` (its connection was lost, or the server
    /// dropped it because the channel's slot moved away); messages may be missed from `since` until
    /// the [`PubSubEvent::Resubscribed`] that follows.
    Interrupted {
        /// The kind.
        kind: SubscriptionKind,
        /// The channel or pattern.
        channel: Bytes,
        /// Where it was.
        node: Endpoint,
        /// When the node was last heard from (or when it dropped the subscription).
        since: Instant,
    },
    /// The subscription is back everywhere it is placed; messages published between `missed_from`
    /// and `missed_until` may have been missed.
    Resubscribed {
        /// The kind.
        kind: SubscriptionKind,
        /// The channel or pattern.
        channel: Bytes,
        /// Where it lives now (the last node that confirmed it).
        node: Endpoint,
        /// Start of the window (the [`PubSubEvent::Interrupted`]'s `since`).
        missed_from: Instant,
        /// End of the window: the confirmation.
        missed_until: Instant,
    },
    /// The server refused the subscription (an ACL without the channel, …): it is dropped.
    Refused {
        /// The kind.
        kind: SubscriptionKind,
        /// The channel or pattern.
        channel: Bytes,
        /// The node that refused.
        node: Endpoint,
        /// The server's error line.
        error: Bytes,
    },
    /// The caller's unsubscribe took effect: no more messages from it.
    Unsubscribed {
        /// The kind.
        kind: SubscriptionKind,
        /// The channel or pattern.
        channel: Bytes,
    },
}

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

    /// The nodes a subscription belongs on now.
    fn placements(&self, kind: SubscriptionKind, channel: &[u8]) -> Vec<usize> {
        match kind {
            SubscriptionKind::Channel | SubscriptionKind::Pattern => {
                self.pubsub.global.into_iter().collect()
            }
            SubscriptionKind::ShardChannel => {
                let slot = slotwise_slot::key_slot(channel).get();
                let replica = match self.config.read_from {
                    ReadFrom::PreferReplica => self.slot_map.replicas(slot).first().copied(),
                    _ => None,
                };
                replica
                    .or_else(|| self.slot_map.owner(slot))
                    .into_iter()
                    .collect()
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
    fn covered(&self, kind: SubscriptionKind, channel: &Bytes, placed: &[usize]) -> bool {
        let key = (kind.wire(), channel.clone());
        !placed.is_empty()
            && placed.iter().all(|&node| {
                self.subscriber_conn(node)
                    .and_then(|id| self.pubsub.conns.get(&id))
                    .is_some_and(|c| c.active.get(&key) == Some(&Status::Active))
            })
    }

    fn subscriber_conn(&self, node: usize) -> Option<ConnId> {
        self.node(node)?.subscriber.as_ref().map(|c| c.id)
    }

    /// Keeps the node for cluster-wide subscriptions, or chooses one (a node in the topology that
    /// is not backing off, at random).
    fn choose_global(&mut self) {
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

    /// Makes every node's subscriber connection carry what is placed there (see the module docs).
    pub(crate) fn pubsub_reconcile(&mut self) {
        if self.pubsub.wants.is_empty() && self.pubsub.conns.is_empty() {
            return;
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
    fn moved_everywhere(
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

    fn write_subscriptions(
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
            pubsub_wire::write_command(&mut conn.wbuf, *wire, true, name);
            state.expect.push_back(Expect::Sub(*wire, name.clone()));
            state
                .active
                .insert((*wire, name.clone()), Status::Subscribing);
        }
        for (wire, name) in unsubscribe {
            pubsub_wire::write_command(&mut conn.wbuf, *wire, false, name);
            state.expect.push_back(Expect::Unsub(*wire, name.clone()));
            state
                .active
                .insert((*wire, name.clone()), Status::Unsubscribing);
        }
        self.mark_dirty(node, id);
    }

    /// A subscriber connection finished its handshake.
    pub(crate) fn on_subscriber_ready(&mut self, id: ConnId) {
        if let Some(c) = self.pubsub.conns.get_mut(&id) {
            c.ready = true;
        }
        let keepalive = self.config.pubsub_keepalive;
        self.pubsub_timer(self.now + keepalive);
        self.pubsub_reconcile();
    }

    /// One frame on a ready subscriber connection.
    pub(crate) fn on_subscriber_frame(&mut self, node: usize, id: ConnId, frame: Frame) {
        let Some(endpoint) = self.endpoint_of(Some(node)) else {
            return;
        };
        match pubsub_wire::hear(frame) {
            Heard::Message {
                wire,
                channel,
                pattern,
                payload,
            } => self.deliver(id, endpoint, wire, channel, pattern, payload),
            Heard::Subscribed { wire, name } => {
                self.take_expected(id, &Expect::Sub(wire, name.clone()));
                let key = (wire, name.clone());
                let Some(c) = self.pubsub.conns.get_mut(&id) else {
                    return;
                };
                match c.active.get(&key) {
                    Some(Status::Subscribing) => {
                        c.active.insert(key, Status::Active);
                    }
                    Some(_) => {}
                    None => {
                        // Confirmed for a subscribe we did not write (or already gave up on):
                        // the server's state must not keep it.
                        let unsubscribe = [(wire, name.clone())];
                        self.write_subscriptions(node, id, &[], &unsubscribe);
                        return;
                    }
                }
                self.announce(node, &endpoint, wire, &name);
                self.pubsub_reconcile();
            }
            Heard::Unsubscribed { wire, name } => {
                let Some(name) = name else {
                    return;
                };
                let asked = self.take_expected(id, &Expect::Unsub(wire, name.clone()));
                let key = (wire, name.clone());
                let Some(c) = self.pubsub.conns.get_mut(&id) else {
                    return;
                };
                if asked {
                    if c.active.get(&key) == Some(&Status::Unsubscribing) {
                        c.active.remove(&key);
                    }
                } else if c.active.remove(&key).is_some() {
                    // The server's own: the channel's slot moved away (`sunsubscribe`).
                    let now = self.now;
                    self.interrupted(&endpoint, &[key], now);
                    self.trigger_refresh(RefreshReason::Moved);
                }
                self.pubsub_reconcile();
            }
            Heard::Pong => {
                self.take_expected(id, &Expect::Ping);
                if let Some(c) = self.pubsub.conns.get_mut(&id) {
                    c.ping_sent = None;
                }
                let keepalive = self.config.pubsub_keepalive;
                self.pubsub_timer(self.now + keepalive);
            }
            Heard::Error(line) => self.on_subscriber_error(node, id, endpoint, line),
            Heard::Unknown(what) => self.event(Event::PubSubUnexpected {
                endpoint,
                what: String::from("the subscriber connection got ") + &what,
            }),
        }
    }

    /// Removes `what` from the connection's expected answers (normally at the front).
    fn take_expected(&mut self, id: ConnId, what: &Expect) -> bool {
        let Some(c) = self.pubsub.conns.get_mut(&id) else {
            return false;
        };
        match c.expect.iter().position(|e| e == what) {
            Some(i) => {
                c.expect.remove(i);
                true
            }
            None => false,
        }
    }

    /// An error reply: the answer to the oldest command not yet answered.
    fn on_subscriber_error(&mut self, node: usize, id: ConnId, endpoint: Endpoint, line: Bytes) {
        let Some(c) = self.pubsub.conns.get_mut(&id) else {
            return;
        };
        let Some(expected) = c.expect.pop_front() else {
            self.event(Event::PubSubUnexpected {
                endpoint,
                what: String::from("an error reply nothing asked for: ")
                    + &String::from_utf8_lossy(&line),
            });
            return;
        };
        let (wire, name) = match expected {
            Expect::Ping => {
                c.ping_sent = None;
                return;
            }
            Expect::Unsub(wire, name) => {
                c.active.remove(&(wire, name));
                return;
            }
            Expect::Sub(wire, name) => (wire, name),
        };
        c.active.remove(&(wire, name.clone()));
        let frame = Frame::SimpleError(line.clone());
        match redirect::classify(&frame, &endpoint) {
            Some(Redirect::Moved { slot, to }) => {
                let target = self.node_for(&to);
                if target != node {
                    self.slot_map.correct(slot, target);
                }
                self.trigger_refresh(RefreshReason::Moved);
                if target == node {
                    self.pubsub_retry();
                } else {
                    self.pubsub_reconcile();
                }
            }
            Some(_) => self.pubsub_retry(),
            None => {
                // Refused for good: every subscription of that name placed here is dropped.
                let kinds: Vec<SubscriptionKind> = SubscriptionKind::of_wire(wire)
                    .filter(|k| self.placements(*k, &name).contains(&node))
                    .collect();
                for kind in kinds {
                    let Some(want) = self.pubsub.wants.remove(&(kind, name.clone())) else {
                        continue;
                    };
                    let event = PubSubEvent::Refused {
                        kind,
                        channel: name.clone(),
                        node: endpoint.clone(),
                        error: line.clone(),
                    };
                    tell(&mut self.out, &want.subscribers, &event);
                }
                self.pubsub_reconcile();
            }
        }
    }

    /// Writes refused-for-now subscribes again a little later.
    fn pubsub_retry(&mut self) {
        let at = self.now + RETRY;
        self.pubsub.retry_at = Some(self.pubsub.retry_at.map_or(at, |t| t.min(at)));
        self.pubsub_timer(at);
    }

    /// Tells the subscribers of `(wire, name)` placed on `node` that the server confirmed it:
    /// `Resubscribed` with the window if it had been interrupted and is now back everywhere.
    fn announce(&mut self, node: usize, endpoint: &Endpoint, wire: Wire, name: &Bytes) {
        let now = self.now;
        for kind in SubscriptionKind::of_wire(wire) {
            let key = (kind, name.clone());
            if !self.pubsub.wants.contains_key(&key) {
                continue;
            }
            let placed = self.placements(kind, name);
            if !placed.contains(&node) {
                continue;
            }
            let covered = self.covered(kind, name, &placed);
            let Some(want) = self.pubsub.wants.get_mut(&key) else {
                continue;
            };
            let event = match want.interrupted {
                Some(from) if covered => {
                    want.interrupted = None;
                    PubSubEvent::Resubscribed {
                        kind,
                        channel: name.clone(),
                        node: endpoint.clone(),
                        missed_from: from,
                        missed_until: now,
                    }
                }
                Some(_) => continue,
                None => PubSubEvent::Subscribed {
                    kind,
                    channel: name.clone(),
                    node: endpoint.clone(),
                },
            };
            tell(&mut self.out, &want.subscribers, &event);
        }
    }

    /// `lost` (subscriptions confirmed on `endpoint`) are gone there: each subscription not still
    /// confirmed everywhere it is placed is interrupted from `since`.
    fn interrupted(&mut self, endpoint: &Endpoint, lost: &[(Wire, Bytes)], since: Instant) {
        for (wire, name) in lost {
            for kind in SubscriptionKind::of_wire(*wire) {
                let key = (kind, name.clone());
                let Some(want) = self.pubsub.wants.get(&key) else {
                    continue;
                };
                if want.interrupted.is_some() {
                    continue;
                }
                let placed = self.placements(kind, name);
                if self.covered(kind, name, &placed) {
                    continue;
                }
                let Some(want) = self.pubsub.wants.get_mut(&key) else {
                    continue;
                };
                want.interrupted = Some(since);
                let event = PubSubEvent::Interrupted {
                    kind,
                    channel: name.clone(),
                    node: endpoint.clone(),
                    since,
                };
                tell(&mut self.out, &want.subscribers, &event);
            }
        }
    }

    fn deliver(
        &mut self,
        id: ConnId,
        node: Endpoint,
        wire: Wire,
        channel: Bytes,
        pattern: Option<Bytes>,
        payload: Bytes,
    ) {
        let name = pattern.clone().unwrap_or_else(|| channel.clone());
        let mut to: BTreeSet<SubscriberId> = BTreeSet::new();
        for kind in SubscriptionKind::of_wire(wire) {
            if let Some(want) = self.pubsub.wants.get(&(kind, name.clone())) {
                to.extend(want.subscribers.iter().copied());
            }
        }
        if to.is_empty() {
            // A message for a subscription being dropped is expected; any other is not.
            let known = self
                .pubsub
                .conns
                .get(&id)
                .is_some_and(|c| c.active.contains_key(&(wire, name.clone())));
            if !known {
                self.event(Event::PubSubUnexpected {
                    endpoint: node,
                    what: String::from("a message for a channel not subscribed: ")
                        + &String::from_utf8_lossy(&name),
                });
            }
            return;
        }
        self.stats.messages_received += 1;
        let mut message = Message {
            kind: match wire {
                Wire::Channel => MessageKind::Message,
                Wire::Pattern => MessageKind::PMessage,
                Wire::Shard => MessageKind::SMessage,
            },
            channel,
            pattern,
            payload,
            node,
        };
        let last = to.len() - 1;
        for (i, subscriber) in to.into_iter().enumerate() {
            let message = if i == last {
                core::mem::replace(&mut message, Message::empty())
            } else {
                message.clone()
            };
            self.out.push_back(Output::PubSub {
                subscriber,
                event: PubSubEvent::Message(message),
            });
        }
    }

    /// A subscriber connection ended (from `close_conn`): its subscriptions are interrupted and
    /// placed again.
    pub(crate) fn subscriber_conn_lost(
        &mut self,
        node: usize,
        id: ConnId,
        last_rx: Instant,
        place_again: bool,
    ) {
        let Some(state) = self.pubsub.conns.remove(&id) else {
            return;
        };
        if self.pubsub.global == Some(node) {
            self.pubsub.global = None;
        }
        let lost: Vec<(Wire, Bytes)> = state
            .active
            .into_iter()
            .filter(|(_, s)| *s == Status::Active)
            .map(|(k, _)| k)
            .collect();
        if let Some(endpoint) = self.endpoint_of(Some(node)) {
            self.interrupted(&endpoint, &lost, last_rx);
        }
        if place_again {
            self.pubsub_reconcile();
        }
    }

    fn pubsub_timer(&mut self, at: Instant) {
        self.pubsub.timer = Some(self.pubsub.timer.map_or(at, |t| t.min(at)));
    }

    /// Pings, stalled and late connections, reconnects and retried subscribes.
    pub(crate) fn pubsub_timers(&mut self) {
        let now = self.now;
        if self.pubsub.timer.is_none_or(|t| t > now) {
            return;
        }
        self.pubsub.timer = None;
        let keepalive = self.config.pubsub_keepalive;
        let mut close = Vec::new();
        let mut ping = Vec::new();
        let mut next = Instant::MAX;
        for (&id, state) in &self.pubsub.conns {
            let Some(conn) = self
                .node(state.node)
                .and_then(|n| n.subscriber.as_ref())
                .filter(|c| c.id == id)
            else {
                continue;
            };
            if !state.ready {
                if conn.ready_by <= now {
                    close.push((state.node, id, CloseReason::Failed));
                } else {
                    next = next.min(conn.ready_by);
                }
                continue;
            }
            let silent_since = conn.last_rx.max(state.ping_sent.unwrap_or(Instant::ZERO));
            match state.ping_sent {
                Some(_) if conn.last_rx + keepalive * 3 <= now => {
                    close.push((state.node, id, CloseReason::Stalled));
                }
                Some(_) => next = next.min(conn.last_rx + keepalive * 3),
                None if silent_since + keepalive <= now => {
                    ping.push((state.node, id));
                    next = next.min(now + keepalive * 3);
                }
                None => next = next.min(silent_since + keepalive),
            }
        }
        for (node, id) in ping {
            if let Some(state) = self.pubsub.conns.get_mut(&id) {
                state.ping_sent = Some(now);
                state.expect.push_back(Expect::Ping);
            }
            if let Some(conn) = self.node_mut(node).and_then(|n| n.subscriber.as_mut()) {
                pubsub_wire::write_ping(&mut conn.wbuf);
            }
            self.mark_dirty(node, id);
        }
        for (node, id, reason) in close {
            self.close_conn(node, id, reason, true);
        }
        if self.pubsub.retry_at.is_some_and(|t| t <= now) {
            self.pubsub.retry_at = None;
        }
        if let Some(t) = self.pubsub.retry_at {
            next = next.min(t);
        }
        if next != Instant::MAX {
            self.pubsub_timer(next);
        }
        self.pubsub_reconcile();
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
