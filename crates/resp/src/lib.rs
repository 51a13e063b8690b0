//! # slotwise-resp
//!
//! RESP2 and RESP3 for Redis clients, proxies and fuzzers: a resumable, zero-copy decoder that is safe
//! on hostile input, and an encoder. `no_std` + `alloc`; no IO, no clocks, no unsafe code.
//!
//! ## Contents
//! - [`Frame`]: one decoded value. String payloads are [`bytes::Bytes`] slices of the input buffer.
//! - [`Decoder`]: feed it a [`bytes::BytesMut`] that grows as bytes arrive; it hands out complete frames
//!   and keeps its place inside a partial one, so the total work is linear in the input however it is
//!   chunked.
//! - [`Decoder::visit`] and [`visit_complete`]: the same frames as [`Event`]s with borrowed payloads,
//!   for callers that build their own types (no allocation, no reference counts); [`FrameBuilder`]
//!   turns events back into owned frames.
//! - [`Limits`]: nesting depth, bulk length, aggregate length and frame size, with the server's defaults.
//! - [`DecodeError`]: what was wrong and at which byte offset of the stream.
//! - [`encode`]: commands as arrays of bulk strings ([`encode::write_command`], [`Arg`]) and any [`Frame`]
//!   back to bytes ([`Frame::encode`]).
//!
//! ## Example
//!
//! ```
//! use bytes::BytesMut;
//! use slotwise_resp::{Decoder, Frame};
//!
//! let mut decoder = Decoder::new();
//! let mut buf = BytesMut::from(&b"*2\r\n$3\r\nfoo\r\n:4"[..]);
//! assert_eq!(decoder.decode(&mut buf)?, None); // not complete yet
//! buf.extend_from_slice(b"2\r\n+OK\r\n");
//! let frame = decoder.decode(&mut buf)?.expect("a whole frame");
//! assert_eq!(
//!     frame,
//!     Frame::Array(vec![Frame::BulkString("foo".into()), Frame::Integer(42)])
//! );
//! assert_eq!(decoder.decode(&mut buf)?, Some(Frame::SimpleString("OK".into())));
//! assert!(buf.is_empty());
//! # Ok::<(), slotwise_resp::DecodeError>(())
//! ```
//!
//! ## Failure semantics
//!
//! A [`DecodeError`] means the byte stream is out of step with the protocol; there is no way to find the
//! next frame boundary reliably, so the [`Decoder`] stays failed and returns the same error from then on.
//! The caller should close that connection. Nothing the decoder is given can make it panic, allocate more
//! than the bytes that arrived (plus a bounded, depth-limited stack), or recurse on the call stack.
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

#[cfg(feature = "arbitrary")]
mod arbitrary;
mod decode;
pub mod encode;
mod error;
mod event;
mod fast;
mod frame;
mod frame_drop;
mod frame_impl;
mod limits;
mod scan;
mod walk;

pub use decode::{Decoder, decode_complete, visit_complete};
pub use encode::Arg;
pub use error::{DecodeError, ErrorKind, Limit};
pub use event::{Aggregate, Event, FrameBuilder};
pub use frame::{Attributed, BigNumber, Double, Frame, Verbatim};
pub use limits::Limits;

/// Re-exported so that callers name the same `bytes` version as this crate.
pub use bytes;
