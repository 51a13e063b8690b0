//! Phase two of decoding, and the public entry points: build the [`Frame`] tree of a frame the scanner
//! found complete, straight from its validated bytes, with payloads that are slices of the input.

use alloc::boxed::Box;
use alloc::vec::Vec;
use bytes::{Buf, Bytes, BytesMut};

use crate::error::{DecodeError, ErrorKind};
use crate::event::{Aggregate, Event};
use crate::fast;
use crate::frame::{Attributed, BigNumber, Double, Frame, Verbatim};
use crate::limits::Limits;
use crate::scan::Scanner;
use crate::walk;

/// A resumable RESP2/RESP3 decoder for one byte stream (one connection).
///
/// Call [`Decoder::decode`] whenever bytes have been appended to the buffer; it returns each complete
/// frame in turn (splitting its bytes off the front of the buffer) and `Ok(None)` when it needs more.
/// Between calls, only append to the buffer: the decoder remembers how far into a partial frame it has
/// read, so no byte of a partial frame is scanned twice and the cost is linear in the input whatever the
/// chunking. (A complete aggregate's header lines are read once more, to build it: the decoder keeps
/// no per-element record while it scans, so decoding holds only the input and the frame.)
///
/// After an error the decoder stays failed (the stream has lost its framing) and returns that error
/// again; close the connection.
#[derive(Debug, Default)]
pub struct Decoder {
    limits: Limits,
    scanner: Scanner,
    /// Stream offset of the first byte of the buffer (bytes already handed out as frames).
    consumed: u64,
    failed: Option<DecodeError>,
    /// The builder's stack, kept between frames so that building an aggregate allocates only the
    /// aggregate itself. Empty between calls.
    building: Vec<Building>,
    /// The walk's stack of open aggregates, kept between frames like `building`.
    walking: Vec<walk::Open>,
}

impl Decoder {
    /// A decoder with the default [`Limits`].
    pub fn new() -> Self {
        Self::default()
    }

    /// A decoder with the given limits.
    pub fn with_limits(limits: Limits) -> Self {
        Decoder {
            limits,
            ..Self::default()
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Bytes of the stream handed out as complete frames so far.
    pub fn consumed(&self) -> u64 {
        self.consumed
    }

    /// True while part of a frame has been read but not all of it.
    pub fn is_mid_frame(&self) -> bool {
        !self.scanner.is_idle()
    }

    /// Decodes the next complete frame from the front of `buf`, splitting its bytes off. `Ok(None)`
    /// means more bytes are needed (the decoder keeps its place).
    ///
    /// # Errors
    /// A [`DecodeError`] when the input is not RESP or breaks a [`Limits`] bound; from then on every
    /// call returns the same error.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, DecodeError> {
        if let Some(err) = &self.failed {
            return Err(err.clone());
        }
        if self.scanner.waits_beyond(buf.len()) {
            return Ok(None);
        }
        if self.scanner.is_idle()
            && let Some((frame, len)) = fast::leaf(buf, &self.limits)
        {
            // A partial line or payload may have left hints for this frame; the next frame starts afresh.
            self.scanner.forget_hints();
            self.consumed += len as u64;
            return Ok(Some(frame));
        }
        match self.scan(buf)? {
            None => Ok(None),
            Some(len) => {
                let bytes = buf.split_to(len).freeze();
                let frame = build(&bytes, &mut self.building);
                if self.building.capacity() > 64 {
                    self.building = Vec::new();
                }
                Ok(Some(frame))
            }
        }
    }

    /// Reads the next complete frame from the front of `buf` as [`Event`]s, handing each to `on`, then
    /// advances `buf` past it: `Ok(Some(len))` with the frame's length in bytes, or `Ok(None)` when more
    /// bytes are needed (the decoder keeps its place, as for [`Decoder::decode`]; no event of a frame
    /// is reported before the whole frame has arrived and been validated).
    ///
    /// The borrowed counterpart of [`Decoder::decode`]: nothing is allocated and no reference count
    /// is touched. The two may be mixed on one stream, frame by frame.
    ///
    /// # Errors
    /// As for [`Decoder::decode`]; no event of the offending frame has been reported.
    ///
    /// ```
    /// use bytes::BytesMut;
    /// use slotwise_resp::{Aggregate, Decoder, Event};
    ///
    /// let mut decoder = Decoder::new();
    /// let mut buf = BytesMut::from(&b"*2\r\n$3\r\nfoo\r\n:42\r\n"[..]);
    /// let mut seen = Vec::new();
    /// let len = decoder.visit(&mut buf, |event| seen.push(format!("{event:?}")))?;
    /// assert_eq!(len, Some(18));
    /// assert_eq!(seen, [
    ///     format!("{:?}", Event::Start { kind: Aggregate::Array, len: Some(2) }),
    ///     format!("{:?}", Event::BulkString(b"foo")),
    ///     format!("{:?}", Event::Integer(42)),
    ///     format!("{:?}", Event::End),
    /// ]);
    /// assert!(buf.is_empty());
    /// # Ok::<(), slotwise_resp::DecodeError>(())
    /// ```
    pub fn visit(
        &mut self,
        buf: &mut BytesMut,
        mut on: impl FnMut(Event<'_>),
    ) -> Result<Option<usize>, DecodeError> {
        if let Some(err) = &self.failed {
            return Err(err.clone());
        }
        if self.scanner.waits_beyond(buf.len()) {
            return Ok(None);
        }
        if self.scanner.is_idle()
            && let Some((event, len)) = fast::leaf_event(buf, &self.limits)
        {
            on(event);
            self.scanner.forget_hints();
            self.consumed += len as u64;
            buf.advance(len);
            return Ok(Some(len));
        }
        let Some(len) = self.scan(buf)? else {
            return Ok(None);
        };
        walk::walk(
            buf.get(..len).unwrap_or_default(),
            &mut self.walking,
            &mut on,
        );
        if self.walking.capacity() > 64 {
            self.walking = Vec::new();
        }
        buf.advance(len);
        Ok(Some(len))
    }

    /// Scans on from where the last call stopped: the length of the frame at the front of `buf` once it
    /// is complete (counted as consumed, scanner reset), or the error (kept: the decoder has failed).
    fn scan(&mut self, buf: &[u8]) -> Result<Option<usize>, DecodeError> {
        match self.scanner.scan(buf, &self.limits) {
            Ok(None) => Ok(None),
            Ok(Some(len)) => {
                self.scanner.reset();
                self.consumed += len as u64;
                Ok(Some(len))
            }
            Err((at, kind)) => {
                let err = DecodeError::new(self.consumed + at as u64, kind);
                self.scanner.reset();
                self.failed = Some(err.clone());
                Err(err)
            }
        }
    }

    /// Call at end of stream: an error if the stream stopped inside a frame.
    ///
    /// # Errors
    /// [`ErrorKind::Truncated`] (at the offset where the buffer ends) when `buf` holds part of a frame,
    /// or the error the decoder already failed with.
    pub fn finish(&self, buf: &BytesMut) -> Result<(), DecodeError> {
        if let Some(err) = &self.failed {
            return Err(err.clone());
        }
        if buf.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::new(
                self.consumed + buf.len() as u64,
                ErrorKind::Truncated,
            ))
        }
    }
}

/// Decodes one frame from the start of `input` without keeping state: `Ok(Some((frame, len)))` with
/// the frame's length in bytes, or `Ok(None)` if `input` holds only part of a frame. The frame's
/// payloads are slices of `input` (no copy).
///
/// # Errors
/// A [`DecodeError`] (offsets from the start of `input`) when the input is not RESP or breaks `limits`.
///
/// ```
/// use slotwise_resp::{decode_complete, Frame, Limits};
/// let input = bytes::Bytes::from_static(b":7\r\n+OK\r\n");
/// let (frame, len) = decode_complete(&input, &Limits::DEFAULT)?.expect("complete");
/// assert_eq!((frame, len), (Frame::Integer(7), 4));
/// # Ok::<(), slotwise_resp::DecodeError>(())
/// ```
pub fn decode_complete(
    input: &Bytes,
    limits: &Limits,
) -> Result<Option<(Frame, usize)>, DecodeError> {
    if let Some(found) = fast::leaf_of(input, limits) {
        return Ok(Some(found));
    }
    let mut scanner = Scanner::default();
    match scanner.scan(input, limits) {
        Ok(None) => Ok(None),
        Ok(Some(len)) => Ok(Some((build(input, &mut Vec::new()), len))),
        Err((at, kind)) => Err(DecodeError::new(at as u64, kind)),
    }
}

/// Reads one frame from the start of `input` without keeping state, handing it to `on` as [`Event`]s
/// whose payloads borrow `input`: `Ok(Some(len))` with the frame's length in bytes, or `Ok(None)` if
/// `input` holds only part of a frame (then no event is reported). The borrowed counterpart of
/// [`decode_complete`]; it allocates nothing per element, only (for an aggregate) the small stacks of
/// aggregates open at once, which [`Decoder::visit`] keeps between frames.
///
/// # Errors
/// As for [`decode_complete`]; no event of the offending frame has been reported.
///
/// ```
/// use slotwise_resp::{visit_complete, Event, Limits};
/// let mut total = 0;
/// let len = visit_complete(b"*2\r\n:3\r\n:4\r\n", &Limits::DEFAULT, |event| {
///     if let Event::Integer(n) = event {
///         total += n;
///     }
/// })?;
/// assert_eq!((len, total), (Some(12), 7));
/// # Ok::<(), slotwise_resp::DecodeError>(())
/// ```
pub fn visit_complete<'a>(
    input: &'a [u8],
    limits: &Limits,
    mut on: impl FnMut(Event<'a>),
) -> Result<Option<usize>, DecodeError> {
    if let Some((event, len)) = fast::leaf_event(input, limits) {
        on(event);
        return Ok(Some(len));
    }
    let mut scanner = Scanner::default();
    match scanner.scan(input, limits) {
        Ok(None) => Ok(None),
        Ok(Some(len)) => {
            walk::walk(
                input.get(..len).unwrap_or_default(),
                &mut Vec::new(),
                &mut on,
            );
            Ok(Some(len))
        }
        Err((at, kind)) => Err(DecodeError::new(at as u64, kind)),
    }
}

/// An aggregate under construction.
#[derive(Debug)]
enum Building {
    /// Arrays, sets, pushes. `remaining` is `None` for a streamed aggregate.
    Items {
        kind: Aggregate,
        items: Vec<Frame>,
        remaining: Option<usize>,
    },
    /// Maps and attributes; `key` holds a key waiting for its value.
    Pairs {
        kind: Aggregate,
        pairs: Vec<(Frame, Frame)>,
        key: Option<Frame>,
        remaining: Option<usize>,
    },
    /// Attributes read; waiting for the frame they describe.
    AttributeTarget(Vec<(Frame, Frame)>),
    /// A streamed string's chunks.
    Chunks(Vec<Bytes>),
}

/// Builds the frame at the start of `bytes`, which the [`Scanner`] has already found complete and valid
/// (or which [`fast`] would have accepted). Payloads are slices of `bytes`; aggregates under
/// construction live on a heap stack, never the call stack.
///
/// The input is trusted to be valid, so nothing here can fail; defensive fallbacks keep it panic-free
/// even so (inconsistent input yields a [`Frame::Null`] or a truncated aggregate rather than a crash).
fn build(bytes: &Bytes, stack: &mut Vec<Building>) -> Frame {
    let input: &[u8] = bytes;
    let slice = |start: usize, end: usize| bytes.slice(start.min(end)..end.min(input.len()));
    stack.clear();
    let mut pos = 0;
    loop {
        let Some(&ty) = input.get(pos) else {
            // Unreachable for a complete frame.
            return stack.pop().map(close).unwrap_or(Frame::Null);
        };
        let start = pos + 1;
        let value = match ty {
            b'+' | b'-' | b',' | b'(' => {
                let end = line_end(input, start);
                pos = end + 2;
                if ty == b'+'
                    && let Some(text) = input.get(start..end).and_then(fast::common_status)
                {
                    Frame::SimpleString(text)
                } else {
                    let text = slice(start, end);
                    match ty {
                        b'+' => Frame::SimpleString(text),
                        b'-' => Frame::SimpleError(text),
                        b',' => Frame::Double(Double(text)),
                        _ => Frame::BigNumber(BigNumber(text)),
                    }
                }
            }
            b'#' => {
                pos = start + 3;
                Frame::Boolean(input.get(start) == Some(&b't'))
            }
            b'_' => {
                pos = start + 2;
                Frame::Null
            }
            b'.' => {
                pos = start + 2;
                match stack.pop() {
                    Some(open) => close(open),
                    None => Frame::Null,
                }
            }
            _ => {
                let (number, next) = number(input, start);
                pos = next;
                match (ty, number) {
                    (b':', Number::Value(n)) => Frame::Integer(n),
                    (b'$', Number::Value(-1)) => Frame::NullBulk,
                    (b'*', Number::Value(-1)) => Frame::NullArray,
                    (b'$' | b'!' | b'=' | b';', Number::Value(n)) => {
                        let payload_start = pos;
                        let payload_end = pos.saturating_add(usize::try_from(n).unwrap_or(0));
                        // Every payload is followed by a CRLF, except the empty chunk ending a string.
                        if ty != b';' || n > 0 {
                            pos = payload_end.saturating_add(2);
                        }
                        match ty {
                            b'$' => Frame::BulkString(slice(payload_start, payload_end)),
                            b'!' => Frame::BulkError(slice(payload_start, payload_end)),
                            b'=' => {
                                let mut format = [0u8; 3];
                                if let Some(f) = input.get(payload_start..payload_start + 3) {
                                    format.copy_from_slice(f);
                                }
                                Frame::Verbatim(Verbatim {
                                    format,
                                    text: slice(payload_start + 4, payload_end),
                                })
                            }
                            // A streamed-string chunk; the empty one ends the string.
                            _ if payload_end > payload_start => {
                                if let Some(Building::Chunks(chunks)) = stack.last_mut() {
                                    chunks.push(slice(payload_start, payload_end));
                                }
                                continue;
                            }
                            _ => match stack.pop() {
                                Some(Building::Chunks(chunks)) => Frame::StreamedString(chunks),
                                _ => Frame::Null,
                            },
                        }
                    }
                    (b'$', Number::Streamed) => {
                        stack.push(Building::Chunks(Vec::new()));
                        continue;
                    }
                    (b'*' | b'%' | b'~' | b'>' | b'|', number) => {
                        let kind = Aggregate::opened_by(ty);
                        let n = match number {
                            Number::Value(n) => Some(usize::try_from(n).unwrap_or(0)),
                            _ => None,
                        };
                        match n {
                            Some(0) if kind == Aggregate::Attribute => {
                                stack.push(Building::AttributeTarget(Vec::new()));
                                continue;
                            }
                            Some(0) => empty(kind),
                            _ => {
                                // The scanner saw all `n` elements arrive, so this capacity is backed
                                // by input; the bound keeps it so even if it had not.
                                let capacity = n.unwrap_or(0).min(input.len() / 3);
                                stack.push(match kind {
                                    Aggregate::Map | Aggregate::Attribute => Building::Pairs {
                                        kind,
                                        pairs: Vec::with_capacity(capacity),
                                        key: None,
                                        remaining: n,
                                    },
                                    _ => Building::Items {
                                        kind,
                                        items: Vec::with_capacity(capacity),
                                        remaining: n,
                                    },
                                });
                                continue;
                            }
                        }
                    }
                    _ => Frame::Null,
                }
            }
        };
        if let Some(frame) = deliver(stack, value) {
            return frame;
        }
    }
}

/// A numeric header field, as the builder reads it.
pub(crate) enum Number {
    /// A number (`-1` included: a null for `$` and `*`).
    Value(i64),
    /// `?`.
    Streamed,
}

/// Reads the validated number (`[+-]digits` or `?`) at `from` up to its CRLF, in one pass that
/// both converts it and finds the line's end; returns it and the offset after the CRLF. The scanner
/// has checked the digits and the range, so plain wrapping arithmetic is exact here.
#[inline(always)]
pub(crate) fn number(input: &[u8], from: usize) -> (Number, usize) {
    let mut i = from;
    let negative = match input.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        Some(b'?') => return (Number::Streamed, i + 3),
        _ => false,
    };
    let mut magnitude: u64 = 0;
    while let Some(&d) = input.get(i) {
        if d == b'\r' {
            break;
        }
        magnitude = magnitude
            .wrapping_mul(10)
            .wrapping_add(u64::from(d.wrapping_sub(b'0')));
        i += 1;
    }
    // `m as i64` wraps 2^63 to i64::MIN, whose negation is itself: exact for the whole i64 range.
    let number = if negative {
        Number::Value((magnitude as i64).wrapping_neg())
    } else {
        Number::Value(magnitude as i64)
    };
    (number, i + 2)
}

/// The offset of the CR ending the line that starts at `from` (the input is valid: the first CR is
/// the line's end), or the end of the input.
#[inline(always)]
pub(crate) fn line_end(input: &[u8], from: usize) -> usize {
    let rest = input.get(from..).unwrap_or_default();
    // Header lines are a few bytes (`$5`, `*3`, `:1`): a plain loop beats setting up a vector search.
    let short = rest.get(..rest.len().min(24)).unwrap_or_default();
    let found = match short.iter().position(|&b| b == b'\r') {
        Some(i) => Some(i),
        None => memchr::memchr(b'\r', rest.get(short.len()..).unwrap_or_default())
            .map(|i| i + short.len()),
    };
    from + found.unwrap_or(rest.len())
}

/// Places a complete value into the innermost open aggregate, closing every aggregate it completes.
/// Returns the whole frame once the outermost one closes.
fn deliver(stack: &mut Vec<Building>, mut value: Frame) -> Option<Frame> {
    loop {
        let Some(top) = stack.last_mut() else {
            return Some(value);
        };
        let complete = match top {
            Building::Items {
                items, remaining, ..
            } => {
                items.push(value);
                count_down(remaining)
            }
            Building::Pairs {
                pairs,
                key,
                remaining,
                ..
            } => match key.take() {
                None => {
                    *key = Some(value);
                    return None;
                }
                Some(k) => {
                    pairs.push((k, value));
                    count_down(remaining)
                }
            },
            Building::AttributeTarget(attributes) => {
                let attributes = core::mem::take(attributes);
                stack.pop();
                value = Frame::Attributed(Box::new(Attributed {
                    attributes,
                    frame: value,
                }));
                continue;
            }
            Building::Chunks(_) => return None,
        };
        if !complete {
            return None;
        }
        value = match stack.pop() {
            Some(Building::Pairs {
                kind: Aggregate::Attribute,
                pairs,
                ..
            }) => {
                stack.push(Building::AttributeTarget(pairs));
                return None;
            }
            Some(open) => close(open),
            None => return None,
        };
    }
}

/// Counts one element off a counted aggregate; true when it is complete.
fn count_down(remaining: &mut Option<usize>) -> bool {
    match remaining {
        Some(n) => {
            *n = n.saturating_sub(1);
            *n == 0
        }
        None => false,
    }
}

fn close(open: Building) -> Frame {
    match open {
        Building::Items {
            kind: Aggregate::Set,
            items,
            ..
        } => Frame::Set(items),
        Building::Items {
            kind: Aggregate::Push,
            items,
            ..
        } => Frame::Push(items),
        Building::Items { items, .. } => Frame::Array(items),
        Building::Pairs { pairs, .. } => Frame::Map(pairs),
        Building::AttributeTarget(_) => Frame::Null,
        Building::Chunks(chunks) => Frame::StreamedString(chunks),
    }
}

fn empty(kind: Aggregate) -> Frame {
    match kind {
        Aggregate::Map | Aggregate::Attribute => Frame::Map(Vec::new()),
        Aggregate::Set => Frame::Set(Vec::new()),
        Aggregate::Push => Frame::Push(Vec::new()),
        Aggregate::Array => Frame::Array(Vec::new()),
        Aggregate::StreamedString => Frame::StreamedString(Vec::new()),
    }
}
