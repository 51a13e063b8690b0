//! [`Request`]: a command as the application submits it, encoded once.

use alloc::vec::Vec;
use core::time::Duration;

use bytes::{Bytes, BytesMut};
use slotwise_resp::Arg;
use slotwise_resp::encode::{command_len, write_command};

/// A command to run on the cluster: its arguments (encoded once, at construction, into the bytes
/// that go on the wire), an optional override of whether it may be run twice, and an optional
/// deadline override.
///
/// If its connection is lost after it was written, a request is retried when it is read-only (the
/// command table's flag) or a write the core knows to be idempotent — `SET` (without `NX`, `XX`,
/// `GET`), `DEL`, `EXPIRE`, `HSET`, `SADD`, `ZADD` (without `INCR`) … — unless
/// [`Request::idempotent`] or [`Request::not_idempotent`] says otherwise. Other writes (`INCR`,
/// `APPEND`, `LPUSH`, `SET … NX`, `EVAL` …) end with
/// [`RequestError::ConnectionLost`](crate::RequestError::ConnectionLost)
/// `{ maybe_applied: true }`. The crate documentation ("Failure semantics") has the full rule.
///
/// ```
/// use core::time::Duration;
/// use slotwise_cluster::Request;
/// let get = Request::new(["GET", "user:1"]);
/// let incr = Request::new(["INCRBY", "counter", "5"]); // not idempotent: not retried once written
/// let set = Request::new(["SET", "k", "v"]).timeout(Duration::from_secs(2)); // retried
/// let once = Request::new(["SET", "k", "v"]).not_idempotent(); // at most once
/// assert_eq!(get.encoded(), &b"*2\r\n$3\r\nGET\r\n$6\r\nuser:1\r\n"[..]);
/// # let _ = (incr, set, once);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub(crate) wire: Bytes,
    /// The caller's word on running it twice: `None` leaves it to the core's facts.
    pub(crate) idempotent: Option<bool>,
    pub(crate) timeout: Option<Duration>,
}

impl Request {
    /// A command from its arguments (the name first): strings, byte slices, [`Bytes`], integers.
    pub fn new<I>(args: I) -> Request
    where
        I: IntoIterator,
        I::IntoIter: ExactSizeIterator + Clone,
        I::Item: Arg,
    {
        let args = args.into_iter();
        let mut buf = BytesMut::with_capacity(command_len(args.clone()));
        write_command(&mut buf, args);
        Request {
            wire: buf.freeze(),
            idempotent: None,
            timeout: None,
        }
    }

    /// A command already encoded as one RESP array of bulk strings (as a proxy receives it), or
    /// `None` if `wire` is not exactly that.
    pub fn from_encoded(wire: Bytes) -> Option<Request> {
        let mut n = 0usize;
        let mut it = WireArgs::new(&wire)?;
        for _ in it.by_ref() {
            n += 1;
        }
        (it.rest_len() == 0 && n == it.count && n > 0).then_some(Request {
            wire,
            idempotent: None,
            timeout: None,
        })
    }

    /// Marks the command safe to run twice, whatever the core knows of it (e.g. an `EVALSHA` of a
    /// script that only overwrites, or a module's command): if the connection dies after it was
    /// written, it is retried instead of failing with
    /// [`RequestError::ConnectionLost`](crate::RequestError::ConnectionLost). Not needed for
    /// read-only commands or writes the core knows to be idempotent (`SET k v`, `DEL`, `HSET` …).
    #[must_use]
    pub fn idempotent(mut self) -> Request {
        self.idempotent = Some(true);
        self
    }

    /// Marks the command unsafe to run twice although the core would retry it (e.g. a `SET` whose
    /// caller must not overwrite a value another client wrote meanwhile): if the connection dies
    /// after it was written, it ends with
    /// [`RequestError::ConnectionLost`](crate::RequestError::ConnectionLost)
    /// `{ maybe_applied: true }`. Read-only commands are retried regardless: they change nothing.
    #[must_use]
    pub fn not_idempotent(mut self) -> Request {
        self.idempotent = Some(false);
        self
    }

    /// Overrides [`Config::request_timeout`](crate::Config::request_timeout) for this request (a
    /// blocking command's block time is still added).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Request {
        self.timeout = Some(timeout);
        self
    }

    /// True for a command with a block time (`BLPOP k 5`, `XREAD BLOCK 0 …`, `WAIT` …): it runs on
    /// a dedicated connection and can be [cancelled](crate::Cluster::cancel).
    #[must_use]
    pub fn blocks(&self) -> bool {
        let Some(name) = WireArgs::new(&self.wire).and_then(|mut a| a.next()) else {
            return false;
        };
        let maybe = name.first().is_some_and(|b| b.eq_ignore_ascii_case(&b'b'))
            || [&b"XREAD"[..], b"XREADGROUP", b"WAIT", b"WAITAOF"]
                .iter()
                .any(|w| name.eq_ignore_ascii_case(w));
        maybe && block_time(ArgList::of(&self.wire).as_slice()).is_some()
    }

    /// The bytes that go on the wire.
    #[must_use]
    pub fn encoded(&self) -> &Bytes {
        &self.wire
    }

    /// The arguments, the command name first.
    pub fn args(&self) -> impl Iterator<Item = &[u8]> + '_ {
        WireArgs::new(&self.wire).into_iter().flatten()
    }
}

/// The arguments of an encoded command (which this crate wrote, or [`Request::from_encoded`] checked).
pub(crate) struct WireArgs<'a> {
    rest: &'a [u8],
    count: usize,
    seen: usize,
}

impl<'a> WireArgs<'a> {
    pub(crate) fn new(wire: &'a [u8]) -> Option<WireArgs<'a>> {
        let rest = wire.strip_prefix(b"*")?;
        let (count, rest) = number_line(rest)?;
        Some(WireArgs {
            rest,
            count,
            seen: 0,
        })
    }

    fn rest_len(&self) -> usize {
        self.rest.len()
    }
}

impl<'a> Iterator for WireArgs<'a> {
    type Item = &'a [u8];
    fn next(&mut self) -> Option<&'a [u8]> {
        if self.seen == self.count {
            return None;
        }
        let rest = self.rest.strip_prefix(b"$")?;
        let (len, rest) = number_line(rest)?;
        let arg = rest.get(..len)?;
        self.rest = rest.get(len..)?.strip_prefix(b"\r\n")?;
        self.seen += 1;
        Some(arg)
    }
}

fn number_line(s: &[u8]) -> Option<(usize, &[u8])> {
    let end = s.iter().position(|&b| b == b'\r')?;
    let digits = s.get(..end)?;
    if digits.is_empty() || digits.len() > 9 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n = digits
        .iter()
        .fold(0usize, |n, &d| n * 10 + usize::from(d - b'0'));
    let rest = s.get(end..)?.strip_prefix(b"\r\n")?;
    Some((n, rest))
}

/// Up to 12 argument slices on the stack, more on the heap: classifying a command does not allocate
/// in the common case.
pub(crate) enum ArgList<'a> {
    Inline([&'a [u8]; 12], usize),
    Heap(Vec<&'a [u8]>),
}

impl<'a> ArgList<'a> {
    pub(crate) fn of(wire: &'a [u8]) -> ArgList<'a> {
        let mut inline: [&[u8]; 12] = [&[]; 12];
        let mut n = 0;
        let Some(args) = WireArgs::new(wire) else {
            return ArgList::Inline(inline, 0);
        };
        let mut heap: Option<Vec<&[u8]>> = None;
        for arg in args {
            match (&mut heap, inline.get_mut(n)) {
                (None, Some(slot)) => {
                    *slot = arg;
                    n += 1;
                }
                (None, None) => {
                    let mut v = Vec::with_capacity(n * 2);
                    v.extend_from_slice(&inline);
                    v.push(arg);
                    heap = Some(v);
                }
                (Some(v), _) => v.push(arg),
            }
        }
        match heap {
            Some(v) => ArgList::Heap(v),
            None => ArgList::Inline(inline, n),
        }
    }

    pub(crate) fn as_slice(&self) -> &[&'a [u8]] {
        match self {
            ArgList::Inline(a, n) => a.get(..*n).unwrap_or_default(),
            ArgList::Heap(v) => v,
        }
    }
}

/// How long a blocking command may block: `None` for a command that does not block, `Some(None)` for
/// "forever" (a zero timeout), `Some(Some(d))` otherwise.
pub(crate) fn block_time(args: &[&[u8]]) -> Option<Option<Duration>> {
    let name = args.first()?;
    let upper = |s: &[u8], w: &[u8]| s.eq_ignore_ascii_case(w);
    let seconds_at = |i: usize| args.get(i).and_then(|a| parse_seconds(a));
    let millis = |a: &[u8]| parse_seconds(a).map(|d| d / 1000);
    let last = args.len().checked_sub(1)?;
    let d = if [
        "BLPOP",
        "BRPOP",
        "BZPOPMIN",
        "BZPOPMAX",
        "BLMOVE",
        "BRPOPLPUSH",
    ]
    .iter()
    .any(|w| upper(name, w.as_bytes()))
    {
        seconds_at(last)?
    } else if upper(name, b"BLMPOP") || upper(name, b"BZMPOP") {
        seconds_at(1)?
    } else if upper(name, b"XREAD") || upper(name, b"XREADGROUP") {
        let i = args.iter().position(|a| upper(a, b"BLOCK"))?;
        millis(args.get(i + 1)?)?
    } else if upper(name, b"WAIT") || upper(name, b"WAITAOF") {
        millis(args.get(last)?)?
    } else {
        return None;
    };
    Some((!d.is_zero()).then_some(d))
}

/// A non-negative decimal number of seconds (`5`, `0.25`).
fn parse_seconds(s: &[u8]) -> Option<Duration> {
    let text = core::str::from_utf8(s).ok()?;
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let all_digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(int) || !all_digits(frac) || int.len() > 12 {
        return None;
    }
    let secs: u64 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let mut micros = 0u64;
    for (i, b) in frac.bytes().take(6).enumerate() {
        micros += u64::from(b - b'0') * 10u64.pow(5 - i as u32);
    }
    Some(Duration::from_secs(secs) + Duration::from_micros(micros))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bt(args: &[&str]) -> Option<Option<Duration>> {
        let v: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        block_time(&v)
    }

    #[test]
    fn blocking_times() {
        assert_eq!(bt(&["GET", "k"]), None);
        assert_eq!(
            bt(&["BLPOP", "a", "b", "1.5"]),
            Some(Some(Duration::from_millis(1500)))
        );
        assert_eq!(bt(&["blpop", "a", "0"]), Some(None));
        assert_eq!(
            bt(&["BLMPOP", "2", "1", "k", "LEFT"]),
            Some(Some(Duration::from_secs(2)))
        );
        assert_eq!(
            bt(&["XREAD", "COUNT", "1", "BLOCK", "250", "STREAMS", "s", "$"]),
            Some(Some(Duration::from_millis(250)))
        );
        assert_eq!(bt(&["XREAD", "STREAMS", "s", "0"]), None);
        assert_eq!(
            bt(&["WAIT", "1", "100"]),
            Some(Some(Duration::from_millis(100)))
        );
    }

    #[test]
    fn knows_which_requests_block() {
        assert!(Request::new(["BLPOP", "k", "0"]).blocks());
        assert!(Request::new(["xread", "BLOCK", "5", "STREAMS", "s", "$"]).blocks());
        assert!(!Request::new(["XREAD", "STREAMS", "s", "0"]).blocks());
        assert!(!Request::new(["BITCOUNT", "k"]).blocks());
        assert!(!Request::new(["GET", "k"]).blocks());
    }

    #[test]
    fn wire_args_round_trip() {
        let r = Request::new([
            "SET", "key", "value", "EX", "10", "a", "b", "c", "d", "e", "f", "g", "h",
        ]);
        let list = ArgList::of(&r.wire);
        assert_eq!(list.as_slice().len(), 13);
        assert_eq!(list.as_slice()[12], b"h");
        assert!(Request::from_encoded(r.wire.clone()).is_some());
        assert!(Request::from_encoded(Bytes::from_static(b"*2\r\n$3\r\nGET\r\n")).is_none());
        assert!(Request::from_encoded(Bytes::from_static(b"+OK\r\n")).is_none());
    }
}
