//! `slotwise slot` and `slotwise keys` (issue 3).

use crate::Failure;

pub(crate) fn run_slot(_args: &[String]) -> Result<(), Failure> {
    Err(Failure::Usage("`slot` is not implemented yet".into()))
}

pub(crate) fn run_keys(_args: &[String]) -> Result<(), Failure> {
    Err(Failure::Usage("`keys` is not implemented yet".into()))
}
