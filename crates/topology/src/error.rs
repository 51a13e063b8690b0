//! Errors: a reply that cannot be read as a topology at all.

use alloc::string::String;
use core::fmt;

/// Which command's reply was being parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// `CLUSTER SHARDS` (Redis 7+).
    Shards,
    /// `CLUSTER SLOTS`.
    Slots,
    /// `CLUSTER NODES` (text).
    Nodes,
    /// Built in code with [`TopologyBuilder`](crate::TopologyBuilder).
    Built,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Shards => "CLUSTER SHARDS",
            Format::Slots => "CLUSTER SLOTS",
            Format::Nodes => "CLUSTER NODES",
            Format::Built => "built topology",
        })
    }
}

/// A reply that could not be read. Inconsistent but readable replies are not errors: they give a
/// [`Topology`](crate::Topology) with [`Problem`](crate::Problem)s.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseError {
    /// The server answered with an error (e.g. `ERR This instance has cluster support disabled`).
    ErrorReply {
        /// The command.
        format: Format,
        /// The error text.
        message: String,
    },
    /// A field is missing or has the wrong type or value.
    Malformed {
        /// The command.
        format: Format,
        /// Where: e.g. `shard 2, node 1, field "port"` or `line 3, field "flags"`.
        at: String,
        /// What was expected there.
        expected: &'static str,
    },
}

impl ParseError {
    pub(crate) fn malformed(format: Format, at: String, expected: &'static str) -> ParseError {
        ParseError::Malformed {
            format,
            at,
            expected,
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::ErrorReply { format, message } => {
                write!(f, "{format} answered with an error: {message}")
            }
            ParseError::Malformed {
                format,
                at,
                expected,
            } => write!(f, "{format} reply: at {at}: expected {expected}"),
        }
    }
}

impl core::error::Error for ParseError {}
