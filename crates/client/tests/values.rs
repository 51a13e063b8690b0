//! Replies as Rust values, error replies as typed errors, and what the command builders put on
//! the wire: every RESP2 and RESP3 shape a conversion accepts, and the ones it must refuse.

use std::collections::HashMap;
use std::time::Duration;

use bytes::Bytes;
use slotwise_client::resp::Decoder;
use slotwise_client::{ConvertError, Error, Frame, FromFrame, RequestError, ServerError, commands};

/// The frame a server would send as these bytes.
fn frame(wire: &[u8]) -> Frame {
    let mut buf = bytes::BytesMut::from(wire);
    Decoder::new()
        .decode(&mut buf)
        .expect("valid RESP")
        .expect("a complete frame")
}

fn conv<T: FromFrame>(wire: &[u8]) -> Result<T, ConvertError> {
    T::from_frame(frame(wire))
}

#[test]
fn strings_from_every_string_shape() {
    assert_eq!(conv::<String>(b"$3\r\nada\r\n").unwrap(), "ada");
    assert_eq!(conv::<String>(b"+OK\r\n").unwrap(), "OK");
    assert_eq!(conv::<String>(b"=8\r\ntxt:text\r\n").unwrap(), "text");
    assert_eq!(conv::<String>(b":42\r\n").unwrap(), "42");
    assert_eq!(
        conv::<Bytes>(b"$4\r\n\x00\x01\x02\x03\r\n").unwrap(),
        &[0, 1, 2, 3][..]
    );
    assert_eq!(conv::<Vec<u8>>(b"$2\r\nhi\r\n").unwrap(), b"hi");
    // Not UTF-8: a String refuses, Bytes takes it.
    assert!(conv::<String>(b"$2\r\n\xff\xfe\r\n").is_err());
    assert!(conv::<Bytes>(b"$2\r\n\xff\xfe\r\n").is_ok());
    // An array is not a string.
    let e = conv::<String>(b"*1\r\n$1\r\na\r\n").unwrap_err();
    assert!(e.to_string().contains("array"), "{e}");
}

#[test]
fn numbers_and_booleans() {
    assert_eq!(conv::<i64>(b":-7\r\n").unwrap(), -7);
    assert_eq!(conv::<i64>(b"$3\r\n123\r\n").unwrap(), 123);
    assert_eq!(conv::<u64>(b"(18446744073709551615\r\n").unwrap(), u64::MAX);
    assert!(
        conv::<u32>(b":5000000000\r\n").is_err(),
        "out of range for u32"
    );
    assert!(conv::<u32>(b":-1\r\n").is_err(), "negative for u32");
    assert_eq!(conv::<f64>(b",1.5\r\n").unwrap(), 1.5);
    assert_eq!(conv::<f64>(b"$3\r\ninf\r\n").unwrap(), f64::INFINITY);
    assert_eq!(conv::<f64>(b":2\r\n").unwrap(), 2.0);
    assert!(conv::<f64>(b"$3\r\nabc\r\n").is_err());
    assert!(conv::<bool>(b"#t\r\n").unwrap());
    assert!(!conv::<bool>(b":0\r\n").unwrap());
    assert!(conv::<bool>(b"+OK\r\n").unwrap());
    assert!(!conv::<bool>(b"_\r\n").unwrap());
    assert!(!conv::<bool>(b"$-1\r\n").unwrap());
    assert!(conv::<bool>(b"$3\r\nyes\r\n").is_err());
}

#[test]
fn nulls_options_and_unit() {
    assert_eq!(conv::<Option<String>>(b"$-1\r\n").unwrap(), None);
    assert_eq!(conv::<Option<String>>(b"_\r\n").unwrap(), None);
    assert_eq!(conv::<Option<String>>(b"*-1\r\n").unwrap(), None);
    assert_eq!(
        conv::<Option<i64>>(b":5\r\n").unwrap(),
        Some(5),
        "a value is Some"
    );
    assert!(conv::<()>(b"+OK\r\n").is_ok());
    assert!(conv::<()>(b"-ERR no\r\n").is_err());
    // +QUEUED is the acknowledgement of a command inside MULTI, never its value.
    for queued in [
        conv::<()>(b"+QUEUED\r\n").map(|_| ()),
        conv::<String>(b"+QUEUED\r\n").map(|_| ()),
        conv::<Option<Bytes>>(b"+QUEUED\r\n").map(|_| ()),
    ] {
        assert!(queued.is_err());
    }
}

#[test]
fn aggregates() {
    assert_eq!(
        conv::<Vec<String>>(b"*2\r\n$1\r\na\r\n$1\r\nb\r\n").unwrap(),
        vec!["a", "b"]
    );
    assert_eq!(
        conv::<Vec<i64>>(b"~3\r\n:1\r\n:2\r\n:3\r\n").unwrap(),
        vec![1, 2, 3],
        "a RESP3 set"
    );
    assert_eq!(
        conv::<Vec<Option<String>>>(b"*2\r\n$1\r\na\r\n$-1\r\n").unwrap(),
        vec![Some("a".into()), None],
        "MGET with a missing key"
    );
    let map: HashMap<String, i64> = conv(b"%2\r\n+a\r\n:1\r\n+b\r\n:2\r\n").unwrap();
    assert_eq!(map.get("a"), Some(&1));
    assert_eq!(map.get("b"), Some(&2));
    // RESP2 HGETALL: a flat array of field, value pairs.
    let map: HashMap<String, String> =
        conv(b"*4\r\n$1\r\nf\r\n$1\r\nv\r\n$1\r\ng\r\n$1\r\nw\r\n").unwrap();
    assert_eq!(map.get("g").map(String::as_str), Some("w"));
    assert!(
        conv::<HashMap<String, String>>(b"*3\r\n$1\r\nf\r\n$1\r\nv\r\n$1\r\ng\r\n").is_err(),
        "an odd flat array is no map"
    );
    let pair: (String, i64) = conv(b"*2\r\n$1\r\nk\r\n:9\r\n").unwrap();
    assert_eq!(pair, ("k".into(), 9));
    assert!(conv::<(String, i64)>(b"*3\r\n$1\r\nk\r\n:9\r\n:1\r\n").is_err());
    // One bad element fails the whole conversion, with what was expected.
    let e = conv::<Vec<i64>>(b"*2\r\n:1\r\n$1\r\nx\r\n").unwrap_err();
    assert!(!e.expected().is_empty() && !e.got().is_empty(), "{e}");
}

#[test]
fn attributes_are_looked_through() {
    // An attribute (RESP3 `|`) before a reply does not change what it converts to.
    let wire = b"|1\r\n+ttl\r\n:3\r\n$5\r\nvalue\r\n";
    assert_eq!(conv::<String>(wire).unwrap(), "value");
    assert!(matches!(conv::<Frame>(wire).unwrap(), Frame::Attributed(_)));
}

#[test]
fn server_errors_keep_their_code_and_words() {
    let e = ServerError::from_line("WRONGTYPE Operation against a key holding the wrong kind");
    assert_eq!(e.code(), "WRONGTYPE");
    assert_eq!(e.detail(), "Operation against a key holding the wrong kind");
    assert_eq!(
        e.line(),
        "WRONGTYPE Operation against a key holding the wrong kind"
    );
    let bare = ServerError::from_line("NOSCRIPT");
    assert_eq!((bare.code(), bare.detail()), ("NOSCRIPT", ""));
    let e = Error::Redis(ServerError::from_line("NOAUTH Authentication required."));
    assert!(e.is_auth());
    assert_eq!(e.server_code(), Some("NOAUTH"));
    assert!(e.to_string().contains("Authentication required"), "{e}");
}

#[test]
fn error_kinds_and_ambiguity() {
    let node = slotwise_client::Endpoint::new("127.0.0.1", 7000);
    let cases: Vec<(Error, &str, bool)> = vec![
        (
            Error::Request(RequestError::ConnectionLost {
                maybe_applied: true,
                node: node.clone(),
            }),
            "ConnectionLost(maybe_applied)",
            true,
        ),
        (
            Error::Request(RequestError::ConnectionLost {
                maybe_applied: false,
                node: node.clone(),
            }),
            "ConnectionLost",
            false,
        ),
        (
            Error::Request(RequestError::Timeout {
                slot: Some(1),
                node: Some(node.clone()),
                written: true,
            }),
            "Timeout",
            true,
        ),
        (
            Error::Request(RequestError::Timeout {
                slot: None,
                node: None,
                written: false,
            }),
            "Timeout",
            false,
        ),
        (Error::Request(RequestError::Cancelled), "Cancelled", false),
        (Error::Request(RequestError::CrossSlot), "CrossSlot", false),
        (Error::Closed, "Closed", false),
        (Error::Config("x".into()), "Config", false),
        (Error::Tls("x".into()), "Tls", false),
    ];
    for (e, kind, ambiguous) in cases {
        assert_eq!(e.kind(), kind, "{e}");
        assert_eq!(e.maybe_applied(), ambiguous, "{e}");
        assert!(!e.to_string().is_empty());
    }
    let written = Error::Request(RequestError::Timeout {
        slot: Some(1),
        node: Some(node),
        written: true,
    });
    assert!(written.is_timeout());
    assert!(
        written.to_string().contains("may have been applied"),
        "{written}"
    );
}

#[test]
fn command_builders_encode_what_they_say() {
    let wire = |r: slotwise_client::Request| String::from_utf8(r.encoded().to_vec()).unwrap();
    assert_eq!(wire(commands::get("k")), "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
    assert_eq!(
        wire(commands::set("k", "v")),
        "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n"
    );
    assert_eq!(
        wire(commands::set_ex("k", "v", Duration::from_millis(1500))),
        "*5\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n$2\r\nPX\r\n$4\r\n1500\r\n"
    );
    // A zero TTL would be an error in Redis: at least 1 ms.
    assert!(wire(commands::expire("k", Duration::ZERO)).ends_with("$1\r\n1\r\n"));
    assert_eq!(
        wire(commands::incr_by("k", -3)),
        "*3\r\n$6\r\nINCRBY\r\n$1\r\nk\r\n$2\r\n-3\r\n"
    );
    assert_eq!(
        wire(commands::hset("h", "f", "v")),
        "*4\r\n$4\r\nHSET\r\n$1\r\nh\r\n$1\r\nf\r\n$1\r\nv\r\n"
    );
    assert!(wire(commands::set_nx("k", "v")).ends_with("$2\r\nNX\r\n"));
    for r in [
        commands::get("k"),
        commands::incr("k"),
        commands::hgetall("h"),
    ] {
        assert!(!r.blocks());
    }
}
