//! [`RequestError`]: why a request ended without a reply from Redis.

use alloc::string::String;
use alloc::vec::Vec;
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
        /// The request had been handed to the adapter to write: it may have run (see
        /// [`RequestError::maybe_applied`]). A caller must not simply repeat such a write.
        written: bool,
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
        /// What the client saw: a node's own `CLUSTERDOWN`/`MASTERDOWN` line, a topology with no
        /// shard for the slot, or no topology at all.
        seen: DownCause,
    },
    /// The keys hash to more than one slot (the server would say `CROSSSLOT`) for a command that
    /// cannot be split by slot without changing what it means (`MSETNX`, `SUNIONSTORE`,
    /// `EVAL` …, or any command with [`Config::split_multi_key`](crate::Config::split_multi_key)
    /// off). `MGET`, `MSET`, `DEL`, `UNLINK`, `EXISTS` and `TOUCH` are split instead.
    CrossSlot,
    /// A command the core cannot route as asked (`WAIT`, a `request_policy:special` command it
    /// has no rule for): refused rather than sent to one node, where it would give a partial
    /// answer. [`Cluster::submit_to`](crate::Cluster::submit_to)
    /// sends it to a node of the caller's choice.
    Unsupported {
        /// The command name, lowercase.
        command: String,
    },
    /// Some parts of a command sent to several nodes (a fan-out such as `DBSIZE`, or a multi-key
    /// command split by slot such as `MGET`) ended without a reply. The answer would be partial,
    /// so none is given.
    Partial {
        /// The parts that failed: the node each went to (when it reached one) and why.
        failed: Vec<PartFailure>,
        /// How many parts there were.
        parts: usize,
        /// A write that may have run on some nodes: parts succeeded, or a failed part may have
        /// run (see [`RequestError::maybe_applied`]).
        maybe_applied: bool,
    },
    /// The nodes of a fan-out that must agree (`SCRIPT LOAD`, `FUNCTION LOAD`: the same SHA or
    /// library name everywhere) answered differently.
    Disagreement {
        /// The command name, lowercase.
        command: String,
    },
    /// [`Cluster::submit_to`](crate::Cluster::submit_to) named a node the current topology does
    /// not have.
    UnknownNode {
        /// The endpoint or node id asked for.
        node: String,
    },
    /// A cluster `SCAN` cursor that this client cannot continue: mangled, made by another
    /// version, or from another cluster.
    InvalidCursor {
        /// What is wrong.
        problem: &'static str,
    },
    /// The command line is invalid (wrong arity, keys not findable …), as the server would say.
    InvalidCommand(KeysError),
    /// The request was written to a connection that closed before the reply: it may have run. Only
    /// writes that are not idempotent (by the core's facts, or marked
    /// [`Request::not_idempotent`](crate::Request::not_idempotent)) end this way; everything else
    /// is retried.
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
    /// The command changes its connection's state (`SUBSCRIBE`, `MULTI`, `SELECT`, `CLIENT
    /// REPLY` …), so it is never written on a shared connection, where it would make later
    /// replies go to the wrong requests or run them in a state their callers did not ask for.
    ConnectionState {
        /// The command name, lowercase (`client|reply` for a subcommand).
        command: String,
        /// What to use instead.
        use_instead: &'static str,
    },
    /// A transaction command out of order in its session (`EXEC` without `MULTI`, nested `MULTI`,
    /// `WATCH` inside `MULTI` …): refused before it reached the server.
    Transaction {
        /// The command name, lowercase.
        command: String,
        /// What is wrong, in the server's words.
        problem: &'static str,
    },
    /// `EXEC` did not run the transaction: a command queued in it failed before it reached the
    /// server (the transaction was discarded instead, so nothing of it ran).
    TransactionAborted {
        /// The queued command's failure.
        reason: String,
    },
    /// A `MOVED` or `ASK` inside a session: the slot is served elsewhere now (the slot map has been
    /// corrected). Nothing in a session is redirected, since its state (`WATCH`, `MULTI`) lives on
    /// its connection; run the transaction again in a new session.
    SlotMoved {
        /// The slot.
        slot: u16,
        /// Where it is served now.
        to: Endpoint,
        /// `MOVED` or `ASK`.
        kind: crate::RedirectKind,
    },
    /// The session takes no more requests.
    SessionEnded {
        /// Why: lost connection, closed, or an earlier request that never reached the server.
        reason: &'static str,
    },
    /// [`Cluster::cancel`](crate::Cluster::cancel) ended the request.
    Cancelled,
    /// An argument is longer than [`Config::max_arg_len`](crate::Config::max_arg_len) (Redis's
    /// `proto-max-bulk-len`, 512 MB by default): refused before it is sent, since the server would
    /// refuse it only after reading it all.
    TooLarge {
        /// The argument's length in bytes.
        len: usize,
        /// The limit.
        limit: usize,
    },
}

impl RequestError {
    /// True if the request may have run although no reply came: written to a connection that was
    /// lost (a write that is not idempotent), or written and then past its deadline. Check before
    /// repeating it.
    #[must_use]
    pub fn maybe_applied(&self) -> bool {
        matches!(
            self,
            RequestError::ConnectionLost {
                maybe_applied: true,
                ..
            } | RequestError::Protocol { .. }
                | RequestError::Timeout { written: true, .. }
                | RequestError::Partial {
                    maybe_applied: true,
                    ..
                }
        )
    }

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
            RequestError::ConnectionState { .. } => "ConnectionState",
            RequestError::Transaction { .. } => "Transaction",
            RequestError::TransactionAborted { .. } => "TransactionAborted",
            RequestError::SlotMoved { .. } => "SlotMoved",
            RequestError::SessionEnded { .. } => "SessionEnded",
            RequestError::Cancelled => "Cancelled",
            RequestError::TooLarge { .. } => "TooLarge",
            RequestError::Partial {
                maybe_applied: true,
                ..
            } => "Partial(maybe_applied)",
            RequestError::Partial { .. } => "Partial",
            RequestError::Disagreement { .. } => "Disagreement",
            RequestError::UnknownNode { .. } => "UnknownNode",
            RequestError::InvalidCursor { .. } => "InvalidCursor",
        }
    }
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestError::Timeout {
                slot,
                node,
                written,
            } => {
                f.write_str("request timed out")?;
                if let Some(slot) = slot {
                    write!(f, " (slot {slot})")?;
                }
                if let Some(node) = node {
                    write!(f, " waiting for {node}")?;
                }
                if *written {
                    f.write_str(" after it was written (it may have been applied)")?;
                }
                Ok(())
            }
            RequestError::TooManyRedirects { slot, to } => {
                write!(f, "too many redirects for slot {slot} (last to {to})")
            }
            RequestError::ClusterDown { slot, seen } => {
                f.write_str("cluster down")?;
                if let Some(slot) = slot {
                    write!(f, " (slot {slot})")?;
                }
                write!(f, ": {seen}")
            }
            RequestError::CrossSlot => {
                f.write_str("CROSSSLOT: the keys of the command hash to different slots")
            }
            RequestError::Unsupported { command } => write!(
                f,
                "'{command}' cannot be routed by the client; send it to a chosen node instead"
            ),
            RequestError::Partial {
                failed,
                parts,
                maybe_applied,
            } => {
                write!(f, "{} of {parts} parts failed:", failed.len())?;
                for (i, p) in failed.iter().enumerate() {
                    let sep = if i == 0 { " " } else { "; " };
                    match &p.node {
                        Some(node) => write!(f, "{sep}{node}: {}", p.error)?,
                        None => write!(f, "{sep}{}", p.error)?,
                    }
                }
                if *maybe_applied {
                    f.write_str(" (the command may have been applied on some nodes)")?;
                }
                Ok(())
            }
            RequestError::Disagreement { command } => {
                write!(f, "the nodes answered '{command}' differently")
            }
            RequestError::UnknownNode { node } => {
                write!(f, "no node {node} in the current topology")
            }
            RequestError::InvalidCursor { problem } => write!(f, "invalid SCAN cursor: {problem}"),
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
            RequestError::ConnectionState {
                command,
                use_instead,
            } => write!(
                f,
                "'{command}' changes the connection's state and is never sent on a shared \
                 connection; use {use_instead}"
            ),
            RequestError::Transaction { command, problem } => {
                write!(f, "'{command}' refused: {problem}")
            }
            RequestError::TransactionAborted { reason } => {
                write!(f, "EXECABORT: the transaction was discarded ({reason})")
            }
            RequestError::SlotMoved { slot, to, kind } => {
                let kind = match kind {
                    crate::RedirectKind::Moved => "MOVED",
                    crate::RedirectKind::Ask => "ASK",
                };
                write!(
                    f,
                    "{kind} inside a session: slot {slot} is served by {to} now; run the \
                     transaction again"
                )
            }
            RequestError::SessionEnded { reason } => write!(f, "the session ended: {reason}"),
            RequestError::Cancelled => f.write_str("cancelled"),
            RequestError::TooLarge { len, limit } => write!(
                f,
                "an argument of {len} bytes is longer than the server accepts ({limit} bytes, \
                 proto-max-bulk-len): not sent"
            ),
        }
    }
}

/// What made the client report [`RequestError::ClusterDown`]: the last thing it saw while it kept
/// retrying until the deadline.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DownCause {
    /// A node answered the request with `CLUSTERDOWN …` (slots uncovered, no quorum) or
    /// `MASTERDOWN …` (a replica that lost its primary).
    Said {
        /// The node that answered.
        node: Endpoint,
        /// Its error line, as sent.
        line: String,
    },
    /// The topology the client routes by has no shard serving the slot (or, for a command without
    /// a slot, no shard at all).
    Uncovered,
    /// No topology has been learned yet: no seed has given a usable `CLUSTER SHARDS`/`SLOTS`
    /// answer.
    NoTopology {
        /// The last unusable answer, with the node that gave it (the text of
        /// [`Event::TopologyUnusable`](crate::Event::TopologyUnusable)), if there was one.
        last_unusable: Option<String>,
    },
    /// The sentinels are failing the primary over: writes wait for the new primary (see
    /// [`SentinelConfig::failover_hold`](crate::SentinelConfig::failover_hold)).
    FailingOver {
        /// The primary's name.
        master: String,
    },
}

impl fmt::Display for DownCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DownCause::Said { node, line } => write!(f, "{node} answered `{line}`"),
            DownCause::Uncovered => f.write_str("no shard in the topology serves it"),
            DownCause::NoTopology {
                last_unusable: None,
            } => f.write_str("no topology yet: no seed has answered CLUSTER SHARDS/SLOTS"),
            DownCause::NoTopology {
                last_unusable: Some(last),
            } => write!(f, "no topology yet: {last}"),
            DownCause::FailingOver { master } => write!(
                f,
                "the sentinels are failing over primary `{master}`: writes wait for the new one"
            ),
        }
    }
}

/// One failed part of a multi-node command (see [`RequestError::Partial`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartFailure {
    /// The node the part went to last, if it reached one.
    pub node: Option<Endpoint>,
    /// Why it failed.
    pub error: RequestError,
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
