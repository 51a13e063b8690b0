//! `slotwise -c HOST:PORT [--count N] [--json] SUBSCRIBE ch…` (also `PSUBSCRIBE pattern…`,
//! `SSUBSCRIBE ch…`): streams messages until interrupted, like `redis-cli`, through the core's
//! subscriptions (which follow failovers and slot moves; a loss window is told on stderr).
//!
//! Each message is one line on stdout: `message CHANNEL PAYLOAD`, `pmessage PATTERN CHANNEL
//! PAYLOAD` or `smessage CHANNEL PAYLOAD`, each part escaped so that it stays on its line. With
//! `--json`, one object per line: `{"kind", "channel", "payload"}` and `"pattern"` when there is
//! one. `--count N` exits 0 after N messages.

use serde_json::{Map, Value};
use slotwise_blocking::{Client, MessageKind, PubSubEvent, SubscriptionKind};

use crate::Failure;
use crate::live::emit;

/// The subscription kind of a command name, if it is one of the subscribe commands.
pub(crate) fn kind_of(command: &str) -> Option<SubscriptionKind> {
    match command.to_ascii_lowercase().as_str() {
        "subscribe" => Some(SubscriptionKind::Channel),
        "psubscribe" => Some(SubscriptionKind::Pattern),
        "ssubscribe" => Some(SubscriptionKind::ShardChannel),
        _ => None,
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).escape_debug().to_string()
}

/// Subscribes to `channels` (at least one) and prints until `count` messages came (or forever).
pub(crate) fn run(
    client: &Client,
    kind: SubscriptionKind,
    channels: &[Vec<u8>],
    count: Option<u64>,
    json: bool,
) -> Result<(), Failure> {
    let mut sub = client.subscriber();
    sub.subscribe_to(kind, channels);
    let mut seen = 0u64;
    while count.is_none_or(|n| seen < n) {
        let Some(event) = sub.recv() else {
            return Err(Failure::Input("the client stopped".into()));
        };
        let m = match event {
            PubSubEvent::Message(m) => m,
            PubSubEvent::Interrupted { channel, node, .. } => {
                eprintln!("slotwise: {} interrupted on {node}", text(&channel));
                continue;
            }
            PubSubEvent::Resubscribed {
                channel,
                node,
                missed_from,
                missed_until,
                ..
            } => {
                let gap = missed_until.saturating_duration_since(missed_from);
                eprintln!(
                    "slotwise: {} resubscribed on {node}; messages of the last {gap:?} before it may be missing",
                    text(&channel)
                );
                continue;
            }
            PubSubEvent::Refused { channel, error, .. } => {
                return Err(Failure::Input(format!(
                    "subscribing to {} refused: {}",
                    text(&channel),
                    text(&error)
                )));
            }
            _ => continue,
        };
        seen += 1;
        let mut line = if json {
            let mut o = Map::new();
            o.insert("kind".into(), Value::String(m.kind.to_string()));
            o.insert("channel".into(), Value::String(lossy(&m.channel)));
            o.insert("payload".into(), Value::String(lossy(&m.payload)));
            if let Some(p) = &m.pattern {
                o.insert("pattern".into(), Value::String(lossy(p)));
            }
            Value::Object(o).to_string()
        } else {
            match (m.kind, &m.pattern) {
                (MessageKind::PMessage, Some(p)) => format!(
                    "pmessage {} {} {}",
                    text(p),
                    text(&m.channel),
                    text(&m.payload)
                ),
                (kind, _) => format!("{kind} {} {}", text(&m.channel), text(&m.payload)),
            }
        };
        line.push('\n');
        emit(&line)?;
    }
    Ok(())
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}
