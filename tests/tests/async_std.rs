//! Every end-to-end scenario on `slotwise-async-std` under async-std.
#![forbid(unsafe_code)]

slotwise_e2e::scenario_tests!(slotwise_e2e::adapters::async_std::AsyncStd);
