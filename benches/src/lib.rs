//! Inputs shared by the benches, built deterministically so every run measures the same bytes.

pub mod resp_inputs;
