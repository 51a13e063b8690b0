//! Helpers shared by the RESP tests.
#![allow(dead_code, unreachable_pub)]

use bytes::{Bytes, BytesMut};
use slotwise_resp::{DecodeError, Decoder, Frame, FrameBuilder, Limits, decode_complete};

/// Decodes exactly one frame from `input`, which must be consumed whole.
pub fn one(input: &[u8]) -> Frame {
    let bytes = Bytes::copy_from_slice(input);
    let (frame, len) = decode_complete(&bytes, &Limits::DEFAULT)
        .unwrap_or_else(|e| panic!("{e} in {input:?}"))
        .unwrap_or_else(|| panic!("incomplete: {input:?}"));
    assert_eq!(len, input.len(), "trailing bytes in {input:?}");
    frame
}

/// The error decoding `input` gives (with the given limits), end of stream included. Reading it as
/// events ([`Decoder::visit`]) must give the same frames before it and the same error.
pub fn error_with(input: &[u8], limits: Limits) -> DecodeError {
    let mut decoder = Decoder::with_limits(limits);
    let mut buf = BytesMut::from(input);
    let mut frames = Vec::new();
    let error = loop {
        match decoder.decode(&mut buf) {
            Ok(Some(frame)) => frames.push(frame),
            Ok(None) => match decoder.finish(&buf) {
                Err(e) => break e,
                Ok(()) => panic!("no error for {input:?}"),
            },
            Err(e) => break e,
        }
    };
    let (visited, visit_error) = visit_in_pieces(input, &[], limits);
    assert_eq!(
        visited, frames,
        "visit gave other frames before the error in {input:?}"
    );
    assert_eq!(
        visit_error.as_ref(),
        Some(&error),
        "visit's error for {input:?}"
    );
    error
}

/// `input` cut at `cuts` (offsets, in order; out-of-order or out-of-range ones are clamped), the last
/// piece running to the end.
pub fn pieces<'a>(input: &'a [u8], cuts: &'a [usize]) -> impl Iterator<Item = &'a [u8]> {
    let mut at = 0;
    cuts.iter()
        .copied()
        .chain(std::iter::once(input.len()))
        .map(move |cut| {
            let cut = cut.clamp(at, input.len());
            let piece = &input[at..cut];
            at = cut;
            piece
        })
}

/// Every frame (rebuilt from [`Decoder::visit`]'s events) and the error, if any, from feeding `input`
/// in pieces cut at `cuts`. Checks that a frame's events come only once it is complete.
pub fn visit_in_pieces(
    input: &[u8],
    cuts: &[usize],
    limits: Limits,
) -> (Vec<Frame>, Option<DecodeError>) {
    let mut decoder = Decoder::with_limits(limits);
    let mut builder = FrameBuilder::new();
    let mut buf = BytesMut::new();
    let mut frames = Vec::new();
    for piece in pieces(input, cuts) {
        buf.extend_from_slice(piece);
        loop {
            let mut done = Vec::new();
            let mut events = 0;
            let result = decoder.visit(&mut buf, |event| {
                events += 1;
                done.extend(builder.push(event));
            });
            match result {
                Ok(Some(_)) => {
                    assert_eq!(done.len(), 1, "one visit, one frame, in {input:?}");
                    frames.extend(done);
                }
                Ok(None) | Err(_) => {
                    assert_eq!(events, 0, "events of an unfinished frame in {input:?}");
                    if let Err(e) = result {
                        return (frames, Some(e));
                    }
                    break;
                }
            }
        }
    }
    (frames, decoder.finish(&buf).err())
}

/// The error decoding `input` gives (default limits).
pub fn error(input: &[u8]) -> DecodeError {
    error_with(input, Limits::DEFAULT)
}

/// All frames from feeding `input` to one decoder in pieces of `chunk` bytes.
pub fn chunked(input: &[u8], chunk: usize) -> Result<Vec<Frame>, DecodeError> {
    let mut decoder = Decoder::new();
    let mut buf = BytesMut::new();
    let mut frames = Vec::new();
    for piece in input.chunks(chunk.max(1)) {
        buf.extend_from_slice(piece);
        while let Some(frame) = decoder.decode(&mut buf)? {
            frames.push(frame);
        }
    }
    decoder.finish(&buf)?;
    Ok(frames)
}

/// A bulk string frame.
pub fn bulk(s: &str) -> Frame {
    Frame::BulkString(Bytes::copy_from_slice(s.as_bytes()))
}

/// A simple string frame.
pub fn simple(s: &str) -> Frame {
    Frame::SimpleString(Bytes::copy_from_slice(s.as_bytes()))
}
