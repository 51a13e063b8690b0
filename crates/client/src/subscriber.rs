//! [`Subscriber`]: pub/sub for applications — subscribe, then read messages and subscription
//! news as a stream (async) or by [`Subscriber::next`].
//!
//! Between the driver and the caller sits a bounded buffer of
//! [`SUBSCRIBER_BUFFER`] items: when the caller reads slower than messages come, new items are
//! dropped and counted ([`Subscriber::dropped`]) rather than growing memory or slowing the
//! driver (which serves every request of the client). Subscription news
//! ([`PubSubEvent::Interrupted`], [`PubSubEvent::Resubscribed`] …) is dropped the same way when
//! the buffer is full, so a caller that must know every window should keep up.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_channel::mpsc;
use futures_util::{Stream, StreamExt};
use slotwise_cluster::{PubSubEvent, SubscriptionKind};

use crate::Handle;
use crate::adapter::Msg;

/// How many messages and events wait between the driver and a [`Subscriber`] before new ones are
/// dropped (and counted).
pub const SUBSCRIBER_BUFFER: usize = 4096;

/// A set of subscriptions with its own stream of [`PubSubEvent`]s; from
/// [`Handle::subscriber`]. Dropping it unsubscribes everything it had.
///
/// Subscriptions survive connection loss, failover and slot migration without the caller's help:
/// each loss is an [`PubSubEvent::Interrupted`] and its end a [`PubSubEvent::Resubscribed`] with
/// the window in which messages may have been missed (the instants are the core's: time since the
/// client started; [`Subscriber::elapsed`] gives now in the same clock).
#[derive(Debug)]
pub struct Subscriber {
    handle: Handle,
    token: u64,
    rx: mpsc::Receiver<PubSubEvent>,
    dropped: Arc<AtomicU64>,
    /// The driver's clock origin: it sends it when it opens the subscriber (before any event).
    origin: std::sync::OnceLock<std::time::Instant>,
    origin_rx: std::sync::mpsc::Receiver<std::time::Instant>,
}

impl Handle {
    /// A new [`Subscriber`] with no subscriptions yet.
    #[must_use]
    pub fn subscriber(&self) -> Subscriber {
        let token = self.token();
        let (tx, rx) = mpsc::channel(SUBSCRIBER_BUFFER);
        let dropped = Arc::new(AtomicU64::new(0));
        let (origin_tx, origin_rx) = std::sync::mpsc::channel();
        self.send_msg(Msg::OpenSubscriber {
            token,
            sink: tx,
            dropped: dropped.clone(),
            origin: origin_tx,
        });
        Subscriber {
            handle: self.clone(),
            token,
            rx,
            dropped,
            origin: std::sync::OnceLock::new(),
            origin_rx,
        }
    }
}

impl Subscriber {
    fn change<I, C>(&self, kind: SubscriptionKind, channels: I, subscribe: bool)
    where
        I: IntoIterator<Item = C>,
        C: AsRef<[u8]>,
    {
        let channels = channels
            .into_iter()
            .map(|c| Bytes::copy_from_slice(c.as_ref()))
            .collect();
        self.handle.send_msg(Msg::Subscription {
            token: self.token,
            kind,
            channels,
            subscribe,
        });
    }

    /// Subscribes to `channels` of `kind` (see [`SubscriptionKind`]: cluster-wide channels or
    /// patterns, shard channels, or node-local ones on every primary).
    pub fn subscribe_to<I, C>(&self, kind: SubscriptionKind, channels: I)
    where
        I: IntoIterator<Item = C>,
        C: AsRef<[u8]>,
    {
        self.change(kind, channels, true);
    }

    /// Unsubscribes from `channels` of `kind` (all of that kind if empty).
    pub fn unsubscribe_from<I, C>(&self, kind: SubscriptionKind, channels: I)
    where
        I: IntoIterator<Item = C>,
        C: AsRef<[u8]>,
    {
        self.change(kind, channels, false);
    }

    /// `SUBSCRIBE channels…` (cluster-wide).
    pub fn subscribe<I: IntoIterator<Item = C>, C: AsRef<[u8]>>(&self, channels: I) {
        self.subscribe_to(SubscriptionKind::Channel, channels);
    }

    /// `PSUBSCRIBE patterns…` (cluster-wide).
    pub fn psubscribe<I: IntoIterator<Item = C>, C: AsRef<[u8]>>(&self, patterns: I) {
        self.subscribe_to(SubscriptionKind::Pattern, patterns);
    }

    /// `SSUBSCRIBE channels…`: shard channels, each on the shard serving its slot.
    pub fn ssubscribe<I: IntoIterator<Item = C>, C: AsRef<[u8]>>(&self, channels: I) {
        self.subscribe_to(SubscriptionKind::ShardChannel, channels);
    }

    /// Keyspace notifications from every primary (node-local in a cluster): `PSUBSCRIBE
    /// __keyspace@0__:{pattern}` on each, following failovers and added primaries. The servers
    /// must have `notify-keyspace-events` set.
    pub fn keyspace(&self, key_pattern: &str) {
        self.subscribe_to(
            SubscriptionKind::NodePattern,
            [format!("__keyspace@0__:{key_pattern}")],
        );
    }

    /// Key events from every primary: `PSUBSCRIBE __keyevent@0__:{event_pattern}` on each.
    pub fn keyevents(&self, event_pattern: &str) {
        self.subscribe_to(
            SubscriptionKind::NodePattern,
            [format!("__keyevent@0__:{event_pattern}")],
        );
    }

    /// The next message or event; `None` once the client has stopped.
    pub async fn next(&mut self) -> Option<PubSubEvent> {
        self.rx.next().await
    }

    /// The next message or event, waiting on this thread (for blocking code; never inside an
    /// async task); `None` once the client has stopped.
    pub fn recv(&mut self) -> Option<PubSubEvent> {
        futures_lite::future::block_on(self.rx.next())
    }

    /// As [`Subscriber::recv`], for at most `timeout`: `Ok(None)` when the client has stopped,
    /// `Err(())` when the time ran out.
    #[allow(clippy::result_unit_err)]
    pub fn recv_timeout(
        &mut self,
        timeout: std::time::Duration,
    ) -> Result<Option<PubSubEvent>, ()> {
        let until = std::time::Instant::now() + timeout;
        let handle = self.handle.clone();
        let rx = &mut self.rx;
        futures_lite::future::block_on(futures_lite::future::or(
            async { Ok(rx.next().await) },
            async {
                handle.sleep_until(until).await;
                Err(())
            },
        ))
    }

    /// The next message or event if one is waiting (never waits).
    pub fn try_next(&mut self) -> Option<PubSubEvent> {
        self.rx.try_recv().ok()
    }

    /// How many messages and events were dropped because the buffer was full.
    #[must_use]
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// The driver's clock origin (known once the driver took the subscriber in, which is before
    /// any of its events; until then, and for a stopped client, now).
    fn origin(&self) -> std::time::Instant {
        if let Some(origin) = self.origin.get() {
            return *origin;
        }
        match self.origin_rx.try_recv() {
            Ok(origin) => *self.origin.get_or_init(|| origin),
            Err(_) => std::time::Instant::now(),
        }
    }

    /// Now, in the clock of the events' instants.
    #[must_use]
    pub fn elapsed(&self) -> slotwise_cluster::Instant {
        let micros = u64::try_from(self.origin().elapsed().as_micros()).unwrap_or(u64::MAX);
        slotwise_cluster::Instant::from_micros(micros)
    }

    /// An event's instant as a [`std::time::Instant`].
    #[must_use]
    pub fn instant(&self, at: slotwise_cluster::Instant) -> std::time::Instant {
        self.origin() + std::time::Duration::from_micros(at.as_micros())
    }
}

impl Stream for Subscriber {
    type Item = PubSubEvent;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<PubSubEvent>> {
        self.rx.poll_next_unpin(cx)
    }
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        self.handle
            .send_msg(Msg::CloseSubscriber { token: self.token });
    }
}
