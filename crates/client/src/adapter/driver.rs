//! [`Driver`]: the cluster core plus what every adapter needs around it — the clock origin, the
//! reply senders, a byte channel per connection, connect bookkeeping and tracing. Adapters only
//! open connections and move messages.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant as StdInstant};

use bytes::Bytes;
use futures_channel::{mpsc, oneshot};
use slotwise_cluster::{
    Cluster, ConnId, Endpoint, Frame, Input, Instant, Output, Request, RequestError, RequestId,
    SessionId, Stats,
};

use crate::tls::{TlsTarget, server_name};
use crate::{ClientConfig, Error, trace};

/// Where a request's outcome goes.
pub type ReplySender = oneshot::Sender<Result<Frame, RequestError>>;

/// A message to the driver: from the application (through a [`Handle`](crate::Handle)) or from
/// whatever does a connection's I/O (the async loop, or the blocking adapter's threads).
#[derive(Debug)]
#[non_exhaustive]
pub enum Msg {
    /// Run a request; its outcome goes to `reply`.
    Submit {
        /// The request.
        request: Request,
        /// Where the outcome goes.
        reply: ReplySender,
    },
    /// Run a request that may block (see [`Request::blocks`]); `token` names it for
    /// [`Msg::Cancel`].
    SubmitCancellable {
        /// The request.
        request: Request,
        /// Where the outcome goes.
        reply: ReplySender,
        /// The caller's name for it.
        token: u64,
    },
    /// The caller gave up on the request `token` (its future was dropped): a blocking command
    /// still running ends, and its connection closes.
    Cancel {
        /// The caller's name for it.
        token: u64,
    },
    /// Open a session (a connection of its own, for a transaction) for `slot`; `token` names it.
    OpenSession {
        /// The caller's name for the session.
        token: u64,
        /// The slot of its keys, if known.
        slot: Option<u16>,
    },
    /// Run a request in session `token`.
    SubmitIn {
        /// The session.
        token: u64,
        /// The request.
        request: Request,
        /// Where the outcome goes.
        reply: ReplySender,
    },
    /// Close session `token`: its connection goes back to the pool, clean.
    CloseSession {
        /// The session.
        token: u64,
    },
    /// Tell `done` at `until` (a timer for code that has no runtime of its own, such as the
    /// transaction helper's backoff).
    Delay {
        /// When.
        until: StdInstant,
        /// Told then.
        done: oneshot::Sender<()>,
    },
    /// Send the core's counters, as of now, to `reply`.
    Stats {
        /// Where they go.
        reply: oneshot::Sender<Stats>,
    },
    /// Stop: pending requests end with [`Error::Closed`], connections close; then `done` fires.
    Shutdown {
        /// Told when the driver has stopped.
        done: Option<oneshot::Sender<()>>,
    },
    /// The connection from a [`ConnectJob`] is established (TLS included).
    Connected {
        /// The connection.
        conn: ConnId,
    },
    /// The connection from a [`ConnectJob`] could not be established.
    ConnectFailed {
        /// The connection.
        conn: ConnId,
        /// Why (shown in logs and in [`Error::Connect`]).
        error: String,
    },
    /// Bytes arrived.
    Received {
        /// The connection.
        conn: ConnId,
        /// The bytes.
        bytes: Bytes,
    },
    /// The connection closed (end of stream, or a read or write error).
    Closed {
        /// The connection.
        conn: ConnId,
        /// The error, if it was one.
        error: Option<String>,
    },
}

/// The sending side of the driver's inbox.
pub type Inbox = mpsc::UnboundedSender<Msg>;

/// A connection the adapter must open: connect to `endpoint` within `timeout` (resolving the
/// host; trying each address), do TLS with `tls` if set, then send [`Msg::Connected`] (or
/// [`Msg::ConnectFailed`]) to `inbox`. Afterwards write every chunk from `outgoing` in order, and
/// send what it reads as [`Msg::Received`]; on end of stream or an error send [`Msg::Closed`].
/// When `outgoing` ends (the core closed the connection), close the socket and stop reading.
#[derive(Debug)]
#[non_exhaustive]
pub struct ConnectJob {
    /// The connection's id.
    pub conn: ConnId,
    /// Where to connect.
    pub endpoint: Endpoint,
    /// TLS, with the name to verify.
    pub tls: Option<TlsTarget>,
    /// How long connecting (TCP and TLS) may take.
    pub timeout: Duration,
    /// The bytes to write.
    pub outgoing: mpsc::UnboundedReceiver<Bytes>,
    /// Where to report.
    pub inbox: Inbox,
}

/// Whether the driver loop goes on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Flow {
    /// Keep going.
    Continue,
    /// Stop: call [`Driver::shutdown`].
    Stop,
}

struct Bootstrap {
    ready: oneshot::Sender<Result<(), Error>>,
    deadline: StdInstant,
    last_error: Option<String>,
}

struct Conn {
    endpoint: Endpoint,
    /// `None` until the connection is established is not needed: bytes queue in the channel.
    tx: mpsc::UnboundedSender<Bytes>,
}

/// What [`Driver::poll_io`] hands a loop that owns the sockets itself.
#[derive(Debug)]
pub(crate) enum ConnIo {
    /// Write these bytes (after whatever is queued for the connection).
    Transmit { conn: ConnId, bytes: Bytes },
    /// The core closed the connection: close its socket.
    Close { conn: ConnId },
}

/// Resolves when `connect` may return: the first topology is known (`Ok`), or discovery failed.
pub type Ready = oneshot::Receiver<Result<(), Error>>;

/// The runtime-independent half of every adapter's driver loop.
///
/// A loop (a task, or a thread for the blocking adapter) owns it and repeats:
/// 1. [`Driver::poll`]: drains the core — replies go to their callers, events to `tracing`,
///    transmits and closes to the connections' byte channels — and returns the connections to open
///    (as [`ConnectJob`]s) and the next deadline;
/// 2. waits for the first of a message from the inbox and that deadline;
/// 3. feeds it with [`Driver::handle`] or [`Driver::tick`].
///
/// On [`Flow::Stop`] (or when the loop ends for any reason) it calls [`Driver::shutdown`].
pub struct Driver {
    cluster: Cluster,
    origin: StdInstant,
    pending: HashMap<RequestId, ReplySender>,
    /// Blocking requests by the caller's token, for [`Msg::Cancel`].
    cancellable: HashMap<u64, RequestId>,
    sessions: HashMap<u64, SessionId>,
    delays: BinaryHeap<Reverse<(StdInstant, u64)>>,
    delay_senders: HashMap<u64, oneshot::Sender<()>>,
    next_delay: u64,
    conns: HashMap<ConnId, Conn>,
    tls: Option<Arc<rustls::ClientConfig>>,
    connect_timeout: Duration,
    seeds: Vec<Endpoint>,
    bootstrap: Option<Bootstrap>,
    inbox: Inbox,
    core_deadline: Option<Instant>,
    done: Vec<oneshot::Sender<()>>,
    /// Every event of this client is inside it (a no-op without a subscriber).
    span: tracing::Span,
}

impl std::fmt::Debug for Driver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driver")
            .field("cluster", &self.cluster)
            .field("pending", &self.pending.len())
            .field("conns", &self.conns.len())
            .finish_non_exhaustive()
    }
}

impl Driver {
    /// A driver for `config`, reporting to `inbox` (whose receiving end the loop reads), and the
    /// [`Ready`] signal `connect` waits for. TLS files are read here, so their errors come now.
    pub fn new(config: &ClientConfig, inbox: Inbox) -> Result<(Driver, Ready), Error> {
        let tls = config
            .tls
            .as_ref()
            .map(crate::TlsOptions::build)
            .transpose()?;
        let core = config.core_config();
        if core.seeds.is_empty() {
            return Err(Error::Config("no seed given".into()));
        }
        let origin = StdInstant::now();
        let (ready_tx, ready_rx) = oneshot::channel();
        let mut core = core;
        if core.rng_seed == slotwise_cluster::Config::new([]).rng_seed {
            // Different clients should not jitter in lockstep.
            core.rng_seed ^= random_seed();
        }
        let seeds = core.seeds.clone();
        let connect_timeout = core.connect_timeout;
        let span = tracing::info_span!(
            target: "slotwise",
            "slotwise_client",
            seed = %seeds.first().map(ToString::to_string).unwrap_or_default(),
        );
        span.in_scope(|| {
            tracing::debug!(target: "slotwise", seeds = ?seeds, tls = tls.is_some(), "starting");
        });
        let driver = Driver {
            cluster: Cluster::new(core, Instant::ZERO),
            origin,
            pending: HashMap::new(),
            cancellable: HashMap::new(),
            sessions: HashMap::new(),
            delays: BinaryHeap::new(),
            delay_senders: HashMap::new(),
            next_delay: 0,
            conns: HashMap::new(),
            tls,
            connect_timeout,
            seeds,
            bootstrap: Some(Bootstrap {
                ready: ready_tx,
                deadline: origin + config.connect_wait,
                last_error: None,
            }),
            inbox,
            core_deadline: None,
            done: Vec::new(),
            span,
        };
        Ok((driver, ready_rx))
    }

    /// Now, in the core's time.
    fn now(&self) -> Instant {
        let micros = self.origin.elapsed().as_micros();
        Instant::from_micros(u64::try_from(micros).unwrap_or(u64::MAX))
    }

    /// Feeds one message. Call [`Driver::poll`] afterwards (after a batch of messages is fine).
    pub fn handle(&mut self, msg: Msg) -> Flow {
        let span = self.span.clone();
        let _entered = span.enter();
        let now = self.now();
        match msg {
            Msg::Submit { request, reply } => {
                if reply.is_canceled() {
                    return Flow::Continue;
                }
                let id = self.cluster.submit(now, request);
                self.pending.insert(id, reply);
            }
            Msg::SubmitCancellable {
                request,
                reply,
                token,
            } => {
                if reply.is_canceled() {
                    return Flow::Continue;
                }
                let id = self.cluster.submit(now, request);
                self.pending.insert(id, reply);
                if self.pending.contains_key(&id) {
                    self.cancellable.insert(token, id);
                }
            }
            Msg::Cancel { token } => {
                if let Some(id) = self.cancellable.remove(&token) {
                    self.cluster.cancel(now, id);
                }
            }
            Msg::OpenSession { token, slot } => {
                let session = self.cluster.open_session(now, slot);
                self.sessions.insert(token, session);
            }
            Msg::SubmitIn {
                token,
                request,
                reply,
            } => {
                let Some(&session) = self.sessions.get(&token) else {
                    return Flow::Continue; // `reply` dropped: Error::Closed
                };
                let id = self.cluster.submit_in(now, session, request);
                self.pending.insert(id, reply);
            }
            Msg::CloseSession { token } => {
                if let Some(session) = self.sessions.remove(&token) {
                    self.cluster.close_session(now, session);
                }
            }
            Msg::Delay { until, done } => {
                self.next_delay += 1;
                self.delays.push(Reverse((until, self.next_delay)));
                self.delay_senders.insert(self.next_delay, done);
            }
            Msg::Stats { reply } => {
                let _ = reply.send(self.cluster.stats());
            }
            Msg::Shutdown { done } => {
                self.done.extend(done);
                return Flow::Stop;
            }
            Msg::Connected { conn } => {
                if let Some(c) = self.conns.get(&conn) {
                    tracing::debug!(target: "slotwise", %conn, endpoint = %c.endpoint, "connected");
                }
                self.cluster.handle_input(Input::Connected { conn, now });
            }
            Msg::ConnectFailed { conn, error } => {
                if let Some(c) = self.conns.remove(&conn) {
                    tracing::warn!(target: "slotwise", %conn, endpoint = %c.endpoint, %error, "connect failed");
                    if let Some(b) = &mut self.bootstrap {
                        b.last_error = Some(format!("{}: {error}", c.endpoint));
                    }
                }
                self.cluster
                    .handle_input(Input::ConnectFailed { conn, now });
            }
            Msg::Received { conn, bytes } => {
                self.cluster.handle_input(Input::Received {
                    conn,
                    bytes: &bytes,
                    now,
                });
            }
            Msg::Closed { conn, error } => {
                if let Some(c) = self.conns.remove(&conn) {
                    let error = error.as_deref().unwrap_or("closed by the server");
                    tracing::info!(target: "slotwise", %conn, endpoint = %c.endpoint, %error, "connection lost");
                    if let Some(b) = &mut self.bootstrap {
                        b.last_error = Some(format!("{}: {error}", c.endpoint));
                    }
                }
                self.cluster.handle_input(Input::Closed { conn, now });
            }
        }
        Flow::Continue
    }

    /// The deadline from the last [`Driver::poll`] has come (early or late calls are harmless).
    pub fn tick(&mut self) {
        let span = self.span.clone();
        let _entered = span.enter();
        let now = self.now();
        self.cluster.handle_input(Input::Timeout { now });
        let wall = StdInstant::now();
        while let Some(&Reverse((at, n))) = self.delays.peek() {
            if at > wall {
                break;
            }
            self.delays.pop();
            if let Some(done) = self.delay_senders.remove(&n) {
                let _ = done.send(());
            }
        }
        if let Some(b) = self.bootstrap.take_if(|b| StdInstant::now() >= b.deadline) {
            let message = b
                .last_error
                .unwrap_or_else(|| "no node answered with a topology in time".into());
            let _ = b.ready.send(Err(Error::Connect {
                seeds: self.seeds.clone(),
                message,
            }));
        }
    }

    /// Drains the core: delivers replies, logs events, queues transmits and closes; appends the
    /// connections to open to `jobs` and returns when to call [`Driver::tick`] next.
    #[must_use = "the deadline says when to tick"]
    pub fn poll(&mut self, jobs: &mut Vec<ConnectJob>) -> Option<StdInstant> {
        self.poll_inner(jobs, None)
    }

    /// Like [`Driver::poll`], but transmits and closes go to `io` instead of the connections' byte
    /// channels (for a loop that owns the sockets; the jobs' `outgoing` channels stay unused).
    pub(crate) fn poll_io(
        &mut self,
        jobs: &mut Vec<ConnectJob>,
        io: &mut Vec<ConnIo>,
    ) -> Option<StdInstant> {
        self.poll_inner(jobs, Some(io))
    }

    /// Bytes arrived on `conn` (what [`Msg::Received`] does, without the copy into [`Bytes`]).
    pub(crate) fn received(&mut self, conn: ConnId, bytes: &[u8]) {
        let span = self.span.clone();
        let _entered = span.enter();
        let now = self.now();
        self.cluster
            .handle_input(Input::Received { conn, bytes, now });
    }

    fn poll_inner(
        &mut self,
        jobs: &mut Vec<ConnectJob>,
        mut io: Option<&mut Vec<ConnIo>>,
    ) -> Option<StdInstant> {
        let span = self.span.clone();
        let _entered = span.enter();
        loop {
            match self.cluster.poll_output() {
                Output::Connect {
                    conn,
                    endpoint,
                    tls_server_name,
                } => self.connect(conn, endpoint, tls_server_name, jobs),
                Output::Transmit { conn, bytes } => {
                    if let Some(c) = self.conns.get(&conn) {
                        match io.as_deref_mut() {
                            Some(io) => io.push(ConnIo::Transmit { conn, bytes }),
                            None => {
                                let _ = c.tx.unbounded_send(bytes);
                            }
                        }
                    }
                }
                Output::Close { conn } => {
                    if let Some(c) = self.conns.remove(&conn) {
                        tracing::debug!(target: "slotwise", %conn, endpoint = %c.endpoint, "closing");
                        if let Some(io) = io.as_deref_mut() {
                            io.push(ConnIo::Close { conn });
                        }
                    }
                }
                Output::Reply { id, result } => {
                    if let Some(tx) = self.pending.remove(&id) {
                        let _ = tx.send(result);
                    }
                    if !self.cancellable.is_empty() {
                        self.cancellable.retain(|_, r| *r != id);
                    }
                }
                Output::Event(event) => {
                    trace::event(&event);
                    self.on_event(&event);
                }
                Output::Timeout(at) => {
                    self.core_deadline = Some(at);
                    break;
                }
                Output::Idle => {
                    self.core_deadline = None;
                    break;
                }
                _ => {}
            }
        }
        let core = self
            .core_deadline
            .filter(|&at| at != Instant::MAX)
            .and_then(|at| {
                self.origin
                    .checked_add(Duration::from_micros(at.as_micros()))
            });
        let boot = self.bootstrap.as_ref().map(|b| b.deadline);
        let delay = self.delays.peek().map(|Reverse((at, _))| *at);
        [core, boot, delay].into_iter().flatten().min()
    }

    fn connect(
        &mut self,
        conn: ConnId,
        endpoint: Endpoint,
        server: Option<String>,
        jobs: &mut Vec<ConnectJob>,
    ) {
        tracing::debug!(target: "slotwise", %conn, %endpoint, tls_server_name = server.as_deref(), "connecting");
        let tls = match (&self.tls, server) {
            (None, _) => None,
            (Some(config), name) => {
                let name = name.unwrap_or_else(|| endpoint.host.clone());
                match server_name(&name) {
                    Ok(server_name) => Some(TlsTarget {
                        config: config.clone(),
                        server_name,
                    }),
                    Err(e) => {
                        let _ = self.inbox.unbounded_send(Msg::ConnectFailed {
                            conn,
                            error: e.to_string(),
                        });
                        None
                    }
                }
            }
        };
        let (tx, rx) = mpsc::unbounded();
        self.conns.insert(
            conn,
            Conn {
                endpoint: endpoint.clone(),
                tx,
            },
        );
        if self.tls.is_some() && tls.is_none() {
            return; // reported as failed above
        }
        jobs.push(ConnectJob {
            conn,
            endpoint,
            tls,
            timeout: self.connect_timeout,
            outgoing: rx,
            inbox: self.inbox.clone(),
        });
    }

    fn on_event(&mut self, event: &slotwise_cluster::Event) {
        use slotwise_cluster::Event;
        match event {
            Event::TopologyChanged { .. } => {
                if let Some(b) = self.bootstrap.take() {
                    let _ = b.ready.send(Ok(()));
                }
            }
            Event::AuthFailed { endpoint, message } => {
                if let Some(b) = self.bootstrap.take() {
                    let _ = b.ready.send(Err(Error::Request(RequestError::Auth {
                        node: endpoint.clone(),
                        message: message.clone(),
                    })));
                }
            }
            _ => {}
        }
    }

    /// Stops: every pending request ends with [`Error::Closed`] (its sender is dropped), every
    /// connection's byte channel closes (its writer closes the socket), a waiting `connect` fails,
    /// and shutdown waiters are told.
    pub fn shutdown(&mut self) {
        let _entered = self.span.clone().entered();
        tracing::debug!(target: "slotwise", pending = self.pending.len(), "shutting down");
        self.pending.clear();
        self.delay_senders.clear();
        self.conns.clear();
        if let Some(b) = self.bootstrap.take() {
            let _ = b.ready.send(Err(Error::Closed));
        }
        for done in self.done.drain(..) {
            let _ = done.send(());
        }
    }
}

/// A seed for the core's jitter that differs between clients and runs (not for cryptography).
fn random_seed() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(StdInstant::now())
}
