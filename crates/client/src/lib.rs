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
//! - [`FromFrame`]: replies as Rust values (`String`, `i64`, `Option<T>`, `Vec<T>`, maps, sets,
//!   tuples, [`StreamEntry`], [`StreamReads`] …); [`ToArgs`]: arguments from Rust values (strings,
//!   bytes, integers, floats, collections, pairs), gathered by [`Args`].
//! - The typed API: [`Cmd`] (a command and its reply type), one trait per family of commands
//!   ([`StringCommands`], [`KeyCommands`], [`HashCommands`], [`ListCommands`], [`SetCommands`], [`SortedSetCommands`],
//!   [`StreamCommands`], [`ScriptCommands`] with [`Script`]: `EVALSHA`,
//!   falling back to `EVAL`), written once for every client that implements [`RunCmd`] — the
//!   [`Handle`] (a [`Run`] future) and the blocking client (the result). Bring them in with
//!   `use slotwise_client::prelude::*`.
//! - [`commands`]: typed [`Request`] builders for common single-key commands, marked idempotent
//!   where running twice is harmless (`SET` is, `INCR` is not).
//! - [`Handle`]: the cheap-to-clone, `Send + Sync` handle — `send`, `cmd`, `query`, the typed helpers
//!   (`get`, `set`, `incr` …, with the prelude), `shutdown`. Its futures need no particular runtime. Blocking commands run on
//!   connections of their own (dropping their future cancels them).
//! - [`Transaction`] (from [`Handle::session`]) and [`Handle::transaction`]: `WATCH`/`MULTI`/`EXEC`
//!   on a connection held for the transaction, re-run after a `WATCH` abort or a slot move.
//! - [`adapter`]: for adapter authors only — the [`Runtime`](adapter::Runtime) trait an async
//!   adapter implements, [`start`](adapter::start) (the driver loop, written once), and the
//!   [`Driver`](adapter::Driver) for a loop written by hand.
//!
//! ## How a client runs
//!
//! ```text
//!  Handle ──Msg──▶ inbox ──▶ the loop: Driver (Cluster + reply senders) ──Io──▶ sockets
//!    │                        ▲  │    ▲  connected / received / closed (direct calls)  │
//!    └──Submit, loop free─────┘  │    └────────────────────────────────────────────────┘
//!    ▲                           │  run by the loop's task, or by a lone caller's own task
//!    └──────── oneshot ◀─────────┘  (which its reply's socket event then wakes directly)
//! ```
//!
//! One driver per client owns the [`Cluster`](slotwise_cluster::Cluster); it is the only place
//! routing, redirects and retries happen (inside the core). The loop owns every connection's read
//! and write halves and polls their I/O itself; transmits queued while a write is in flight go out
//! in one write. Its own task runs it, except while it is free and one caller's request is all
//! that waits: that caller runs it on its own task, writing its request and reading its reply
//! there (no task hop); requests one task submits together (a burst, or a `join` of request
//! futures) are written by that task in one write per node. Every adapter runs this same loop (the blocking one on the async-std
//! adapter's executor thread).
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

pub mod adapter;
mod args;
pub mod commands;
mod config;
mod convert;
mod error;
mod handle;
mod pipeline;
mod scan;
mod script;
mod sentinel_url;
mod stream;
mod subscriber;
mod tls;
mod trace;
mod transaction;
mod typed;

pub use args::{Args, ToArgs};
pub use config::{ClientConfig, DEFAULT_PORT};
pub use convert::{ConvertError, FromFrame, pairs};
pub use error::{Error, Result, ServerError};
pub use handle::{Handle, Pending};
pub use pipeline::Pipeline;
pub use scan::Scan;
pub use script::Script;
pub use stream::{StreamEntry, StreamRead, StreamReads};
pub use subscriber::{SUBSCRIBER_BUFFER, Subscriber};
pub use tls::{Pem, TlsOptions};
pub use transaction::Transaction;
pub use typed::{
    Cmd, HashCommands, KeyCommands, ListCommands, Run, RunCmd, ScriptCommands, SetCommands,
    SortedSetCommands, StreamCommands, StringCommands,
};

/// Everything the typed API needs in scope: `use slotwise_client::prelude::*;` (each adapter
/// re-exports it as its own `prelude`).
pub mod prelude {
    pub use crate::{
        Args, Cmd, FromFrame, HashCommands, KeyCommands, ListCommands, RunCmd, Script,
        ScriptCommands, SetCommands, SortedSetCommands, StreamCommands, StreamEntry, StreamReads,
        StringCommands, ToArgs,
    };
}

/// Re-exported from the core: what requests, replies and configuration are made of.
pub use slotwise_cluster::{
    AddressRemap, Auth, Backoff, Config, Credentials, CredentialsProvider, Deployment, Dial,
    DownCause, Endpoint, Event, Frame, Message, MessageKind, PartFailure, Protocol, PubSubEvent,
    ReadFrom, RedirectKind, RefreshPolicy, Remap, Request, RequestError, SessionId, Stats,
    SubscriptionKind, Target, Topology, ZoneOf,
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
        send_sync::<crate::adapter::Driver>();
        fn send<T: Send>() {}
        send::<crate::Pending>();
    }
}
