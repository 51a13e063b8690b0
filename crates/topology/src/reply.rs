//! Reading RESP replies: the shapes CLUSTER SHARDS and CLUSTER SLOTS use, in RESP2 and RESP3.

use alloc::string::String;
use alloc::vec::Vec;
use slotwise_resp::Frame;

use crate::{Format, ParseError};

/// Fails with [`ParseError::ErrorReply`] if `frame` is an error reply; else gives it without attributes.
pub(crate) fn top_level(frame: &Frame, format: Format) -> Result<&Frame, ParseError> {
    let frame = frame.without_attributes();
    if frame.is_error() {
        let message = frame
            .as_bytes()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default();
        return Err(ParseError::ErrorReply { format, message });
    }
    Ok(frame)
}

/// The key/value pairs of a RESP3 map, or of a RESP2 array of alternating keys and values.
pub(crate) fn pairs(frame: &Frame) -> Option<Vec<(&Frame, &Frame)>> {
    match frame.without_attributes() {
        Frame::Map(pairs) => Some(pairs.iter().map(|(k, v)| (k, v)).collect()),
        Frame::Array(items) if items.len() % 2 == 0 => Some(
            items
                .chunks_exact(2)
                .filter_map(|kv| match kv {
                    [k, v] => Some((k, v)),
                    _ => None,
                })
                .collect(),
        ),
        _ => None,
    }
}

/// The items of an array (or set), attributes removed.
pub(crate) fn items(frame: &Frame) -> Option<&[Frame]> {
    frame.without_attributes().as_items()
}

/// A string-like frame's bytes (simple, bulk or verbatim string).
pub(crate) fn text(frame: &Frame) -> Option<&[u8]> {
    match frame.without_attributes() {
        f @ (Frame::SimpleString(_) | Frame::BulkString(_) | Frame::Verbatim(_)) => {
            f.as_bytes().map(|b| &b[..])
        }
        _ => None,
    }
}

/// A string-like frame as UTF-8 text.
pub(crate) fn string(frame: &Frame) -> Option<String> {
    let bytes = text(frame)?;
    core::str::from_utf8(bytes).ok().map(String::from)
}

/// An integer, or a string of ASCII digits (some servers send numbers as strings).
pub(crate) fn integer(frame: &Frame) -> Option<i64> {
    match frame.without_attributes() {
        Frame::Integer(n) => Some(*n),
        other => core::str::from_utf8(text(other)?).ok()?.parse().ok(),
    }
}

/// A port number (0..=65535).
pub(crate) fn port(frame: &Frame) -> Option<u16> {
    u16::try_from(integer(frame)?).ok()
}

/// A slot number (0..=16383).
pub(crate) fn slot(frame: &Frame) -> Option<u16> {
    u16::try_from(integer(frame)?)
        .ok()
        .filter(|&s| s < crate::SLOT_COUNT)
}

/// True for the three nulls.
pub(crate) fn is_null(frame: &Frame) -> bool {
    frame.without_attributes().is_null()
}
