//! What subscriber connections say: confirmations, messages, errors and the server's own
//! unsubscribes; and what happens when one is lost.

use alloc::collections::BTreeSet;
use alloc::string::String;
use alloc::vec::Vec;

use bytes::Bytes;
use slotwise_resp::Frame;
use slotwise_topology::Endpoint;

use super::wire::{self, Heard, Wire};
use super::{
    Expect, Message, MessageKind, PubSubEvent, Status, SubscriberId, SubscriptionKind, tell,
};
use crate::redirect::{self, Redirect};
use crate::{Cluster, ConnId, Event, Instant, Output, RefreshReason};

impl Cluster {
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
        match wire::hear(frame) {
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
                    if key.0 == Wire::Shard {
                        self.disowned(node, &key.1);
                    }
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
    pub(super) fn take_expected(&mut self, id: ConnId, what: &Expect) -> bool {
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
    pub(super) fn on_subscriber_error(
        &mut self,
        node: usize,
        id: ConnId,
        endpoint: Endpoint,
        line: Bytes,
    ) {
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

    /// Tells the subscribers of `(wire, name)` placed on `node` that the server confirmed it:
    /// `Resubscribed` with the window if it had been interrupted and is now back everywhere.
    pub(super) fn announce(&mut self, node: usize, endpoint: &Endpoint, wire: Wire, name: &Bytes) {
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
    pub(super) fn interrupted(
        &mut self,
        endpoint: &Endpoint,
        lost: &[(Wire, Bytes)],
        since: Instant,
    ) {
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

    pub(super) fn deliver(
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
}
