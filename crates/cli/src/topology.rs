//! `slotwise topology` (issue 4).

use crate::Failure;

pub(crate) fn run(_args: &[String]) -> Result<(), Failure> {
    Err(Failure::Usage("`topology` is not implemented yet".into()))
}
