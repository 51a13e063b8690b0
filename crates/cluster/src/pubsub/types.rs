//! What callers of pub/sub see: subscribers, subscription and message kinds, events.

use core::fmt;

use bytes::Bytes;
use slotwise_topology::Endpoint;

use super::wire::Wire;
use crate::Instant;

/// A subscriber, named by [`Cluster::open_subscriber`](crate::Cluster::open_subscriber): a set of subscriptions whose messages and
/// events come out as [`Output::PubSub`](crate::Output::PubSub) with its id. Ids are never reused.
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
    pub(super) fn wire(self) -> Wire {
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

    pub(super) fn of_wire(wire: Wire) -> impl Iterator<Item = SubscriptionKind> {
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
    pub(super) fn empty() -> Message {
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
