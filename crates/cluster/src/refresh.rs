//! Topology discovery and refresh: ask a few known nodes (the seeds when none is known or none
//! answers) for `CLUSTER SHARDS` (`CLUSTER SLOTS` on servers without it), choose a view with
//! `select_view`, and apply its diff: connections opened and closed, queued requests re-routed.
//! Refreshes are periodic and triggered; triggers are coalesced and jittered.

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::time::Duration;

use bytes::Bytes;
use slotwise_resp::Frame;
use slotwise_topology::{Health, Origin, Topology, TopologyBuilder, diff, select_view};

use crate::config::RefreshPolicy;
use crate::entry::{Entry, Kind, Place};
use crate::lifecycle::CloseReason;
use crate::slab::Key;
use crate::slot_map::ShardNodes;
use crate::standalone::{self, Deployment};
use crate::{Cluster, Event, Instant, RefreshReason, RequestId};

const CLUSTER_SHARDS: &[u8] = b"*2\r\n$7\r\nCLUSTER\r\n$6\r\nSHARDS\r\n";
const CLUSTER_SLOTS: &[u8] = b"*2\r\n$7\r\nCLUSTER\r\n$5\r\nSLOTS\r\n";

#[derive(Debug)]
pub(crate) struct Round {
    id: u64,
    reason: RefreshReason,
    /// The slot map's correction counter when the round started.
    started_seq: u64,
    from_seeds: bool,
    targets: Vec<usize>,
    outstanding: usize,
    answers: Vec<Topology>,
    /// A trigger came while the round ran: refresh again after it.
    rerun: bool,
}

#[derive(Debug)]
pub(crate) struct Refresh {
    round: Option<Round>,
    next_id: u64,
    /// A triggered refresh, due at this instant.
    triggered: Option<(Instant, RefreshReason)>,
    next_periodic: Instant,
    last_start: Option<Instant>,
    failures: u32,
    shards_unsupported: bool,
    /// The last unusable topology answer ("127.0.0.1:6379 answered CLUSTER SLOTS with …"), for
    /// [`DownCause::NoTopology`].
    pub(crate) last_unusable: Option<alloc::string::String>,
    /// The seeds are a standalone server (see `standalone.rs`).
    pub(crate) standalone: bool,
}

impl Refresh {
    pub(crate) fn new(now: Instant, policy: &RefreshPolicy) -> Refresh {
        Refresh {
            round: None,
            next_id: 0,
            triggered: None,
            next_periodic: policy.interval.map_or(Instant::MAX, |i| now + i),
            last_start: None,
            failures: 0,
            shards_unsupported: false,
            last_unusable: None,
            standalone: false,
        }
    }

    pub(crate) fn next_due(&self) -> Instant {
        if self.round.is_some() {
            return Instant::MAX; // the round's requests carry their own deadlines
        }
        let t = self.triggered.map_or(Instant::MAX, |(t, _)| t);
        t.min(self.next_periodic)
    }

    pub(crate) fn uses(&self, node: usize) -> bool {
        self.round
            .as_ref()
            .is_some_and(|r| r.targets.contains(&node))
    }
}

impl Cluster {
    /// Asks for a refresh soon: within the coalescing window, jittered, at most one round at a time.
    pub(crate) fn trigger_refresh(&mut self, reason: RefreshReason) {
        if let Some(round) = self.refresh.round.as_mut() {
            round.rerun = true;
            return;
        }
        if self.refresh.triggered.is_some() {
            return;
        }
        let policy = self.config.refresh;
        let earliest = self
            .refresh
            .last_start
            .map_or(self.now, |t| t + policy.coalesce)
            .max(self.now);
        let at = earliest + self.rng.duration_up_to(policy.jitter);
        self.refresh.triggered = Some((at, reason));
    }

    pub(crate) fn refresh_timers(&mut self) {
        if self.refresh.round.is_some() {
            return;
        }
        let now = self.now;
        if let Some((at, reason)) = self.refresh.triggered
            && at <= now
        {
            self.start_refresh(reason, false);
        } else if self.refresh.next_periodic <= now {
            self.start_refresh(RefreshReason::Periodic, false);
        }
    }

    /// Starts a round, from known nodes unless there are none (or `seeds`).
    pub(crate) fn start_refresh(&mut self, reason: RefreshReason, seeds: bool) {
        let now = self.now;
        let policy = self.config.refresh;
        self.refresh.triggered = None;
        self.refresh.last_start = Some(now);
        self.refresh.next_periodic = match policy.interval {
            Some(i) => now + i + self.rng.duration_up_to(policy.jitter),
            None => Instant::MAX,
        };
        let mut known: Vec<usize> = Vec::new();
        let sentinel = self.config.sentinel.is_some();
        if sentinel {
            // A Sentinel deployment: its sentinels are asked, always.
            known = self.sentinel_nodes();
        } else if !seeds && let Some(topology) = &self.slot_map.known {
            let endpoints: Vec<_> = topology
                .nodes()
                .filter(|n| !matches!(n.health, Health::Failed))
                .filter_map(|n| n.endpoint.clone())
                .collect();
            for e in endpoints {
                let i = self.node_for(&e);
                known.push(i);
            }
        }
        let from_seeds = known.is_empty() || sentinel;
        if known.is_empty() && !sentinel {
            let seeds = self.config.seeds.clone();
            for s in &seeds {
                let i = self.node_for(s);
                if !known.contains(&i) {
                    known.push(i);
                }
            }
        }
        // A suspect node is not asked (its answer would wait behind what it does not answer),
        // unless there is nobody else; then healthy nodes first, a random pick among them.
        if known.iter().any(|&i| !self.is_suspect(i)) {
            known.retain(|&i| !self.is_suspect(i));
        }
        let mut order: Vec<(bool, u64, usize)> = known
            .iter()
            .map(|&i| {
                let failing = self.node(i).is_none_or(|n| n.failures > 0);
                (failing, self.rng.next_u64(), i)
            })
            .collect();
        order.sort_unstable();
        let ask = if sentinel {
            usize::MAX // every sentinel: the failover's leader may be the only one that knows
        } else {
            policy.nodes_to_ask.max(1)
        };
        let targets: Vec<usize> = order.into_iter().take(ask).map(|(_, _, i)| i).collect();
        self.refresh.next_id += 1;
        let id = self.refresh.next_id;
        self.refresh.round = Some(Round {
            id,
            reason,
            started_seq: self.slot_map.seq,
            from_seeds,
            targets: targets.clone(),
            outstanding: targets.len(),
            answers: Vec::new(),
            rerun: false,
        });
        self.event(Event::RefreshStarted { reason });
        if sentinel {
            self.sentinel_round(id, &targets);
        } else {
            let slots = self.refresh.shards_unsupported;
            for node in targets {
                self.ask_topology(id, node, slots);
            }
        }
        self.maybe_complete_round();
    }

    /// A refresh now, not after the coalescing window (a sentinel announced a switch). A round in
    /// progress is abandoned, not waited for: it may wait on the old primary (a `ROLE` queued
    /// behind its reconnect backoff), and its answers predate the news. Its late answers are
    /// ignored by round id.
    pub(crate) fn refresh_now(&mut self, reason: RefreshReason) {
        let abandoned = self.refresh.round.take();
        self.start_refresh(reason, false);
        for node in abandoned.map(|r| r.targets).unwrap_or_default() {
            self.gc_node(node);
        }
    }

    /// One target's part of round `round` ended: with a usable topology, or `None`.
    pub(crate) fn round_answer(&mut self, round: u64, answer: Option<Topology>) {
        let Some(r) = self.refresh.round.as_mut().filter(|r| r.id == round) else {
            return;
        };
        r.answers.extend(answer);
        r.outstanding = r.outstanding.saturating_sub(1);
        self.maybe_complete_round();
    }

    fn ask_topology(&mut self, round: u64, node: usize, slots: bool) {
        let wire = Bytes::from_static(if slots { CLUSTER_SLOTS } else { CLUSTER_SHARDS });
        self.ask_node(node, Kind::Refresh { round, slots }, wire);
    }

    /// Sends a topology question (`kind`: a refresh's, the Sentinel part's, a standalone
    /// server's `ROLE`) to `node` itself, with the refresh timeout as its deadline.
    pub(crate) fn ask_node(&mut self, node: usize, kind: Kind, wire: Bytes) {
        let now = self.now;
        let deadline = now + self.config.refresh.timeout;
        let key = self.entries.insert(Entry {
            read_only: true,
            pinned: Some(node),
            node: Some(node),
            ..Entry::new(RequestId(0), kind, wire, now)
        });
        self.add_deadline(deadline, key);
        self.enqueue(key, node);
    }

    /// One node's answer (or `None`: no usable answer).
    pub(crate) fn on_refresh_result(
        &mut self,
        round: u64,
        slots: bool,
        node: Option<usize>,
        reply: Option<Frame>,
    ) {
        if self.refresh.round.as_ref().is_none_or(|r| r.id != round) {
            return;
        }
        let endpoint = self.endpoint_of(node);
        let mut unusable = None;
        if let (Some(frame), Some(endpoint), Some(node)) = (reply, endpoint, node) {
            let command = if slots {
                "CLUSTER SLOTS"
            } else {
                "CLUSTER SHARDS"
            };
            if frame.is_error() {
                if let Frame::SimpleError(line) | Frame::BulkError(line) = &frame
                    && self.config.deployment == Deployment::Auto
                    && standalone::says_standalone(line)
                    && (self.slot_map.known.is_none() || self.refresh.standalone)
                {
                    // A standalone server: its ROLE says who the primary and the replicas are.
                    self.refresh.standalone = true;
                    self.ask_role(round, node);
                    return;
                }
                if !slots {
                    // No CLUSTER SHARDS (Redis < 7): ask the same node for CLUSTER SLOTS.
                    if let Frame::SimpleError(line) | Frame::BulkError(line) = &frame
                        && contains_ignore_case(line, b"unknown")
                    {
                        self.refresh.shards_unsupported = true;
                    }
                    self.ask_topology(round, node, true);
                    return;
                }
                let line = match &frame {
                    Frame::SimpleError(l) | Frame::BulkError(l) => {
                        alloc::string::String::from_utf8_lossy(l).into_owned()
                    }
                    _ => alloc::string::String::new(),
                };
                let hint = if contains_ignore_case(line.as_bytes(), b"cluster support disabled") {
                    " (a standalone server, or one with cluster mode off)"
                } else {
                    ""
                };
                unusable = Some((
                    endpoint,
                    alloc::format!("answered {command} with `{line}`{hint}"),
                ));
            } else {
                let origin = Origin::new(endpoint.clone()).with_tls(self.config.tls.is_some());
                let parsed = if slots {
                    Topology::from_cluster_slots(&frame, &origin)
                } else {
                    Topology::from_cluster_shards(&frame, &origin)
                };
                match (parsed, self.refresh.round.as_mut()) {
                    (Ok(t), _) if t.covered_slot_count() == 0 => {
                        unusable = Some((
                            endpoint,
                            alloc::format!(
                                "answered {command} with no slots assigned (a node that has not \
                                 joined a cluster, or a cluster not created yet)"
                            ),
                        ));
                    }
                    (Ok(t), Some(r)) => r.answers.push(t),
                    (Err(e), _) => {
                        unusable = Some((
                            endpoint,
                            alloc::format!("gave an invalid {command} answer: {e}"),
                        ));
                    }
                    _ => {}
                }
            }
        }
        if let Some((endpoint, reason)) = unusable {
            self.refresh.last_unusable = Some(alloc::format!("{endpoint} {reason}"));
            self.event(Event::TopologyUnusable { endpoint, reason });
        }
        if let Some(r) = self.refresh.round.as_mut() {
            r.outstanding = r.outstanding.saturating_sub(1);
        }
        self.maybe_complete_round();
    }

    fn maybe_complete_round(&mut self) {
        // Without a topology yet, the first usable answer wins: a seed that does not answer
        // (down, or silent) must not hold up the start.
        let bootstrapping = self.slot_map.known.is_none();
        if self.refresh.round.as_ref().is_none_or(|r| {
            r.outstanding > 0
                && !(bootstrapping && r.answers.iter().any(|t| t.covered_slot_count() > 0))
                && !r.answers.iter().any(|t| self.sentinel_is_switch(t))
        }) {
            return;
        }
        let Some(mut round) = self.refresh.round.take() else {
            return;
        };
        let targets = core::mem::take(&mut round.targets);
        let chosen = if self.config.sentinel.is_some() {
            self.sentinel_choose(&mut round.answers)
        } else {
            select_view(&round.answers, self.slot_map.known.as_ref())
                .map(|s| s.chosen)
                .filter(|&i| i < round.answers.len())
                .map(|i| round.answers.swap_remove(i))
                .filter(|t| t.covered_slot_count() > 0 || self.slot_map.known.is_none())
        };
        match chosen {
            Some(topology) => {
                self.refresh.failures = 0;
                self.apply_topology(topology, round.started_seq);
                if round.rerun {
                    self.trigger_refresh(round.reason);
                }
            }
            None if !round.from_seeds && !self.config.seeds.is_empty() => {
                // No known node answered: the seeds, now.
                self.start_refresh(RefreshReason::Retry, true);
            }
            None => {
                self.refresh.failures = self.refresh.failures.saturating_add(1);
                self.event(Event::RefreshFailed);
                let delay = self
                    .config
                    .backoff
                    .delay(self.refresh.failures.saturating_sub(1), &mut self.rng)
                    .max(Duration::from_millis(1));
                let at = self.now + delay;
                self.refresh.triggered = Some((at, RefreshReason::Retry));
                self.fail_unroutable_without_topology();
            }
        }
        for node in targets {
            self.gc_node(node);
        }
    }

    /// Nothing to do until a topology exists: requests keep waiting (their deadline ends them).
    fn fail_unroutable_without_topology(&mut self) {}

    /// Makes `topology` the routing table; follows its diff's connection plan; re-routes what waits.
    fn apply_topology(&mut self, topology: Topology, started_seq: u64) {
        let empty = TopologyBuilder::new().build();
        let old = self.slot_map.known.take();
        let changes = diff(old.as_ref().unwrap_or(&empty), &topology);
        self.scans.learn(topology.nodes().map(|n| n.id.as_str()));
        let prefer_replicas = self.config.read_from.uses_replicas();

        // Nodes, shards and slots.
        for n in self.nodes.iter_mut().flatten() {
            n.in_topology = false;
            n.wanted = false;
        }
        let mut shard_index: Vec<Option<usize>> = Vec::with_capacity(topology.shards().len());
        let mut shards: Vec<ShardNodes> = Vec::new();
        for shard in topology.shards() {
            let Some(ep) = shard.primary.endpoint.clone() else {
                shard_index.push(None);
                continue;
            };
            let primary = self.node_for(&ep);
            let serves = !(shard.slots.is_empty() && shard.primary.health == Health::Failed);
            if let Some(n) = self.node_mut(primary) {
                n.in_topology = true;
                n.serves_reads = false;
                n.wanted = serves;
                n.hostname = shard.primary.hostname.clone();
            }
            let mut replicas = Vec::new();
            for r in &shard.replicas {
                let Some(ep) = r.endpoint.clone() else {
                    continue;
                };
                let i = self.node_for(&ep);
                let healthy = matches!(r.health, Health::Online | Health::Unknown);
                if let Some(n) = self.node_mut(i) {
                    n.in_topology = true;
                    n.hostname = r.hostname.clone();
                    n.serves_reads = prefer_replicas;
                    n.wanted = prefer_replicas && healthy;
                }
                if healthy {
                    replicas.push(i);
                }
            }
            shard_index.push(Some(shards.len()));
            shards.push(ShardNodes { primary, replicas });
        }
        let slot_shard = topology.slot_ranges().flat_map(|(range, index)| {
            let mine = index.and_then(|i| shard_index.get(i).copied().flatten());
            range.slots().map(move |s| (s, mine))
        });
        self.slot_map.replace(shards, slot_shard, started_seq);
        let changed = !changes.is_empty();
        if changed || old.is_none() {
            self.epoch += 1;
            self.event(Event::TopologyChanged {
                epoch: self.epoch,
                diff: Box::new(changes),
            });
        }
        self.slot_map.known = Some(topology);

        // Connections: open the wanted, drain and close the rest.
        for i in 0..self.nodes.len() {
            let Some(n) = self.node(i) else { continue };
            let (wanted, in_topology, idle, conn) = (
                n.wanted,
                n.in_topology,
                n.is_idle(),
                n.conn.as_ref().map(|c| c.id),
            );
            if wanted {
                self.ensure_connecting(i);
            } else if !in_topology
                && !self.is_sentinel(i)
                && let Some(id) = conn
            {
                if idle {
                    self.close_conn(i, id, CloseReason::Removed, true);
                } else if let Some(c) = self.node_mut(i).and_then(|n| n.conn.as_mut()) {
                    c.draining = true;
                }
            }
            if !in_topology {
                self.drain_pool(i);
            }
        }

        // Re-route everything that waits: node queues, then the unrouted.
        let mut waiting: VecDeque<Key> = VecDeque::new();
        for n in self.nodes.iter_mut().flatten() {
            waiting.extend(n.queue.drain(..));
            n.queued = 0;
        }
        waiting.extend(self.unrouted.drain(..));
        for key in waiting {
            let requeue = self
                .entries
                .get(key)
                .is_some_and(|e| matches!(e.place, Place::Queued(_) | Place::Unrouted));
            if requeue {
                if let Some(e) = self.entries.get_mut(key) {
                    e.place = Place::Unrouted;
                }
                self.dispatch(key);
            }
        }
        if changed {
            self.retry_cluster_down_now();
        }
        self.pubsub_reconcile();
        self.suspicion_reconcile();
        self.sentinel_applied();
        for i in 0..self.nodes.len() {
            self.gc_node(i);
        }
    }
}

fn contains_ignore_case(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}
