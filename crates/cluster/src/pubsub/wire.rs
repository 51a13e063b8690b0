//! What a subscriber connection says and hears: the `(S|P)(UN)SUBSCRIBE` commands (one channel
//! each, so that every command has exactly one answer to match), and the frames that come back —
//! RESP3 pushes or RESP2 arrays of the same shape, `PONG` in either form, error replies.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use bytes::{Bytes, BytesMut};
use slotwise_resp::Frame;
use slotwise_resp::encode::{write_arg, write_array_header};

/// The three server-side subscription commands a subscription is made with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Wire {
    /// `SUBSCRIBE`: `message`.
    Channel,
    /// `PSUBSCRIBE`: `pmessage`.
    Pattern,
    /// `SSUBSCRIBE`: `smessage`.
    Shard,
}

impl Wire {
    fn subscribe(self) -> &'static str {
        match self {
            Wire::Channel => "SUBSCRIBE",
            Wire::Pattern => "PSUBSCRIBE",
            Wire::Shard => "SSUBSCRIBE",
        }
    }

    fn unsubscribe(self) -> &'static str {
        match self {
            Wire::Channel => "UNSUBSCRIBE",
            Wire::Pattern => "PUNSUBSCRIBE",
            Wire::Shard => "SUNSUBSCRIBE",
        }
    }
}

/// Writes `SUBSCRIBE name` (or its pattern / shard form), or the unsubscribe.
pub(crate) fn write_command(out: &mut BytesMut, wire: Wire, subscribe: bool, name: &[u8]) {
    write_array_header(out, 2);
    write_arg(
        out,
        if subscribe {
            wire.subscribe()
        } else {
            wire.unsubscribe()
        },
    );
    write_arg(out, name);
}

/// Writes `PING`.
pub(crate) fn write_ping(out: &mut BytesMut) {
    write_array_header(out, 1);
    write_arg(out, "PING");
}

/// One frame from a subscriber connection, read.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Heard {
    /// A published message (`pattern` for `pmessage`).
    Message {
        wire: Wire,
        channel: Bytes,
        pattern: Option<Bytes>,
        payload: Bytes,
    },
    /// `subscribe` / `psubscribe` / `ssubscribe`: the server confirms `name`.
    Subscribed { wire: Wire, name: Bytes },
    /// `unsubscribe` / … : asked for, or (`sunsubscribe` when a slot moves away) the server's own.
    Unsubscribed { wire: Wire, name: Option<Bytes> },
    /// The answer to `PING`.
    Pong,
    /// An error reply (to the command at the front of what is expected).
    Error(Bytes),
    /// Anything else: what it was, for the event.
    Unknown(String),
}

fn text(frame: &Frame) -> Option<&Bytes> {
    match frame {
        Frame::BulkString(b) | Frame::SimpleString(b) => Some(b),
        _ => None,
    }
}

/// Reads one frame.
pub(crate) fn hear(frame: Frame) -> Heard {
    let items: Vec<Frame> = match &frame {
        Frame::Push(_) | Frame::Array(_) => frame.into_items().unwrap_or_default(),
        Frame::SimpleString(s) if s.eq_ignore_ascii_case(b"PONG") => return Heard::Pong,
        Frame::SimpleError(_) | Frame::BulkError(_) => {
            return Heard::Error(frame.into_bytes().unwrap_or_default());
        }
        other => return Heard::Unknown(format!("a {} frame", kind_of(other))),
    };
    let Some(kind) = items.first().and_then(text) else {
        return Heard::Unknown(String::from("a push without a kind"));
    };
    let kind = kind.to_ascii_lowercase();
    let at = |i: usize| items.get(i).and_then(text).cloned();
    let wire_of = |prefix: &[u8]| match prefix {
        b"" => Some(Wire::Channel),
        b"p" => Some(Wire::Pattern),
        b"s" => Some(Wire::Shard),
        _ => None,
    };
    let unknown = || {
        Heard::Unknown(format!(
            "a push of kind {:?}",
            String::from_utf8_lossy(&kind)
        ))
    };
    if kind == b"pong" {
        return Heard::Pong;
    }
    if let Some(prefix) = kind.strip_suffix(b"message")
        && let Some(wire) = wire_of(prefix)
    {
        let (channel, pattern, payload) = match wire {
            Wire::Pattern => (at(2), at(1), at(3)),
            _ => (at(1), None, at(2)),
        };
        return match (channel, payload) {
            (Some(channel), Some(payload)) if wire != Wire::Pattern || pattern.is_some() => {
                Heard::Message {
                    wire,
                    channel,
                    pattern,
                    payload,
                }
            }
            _ => Heard::Unknown(format!(
                "a malformed {} push",
                String::from_utf8_lossy(&kind)
            )),
        };
    }
    if let Some(prefix) = kind.strip_suffix(b"unsubscribe")
        && let Some(wire) = wire_of(prefix)
    {
        return Heard::Unsubscribed { wire, name: at(1) };
    }
    if let Some(prefix) = kind.strip_suffix(b"subscribe")
        && let Some(wire) = wire_of(prefix)
    {
        return match at(1) {
            Some(name) => Heard::Subscribed { wire, name },
            None => unknown(),
        };
    }
    unknown()
}

fn kind_of(frame: &Frame) -> &'static str {
    match frame {
        Frame::Integer(_) => "integer",
        Frame::BulkString(_) => "bulk string",
        Frame::SimpleString(_) => "simple string",
        Frame::Null | Frame::NullBulk | Frame::NullArray => "null",
        Frame::Map(_) => "map",
        Frame::Set(_) => "set",
        _ => "non-pub/sub",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn b(s: &str) -> Frame {
        Frame::BulkString(Bytes::copy_from_slice(s.as_bytes()))
    }

    #[test]
    fn reads_pushes_and_arrays_alike() {
        for wrap in [Frame::Push as fn(Vec<Frame>) -> Frame, Frame::Array] {
            assert_eq!(
                hear(wrap(vec![b("message"), b("ch"), b("hi")])),
                Heard::Message {
                    wire: Wire::Channel,
                    channel: "ch".into(),
                    pattern: None,
                    payload: "hi".into()
                }
            );
            assert_eq!(
                hear(wrap(vec![b("pmessage"), b("c*"), b("ch"), b("hi")])),
                Heard::Message {
                    wire: Wire::Pattern,
                    channel: "ch".into(),
                    pattern: Some("c*".into()),
                    payload: "hi".into()
                }
            );
            assert_eq!(
                hear(wrap(vec![b("ssubscribe"), b("s"), Frame::Integer(1)])),
                Heard::Subscribed {
                    wire: Wire::Shard,
                    name: "s".into()
                }
            );
            assert_eq!(
                hear(wrap(vec![b("sunsubscribe"), b("s"), Frame::Integer(0)])),
                Heard::Unsubscribed {
                    wire: Wire::Shard,
                    name: Some("s".into())
                }
            );
            assert_eq!(hear(wrap(vec![b("pong"), b("")])), Heard::Pong);
        }
        assert_eq!(hear(Frame::SimpleString("PONG".into())), Heard::Pong);
        assert_eq!(
            hear(Frame::SimpleError("MOVED 1 h:1".into())),
            Heard::Error("MOVED 1 h:1".into())
        );
    }

    #[test]
    fn odd_frames_are_unknown_not_panics() {
        for f in [
            Frame::Push(vec![b("invalidate"), Frame::Array(vec![])]),
            Frame::Push(vec![]),
            Frame::Push(vec![Frame::Integer(1)]),
            Frame::Push(vec![b("message"), b("only-channel")]),
            Frame::Push(vec![b("pmessage"), b("p"), b("c")]),
            Frame::Push(vec![b("subscribe")]),
            Frame::Push(vec![b("xmessage"), b("c"), b("p")]),
            Frame::Integer(3),
            Frame::Map(vec![]),
        ] {
            assert!(matches!(hear(f.clone()), Heard::Unknown(_)), "{f:?}");
        }
    }

    #[test]
    fn one_channel_per_command() {
        let mut out = BytesMut::new();
        write_command(&mut out, Wire::Shard, true, b"ch");
        write_command(&mut out, Wire::Pattern, false, b"a*");
        assert_eq!(
            &out[..],
            b"*2\r\n$10\r\nSSUBSCRIBE\r\n$2\r\nch\r\n*2\r\n$12\r\nPUNSUBSCRIBE\r\n$2\r\na*\r\n"
        );
    }
}
