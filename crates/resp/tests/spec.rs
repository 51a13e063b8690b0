//! Every RESP2 and RESP3 type, from the examples of the RESP3 specification and the Redis docs.
//! Each case also checks that re-encoding gives back the exact input (canonical input round-trips).

mod common;

use bytes::Bytes;
use common::{bulk, one, simple};
use slotwise_resp::{Attributed, BigNumber, Double, Frame, Verbatim};

fn roundtrip(input: &[u8], expected: Frame) {
    let frame = one(input);
    assert_eq!(
        frame,
        expected,
        "decoding {:?}",
        String::from_utf8_lossy(input)
    );
    assert_eq!(
        frame.to_bytes(),
        Bytes::copy_from_slice(input),
        "re-encoding {frame:?}"
    );
    assert_eq!(frame.encoded_len(), input.len());
}

#[test]
fn simple_types() {
    roundtrip(b"+OK\r\n", simple("OK"));
    roundtrip(b"+\r\n", simple(""));
    roundtrip(
        b"-ERR unknown command 'foobar'\r\n",
        Frame::SimpleError("ERR unknown command 'foobar'".into()),
    );
    roundtrip(
        b"-MOVED 3999 127.0.0.1:6381\r\n",
        Frame::SimpleError("MOVED 3999 127.0.0.1:6381".into()),
    );
    roundtrip(b":1000\r\n", Frame::Integer(1000));
    roundtrip(b":0\r\n", Frame::Integer(0));
    roundtrip(b":-1\r\n", Frame::Integer(-1));
    roundtrip(b":9223372036854775807\r\n", Frame::Integer(i64::MAX));
    roundtrip(b":-9223372036854775808\r\n", Frame::Integer(i64::MIN));
    assert_eq!(one(b":+5\r\n"), Frame::Integer(5));
}

#[test]
fn bulk_strings_and_resp2_nulls() {
    roundtrip(b"$5\r\nhello\r\n", bulk("hello"));
    roundtrip(b"$0\r\n\r\n", bulk(""));
    roundtrip(b"$4\r\na\r\nb\r\n", bulk("a\r\nb"));
    roundtrip(b"$-1\r\n", Frame::NullBulk);
    roundtrip(b"*-1\r\n", Frame::NullArray);
    let binary = one(b"$3\r\n\x00\xff\r\r\n");
    assert_eq!(binary, Frame::BulkString(Bytes::from_static(b"\x00\xff\r")));
}

#[test]
fn arrays() {
    roundtrip(b"*0\r\n", Frame::Array(vec![]));
    roundtrip(
        b"*2\r\n$5\r\nhello\r\n$5\r\nworld\r\n",
        Frame::Array(vec![bulk("hello"), bulk("world")]),
    );
    roundtrip(
        b"*5\r\n:1\r\n:2\r\n:3\r\n:4\r\n$5\r\nhello\r\n",
        Frame::Array(vec![1.into(), 2.into(), 3.into(), 4.into(), bulk("hello")]),
    );
    roundtrip(
        b"*2\r\n*3\r\n:1\r\n:2\r\n:3\r\n*2\r\n+Hello\r\n-World\r\n",
        Frame::Array(vec![
            Frame::Array(vec![1.into(), 2.into(), 3.into()]),
            Frame::Array(vec![simple("Hello"), Frame::SimpleError("World".into())]),
        ]),
    );
    roundtrip(
        b"*3\r\n$5\r\nhello\r\n$-1\r\n$5\r\nworld\r\n",
        Frame::Array(vec![bulk("hello"), Frame::NullBulk, bulk("world")]),
    );
}

#[test]
fn resp3_scalars() {
    roundtrip(b"_\r\n", Frame::Null);
    roundtrip(b"#t\r\n", Frame::Boolean(true));
    roundtrip(b"#f\r\n", Frame::Boolean(false));
    roundtrip(
        b"(3492890328409238509324850943850943825024385\r\n",
        Frame::BigNumber(
            BigNumber::new("3492890328409238509324850943850943825024385".into()).unwrap(),
        ),
    );
    roundtrip(
        b"(-3492890328409238509324850943850943825024385\r\n",
        Frame::BigNumber(
            BigNumber::new("-3492890328409238509324850943850943825024385".into()).unwrap(),
        ),
    );
    roundtrip(
        b"!21\r\nSYNTAX invalid syntax\r\n",
        Frame::BulkError("SYNTAX invalid syntax".into()),
    );
    roundtrip(
        b"=15\r\ntxt:Some string\r\n",
        Frame::Verbatim(Verbatim::new(*b"txt", "Some string".into())),
    );
    roundtrip(
        b"=4\r\nmkd:\r\n",
        Frame::Verbatim(Verbatim::new(*b"mkd", "".into())),
    );
}

#[test]
fn doubles() {
    for (text, value) in [
        ("1.23", 1.23),
        ("10", 10.0),
        ("-1.5", -1.5),
        ("+2.5", 2.5),
        ("1.5e10", 1.5e10),
        ("1.5E-3", 1.5e-3),
        ("-4e+2", -400.0),
        ("0.10000000000000001", 0.1),
        ("inf", f64::INFINITY),
        ("-inf", f64::NEG_INFINITY),
    ] {
        let input = format!(",{text}\r\n");
        let frame = one(input.as_bytes());
        let Frame::Double(d) = &frame else {
            panic!("{frame:?}")
        };
        assert_eq!(d.value(), value, "{text}");
        assert_eq!(d.text(), &Bytes::copy_from_slice(text.as_bytes()));
        assert_eq!(frame.to_bytes(), Bytes::copy_from_slice(input.as_bytes()));
    }
    let Frame::Double(nan) = &one(b",nan\r\n") else {
        panic!()
    };
    assert!(nan.value().is_nan());
    for value in [
        0.0,
        -0.0,
        1.0,
        0.1,
        1e300,
        1e-300,
        -123.456,
        f64::MAX,
        f64::MIN_POSITIVE,
    ] {
        let d = Double::from_f64(value);
        assert_eq!(
            d.value().to_bits(),
            value.to_bits(),
            "{value} via {:?}",
            d.text()
        );
        assert_eq!(one(&Frame::Double(d.clone()).to_bytes()), Frame::Double(d));
    }
}

#[test]
fn maps_sets_and_pushes() {
    roundtrip(
        b"%2\r\n+first\r\n:1\r\n+second\r\n:2\r\n",
        Frame::Map(vec![
            (simple("first"), 1.into()),
            (simple("second"), 2.into()),
        ]),
    );
    roundtrip(b"%0\r\n", Frame::Map(vec![]));
    roundtrip(
        b"~5\r\n+orange\r\n+apple\r\n#t\r\n:100\r\n:999\r\n",
        Frame::Set(vec![
            simple("orange"),
            simple("apple"),
            Frame::Boolean(true),
            100.into(),
            999.into(),
        ]),
    );
    roundtrip(
        b">4\r\n+pubsub\r\n+message\r\n+somechannel\r\n+this is the message\r\n",
        Frame::Push(vec![
            simple("pubsub"),
            simple("message"),
            simple("somechannel"),
            simple("this is the message"),
        ]),
    );
    // Duplicate keys are kept in wire order: a map is what the server sent, not a HashMap.
    roundtrip(
        b"%2\r\n:1\r\n:2\r\n:1\r\n:3\r\n",
        Frame::Map(vec![(1.into(), 2.into()), (1.into(), 3.into())]),
    );
}

#[test]
fn attributes_attach_to_the_next_frame() {
    let input = b"|1\r\n+key-popularity\r\n%2\r\n$1\r\na\r\n,0.1923\r\n$1\r\nb\r\n,0.0012\r\n*2\r\n:2039123\r\n:9543892\r\n";
    let frame = one(input);
    let Frame::Attributed(a) = &frame else {
        panic!("{frame:?}")
    };
    assert_eq!(a.frame, Frame::Array(vec![2039123.into(), 9543892.into()]));
    assert_eq!(a.attributes.len(), 1);
    assert_eq!(a.attributes[0].0, simple("key-popularity"));
    assert_eq!(frame.to_bytes(), Bytes::copy_from_slice(input));
    assert_eq!(frame.without_attributes(), &a.frame);

    // Inside an aggregate, an attribute describes one element.
    let nested = one(b"*3\r\n:1\r\n|1\r\n+ttl\r\n:3600\r\n:2\r\n:3\r\n");
    let expected = Frame::Array(vec![
        1.into(),
        Frame::Attributed(Box::new(Attributed {
            attributes: vec![(simple("ttl"), 3600.into())],
            frame: 2.into(),
        })),
        3.into(),
    ]);
    assert_eq!(nested, expected);
    // Attributes may be empty, and may themselves be attributed.
    roundtrip(b"|0\r\n:1\r\n", Frame::Integer(1).with_attributes(vec![]));
    roundtrip(
        b"|0\r\n|0\r\n_\r\n",
        Frame::Null.with_attributes(vec![]).with_attributes(vec![]),
    );
}

#[test]
fn streamed_strings() {
    let input = b"$?\r\n;4\r\nHell\r\n;5\r\no wor\r\n;1\r\nd\r\n;0\r\n";
    let frame = one(input);
    assert_eq!(
        frame,
        Frame::StreamedString(vec!["Hell".into(), "o wor".into(), "d".into()])
    );
    assert_eq!(frame.to_bytes(), Bytes::copy_from_slice(input));
    assert_eq!(frame.clone().to_contiguous(), bulk("Hello word"));
    assert_eq!(one(b"$?\r\n;0\r\n"), Frame::StreamedString(vec![]));
    assert_eq!(
        one(b"*2\r\n$?\r\n;1\r\na\r\n;0\r\n:1\r\n"),
        Frame::Array(vec![Frame::StreamedString(vec!["a".into()]), 1.into()])
    );
}

#[test]
fn streamed_aggregates() {
    assert_eq!(
        one(b"*?\r\n:1\r\n:2\r\n:3\r\n.\r\n"),
        Frame::Array(vec![1.into(), 2.into(), 3.into()])
    );
    assert_eq!(one(b"*?\r\n.\r\n"), Frame::Array(vec![]));
    assert_eq!(
        one(b"%?\r\n+a\r\n:1\r\n+b\r\n:2\r\n.\r\n"),
        Frame::Map(vec![(simple("a"), 1.into()), (simple("b"), 2.into())])
    );
    assert_eq!(one(b"~?\r\n+x\r\n.\r\n"), Frame::Set(vec![simple("x")]));
    assert_eq!(
        one(b">?\r\n+x\r\n*?\r\n:1\r\n.\r\n.\r\n"),
        Frame::Push(vec![simple("x"), Frame::Array(vec![1.into()])])
    );
    // A streamed aggregate re-encodes in counted form, which decodes to the same frame.
    let frame = one(b"*?\r\n:1\r\n*0\r\n.\r\n");
    assert_eq!(frame.to_bytes(), Bytes::from_static(b"*2\r\n:1\r\n*0\r\n"));
}

#[test]
fn consecutive_frames_and_pipelines() {
    let input = b"+OK\r\n:1\r\n$-1\r\n>2\r\n+invalidate\r\n*1\r\n$3\r\nkey\r\n*1\r\n$2\r\nhi\r\n";
    let frames = common::chunked(input, input.len()).unwrap();
    assert_eq!(
        frames,
        vec![
            simple("OK"),
            1.into(),
            Frame::NullBulk,
            Frame::Push(vec![simple("invalidate"), Frame::Array(vec![bulk("key")])]),
            Frame::Array(vec![bulk("hi")]),
        ]
    );
    for chunk in 1..input.len() {
        assert_eq!(
            common::chunked(input, chunk).unwrap(),
            frames,
            "chunks of {chunk}"
        );
    }
}

#[test]
fn nesting_a_hundred_deep_whole_and_byte_by_byte() {
    use bytes::BytesMut;
    use slotwise_resp::Decoder;
    // 100 levels, cycling through a counted array `*2`, a streamed array `*?` and a map `%1`; each
    // holds the next level and then one integer.
    let depth = 100;
    let mut wire = Vec::new();
    for level in 0..depth {
        wire.extend_from_slice([b"*2\r\n", b"*?\r\n", b"%1\r\n"][level % 3]);
    }
    wire.extend_from_slice(b":0\r\n");
    let mut expected = Frame::Integer(0);
    for level in (0..depth).rev() {
        let (tail, frame): (&[u8], Frame) = match level % 3 {
            0 => (b":1\r\n", Frame::Array(vec![expected, Frame::Integer(1)])),
            1 => (
                b":2\r\n.\r\n",
                Frame::Array(vec![expected, Frame::Integer(2)]),
            ),
            _ => (b":3\r\n", Frame::Map(vec![(expected, Frame::Integer(3))])),
        };
        wire.extend_from_slice(tail);
        expected = frame;
    }
    let bytes = Bytes::from(wire.clone());
    let (frame, len) = slotwise_resp::decode_complete(&bytes, &slotwise_resp::Limits::DEFAULT)
        .unwrap()
        .unwrap();
    assert_eq!(len, wire.len());
    assert_eq!(frame, expected);
    // Byte by byte through the resumable decoder: the same frame.
    let mut decoder = Decoder::new();
    let mut buf = BytesMut::new();
    let mut got = None;
    for &b in &wire {
        buf.extend_from_slice(&[b]);
        if let Some(f) = decoder.decode(&mut buf).unwrap() {
            got = Some(f);
        }
    }
    assert_eq!(got, Some(expected));
    assert!(buf.is_empty());
}
