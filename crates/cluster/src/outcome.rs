//! The ends of a request: its one outcome (`finish`, `fail`, `reply`), an outcome given while its
//! reply is still due on a connection (`abandon`), and the bookkeeping on its way there (its
//! deadline, `add_deadline`; a retry after a backoff, `retry_later`, or sooner,
//! `retry_cluster_down_now`).

use core::cmp::Reverse;

use slotwise_resp::Frame;

use crate::entry::{Kind, Lane, Place};
use crate::slab::Key;
use crate::{Cluster, DownCause, Instant, Output, RequestError, RequestId};

impl Cluster {
    /// Hands the outcome of request `id` to the adapter, counting it.
    pub(crate) fn reply(&mut self, id: RequestId, result: Result<Frame, RequestError>) {
        let s = &mut self.stats;
        match &result {
            Ok(_) => s.replies += 1,
            Err(e) => {
                s.failed += 1;
                if let RequestError::Timeout { .. } = e {
                    s.timeouts += 1;
                }
                if e.maybe_applied() {
                    s.maybe_applied += 1;
                }
            }
        }
        self.out.push_back(Output::Reply { id, result });
    }

    /// Takes the request out of whatever queue it is in (queues keep a stale key; counts are fixed
    /// here).
    fn unqueue(&mut self, key: Key) {
        if let Some(Place::Queued(node)) = self.entries.get(key).map(|e| e.place)
            && let Some(n) = self.node_mut(node)
        {
            n.queued = n.queued.saturating_sub(1);
        }
    }

    /// Ends the request with an error (not for requests in flight: see `abandon`).
    pub(crate) fn fail(&mut self, key: Key, error: RequestError) {
        self.finish(key, Err(error));
    }

    /// Ends the request: its one outcome.
    pub(crate) fn finish(&mut self, key: Key, result: Result<Frame, RequestError>) {
        self.unqueue(key);
        let Some(entry) = self.entries.remove(key) else {
            return;
        };
        self.cancellable.remove(&entry.id);
        if let (Lane::Session(s), Err(_)) = (entry.lane, &result)
            && matches!(
                entry.place,
                Place::Waiting | Place::Unrouted | Place::Backoff
            )
        {
            // It never reached the server: what follows it in the session would run in a state
            // the caller did not ask for (no MULTI, no WATCH).
            self.session_poison(s);
        }
        match entry.kind {
            Kind::User => self.reply(entry.id, result),
            Kind::Refresh { round, slots } => {
                self.on_refresh_result(round, slots, entry.pinned, result.ok());
            }
            Kind::Part { plan, index } => self.on_part(plan, index, entry.node, result),
            Kind::Scan { step } => self.on_scan_part(step, result),
            Kind::Sentinel {
                round,
                question,
                ask,
            } => self.on_sentinel_result(round, question, ask, result.ok()),
            Kind::StandaloneRole { round } => {
                self.on_standalone_role(round, entry.pinned, result.ok())
            }
        }
    }

    /// Ends a request whose reply is still expected on a connection: the outcome goes out now and
    /// the entry stays (as `Abandoned`) until the reply or the connection's end.
    pub(crate) fn abandon(&mut self, key: Key, error: RequestError) {
        let Some(entry) = self.entries.get_mut(key) else {
            return;
        };
        entry.place = Place::Abandoned;
        let (id, kind, pinned, node) = (entry.id, entry.kind, entry.pinned, entry.node);
        self.cancellable.remove(&id);
        match kind {
            Kind::User => self.reply(id, Err(error)),
            Kind::Refresh { round, slots } => self.on_refresh_result(round, slots, pinned, None),
            Kind::Part { plan, index } => self.on_part(plan, index, node, Err(error)),
            Kind::Scan { step } => self.on_scan_part(step, Err(error)),
            Kind::Sentinel {
                round,
                question,
                ask,
            } => self.on_sentinel_result(round, question, ask, None),
            Kind::StandaloneRole { round } => self.on_standalone_role(round, pinned, None),
        }
    }

    pub(crate) fn add_deadline(&mut self, deadline: Instant, key: Key) {
        match self.deadlines.back() {
            Some(&(last, _)) if deadline < last => {
                self.deadlines_heap.push(Reverse((deadline, key)))
            }
            _ => self.deadlines.push_back((deadline, key)),
        }
    }

    /// Routes the request again after a backoff (its attempt count sets the delay).
    pub(crate) fn retry_later(&mut self, key: Key) {
        let Some(entry) = self.entries.get_mut(key) else {
            return;
        };
        entry.attempts += 1;
        entry.place = Place::Backoff;
        self.stats.retries += 1;
        let attempt = entry.attempts.saturating_sub(1);
        let at = self.now + self.config.backoff.delay(attempt, &mut self.rng);
        self.retries.push(Reverse((at, key)));
    }

    /// The topology changed: requests backing off because a node said `CLUSTERDOWN` go again now
    /// rather than at the end of their backoff — the change may be the failover that ends it (the
    /// other shards' primaries serve again as soon as they learn of the promotion).
    pub(crate) fn retry_cluster_down_now(&mut self) {
        let mut keys: alloc::vec::Vec<Key> = self
            .retries
            .iter()
            .map(|Reverse((_, key))| *key)
            .filter(|&key| {
                self.entries.get(key).is_some_and(|e| {
                    e.place == Place::Backoff
                        && matches!(
                            e.last,
                            Some(RequestError::ClusterDown {
                                seen: DownCause::Said { .. },
                                ..
                            })
                        )
                })
            })
            .collect();
        keys.sort_unstable();
        keys.dedup();
        for key in keys {
            self.dispatch(key);
        }
    }
}
