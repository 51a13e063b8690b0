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
    Cluster, ConnId, Endpoint, Frame, Input, Instant, Output, PubSubEvent, Request, RequestError,
    RequestId, SessionId, Stats, SubscriberId, SubscriptionKind, Target, Topology,
};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::tls::{TlsTarget, server_name};
use crate::{ClientConfig, Error, trace};

/// Where a request's outcome goes.
pub type ReplySender = oneshot::Sender<Result<Frame, RequestError>>;

/// The most requests of one pipeline in the core at once (less if
/// [`Config::queue_bound`](slotwise_cluster::Config::queue_bound) is under twice this).
pub const PIPELINE_WINDOW: usize = 4096;

/// Who waits for a request's outcome.
enum Waiter {
    One(ReplySender),
    /// Command `index` of pipeline `batch`.
    Batch {
        batch: u64,
        index: usize,
    },
}

/// A pipeline in the driver.
struct Batch {
    outcomes: Vec<Option<Result<Frame, RequestError>>>,
    /// Not submitted yet (after `next`).
    unsent: std::vec::IntoIter<Request>,
    next: usize,
    in_core: usize,
    left: usize,
    reply: oneshot::Sender<Vec<Result<Frame, RequestError>>>,
}

/// Request ids are sequential: hashing them is wasted work.
#[derive(Default, Clone, Copy)]
struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type IdMap<V> = HashMap<RequestId, V, std::hash::BuildHasherDefault<IdHasher>>;

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
        /// For a request that may block ([`Request::blocks`]): the caller's name for it, for
        /// [`Msg::Cancel`].
        cancel: Option<u64>,
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
    /// Run `requests` as a pipeline: all of them, each routed, redirected and retried on its
    /// own; their outcomes go to `reply` together, in order. At most [`PIPELINE_WINDOW`] of them
    /// are in the core at once (the rest wait in the driver), so a huge pipeline neither fills
    /// the nodes' queues nor fails with `QueueFull`.
    Pipeline {
        /// The commands, in order.
        requests: Vec<Request>,
        /// Where the outcomes go.
        reply: oneshot::Sender<Vec<Result<Frame, RequestError>>>,
    },
    /// Run `request` on the node `target` names (see [`Cluster::submit_to`]).
    SubmitTo {
        /// The request.
        request: Request,
        /// The node.
        target: Target,
        /// Where the outcome goes.
        reply: ReplySender,
    },
    /// Send the topology the core routes by (`None` before the first) to `reply`.
    Topology {
        /// Where it goes.
        reply: oneshot::Sender<Option<Topology>>,
    },
    /// Open a subscriber named `token`: its messages and events go to `sink` (full: dropped and
    /// counted in `dropped`); the driver's clock origin goes to `origin`.
    OpenSubscriber {
        /// The caller's name for it.
        token: u64,
        /// Where its messages and events go.
        sink: mpsc::Sender<PubSubEvent>,
        /// Counts what did not fit in `sink`.
        dropped: Arc<AtomicU64>,
        /// Told the driver's clock origin.
        origin: std::sync::mpsc::Sender<StdInstant>,
    },
    /// Subscribe (or, with `subscribe` false, unsubscribe) subscriber `token` to `channels`.
    Subscription {
        /// The subscriber.
        token: u64,
        /// The kind of subscription.
        kind: SubscriptionKind,
        /// Channels or patterns (empty with `subscribe` false: all of that kind).
        channels: Vec<Bytes>,
        /// Subscribe or unsubscribe.
        subscribe: bool,
    },
    /// Close subscriber `token`: its subscriptions go.
    CloseSubscriber {
        /// The subscriber.
        token: u64,
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
}

/// The sending side of the driver's inbox.
pub type Inbox = mpsc::UnboundedSender<Msg>;

/// What the loop must do for the core: open a connection, write bytes, close one. Connection
/// events go back as direct calls ([`Driver::connected`], [`Driver::connect_failed`],
/// [`Driver::received`], [`Driver::closed`]) from the same task: only application messages
/// ([`Msg`]) cross threads.
#[derive(Debug)]
#[non_exhaustive]
pub enum Io {
    /// Connect to `endpoint` within `timeout` (resolving the host, trying each address), with TLS
    /// to `tls` if set; then call [`Driver::connected`] or [`Driver::connect_failed`].
    Connect {
        /// The connection's id.
        conn: ConnId,
        /// Where to connect.
        endpoint: Endpoint,
        /// TLS, with the name to verify (the core's choice).
        tls: Option<TlsTarget>,
        /// How long connecting (TCP and TLS) may take.
        timeout: Duration,
    },
    /// Write these bytes (after whatever is queued for the connection).
    Transmit {
        /// The connection.
        conn: ConnId,
        /// The bytes.
        bytes: Bytes,
    },
    /// The core closed the connection: close its socket and forget it.
    Close {
        /// The connection.
        conn: ConnId,
    },
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

/// A connection the driver asked for (for logs).
struct Conn {
    endpoint: Endpoint,
    /// Reported connected (TCP, and TLS if any): a close before that is the core giving up on the
    /// attempt (its connect timeout).
    open: bool,
}

/// Resolves when `connect` may return: the first topology is known (`Ok`), or discovery failed.
pub type Ready = oneshot::Receiver<Result<(), Error>>;

/// The runtime-independent half of the driver loop.
///
/// One task owns it (the loop in [`start`](crate::adapter::start)) and repeats:
/// 1. [`Driver::poll`]: drains the core — replies go to their callers, events to `tracing` — and
///    appends what the loop must do ([`Io`]: connect, transmit, close); returns the next deadline;
/// 2. waits for the first of: a message from the inbox, a connection's I/O, that deadline;
/// 3. feeds it: [`Driver::handle`] (a [`Msg`]), [`Driver::connected`] / [`Driver::connect_failed`]
///    / [`Driver::received`] / [`Driver::closed`] (I/O, as direct calls), or [`Driver::tick`].
///
/// On [`Flow::Stop`] (or when the loop ends for any reason) it calls [`Driver::shutdown`].
pub struct Driver {
    cluster: Cluster,
    origin: StdInstant,
    pending: IdMap<Waiter>,
    batches: HashMap<u64, Batch>,
    next_batch: u64,
    /// Pipelines with requests not yet in the core.
    filling: Vec<u64>,
    /// Most requests of one pipeline in the core at once: [`PIPELINE_WINDOW`], or half the
    /// per-node queue bound if that is less (a pipeline all on one node never overfills it).
    window: usize,
    /// Blocking requests by the caller's token, for [`Msg::Cancel`].
    cancellable: HashMap<u64, RequestId>,
    sessions: HashMap<u64, SessionId>,
    /// Subscribers by the caller's token, and their sinks by the core's id.
    subscriber_ids: HashMap<u64, SubscriberId>,
    sinks: HashMap<SubscriberId, (mpsc::Sender<PubSubEvent>, Arc<AtomicU64>)>,
    delays: BinaryHeap<Reverse<(StdInstant, u64)>>,
    delay_senders: HashMap<u64, oneshot::Sender<()>>,
    next_delay: u64,
    conns: HashMap<ConnId, Conn>,
    tls: Option<Arc<rustls::ClientConfig>>,
    connect_timeout: Duration,
    seeds: Vec<Endpoint>,
    bootstrap: Option<Bootstrap>,
    /// Connects that failed before they started (an unusable TLS name), fed at the next poll.
    failed: Vec<(ConnId, String)>,
    core_deadline: Option<Instant>,
    done: Vec<oneshot::Sender<()>>,
    /// Outcomes sent to callers of single requests so far.
    delivered: u64,
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
    /// A driver for `config`, and the [`Ready`] signal `connect` waits for. TLS files are read
    /// here, so their errors come now.
    pub fn new(config: &ClientConfig) -> Result<(Driver, Ready), Error> {
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
        let window = PIPELINE_WINDOW.min(core.queue_bound / 2).max(1);
        let driver = Driver {
            cluster: Cluster::new(core, Instant::ZERO),
            origin,
            pending: IdMap::default(),
            batches: HashMap::new(),
            next_batch: 0,
            filling: Vec::new(),
            window,
            cancellable: HashMap::new(),
            sessions: HashMap::new(),
            subscriber_ids: HashMap::new(),
            sinks: HashMap::new(),
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
            failed: Vec::new(),
            core_deadline: None,
            done: Vec::new(),
            delivered: 0,
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
            Msg::Submit {
                request,
                reply,
                cancel,
            } => {
                if reply.is_canceled() {
                    return Flow::Continue;
                }
                let id = self.cluster.submit(now, request);
                self.pending.insert(id, Waiter::One(reply));
                if let Some(token) = cancel {
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
                self.pending.insert(id, Waiter::One(reply));
            }
            Msg::Pipeline { requests, reply } => {
                if reply.is_canceled() {
                    return Flow::Continue;
                }
                self.next_batch += 1;
                let n = requests.len();
                self.batches.insert(
                    self.next_batch,
                    Batch {
                        outcomes: (0..n).map(|_| None).collect(),
                        unsent: requests.into_iter(),
                        next: 0,
                        in_core: 0,
                        left: n,
                        reply,
                    },
                );
                self.fill(self.next_batch, now);
            }
            Msg::SubmitTo {
                request,
                target,
                reply,
            } => {
                let id = self.cluster.submit_to(now, request, target);
                self.pending.insert(id, Waiter::One(reply));
            }
            Msg::Topology { reply } => {
                let _ = reply.send(self.cluster.topology().cloned());
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
            Msg::OpenSubscriber {
                token,
                sink,
                dropped,
                origin,
            } => {
                let _ = origin.send(self.origin);
                let id = self.cluster.open_subscriber();
                self.subscriber_ids.insert(token, id);
                self.sinks.insert(id, (sink, dropped));
            }
            Msg::Subscription {
                token,
                kind,
                channels,
                subscribe,
            } => {
                if let Some(&id) = self.subscriber_ids.get(&token) {
                    if subscribe {
                        self.cluster.subscribe(now, id, kind, channels);
                    } else {
                        self.cluster.unsubscribe(now, id, kind, channels);
                    }
                }
            }
            Msg::CloseSubscriber { token } => {
                if let Some(id) = self.subscriber_ids.remove(&token) {
                    self.sinks.remove(&id);
                    self.cluster.close_subscriber(now, id);
                }
            }
            Msg::Stats { reply } => {
                let _ = reply.send(self.cluster.stats());
            }
            Msg::Shutdown { done } => {
                self.done.extend(done);
                return Flow::Stop;
            }
        }
        Flow::Continue
    }

    /// The connection asked for by [`Io::Connect`] is established (TLS included).
    pub fn connected(&mut self, conn: ConnId) {
        let span = self.span.clone();
        let _entered = span.enter();
        if let Some(c) = self.conns.get_mut(&conn) {
            c.open = true;
            tracing::debug!(target: "slotwise", %conn, endpoint = %c.endpoint, "connected");
        }
        let now = self.now();
        self.cluster.handle_input(Input::Connected { conn, now });
    }

    /// The connection asked for by [`Io::Connect`] could not be established; `error` says why (it
    /// is logged, and shown by `connect` if discovery fails).
    pub fn connect_failed(&mut self, conn: ConnId, error: &str) {
        let span = self.span.clone();
        let _entered = span.enter();
        if let Some(c) = self.conns.remove(&conn) {
            let error = if self.tls.is_some() && not_a_tls_answer(error) {
                format!(
                    "{error}; no TLS handshake answer from {}: is it a TLS port?",
                    c.endpoint
                )
            } else {
                error.to_string()
            };
            tracing::warn!(target: "slotwise", %conn, endpoint = %c.endpoint, %error, "connect failed");
            if let Some(b) = &mut self.bootstrap {
                b.last_error = Some(format!("{}: {error}", c.endpoint));
            }
        }
        let now = self.now();
        self.cluster
            .handle_input(Input::ConnectFailed { conn, now });
    }

    /// The core gave up on a connect to `endpoint` before it was reported connected: the reason
    /// `connect` shows if discovery fails.
    fn attempt_timed_out(&mut self, endpoint: &Endpoint) {
        if let Some(b) = &mut self.bootstrap {
            let hint = if self.tls.is_some() {
                format!("; no TLS handshake answer from {endpoint}: is it a TLS port?")
            } else {
                String::new()
            };
            b.last_error = Some(format!(
                "{endpoint}: connect timed out after {:?}{hint}",
                self.connect_timeout
            ));
        }
    }

    /// How many outcomes of single requests have been sent to their callers so far.
    #[must_use]
    pub fn delivered(&self) -> u64 {
        self.delivered
    }

    /// At most one request waits for its outcome, and nothing else does: no pipeline, session,
    /// subscriber or delay. A caller running the loop for its own request may then take its
    /// socket events (nobody else's outcome or message depends on that caller coming back).
    #[must_use]
    pub fn alone(&self) -> bool {
        self.only_requests(1)
    }

    /// At most `n` requests wait for their outcomes, and nothing else does (no pipeline,
    /// session, subscriber or delay).
    #[must_use]
    pub fn only_requests(&self, n: usize) -> bool {
        self.pending.len() <= n
            && self.batches.is_empty()
            && self.sessions.is_empty()
            && self.sinks.is_empty()
            && self.delays.is_empty()
    }

    /// Bytes arrived on `conn`.
    pub fn received(&mut self, conn: ConnId, bytes: &[u8]) {
        let span = self.span.clone();
        let _entered = span.enter();
        let now = self.now();
        self.cluster
            .handle_input(Input::Received { conn, bytes, now });
    }

    /// `conn` closed: end of stream, or a read or write error (`error`).
    pub fn closed(&mut self, conn: ConnId, error: Option<&str>) {
        let span = self.span.clone();
        let _entered = span.enter();
        if let Some(c) = self.conns.remove(&conn) {
            let error = error.unwrap_or("closed by the server");
            tracing::info!(target: "slotwise", %conn, endpoint = %c.endpoint, %error, "connection lost");
            if let Some(b) = &mut self.bootstrap {
                b.last_error = Some(format!("{}: {error}", c.endpoint));
            }
        }
        let now = self.now();
        self.cluster.handle_input(Input::Closed { conn, now });
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

    /// Drains the core: delivers replies, logs events, and appends what the loop must do to `io`
    /// (connects, transmits, closes); returns when to call [`Driver::tick`] next.
    #[must_use = "the deadline says when to tick"]
    pub fn poll(&mut self, io: &mut Vec<Io>) -> Option<StdInstant> {
        let mut deadline = self.poll_once(io);
        // Pipelines whose window opened: more of them into the core, then drain again.
        while !self.filling.is_empty() {
            let now = self.now();
            let filling = std::mem::take(&mut self.filling);
            let before = self.cluster.requests_in_core();
            for batch in filling {
                self.fill(batch, now);
            }
            if self.cluster.requests_in_core() == before {
                break;
            }
            deadline = self.poll_once(io);
        }
        // Connects that failed before they started are fed back at once (no trip through the
        // inbox), then the core drained again.
        while !self.failed.is_empty() {
            for (conn, error) in std::mem::take(&mut self.failed) {
                self.connect_failed(conn, &error);
            }
            deadline = self.poll_once(io);
        }
        deadline
    }

    fn poll_once(&mut self, io: &mut Vec<Io>) -> Option<StdInstant> {
        let span = self.span.clone();
        let _entered = span.enter();
        loop {
            match self.cluster.poll_output() {
                Output::Connect {
                    conn,
                    endpoint,
                    tls_server_name,
                } => self.connect(conn, endpoint, tls_server_name, io),
                Output::Transmit { conn, bytes } if self.conns.contains_key(&conn) => {
                    io.push(Io::Transmit { conn, bytes });
                }
                Output::Close { conn } => {
                    if let Some(c) = self.conns.remove(&conn) {
                        tracing::debug!(target: "slotwise", %conn, endpoint = %c.endpoint, "closing");
                        if !c.open {
                            // The core's connect timeout, which may come before the runtime's
                            // own verdict: that verdict is then never heard, so say it here.
                            self.attempt_timed_out(&c.endpoint);
                        }
                        io.push(Io::Close { conn });
                    }
                }
                Output::Reply { id, result } => {
                    match self.pending.remove(&id) {
                        Some(Waiter::One(tx)) => {
                            self.delivered += 1;
                            let _ = tx.send(result);
                        }
                        Some(Waiter::Batch { batch, index }) => {
                            self.batch_outcome(batch, index, result)
                        }
                        None => {}
                    }
                    if !self.cancellable.is_empty() {
                        self.cancellable.retain(|_, r| *r != id);
                    }
                }
                Output::Event(event) => {
                    trace::event(&event);
                    self.on_event(&event);
                }
                Output::PubSub { subscriber, event } => {
                    let Some((sink, dropped)) = self.sinks.get_mut(&subscriber) else {
                        continue;
                    };
                    if let Err(e) = sink.try_send(event) {
                        if e.is_disconnected() {
                            self.sinks.remove(&subscriber);
                        } else {
                            dropped.fetch_add(1, Ordering::Relaxed);
                        }
                    }
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

    /// Submits what pipeline `batch` may have in the core now.
    fn fill(&mut self, batch: u64, now: Instant) {
        let Some(b) = self.batches.get_mut(&batch) else {
            return;
        };
        while b.in_core < self.window {
            let Some(request) = b.unsent.next() else {
                break;
            };
            let index = b.next;
            b.next += 1;
            b.in_core += 1;
            let id = self.cluster.submit(now, request);
            self.pending.insert(id, Waiter::Batch { batch, index });
        }
    }

    fn batch_outcome(&mut self, batch: u64, index: usize, result: Result<Frame, RequestError>) {
        let Some(b) = self.batches.get_mut(&batch) else {
            return;
        };
        if let Some(slot) = b.outcomes.get_mut(index) {
            *slot = Some(result);
        }
        b.in_core -= 1;
        b.left -= 1;
        if b.left == 0 {
            if let Some(b) = self.batches.remove(&batch) {
                let outcomes = b
                    .outcomes
                    .into_iter()
                    .map(|o| o.unwrap_or(Err(RequestError::Cancelled)))
                    .collect();
                let _ = b.reply.send(outcomes);
            }
        } else if b.unsent.len() > 0 && !self.filling.contains(&batch) {
            self.filling.push(batch);
        }
    }

    fn connect(
        &mut self,
        conn: ConnId,
        endpoint: Endpoint,
        server: Option<String>,
        io: &mut Vec<Io>,
    ) {
        tracing::debug!(target: "slotwise", %conn, %endpoint, tls_server_name = server.as_deref(), "connecting");
        self.conns.insert(
            conn,
            Conn {
                endpoint: endpoint.clone(),
                open: false,
            },
        );
        // With TLS on, the core always names the server to verify (announced hostname, configured
        // name, or the seed's host): that name is the one used.
        let tls = match (&self.tls, server) {
            (None, _) => None,
            (Some(config), Some(name)) => match server_name(&name) {
                Ok(server_name) => Some(TlsTarget {
                    config: config.clone(),
                    server_name,
                }),
                Err(e) => {
                    self.failed.push((conn, e.to_string()));
                    return;
                }
            },
            (Some(_), None) => {
                self.failed
                    .push((conn, "no TLS server name for this node".into()));
                return;
            }
        };
        io.push(Io::Connect {
            conn,
            endpoint,
            tls,
            timeout: self.connect_timeout,
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
            Event::TopologyUnusable { endpoint, reason } => {
                if let Some(b) = &mut self.bootstrap {
                    b.last_error = Some(format!("{endpoint} {reason}"));
                }
            }
            Event::RefreshFailed => {
                // Every seed asked refused, or gave nothing usable: say so now rather than at
                // the end of `connect_wait` — once there is a reason to show (a round that only
                // timed out waits for the connects' own verdicts, and the next round).
                if let Some(b) = self.bootstrap.take_if(|b| b.last_error.is_some()) {
                    let message = b.last_error.unwrap_or_default();
                    let _ = b.ready.send(Err(Error::Connect {
                        seeds: self.seeds.clone(),
                        message,
                    }));
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
        self.batches.clear();
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

/// True when a TLS connect failed the way a plain (non-TLS) port makes it fail: the server
/// answered the ClientHello with something that is not TLS (a RESP error), or hung up on it.
fn not_a_tls_answer(error: &str) -> bool {
    let error = error.to_ascii_lowercase();
    [
        "tls handshake timed out",
        "corrupt message",
        "invalidcontenttype",
        "handshake eof",
        "close_notify",
        "unexpected eof",
    ]
    .iter()
    .any(|s| error.contains(s))
}
