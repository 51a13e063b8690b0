//! `slotwise decode`.

use crate::Failure;

pub(crate) fn run(_args: &[String]) -> Result<(), Failure> {
    Err(Failure::Usage("soon".into()))
}
