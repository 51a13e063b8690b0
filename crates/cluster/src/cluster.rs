//! [`Cluster`]: the state machine, and its public face (`submit`, `handle_input`, `poll_output`).
//!
//! Where the `impl Cluster` methods live, one file per concern:
//!
//! | file | concern | methods |
//! |---|---|---|
//! | `cluster.rs` | the struct, its public face, node bookkeeping | `new`, `set_command_table`, `submit`, `deadline_of`, `handle_input`, `poll_output`, `requests_in_core`, `known_nodes`, `topology_epoch`, `stats`, `event`, `node`, `node_mut`, `node_for`, `endpoint_of` |
//! | `routing.rs` | choosing the node for a request and writing it there | `dispatch`, `route`, `enqueue`, `write_on`, `mark_dirty`, `flush_queue` |
//! | `outcome.rs` | the ends of a request | `reply`, `finish`, `fail`, `abandon`, `unqueue`, `add_deadline`, `retry_later` |
//! | `redirect.rs` | a reply: the answer, or a redirect / transient state parsed and acted on | `on_reply`, `count_redirect`, `on_moved`, `on_retry_reply` (and `classify`, the parser) |
//! | `lifecycle.rs` | connection life: open, handshake, bytes in, close, node cleanup | `ensure_connecting`, `open_conn`, `tls_server_name`, `on_connected`, `start_handshake`, `on_ready`, `on_handshake_reply`, `on_received`, `close_if_drained`, `after_reply`, `close_conn`, `gc_node` |
//! | `pool.rs` | the dedicated connection pool (blocking commands, sessions) | `cancel`, `enqueue_blocking`, `lease`, `assign`, `start_holder`, `on_dedicated_ready`, `release`, `serve_waiting`, `holder_waits`, `fail_holder`, `pool_timers`, `drain_pool`, `blocking_conn` |
//! | `session.rs` | sessions (transactions) | `open_session`, `submit_in`, `close_session`, `sessions_open`, `admit_in_session`, `session_*`, `on_session_reply` |
//! | `pubsub/` (`reconcile.rs`, `heard.rs`, `keepalive.rs`, `wire.rs`) | subscriptions and subscriber connections | `open_subscriber`, `subscribe`, `unsubscribe`, `close_subscriber`, `subscriptions`, `pubsub_reconcile`, `on_subscriber_ready`, `on_subscriber_frame`, `subscriber_conn_lost`, `pubsub_timers` |
//! | `refresh.rs` | topology refresh | `trigger_refresh`, `refresh_timers`, `start_refresh`, `ask_topology`, `on_refresh_result`, `maybe_complete_round`, `apply_topology` |
//! | `timers.rs` | time: deadlines, retries, node timers | `advance`, `on_deadline`, `node_timers`, `next_timeout` |
//! | `suspicion.rs` | a node that stops answering: set aside, probed, followed through its failover | `suspicion_watch`, `suspicion_heard`, `suspicion_timers`, `suspect_gone`, `suspicion_reconcile` |
//!
//! No `impl Cluster`, only what those use: `slot_map.rs` (`SlotMap`: slot → node, the shards,
//! `MOVED` corrections), `handshake.rs` (the `HELLO`/`AUTH` steps), `stateful.rs`
//! (connection-state commands refused), `idempotent.rs` (which writes may run twice),
//! `request.rs`, `entry.rs`, `conn.rs`, `node.rs`,
//! `slab.rs`, `rng.rs`.

use alloc::collections::{BTreeMap, BinaryHeap, VecDeque};
use alloc::string::String;
use alloc::vec::Vec;
use bytes::Bytes;
use core::cmp::Reverse;

use slotwise_slot::{CommandTable, RequestPolicy, ResponsePolicy, Route};
use slotwise_topology::Endpoint;

use crate::entry::{Entry, Kind, Lane};
use crate::idempotent;
use crate::node::Node;
use crate::plan::{self, Part, Plans, Shape};
use crate::refresh::Refresh;
use crate::request::{ArgList, block_time};
use crate::rng::Rng;
use crate::session::{Session, SessionId};
use crate::slab::{Key, Slab};
use crate::slot_map::SlotMap;
use crate::stateful;
use crate::{
    Config, ConnId, Event, Input, Instant, Output, RedirectKind, RefreshReason, Request,
    RequestError, RequestId, Stats,
};

/// The sans-IO Redis Cluster client core.
///
/// It owns no socket, clock or thread. The adapter moves bytes and time in and carries actions out:
///
/// 1. [`Cluster::new`] with a [`Config`] and the current [`Instant`]. It starts discovery at once,
///    so drain [`Cluster::poll_output`] right after.
/// 2. Feed everything that happens with [`Cluster::handle_input`] (connection established or
///    failed, bytes received, connection closed, the deadline reached), and every application
///    command with [`Cluster::submit`]. Each carries the current time, which must never go back.
/// 3. After **each** call to `submit` or `handle_input`, call [`Cluster::poll_output`] until it
///    returns [`Output::Timeout`] or [`Output::Idle`], and perform each action in order:
///    [`Output::Connect`] (open, then report `Connected`/`ConnectFailed`), [`Output::Transmit`]
///    (write the bytes, in order), [`Output::Close`], [`Output::Reply`] (hand the outcome to the
///    caller), [`Output::Event`] (log it). Transmits are coalesced: at most one per connection per
///    drain.
/// 4. Then wait for the first of: a socket event, an application request, the instant from
///    `Output::Timeout` (then call `handle_input(Input::Timeout { now })`).
///
/// Inputs may come late (a `Timeout` after its instant is fine; deadlines are then reported as of
/// that input); outputs are never lost if the adapter drains later than step 3 says, but requests
/// then wait longer. Inputs for connections the core closed or never opened are ignored.
///
/// Every submitted request gets exactly one [`Output::Reply`]. See the crate documentation for the
/// failure semantics.
pub struct Cluster {
    pub(crate) config: Config,
    pub(crate) table: CommandTable,
    pub(crate) rng: Rng,
    pub(crate) now: Instant,
    pub(crate) next_conn: u64,
    pub(crate) next_request: u64,
    pub(crate) entries: Slab<Entry>,
    pub(crate) nodes: Vec<Option<Node>>,
    pub(crate) free_nodes: Vec<usize>,
    pub(crate) by_endpoint: BTreeMap<Endpoint, usize>,
    pub(crate) conns: BTreeMap<ConnId, usize>,
    pub(crate) slot_map: SlotMap,
    pub(crate) refresh: Refresh,
    /// Replica choice for reads (`read_from.rs`).
    pub(crate) reads: crate::read_from::Reads,
    pub(crate) out: VecDeque<Output>,
    /// Connections (with their node) that have bytes to transmit.
    pub(crate) dirty: Vec<(usize, ConnId)>,
    /// Request deadlines in submission order (monotone: the common case of one default timeout).
    pub(crate) deadlines: VecDeque<(Instant, Key)>,
    /// Request deadlines out of order.
    pub(crate) deadlines_heap: BinaryHeap<Reverse<(Instant, Key)>>,
    pub(crate) retries: BinaryHeap<Reverse<(Instant, Key)>>,
    pub(crate) unrouted: VecDeque<Key>,
    /// Earliest connect deadline or reconnect time of any node (a hint: may be early).
    pub(crate) node_timer: Instant,
    pub(crate) epoch: u64,
    pub(crate) stats: Stats,
    pub(crate) sessions: BTreeMap<SessionId, Session>,
    pub(crate) next_session: u64,
    /// Blocking requests by id, for [`Cluster::cancel`].
    pub(crate) cancellable: BTreeMap<RequestId, Key>,
    /// Requests sent as several parts (fan-out, multi-key split).
    pub(crate) plans: Plans,
    /// Cluster `SCAN` steps in flight.
    pub(crate) scans: crate::scan::Scans,
    /// Subscriptions and subscriber connections.
    pub(crate) pubsub: crate::pubsub::PubSub,
    pub(crate) suspicion: crate::suspicion::Suspicion,
    /// A Sentinel deployment's rounds, watches and write hold.
    pub(crate) sentinel: crate::sentinel::Sentinels,
}

impl core::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Cluster")
            .field("now", &self.now)
            .field("requests", &self.entries.len())
            .field("nodes", &self.by_endpoint.keys().collect::<Vec<_>>())
            .field("epoch", &self.epoch)
            .finish_non_exhaustive()
    }
}

impl Cluster {
    /// A client for the cluster the seeds in `config` belong to. Discovery starts now: drain
    /// [`Cluster::poll_output`] next.
    pub fn new(config: Config, now: Instant) -> Cluster {
        let mut cluster = Cluster {
            rng: Rng::new(config.rng_seed),
            refresh: Refresh::new(now, &config.refresh),
            reads: crate::read_from::Reads::default(),
            config,
            table: CommandTable::new(),
            now,
            next_conn: 0,
            next_request: 0,
            entries: Slab::new(),
            nodes: Vec::new(),
            free_nodes: Vec::new(),
            by_endpoint: BTreeMap::new(),
            conns: BTreeMap::new(),
            slot_map: SlotMap::new(),
            out: VecDeque::new(),
            dirty: Vec::new(),
            deadlines: VecDeque::new(),
            deadlines_heap: BinaryHeap::new(),
            retries: BinaryHeap::new(),
            unrouted: VecDeque::new(),
            node_timer: Instant::MAX,
            epoch: 0,
            stats: Stats::default(),
            sessions: BTreeMap::new(),
            next_session: 0,
            cancellable: BTreeMap::new(),
            plans: Plans::default(),
            scans: crate::scan::Scans::default(),
            pubsub: crate::pubsub::PubSub::default(),
            suspicion: crate::suspicion::Suspicion::default(),
            sentinel: crate::sentinel::Sentinels::default(),
        };
        cluster.start_refresh(RefreshReason::Bootstrap, true);
        cluster.sentinel_watch_timers();
        cluster
    }

    /// Uses this command table (e.g. with module commands registered, or another
    /// [`UnknownCommandPolicy`](slotwise_slot::UnknownCommandPolicy)) to route commands.
    pub fn set_command_table(&mut self, table: CommandTable) {
        self.table = table;
    }

    /// Submits a request; its outcome comes later as one [`Output::Reply`] with the returned id
    /// (possibly in the very next drain, e.g. for a command that cannot be routed).
    ///
    /// Ordinary commands share each node's one multiplexed connection. A command with a block time
    /// (`BLPOP`, `XREAD … BLOCK`, `WAIT` …) runs on a dedicated connection of the node's pool, so it
    /// never delays the others (see [`Cluster::cancel`]). Commands that change a connection's state
    /// (`MULTI`, `WATCH`, `SUBSCRIBE`, `SELECT`, `CLIENT REPLY` …) are refused with
    /// [`RequestError::ConnectionState`]; transactions run in a session
    /// ([`Cluster::open_session`]).
    pub fn submit(&mut self, now: Instant, request: Request) -> RequestId {
        self.advance(now);
        self.next_request += 1;
        let id = RequestId(self.next_request);
        let args = ArgList::of(&request.wire);
        let args = args.as_slice();
        if let Some(error) = self.too_large(args) {
            self.reply(id, Err(error));
            return id;
        }
        let classified = match self.table.classify(args) {
            Ok(c) => c,
            Err(e) => {
                self.reply(id, Err(RequestError::InvalidCommand(e)));
                return id;
            }
        };
        if let Some(c) = classified.command
            && let Some(kind) = stateful::state_command(c)
        {
            let error = stateful::refusal(kind, &c.name, false);
            self.reply(id, Err(error));
            return id;
        }
        let (slot, read_only) = match classified.route {
            Route::SingleSlot { slot, read_only } => (Some(slot.get()), read_only),
            Route::NoKey { read_only } => (None, read_only),
            Route::MultiNode {
                request_policy,
                response_policy,
                read_only,
                ..
            } => {
                let name = classified
                    .command
                    .map_or_else(String::new, |c| String::from(&*c.name));
                let step = classified
                    .command
                    .map_or(1, |c| usize::try_from(c.key_step).unwrap_or(1).max(1));
                let keys: Vec<usize> = classified.keys.iter().map(|k| k.index).collect();
                let deadline = self.deadline_of(now, &request, args);
                if name == "scan" {
                    self.scan_step(now, id, args, deadline);
                    return id;
                }
                match self.shape(&name, request_policy, response_policy, args, &keys, step) {
                    Ok(None) => (None, read_only), // PING: one node
                    Ok(Some(shape)) => {
                        let idempotent = request.idempotent;
                        self.start_plan(now, id, name, shape, read_only, idempotent, deadline);
                        return id;
                    }
                    Err(error) => {
                        self.reply(id, Err(error));
                        return id;
                    }
                }
            }
            Route::CrossSlot { .. } => {
                self.reply(id, Err(RequestError::CrossSlot));
                return id;
            }
            _ => {
                let command = classified
                    .command
                    .map_or_else(String::new, |c| String::from(&*c.name));
                self.reply(id, Err(RequestError::Unsupported { command }));
                return id;
            }
        };
        let admission = self.admission(now, &request, args, read_only);
        self.admit(
            now,
            id,
            request.wire,
            admission,
            (slot, read_only),
            (None, false),
        );
        id
    }

    /// [`RequestError::TooLarge`] if an argument is longer than the server accepts.
    pub(crate) fn too_large(&self, args: &[&[u8]]) -> Option<RequestError> {
        let limit = self.config.max_arg_len;
        let len = args.iter().map(|a| a.len()).max()?;
        (len > limit).then_some(RequestError::TooLarge { len, limit })
    }

    /// What the core decides for a routed user request before taking it in: its lane (blocking
    /// or shared), deadline and whether a written copy may be retried.
    pub(crate) fn admission(
        &self,
        now: Instant,
        request: &Request,
        args: &[&[u8]],
        read_only: bool,
    ) -> Admission {
        let lane = if block_time(args).is_some() {
            Lane::Blocking
        } else {
            Lane::Shared
        };
        // Read-only, or a write that may run twice (the caller's word, else the core's facts).
        let retry_written = read_only
            || request
                .idempotent
                .unwrap_or_else(|| idempotent::is_idempotent(args));
        Admission {
            lane,
            deadline: self.deadline_of(now, request, args),
            retry_written,
        }
    }

    /// Takes in a routed user request (its wire moved in, not copied) and dispatches it (to
    /// `pinned`, if set: a node the caller chose, whose redirects are replies; `to_primary` skips
    /// replicas).
    pub(crate) fn admit(
        &mut self,
        now: Instant,
        id: RequestId,
        wire: Bytes,
        admission: Admission,
        (slot, read_only): (Option<u16>, bool),
        (pinned, to_primary): (Option<usize>, bool),
    ) {
        let Admission {
            lane,
            deadline,
            retry_written,
        } = admission;
        let key = self.entries.insert(Entry {
            slot,
            read_only,
            retry_written,
            lane,
            pinned,
            to_primary,
            follow_redirects: pinned.is_none(),
            ..Entry::new(id, Kind::User, wire, now)
        });
        if lane == Lane::Blocking {
            self.cancellable.insert(id, key);
        }
        if let Some(d) = deadline {
            self.add_deadline(d, key);
        }
        self.dispatch(key);
    }

    /// What a multi-node command becomes (`Ok(None)`: an ordinary keyless command after all).
    fn shape(
        &mut self,
        name: &str,
        request: RequestPolicy,
        response: Option<ResponsePolicy>,
        args: &[&[u8]],
        keys: &[usize],
        step: usize,
    ) -> Result<Option<Shape>, RequestError> {
        let unsupported = || RequestError::Unsupported {
            command: String::from(name),
        };
        match request {
            RequestPolicy::MultiShard => {
                // Split only where each key's part stands alone: per-key replies (`MGET`), a sum
                // (`DEL`, `EXISTS`), or `all_succeeded` (`MSET`). `MSETNX` (all or nothing) is not.
                let splittable = matches!(
                    response,
                    None | Some(ResponsePolicy::AggSum | ResponsePolicy::AllSucceeded)
                );
                if !self.config.split_multi_key || !splittable {
                    return Err(RequestError::CrossSlot);
                }
                let mut shape = plan::split_by_slot(args, keys, step).ok_or_else(unsupported)?;
                if let Some(j) = response.and_then(|r| plan::fanout_join(name, Some(r))) {
                    shape.join = j;
                }
                Ok(Some(shape))
            }
            // `PING` is a health check of the connection: one node answers (see `Cluster::submit`).
            _ if name == "ping" => Ok(None),
            // Blocking on every primary, each on a fresh connection that wrote nothing: not what a
            // caller of `WAIT` means.
            _ if name == "wait" || name == "waitaof" => Err(unsupported()),
            RequestPolicy::AllShards | RequestPolicy::AllNodes => {
                let mut join = plan::fanout_join(name, response).ok_or_else(unsupported)?;
                let parts: Vec<Part> = self
                    .fanout_targets(request)
                    .into_iter()
                    .map(|target| Part {
                        wire: Request::new(args.iter().copied()).wire,
                        target,
                    })
                    .collect();
                if let plan::Join::AnyNonNil { start } = &mut join {
                    *start = self.rng.below(parts.len().max(1) as u64) as u32;
                }
                Ok(Some(Shape { parts, join }))
            }
            _ => Err(unsupported()),
        }
    }

    /// The request's deadline: `now + timeout`, plus the block time of a blocking command (none
    /// for a zero block time without an explicit timeout).
    pub(crate) fn deadline_of(
        &self,
        now: Instant,
        request: &Request,
        args: &[&[u8]],
    ) -> Option<Instant> {
        let timeout = request.timeout.unwrap_or(self.config.request_timeout);
        match block_time(args) {
            None => Some(now + timeout),
            Some(None) if request.timeout.is_none() => None,
            Some(None) => Some(now + timeout),
            Some(Some(block)) => Some(now + timeout + block),
        }
    }

    /// Feeds one input. Drain [`Cluster::poll_output`] afterwards.
    pub fn handle_input(&mut self, input: Input<'_>) {
        self.advance(input.now());
        match input {
            Input::Connected { conn, .. } => self.on_connected(conn),
            Input::ConnectFailed { conn, .. } | Input::Closed { conn, .. } => {
                if let Some(&node) = self.conns.get(&conn) {
                    self.close_conn(node, conn, crate::lifecycle::CloseReason::Failed, false);
                }
            }
            Input::Received { conn, bytes, .. } => self.on_received(conn, bytes),
            Input::Timeout { .. } => {}
        }
    }

    /// The next action for the adapter. Call until it returns [`Output::Timeout`] or
    /// [`Output::Idle`] (which it keeps returning until the next input).
    #[must_use = "every output is an action the adapter must perform"]
    pub fn poll_output(&mut self) -> Output {
        if let Some(out) = self.out.pop_front() {
            return out;
        }
        while let Some((node, id)) = self.dirty.pop() {
            let Some(conn) = self
                .nodes
                .get_mut(node)
                .and_then(Option::as_mut)
                .and_then(|n| n.conn_mut(id))
            else {
                continue;
            };
            if conn.wbuf.is_empty() || conn.phase == crate::conn::Phase::Connecting {
                continue;
            }
            conn.flushed = conn.fifo.len();
            self.stats.bytes_sent += conn.wbuf.len() as u64;
            return Output::Transmit {
                conn: conn.id,
                bytes: conn.wbuf.split().freeze(),
            };
        }
        match self.next_timeout() {
            Instant::MAX => Output::Idle,
            t => Output::Timeout(t),
        }
    }

    /// Requests submitted and not yet answered (plus answered ones whose late reply is still
    /// expected on a connection).
    #[must_use]
    pub fn requests_in_core(&self) -> usize {
        self.entries.len()
    }

    /// The endpoints of the nodes the core currently routes to (the last topology, plus `MOVED`
    /// targets).
    pub fn known_nodes(&self) -> impl Iterator<Item = &Endpoint> + '_ {
        self.nodes
            .iter()
            .flatten()
            .filter(|n| n.in_topology)
            .map(|n| &n.endpoint)
    }

    /// The number of accepted topology changes so far.
    #[must_use]
    pub fn topology_epoch(&self) -> u64 {
        self.epoch
    }

    /// Counters of what the core has done so far (cheap: a copy).
    #[must_use]
    pub fn stats(&self) -> Stats {
        Stats {
            requests: self.next_request,
            topology_epoch: self.epoch,
            connects: self.next_conn,
            connections: self.conns.len() as u64,
            ..self.stats
        }
    }

    pub(crate) fn event(&mut self, event: Event) {
        let s = &mut self.stats;
        match &event {
            Event::Redirected { kind, .. } => match kind {
                RedirectKind::Moved => s.moved += 1,
                RedirectKind::Ask => s.ask += 1,
            },
            Event::RefreshStarted { .. } => s.refreshes += 1,
            Event::RefreshFailed => s.refresh_failures += 1,
            Event::NodeFailing { .. } => s.connection_failures += 1,
            _ => {}
        }
        self.out.push_back(Output::Event(event));
    }

    pub(crate) fn node(&self, i: usize) -> Option<&Node> {
        self.nodes.get(i).and_then(Option::as_ref)
    }

    pub(crate) fn node_mut(&mut self, i: usize) -> Option<&mut Node> {
        self.nodes.get_mut(i).and_then(Option::as_mut)
    }

    /// The node at `endpoint`, known from now on if it was not.
    pub(crate) fn node_for(&mut self, endpoint: &Endpoint) -> usize {
        if let Some(&i) = self.by_endpoint.get(endpoint) {
            return i;
        }
        let mut node = Node::new(endpoint.clone());
        node.zone = self.config.zone_of.as_ref().and_then(|z| z.zone(endpoint));
        let i = match self.free_nodes.pop() {
            Some(i) => {
                if let Some(cell) = self.nodes.get_mut(i) {
                    *cell = Some(node);
                }
                i
            }
            None => {
                self.nodes.push(Some(node));
                self.nodes.len() - 1
            }
        };
        self.by_endpoint.insert(endpoint.clone(), i);
        i
    }

    pub(crate) fn endpoint_of(&self, node: Option<usize>) -> Option<Endpoint> {
        node.and_then(|n| self.node(n)).map(|n| n.endpoint.clone())
    }
}

/// What [`Cluster::admission`] decided for a user request.
pub(crate) struct Admission {
    lane: Lane,
    deadline: Option<Instant>,
    retry_written: bool,
}
