//! placeholder (issue 6)
