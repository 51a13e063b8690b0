//! Every end-to-end scenario on `slotwise-async-std` under smol.
#![forbid(unsafe_code)]

slotwise_e2e::scenario_tests!(slotwise_e2e::adapters::smol::Smol);
