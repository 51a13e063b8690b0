//! Every end-to-end scenario on `slotwise-tokio`.
#![forbid(unsafe_code)]

slotwise_e2e::scenario_tests!(slotwise_e2e::adapters::tokio::Tokio);
