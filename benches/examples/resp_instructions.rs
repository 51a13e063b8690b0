//! Instruction-count harness for the RESP decoders, for use under `valgrind --tool=callgrind`, whose
//! counts do not depend on what else the machine is doing (criterion's times do).
//!
//! `resp_instructions DECODER INPUT REPS CHUNK` decodes INPUT (a name from `resp_inputs::all()`) REPS
//! times, fed in CHUNK-byte pieces, with DECODER = `slotwise` | `redis-protocol` | `redis-rs` |
//! `redis-async` | `hiredis`, or `slotwise-decode_complete` (the stateless entry point over the whole
//! input; CHUNK is ignored). Run it
//! with REPS = 0 and REPS = 10 and divide the difference by 10 for instructions per input
//! (see benches/README.md). With INPUT = `array_1M` (not a criterion input) it serves to measure peak
//! memory under `/usr/bin/time -f %M`, REPS = 1 against REPS = 0.
use bytes::BytesMut;
use std::hint::black_box;
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, decoder, which, reps, chunk] = &args[..] else {
        eprintln!(
            "usage: resp_instructions slotwise[-decode_complete]|redis-protocol|redis-rs|redis-async|hiredis INPUT REPS CHUNK"
        );
        std::process::exit(2);
    };
    let (reps, chunk): (usize, usize) = (reps.parse().unwrap(), chunk.parse().unwrap());
    let input = if which == "array_1M" {
        slotwise_benches::resp_inputs::array_1m()
    } else {
        slotwise_benches::resp_inputs::all()
            .into_iter()
            .find(|i| i.name == which)
            .expect("no such input")
    };
    let mut total = 0;
    for _ in 0..reps {
        let mut buf = BytesMut::with_capacity(chunk.min(input.bytes.len()));
        match decoder.as_str() {
            "slotwise" => {
                let mut d = slotwise_resp::Decoder::new();
                for piece in input.bytes.chunks(chunk) {
                    buf.extend_from_slice(piece);
                    while let Some(f) = d.decode(&mut buf).unwrap() {
                        black_box(f);
                        total += 1;
                    }
                }
            }
            "redis-protocol" => {
                for piece in input.bytes.chunks(chunk) {
                    buf.extend_from_slice(piece);
                    loop {
                        let got = if input.resp3 {
                            redis_protocol::resp3::decode::complete::decode_bytes_mut(&mut buf)
                                .unwrap()
                                .map(|f| {
                                    black_box(f);
                                })
                                .is_some()
                        } else {
                            redis_protocol::resp2::decode::decode_bytes_mut(&mut buf)
                                .unwrap()
                                .map(|f| {
                                    black_box(f);
                                })
                                .is_some()
                        };
                        if !got {
                            break;
                        }
                        total += 1;
                    }
                }
            }
            "slotwise-decode_complete" => {
                use bytes::Buf;
                let mut rest = bytes::Bytes::copy_from_slice(&input.bytes);
                while let Some((f, len)) =
                    slotwise_resp::decode_complete(&rest, &slotwise_resp::Limits::DEFAULT).unwrap()
                {
                    black_box(f);
                    rest.advance(len);
                    total += 1;
                }
            }
            "redis-async" => total += slotwise_benches::peers::redis_async(&input, chunk),
            "hiredis" => total += slotwise_benches::peers::hiredis(&input, chunk),
            _ => {
                struct Pieces<'a> {
                    rest: &'a [u8],
                    chunk: usize,
                }
                impl std::io::Read for Pieces<'_> {
                    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
                        let n = self.rest.len().min(self.chunk).min(out.len());
                        out[..n].copy_from_slice(&self.rest[..n]);
                        self.rest = &self.rest[n..];
                        Ok(n)
                    }
                }
                let mut p = redis::Parser::new();
                let mut r = Pieces {
                    rest: &input.bytes,
                    chunk,
                };
                for _ in 0..input.frames {
                    black_box(p.parse_value(&mut r).unwrap());
                    total += 1;
                }
            }
        }
    }
    println!("{total}");
}
