//! Helpers shared by the RESP tests.
#![allow(dead_code, unreachable_pub)]

use bytes::{Bytes, BytesMut};
use slotwise_resp::{DecodeError, Decoder, Frame, Limits, decode_complete};

/// Decodes exactly one frame from `input`, which must be consumed whole.
pub fn one(input: &[u8]) -> Frame {
    let bytes = Bytes::copy_from_slice(input);
    let (frame, len) = decode_complete(&bytes, &Limits::DEFAULT)
        .unwrap_or_else(|e| panic!("{e} in {input:?}"))
        .unwrap_or_else(|| panic!("incomplete: {input:?}"));
    assert_eq!(len, input.len(), "trailing bytes in {input:?}");
    frame
}

/// The error decoding `input` gives (with the given limits), end of stream included.
pub fn error_with(input: &[u8], limits: Limits) -> DecodeError {
    let mut decoder = Decoder::with_limits(limits);
    let mut buf = BytesMut::from(input);
    loop {
        match decoder.decode(&mut buf) {
            Ok(Some(_)) => continue,
            Ok(None) => match decoder.finish(&buf) {
                Err(e) => return e,
                Ok(()) => panic!("no error for {input:?}"),
            },
            Err(e) => return e,
        }
    }
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
