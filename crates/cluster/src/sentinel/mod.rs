//! Sentinel-managed deployments: one primary and its replicas, found by asking the sentinels.
//!
//! With [`Config::sentinel`](crate::Config::sentinel) set, a topology refresh asks every
//! sentinel `SENTINEL GET-MASTER-ADDR-BY-NAME` and `SENTINEL REPLICAS`, checks the named primary
//! with `ROLE` (a sentinel that has not yet learned of a failover names a node that is a replica
//! now), and makes the result the cluster of one shard it amounts to (every slot on that primary,
//! as in `standalone.rs`): routing, retries, deadlines and `maybe_applied` are unchanged.
//!
//! - **Which answer**: the primary the latest `+switch-master` named, when a sentinel names it;
//!   else the one most sentinels name. A round completes as soon as the switch's primary is
//!   verified, or when all sentinels have answered (the first verified answer while there is no
//!   topology yet).
//! - **Watching** (`watch.rs`): a connection to every sentinel subscribes to its failover events
//!   (the failover leader publishes them only on its own channels). `+switch-master` starts a
//!   refresh at once, abandoning a round in progress (it may wait on the dead primary's `ROLE`);
//!   a watch connection lost is reopened after a backoff and triggers a refresh (a switch may
//!   have gone unheard).
//! - **Holding writes** (`hold.rs`): Sentinel's failover does not stop the old primary from
//!   accepting writes; what it acknowledges after the replica's promotion is lost when it is
//!   turned into a replica. From `+try-failover` until the new primary is in the routing table
//!   (or the failover ends without a switch, or [`SentinelConfig::failover_hold`] passes) writes
//!   wait; reads go on.

mod hold;
mod watch;
pub(crate) mod wire;

use alloc::string::String;
use alloc::vec::Vec;
use core::time::Duration;

use slotwise_resp::Frame;
use slotwise_topology::{Endpoint, Topology};

use crate::config::Credentials;
use crate::entry::Kind;
use crate::{Cluster, Event};

pub(crate) use hold::Hold;
pub(crate) use watch::Watch;

/// Where the sentinels are and which primary to ask them about.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct SentinelConfig {
    /// The name the sentinels monitor the primary under (`sentinel monitor NAME …`).
    pub master: String,
    /// The sentinels (at least one; all are asked and watched).
    pub sentinels: Vec<Endpoint>,
    /// How to authenticate to the sentinels (`requirepass` in their configuration); `None`: as
    /// to the data nodes ([`Config::credentials`](crate::Config::credentials)).
    pub credentials: Option<Credentials>,
    /// How long writes wait, at most, once a failover of the primary begins (`+try-failover`)
    /// for its `+switch-master` (see the module docs); `None`: writes are never held. Default
    /// 10 s.
    pub failover_hold: Option<Duration>,
}

impl SentinelConfig {
    /// The primary monitored as `master` by `sentinels`.
    pub fn new(master: impl Into<String>, sentinels: Vec<Endpoint>) -> SentinelConfig {
        SentinelConfig {
            master: master.into(),
            sentinels,
            credentials: None,
            failover_hold: Some(Duration::from_secs(10)),
        }
    }
}

/// Which question a sentinel round's request asks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Question {
    /// `SENTINEL GET-MASTER-ADDR-BY-NAME`, of a sentinel.
    MasterAddr,
    /// `SENTINEL REPLICAS`, of a sentinel.
    Replicas,
    /// `ROLE`, of the primary a sentinel named.
    Role,
}

/// One sentinel's part in a round.
#[derive(Debug)]
struct Ask {
    sentinel: usize,
    master: Option<Endpoint>,
    replicas: Option<Vec<Endpoint>>,
    done: bool,
}

/// The Sentinel part of the core.
#[derive(Debug, Default)]
pub(crate) struct Sentinels {
    /// The refresh round the asks belong to.
    round: u64,
    asks: Vec<Ask>,
    /// The primary the latest `+switch-master` named.
    switched_to: Option<Endpoint>,
    pub(crate) hold: Hold,
    pub(crate) watch: Watch,
}

impl Sentinels {
    /// Nodes the Sentinel part still needs (the sentinels of a round).
    pub(crate) fn uses(&self, node: usize) -> bool {
        self.asks.iter().any(|a| a.sentinel == node && !a.done)
    }
}

impl Cluster {
    /// The sentinels' nodes, in configuration order.
    pub(crate) fn sentinel_nodes(&mut self) -> Vec<usize> {
        let endpoints = self
            .config
            .sentinel
            .as_ref()
            .map(|s| s.sentinels.clone())
            .unwrap_or_default();
        let mut nodes: Vec<usize> = Vec::with_capacity(endpoints.len());
        for e in &endpoints {
            let node = self.node_for(e);
            // A sentinel listed twice is still one sentinel: one question a round, one watch, one vote.
            if !nodes.contains(&node) {
                nodes.push(node);
            }
        }
        nodes
    }

    /// Whether `node` is one of the sentinels.
    pub(crate) fn is_sentinel(&self, node: usize) -> bool {
        let Some(n) = self.node(node) else {
            return false;
        };
        self.config
            .sentinel
            .as_ref()
            .is_some_and(|s| s.sentinels.contains(&n.endpoint))
    }

    /// Starts round `round`: every target sentinel is asked for the primary and its replicas.
    pub(crate) fn sentinel_round(&mut self, round: u64, targets: &[usize]) {
        let Some(master) = self.config.sentinel.as_ref().map(|s| s.master.clone()) else {
            return;
        };
        self.sentinel.round = round;
        self.sentinel.asks = targets
            .iter()
            .map(|&sentinel| Ask {
                sentinel,
                master: None,
                replicas: None,
                done: false,
            })
            .collect();
        for (i, &node) in targets.iter().enumerate() {
            self.sentinel_ask(
                round,
                i,
                node,
                Question::MasterAddr,
                wire::get_master_addr(&master),
            );
            self.sentinel_ask(round, i, node, Question::Replicas, wire::replicas(&master));
        }
    }

    fn sentinel_ask(
        &mut self,
        round: u64,
        ask: usize,
        node: usize,
        question: Question,
        wire: bytes::Bytes,
    ) {
        let kind = Kind::Sentinel {
            round,
            question,
            ask: ask as u32,
        };
        self.ask_node(node, kind, wire);
    }

    /// One answer of a round (`None`: none came, by the deadline or with the connection).
    pub(crate) fn on_sentinel_result(
        &mut self,
        round: u64,
        question: Question,
        ask: u32,
        reply: Option<Frame>,
    ) {
        let i = ask as usize;
        if self.sentinel.round != round || self.sentinel.asks.get(i).is_none_or(|a| a.done) {
            return;
        }
        let Some(frame) = reply else {
            return self.sentinel_ask_failed(round, i, None);
        };
        match question {
            Question::MasterAddr => match wire::parse_master_addr(&frame) {
                Ok(wire::MasterAddr::At(primary)) => {
                    if let Some(a) = self.sentinel.asks.get_mut(i) {
                        a.master = Some(primary);
                    }
                }
                Ok(wire::MasterAddr::Unknown) => {
                    let name = self.config.sentinel.as_ref().map(|s| s.master.clone());
                    let reason =
                        alloc::format!("monitors no primary named `{}`", name.unwrap_or_default());
                    return self.sentinel_ask_failed(round, i, Some(reason));
                }
                Err(e) => {
                    let reason =
                        alloc::format!("gave an invalid GET-MASTER-ADDR-BY-NAME answer: {e}");
                    return self.sentinel_ask_failed(round, i, Some(reason));
                }
            },
            Question::Replicas => {
                // Replicas only serve reads: an answer that cannot be read leaves them out.
                let replicas = wire::parse_replicas(&frame).unwrap_or_default();
                if let Some(a) = self.sentinel.asks.get_mut(i) {
                    a.replicas = Some(replicas);
                }
            }
            Question::Role => match wire::role_is_master(&frame) {
                Ok(true) => return self.sentinel_ask_verified(round, i),
                Ok(false) => {
                    let primary = self.sentinel.asks.get(i).and_then(|a| a.master.clone());
                    let reason = alloc::format!(
                        "named {} as the primary, whose ROLE says it is not (a failover the \
                         sentinel has not learned of yet)",
                        primary.map(|p| alloc::format!("{p}")).unwrap_or_default()
                    );
                    return self.sentinel_ask_failed(round, i, Some(reason));
                }
                Err(e) => {
                    let reason = alloc::format!("named a primary whose ROLE answer is {e}");
                    return self.sentinel_ask_failed(round, i, Some(reason));
                }
            },
        }
        // Both answers in: check the primary named.
        let Some(a) = self.sentinel.asks.get(i) else {
            return;
        };
        if let (Some(primary), Some(_), Question::MasterAddr | Question::Replicas) =
            (a.master.clone(), &a.replicas, question)
        {
            let node = self.node_for(&primary);
            self.sentinel_ask(
                round,
                i,
                node,
                Question::Role,
                crate::standalone::role_command(),
            );
        }
    }

    fn sentinel_ask_failed(&mut self, round: u64, i: usize, reason: Option<String>) {
        let sentinel = self.sentinel.asks.get_mut(i).map(|a| {
            a.done = true;
            a.sentinel
        });
        if let (Some(reason), Some(endpoint)) = (reason, self.endpoint_of(sentinel)) {
            self.refresh.last_unusable = Some(alloc::format!("sentinel {endpoint} {reason}"));
            self.event(Event::TopologyUnusable { endpoint, reason });
        }
        self.round_answer(round, None);
    }

    fn sentinel_ask_verified(&mut self, round: u64, i: usize) {
        let Some(a) = self.sentinel.asks.get_mut(i) else {
            return;
        };
        a.done = true;
        let topology = a.master.as_ref().and_then(|primary| {
            crate::standalone::one_shard_of(primary, a.replicas.as_deref().unwrap_or_default())
        });
        self.round_answer(round, topology);
    }

    /// Whether `answer` is the one a round may end on at once: the primary the latest switch
    /// named.
    pub(crate) fn sentinel_is_switch(&self, answer: &Topology) -> bool {
        self.sentinel.switched_to.is_some() && primary_of(answer) == self.sentinel.switched_to
    }

    /// Chooses among a round's verified answers (see the module docs).
    pub(crate) fn sentinel_choose(&mut self, answers: &mut Vec<Topology>) -> Option<Topology> {
        if let Some(i) = answers.iter().position(|t| self.sentinel_is_switch(t)) {
            return Some(answers.swap_remove(i));
        }
        let votes = |p: &Option<Endpoint>| answers.iter().filter(|t| &primary_of(t) == p).count();
        let best = (0..answers.len()).max_by_key(|&i| {
            answers
                .get(i)
                .map(|t| votes(&primary_of(t)))
                .unwrap_or_default()
        })?;
        Some(answers.swap_remove(best))
    }

    /// A topology was just applied: writes held for a switch flow once it names the new primary.
    pub(crate) fn sentinel_applied(&mut self) {
        let primary = self.slot_map.known.as_ref().and_then(primary_of);
        if self.sentinel.hold.switched
            && self.sentinel.switched_to.is_some()
            && primary == self.sentinel.switched_to
        {
            self.sentinel_release();
        } else if self.sentinel.hold.switched {
            // The sentinels asked have not all learned of the switch yet: again, soon.
            self.trigger_refresh(crate::RefreshReason::SentinelSwitch);
        }
        self.sentinel.asks.clear();
    }
}

/// The primary of a one-shard topology.
fn primary_of(topology: &Topology) -> Option<Endpoint> {
    topology
        .shards()
        .first()
        .and_then(|s| s.primary.endpoint.clone())
}
