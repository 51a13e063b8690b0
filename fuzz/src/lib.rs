//! Bodies of the fuzz targets. Each `fuzz_targets/<module>_<fn>.rs` calls `<module>::<fn>(data)`.
//!
//! Keeping the bodies here lets `cargo test --lib` (stable) replay the committed seed corpus and a
//! few thousand pseudo-random inputs through every target, so a machine without nightly still runs
//! the same checks, just without coverage guidance.

pub mod cluster;
pub mod resp;
pub mod slot;
pub mod topology;

#[cfg(test)]
mod replay;
