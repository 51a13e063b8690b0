//! [`FromFrame`]: a reply frame as a Rust value.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;
use std::hash::Hash;

use bytes::Bytes;
use slotwise_resp::Frame;

/// A reply that does not convert to the type asked for: what was expected and what came.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConvertError {
    expected: &'static str,
    got: String,
}

impl ConvertError {
    /// A conversion to `expected` failed on `frame`.
    #[must_use]
    pub fn new(expected: &'static str, frame: &Frame) -> ConvertError {
        ConvertError {
            expected,
            got: describe(frame),
        }
    }

    /// What the conversion wanted.
    #[must_use]
    pub fn expected(&self) -> &'static str {
        self.expected
    }

    /// A short description of what came instead.
    #[must_use]
    pub fn got(&self) -> &str {
        &self.got
    }
}

impl fmt::Display for ConvertError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "expected {}, got {}", self.expected, self.got)
    }
}

impl std::error::Error for ConvertError {}

/// A short, bounded description of a frame for error messages.
fn describe(frame: &Frame) -> String {
    fn text(b: &[u8]) -> String {
        let s = String::from_utf8_lossy(b.get(..40).unwrap_or(b));
        if b.len() > 40 {
            format!("{s:?}…")
        } else {
            format!("{s:?}")
        }
    }
    match frame {
        Frame::SimpleString(b) => format!("simple string {}", text(b)),
        Frame::SimpleError(b) | Frame::BulkError(b) => format!("error reply {}", text(b)),
        Frame::Integer(i) => format!("integer {i}"),
        Frame::BulkString(b) => format!("bulk string {}", text(b)),
        Frame::NullBulk | Frame::NullArray | Frame::Null => "null".into(),
        Frame::Array(v) => format!("array of {}", v.len()),
        Frame::Boolean(b) => format!("boolean {b}"),
        Frame::Double(d) => format!("double {}", text(d.text())),
        Frame::BigNumber(n) => format!("big number {}", text(n.text())),
        Frame::Verbatim(_) => "verbatim string".into(),
        Frame::Map(v) => format!("map of {}", v.len()),
        Frame::Set(v) => format!("set of {}", v.len()),
        Frame::Push(v) => format!("push of {}", v.len()),
        Frame::Attributed(a) => describe(&a.frame),
        Frame::StreamedString(_) => "streamed string".into(),
        _ => "frame".into(),
    }
}

/// `+QUEUED`: the acknowledgement of a command inside `MULTI`, never a command's value.
fn is_queued(frame: &Frame) -> bool {
    matches!(frame, Frame::SimpleString(s) if &s[..] == b"QUEUED")
}

/// Strips attributes and joins streamed strings: the frame conversions look at.
fn plain(frame: Frame) -> Frame {
    frame.into_unattributed().to_contiguous()
}

/// Converts a reply into a Rust value.
///
/// Implemented for [`Frame`] (as it is), [`Bytes`], `Vec<u8>`, [`String`], the integer types,
/// `bool`, `f64`, `()` (any non-error reply, e.g. `OK`), `Option<T>` (a null is `None`), `Vec<T>`
/// (an array, set or push; a map flattened to key, value, …), `HashMap<K, V>` (a map, or an array
/// of alternating keys and values as RESP2 sends it) and pairs `(A, B)`.
///
/// Conversions are as lenient as Redis's own types allow: `GET` of a counter gives a bulk string
/// that converts to `i64`; `EXISTS` gives an integer that converts to `bool`.
///
/// ```
/// use slotwise_client::{FromFrame, Frame};
/// assert_eq!(i64::from_frame(Frame::BulkString("42".into()))?, 42);
/// assert_eq!(Option::<String>::from_frame(Frame::NullBulk)?, None);
/// assert!(bool::from_frame(Frame::Integer(1))?);
/// assert!(i64::from_frame(Frame::BulkString("x".into())).is_err());
/// # Ok::<(), slotwise_client::ConvertError>(())
/// ```
pub trait FromFrame: Sized {
    /// The conversion.
    fn from_frame(frame: Frame) -> Result<Self, ConvertError>;
}

impl FromFrame for Frame {
    fn from_frame(frame: Frame) -> Result<Self, ConvertError> {
        Ok(frame)
    }
}

impl FromFrame for Bytes {
    fn from_frame(frame: Frame) -> Result<Self, ConvertError> {
        match plain(frame) {
            f if is_queued(&f) => Err(ConvertError::new("a value (not QUEUED)", &f)),
            f @ (Frame::BulkString(_) | Frame::SimpleString(_) | Frame::Verbatim(_)) => {
                Ok(f.into_bytes().unwrap_or_default())
            }
            Frame::Integer(i) => Ok(Bytes::from(i.to_string())),
            Frame::Double(ref d) => Ok(d.text().clone()),
            Frame::BigNumber(ref n) => Ok(n.text().clone()),
            f => Err(ConvertError::new("a string", &f)),
        }
    }
}

impl FromFrame for Vec<u8> {
    fn from_frame(frame: Frame) -> Result<Self, ConvertError> {
        Bytes::from_frame(frame).map(Vec::from)
    }
}

impl FromFrame for String {
    fn from_frame(frame: Frame) -> Result<Self, ConvertError> {
        let frame = plain(frame);
        let bytes = Bytes::from_frame(frame.clone())?;
        String::from_utf8(bytes.to_vec()).map_err(|_| ConvertError::new("UTF-8 text", &frame))
    }
}

fn integer(frame: Frame, expected: &'static str) -> Result<(i128, Frame), ConvertError> {
    let frame = plain(frame);
    let n = match &frame {
        Frame::Integer(i) => Some(i128::from(*i)),
        Frame::BulkString(b) | Frame::SimpleString(b) => {
            std::str::from_utf8(b).ok().and_then(|s| s.parse().ok())
        }
        Frame::BigNumber(n) => std::str::from_utf8(n.text())
            .ok()
            .and_then(|s| s.trim_start_matches('+').parse().ok()),
        Frame::Boolean(b) => Some(i128::from(*b)),
        _ => None,
    };
    match n {
        Some(n) => Ok((n, frame)),
        None => Err(ConvertError::new(expected, &frame)),
    }
}

macro_rules! int_from_frame {
    ($($t:ty => $what:literal),*) => {$(
        impl FromFrame for $t {
            fn from_frame(frame: Frame) -> Result<Self, ConvertError> {
                let (n, frame) = integer(frame, $what)?;
                <$t>::try_from(n).map_err(|_| ConvertError::new($what, &frame))
            }
        }
    )*};
}

int_from_frame!(
    i64 => "an integer (i64)", u64 => "an integer (u64)", i32 => "an integer (i32)",
    u32 => "an integer (u32)", usize => "an integer (usize)", i128 => "an integer (i128)"
);

impl FromFrame for bool {
    fn from_frame(frame: Frame) -> Result<Self, ConvertError> {
        match &plain(frame) {
            Frame::Boolean(b) => Ok(*b),
            Frame::Integer(i) => Ok(*i != 0),
            Frame::SimpleString(s) if &s[..] == b"OK" => Ok(true),
            Frame::Null | Frame::NullBulk | Frame::NullArray => Ok(false),
            f => Err(ConvertError::new("a boolean", f)),
        }
    }
}

impl FromFrame for f64 {
    fn from_frame(frame: Frame) -> Result<Self, ConvertError> {
        let frame = plain(frame);
        match &frame {
            Frame::Double(d) => Ok(d.value()),
            Frame::Integer(i) => Ok(*i as f64),
            Frame::BulkString(b) | Frame::SimpleString(b) => std::str::from_utf8(b)
                .ok()
                .and_then(|s| match s {
                    "inf" | "+inf" => Some(f64::INFINITY),
                    "-inf" => Some(f64::NEG_INFINITY),
                    s => s.parse().ok(),
                })
                .ok_or_else(|| ConvertError::new("a number", &frame)),
            _ => Err(ConvertError::new("a number", &frame)),
        }
    }
}

impl FromFrame for () {
    fn from_frame(frame: Frame) -> Result<Self, ConvertError> {
        match plain(frame) {
            f @ (Frame::SimpleError(_) | Frame::BulkError(_)) => {
                Err(ConvertError::new("a reply", &f))
            }
            f if is_queued(&f) => Err(ConvertError::new("a reply (not QUEUED)", &f)),
            _ => Ok(()),
        }
    }
}

impl<T: FromFrame> FromFrame for Option<T> {
    fn from_frame(frame: Frame) -> Result<Self, ConvertError> {
        match plain(frame) {
            Frame::Null | Frame::NullBulk | Frame::NullArray => Ok(None),
            f => T::from_frame(f).map(Some),
        }
    }
}

fn items(frame: Frame, expected: &'static str) -> Result<Vec<Frame>, ConvertError> {
    match plain(frame) {
        f @ (Frame::Array(_) | Frame::Set(_) | Frame::Push(_)) => {
            Ok(f.into_items().unwrap_or_default())
        }
        f @ Frame::Map(_) => Ok(f
            .into_pairs()
            .unwrap_or_default()
            .into_iter()
            .flat_map(|(k, v)| [k, v])
            .collect()),
        Frame::Null | Frame::NullArray => Ok(Vec::new()),
        f => Err(ConvertError::new(expected, &f)),
    }
}

impl<T: FromFrame> FromFrame for Vec<T> {
    fn from_frame(frame: Frame) -> Result<Self, ConvertError> {
        items(frame, "an array")?
            .into_iter()
            .map(T::from_frame)
            .collect()
    }
}

impl<K: FromFrame + Eq + Hash, V: FromFrame> FromFrame for HashMap<K, V> {
    fn from_frame(frame: Frame) -> Result<Self, ConvertError> {
        map_pairs(frame)?
            .into_iter()
            .map(|(k, v)| Ok((K::from_frame(k)?, V::from_frame(v)?)))
            .collect()
    }
}

impl<A: FromFrame, B: FromFrame> FromFrame for (A, B) {
    fn from_frame(frame: Frame) -> Result<Self, ConvertError> {
        let f = plain(frame);
        let v = items(f.clone(), "a pair")?;
        let mut it = v.into_iter();
        match (it.next(), it.next(), it.next()) {
            (Some(a), Some(b), None) => Ok((A::from_frame(a)?, B::from_frame(b)?)),
            _ => Err(ConvertError::new("a pair", &f)),
        }
    }
}

impl<A: FromFrame, B: FromFrame, C: FromFrame> FromFrame for (A, B, C) {
    fn from_frame(frame: Frame) -> Result<Self, ConvertError> {
        let f = plain(frame);
        let v = items(f.clone(), "three items")?;
        let mut it = v.into_iter();
        match (it.next(), it.next(), it.next(), it.next()) {
            (Some(a), Some(b), Some(c), None) => {
                Ok((A::from_frame(a)?, B::from_frame(b)?, C::from_frame(c)?))
            }
            _ => Err(ConvertError::new("three items", &f)),
        }
    }
}

impl<T: FromFrame + Eq + Hash> FromFrame for HashSet<T> {
    fn from_frame(frame: Frame) -> Result<Self, ConvertError> {
        items(frame, "a set")?
            .into_iter()
            .map(T::from_frame)
            .collect()
    }
}

impl<T: FromFrame + Ord> FromFrame for BTreeSet<T> {
    fn from_frame(frame: Frame) -> Result<Self, ConvertError> {
        items(frame, "a set")?
            .into_iter()
            .map(T::from_frame)
            .collect()
    }
}

impl<K: FromFrame + Ord, V: FromFrame> FromFrame for BTreeMap<K, V> {
    fn from_frame(frame: Frame) -> Result<Self, ConvertError> {
        map_pairs(frame)?
            .into_iter()
            .map(|(k, v)| Ok((K::from_frame(k)?, V::from_frame(v)?)))
            .collect()
    }
}

/// A map's entries: a RESP3 map, or a RESP2 flat array `k1 v1 k2 v2 …`.
fn map_pairs(frame: Frame) -> Result<Vec<(Frame, Frame)>, ConvertError> {
    match plain(frame).into_pairs() {
        Ok(pairs) => Ok(pairs),
        Err(f) => {
            let v = items(f.clone(), "a map")?;
            if v.len() % 2 != 0 {
                return Err(ConvertError::new("a map (even number of items)", &f));
            }
            let mut it = v.into_iter();
            let mut pairs = Vec::new();
            while let (Some(k), Some(v)) = (it.next(), it.next()) {
                pairs.push((k, v));
            }
            Ok(pairs)
        }
    }
}

/// Pairs in either shape Redis sends them: RESP3 nests them (`[[m1, s1], [m2, s2]]`, or a map),
/// RESP2 flattens them (`[m1, s1, m2, s2]`) — `ZRANGE … WITHSCORES`, `HRANDFIELD … WITHVALUES`.
///
/// ```
/// use slotwise_client::{Frame, pairs};
/// let flat = Frame::Array(vec![Frame::BulkString("a".into()), Frame::BulkString("1.5".into())]);
/// let nested = Frame::Array(vec![Frame::Array(vec![
///     Frame::BulkString("a".into()),
///     Frame::Double(slotwise_client::resp::Double::new("1.5".into()).unwrap()),
/// ])]);
/// let want = vec![("a".to_string(), 1.5)];
/// assert_eq!(pairs::<String, f64>(flat)?, want);
/// assert_eq!(pairs::<String, f64>(nested)?, want);
/// # Ok::<(), slotwise_client::ConvertError>(())
/// ```
pub fn pairs<A: FromFrame, B: FromFrame>(frame: Frame) -> Result<Vec<(A, B)>, ConvertError> {
    let frame = plain(frame);
    let nested = match &frame {
        Frame::Array(v) | Frame::Set(v) => v
            .first()
            .is_some_and(|f| matches!(plain(f.clone()), Frame::Array(_))),
        _ => false,
    };
    if nested {
        return Vec::<(A, B)>::from_frame(frame);
    }
    map_pairs(frame)?
        .into_iter()
        .map(|(a, b)| Ok((A::from_frame(a)?, B::from_frame(b)?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Frame {
        Frame::BulkString(Bytes::copy_from_slice(s.as_bytes()))
    }

    #[test]
    fn scalars() {
        assert_eq!(i64::from_frame(Frame::Integer(-3)).unwrap(), -3);
        assert_eq!(u64::from_frame(bulk("7")).unwrap(), 7);
        assert!(u64::from_frame(Frame::Integer(-1)).is_err());
        assert!(i32::from_frame(Frame::Integer(1 << 40)).is_err());
        assert_eq!(String::from_frame(bulk("hé")).unwrap(), "hé");
        assert!(String::from_frame(Frame::BulkString(Bytes::from_static(b"\xff"))).is_err());
        assert_eq!(f64::from_frame(bulk("1.5")).unwrap(), 1.5);
        assert!(bool::from_frame(Frame::Integer(0)).is_ok_and(|b| !b));
        assert!(<()>::from_frame(Frame::SimpleString("OK".into())).is_ok());
        assert!(<()>::from_frame(Frame::SimpleError("ERR x".into())).is_err());
        // A QUEUED acknowledgement is never a command's value.
        assert!(<()>::from_frame(Frame::SimpleString("QUEUED".into())).is_err());
        assert!(Bytes::from_frame(Frame::SimpleString("QUEUED".into())).is_err());
        assert!(String::from_frame(Frame::SimpleString("QUEUED".into())).is_err());
        assert!(<Option<Bytes>>::from_frame(Frame::SimpleString("QUEUED".into())).is_err());
        let e = i64::from_frame(bulk("abc")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "expected an integer (i64), got bulk string \"abc\""
        );
    }

    #[test]
    fn containers() {
        let arr = Frame::Array(vec![bulk("a"), Frame::NullBulk, bulk("c")]);
        assert_eq!(
            Vec::<Option<String>>::from_frame(arr).unwrap(),
            vec![Some("a".into()), None, Some("c".into())]
        );
        let flat = Frame::Array(vec![bulk("k"), bulk("1")]);
        let m = HashMap::<String, i64>::from_frame(flat).unwrap();
        assert_eq!(m.get("k"), Some(&1));
        let map = Frame::Map(vec![(bulk("k"), Frame::Integer(2))]);
        let m = HashMap::<String, i64>::from_frame(map).unwrap();
        assert_eq!(m.get("k"), Some(&2));
        let pair = Frame::Array(vec![bulk("x"), Frame::Integer(2)]);
        assert_eq!(<(String, i64)>::from_frame(pair).unwrap(), ("x".into(), 2));
        assert!(HashMap::<String, i64>::from_frame(Frame::Array(vec![bulk("k")])).is_err());
        assert!(Vec::<i64>::from_frame(Frame::Integer(1)).is_err());
    }
}
