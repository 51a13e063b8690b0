//! The RESP decoders under test, each run the same way: the input has already arrived in a receive
//! buffer (filled before the clock starts, so no decoder is charged for the copy a socket read makes)
//! and is shown to the decoder whole or in `chunk`-byte pieces. A piece "arrives" by `unsplit`, which
//! moves pointers only: the pieces are adjacent in one allocation. Decoders whose API takes bytes into
//! a buffer of their own (hiredis's `redisReaderFeed`, redis-rs's `Read`) copy each piece in, which is
//! their API's cost. Each function returns how many top-level frames it decoded.
//!
//! Used by `benches/benches/resp.rs` (criterion) and `benches/examples/resp_instructions.rs` (callgrind).

use std::hint::black_box;
use std::io::Read;

use bytes::{Buf, Bytes, BytesMut};

use crate::peers;
use crate::resp_inputs::Input;

/// A decoder under test: decodes every frame of `input`, already in `arrived`, fed in `chunk`-byte pieces.
pub type Decode = fn(&Input, BytesMut, usize) -> usize;

/// Every decoder: its name, the function, and whether it reads RESP3.
pub const DECODERS: [(&str, Decode, bool); 8] = [
    ("slotwise", slotwise, true),
    ("slotwise-visit", slotwise_visit, true),
    ("slotwise-decode_complete", slotwise_complete, true),
    ("slotwise-visit_complete", slotwise_visit_complete, true),
    ("redis-protocol", redis_protocol, true),
    ("redis-rs", redis_rs, true),
    ("redis-async", redis_async, false),
    ("hiredis", hiredis, false),
];

/// True for the stateless entry points, which take the whole input (they keep no state inside a
/// partial frame by design).
pub fn whole_only(name: &str) -> bool {
    name.ends_with("_complete")
}

/// The input's bytes in a receive buffer, as they stand once they have all arrived.
pub fn arrived(input: &Input) -> BytesMut {
    BytesMut::from(&input.bytes[..])
}

/// Feeds `all` into a buffer `chunk` bytes at a time without copying, calling `decode` after each piece.
fn in_pieces(mut all: BytesMut, chunk: usize, mut decode: impl FnMut(&mut BytesMut)) {
    let mut buf = BytesMut::new();
    while !all.is_empty() {
        buf.unsplit(all.split_to(chunk.min(all.len())));
        decode(&mut buf);
    }
}

/// slotwise's `Decoder::decode`: owned, zero-copy `Frame`s.
fn slotwise(_: &Input, all: BytesMut, chunk: usize) -> usize {
    let mut decoder = slotwise_resp::Decoder::new();
    let mut n = 0;
    in_pieces(all, chunk, |buf| {
        while let Some(frame) = decoder.decode(buf).unwrap() {
            black_box(frame);
            n += 1;
        }
    });
    n
}

/// slotwise's `Decoder::visit`: every event of every frame, payloads borrowed, nothing allocated.
fn slotwise_visit(_: &Input, all: BytesMut, chunk: usize) -> usize {
    let mut decoder = slotwise_resp::Decoder::new();
    let mut n = 0;
    in_pieces(all, chunk, |buf| {
        while decoder
            .visit(buf, |event| {
                black_box(event);
            })
            .unwrap()
            .is_some()
        {
            n += 1;
        }
    });
    n
}

/// slotwise's stateless `decode_complete`, advancing past each frame.
fn slotwise_complete(_: &Input, all: BytesMut, _chunk: usize) -> usize {
    let mut rest: Bytes = all.freeze();
    let limits = slotwise_resp::Limits::DEFAULT;
    let mut n = 0;
    while let Some((frame, len)) = slotwise_resp::decode_complete(&rest, &limits).unwrap() {
        black_box(frame);
        rest.advance(len);
        n += 1;
    }
    n
}

/// slotwise's stateless `visit_complete`, advancing past each frame.
fn slotwise_visit_complete(_: &Input, all: BytesMut, _chunk: usize) -> usize {
    let limits = slotwise_resp::Limits::DEFAULT;
    let mut rest: &[u8] = &all;
    let mut n = 0;
    while let Some(len) = slotwise_resp::visit_complete(rest, &limits, |event| {
        black_box(event);
    })
    .unwrap()
    {
        rest = &rest[len..];
        n += 1;
    }
    n
}

/// redis-protocol: no resumable state, so after each piece it parses the pending frame from its start.
fn redis_protocol(input: &Input, all: BytesMut, chunk: usize) -> usize {
    let mut n = 0;
    in_pieces(all, chunk, |buf| {
        loop {
            let decoded = if input.resp3 {
                redis_protocol::resp3::decode::complete::decode_bytes_mut(buf)
                    .unwrap()
                    .map(|(f, ..)| black_box(f))
                    .is_some()
            } else {
                redis_protocol::resp2::decode::decode_bytes_mut(buf)
                    .unwrap()
                    .map(|(f, ..)| black_box(f))
                    .is_some()
            };
            if !decoded {
                break;
            }
            n += 1;
        }
    });
    n
}

/// redis-async 0.18 (`redis_async::resp::RespCodec`, the codec its connections use). RESP2 only.
/// Like redis-protocol it keeps no state inside a partial frame, so it re-parses one from its start
/// on every piece.
fn redis_async(_: &Input, all: BytesMut, chunk: usize) -> usize {
    use tokio_util::codec::Decoder as _;
    let mut codec = redis_async::resp::RespCodec;
    let mut n = 0;
    in_pieces(all, chunk, |buf| {
        while let Some(value) = codec.decode(buf).expect("redis-async decode") {
            black_box(value);
            n += 1;
        }
    });
    n
}

/// hiredis's reader (`redisReaderFeed` + `redisReaderGetReply`, what its connections run on every
/// read), building its default reply objects; each reply is freed after use. RESP2 only in the 0.14
/// release Debian 12 ships (RESP3 needs hiredis 1.0). Feeding copies each piece into its buffer.
fn hiredis(_: &Input, all: BytesMut, chunk: usize) -> usize {
    let mut reader = peers::hiredis::Reader::new();
    let mut n = 0;
    for piece in all.chunks(chunk) {
        reader.feed(piece);
        while let Some(reply) = reader.next_reply() {
            black_box(&reply);
            n += 1;
        }
    }
    n
}

/// A reader that hands out at most `chunk` bytes per read, like a socket.
struct Pieces<'a> {
    rest: &'a [u8],
    chunk: usize,
}

impl Read for Pieces<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = self.rest.len().min(self.chunk).min(out.len());
        out[..n].copy_from_slice(&self.rest[..n]);
        self.rest = &self.rest[n..];
        Ok(n)
    }
}

/// redis-rs's parser (combine, with partial-parse state) reading the stream through `Read` (which
/// copies each read into its buffer).
fn redis_rs(input: &Input, all: BytesMut, chunk: usize) -> usize {
    let mut parser = redis::Parser::new();
    let mut reader = Pieces { rest: &all, chunk };
    for _ in 0..input.frames {
        black_box(parser.parse_value(&mut reader).unwrap());
    }
    input.frames
}
