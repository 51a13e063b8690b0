//! [`ToArgs`]: values that become command arguments — byte strings, strings, integers, floats,
//! and collections or tuples of them — and [`Args`], a command built from them.
//!
//! ```
//! use slotwise_client::Args;
//! let request = Args::command("ZADD")
//!     .arg("board")
//!     .arg([(1.5, "ada"), (2.0, "grace")])
//!     .into_request();
//! assert_eq!(
//!     request.args().collect::<Vec<_>>(),
//!     [&b"ZADD"[..], b"board", b"1.5", b"ada", b"2", b"grace"]
//! );
//! ```

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use bytes::Bytes;
use slotwise_cluster::Request;

/// A value that becomes one or more command arguments.
///
/// - One argument: `str`, `String`, `[u8]`, `Vec<u8>`, [`Bytes`], `[u8; N]`, the integers (except
///   `u8`, so that `Vec<u8>` stays one byte string), `f32`/`f64` (`inf` as `+inf`/`-inf`, as
///   Redis writes them).
/// - None: `()`.
/// - Several: slices, arrays, `Vec`s and sets of any of them (one argument each), maps and tuples
///   (their parts in order: `("field", "value")`, `(score, member)`), `Option` (nothing for
///   `None`), references.
pub trait ToArgs {
    /// Appends this value's arguments to `args`.
    fn write_args(&self, args: &mut Args);
}

/// A command's arguments, name first, built by [`ToArgs`] values; [`Args::into_request`] encodes
/// them once.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Args {
    buf: Vec<u8>,
    /// Where each argument ends in `buf`.
    ends: Vec<usize>,
}

impl Args {
    /// No arguments yet.
    #[must_use]
    pub fn new() -> Args {
        Args::default()
    }

    /// A command named `name` (its first argument).
    #[must_use]
    pub fn command(name: &str) -> Args {
        let mut args = Args::new();
        args.push_bytes(name.as_bytes());
        args
    }

    /// Adds `value`'s arguments.
    #[must_use]
    pub fn arg(mut self, value: impl ToArgs) -> Args {
        value.write_args(&mut self);
        self
    }

    /// Adds `value`'s arguments, in place.
    pub fn push(&mut self, value: impl ToArgs) {
        value.write_args(self);
    }

    /// Adds one argument.
    pub fn push_bytes(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
        self.ends.push(self.buf.len());
    }

    /// How many arguments there are.
    #[must_use]
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// True if there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The arguments, in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &[u8]> + Clone + '_ {
        (0..self.ends.len()).map(|i| {
            let start = if i == 0 { 0 } else { self.ends[i - 1] };
            &self.buf[start..self.ends[i]]
        })
    }

    /// The command, encoded.
    #[must_use]
    pub fn into_request(self) -> Request {
        Request::new(self.iter())
    }
}

impl ToArgs for Args {
    fn write_args(&self, args: &mut Args) {
        for a in self.iter() {
            args.push_bytes(a);
        }
    }
}

impl<T: ToArgs + ?Sized> ToArgs for &T {
    fn write_args(&self, args: &mut Args) {
        (**self).write_args(args);
    }
}

macro_rules! bytes_args {
    ($($t:ty),*) => {$(
        impl ToArgs for $t {
            fn write_args(&self, args: &mut Args) {
                args.push_bytes(AsRef::<[u8]>::as_ref(self));
            }
        }
    )*};
}
bytes_args!(str, String, [u8], Vec<u8>, Bytes);

impl<const N: usize> ToArgs for [u8; N] {
    fn write_args(&self, args: &mut Args) {
        args.push_bytes(self);
    }
}

macro_rules! int_args {
    ($($t:ty),*) => {$(
        impl ToArgs for $t {
            fn write_args(&self, args: &mut Args) {
                args.push_bytes(self.to_string().as_bytes());
            }
        }
    )*};
}
int_args!(i8, i16, i32, i64, i128, isize, u16, u32, u64, u128, usize);

fn float_arg(value: f64, args: &mut Args) {
    if value == f64::INFINITY {
        args.push_bytes(b"+inf");
    } else if value == f64::NEG_INFINITY {
        args.push_bytes(b"-inf");
    } else {
        args.push_bytes(value.to_string().as_bytes());
    }
}

impl ToArgs for f64 {
    fn write_args(&self, args: &mut Args) {
        float_arg(*self, args);
    }
}

impl ToArgs for f32 {
    fn write_args(&self, args: &mut Args) {
        // Through its shortest decimal form, so 0.1f32 is "0.1", not 0.10000000149011612.
        float_arg(self.to_string().parse().unwrap_or(f64::NAN), args);
    }
}

/// No arguments (for "no keys" or "no args" in `FCALL`, `EVAL` …).
impl ToArgs for () {
    fn write_args(&self, _args: &mut Args) {}
}

impl<T: ToArgs> ToArgs for Option<T> {
    fn write_args(&self, args: &mut Args) {
        if let Some(v) = self {
            v.write_args(args);
        }
    }
}

impl<T: ToArgs> ToArgs for [T] {
    fn write_args(&self, args: &mut Args) {
        for v in self {
            v.write_args(args);
        }
    }
}

impl<T: ToArgs, const N: usize> ToArgs for [T; N] {
    fn write_args(&self, args: &mut Args) {
        self.as_slice().write_args(args);
    }
}

impl<T: ToArgs> ToArgs for Vec<T> {
    fn write_args(&self, args: &mut Args) {
        self.as_slice().write_args(args);
    }
}

impl<T: ToArgs, S> ToArgs for HashSet<T, S> {
    fn write_args(&self, args: &mut Args) {
        for v in self {
            v.write_args(args);
        }
    }
}

impl<T: ToArgs> ToArgs for BTreeSet<T> {
    fn write_args(&self, args: &mut Args) {
        for v in self {
            v.write_args(args);
        }
    }
}

impl<K: ToArgs, V: ToArgs, S> ToArgs for HashMap<K, V, S> {
    fn write_args(&self, args: &mut Args) {
        for (k, v) in self {
            k.write_args(args);
            v.write_args(args);
        }
    }
}

impl<K: ToArgs, V: ToArgs> ToArgs for BTreeMap<K, V> {
    fn write_args(&self, args: &mut Args) {
        for (k, v) in self {
            k.write_args(args);
            v.write_args(args);
        }
    }
}

macro_rules! tuple_args {
    ($($name:ident)+) => {
        impl<$($name: ToArgs),+> ToArgs for ($($name,)+) {
            #[allow(non_snake_case)]
            fn write_args(&self, args: &mut Args) {
                let ($($name,)+) = self;
                $($name.write_args(args);)+
            }
        }
    };
}
tuple_args!(A B);
tuple_args!(A B C);
tuple_args!(A B C D);

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: impl ToArgs) -> Vec<Vec<u8>> {
        Args::new().arg(v).iter().map(<[u8]>::to_vec).collect()
    }

    #[test]
    fn scalars_collections_and_tuples() {
        assert_eq!(args("a"), [b"a".to_vec()]);
        assert_eq!(args(b"\x00\xff".to_vec()), [vec![0u8, 255]]);
        assert_eq!(args(-42i64), [b"-42".to_vec()]);
        assert_eq!(args(u64::MAX), [u64::MAX.to_string().into_bytes()]);
        assert_eq!(args(1.0f64), [b"1".to_vec()]);
        assert_eq!(args(0.1f32), [b"0.1".to_vec()]);
        assert_eq!(
            args([f64::INFINITY, f64::NEG_INFINITY]),
            [b"+inf".to_vec(), b"-inf".to_vec()]
        );
        assert_eq!(args(None::<&str>), Vec::<Vec<u8>>::new());
        assert_eq!(
            args(vec![("f", 1), ("g", 2)]),
            [b"f".to_vec(), b"1".to_vec(), b"g".to_vec(), b"2".to_vec()]
        );
        let map = BTreeMap::from([("x", "1")]);
        assert_eq!(args(&map), [b"x".to_vec(), b"1".to_vec()]);
        assert_eq!(args(""), [Vec::<u8>::new()]);
    }

    #[test]
    fn encodes_once() {
        let r = Args::command("SET").arg("k").arg(5u32).into_request();
        assert_eq!(
            r.encoded(),
            &b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\n5\r\n"[..]
        );
        let empty = Args::command("PING");
        assert_eq!(empty.len(), 1);
        assert!(!empty.is_empty());
    }
}
