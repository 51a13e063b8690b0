//! Decode errors: what was wrong, and where in the stream.

use core::fmt;

/// A decode failure: what was wrong and the byte offset in the stream where it was found.
///
/// The offset counts every byte the [`crate::Decoder`] has been given since it was created (or, for
/// [`crate::decode_complete`], from the start of the slice), so it points into a capture file directly.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError {
    /// Byte offset in the stream of the offending byte (or of the start of the offending line).
    pub offset: u64,
    /// What was wrong.
    pub kind: ErrorKind,
}

/// What was wrong with the input.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A frame started with a byte that is no RESP type.
    BadTypeByte(u8),
    /// A length field was not a decimal number, was negative other than `-1` where `-1` is allowed,
    /// or did not fit.
    BadLength,
    /// An integer (`:`) was not a decimal `i64`.
    BadInteger,
    /// A double (`,`) was not of the RESP3 form.
    BadDouble,
    /// A boolean (`#`) was neither `t` nor `f`.
    BadBoolean,
    /// A big number (`(`) was not an optional sign followed by digits.
    BadBigNumber,
    /// A verbatim string was shorter than its `xxx:` format prefix, or had no `:` after the format.
    BadVerbatim,
    /// A null (`_`) had bytes before its CRLF.
    BadNull,
    /// A line or payload was not followed by `\r\n` (including a bare `\n`, or a `\r` inside a line).
    ExpectedCrlf,
    /// A streamed-string chunk (`;n`) was expected after `$?` and something else came.
    ExpectedChunk,
    /// A stream end (`.`) came where no streamed aggregate was open, or in the middle of a map pair.
    UnexpectedEnd,
    /// A frame exceeded one of the configured [`crate::Limits`].
    LimitExceeded(Limit),
    /// The input ended inside a frame (only from [`crate::decode_complete`] and at end of stream).
    Truncated,
}

/// Which limit was exceeded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Limit {
    /// [`crate::Limits::max_depth`].
    Depth,
    /// [`crate::Limits::max_bulk_len`].
    BulkLen,
    /// [`crate::Limits::max_aggregate_len`].
    AggregateLen,
    /// [`crate::Limits::max_frame_len`].
    FrameLen,
    /// [`crate::Limits::max_line_len`].
    LineLen,
}

impl DecodeError {
    pub(crate) fn new(offset: u64, kind: ErrorKind) -> Self {
        DecodeError { offset, kind }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::BadTypeByte(b) if b.is_ascii_graphic() => {
                write!(f, "expected a RESP type byte, found {:?}", *b as char)
            }
            ErrorKind::BadTypeByte(b) => {
                write!(f, "expected a RESP type byte, found byte 0x{b:02x}")
            }
            ErrorKind::BadLength => {
                f.write_str("expected a length (a decimal number, or -1 for null)")
            }
            ErrorKind::BadInteger => f.write_str("expected a signed 64-bit decimal integer"),
            ErrorKind::BadDouble => f.write_str(
                "expected a double ([+-]digits[.digits][e[+-]digits], inf, -inf or nan)",
            ),
            ErrorKind::BadBoolean => f.write_str("expected a boolean (t or f)"),
            ErrorKind::BadBigNumber => {
                f.write_str("expected a big number (an optional sign and digits)")
            }
            ErrorKind::BadVerbatim => {
                f.write_str("expected a verbatim string starting with a three-byte format and ':'")
            }
            ErrorKind::BadNull => f.write_str("expected CRLF right after null '_'"),
            ErrorKind::ExpectedCrlf => f.write_str("expected CRLF"),
            ErrorKind::ExpectedChunk => f.write_str("expected a streamed-string chunk ';<length>'"),
            ErrorKind::UnexpectedEnd => {
                f.write_str("unexpected stream end '.' (no streamed aggregate open here)")
            }
            ErrorKind::LimitExceeded(limit) => write!(f, "{limit} exceeded"),
            ErrorKind::Truncated => f.write_str("input ended inside a frame"),
        }
    }
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Limit::Depth => "nesting depth limit",
            Limit::BulkLen => "bulk length limit",
            Limit::AggregateLen => "aggregate length limit",
            Limit::FrameLen => "frame length limit",
            Limit::LineLen => "line length limit",
        })
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "RESP decode error at byte {}: {}",
            self.offset, self.kind
        )
    }
}

impl core::error::Error for DecodeError {}
