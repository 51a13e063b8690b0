//! Counts what the client reports: the adapters turn the core's events into `tracing` events
//! (target `slotwise`), so a small layer counts redirects, refreshes and the topology epoch from
//! them. Nothing is printed.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::{Context, SubscriberExt};

use super::status::ClientCounters;

struct Counting(Arc<ClientCounters>);

#[derive(Default)]
struct Fields {
    message: String,
    kind: String,
    epoch: Option<u64>,
}

impl Visit for Fields {
    fn record_u64(&mut self, field: &Field, value: u64) {
        if field.name() == "epoch" {
            self.epoch = Some(value);
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.record_u64(field, value.max(0) as u64);
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = value.to_string();
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        match field.name() {
            "message" => self.message = format!("{value:?}"),
            "kind" => self.kind = format!("{value:?}"),
            _ => {}
        }
    }
}

impl<S: Subscriber> Layer<S> for Counting {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        if event.metadata().target() != "slotwise" {
            return;
        }
        let mut f = Fields::default();
        event.record(&mut f);
        let c = &self.0;
        if f.message.starts_with("redirected") {
            if f.kind.contains("Ask") {
                c.ask.fetch_add(1, Ordering::Relaxed);
            } else {
                c.moved.fetch_add(1, Ordering::Relaxed);
            }
        } else if f.message.starts_with("topology refresh started") {
            c.refreshes.fetch_add(1, Ordering::Relaxed);
        } else if f.message.starts_with("topology changed")
            && let Some(epoch) = f.epoch
        {
            c.epoch.fetch_max(epoch, Ordering::Relaxed);
        }
    }
}

/// Installs the counting layer as the global subscriber (the demo's only one).
pub(crate) fn install(counters: Arc<ClientCounters>) {
    let subscriber = tracing_subscriber::registry().with(Counting(counters));
    let _ = tracing::subscriber::set_global_default(subscriber);
}
