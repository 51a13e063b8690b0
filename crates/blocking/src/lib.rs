//! placeholder (issue 6)
#![forbid(unsafe_code)]
