//! Reports a frame the scanner found complete and valid as [`Event`]s, straight from its bytes: the
//! borrowed counterpart of the builder in [`crate::decode`], reading the same validated bytes the same
//! way, with nothing allocated but the stack of open aggregates (kept by the caller between frames).

use alloc::vec::Vec;

use crate::decode::{Number, line_end, number};
use crate::event::{Aggregate, Event};

/// An aggregate the walk is inside of.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Open {
    /// Elements still to come (a map's pairs count twice).
    Counted(usize),
    /// An attribute's keys and values still to come; the frame it describes is not counted here.
    Attribute(usize),
    /// A streamed aggregate or string: ends with `.` or `;0`.
    Streamed,
}

/// Reports the frame at the start of `input` (already validated by the scanner) to `on`, event by event.
///
/// Panic-free on any input; for inconsistent input (which the scanner never passes) it may report an
/// unbalanced or truncated sequence.
pub(crate) fn walk<'a>(input: &'a [u8], open: &mut Vec<Open>, on: &mut impl FnMut(Event<'a>)) {
    open.clear();
    let slice = |start: usize, end: usize| {
        input
            .get(start.min(end)..end.min(input.len()))
            .unwrap_or_default()
    };
    let mut pos = 0;
    loop {
        let Some(&ty) = input.get(pos) else {
            return;
        };
        let start = pos + 1;
        match ty {
            b'+' | b'-' | b',' | b'(' => {
                let end = line_end(input, start);
                pos = end + 2;
                let text = slice(start, end);
                on(match ty {
                    b'+' => Event::SimpleString(text),
                    b'-' => Event::SimpleError(text),
                    b',' => Event::Double(text),
                    _ => Event::BigNumber(text),
                });
            }
            b'#' => {
                pos = start + 3;
                on(Event::Boolean(input.get(start) == Some(&b't')));
            }
            b'_' => {
                pos = start + 2;
                on(Event::Null);
            }
            b'.' => {
                pos = start + 2;
                open.pop();
                on(Event::End);
            }
            _ => {
                let (value, next) = number(input, start);
                pos = next;
                match (ty, value) {
                    (b':', Number::Value(n)) => on(Event::Integer(n)),
                    (b'$', Number::Value(-1)) => on(Event::NullBulk),
                    (b'*', Number::Value(-1)) => on(Event::NullArray),
                    (b'$' | b'!' | b'=' | b';', Number::Value(n)) => {
                        let payload_end = pos.saturating_add(usize::try_from(n).unwrap_or(0));
                        let payload = slice(pos, payload_end);
                        // Every payload is followed by a CRLF, except the empty chunk ending a string.
                        if ty != b';' || n > 0 {
                            pos = payload_end.saturating_add(2);
                        }
                        match ty {
                            b'$' => on(Event::BulkString(payload)),
                            b'!' => on(Event::BulkError(payload)),
                            b'=' => {
                                let mut format = [0u8; 3];
                                if let Some(f) = payload.get(..3) {
                                    format.copy_from_slice(f);
                                }
                                let text = payload.get(4..).unwrap_or_default();
                                on(Event::Verbatim { format, text });
                            }
                            _ if n > 0 => {
                                on(Event::Chunk(payload));
                                continue;
                            }
                            _ => {
                                open.pop();
                                on(Event::End);
                            }
                        }
                    }
                    (b'$', Number::Streamed) => {
                        open.push(Open::Streamed);
                        on(Event::Start {
                            kind: Aggregate::StreamedString,
                            len: None,
                        });
                        continue;
                    }
                    (b'*' | b'%' | b'~' | b'>' | b'|', value) => {
                        let kind = Aggregate::opened_by(ty);
                        let len = match value {
                            Number::Value(n) => Some(usize::try_from(n).unwrap_or(0)),
                            Number::Streamed => None,
                        };
                        on(Event::Start { kind, len });
                        let Some(n) = len else {
                            open.push(Open::Streamed);
                            continue;
                        };
                        let pairs = matches!(kind, Aggregate::Map | Aggregate::Attribute);
                        let elements = if pairs { n.saturating_mul(2) } else { n };
                        match (kind, elements) {
                            // The frame the attribute describes comes next: it is the element.
                            (Aggregate::Attribute, 0) => {
                                on(Event::End);
                                continue;
                            }
                            (Aggregate::Attribute, _) => {
                                open.push(Open::Attribute(elements));
                                continue;
                            }
                            (_, 0) => on(Event::End),
                            _ => {
                                open.push(Open::Counted(elements));
                                continue;
                            }
                        }
                    }
                    _ => on(Event::Null),
                }
            }
        }
        // A complete element: count it off, closing every aggregate it completes.
        loop {
            match open.last_mut() {
                None => return,
                Some(Open::Counted(remaining)) => {
                    *remaining = remaining.saturating_sub(1);
                    if *remaining > 0 {
                        break;
                    }
                    open.pop();
                    on(Event::End);
                }
                Some(Open::Attribute(remaining)) => {
                    *remaining = remaining.saturating_sub(1);
                    if *remaining == 0 {
                        open.pop();
                        on(Event::End);
                    }
                    break;
                }
                Some(Open::Streamed) => break,
            }
        }
    }
}
