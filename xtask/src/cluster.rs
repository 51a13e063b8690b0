//! `cargo xtask cluster`: a real local Redis Cluster and faults (issue 4).

use crate::util::Result;

pub(crate) fn run(_args: &[String]) -> Result {
    Err("cluster is not implemented yet".into())
}
