//! placeholder (issue 5)
#![no_std]
#![forbid(unsafe_code)]
