//! [`RequestError`]: why a request ended without a reply from Redis.

use alloc::string::String;
use core::fmt;

use slotwise_resp::DecodeError;
use slotwise_slot::KeysError;
use slotwise_topology::Endpoint;

/// Why a request ended without a reply from Redis. A Redis error reply that is not a redirect or a
/// transient cluster state (`-ERR …`, `-WRONGTYPE …`) is a reply, not a `RequestError`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RequestError {
    /// The deadline passed before an outcome.
    Timeout {
        /// The command's slot, if it has one.
        slot: Option<u16>,
        /// The node it was last sent or queued to.
        node: Option<Endpoint>,
    },
    /// More `MOVED`/`ASK` redirects than [`Config::max_redirects`](crate::Config::max_redirects).
    TooManyRedirects {
        /// The slot.
        slot: u16,
        /// Where the last redirect pointed.
        to: Endpoint,
    },
    /// The deadline passed while the cluster said `CLUSTERDOWN`/`MASTERDOWN`, or while no known shard
    /// served the slot (or no topology was known at all).
    ClusterDown {
        /// The slot, if the command has one.
        slot: Option<u16>,
    },
    /// The keys hash to more than one slot (the server would say `CROSSSLOT`). Splitting such
    /// commands is a later feature.
    CrossSlot,
    /// A command that must go to several nodes (`DBSIZE`, `KEYS`, `FLUSHALL`, `SCRIPT LOAD` …).
    /// Fan-out is a later feature; such commands are refused rather than sent to one node, where they
    /// would give a partial answer.
    Unsupported {
        /// The command name, lowercase.
        command: String,
    },
    /// The command line is invalid (wrong arity, keys not findable …), as the server would say.
    InvalidCommand(KeysError),
    /// The request was written to a connection that closed before the reply: it may have run. Only
    /// writes not marked idempotent end this way; everything else is retried.
    ConnectionLost {
        /// Always true here: the request was written.
        maybe_applied: bool,
        /// The node.
        node: Endpoint,
    },
    /// The node's queue was at [`Config::queue_bound`](crate::Config::queue_bound).
    QueueFull {
        /// The node.
        node: Endpoint,
    },
    /// The node's reply could not be decoded; the connection was closed.
    Protocol {
        /// The node.
        node: Endpoint,
        /// What was wrong.
        error: DecodeError,
    },
    /// The handshake's `HELLO … AUTH` or `AUTH` was refused.
    Auth {
        /// The node.
        node: Endpoint,
        /// The server's error line.
        message: String,
    },
}

impl RequestError {
    /// A short, stable name for the kind of error (`"Timeout"`, `"ConnectionLost(maybe_applied)"` …),
    /// for counting outcomes and for logs; the details are in [`Display`](fmt::Display).
    pub fn kind(&self) -> &'static str {
        match self {
            RequestError::Timeout { .. } => "Timeout",
            RequestError::TooManyRedirects { .. } => "TooManyRedirects",
            RequestError::ClusterDown { .. } => "ClusterDown",
            RequestError::CrossSlot => "CrossSlot",
            RequestError::Unsupported { .. } => "Unsupported",
            RequestError::InvalidCommand(_) => "InvalidCommand",
            RequestError::ConnectionLost {
                maybe_applied: true,
                ..
            } => "ConnectionLost(maybe_applied)",
            RequestError::ConnectionLost { .. } => "ConnectionLost",
            RequestError::QueueFull { .. } => "QueueFull",
            RequestError::Protocol { .. } => "Protocol",
            RequestError::Auth { .. } => "Auth",
        }
    }
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestError::Timeout { slot, node } => {
                f.write_str("request timed out")?;
                if let Some(slot) = slot {
                    write!(f, " (slot {slot})")?;
                }
                if let Some(node) = node {
                    write!(f, " waiting for {node}")?;
                }
                Ok(())
            }
            RequestError::TooManyRedirects { slot, to } => {
                write!(f, "too many redirects for slot {slot} (last to {to})")
            }
            RequestError::ClusterDown { slot: Some(slot) } => {
                write!(f, "cluster down: no node serves slot {slot}")
            }
            RequestError::ClusterDown { slot: None } => {
                f.write_str("cluster down: no node could serve the request")
            }
            RequestError::CrossSlot => {
                f.write_str("CROSSSLOT: the keys of the command hash to different slots")
            }
            RequestError::Unsupported { command } => write!(
                f,
                "'{command}' must go to several nodes; fan-out is not supported yet"
            ),
            RequestError::InvalidCommand(e) => write!(f, "invalid command: {e}"),
            RequestError::ConnectionLost {
                maybe_applied,
                node,
            } => {
                write!(f, "connection to {node} lost before the reply")?;
                if *maybe_applied {
                    f.write_str(" (the command may have been applied)")?;
                }
                Ok(())
            }
            RequestError::QueueFull { node } => write!(f, "queue for {node} is full"),
            RequestError::Protocol { node, error } => {
                write!(f, "protocol error from {node}: {error}")
            }
            RequestError::Auth { node, message } => {
                write!(f, "authentication with {node} failed: {message}")
            }
        }
    }
}

impl core::error::Error for RequestError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            RequestError::InvalidCommand(e) => Some(e),
            RequestError::Protocol { error, .. } => Some(error),
            _ => None,
        }
    }
}
