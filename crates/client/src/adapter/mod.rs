//! For adapter authors: what an adapter crate (`slotwise-tokio`, `slotwise-async-std`, or your
//! own) builds on. Applications never need this module: they use the
//! [`Handle`](crate::Handle) an adapter's `Client` gives them.
//!
//! - [`Runtime`] (with [`ConnRead`], [`ConnWrite`]): implement spawn, sleep and connect for your
//!   runtime (and [`Runtime::enter`] if its sockets and timers must be created inside it), then
//!   call [`start`]: it spawns the driver loop's task (the loop is written once, here) and returns
//!   the handle once the cluster's topology is known. That is all an async adapter is. The
//!   handle's callers run the same loop on their own tasks while it is free and they are alone
//!   (a round trip with no task hop), so the halves' futures must be pollable from any task.
//! - [`Driver`]: the core ([`Cluster`](slotwise_cluster::Cluster)) plus the reply senders, the
//!   clock origin and tracing, for a loop written by hand: feed it [`Msg`]s from the inbox with
//!   [`Driver::handle`], connection events with [`Driver::connected`] / [`Driver::connect_failed`]
//!   / [`Driver::received`] / [`Driver::closed`], the deadline with [`Driver::tick`]; perform the
//!   [`Io`] that [`Driver::poll`] hands out. Only [`Msg`]s cross threads.
//!
//! ```text
//!  Handle ──Msg──▶ inbox ──▶ the loop: Driver (Cluster + reply senders) ──Io──▶ sockets
//!    │                        ▲  │    ▲  connected / received / closed (direct calls)  │
//!    └──Submit, loop free─────┘  │    └────────────────────────────────────────────────┘
//!    ▲                           │  run by the loop's task, or by a lone caller's own task
//!    └──────── oneshot ◀─────────┘  (which its reply's socket event then wakes directly)
//! ```

mod baton;
mod come_back;
pub(crate) mod drive;
mod driver;
mod event_loop;
mod gather;
mod runtime;
mod trust;

pub use crate::tls::{TlsTarget, server_name};
pub use driver::{Driver, Flow, Inbox, Io, Msg, PIPELINE_WINDOW, Ready, ReplySender};
pub use event_loop::start;
pub use runtime::{ConnRead, ConnWrite, Runtime};
