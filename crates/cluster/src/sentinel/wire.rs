//! What the client says to the sentinels and how it reads their answers: `SENTINEL
//! GET-MASTER-ADDR-BY-NAME`, `SENTINEL REPLICAS`, `ROLE` on the primary they name, and the events
//! the sentinels publish on their own pub/sub channels.

use alloc::string::String;
use alloc::vec::Vec;

use bytes::{Bytes, BytesMut};
use slotwise_resp::Frame;
use slotwise_resp::encode::{write_arg, write_array_header};
use slotwise_topology::Endpoint;

/// The channels a sentinel watch subscribes to: the switch itself, the start of a failover (writes
/// are held from then: see `hold.rs`), and the ways a failover ends without a switch.
pub(crate) const CHANNELS: &[&str] = &[
    "+switch-master",
    "+try-failover",
    "+failover-end",
    "+failover-end-for-timeout",
    "-failover-abort-not-elected",
    "-failover-abort-no-good-slave",
    "-failover-abort-slave-timeout",
];

/// `SENTINEL GET-MASTER-ADDR-BY-NAME name`.
pub(crate) fn get_master_addr(name: &str) -> Bytes {
    command(&["SENTINEL", "GET-MASTER-ADDR-BY-NAME", name])
}

/// `SENTINEL REPLICAS name`.
pub(crate) fn replicas(name: &str) -> Bytes {
    command(&["SENTINEL", "REPLICAS", name])
}

/// `SUBSCRIBE` to [`CHANNELS`].
pub(crate) fn subscribe() -> Bytes {
    let mut args: Vec<&str> = Vec::with_capacity(CHANNELS.len() + 1);
    args.push("SUBSCRIBE");
    args.extend_from_slice(CHANNELS);
    command(&args)
}

fn command(args: &[&str]) -> Bytes {
    let mut out = BytesMut::new();
    write_array_header(&mut out, args.len());
    for a in args {
        write_arg(&mut out, a);
    }
    out.freeze()
}

fn text(frame: &Frame) -> Option<&[u8]> {
    match frame {
        Frame::BulkString(b) | Frame::SimpleString(b) => Some(b),
        Frame::Verbatim(v) => Some(&v.text),
        _ => None,
    }
}

fn endpoint(host: &[u8], port: &[u8]) -> Option<Endpoint> {
    let host = core::str::from_utf8(host).ok()?;
    let port: u16 = core::str::from_utf8(port).ok()?.parse().ok()?;
    (!host.is_empty() && port != 0).then(|| Endpoint::new(host, port))
}

/// What a sentinel said of the primary's address.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum MasterAddr {
    /// `[ip, port]`.
    At(Endpoint),
    /// A null: the sentinel monitors no primary of that name.
    Unknown,
}

/// Reads the answer to `GET-MASTER-ADDR-BY-NAME`; `Err` says what was wrong.
pub(crate) fn parse_master_addr(frame: &Frame) -> Result<MasterAddr, String> {
    match frame {
        Frame::Null | Frame::NullArray | Frame::NullBulk => Ok(MasterAddr::Unknown),
        Frame::Array(items) => match items.as_slice() {
            [host, port] => text(host)
                .zip(text(port))
                .and_then(|(h, p)| endpoint(h, p))
                .map(MasterAddr::At)
                .ok_or_else(|| alloc::format!("an invalid address {items:?}")),
            _ => Err(alloc::format!("{} items, not [ip, port]", items.len())),
        },
        Frame::SimpleError(line) | Frame::BulkError(line) => {
            Err(alloc::format!("`{}`", String::from_utf8_lossy(line)))
        }
        other => Err(alloc::format!("{other:?}, not [ip, port]")),
    }
}

/// One entry of `SENTINEL REPLICAS`, as fields: a flat array of names and values (RESP2), or a map
/// (RESP3).
fn field<'a>(entry: &'a Frame, name: &str) -> Option<&'a [u8]> {
    match entry {
        Frame::Array(items) => items
            .chunks_exact(2)
            .find(|kv| kv.first().and_then(text) == Some(name.as_bytes()))
            .and_then(|kv| kv.get(1))
            .and_then(text),
        Frame::Map(pairs) => pairs
            .iter()
            .find(|(k, _)| text(k) == Some(name.as_bytes()))
            .and_then(|(_, v)| text(v)),
        _ => None,
    }
}

/// The replicas a sentinel knows that are fit to serve: not flagged down or disconnected, and
/// with their link to the primary up.
pub(crate) fn parse_replicas(frame: &Frame) -> Result<Vec<Endpoint>, String> {
    let entries = match frame {
        Frame::Array(items) | Frame::Set(items) => items,
        Frame::SimpleError(line) | Frame::BulkError(line) => {
            return Err(alloc::format!("`{}`", String::from_utf8_lossy(line)));
        }
        other => return Err(alloc::format!("{other:?}, not a list of replicas")),
    };
    let mut out = Vec::new();
    for entry in entries {
        let (Some(ip), Some(port)) = (field(entry, "ip"), field(entry, "port")) else {
            return Err(alloc::format!("a replica without ip and port: {entry:?}"));
        };
        let flags = field(entry, "flags").unwrap_or_default();
        let down = flags
            .split(|&b| b == b',')
            .any(|f| matches!(f, b"s_down" | b"o_down" | b"disconnected"));
        let link_ok = field(entry, "master-link-status").is_none_or(|s| s == b"ok");
        if !down
            && link_ok
            && let Some(ep) = endpoint(ip, port)
        {
            out.push(ep);
        }
    }
    Ok(out)
}

/// Whether a `ROLE` answer says "master".
pub(crate) fn role_is_master(frame: &Frame) -> Result<bool, String> {
    crate::standalone::parse_role(frame)
        .map(|r| matches!(r, crate::standalone::RoleAnswer::Primary(_)))
}

/// A sentinel event about one primary, from its `message` on one of [`CHANNELS`].
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Heard {
    /// `+switch-master name old-ip old-port new-ip new-port`.
    Switch { master: String, to: Endpoint },
    /// `+try-failover master name ip port`: a failover of that primary begins.
    FailoverBegins { master: String },
    /// The failover ended (done, timed out or aborted).
    FailoverEnds { master: String },
}

/// Reads a frame on a watch connection: `message` pushes (RESP3) or arrays (RESP2); anything
/// else (the subscribe confirmations) is `None`.
pub(crate) fn parse_heard(frame: &Frame) -> Option<Heard> {
    let items = match frame {
        Frame::Push(items) | Frame::Array(items) => items,
        _ => return None,
    };
    let [kind, channel, payload] = items.as_slice() else {
        return None;
    };
    if text(kind) != Some(b"message".as_slice()) {
        return None;
    }
    let channel = text(channel)?;
    let payload = core::str::from_utf8(text(payload)?).ok()?;
    let words: Vec<&str> = payload.split(' ').collect();
    match channel {
        b"+switch-master" => match words.as_slice() {
            [name, _, _, ip, port] => Some(Heard::Switch {
                master: String::from(*name),
                to: endpoint(ip.as_bytes(), port.as_bytes())?,
            }),
            _ => None,
        },
        _ => {
            // "%@": "<type> <name> <ip> <port>", for a replica followed by "@ <master> <ip> <port>".
            let master = match words.as_slice() {
                [.., "@", name, _, _] => name,
                ["master", name, ..] => name,
                _ => return None,
            };
            let master = String::from(*master);
            if channel == b"+try-failover" {
                Some(Heard::FailoverBegins { master })
            } else {
                Some(Heard::FailoverEnds { master })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Frame {
        Frame::BulkString(Bytes::copy_from_slice(s.as_bytes()))
    }

    #[test]
    fn master_addr_answers() {
        let at = Frame::Array(alloc::vec![bulk("127.0.0.1"), bulk("6380")]);
        assert_eq!(
            parse_master_addr(&at),
            Ok(MasterAddr::At(Endpoint::new("127.0.0.1", 6380)))
        );
        assert_eq!(
            parse_master_addr(&Frame::NullArray),
            Ok(MasterAddr::Unknown)
        );
        assert!(parse_master_addr(&Frame::Array(alloc::vec![bulk("x")])).is_err());
        assert!(parse_master_addr(&Frame::Array(alloc::vec![bulk("h"), bulk("port")])).is_err());
    }

    #[test]
    fn replicas_skip_the_unfit() {
        let entry = |port: &str, flags: &str, link: &str| {
            Frame::Array(alloc::vec![
                bulk("ip"),
                bulk("127.0.0.1"),
                bulk("port"),
                bulk(port),
                bulk("flags"),
                bulk(flags),
                bulk("master-link-status"),
                bulk(link),
            ])
        };
        let answer = Frame::Array(alloc::vec![
            entry("1", "slave", "ok"),
            entry("2", "s_down,slave,disconnected", "err"),
            entry("3", "slave", "err"),
        ]);
        assert_eq!(
            parse_replicas(&answer),
            Ok(alloc::vec![Endpoint::new("127.0.0.1", 1)])
        );
        let map = Frame::Array(alloc::vec![Frame::Map(alloc::vec![
            (bulk("ip"), bulk("127.0.0.1")),
            (bulk("port"), bulk("4")),
            (bulk("flags"), bulk("slave")),
        ])]);
        assert_eq!(
            parse_replicas(&map),
            Ok(alloc::vec![Endpoint::new("127.0.0.1", 4)])
        );
        assert!(parse_replicas(&Frame::Array(alloc::vec![Frame::Array(alloc::vec![])])).is_err());
    }

    #[test]
    fn events() {
        let message = |channel: &str, payload: &str| {
            Frame::Push(alloc::vec![bulk("message"), bulk(channel), bulk(payload)])
        };
        assert_eq!(
            parse_heard(&message(
                "+switch-master",
                "mymaster 127.0.0.1 1 127.0.0.1 2"
            )),
            Some(Heard::Switch {
                master: "mymaster".into(),
                to: Endpoint::new("127.0.0.1", 2)
            })
        );
        assert_eq!(
            parse_heard(&message("+try-failover", "master mymaster 127.0.0.1 1")),
            Some(Heard::FailoverBegins {
                master: "mymaster".into()
            })
        );
        assert_eq!(
            parse_heard(&message(
                "-failover-abort-no-good-slave",
                "master other 127.0.0.1 1"
            )),
            Some(Heard::FailoverEnds {
                master: "other".into()
            })
        );
        let confirm = Frame::Array(alloc::vec![
            bulk("subscribe"),
            bulk("+switch-master"),
            Frame::Integer(1)
        ]);
        assert_eq!(parse_heard(&confirm), None);
        assert_eq!(parse_heard(&message("+switch-master", "garbage")), None);
        assert_eq!(
            role_is_master(&Frame::Array(alloc::vec![bulk("master")])),
            Ok(true)
        );
        assert_eq!(
            role_is_master(&Frame::Array(alloc::vec![
                bulk("slave"),
                bulk("127.0.0.1"),
                Frame::Integer(1),
                bulk("connected"),
                Frame::Integer(0),
            ])),
            Ok(false)
        );
    }
}
