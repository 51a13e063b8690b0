//! RESP decoding: slotwise-resp against redis-protocol (fred's decoder), redis-rs's parser,
//! redis-async's codec and hiredis's reader, on the same bytes, whole-buffer and in 4 KiB pieces (as
//! they arrive from a socket). redis-async and hiredis 0.14 speak RESP2 only, so they sit out the
//! RESP3 input.
//!
//! `cargo bench -p slotwise-benches --bench resp`

use std::hint::black_box;
use std::io::Read;

use bytes::BytesMut;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use slotwise_benches::peers;
use slotwise_benches::resp_inputs::{self, Input};

const CHUNK: usize = 4096;

/// A decoder under test: decodes every frame of an input fed in pieces of the given size.
type Decode = fn(&Input, usize) -> usize;

/// Decodes every frame of `input` with slotwise, fed whole or in `chunk`-byte pieces.
fn slotwise(input: &Input, chunk: usize) -> usize {
    let mut decoder = slotwise_resp::Decoder::new();
    let mut buf = BytesMut::with_capacity(chunk.min(input.bytes.len()));
    let mut n = 0;
    for piece in input.bytes.chunks(chunk) {
        buf.extend_from_slice(piece);
        while let Some(frame) = decoder.decode(&mut buf).unwrap() {
            black_box(frame);
            n += 1;
        }
    }
    n
}

/// slotwise's stateless `decode_complete` over the whole input (one copy into a `Bytes`, like the
/// others' copy into their buffer), advancing past each frame. Whole-buffer mode only: it keeps no
/// state inside a partial frame by design.
fn slotwise_complete(input: &Input, _chunk: usize) -> usize {
    use bytes::Buf;
    let mut rest = bytes::Bytes::copy_from_slice(&input.bytes);
    let limits = slotwise_resp::Limits::DEFAULT;
    let mut n = 0;
    while let Some((frame, len)) = slotwise_resp::decode_complete(&rest, &limits).unwrap() {
        black_box(frame);
        rest.advance(len);
        n += 1;
    }
    n
}

/// redis-protocol: no resumable state, so after each piece it parses the pending frame from its start.
fn redis_protocol(input: &Input, chunk: usize) -> usize {
    let mut buf = BytesMut::with_capacity(chunk.min(input.bytes.len()));
    let mut n = 0;
    for piece in input.bytes.chunks(chunk) {
        buf.extend_from_slice(piece);
        loop {
            let decoded = if input.resp3 {
                redis_protocol::resp3::decode::complete::decode_bytes_mut(&mut buf)
                    .unwrap()
                    .map(|(f, ..)| black_box(f))
                    .is_some()
            } else {
                redis_protocol::resp2::decode::decode_bytes_mut(&mut buf)
                    .unwrap()
                    .map(|(f, ..)| black_box(f))
                    .is_some()
            };
            if !decoded {
                break;
            }
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

/// redis-rs's parser (combine, with partial-parse state) reading the stream through `Read`.
fn redis_rs(input: &Input, chunk: usize) -> usize {
    let mut parser = redis::Parser::new();
    let mut reader = Pieces {
        rest: &input.bytes,
        chunk,
    };
    for _ in 0..input.frames {
        black_box(parser.parse_value(&mut reader).unwrap());
    }
    input.frames
}

fn bench(c: &mut Criterion) {
    for input in resp_inputs::all() {
        for (mode, chunk) in [("whole", usize::MAX), ("chunked_4KiB", CHUNK)] {
            let mut group = c.benchmark_group(format!("resp/{}/{mode}", input.name));
            group.throughput(Throughput::Bytes(input.bytes.len() as u64));
            let decoders: [(&str, Decode, bool); 6] = [
                ("slotwise", slotwise, true),
                ("slotwise-decode_complete", slotwise_complete, true),
                ("redis-protocol", redis_protocol, true),
                ("redis-rs", redis_rs, true),
                ("redis-async", peers::redis_async, false),
                ("hiredis", peers::hiredis, false),
            ];
            for (name, decode, resp3) in decoders {
                if (input.resp3 && !resp3)
                    || (name == "slotwise-decode_complete" && chunk != usize::MAX)
                {
                    continue;
                }
                assert_eq!(
                    decode(&input, chunk),
                    input.frames,
                    "{name} on {}",
                    input.name
                );
                group.bench_with_input(BenchmarkId::from_parameter(name), &input, |b, input| {
                    b.iter(|| decode(input, chunk))
                });
            }
            group.finish();
        }
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
