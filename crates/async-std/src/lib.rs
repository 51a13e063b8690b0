//! # slotwise-async-std
//!
//! A Redis Cluster client for async code outside tokio: written on `futures-io`, `async-io`,
//! `async-net` and `futures-rustls`, so it runs under async-std (discontinued upstream, still
//! widely used), smol, or any other executor.
//!
//! This crate only opens connections; routing, redirects, retries, deadlines and topology refresh
//! happen in the sans-IO core (`slotwise-cluster`), and the handle, configuration and conversions
//! come from `slotwise-client`.
//!
//! - [`Client::connect`] with a [`ClientConfig`]: one seed is enough; it returns once the
//!   cluster's topology is known.
//! - The client derefs to [`Handle`]: [`Handle::cmd`], [`Handle::send`] (a [`Request`] with its
//!   own deadline and `idempotent` flag), [`Handle::query`] (a [`FromFrame`] type), typed helpers
//!   ([`get`](prelude::StringCommands::get), [`set`](prelude::StringCommands::set), [`incr`](prelude::StringCommands::incr) …) and [`Handle::shutdown`].
//! - Clones are cheap and share one connection per node; use them from any number of tasks.
//!
//! ## Where the client's tasks run
//!
//! Each client's driver task (which also polls every connection's reads, writes and connects) runs
//! on a small executor of this crate's own (one thread, `slotwise-async`, shared by every client in
//! the process), with async-io's reactor.
//! So the client works the same whichever executor the application uses, never blocks it, and
//! needs no runtime handle. The application's futures (`client.get(..).await`) are channel
//! receives; while the loop is free and one request is all that waits, the awaiting task runs
//! the loop itself (its request is written, and its reply read, on its own task).
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

/// A Redis Cluster client for async-std, smol and other `futures-io` executors.
///
/// ```no_run
/// use slotwise_async_std::{prelude::*, Client, ClientConfig, Request};
/// use std::time::Duration;
///
/// # async fn example() -> Result<(), slotwise_async_std::Error> {
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
/// // Under smol: smol::block_on(example()); under async-std: async_std::task::block_on(example()).
/// ```
#[derive(Clone, Debug)]
pub struct Client {
    handle: Handle,
}

impl Client {
    /// Starts a client and waits until the cluster's topology is known. Fails with
    /// [`Error::Request`]`(`[`RequestError::Auth`]`)` if the credentials are refused,
    /// [`Error::Connect`] if no seed gave a topology within [`ClientConfig::connect_wait`],
    /// [`Error::Tls`] for unusable TLS files.
    pub async fn connect(config: ClientConfig) -> Result<Client> {
        if let Err(e) = runtime::executor() {
            return Err(Error::Io {
                context: "starting the slotwise-async executor thread".into(),
                source: std::io::Error::new(e.kind(), e.to_string()),
            });
        }
        let handle = slotwise_client::adapter::start(runtime::AsyncIo::Shared, &config).await?;
        Ok(Client { handle })
    }

    /// Like [`Client::connect`], but this client's driver loop runs on a thread of its own
    /// (`slotwise-driver`), which also drives async-io's reactor while it waits: the lowest latency
    /// for a client called from plain threads (what `slotwise-blocking` uses), at the cost of one
    /// thread per client.
    pub async fn connect_on_own_thread(config: ClientConfig) -> Result<Client> {
        let handle = slotwise_client::adapter::start(runtime::AsyncIo::OwnThread, &config).await?;
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
