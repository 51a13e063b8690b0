//! `cargo xtask gen-commands`: regenerate the command table from a live redis-server (issue 3).

use crate::util::Result;

pub(crate) fn run(_args: &[String]) -> Result {
    Err("gen-commands is not implemented yet".into())
}
