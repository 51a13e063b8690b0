//! Instruction-count harness for the RESP decoders, for use under `valgrind --tool=callgrind`, whose
//! counts do not depend on what else the machine is doing (criterion's times do).
//!
//! `resp_instructions DECODER INPUT REPS CHUNK` decodes INPUT (a name from `resp_inputs::all()`) REPS
//! times, fed in CHUNK-byte pieces, with DECODER one of the names in
//! `slotwise_benches::resp_decoders::DECODERS` (`slotwise`, `slotwise-visit`, `redis-protocol`,
//! `redis-rs`, `redis-async`, `hiredis`; the `*_complete` ones take the whole input and ignore
//! CHUNK). Each rep first copies the input into a receive buffer, for every decoder alike. Run it
//! with REPS = 0 and REPS = 10 and divide the difference by 10 for instructions per input
//! (see benches/README.md). With INPUT = `array_1M` (not a criterion input) it serves to measure peak
//! memory under `/usr/bin/time -f %M`, REPS = 1 against REPS = 0.
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, decoder, which, reps, chunk] = &args[..] else {
        eprintln!(
            "usage: resp_instructions DECODER INPUT REPS CHUNK (DECODER: see resp_decoders::DECODERS)"
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
    let (_, decode, _) = slotwise_benches::resp_decoders::DECODERS
        .into_iter()
        .find(|(name, ..)| name == decoder)
        .expect("no such decoder");
    let mut total = 0;
    for _ in 0..reps {
        // The receive buffer is filled per rep, for every decoder alike (counted in every figure).
        let all = slotwise_benches::resp_decoders::arrived(&input);
        total += decode(&input, all, chunk);
    }
    println!("{total}");
}
