//! The fast path for the commonest replies: a complete `+`, `-`, `:` or `$` frame at the front of the
//! buffer, with nothing unusual about it. Its payload is split straight off the buffer, with no tape and
//! no second pass.
//!
//! Anything else (an aggregate, a partial frame, a sign or length the general path would reject, a
//! limit near its bound) returns `None`, and the general scanner takes over from the same byte. So the
//! fast path changes no result and no error: it only accepts what the general path accepts, and builds
//! the same frame.

use bytes::{Buf, Bytes, BytesMut};

use crate::event::Event;
use crate::frame::Frame;
use crate::limits::Limits;

/// Longest line the fast path looks through for its CR before leaving it to the general path.
const SHORT_LINE: usize = 128;

/// A leaf frame found at the front of the input, before its payload is cut out.
#[derive(Clone, Copy)]
enum Leaf {
    /// `+` or `-` (the type byte) with a text of this many bytes after it.
    Line(u8, usize),
    Integer(i64),
    NullBulk,
    /// A bulk string whose payload starts at `header` and is `len` bytes long.
    Bulk {
        header: usize,
        len: usize,
    },
}

/// Recognises one complete leaf frame at the front of `bytes`; returns it and its length in bytes.
#[inline(always)]
fn recognise(bytes: &[u8], limits: &Limits) -> Option<(Leaf, usize)> {
    let (&ty, rest) = bytes.split_first()?;
    match ty {
        b'+' | b'-' => {
            let window = rest.get(..rest.len().min(SHORT_LINE).min(limits.max_line_len))?;
            let i = window.iter().position(|&b| b == b'\r' || b == b'\n')?;
            if rest.get(i..i + 2) != Some(b"\r\n") || i + 3 > limits.max_frame_len {
                return None;
            }
            Some((Leaf::Line(ty, i), i + 3))
        }
        b':' => {
            let (n, line) = int_line(rest)?;
            if line + 1 > limits.max_frame_len {
                return None;
            }
            Some((Leaf::Integer(n), 1 + line))
        }
        b'$' => {
            let (n, line) = int_line(rest)?;
            let header = 1 + line;
            if n == -1 {
                if header > limits.max_frame_len {
                    return None;
                }
                return Some((Leaf::NullBulk, header));
            }
            let n = usize::try_from(n)
                .ok()
                .filter(|&n| n <= limits.max_bulk_len)?;
            let total = header.checked_add(n)?.checked_add(2)?;
            if total > limits.max_frame_len || bytes.get(total - 2..total) != Some(b"\r\n") {
                return None;
            }
            Some((Leaf::Bulk { header, len: n }, total))
        }
        _ => None,
    }
}

fn line_frame(ty: u8, text: Bytes) -> Frame {
    if ty == b'+' {
        Frame::SimpleString(text)
    } else {
        Frame::SimpleError(text)
    }
}

/// The status replies servers send most (`+OK`, `+QUEUED`, `+PONG`): their text is a static string,
/// so the frame shares nothing with the buffer and costs no reference count.
#[inline(always)]
pub(crate) fn common_status(text: &[u8]) -> Option<Bytes> {
    match text {
        b"OK" => Some(Bytes::from_static(b"OK")),
        b"QUEUED" => Some(Bytes::from_static(b"QUEUED")),
        b"PONG" => Some(Bytes::from_static(b"PONG")),
        _ => None,
    }
}

/// Decodes one complete leaf frame off the front of `buf`, or returns `None` (leaving `buf` untouched).
/// On success returns the frame and the number of bytes it took.
pub(crate) fn leaf(buf: &mut BytesMut, limits: &Limits) -> Option<(Frame, usize)> {
    let (leaf, total) = recognise(buf, limits)?;
    let frame = match leaf {
        Leaf::Line(b'+', len) if let Some(text) = buf.get(1..1 + len).and_then(common_status) => {
            buf.advance(total);
            Frame::SimpleString(text)
        }
        Leaf::Line(ty, len) => {
            buf.advance(1);
            let text = buf.split_to(len).freeze();
            buf.advance(2);
            line_frame(ty, text)
        }
        Leaf::Integer(n) => {
            buf.advance(total);
            Frame::Integer(n)
        }
        Leaf::NullBulk => {
            buf.advance(total);
            Frame::NullBulk
        }
        Leaf::Bulk { header, len } => {
            buf.advance(header);
            let payload = buf.split_to(len).freeze();
            buf.advance(2);
            Frame::BulkString(payload)
        }
    };
    Some((frame, total))
}

/// Decodes one complete leaf frame from the start of `input` (payloads are slices of it), or `None`.
pub(crate) fn leaf_of(input: &Bytes, limits: &Limits) -> Option<(Frame, usize)> {
    let (leaf, total) = recognise(input, limits)?;
    let frame = match leaf {
        Leaf::Line(b'+', len) if let Some(text) = input.get(1..1 + len).and_then(common_status) => {
            Frame::SimpleString(text)
        }
        Leaf::Line(ty, len) => line_frame(ty, input.slice(1..1 + len)),
        Leaf::Integer(n) => Frame::Integer(n),
        Leaf::NullBulk => Frame::NullBulk,
        Leaf::Bulk { header, len } => Frame::BulkString(input.slice(header..header + len)),
    };
    Some((frame, total))
}

/// Reads one complete leaf frame at the start of `input` as its [`Event`] (payload borrowed), or `None`.
pub(crate) fn leaf_event<'a>(input: &'a [u8], limits: &Limits) -> Option<(Event<'a>, usize)> {
    let (leaf, total) = recognise(input, limits)?;
    let event = match leaf {
        Leaf::Line(ty, len) => {
            let text = input.get(1..1 + len)?;
            if ty == b'+' {
                Event::SimpleString(text)
            } else {
                Event::SimpleError(text)
            }
        }
        Leaf::Integer(n) => Event::Integer(n),
        Leaf::NullBulk => Event::NullBulk,
        Leaf::Bulk { header, len } => Event::BulkString(input.get(header..header + len)?),
    };
    Some((event, total))
}

/// Parses `-?digits\r\n` (at most 19 digits, so it cannot overflow) from the start of `line`; returns
/// the value and the bytes taken, CRLF included. `None` for anything else, including a partial line.
#[inline(always)]
fn int_line(line: &[u8]) -> Option<(i64, usize)> {
    let (negative, start) = match line.first()? {
        b'-' => (true, 1),
        _ => (false, 0),
    };
    let mut n: i64 = 0;
    let mut i = start;
    loop {
        let b = *line.get(i)?;
        if b.is_ascii_digit() {
            if i - start >= 18 {
                return None;
            }
            n = n * 10 + i64::from(b - b'0');
            i += 1;
        } else if b == b'\r' && i > start && line.get(i + 1) == Some(&b'\n') {
            // `-0` is left to the general path, which rejects it as a length.
            return match (negative, n) {
                (true, 0) => None,
                (true, n) => Some((-n, i + 2)),
                (false, n) => Some((n, i + 2)),
            };
        } else {
            return None;
        }
    }
}
