//! Hostile and malformed input: every case gives a typed error at the right offset, never a panic,
//! a hang or a stack overflow.

mod common;

use bytes::BytesMut;
use common::{error, error_with};
use slotwise_resp::{Decoder, ErrorKind, Frame, Limit, Limits};

fn kind(input: &[u8]) -> ErrorKind {
    error(input).kind
}

#[test]
fn bad_type_bytes() {
    assert_eq!(error(b"x\r\n").kind, ErrorKind::BadTypeByte(b'x'));
    assert_eq!(error(b"+OK\r\n\x00\r\n").offset, 5);
    assert_eq!(error(b"*2\r\n:1\r\n@\r\n").offset, 8);
    assert_eq!(kind(b";3\r\nabc\r\n"), ErrorKind::BadTypeByte(b';'));
}

#[test]
fn bad_lengths() {
    for input in [
        &b"$-2\r\n"[..],
        b"*-5\r\n",
        b"%-1\r\n",
        b"~-1\r\n",
        b">-1\r\n",
        b"|-1\r\n",
        b"!-1\r\n",
        b"=-1\r\n",
    ] {
        assert_eq!(
            kind(input),
            ErrorKind::BadLength,
            "{:?}",
            String::from_utf8_lossy(input)
        );
    }
    for input in [
        &b"$\r\n"[..],
        b"$abc\r\n",
        b"*1x\r\n",
        b"$+3\r\nabc\r\n",
        b"$ 3\r\nabc\r\n",
        b"|?\r\n",
        b"!?\r\n",
        b"=?\r\n",
    ] {
        assert_eq!(
            kind(input),
            ErrorKind::BadLength,
            "{:?}",
            String::from_utf8_lossy(input)
        );
    }
    // Overflowing lengths are bad lengths, not wrapped numbers.
    assert_eq!(kind(b"$99999999999999999999999\r\n"), ErrorKind::BadLength);
    assert_eq!(kind(b"*18446744073709551616\r\n"), ErrorKind::BadLength);
    assert_eq!(error(b"*1\r\n$x\r\n").offset, 5);
}

#[test]
fn bad_integers() {
    for input in [
        &b":\r\n"[..],
        b":-\r\n",
        b":1.5\r\n",
        b":9223372036854775808\r\n",
        b":-9223372036854775809\r\n",
        b": 1\r\n",
        b":0x10\r\n",
    ] {
        assert_eq!(
            kind(input),
            ErrorKind::BadInteger,
            "{:?}",
            String::from_utf8_lossy(input)
        );
    }
}

#[test]
fn bad_doubles_booleans_big_numbers_nulls() {
    for input in [
        &b",\r\n"[..],
        b",1.\r\n",
        b",.5\r\n",
        b",1e\r\n",
        b",e5\r\n",
        b",--1\r\n",
        b",abc\r\n",
        b",infinity\r\n",
        b",NaN\r\n",
        b",1.5e+\r\n",
        b",1 \r\n",
    ] {
        assert_eq!(
            kind(input),
            ErrorKind::BadDouble,
            "{:?}",
            String::from_utf8_lossy(input)
        );
    }
    for input in [&b"#\r\n"[..], b"#x\r\n", b"#tt\r\n", b"#T\r\n"] {
        assert_eq!(
            kind(input),
            ErrorKind::BadBoolean,
            "{:?}",
            String::from_utf8_lossy(input)
        );
    }
    for input in [&b"(\r\n"[..], b"(-\r\n", b"(12a\r\n", b"(1.0\r\n"] {
        assert_eq!(
            kind(input),
            ErrorKind::BadBigNumber,
            "{:?}",
            String::from_utf8_lossy(input)
        );
    }
    assert_eq!(kind(b"_x\r\n"), ErrorKind::BadNull);
    assert_eq!(kind(b"=3\r\ntxt\r\n"), ErrorKind::BadVerbatim);
    assert_eq!(kind(b"=5\r\ntxt!a\r\n"), ErrorKind::BadVerbatim);
}

#[test]
fn bare_lf_and_stray_cr() {
    assert_eq!(error(b"+OK\n").kind, ErrorKind::ExpectedCrlf);
    assert_eq!(error(b"+OK\n").offset, 3);
    assert_eq!(kind(b"$3\nfoo\r\n"), ErrorKind::ExpectedCrlf);
    assert_eq!(error(b"+O\rK\r\n").offset, 3);
    assert_eq!(error(b"$3\r\nfoobar\r\n").offset, 7);
    assert_eq!(kind(b"$3\r\nfoo\n\n"), ErrorKind::ExpectedCrlf);
    assert_eq!(kind(b"*?\r\n.x\r\n"), ErrorKind::ExpectedCrlf);
}

#[test]
fn stream_structure() {
    assert_eq!(kind(b".\r\n"), ErrorKind::UnexpectedEnd);
    assert_eq!(kind(b"*1\r\n.\r\n"), ErrorKind::UnexpectedEnd);
    assert_eq!(kind(b"%?\r\n+a\r\n.\r\n"), ErrorKind::UnexpectedEnd);
    assert_eq!(kind(b"$?\r\n+a\r\n"), ErrorKind::ExpectedChunk);
    assert_eq!(kind(b"$?\r\n;-1\r\n"), ErrorKind::BadLength);
}

#[test]
fn truncated_frames_are_reported_at_end_of_stream() {
    for input in [
        &b"$5\r\nhel"[..],
        b"*2\r\n:1\r\n",
        b"+OK",
        b"+OK\r",
        b"$?\r\n;1\r\na\r\n",
        b"*?\r\n:1\r\n",
        b"|1\r\n:1\r\n:2\r\n",
    ] {
        let e = error(input);
        assert_eq!(
            e.kind,
            ErrorKind::Truncated,
            "{:?}",
            String::from_utf8_lossy(input)
        );
        assert_eq!(e.offset, input.len() as u64);
    }
}

#[test]
fn nesting_a_million_deep_is_a_depth_error_not_a_stack_overflow() {
    let input = b"*1\r\n".repeat(1_000_000);
    let e = error(&input);
    assert_eq!(e.kind, ErrorKind::LimitExceeded(Limit::Depth));
    assert_eq!(e.offset, 4 * 128);
    // The limit is configurable; a frame exactly at the limit decodes.
    let mut limits = Limits::DEFAULT;
    limits.max_depth = 3;
    let mut buf = BytesMut::from(&b"*1\r\n*1\r\n*1\r\n:1\r\n"[..]);
    let frame = Decoder::with_limits(limits)
        .decode(&mut buf)
        .unwrap()
        .unwrap();
    assert_eq!(
        frame,
        Frame::Array(vec![Frame::Array(vec![Frame::Array(vec![1.into()])])])
    );
    assert_eq!(
        error_with(b"*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n", limits).kind,
        ErrorKind::LimitExceeded(Limit::Depth)
    );
}

#[test]
fn limits_fail_on_the_header_before_the_payload_arrives() {
    let mut limits = Limits::DEFAULT;
    limits.max_bulk_len = 10;
    limits.max_aggregate_len = 4;
    limits.max_frame_len = 100;
    limits.max_line_len = 8;
    let check = |input: &[u8], limit: Limit, offset: u64| {
        let e = error_with(input, limits);
        assert_eq!(
            (e.kind, e.offset),
            (ErrorKind::LimitExceeded(limit), offset),
            "{:?}",
            String::from_utf8_lossy(input)
        );
    };
    check(b"$11\r\n", Limit::BulkLen, 1);
    check(b"!11\r\n", Limit::BulkLen, 1);
    check(b"$?\r\n;11\r\n", Limit::BulkLen, 5);
    check(b"*5\r\n", Limit::AggregateLen, 1);
    check(b"%3\r\n", Limit::AggregateLen, 1);
    check(b"|3\r\n", Limit::AggregateLen, 1);
    check(b"+123456789", Limit::LineLen, 0);
    check(b"+123456789\r\n", Limit::LineLen, 0);
    // The fourth bulk's header (at 55) declares a payload that would end at 72 > 60.
    let mut small = limits;
    small.max_frame_len = 60;
    let e = error_with(
        b"*4\r\n$10\r\n0123456789\r\n$10\r\n0123456789\r\n$10\r\n0123456789\r\n$10\r\n",
        small,
    );
    assert_eq!(
        (e.kind, e.offset),
        (ErrorKind::LimitExceeded(Limit::FrameLen), 55)
    );
    // Exactly at the limits is fine.
    let mut buf =
        BytesMut::from(&b"$10\r\n0123456789\r\n+12345678\r\n*4\r\n_\r\n_\r\n_\r\n_\r\n"[..]);
    let mut decoder = Decoder::with_limits(limits);
    for _ in 0..3 {
        assert!(decoder.decode(&mut buf).unwrap().is_some());
    }
}

#[test]
fn a_failed_decoder_stays_failed() {
    let mut decoder = Decoder::new();
    let mut buf = BytesMut::from(&b"+OK\r\n:x\r\n+fine\r\n"[..]);
    assert!(decoder.decode(&mut buf).unwrap().is_some());
    let first = decoder.decode(&mut buf).unwrap_err();
    assert_eq!(
        (first.kind.clone(), first.offset),
        (ErrorKind::BadInteger, 6)
    );
    assert_eq!(decoder.decode(&mut buf).unwrap_err(), first);
    assert_eq!(decoder.finish(&buf).unwrap_err(), first);
    assert!(first.to_string().contains("byte 6"), "{first}");
}

#[test]
fn error_offsets_count_from_the_start_of_the_stream() {
    let mut decoder = Decoder::new();
    let mut buf = BytesMut::new();
    for _ in 0..1000 {
        buf.extend_from_slice(b":1\r\n");
        assert!(decoder.decode(&mut buf).unwrap().is_some());
    }
    buf.extend_from_slice(b"*1\r\n#y\r\n");
    assert_eq!(decoder.decode(&mut buf).unwrap_err().offset, 4005);
    assert_eq!(decoder.consumed(), 4000);
}

#[test]
fn a_partial_line_then_a_whole_frame_leaves_no_stale_state() {
    // Found by the split-at-every-byte property: a search hint left by a partial `+` line must not
    // outlive the frame it was for.
    let input = b"+\xc2\xa1\r\n*0\r\n";
    for cut in 0..input.len() {
        let mut decoder = Decoder::new();
        let mut buf = BytesMut::from(&input[..cut]);
        let mut frames = Vec::new();
        while let Some(f) = decoder.decode(&mut buf).unwrap() {
            frames.push(f);
        }
        buf.extend_from_slice(&input[cut..]);
        while let Some(f) = decoder.decode(&mut buf).unwrap() {
            frames.push(f);
        }
        assert_eq!(
            frames,
            vec![Frame::SimpleString("\u{a1}".into()), Frame::Array(vec![])],
            "cut at {cut}"
        );
    }
}
