//! Phase one of decoding: find where a frame ends, resumably, validating every element on the way.
//!
//! The scanner reads each byte of a frame once, however the frame is split across calls: it keeps the
//! position reached and the stack of open aggregates, nothing else. Bulk payloads are skipped, not read
//! (their length is known), so a 64 KiB bulk arriving in 4 KiB pieces costs a few bounds checks per
//! piece. The stack is bounded by [`Limits::max_depth`]. Nothing is recorded per element: once the
//! frame is complete, phase two ([`crate::decode`]) builds it from the validated bytes, so the only
//! memory a frame needs while it is decoded is its input and the frame itself.

use alloc::vec::Vec;

use crate::error::{ErrorKind, Limit};
use crate::event::Aggregate;
use crate::limits::Limits;

/// An aggregate the scanner is inside of.
#[derive(Clone, Copy, Debug)]
enum Open {
    /// Elements still to come (a map's pairs count twice; an attribute's frame counts once more).
    Counted(usize),
    /// A streamed aggregate; `odd` is set between a map's key and its value.
    Streamed { pairs: bool, odd: bool },
    /// Inside `$?`: only chunks may come.
    StreamedString,
}

/// Failure while scanning: an offset from the frame start and what was wrong.
pub(crate) type ScanError = (usize, ErrorKind);

/// Resumable state for the frame being scanned.
#[derive(Debug, Default)]
pub(crate) struct Scanner {
    /// Next byte to read, from the frame start.
    pos: usize,
    /// Where the search for the CRLF ending the line at `pos` resumes (so long lines are not rescanned).
    line_from: usize,
    /// The buffer length below which nothing can change: set while a payload at `pos` is still
    /// arriving (its end and CRLF are known), so that a piece that does not complete it costs a
    /// comparison instead of re-reading its header.
    wait_for: usize,
    stack: Vec<Open>,
}

/// The result of looking for the line that starts at `pos`.
enum Line {
    /// The line's content is `buf[start..end]`; the next element starts at `next`.
    Complete { end: usize, next: usize },
    /// No CRLF yet; searched up to (not including) this offset.
    Partial(usize),
}

impl Scanner {
    /// True when no part of a frame has been read.
    pub(crate) fn is_idle(&self) -> bool {
        self.pos == 0
    }

    /// True when a buffer of `len` bytes cannot hold more of the frame than the last call saw: a
    /// payload it was waiting for has not all arrived.
    pub(crate) fn waits_beyond(&self, len: usize) -> bool {
        len < self.wait_for
    }

    /// Drops the search hints (the frame they were for was decoded by another path).
    pub(crate) fn forget_hints(&mut self) {
        self.line_from = 0;
        self.wait_for = 0;
    }

    /// Forgets the frame in progress (after it was built, or on error). Keeps the stack's allocation
    /// unless it grew large.
    pub(crate) fn reset(&mut self) {
        self.pos = 0;
        self.line_from = 0;
        self.wait_for = 0;
        self.stack.clear();
        if self.stack.capacity() > 64 {
            self.stack.shrink_to(16);
        }
    }

    /// Reads on from where the last call stopped. `buf` starts at the frame's first byte and may only
    /// have grown since the last call. Returns the frame's length once it is complete.
    pub(crate) fn scan(&mut self, buf: &[u8], limits: &Limits) -> Result<Option<usize>, ScanError> {
        if buf.len() < self.pos {
            // The caller broke the contract (the buffer shrank). Start over rather than read garbage.
            self.reset();
        }
        if buf.len() < self.wait_for {
            return Ok(None);
        }
        loop {
            let pos = self.pos;
            let Some(&ty) = buf.get(pos) else {
                return Ok(None);
            };
            if matches!(self.stack.last(), Some(Open::StreamedString)) && ty != b';' {
                return Err((pos, ErrorKind::ExpectedChunk));
            }
            // Most headers are a plain count or integer: read it and find its CRLF in one pass.
            let quick = match ty {
                b'$' | b'*' | b':' | b'%' | b'~' | b'>' | b'|' | b';' | b'!' | b'=' => {
                    quick_number(buf, pos + 1, limits.max_line_len)
                }
                _ => None,
            };
            let (end, next, known) = match quick {
                Some((end, value)) => (end, end + 2, Some(value)),
                None => match self.find_line(buf, limits)? {
                    Line::Complete { end, next } => (end, next, None),
                    Line::Partial(searched) => {
                        self.line_from = searched;
                        return Ok(None);
                    }
                },
            };
            // A length read by `quick_number` (plain digits); the same as `parse_len` would give.
            let known_len = known.map(|v| usize::try_from(v).ok().map(Len::Count));
            if next > limits.max_frame_len {
                return Err((pos, ErrorKind::LimitExceeded(Limit::FrameLen)));
            }
            let line = buf.get(pos + 1..end).unwrap_or_default();
            let done = match ty {
                b'+' | b'-' => self.leaf(next),
                b':' => {
                    if known.is_none() && parse_i64(line).is_none() {
                        return Err((pos + 1, ErrorKind::BadInteger));
                    }
                    self.leaf(next)
                }
                b'#' => {
                    if !matches!(line, b"t" | b"f") {
                        return Err((pos + 1, ErrorKind::BadBoolean));
                    }
                    self.leaf(next)
                }
                b'_' => {
                    if !line.is_empty() {
                        return Err((pos + 1, ErrorKind::BadNull));
                    }
                    self.leaf(next)
                }
                b',' => {
                    if !is_double(line) {
                        return Err((pos + 1, ErrorKind::BadDouble));
                    }
                    self.leaf(next)
                }
                b'(' => {
                    if !is_big_number(line) {
                        return Err((pos + 1, ErrorKind::BadBigNumber));
                    }
                    self.leaf(next)
                }
                b'$' | b'!' | b'=' => {
                    match known_len.unwrap_or_else(|| parse_len(line, ty == b'$', ty == b'$')) {
                        Some(Len::Null) => self.leaf(next),
                        Some(Len::Streamed) => {
                            self.open(Open::StreamedString, next, pos, limits)?;
                            false
                        }
                        Some(Len::Count(n)) => {
                            let Some(payload) = self.payload(buf, next, n, pos, limits)? else {
                                return Ok(None);
                            };
                            if ty == b'=' {
                                let text = buf.get(payload.start..payload.end).unwrap_or_default();
                                if text.len() < 4 || text.get(3) != Some(&b':') {
                                    return Err((payload.start, ErrorKind::BadVerbatim));
                                }
                            }
                            self.leaf(payload.end + 2)
                        }
                        None => return Err((pos + 1, ErrorKind::BadLength)),
                    }
                }
                b';' => {
                    if !matches!(self.stack.last(), Some(Open::StreamedString)) {
                        return Err((pos, ErrorKind::BadTypeByte(ty)));
                    }
                    let n = match known_len.unwrap_or_else(|| parse_len(line, false, false)) {
                        Some(Len::Count(n)) => n,
                        _ => return Err((pos + 1, ErrorKind::BadLength)),
                    };
                    if n == 0 {
                        self.stack.pop();
                        self.leaf(next)
                    } else {
                        let Some(payload) = self.payload(buf, next, n, pos, limits)? else {
                            return Ok(None);
                        };
                        self.advance(payload.end + 2);
                        false
                    }
                }
                b'*' | b'%' | b'~' | b'>' | b'|' => {
                    let kind = Aggregate::opened_by(ty);
                    let pairs = matches!(kind, Aggregate::Map | Aggregate::Attribute);
                    match known_len.unwrap_or_else(|| parse_len(line, ty == b'*', ty != b'|')) {
                        Some(Len::Null) => self.leaf(next),
                        Some(Len::Streamed) => {
                            self.open(Open::Streamed { pairs, odd: false }, next, pos, limits)?;
                            false
                        }
                        Some(Len::Count(n)) => {
                            let elements = if pairs { n.checked_mul(2) } else { Some(n) };
                            let elements = match elements {
                                Some(e) if e <= limits.max_aggregate_len => e,
                                _ => {
                                    return Err((
                                        pos + 1,
                                        ErrorKind::LimitExceeded(Limit::AggregateLen),
                                    ));
                                }
                            };
                            // An attribute is followed by the frame it describes.
                            let elements = elements + usize::from(kind == Aggregate::Attribute);
                            if elements == 0 {
                                self.leaf(next)
                            } else {
                                self.open(Open::Counted(elements), next, pos, limits)?;
                                false
                            }
                        }
                        None => return Err((pos + 1, ErrorKind::BadLength)),
                    }
                }
                b'.' => {
                    if !line.is_empty() {
                        return Err((pos + 1, ErrorKind::ExpectedCrlf));
                    }
                    match self.stack.last() {
                        Some(Open::Streamed { odd: false, .. }) => {
                            self.stack.pop();
                            self.leaf(next)
                        }
                        _ => return Err((pos, ErrorKind::UnexpectedEnd)),
                    }
                }
                other => return Err((pos, ErrorKind::BadTypeByte(other))),
            };
            if done {
                return Ok(Some(self.pos));
            }
        }
    }

    /// Finds the CRLF ending the line that starts at `self.pos`, resuming an earlier search.
    fn find_line(&self, buf: &[u8], limits: &Limits) -> Result<Line, ScanError> {
        let from = self.line_from.max(self.pos + 1);
        let rest = buf.get(from..).unwrap_or_default();
        // Most lines are a few bytes (`$5`, `*3`, `:1`): a plain loop beats setting up a vector search.
        let short = rest.get(..rest.len().min(32)).unwrap_or_default();
        let found = match short.iter().position(|&b| b == b'\r' || b == b'\n') {
            Some(i) => Some(i),
            None if rest.len() > short.len() => {
                memchr::memchr2(b'\r', b'\n', rest.get(32..).unwrap_or_default()).map(|i| i + 32)
            }
            None => None,
        };
        match found {
            Some(i) => {
                let at = from + i;
                if at - self.pos - 1 > limits.max_line_len {
                    return Err((self.pos, ErrorKind::LimitExceeded(Limit::LineLen)));
                }
                match (buf.get(at), buf.get(at + 1)) {
                    (Some(b'\r'), Some(b'\n')) => Ok(Line::Complete {
                        end: at,
                        next: at + 2,
                    }),
                    // The CR is the last byte so far: its LF may still come.
                    (Some(b'\r'), None) => Ok(Line::Partial(at)),
                    (Some(b'\r'), Some(_)) => Err((at + 1, ErrorKind::ExpectedCrlf)),
                    _ => Err((at, ErrorKind::ExpectedCrlf)),
                }
            }
            None => {
                if buf.len() - self.pos - 1 > limits.max_line_len {
                    return Err((self.pos, ErrorKind::LimitExceeded(Limit::LineLen)));
                }
                Ok(Line::Partial(buf.len()))
            }
        }
    }

    /// Checks a length-prefixed payload of `n` bytes starting at `start`: `None` until it and its CRLF
    /// have all arrived (and then nothing is read again until they can have). Limits are checked first, so a huge declared length fails before any payload.
    /// Returns where the payload ends.
    fn payload(
        &mut self,
        buf: &[u8],
        start: usize,
        n: usize,
        header: usize,
        limits: &Limits,
    ) -> Result<Option<Payload>, ScanError> {
        if n > limits.max_bulk_len {
            return Err((header + 1, ErrorKind::LimitExceeded(Limit::BulkLen)));
        }
        let end = start
            .checked_add(n)
            .ok_or((header + 1, ErrorKind::BadLength))?;
        if end.saturating_add(2) > limits.max_frame_len {
            return Err((header, ErrorKind::LimitExceeded(Limit::FrameLen)));
        }
        match buf.get(end..end + 2) {
            None => {
                self.wait_for = end + 2;
                Ok(None)
            }
            Some(b"\r\n") => Ok(Some(Payload { start, end })),
            Some(_) => Err((end, ErrorKind::ExpectedCrlf)),
        }
    }

    fn advance(&mut self, next: usize) {
        self.pos = next;
        self.line_from = next;
        self.wait_for = 0;
    }

    /// Steps over a complete element and closes every aggregate it completes. True when the frame is done.
    fn leaf(&mut self, next: usize) -> bool {
        self.advance(next);
        loop {
            match self.stack.last_mut() {
                None => return true,
                Some(Open::Counted(remaining)) => {
                    *remaining -= 1;
                    if *remaining > 0 {
                        return false;
                    }
                    self.stack.pop();
                }
                Some(Open::Streamed { pairs, odd }) => {
                    if *pairs {
                        *odd = !*odd;
                    }
                    return false;
                }
                // Chunks are not leaves; only the final empty chunk closes the string (popped by the caller).
                Some(Open::StreamedString) => return false,
            }
        }
    }

    fn open(
        &mut self,
        open: Open,
        next: usize,
        header: usize,
        limits: &Limits,
    ) -> Result<(), ScanError> {
        if self.stack.len() >= limits.max_depth {
            return Err((header, ErrorKind::LimitExceeded(Limit::Depth)));
        }
        self.stack.push(open);
        self.advance(next);
        Ok(())
    }
}

/// Reads `digits\r\n` (1 to 18 ASCII digits, so no overflow, and no longer than `max_line_len`) at
/// `from`: the offset of its CR and the value. `None` for anything else (a sign, `?`, a partial line,
/// an error), which the general path then reads; what this accepts, the general path accepts too, with
/// the same value.
#[inline(always)]
fn quick_number(buf: &[u8], from: usize, max_line_len: usize) -> Option<(usize, u64)> {
    let digits = buf.get(from..)?;
    let mut value: u64 = 0;
    for (i, &b) in digits.iter().enumerate().take(19) {
        if b.is_ascii_digit() {
            value = value * 10 + u64::from(b - b'0');
        } else {
            return (b == b'\r'
                && i > 0
                && i < 19
                && i <= max_line_len
                && digits.get(i + 1) == Some(&b'\n'))
            .then_some((from + i, value));
        }
    }
    None
}

/// A length-prefixed payload's byte range (offsets from the frame's first byte).
#[derive(Clone, Copy)]
struct Payload {
    start: usize,
    end: usize,
}

/// A length field.
pub(crate) enum Len {
    Null,
    Streamed,
    Count(usize),
}

/// Parses a length: decimal digits, or `-1` (if `null_ok`), or `?` (if `streamed_ok`).
pub(crate) fn parse_len(line: &[u8], null_ok: bool, streamed_ok: bool) -> Option<Len> {
    match line {
        b"-1" if null_ok => Some(Len::Null),
        b"?" if streamed_ok => Some(Len::Streamed),
        _ => parse_digits(line)
            .and_then(|n| usize::try_from(n).ok())
            .map(Len::Count),
    }
}

/// Parses one or more ASCII digits into a `u64`, rejecting overflow.
fn parse_digits(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() || digits.len() > 20 {
        return None;
    }
    let mut n: u64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    Some(n)
}

/// Parses a RESP integer: an optional sign and decimal digits, within `i64`.
pub(crate) fn parse_i64(line: &[u8]) -> Option<i64> {
    let (negative, digits) = match line {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        _ => (false, line),
    };
    let magnitude = parse_digits(digits)?;
    if negative {
        0i64.checked_sub_unsigned(magnitude)
    } else {
        i64::try_from(magnitude).ok()
    }
}

/// True for `[+-]digits[.digits][(e|E)[+-]digits]`, `inf`, `-inf`, `+inf` and `nan`.
pub(crate) fn is_double(text: &[u8]) -> bool {
    if matches!(text, b"inf" | b"-inf" | b"+inf" | b"nan") {
        return true;
    }
    let text = match text {
        [b'-' | b'+', rest @ ..] => rest,
        _ => text,
    };
    let (mantissa, exponent) = match text.iter().position(|&b| b == b'e' || b == b'E') {
        Some(i) => (
            text.get(..i).unwrap_or_default(),
            Some(text.get(i + 1..).unwrap_or_default()),
        ),
        None => (text, None),
    };
    let (integral, fraction) = match mantissa.iter().position(|&b| b == b'.') {
        Some(i) => (
            mantissa.get(..i).unwrap_or_default(),
            Some(mantissa.get(i + 1..).unwrap_or_default()),
        ),
        None => (mantissa, None),
    };
    let digits = |s: &[u8]| !s.is_empty() && s.iter().all(u8::is_ascii_digit);
    digits(integral)
        && fraction.is_none_or(digits)
        && exponent.is_none_or(|e| {
            digits(match e {
                [b'-' | b'+', rest @ ..] => rest,
                _ => e,
            })
        })
}

/// True for an optional sign followed by one or more ASCII digits.
pub(crate) fn is_big_number(text: &[u8]) -> bool {
    let digits = match text {
        [b'-' | b'+', rest @ ..] => rest,
        _ => text,
    };
    !digits.is_empty() && digits.iter().all(u8::is_ascii_digit)
}
