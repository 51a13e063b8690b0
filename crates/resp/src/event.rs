//! The borrowed way to read frames: a frame as a sequence of [`Event`]s whose payloads are slices of
//! the input, handed to a callback by [`crate::Decoder::visit`] and [`crate::visit_complete`].
//!
//! Nothing is allocated per frame and no reference count is touched: a caller that turns replies into
//! its own types (a typed client API, a proxy counting bytes, a fuzzer) skips the [`Frame`] tree. The
//! input is validated exactly as for [`crate::Decoder::decode`] before the first event of a frame is
//! reported, so a frame that turns out malformed reports no events at all.
//!
//! [`FrameBuilder`] turns events back into owned frames (copying payloads), for callers that want a
//! tree for part of what they read.

use alloc::boxed::Box;
use alloc::vec::Vec;
use bytes::Bytes;

use crate::frame::{Attributed, BigNumber, Double, Frame, Verbatim};

/// One step through a frame, in wire order. Payloads borrow the input.
///
/// Every [`Event::Start`] is matched by one [`Event::End`], for counted and streamed aggregates alike,
/// so a consumer needs no counting of its own. An attribute (`|`) is reported as
/// `Start { kind: Aggregate::Attribute, .. }`, its key/value events, `End`, and then the frame it
/// describes, as on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event<'a> {
    /// `+text`.
    SimpleString(&'a [u8]),
    /// `-text` (code included).
    SimpleError(&'a [u8]),
    /// `:n`.
    Integer(i64),
    /// `$n` and its payload.
    BulkString(&'a [u8]),
    /// `$-1`.
    NullBulk,
    /// `*-1`.
    NullArray,
    /// `_`.
    Null,
    /// `#t` / `#f`.
    Boolean(bool),
    /// `,text`: validated double text (see [`Double`]).
    Double(&'a [u8]),
    /// `(text`: validated big-number text.
    BigNumber(&'a [u8]),
    /// `!n` and its payload.
    BulkError(&'a [u8]),
    /// `=n`: a verbatim string's format and text (after `xxx:`).
    Verbatim {
        /// The three-byte format, e.g. `*b"txt"`.
        format: [u8; 3],
        /// The text.
        text: &'a [u8],
    },
    /// An aggregate or streamed string opens. `len` is the declared count (of elements; of pairs for
    /// a map or attribute), `None` for a streamed one (`?`).
    Start {
        /// Which aggregate.
        kind: Aggregate,
        /// The declared count, or `None` when streamed.
        len: Option<usize>,
    },
    /// One chunk of a streamed string (never empty; the empty chunk that ends it is the `End`).
    Chunk(&'a [u8]),
    /// The innermost open aggregate or streamed string is complete.
    End,
}

/// What an [`Event::Start`] opens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Aggregate {
    /// `*`.
    Array,
    /// `%`: key and value events alternate.
    Map,
    /// `~`.
    Set,
    /// `>`.
    Push,
    /// `|`: key and value events alternate; the described frame follows the `End`.
    Attribute,
    /// `$?`: [`Event::Chunk`]s follow.
    StreamedString,
}

impl Aggregate {
    /// The aggregate a header's type byte opens: `*`, `%`, `~`, `>`; anything else is taken as `|`
    /// (callers ask only for those five).
    pub(crate) fn opened_by(ty: u8) -> Aggregate {
        match ty {
            b'*' => Aggregate::Array,
            b'%' => Aggregate::Map,
            b'~' => Aggregate::Set,
            b'>' => Aggregate::Push,
            _ => Aggregate::Attribute,
        }
    }
}

/// Builds owned [`Frame`]s from [`Event`]s, copying each payload (a frame built from events shares
/// nothing with the input). Feed it the events of one or more frames with [`FrameBuilder::push`].
#[derive(Debug, Default)]
pub struct FrameBuilder {
    open: Vec<Open>,
}

/// An aggregate being rebuilt.
#[derive(Debug)]
enum Open {
    Items(Aggregate, Vec<Frame>),
    Pairs(Aggregate, Vec<(Frame, Frame)>, Option<Frame>),
    /// An attribute's pairs, complete: the next frame is the one they describe.
    Target(Vec<(Frame, Frame)>),
    Chunks(Vec<Bytes>),
}

impl FrameBuilder {
    /// A builder with nothing open.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes one event; returns a frame when it completes a top-level one.
    pub fn push(&mut self, event: Event<'_>) -> Option<Frame> {
        let copy = Bytes::copy_from_slice;
        let frame = match event {
            Event::SimpleString(t) => Frame::SimpleString(copy(t)),
            Event::SimpleError(t) => Frame::SimpleError(copy(t)),
            Event::Integer(n) => Frame::Integer(n),
            Event::BulkString(b) => Frame::BulkString(copy(b)),
            Event::NullBulk => Frame::NullBulk,
            Event::NullArray => Frame::NullArray,
            Event::Null => Frame::Null,
            Event::Boolean(b) => Frame::Boolean(b),
            Event::Double(t) => Frame::Double(Double(copy(t))),
            Event::BigNumber(t) => Frame::BigNumber(BigNumber(copy(t))),
            Event::BulkError(b) => Frame::BulkError(copy(b)),
            Event::Verbatim { format, text } => Frame::Verbatim(Verbatim {
                format,
                text: copy(text),
            }),
            Event::Start { kind, len } => {
                let capacity = len.unwrap_or(0).min(64);
                self.open.push(match kind {
                    Aggregate::Map | Aggregate::Attribute => {
                        Open::Pairs(kind, Vec::with_capacity(capacity), None)
                    }
                    Aggregate::StreamedString => Open::Chunks(Vec::new()),
                    _ => Open::Items(kind, Vec::with_capacity(capacity)),
                });
                return None;
            }
            Event::Chunk(c) => {
                if let Some(Open::Chunks(chunks)) = self.open.last_mut() {
                    chunks.push(copy(c));
                }
                return None;
            }
            Event::End => match self.open.pop()? {
                Open::Items(Aggregate::Set, items) => Frame::Set(items),
                Open::Items(Aggregate::Push, items) => Frame::Push(items),
                Open::Items(_, items) => Frame::Array(items),
                Open::Pairs(Aggregate::Attribute, pairs, _) => {
                    self.open.push(Open::Target(pairs));
                    return None;
                }
                Open::Pairs(_, pairs, _) => Frame::Map(pairs),
                Open::Chunks(chunks) => Frame::StreamedString(chunks),
                // Unreachable for events from this crate: a target's frame is always reported.
                Open::Target(_) => Frame::Null,
            },
        };
        self.place(frame)
    }

    /// Puts a complete frame into the innermost open aggregate, or returns it at the top level.
    fn place(&mut self, mut frame: Frame) -> Option<Frame> {
        loop {
            match self.open.last_mut() {
                None => return Some(frame),
                Some(Open::Items(_, items)) => items.push(frame),
                Some(Open::Pairs(_, pairs, key)) => match key.take() {
                    None => *key = Some(frame),
                    Some(k) => pairs.push((k, frame)),
                },
                Some(Open::Target(attributes)) => {
                    let attributes = core::mem::take(attributes);
                    self.open.pop();
                    frame = Frame::Attributed(Box::new(Attributed { attributes, frame }));
                    continue;
                }
                // Unreachable for events from this crate: only chunks come inside a streamed string.
                Some(Open::Chunks(_)) => {}
            }
            return None;
        }
    }
}
