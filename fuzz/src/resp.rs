//! Fuzz bodies for slotwise-resp.

use arbitrary::{Arbitrary, Unstructured};
use bytes::{Bytes, BytesMut};
use slotwise_resp::{
    DecodeError, Decoder, ErrorKind, Frame, FrameBuilder, Limits, decode_complete, visit_complete,
};

/// Small limits, so that the fuzzer reaches every limit check with short inputs.
fn limits() -> Limits {
    let mut limits = Limits::DEFAULT;
    limits.max_depth = 16;
    limits.max_bulk_len = 4096;
    limits.max_aggregate_len = 512;
    limits.max_frame_len = 16 * 1024;
    limits.max_line_len = 256;
    limits
}

/// Every frame (and the error, if any) from feeding `data` in chunks of `chunk` bytes.
fn decode_all(data: &[u8], chunk: usize) -> (Vec<Frame>, Option<DecodeError>) {
    let mut decoder = Decoder::with_limits(limits());
    let mut buf = BytesMut::new();
    let mut frames = Vec::new();
    for piece in data.chunks(chunk.max(1)) {
        buf.extend_from_slice(piece);
        loop {
            match decoder.decode(&mut buf) {
                Ok(Some(frame)) => frames.push(frame),
                Ok(None) => break,
                Err(e) => return (frames, Some(e)),
            }
        }
    }
    (frames, decoder.finish(&buf).err())
}

/// Every frame rebuilt from [`Decoder::visit`]'s events (and the error, if any), fed in chunks.
fn visit_all(data: &[u8], chunk: usize) -> (Vec<Frame>, Option<DecodeError>) {
    let mut decoder = Decoder::with_limits(limits());
    let mut builder = FrameBuilder::new();
    let mut buf = BytesMut::new();
    let mut frames = Vec::new();
    for piece in data.chunks(chunk.max(1)) {
        buf.extend_from_slice(piece);
        loop {
            let mut events = 0;
            match decoder.visit(&mut buf, |event| {
                events += 1;
                frames.extend(builder.push(event));
            }) {
                Ok(Some(_)) => {}
                Ok(None) => {
                    assert_eq!(events, 0, "events of a partial frame");
                    break;
                }
                Err(e) => {
                    assert_eq!(events, 0, "events of a malformed frame");
                    return (frames, Some(e));
                }
            }
        }
    }
    (frames, decoder.finish(&buf).err())
}

/// Arbitrary bytes: decoding never panics; decoding in chunks gives the same frames and the same
/// error as decoding whole; every decoded frame re-encodes to bytes that decode to the same frame.
pub fn decode(data: &[u8]) {
    let (frames, error) = decode_all(data, data.len());
    let chunk = data.first().map_or(1, |b| usize::from(b % 16) + 1);
    let (chunked_frames, chunked_error) = decode_all(data, chunk);
    assert_eq!(
        frames, chunked_frames,
        "chunked decoding (by {chunk}) gave other frames"
    );
    assert_eq!(
        error, chunked_error,
        "chunked decoding (by {chunk}) gave another error"
    );
    for frame in &frames {
        check_roundtrip(frame);
    }
    // Reading the same bytes as events gives the same frames and the same error, whole and chunked.
    for by in [data.len(), chunk] {
        let (visited, visit_error) = visit_all(data, by);
        assert_eq!(visited, frames, "visit (by {by}) gave other frames");
        assert_eq!(visit_error, error, "visit (by {by}) gave another error");
    }
    let mut builder = FrameBuilder::new();
    let mut first = None;
    let visited = visit_complete(data, &limits(), |event| {
        first = first.take().or(builder.push(event));
    });
    match (frames.first(), &error) {
        (Some(frame), _) => {
            assert_eq!(visited.map(|len| len.is_some()), Ok(true));
            assert_eq!(first.as_ref(), Some(frame), "visit_complete's first frame");
        }
        (None, Some(e)) if e.kind == ErrorKind::Truncated => assert_eq!(visited, Ok(None)),
        (None, Some(e)) => assert_eq!(visited.err().as_ref(), Some(e), "visit_complete's error"),
        (None, None) => assert_eq!(visited, Ok(None)),
    }
    // The stateless entry point agrees with the decoder on the first frame (or the first error).
    let complete = decode_complete(&Bytes::copy_from_slice(data), &limits());
    match (frames.first(), &error) {
        (Some(first), _) => {
            let (frame, _) = complete
                .expect("decode_complete fails where the decoder gave a frame")
                .expect("decode_complete wants more where the decoder gave a frame");
            assert_eq!(&frame, first, "decode_complete gave another first frame");
        }
        (None, Some(e)) if e.kind == ErrorKind::Truncated => {
            assert_eq!(complete, Ok(None), "decode_complete on a partial frame")
        }
        (None, Some(e)) => assert_eq!(complete.as_ref().err(), Some(e), "decode_complete's error"),
        (None, None) => assert_eq!(complete, Ok(None), "decode_complete on empty input"),
    }
}

/// Arbitrary frames: encoding then decoding (whole and split at a chosen byte) gives the frame back.
pub fn roundtrip(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(frame) = Frame::arbitrary(&mut u) else {
        return;
    };
    let bytes = check_roundtrip(&frame);
    let split = u.arbitrary::<usize>().unwrap_or(0) % (bytes.len() + 1);
    let mut decoder = Decoder::new();
    let mut buf = BytesMut::from(&bytes[..split]);
    let early = decoder
        .decode(&mut buf)
        .expect("a prefix of a valid frame is not an error");
    buf.extend_from_slice(&bytes[split..]);
    let decoded = match early {
        Some(f) => f,
        None => decoder
            .decode(&mut buf)
            .expect("valid frame")
            .expect("complete frame"),
    };
    assert_eq!(decoded, frame);
    assert!(buf.is_empty());
}

fn check_roundtrip(frame: &Frame) -> Bytes {
    let bytes = frame.to_bytes();
    assert_eq!(
        bytes.len(),
        frame.encoded_len(),
        "encoded_len disagrees with encode for {frame:?}"
    );
    let (again, len) = decode_complete(&bytes, &Limits::DEFAULT)
        .expect("an encoded frame decodes")
        .expect("an encoded frame is complete");
    assert_eq!(len, bytes.len());
    assert_eq!(&again, frame);
    bytes
}
