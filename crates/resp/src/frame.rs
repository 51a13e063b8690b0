//! The [`Frame`] tree: one decoded RESP2/RESP3 value.

use alloc::boxed::Box;
use alloc::vec::Vec;
use bytes::Bytes;

/// One RESP value, as sent by a server (or built to be sent).
///
/// String payloads are [`Bytes`] that share the decoder's input buffer: decoding copies no bulk data.
///
/// The variants name the RESP type byte they come from. RESP2's two nulls (`$-1`, `*-1`) are kept apart
/// from RESP3's `_` so that re-encoding a decoded frame gives back the bytes the server sent.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Frame {
    /// `+OK\r\n`: a simple string (no CR or LF inside).
    SimpleString(Bytes),
    /// `-ERR message\r\n`: a simple error. The payload is the whole line after `-`, code included.
    SimpleError(Bytes),
    /// `:1000\r\n`: a signed 64-bit integer.
    Integer(i64),
    /// `$5\r\nhello\r\n`: a binary-safe bulk string.
    BulkString(Bytes),
    /// `$-1\r\n`: RESP2's null bulk string.
    NullBulk,
    /// `*-1\r\n`: RESP2's null array.
    NullArray,
    /// `*2\r\n…`: an array of frames.
    Array(Vec<Frame>),
    /// `_\r\n`: RESP3 null.
    Null,
    /// `#t\r\n` / `#f\r\n`: RESP3 boolean.
    Boolean(bool),
    /// `,3.14\r\n`: RESP3 double, kept as its validated text (see [`Double`]).
    Double(Double),
    /// `(3492890328409238509324850943850943825024385\r\n`: RESP3 big number, kept as validated text.
    BigNumber(BigNumber),
    /// `!21\r\nSYNTAX invalid syntax\r\n`: RESP3 bulk error.
    BulkError(Bytes),
    /// `=15\r\ntxt:Some string\r\n`: RESP3 verbatim string.
    Verbatim(Verbatim),
    /// `%2\r\n…`: RESP3 map, as key/value pairs in wire order (duplicates kept).
    Map(Vec<(Frame, Frame)>),
    /// `~2\r\n…`: RESP3 set, in wire order (duplicates kept).
    Set(Vec<Frame>),
    /// `>3\r\n…`: RESP3 push (out-of-band data such as pub/sub messages or invalidations).
    Push(Vec<Frame>),
    /// `|1\r\n…` followed by a frame: RESP3 attributes attached to the frame that follows them.
    Attributed(Box<Attributed>),
    /// `$?\r\n;4\r\nHell\r\n;2\r\no!\r\n;0\r\n`: a RESP3 streamed string, kept as its chunks (zero-copy).
    ///
    /// [`Frame::to_contiguous`] joins the chunks into one [`Frame::BulkString`] (a copy).
    /// The chunk list never holds an empty chunk: the terminating `;0` is implied.
    StreamedString(Vec<Bytes>),
}

/// RESP3 attributes and the frame they describe (`|` type).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Attributed {
    /// The attribute map, as key/value pairs in wire order.
    pub attributes: Vec<(Frame, Frame)>,
    /// The frame the attributes are attached to.
    pub frame: Frame,
}

/// A RESP3 double, kept as the text the server sent so that re-encoding reproduces it exactly.
///
/// The text is validated on decode (`[+-]digits[.digits][(e|E)[+-]digits]`, `inf`, `-inf`, `nan`);
/// [`Double::value`] converts it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Double(pub(crate) Bytes);

/// A RESP3 big number, kept as validated text (an optional `-` or `+`, then at least one ASCII digit).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct BigNumber(pub(crate) Bytes);

/// A RESP3 verbatim string: a three-byte format (`txt`, `mkd`, …) and the text after `xxx:`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Verbatim {
    /// The format, e.g. `*b"txt"` or `*b"mkd"`.
    pub format: [u8; 3],
    /// The text, without the `xxx:` prefix.
    pub text: Bytes,
}
