//! [`Error`]: everything a client call can end with, and [`ServerError`], a Redis error reply.

use std::fmt;

use bytes::Bytes;
use slotwise_cluster::{Endpoint, RequestError};

use crate::ConvertError;

/// Why a client call did not give the value asked for.
///
/// ```
/// use slotwise_client::{Error, ServerError};
/// let e = Error::Redis(ServerError::from_line("WRONGTYPE Operation against a key holding the wrong kind of value"));
/// assert_eq!(e.server_code(), Some("WRONGTYPE"));
/// assert!(!e.maybe_applied());
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The core ended the request without a reply: timeout, cluster down, connection lost,
    /// authentication refused … (see [`RequestError`]).
    Request(RequestError),
    /// Redis answered with an error reply (`-WRONGTYPE …`, `-ERR …`, `-NOSCRIPT …`).
    Redis(ServerError),
    /// The reply did not convert to the type asked for.
    Convert(ConvertError),
    /// The client was shut down (or its driver stopped) before the request ended.
    Closed,
    /// `connect` found no topology in time. The message says what went wrong last (connection
    /// refused, TLS failure …).
    Connect {
        /// The seeds it tried.
        seeds: Vec<Endpoint>,
        /// What went wrong.
        message: String,
    },
    /// The configuration is invalid (a seed that does not parse …).
    Config(String),
    /// TLS setup failed (no roots, a bad certificate or key file …).
    Tls(String),
    /// An IO error while setting up (reading a PEM file …).
    Io {
        /// What was being done.
        context: String,
        /// The error.
        source: std::io::Error,
    },
}

impl Error {
    /// A short, stable name for the kind of error, for counting outcomes and for logs: the core's
    /// [`RequestError::kind`] for request errors, else `"Redis"`, `"Convert"`, `"Closed"`, `"Connect"`,
    /// `"Config"`, `"Tls"` or `"Io"`.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Request(e) => e.kind(),
            Error::Redis(_) => "Redis",
            Error::Convert(_) => "Convert",
            Error::Closed => "Closed",
            Error::Connect { .. } => "Connect",
            Error::Config(_) => "Config",
            Error::Tls(_) => "Tls",
            Error::Io { .. } => "Io",
        }
    }

    /// The Redis error code of an error reply (`WRONGTYPE`, `ERR`, `NOAUTH` …).
    #[must_use]
    pub fn server_code(&self) -> Option<&str> {
        match self {
            Error::Redis(e) => Some(e.code()),
            _ => None,
        }
    }

    /// True if the request may have run although no reply came (a write that was not marked
    /// idempotent, on a connection that died; or any request written before its deadline
    /// passed): check before repeating it.
    #[must_use]
    pub fn maybe_applied(&self) -> bool {
        matches!(self, Error::Request(e) if e.maybe_applied())
    }

    /// True if a node refused the credentials.
    #[must_use]
    pub fn is_auth(&self) -> bool {
        matches!(self, Error::Request(RequestError::Auth { .. }))
            || matches!(self, Error::Redis(e) if matches!(e.code(), "WRONGPASS" | "NOAUTH"))
    }

    /// True if the request's deadline passed.
    #[must_use]
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Request(RequestError::Timeout { .. }))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Request(e) => e.fmt(f),
            Error::Redis(e) => e.fmt(f),
            Error::Convert(e) => e.fmt(f),
            Error::Closed => f.write_str("the client is shut down"),
            Error::Connect { seeds, message } => {
                f.write_str("could not discover the cluster from ")?;
                for (i, s) in seeds.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{s}")?;
                }
                write!(f, ": {message}")
            }
            Error::Config(m) => write!(f, "invalid configuration: {m}"),
            Error::Tls(m) => write!(f, "TLS setup: {m}"),
            Error::Io { context, source } => write!(f, "{context}: {source}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Request(e) => Some(e),
            Error::Redis(e) => Some(e),
            Error::Convert(e) => Some(e),
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl From<RequestError> for Error {
    fn from(e: RequestError) -> Error {
        Error::Request(e)
    }
}

impl From<ServerError> for Error {
    fn from(e: ServerError) -> Error {
        Error::Redis(e)
    }
}

impl From<ConvertError> for Error {
    fn from(e: ConvertError) -> Error {
        Error::Convert(e)
    }
}

/// An error reply from Redis: its code (the first word, e.g. `WRONGTYPE`) and the whole line.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ServerError {
    line: String,
    code_len: usize,
}

impl ServerError {
    /// From the error line as the server sent it (after `-` or inside `!`).
    #[must_use]
    pub fn from_line(line: &str) -> ServerError {
        let code_len = line.find(' ').unwrap_or(line.len());
        ServerError {
            line: line.to_owned(),
            code_len,
        }
    }

    pub(crate) fn from_bytes(line: &Bytes) -> ServerError {
        ServerError::from_line(&String::from_utf8_lossy(line))
    }

    /// The error code: `WRONGTYPE`, `ERR`, `NOSCRIPT` ….
    #[must_use]
    pub fn code(&self) -> &str {
        self.line.get(..self.code_len).unwrap_or("")
    }

    /// The text after the code.
    #[must_use]
    pub fn detail(&self) -> &str {
        self.line.get(self.code_len..).unwrap_or("").trim_start()
    }

    /// The whole line.
    #[must_use]
    pub fn line(&self) -> &str {
        &self.line
    }
}

impl fmt::Debug for ServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ServerError").field(&self.line).finish()
    }
}

impl fmt::Display for ServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "server error: {}", self.line)
    }
}

impl std::error::Error for ServerError {}

/// A convenient alias.
pub type Result<T, E = Error> = std::result::Result<T, E>;
