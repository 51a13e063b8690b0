//! Commands that change a connection's state — subscriptions, transactions, `SELECT`, `CLIENT
//! REPLY` … — which a shared, multiplexed connection must never carry: after them, replies no
//! longer match requests one for one, or later requests run in a state their callers did not ask
//! for. The subscribe family is found by its command-table flags (`pubsub` + `noscript`: `PUBLISH`
//! has `pubsub` only); the rest, which no flag marks, by name.

use slotwise_resp::Frame;
use slotwise_slot::{CommandFlags, CommandInfo};

use crate::RequestError;

/// A transaction command, allowed inside a session only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tx {
    Multi,
    Exec,
    Discard,
    Watch,
    Unwatch,
}

/// What kind of connection-state command a command is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StateCommand {
    /// `SUBSCRIBE`, `PSUBSCRIBE`, `SSUBSCRIBE` and their unsubscribes.
    PubSub,
    /// `MULTI`, `EXEC`, `DISCARD`, `WATCH`, `UNWATCH`.
    Transaction(Tx),
    /// Anything else that changes the connection (`SELECT`, `MONITOR`, `CLIENT REPLY` …).
    Other,
}

/// Commands no flag marks, by their command-table name (subcommands as `container|sub`).
const OTHER: &[&str] = &[
    "monitor",
    "select",
    "reset",
    "hello",
    "auth",
    "quit",
    "readonly",
    "readwrite",
    "asking",
    "sync",
    "psync",
    "replconf",
    "client|reply",
    "client|tracking",
    "client|caching",
    "client|setname",
    "client|setinfo",
    "client|no-evict",
    "client|no-touch",
];

/// The connection-state kind of `cmd`, if it has one.
pub(crate) fn state_command(cmd: &CommandInfo) -> Option<StateCommand> {
    if cmd.flags.contains(CommandFlags::PUBSUB) && cmd.flags.contains(CommandFlags::NOSCRIPT) {
        return Some(StateCommand::PubSub);
    }
    let tx = match &*cmd.name {
        "multi" => Tx::Multi,
        "exec" => Tx::Exec,
        "discard" => Tx::Discard,
        "watch" => Tx::Watch,
        "unwatch" => Tx::Unwatch,
        name => return OTHER.contains(&name).then_some(StateCommand::Other),
    };
    Some(StateCommand::Transaction(tx))
}

/// Why `command` is refused where it was sent, naming what to use instead.
pub(crate) fn refusal(kind: StateCommand, command: &str, in_session: bool) -> RequestError {
    let use_instead = match kind {
        StateCommand::PubSub => {
            "a subscriber: Cluster::open_subscriber and Cluster::subscribe (adapters: \
             Handle::subscriber); PUBLISH and SPUBLISH work on any connection"
        }
        StateCommand::Transaction(_) => {
            "a session: Cluster::open_session and Cluster::submit_in (adapters: Handle::transaction \
             or Handle::session)"
        }
        StateCommand::Other if in_session => {
            "the client's configuration (protocol, credentials, client name are set per connection \
             by the handshake); sessions carry transactions only"
        }
        StateCommand::Other => {
            "the client's configuration (protocol, credentials, client name are set per connection \
             by the handshake); other connection modes are not supported"
        }
    };
    RequestError::ConnectionState {
        command: command.into(),
        use_instead,
    }
}

/// A RESP3 push frame of the pub/sub kinds (`message`, `subscribe` …).
pub(crate) fn is_pubsub_push(items: &[Frame]) -> bool {
    const KINDS: &[&[u8]] = &[
        b"message",
        b"pmessage",
        b"smessage",
        b"subscribe",
        b"psubscribe",
        b"ssubscribe",
        b"unsubscribe",
        b"punsubscribe",
        b"sunsubscribe",
    ];
    let kind = match items.first() {
        Some(Frame::BulkString(b) | Frame::SimpleString(b)) => &b[..],
        _ => return false,
    };
    KINDS.iter().any(|k| kind.eq_ignore_ascii_case(k))
}

/// `+QUEUED`: the reply to a command inside `MULTI`.
pub(crate) fn is_queued(frame: &Frame) -> bool {
    matches!(frame, Frame::SimpleString(s) if &s[..] == b"QUEUED")
}

#[cfg(test)]
mod tests {
    use super::*;
    use slotwise_slot::CommandTable;

    fn kind(args: &[&str]) -> Option<StateCommand> {
        let table = CommandTable::new();
        let c = table.classify(args).unwrap();
        c.command.and_then(state_command)
    }

    #[test]
    fn finds_connection_state_commands() {
        for sub in [
            &["SUBSCRIBE", "a"][..],
            &["psubscribe", "a*"],
            &["SSUBSCRIBE", "a"],
            &["UNSUBSCRIBE"],
            &["PUNSUBSCRIBE"],
            &["SUNSUBSCRIBE"],
        ] {
            assert_eq!(kind(sub), Some(StateCommand::PubSub), "{sub:?}");
        }
        assert_eq!(kind(&["MULTI"]), Some(StateCommand::Transaction(Tx::Multi)));
        assert_eq!(
            kind(&["WATCH", "k"]),
            Some(StateCommand::Transaction(Tx::Watch))
        );
        for other in [
            &["SELECT", "1"][..],
            &["MONITOR"],
            &["CLIENT", "REPLY", "OFF"],
            &["CLIENT", "TRACKING", "ON"],
            &["HELLO", "2"],
            &["AUTH", "pw"],
            &["RESET"],
            &["QUIT"],
            &["READWRITE"],
        ] {
            assert_eq!(kind(other), Some(StateCommand::Other), "{other:?}");
        }
        for plain in [
            &["PUBLISH", "ch", "m"][..],
            &["SPUBLISH", "ch", "m"],
            &["PUBSUB", "CHANNELS"],
            &["GET", "k"],
            &["CLIENT", "ID"],
            &["BLPOP", "k", "1"],
        ] {
            assert_eq!(kind(plain), None, "{plain:?}");
        }
    }

    #[test]
    fn recognises_pushes_and_queued() {
        let push = |k: &str| {
            alloc::vec![Frame::BulkString(bytes::Bytes::copy_from_slice(
                k.as_bytes()
            ))]
        };
        assert!(is_pubsub_push(&push("message")));
        assert!(is_pubsub_push(&push("subscribe")));
        assert!(!is_pubsub_push(&push("invalidate")));
        assert!(!is_pubsub_push(&[]));
        assert!(is_queued(&Frame::SimpleString("QUEUED".into())));
        assert!(!is_queued(&Frame::SimpleString("OK".into())));
        assert!(!is_queued(&Frame::BulkString("QUEUED".into())));
    }
}
