//! # slotwise-tokio
//!
//! A Redis Cluster client on tokio: the slotwise core driven over tokio sockets, with
//! `tokio-rustls` for TLS. This crate only opens connections; routing, redirects, retries,
//! deadlines and topology refresh happen in the sans-IO core (`slotwise-cluster`), and the handle,
//! configuration and conversions come from `slotwise-client`.
//!
//! - [`Client::connect`] with a [`ClientConfig`]: one seed (`"localhost:7000"`, a configuration
//!   endpoint) is enough; it returns once the cluster's topology is known.
//! - The client derefs to [`Handle`]: [`Handle::cmd`], [`Handle::send`] (a [`Request`] with its
//!   own deadline and `idempotent` flag), [`Handle::query`] (a [`FromFrame`] type), typed helpers
//!   ([`get`](prelude::StringCommands::get), [`set`](prelude::StringCommands::set), [`incr`](prelude::StringCommands::incr) …) and [`Handle::shutdown`].
//! - Clones are cheap and share one connection per node; use them from any number of tasks.
//!
//! One tokio task on the runtime that called `connect` runs the driver loop, which polls every
//! connection's reads, writes and connects itself; while the loop is free and one request is all
//! that waits, the awaiting task runs it instead (its request is written, and its reply read, on
//! its own task, with no hop through the driver task).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod runtime;

use std::ops::Deref;

pub use slotwise_client::{
    AddressRemap, Args, Auth, ClientConfig, Cmd, Credentials, CredentialsProvider, Deployment,
    Dial, DownCause, Endpoint, Error, Frame, FromFrame, Handle, Message, MessageKind, PartFailure,
    Pending, Pipeline, Protocol, PubSubEvent, ReadFrom, Remap, Request, RequestError, Result, Run,
    RunCmd, SUBSCRIBER_BUFFER, Scan, Script, ServerError, Stats, StreamEntry, StreamReads,
    Subscriber, SubscriptionKind, Target, TlsOptions, ToArgs, Topology, Transaction, commands,
    prelude,
};

/// A Redis Cluster client on tokio.
///
/// ```no_run
/// use slotwise_tokio::{prelude::*, Client, ClientConfig, Request};
/// use std::time::Duration;
///
/// # async fn example() -> Result<(), slotwise_tokio::Error> {
/// let client = Client::connect(ClientConfig::new(["localhost:7000"])?).await?;
/// client.set("user:1", "ada").await?;
/// let name: Option<String> = client.query(["GET", "user:1"]).await?;
/// let visits = client.incr("visits").await?;
/// // A request with its own deadline, safe to retry if its connection dies:
/// client.send(Request::new(["SET", "k", "v"]).idempotent().timeout(Duration::from_secs(2))).await?;
/// client.shutdown().await;
/// # let _ = (name, visits);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Client {
    handle: Handle,
}

impl Client {
    /// Starts a client on the current tokio runtime and waits until the cluster's topology is
    /// known. Fails with [`Error::Request`]`(`[`RequestError::Auth`]`)` if the credentials are
    /// refused, [`Error::Connect`] if no seed gave a topology within
    /// [`ClientConfig::connect_wait`], [`Error::Tls`] for unusable TLS files.
    pub async fn connect(config: ClientConfig) -> Result<Client> {
        let rt = tokio::runtime::Handle::try_current()
            .map_err(|_| Error::Config("Client::connect must run inside a tokio runtime".into()))?;
        let handle = slotwise_client::adapter::start(runtime::Tokio(rt), &config).await?;
        Ok(Client { handle })
    }

    /// The runtime-independent handle (what this client derefs to).
    #[must_use]
    pub fn handle(&self) -> &Handle {
        &self.handle
    }
}

impl Deref for Client {
    type Target = Handle;
    fn deref(&self) -> &Handle {
        &self.handle
    }
}

impl From<Client> for Handle {
    fn from(c: Client) -> Handle {
        c.handle
    }
}

/// The workspace README's Rust example, compiled as a doctest so it stays true.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeDoctests;
