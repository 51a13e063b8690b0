//! # slotwise-client
//!
//! What the slotwise adapters (`slotwise-tokio`, `slotwise-async-std`, `slotwise-blocking`) share,
//! so that each of them only opens sockets: the configuration, TLS, errors, reply conversion,
//! command builders, the driver around the sans-IO core, and the handle applications use.
//!
//! ## Contents
//! - [`ClientConfig`]: seeds (`host:port`; one configuration endpoint is enough), credentials
//!   (user and password, or a [`CredentialsProvider`] callback), client name, [`TlsOptions`], and
//!   the core's [`Config`] passed through. Passwords never appear in
//!   `Debug` output or logs.
//! - [`Error`]: [`Error::Request`] (the core's [`RequestError`]: timeout, cluster down,
//!   `ConnectionLost { maybe_applied }`, auth refused …), [`Error::Redis`] (an error reply, with
//!   its [`ServerError::code`]), [`Error::Convert`], [`Error::Closed`], and setup errors.
//! - [`FromFrame`]: replies as Rust values (`String`, `i64`, `Option<T>`, `Vec<T>` …).
//! - [`commands`]: typed [`Request`] builders for common single-key commands, marked idempotent
//!   where running twice is harmless (`SET` is, `INCR` is not).
//! - [`Handle`]: the cheap-to-clone, `Send + Sync` handle — `send`, `cmd`, `query`, `get`, `set`,
//!   `incr` …, `shutdown`. Its futures need no particular runtime. Blocking commands run on
//!   connections of their own (dropping their future cancels them).
//! - [`Transaction`] (from [`Handle::session`]) and [`Handle::transaction`]: `WATCH`/`MULTI`/`EXEC`
//!   on a connection held for the transaction, re-run after a `WATCH` abort or a slot move.
//! - [`Driver`] and [`Msg`]: the core, reply senders, connection byte channels, the clock origin
//!   and tracing, for an adapter's driver loop (a task or a thread).
//! - [`Runtime`] (with [`ConnRead`], [`ConnWrite`]) and [`start`]: an async adapter implements
//!   spawn, sleep and connect; the driver loop and connection tasks are written here, once.
//!
//! ## How a client runs
//!
//! ```text
//!  Handle ──Submit──▶ inbox ──▶ driver loop (Driver: Cluster + replies + conns) ──write──▶ socket
//!    ▲                               │ │ Connect → ConnectJob → the loop (or, blocking: a thread) │
//!    └──────── oneshot ◀─────────────┘ └──── read ◀──────────────────────────────────────────────┘
//! ```
//!
//! One driver per client owns the [`Cluster`](slotwise_cluster::Cluster); it is the only place
//! routing, redirects and retries happen (inside the core). The async loop ([`start`]) owns every
//! connection's read and write halves and polls their I/O itself (a request crosses two task hops:
//! caller → driver → caller); transmits queued while a write is in flight go out in one write. The
//! blocking adapter runs a reader and a writer thread per connection instead.
//!
//! Events become `tracing` events with target `slotwise` (connects, connection losses, topology
//! changes and failovers at `info`/`warn`, redirects and refreshes at `debug`); nothing is printed
//! unless a subscriber is installed.
//!
//! ```
//! use slotwise_client::{ClientConfig, FromFrame, commands};
//! let config = ClientConfig::new(["localhost:7000"])?.user("app", "secret");
//! let request = commands::incr("visits");
//! assert_eq!(i64::from_frame(slotwise_client::Frame::Integer(3))?, 3);
//! # let _ = (config, request);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod commands;
mod config;
mod convert;
mod driver;
mod error;
mod handle;
mod runtime;
mod tls;
mod trace;
mod transaction;

pub use config::{ClientConfig, DEFAULT_PORT};
pub use convert::{ConvertError, FromFrame};
pub use driver::{ConnectJob, Driver, Flow, Inbox, Msg, Ready, ReplySender};
pub use error::{Error, Result, ServerError};
pub use handle::{Handle, Pending};
pub use runtime::{ConnRead, ConnWrite, Runtime, start};
pub use tls::{Pem, TlsOptions, TlsTarget, server_name};
pub use transaction::Transaction;

/// Re-exported from the core: what requests, replies and configuration are made of.
pub use slotwise_cluster::{
    Auth, Backoff, Config, Credentials, CredentialsProvider, Endpoint, Event, Frame, Protocol,
    ReadFrom, RedirectKind, RefreshPolicy, Request, RequestError, SessionId, Stats,
};
/// Re-exported so that adapters and applications name the same versions.
pub use {bytes, futures_channel, rustls, slotwise_resp as resp};

#[cfg(test)]
mod tests {
    fn send_sync<T: Send + Sync + 'static>() {}

    #[test]
    fn shareable() {
        send_sync::<crate::Handle>();
        send_sync::<crate::Error>();
        send_sync::<crate::ClientConfig>();
        send_sync::<crate::Driver>();
        fn send<T: Send>() {}
        send::<crate::Pending>();
    }
}
