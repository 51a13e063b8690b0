//! # slotwise-blocking
//!
//! A Redis Cluster client for synchronous code: calls park the calling thread until their outcome.
//! No async runtime to set up: the slotwise driver loop runs on a thread of its own.
//!
//! This crate only opens connections; routing, redirects, retries, deadlines and topology refresh
//! happen in the sans-IO core (`slotwise-cluster`), and the handle, configuration and conversions
//! come from `slotwise-client`.
//!
//! - [`Client::connect`] with a [`ClientConfig`]: one seed is enough; it returns once the
//!   cluster's topology is known.
//! - [`Client::cmd`], [`Client::send`] (a [`Request`] with its own deadline and `idempotent` flag),
//!   [`Client::query`] (a [`FromFrame`] type), typed helpers ([`get`](prelude::StringCommands::get), [`set`](prelude::StringCommands::set),
//!   [`incr`](prelude::StringCommands::incr) …), [`Client::submit`] to pipeline, [`Client::shutdown`].
//! - `Client` is `Clone + Send + Sync`: share it between threads; all of them are multiplexed over
//!   one connection per node. Blocking commands (`BLPOP` …) get a connection of their own from a
//!   small per-node pool; transactions run through [`Client::transaction`] or a [`Transaction`].
//!
//! ## Threads
//!
//! The client runs the same driver loop as the async adapters, on a thread of its own
//! (`slotwise-driver`, from `slotwise-async-std`), which also drives the async-io reactor while it
//! waits: connections need no threads of their own. A call made while the loop is free and
//! nothing else waits runs the loop on the calling thread: it writes its request itself, and the
//! reactor thread wakes it when the reply arrives (one thread hop); otherwise the caller hands
//! the request to the loop and is woken with its outcome. Calls park the calling thread; do not
//! call them from inside an async task (use `slotwise-tokio` or `slotwise-async-std` there).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod transaction;

pub use transaction::Transaction;

use std::time::Duration;

use futures_lite::future::block_on;
use slotwise_client::bytes::Bytes;
use slotwise_client::resp::Arg;

pub use slotwise_client::{
    AddressRemap, Args, Auth, ClientConfig, Cmd, Credentials, CredentialsProvider, Deployment,
    Dial, DownCause, Endpoint, Error, Frame, FromFrame, Handle, Message, MessageKind, PartFailure,
    Pending, Pipeline, Protocol, PubSubEvent, ReadFrom, Remap, Request, RequestError, Result, Run,
    RunCmd, SUBSCRIBER_BUFFER, Scan, Script, ServerError, Stats, StreamEntry, StreamReads,
    Subscriber, SubscriptionKind, Target, TlsOptions, ToArgs, Topology, commands, prelude,
};

/// A Redis Cluster client for synchronous code.
///
/// ```no_run
/// use slotwise_blocking::{prelude::*, Client, ClientConfig, Request};
/// use std::time::Duration;
///
/// let client = Client::connect(ClientConfig::new(["localhost:7000"])?)?;
/// client.set("user:1", "ada")?;
/// let name: Option<String> = client.query(["GET", "user:1"])?;
/// let visits = client.incr("visits")?;
/// // A request with its own deadline, safe to retry if its connection dies:
/// client.send(Request::new(["SET", "k", "v"]).idempotent().timeout(Duration::from_secs(2)))?;
/// // Pipelining: submit several, then wait for each.
/// let pending: Vec<_> = (0..10).map(|i| client.submit(Request::new(["INCR", "n"]))).collect();
/// for p in pending { p.wait()?; }
/// client.shutdown();
/// # let _ = (name, visits);
/// # Ok::<(), slotwise_blocking::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Client {
    handle: Handle,
}

/// The typed helpers ([`prelude`]) run here and give their result.
impl RunCmd for Client {
    type Out<T> = Result<T>;

    fn run<T>(&self, cmd: Cmd<T>) -> Result<T> {
        self.handle.run(cmd).wait()
    }
}

impl Client {
    /// Starts a client (its driver thread) and waits until the cluster's
    /// topology is known. Fails with [`Error::Request`]`(`[`RequestError::Auth`]`)` if the
    /// credentials are refused, [`Error::Connect`] if no seed gave a topology within
    /// [`ClientConfig::connect_wait`], [`Error::Tls`] for unusable TLS files.
    pub fn connect(config: ClientConfig) -> Result<Client> {
        let client = block_on(slotwise_async_std::Client::connect_on_own_thread(config))?;
        Ok(Client {
            handle: client.into(),
        })
    }

    /// The runtime-independent handle (its futures may also be awaited from async code).
    #[must_use]
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Submits `request` and returns at once; [`Pending::wait`] gives the outcome. Submitting
    /// several before waiting pipelines them.
    pub fn submit(&self, request: Request) -> Pending {
        self.handle.submit(request)
    }

    /// Runs `request` (with its own `idempotent` flag and deadline) and returns the reply.
    pub fn send(&self, request: Request) -> Result<Frame> {
        self.handle.submit(request).wait()
    }

    /// Runs `request` and converts the reply.
    pub fn send_as<T: FromFrame>(&self, request: Request) -> Result<T> {
        block_on(self.handle.send_as(request))
    }

    /// Runs a command given as its arguments, name first: `["SET", "k", "v"]`.
    pub fn cmd<I>(&self, args: I) -> Result<Frame>
    where
        I: IntoIterator,
        I::IntoIter: ExactSizeIterator + Clone,
        I::Item: Arg,
    {
        self.send(Request::new(args))
    }

    /// Runs a command given as its arguments and converts the reply.
    pub fn query<T, I>(&self, args: I) -> Result<T>
    where
        T: FromFrame,
        I: IntoIterator,
        I::IntoIter: ExactSizeIterator + Clone,
        I::Item: Arg,
    {
        self.send_as(Request::new(args))
    }

    /// A new [`Subscriber`] (pub/sub): subscribe on it, then [`Subscriber::recv`] or
    /// [`Subscriber::recv_timeout`] its messages and events.
    #[must_use]
    pub fn subscriber(&self) -> Subscriber {
        self.handle.subscriber()
    }

    /// A [`Pipeline`]: add commands, then [`Pipeline::wait`] for every outcome, in order.
    pub fn pipeline(&self) -> Pipeline {
        self.handle.pipeline()
    }

    /// A cluster-wide `SCAN` over every shard, as an iterator of keys (each step parks the
    /// calling thread): see [`Scan`] for `MATCH`/`COUNT`/`TYPE` and the guarantee.
    pub fn scan(&self, scan: impl FnOnce(Scan) -> Scan) -> ScanIter {
        ScanIter {
            scan: scan(self.handle.scan()),
            batch: Vec::new().into_iter(),
        }
    }

    /// Runs `request` on the node `target` names (see [`Handle::send_to`]).
    pub fn send_to(&self, target: Target, request: Request) -> Result<Frame> {
        self.handle.submit_to(target, request).wait()
    }

    /// The topology the client routes by: shards, primaries, replicas, node ids, slots.
    pub fn topology(&self) -> Result<Topology> {
        block_on(self.handle.topology())
    }

    /// `PING` on one node (see [`Handle::ping`]).
    pub fn ping(&self) -> Result<()> {
        block_on(self.handle.ping())
    }

    /// `PING` on every node: each endpoint with its round trip time or error.
    pub fn ping_all(&self) -> Result<Vec<(Endpoint, Result<Duration>)>> {
        block_on(self.handle.ping_all())
    }

    /// `DBSIZE`, summed over every primary.
    pub fn dbsize(&self) -> Result<u64> {
        block_on(self.handle.dbsize())
    }

    /// `MGET` of keys in any slots: the values in the order of `keys`.
    pub fn mget<K: AsRef<[u8]>>(
        &self,
        keys: impl IntoIterator<Item = K>,
    ) -> Result<Vec<Option<Bytes>>> {
        block_on(self.handle.mget(keys))
    }

    /// True once the client is shut down.
    #[must_use]
    pub fn is_closed(&self) -> bool {
        self.handle.is_closed()
    }

    /// The core's counters as of now (see [`Stats`]); [`Error::Closed`] once shut down.
    pub fn stats(&self) -> Result<Stats> {
        block_on(self.handle.stats())
    }

    /// Stops the client: the driver stops, connections close, pending requests and later calls
    /// (through any clone) end with [`Error::Closed`]. Returns once the driver has stopped.
    pub fn shutdown(&self) {
        block_on(self.handle.shutdown());
    }
}

/// The keys of a cluster-wide `SCAN`, from [`Client::scan`]. An error ends the iteration after it
/// is yielded; [`ScanIter::cursor`] tells where to resume.
#[derive(Debug)]
pub struct ScanIter {
    scan: Scan,
    batch: std::vec::IntoIter<Bytes>,
}

impl ScanIter {
    /// Where the walk stands (for [`Handle::scan_from`]).
    #[must_use]
    pub fn cursor(&self) -> &[u8] {
        self.scan.cursor()
    }
}

impl Iterator for ScanIter {
    type Item = Result<Bytes>;

    fn next(&mut self) -> Option<Result<Bytes>> {
        loop {
            if let Some(key) = self.batch.next() {
                return Some(Ok(key));
            }
            match block_on(self.scan.next_batch()) {
                Ok(Some(keys)) => self.batch = keys.into_iter(),
                Ok(None) => return None,
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

impl From<Client> for Handle {
    fn from(c: Client) -> Handle {
        c.handle
    }
}
