//! The built-in command table, generated from a real server by `cargo xtask gen-commands`.

pub(crate) mod generated;
