//! Properties: decode(encode(f)) == f; decoding is the same however the input is split; commands encode
//! to arrays of bulk strings.

mod common;

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;
use slotwise_resp::encode::{command_len, write_command};
use slotwise_resp::{
    BigNumber, Decoder, Double, Event, Frame, FrameBuilder, Limits, Verbatim, decode_complete,
    visit_complete,
};

fn bytes() -> impl Strategy<Value = Bytes> {
    prop::collection::vec(any::<u8>(), 0..24).prop_map(Bytes::from)
}

fn line() -> impl Strategy<Value = Bytes> {
    "[^\r\n]{0,16}".prop_map(|s| Bytes::from(s.into_bytes()))
}

fn leaf() -> impl Strategy<Value = Frame> {
    prop_oneof![
        line().prop_map(Frame::SimpleString),
        line().prop_map(Frame::SimpleError),
        any::<i64>().prop_map(Frame::Integer),
        bytes().prop_map(Frame::BulkString),
        Just(Frame::NullBulk),
        Just(Frame::NullArray),
        Just(Frame::Null),
        any::<bool>().prop_map(Frame::Boolean),
        any::<f64>().prop_map(|v| Frame::Double(Double::from_f64(v))),
        "-?[0-9]{1,40}".prop_map(|s| Frame::BigNumber(BigNumber::new(s.into()).unwrap())),
        bytes().prop_map(Frame::BulkError),
        (any::<[u8; 3]>(), bytes()).prop_map(|(f, t)| Frame::Verbatim(Verbatim::new(f, t))),
        prop::collection::vec(bytes().prop_filter("non-empty", |b| !b.is_empty()), 0..4)
            .prop_map(Frame::StreamedString),
    ]
}

fn frame() -> impl Strategy<Value = Frame> {
    leaf().prop_recursive(5, 64, 6, |inner| {
        let pairs = prop::collection::vec((inner.clone(), inner.clone()), 0..4);
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Frame::Array),
            prop::collection::vec(inner.clone(), 0..6).prop_map(Frame::Set),
            prop::collection::vec(inner.clone(), 0..6).prop_map(Frame::Push),
            pairs.clone().prop_map(Frame::Map),
            (inner, pairs).prop_map(|(f, a)| f.with_attributes(a)),
        ]
    })
}

fn decode_in_pieces(input: &[u8], cuts: &[usize]) -> Vec<Frame> {
    let mut decoder = Decoder::new();
    let mut buf = BytesMut::new();
    let mut frames = Vec::new();
    for piece in common::pieces(input, cuts) {
        buf.extend_from_slice(piece);
        while let Some(f) = decoder.decode(&mut buf).unwrap() {
            frames.push(f);
        }
    }
    decoder.finish(&buf).unwrap();
    frames
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn decode_of_encode_is_identity(f in frame()) {
        let bytes = f.to_bytes();
        prop_assert_eq!(bytes.len(), f.encoded_len());
        let (decoded, len) = decode_complete(&bytes, &Limits::DEFAULT).unwrap().unwrap();
        prop_assert_eq!(len, bytes.len());
        prop_assert_eq!(decoded.to_bytes(), bytes);
        prop_assert_eq!(decoded, f);
    }

    #[test]
    fn splitting_at_every_byte_changes_nothing(frames in prop::collection::vec(frame(), 1..4)) {
        let mut input = Vec::new();
        for f in &frames {
            f.encode(&mut input);
        }
        for cut in 0..=input.len() {
            prop_assert_eq!(&decode_in_pieces(&input, &[cut]), &frames);
        }
        // And one byte at a time.
        let every: Vec<usize> = (0..input.len()).collect();
        prop_assert_eq!(&decode_in_pieces(&input, &every), &frames);
    }

    #[test]
    fn random_chunking_changes_nothing(frames in prop::collection::vec(frame(), 1..8), mut cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..12)) {
        let mut input = Vec::new();
        for f in &frames {
            f.encode(&mut input);
        }
        let mut cuts: Vec<usize> = cuts.drain(..).map(|i| i.index(input.len() + 1)).collect();
        cuts.sort_unstable();
        prop_assert_eq!(decode_in_pieces(&input, &cuts), frames);
    }

    #[test]
    fn commands_are_arrays_of_bulk_strings(args in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..32), 0..10), n in any::<i64>(), u in any::<u64>()) {
        let mut out = BytesMut::new();
        write_command(&mut out, &args);
        prop_assert_eq!(out.len(), command_len(&args));
        let frame = Decoder::new().decode(&mut out).unwrap().unwrap();
        let expected: Vec<Frame> = args.iter().map(|a| Frame::BulkString(Bytes::copy_from_slice(a))).collect();
        prop_assert_eq!(frame, Frame::Array(expected));

        let mut out = Vec::new();
        write_command(&mut out, [n]);
        write_command(&mut out, [u]);
        let expected = format!("*1\r\n${}\r\n{n}\r\n*1\r\n${}\r\n{u}\r\n", n.to_string().len(), u.to_string().len());
        prop_assert_eq!(String::from_utf8(out).unwrap(), expected);
    }
}

#[test]
fn integer_arguments_cover_the_extremes() {
    let mut out = Vec::new();
    write_command(&mut out, [i64::MIN]);
    write_command(&mut out, [u64::MAX]);
    write_command(&mut out, [0u8]);
    assert_eq!(out, b"*1\r\n$20\r\n-9223372036854775808\r\n*1\r\n$20\r\n18446744073709551615\r\n*1\r\n$1\r\n0\r\n");
}

/// Frames read as events (in pieces cut at `cuts`) and rebuilt.
fn visited(input: &[u8], cuts: &[usize]) -> Vec<Frame> {
    let (frames, error) = common::visit_in_pieces(input, cuts, Limits::DEFAULT);
    assert_eq!(error, None);
    frames
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn events_rebuild_the_frames_decode_gives(frames in prop::collection::vec(frame(), 1..8), mut cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..12)) {
        let mut input = Vec::new();
        for f in &frames {
            f.encode(&mut input);
        }
        let mut cuts: Vec<usize> = cuts.drain(..).map(|i| i.index(input.len() + 1)).collect();
        cuts.sort_unstable();
        prop_assert_eq!(&visited(&input, &[]), &frames);
        prop_assert_eq!(&visited(&input, &cuts), &frames);
        // The stateless entry point: the first frame, its length, borrowed from the input.
        let mut builder = FrameBuilder::new();
        let mut first = None;
        let len = visit_complete(&input, &Limits::DEFAULT, |event| {
            if let Event::BulkString(b) = event {
                assert!(input.as_ptr_range().contains(&b.as_ptr()) || b.is_empty());
            }
            first = first.take().or(builder.push(event));
        }).unwrap();
        prop_assert_eq!(len, Some(frames[0].encoded_len()));
        prop_assert_eq!(first.as_ref(), Some(&frames[0]));
        prop_assert_eq!(visit_complete(&input[..len.unwrap() - 1], &Limits::DEFAULT, |_| panic!("an event of a partial frame")), Ok(None));
    }

    #[test]
    fn events_split_at_every_byte_rebuild_the_same_frames(frames in prop::collection::vec(frame(), 1..4)) {
        let mut input = Vec::new();
        for f in &frames {
            f.encode(&mut input);
        }
        for cut in 0..=input.len() {
            prop_assert_eq!(&visited(&input, &[cut]), &frames);
        }
    }

    #[test]
    fn events_and_frames_agree_on_any_bytes(data in prop::collection::vec(prop_oneof![Just(b'\r'), Just(b'\n'), Just(b'*'), Just(b'$'), Just(b'%'), Just(b'|'), Just(b'?'), Just(b'.'), Just(b';'), Just(b'1'), Just(b'0'), Just(b'-'), any::<u8>()], 0..48)) {
        let mut limits = Limits::DEFAULT;
        limits.max_depth = 4;
        limits.max_line_len = 16;
        let mut decoder = Decoder::with_limits(limits);
        let mut buf = BytesMut::from(&data[..]);
        let mut frames = Vec::new();
        let error = loop {
            match decoder.decode(&mut buf) {
                Ok(Some(f)) => frames.push(f),
                Ok(None) => break decoder.finish(&buf).err(),
                Err(e) => break Some(e),
            }
        };
        let (visited, visit_error) = common::visit_in_pieces(&data, &[data.len() / 2], limits);
        prop_assert_eq!(visited, frames);
        prop_assert_eq!(visit_error, error);
    }
}
