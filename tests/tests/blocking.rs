//! Every end-to-end scenario on `slotwise-blocking`.
#![forbid(unsafe_code)]

slotwise_e2e::scenario_tests!(slotwise_e2e::adapters::blocking::Blocking);
