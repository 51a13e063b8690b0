//! Inputs shared by the benches, built deterministically so every run measures the same bytes, and
//! the glue for peer decoders that need it.

pub mod join;
pub mod peers;
pub mod resp_decoders;
pub mod resp_inputs;
