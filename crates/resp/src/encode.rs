//! Encoding: commands as arrays of bulk strings, and the building blocks of any frame.
//!
//! Everything writes into a caller's [`BufMut`] (a `Vec<u8>` or [`bytes::BytesMut`]); integers are
//! formatted on the stack, never on the heap.
//!
//! ```
//! use slotwise_resp::encode::{write_arg, write_array_header, write_command};
//! let mut out = Vec::new();
//! write_command(&mut out, ["SET", "key", "value"]);
//! // Arguments of mixed types: the array header, then each argument.
//! write_array_header(&mut out, 3);
//! write_arg(&mut out, "EXPIRE");
//! write_arg(&mut out, &b"key"[..]);
//! write_arg(&mut out, 60u32);
//! assert_eq!(out, b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n*3\r\n$6\r\nEXPIRE\r\n$3\r\nkey\r\n$2\r\n60\r\n");
//! ```

use alloc::string::String;
use alloc::vec::Vec;
use bytes::{BufMut, Bytes, BytesMut};

/// One command argument: anything that can be written as a bulk string.
///
/// Implemented for byte slices and strings (and their owned forms), [`Bytes`], and the integer types
/// (formatted in decimal without allocating).
pub trait Arg {
    /// Calls `f` with the argument's bytes.
    fn with_bytes<R>(&self, f: impl FnOnce(&[u8]) -> R) -> R;
}

impl<T: Arg + ?Sized> Arg for &T {
    fn with_bytes<R>(&self, f: impl FnOnce(&[u8]) -> R) -> R {
        (**self).with_bytes(f)
    }
}

macro_rules! bytes_arg {
    ($($t:ty),* $(,)?) => {$(
        impl Arg for $t {
            fn with_bytes<R>(&self, f: impl FnOnce(&[u8]) -> R) -> R {
                f(self.as_ref())
            }
        }
    )*};
}
bytes_arg!([u8], str, Vec<u8>, String, Bytes, BytesMut);

impl<const N: usize> Arg for [u8; N] {
    fn with_bytes<R>(&self, f: impl FnOnce(&[u8]) -> R) -> R {
        f(self)
    }
}

macro_rules! int_arg {
    ($($t:ty),*) => {$(
        impl Arg for $t {
            fn with_bytes<R>(&self, f: impl FnOnce(&[u8]) -> R) -> R {
                let mut buf = [0u8; 20];
                f(fmt_int(i128::from(*self), &mut buf))
            }
        }
    )*};
}
int_arg!(i8, i16, i32, i64, u8, u16, u32, u64);

impl Arg for usize {
    fn with_bytes<R>(&self, f: impl FnOnce(&[u8]) -> R) -> R {
        (*self as u64).with_bytes(f)
    }
}

impl Arg for isize {
    fn with_bytes<R>(&self, f: impl FnOnce(&[u8]) -> R) -> R {
        (*self as i64).with_bytes(f)
    }
}

/// Formats an integer within `i64::MIN..=u64::MAX` in decimal into `buf`, returning the digits.
pub(crate) fn fmt_int(n: i128, buf: &mut [u8; 20]) -> &[u8] {
    let negative = n < 0;
    let mut magnitude = n.unsigned_abs();
    let mut i = buf.len();
    loop {
        i -= 1;
        if let Some(slot) = buf.get_mut(i) {
            *slot = b'0' + (magnitude % 10) as u8;
        }
        magnitude /= 10;
        if magnitude == 0 || i == 0 {
            break;
        }
    }
    if negative && i > 0 {
        i -= 1;
        if let Some(slot) = buf.get_mut(i) {
            *slot = b'-';
        }
    }
    buf.get(i..).unwrap_or_default()
}

/// Writes a type byte, a decimal number and CRLF: the header of a bulk string or aggregate, or an integer.
pub fn write_header(out: &mut impl BufMut, type_byte: u8, n: i64) {
    let mut buf = [0u8; 20];
    out.put_u8(type_byte);
    out.put_slice(fmt_int(i128::from(n), &mut buf));
    out.put_slice(b"\r\n");
}

/// Writes `*n\r\n`: the header of an array of `n` elements (e.g. a command of `n` arguments).
pub fn write_array_header(out: &mut impl BufMut, n: usize) {
    write_header(out, b'*', n as i64);
}

/// Writes `$len\r\n<bytes>\r\n`: one bulk string.
pub fn write_bulk(out: &mut impl BufMut, bytes: &[u8]) {
    write_header(out, b'$', bytes.len() as i64);
    out.put_slice(bytes);
    out.put_slice(b"\r\n");
}

/// Writes one argument as a bulk string (after a [`write_array_header`]).
pub fn write_arg(out: &mut impl BufMut, arg: impl Arg) {
    arg.with_bytes(|b| write_bulk(out, b));
}

/// Writes a command: an array of bulk strings, one per argument.
pub fn write_command<I>(out: &mut impl BufMut, args: I)
where
    I: IntoIterator,
    I::IntoIter: ExactSizeIterator,
    I::Item: Arg,
{
    let args = args.into_iter();
    write_array_header(out, args.len());
    for arg in args {
        arg.with_bytes(|b| write_bulk(out, b));
    }
}

/// The number of bytes [`write_command`] writes for `args` (to reserve exactly).
pub fn command_len<I>(args: I) -> usize
where
    I: IntoIterator,
    I::IntoIter: ExactSizeIterator,
    I::Item: Arg,
{
    let args = args.into_iter();
    let mut len = header_len(args.len() as i64);
    for arg in args {
        len += arg.with_bytes(|b| header_len(b.len() as i64) + b.len() + 2);
    }
    len
}

/// Length of a header line (type byte, digits, CRLF).
pub(crate) fn header_len(n: i64) -> usize {
    let mut buf = [0u8; 20];
    1 + fmt_int(i128::from(n), &mut buf).len() + 2
}
