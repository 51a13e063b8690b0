//! Methods on [`Frame`] and its parts: constructors, accessors and encoding.

use alloc::boxed::Box;
use alloc::format;
use alloc::vec::Vec;
use bytes::{BufMut, Bytes, BytesMut};

use crate::encode::{header_len, write_bulk, write_header};
use crate::frame::{Attributed, BigNumber, Double, Frame, Verbatim};
use crate::scan::{is_big_number, is_double};

impl Frame {
    /// Writes the frame in RESP. For a frame decoded from canonical input (what a Redis server sends)
    /// this gives back exactly the bytes it was decoded from; streamed aggregates are written counted.
    pub fn encode(&self, out: &mut impl BufMut) {
        match self {
            Frame::SimpleString(s) => line(out, b'+', s),
            Frame::SimpleError(s) => line(out, b'-', s),
            Frame::Integer(n) => write_header(out, b':', *n),
            Frame::BulkString(b) => write_bulk(out, b),
            Frame::NullBulk => out.put_slice(b"$-1\r\n"),
            Frame::NullArray => out.put_slice(b"*-1\r\n"),
            Frame::Array(items) => seq(out, b'*', items),
            Frame::Null => out.put_slice(b"_\r\n"),
            Frame::Boolean(true) => out.put_slice(b"#t\r\n"),
            Frame::Boolean(false) => out.put_slice(b"#f\r\n"),
            Frame::Double(d) => line(out, b',', &d.0),
            Frame::BigNumber(n) => line(out, b'(', &n.0),
            Frame::BulkError(b) => {
                write_header(out, b'!', b.len() as i64);
                out.put_slice(b);
                out.put_slice(b"\r\n");
            }
            Frame::Verbatim(v) => {
                write_header(out, b'=', (v.text.len() + 4) as i64);
                out.put_slice(&v.format);
                out.put_u8(b':');
                out.put_slice(&v.text);
                out.put_slice(b"\r\n");
            }
            Frame::Map(pairs) => map(out, b'%', pairs),
            Frame::Set(items) => seq(out, b'~', items),
            Frame::Push(items) => seq(out, b'>', items),
            Frame::Attributed(a) => {
                map(out, b'|', &a.attributes);
                a.frame.encode(out);
            }
            Frame::StreamedString(chunks) => {
                out.put_slice(b"$?\r\n");
                for chunk in chunks.iter().filter(|c| !c.is_empty()) {
                    write_header(out, b';', chunk.len() as i64);
                    out.put_slice(chunk);
                    out.put_slice(b"\r\n");
                }
                out.put_slice(b";0\r\n");
            }
        }
    }

    /// The frame encoded into a new buffer.
    pub fn to_bytes(&self) -> Bytes {
        let mut out = BytesMut::with_capacity(self.encoded_len());
        self.encode(&mut out);
        out.freeze()
    }

    /// The number of bytes [`Frame::encode`] writes.
    pub fn encoded_len(&self) -> usize {
        let payload = |n: usize| header_len(n as i64) + n + 2;
        match self {
            Frame::SimpleString(s) | Frame::SimpleError(s) => s.len() + 3,
            Frame::Integer(n) => header_len(*n),
            Frame::BulkString(b) | Frame::BulkError(b) => payload(b.len()),
            Frame::NullBulk | Frame::NullArray => 5,
            Frame::Null => 3,
            Frame::Boolean(_) => 4,
            Frame::Double(d) => d.0.len() + 3,
            Frame::BigNumber(n) => n.0.len() + 3,
            Frame::Verbatim(v) => payload(v.text.len() + 4),
            Frame::Array(items) | Frame::Set(items) | Frame::Push(items) => {
                header_len(items.len() as i64) + items.iter().map(Frame::encoded_len).sum::<usize>()
            }
            Frame::Map(pairs) => pairs_len(pairs),
            Frame::Attributed(a) => pairs_len(&a.attributes) + a.frame.encoded_len(),
            Frame::StreamedString(chunks) => {
                4 + chunks
                    .iter()
                    .filter(|c| !c.is_empty())
                    .map(|c| payload(c.len()))
                    .sum::<usize>()
                    + 4
            }
        }
    }

    /// True for a simple error or a bulk error.
    pub fn is_error(&self) -> bool {
        match self {
            Frame::SimpleError(_) | Frame::BulkError(_) => true,
            Frame::Attributed(a) => a.frame.is_error(),
            _ => false,
        }
    }

    /// True for every null: RESP3 `_` and RESP2's null bulk and null array.
    pub fn is_null(&self) -> bool {
        matches!(self, Frame::Null | Frame::NullBulk | Frame::NullArray)
    }

    /// The payload of a string-like frame (simple string, bulk string, error, verbatim text), or `None`.
    /// A streamed string has no single payload: see [`Frame::to_contiguous`].
    pub fn as_bytes(&self) -> Option<&Bytes> {
        match self {
            Frame::SimpleString(b)
            | Frame::SimpleError(b)
            | Frame::BulkString(b)
            | Frame::BulkError(b) => Some(b),
            Frame::Verbatim(v) => Some(&v.text),
            _ => None,
        }
    }

    /// The value of an integer frame, or `None`.
    pub fn as_integer(&self) -> Option<i64> {
        match self {
            Frame::Integer(n) => Some(*n),
            _ => None,
        }
    }

    /// The elements of an array, set or push, or `None`.
    pub fn as_items(&self) -> Option<&[Frame]> {
        match self {
            Frame::Array(items) | Frame::Set(items) | Frame::Push(items) => Some(items),
            _ => None,
        }
    }

    /// The frame without its attributes (attributes are metadata the server attaches to a reply).
    pub fn without_attributes(&self) -> &Frame {
        let mut frame = self;
        while let Frame::Attributed(a) = frame {
            frame = &a.frame;
        }
        frame
    }

    /// A streamed string joined into one [`Frame::BulkString`] (this copies); any other frame unchanged.
    pub fn to_contiguous(self) -> Frame {
        match &self {
            Frame::StreamedString(chunks) => {
                let mut joined = BytesMut::with_capacity(chunks.iter().map(Bytes::len).sum());
                for chunk in chunks {
                    joined.extend_from_slice(chunk);
                }
                Frame::BulkString(joined.freeze())
            }
            _ => self,
        }
    }

    /// Attaches attributes to a frame.
    pub fn with_attributes(self, attributes: Vec<(Frame, Frame)>) -> Frame {
        Frame::Attributed(Box::new(Attributed {
            attributes,
            frame: self,
        }))
    }
}

impl From<&'static str> for Frame {
    /// A bulk string.
    fn from(s: &'static str) -> Self {
        Frame::BulkString(Bytes::from_static(s.as_bytes()))
    }
}

impl From<i64> for Frame {
    fn from(n: i64) -> Self {
        Frame::Integer(n)
    }
}

fn line(out: &mut impl BufMut, type_byte: u8, text: &[u8]) {
    out.put_u8(type_byte);
    out.put_slice(text);
    out.put_slice(b"\r\n");
}

fn seq(out: &mut impl BufMut, type_byte: u8, items: &[Frame]) {
    write_header(out, type_byte, items.len() as i64);
    for item in items {
        item.encode(out);
    }
}

fn map(out: &mut impl BufMut, type_byte: u8, pairs: &[(Frame, Frame)]) {
    write_header(out, type_byte, pairs.len() as i64);
    for (k, v) in pairs {
        k.encode(out);
        v.encode(out);
    }
}

fn pairs_len(pairs: &[(Frame, Frame)]) -> usize {
    header_len(pairs.len() as i64)
        + pairs
            .iter()
            .map(|(k, v)| k.encoded_len() + v.encoded_len())
            .sum::<usize>()
}

impl Double {
    /// A double from its RESP text, if valid (`1.5`, `-2e10`, `inf`, `-inf`, `nan` …).
    pub fn new(text: Bytes) -> Option<Double> {
        is_double(&text).then_some(Double(text))
    }

    /// A double from a value: the shortest text that converts back to the same value.
    pub fn from_f64(value: f64) -> Double {
        let text = if value.is_nan() {
            Bytes::from_static(b"nan")
        } else if value.is_infinite() {
            Bytes::from_static(if value > 0.0 { b"inf" } else { b"-inf" })
        } else {
            Bytes::from(format!("{value:?}"))
        };
        Double(text)
    }

    /// The text as sent.
    pub fn text(&self) -> &Bytes {
        &self.0
    }

    /// The value. Validated text always converts; `nan` converts to NaN.
    pub fn value(&self) -> f64 {
        core::str::from_utf8(&self.0)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(f64::NAN)
    }
}

impl BigNumber {
    /// A big number from its text, if valid (an optional sign and one or more digits).
    pub fn new(text: Bytes) -> Option<BigNumber> {
        is_big_number(&text).then_some(BigNumber(text))
    }

    /// The digits as sent (with any sign).
    pub fn text(&self) -> &Bytes {
        &self.0
    }
}

impl Verbatim {
    /// A verbatim string of the given format (`*b"txt"`, `*b"mkd"` …).
    pub fn new(format: [u8; 3], text: Bytes) -> Verbatim {
        Verbatim { format, text }
    }
}
