//! RESP decoding: slotwise-resp (owned frames, and borrowed events) against redis-protocol (fred's
//! decoder), redis-rs's parser, redis-async's codec and hiredis's reader, on the same bytes, whole and
//! in 4 KiB pieces (as they arrive from a socket). redis-async and hiredis 0.14 speak RESP2 only, so
//! they sit out the RESP3 input. The receive buffer is filled before the clock starts, for every
//! decoder alike (see `slotwise_benches::resp_decoders`).
//!
//! `cargo bench -p slotwise-benches --bench resp`

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use slotwise_benches::resp_decoders::{DECODERS, arrived, whole_only};
use slotwise_benches::resp_inputs;

const CHUNK: usize = 4096;

fn bench(c: &mut Criterion) {
    for input in resp_inputs::all() {
        for (mode, chunk) in [("whole", usize::MAX), ("chunked_4KiB", CHUNK)] {
            let mut group = c.benchmark_group(format!("resp/{}/{mode}", input.name));
            group.throughput(Throughput::Bytes(input.bytes.len() as u64));
            for (name, decode, resp3) in DECODERS {
                if (input.resp3 && !resp3) || (whole_only(name) && chunk != usize::MAX) {
                    continue;
                }
                assert_eq!(
                    decode(&input, arrived(&input), chunk),
                    input.frames,
                    "{name} on {}",
                    input.name
                );
                // One input per timed run, so that each decoder finds it as fresh in the caches as a
                // socket read would leave it (each input takes microseconds: the timer's cost is noise).
                group.bench_with_input(BenchmarkId::from_parameter(name), &input, |b, input| {
                    b.iter_batched(
                        || arrived(input),
                        |all| decode(input, all, chunk),
                        BatchSize::PerIteration,
                    )
                });
            }
            group.finish();
        }
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
