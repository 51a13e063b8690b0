//! A reply for a request, and the redirects and transient states in it: reading a node's error
//! reply (`classify`: `MOVED`, `ASK`, or `TRYAGAIN`, `CLUSTERDOWN`, `LOADING`, `MASTERDOWN`,
//! `READONLY` to retry) and acting on it (`on_reply`: the answer for the caller, or the slot map
//! patched and the request sent again, now or after a backoff).

use slotwise_resp::Frame;
use slotwise_topology::Endpoint;

use crate::entry::{Lane, Place};
use crate::slab::Key;
use alloc::string::String;

use crate::{Cluster, ConnId, DownCause, Event, RedirectKind, RefreshReason, RequestError};

/// What an error reply asks the client to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Redirect {
    /// `MOVED slot endpoint`.
    Moved { slot: u16, to: Endpoint },
    /// `ASK slot endpoint`.
    Ask { slot: u16, to: Endpoint },
    /// Retry later, after a backoff; `refresh` says whether the topology may have changed.
    Retry { kind: RetryKind },
}

/// The transient states a node reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RetryKind {
    /// `TRYAGAIN`: a multi-key command during a migration, keys split between the two nodes.
    TryAgain,
    /// `CLUSTERDOWN`: the cluster is not serving (slots uncovered, no quorum).
    ClusterDown,
    /// `LOADING`: the node is loading its data set.
    Loading,
    /// `MASTERDOWN`: a replica that lost its primary (and `replica-serve-stale-data no`).
    MasterDown,
    /// `READONLY`: a write reached a node that is a replica now (after a failover).
    ReadOnly,
}

impl RetryKind {
    /// Whether this state says the topology may have changed.
    pub(crate) fn wants_refresh(self) -> bool {
        matches!(
            self,
            RetryKind::ClusterDown | RetryKind::MasterDown | RetryKind::ReadOnly
        )
    }
}

/// The redirect or retry an error reply asks for, or `None` for an answer the caller gets as is.
/// `replier` resolves an empty host (`MOVED 3999 :6380`: "the host you are connected to").
pub(crate) fn classify(frame: &Frame, replier: &Endpoint) -> Option<Redirect> {
    let line: &[u8] = match frame {
        Frame::SimpleError(b) | Frame::BulkError(b) => b,
        _ => return None,
    };
    let mut words = line.split(|&b| b == b' ').filter(|w| !w.is_empty());
    let code = words.next()?;
    let retry = |kind| Some(Redirect::Retry { kind });
    match code {
        b"MOVED" | b"ASK" => {
            let slot = parse_slot(words.next()?)?;
            let to = parse_endpoint(words.next()?, replier)?;
            if code == b"MOVED" {
                Some(Redirect::Moved { slot, to })
            } else {
                Some(Redirect::Ask { slot, to })
            }
        }
        b"TRYAGAIN" => retry(RetryKind::TryAgain),
        b"CLUSTERDOWN" => retry(RetryKind::ClusterDown),
        b"LOADING" => retry(RetryKind::Loading),
        b"MASTERDOWN" => retry(RetryKind::MasterDown),
        b"READONLY" => retry(RetryKind::ReadOnly),
        _ => None,
    }
}

fn parse_slot(word: &[u8]) -> Option<u16> {
    let text = core::str::from_utf8(word).ok()?;
    let slot: u16 = text.parse().ok()?;
    (slot < slotwise_topology::SLOT_COUNT).then_some(slot)
}

fn parse_endpoint(word: &[u8], replier: &Endpoint) -> Option<Endpoint> {
    let text = core::str::from_utf8(word).ok()?;
    if let Some(port) = text.strip_prefix(':') {
        return Some(Endpoint::new(replier.host.clone(), port.parse().ok()?));
    }
    let ep = Endpoint::parse(text)?;
    (ep.host != "?").then_some(ep)
}

impl Cluster {
    pub(crate) fn on_reply(&mut self, node: usize, conn: ConnId, key: Key, frame: Frame) {
        let Some(entry) = self.entries.get(key) else {
            return;
        };
        if entry.place == Place::Abandoned {
            self.entries.remove(key);
            return;
        }
        if entry.kind.is_topology_question() {
            self.finish(key, Ok(frame));
            return;
        }
        let follow = entry.follow_redirects;
        match entry.lane {
            Lane::Session(s) => return self.on_session_reply(s, node, conn, key, frame),
            // The blocking command is done with its connection, whatever the reply says.
            Lane::Blocking => self.release(node, conn),
            Lane::Shared => {}
        }
        let Some(replier) = self.node(node).map(|n| &n.endpoint) else {
            return;
        };
        match classify(&frame, replier) {
            Some(Redirect::Moved { .. } | Redirect::Ask { .. }) if !follow => {
                self.finish(key, Ok(frame));
            }
            None => self.finish(key, Ok(frame)),
            Some(Redirect::Moved { slot, to }) => self.on_moved(node, key, slot, to),
            Some(Redirect::Ask { slot, to }) => {
                if !self.count_redirect(key, slot, &to) {
                    return;
                }
                if let Some(e) = self.entries.get_mut(key) {
                    e.ask = Some(to.clone());
                }
                self.redirected(key, RedirectKind::Ask, slot, to);
                self.dispatch(key);
            }
            Some(Redirect::Retry { kind }) => self.on_retry_reply(node, key, kind, &frame),
        }
    }

    /// Tells of a redirect of request `key` (counted in `Stats` by `event`).
    pub(crate) fn redirected(&mut self, key: Key, kind: RedirectKind, slot: u16, to: Endpoint) {
        if let Some(id) = self.entries.get(key).map(|e| e.id) {
            self.event(Event::Redirected { id, kind, slot, to });
        }
    }

    /// Counts a redirect; false (and the request ended) when over the limit.
    fn count_redirect(&mut self, key: Key, slot: u16, to: &Endpoint) -> bool {
        let max = self.config.max_redirects;
        let Some(e) = self.entries.get_mut(key) else {
            return false;
        };
        e.redirects = e.redirects.saturating_add(1);
        if e.redirects > max {
            let error = RequestError::TooManyRedirects {
                slot,
                to: to.clone(),
            };
            self.fail(key, error);
            return false;
        }
        true
    }

    fn on_moved(&mut self, from: usize, key: Key, slot: u16, to: Endpoint) {
        if !self.count_redirect(key, slot, &to) {
            return;
        }
        let target = self.node_for(&to);
        self.redirected(key, RedirectKind::Moved, slot, to);
        if target == from {
            // MOVED to the node that answered: its view is in flux (just after a failover).
            self.trigger_refresh(RefreshReason::Moved);
            self.retry_later(key);
            return;
        }
        if self.slot_map.owner(slot) == Some(target) {
            // The map already says so: the request went to a replica (or a stale connection).
            if let Some(e) = self.entries.get_mut(key) {
                e.to_primary = true;
            }
        } else {
            self.slot_map.correct(slot, target);
            let known = self.node(target).is_some_and(|n| n.in_topology);
            if !known {
                self.trigger_refresh(RefreshReason::UnknownNode);
            } else if self.config.refresh.triggers.moved {
                self.trigger_refresh(RefreshReason::Moved);
            }
        }
        self.dispatch(key);
    }

    fn on_retry_reply(&mut self, node: usize, key: Key, kind: RetryKind, frame: &Frame) {
        let replica = self.node(node).is_some_and(|n| n.serves_reads);
        let said = matches!(kind, RetryKind::ClusterDown | RetryKind::MasterDown)
            .then(|| {
                let line = match frame {
                    Frame::SimpleError(l) | Frame::BulkError(l) => String::from_utf8_lossy(l),
                    _ => return None,
                };
                let node = self.node(node)?.endpoint.clone();
                Some(DownCause::Said {
                    node,
                    line: line.into_owned(),
                })
            })
            .flatten();
        if let Some(e) = self.entries.get_mut(key) {
            if replica {
                // A replica that is loading or lost its primary: read from the primary instead.
                e.to_primary = true;
            }
            if let Some(seen) = said {
                e.last = Some(RequestError::ClusterDown { slot: e.slot, seen });
            }
        }
        if kind.wants_refresh() && self.config.refresh.triggers.connection_failure {
            self.trigger_refresh(RefreshReason::ConnectionFailure);
        }
        self.retry_later(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(s: &'static str) -> Frame {
        Frame::SimpleError(s.into())
    }

    #[test]
    fn reads_redirects() {
        let me = Endpoint::new("10.0.0.1", 7000);
        assert_eq!(
            classify(&err("MOVED 3999 127.0.0.1:6381"), &me),
            Some(Redirect::Moved {
                slot: 3999,
                to: Endpoint::new("127.0.0.1", 6381)
            })
        );
        assert_eq!(
            classify(&err("ASK 1 :7001"), &me),
            Some(Redirect::Ask {
                slot: 1,
                to: Endpoint::new("10.0.0.1", 7001)
            })
        );
        assert_eq!(classify(&err("MOVED 16384 a:1"), &me), None);
        assert_eq!(classify(&err("MOVED 1 ?:1"), &me), None);
        assert_eq!(
            classify(&err("CLUSTERDOWN The cluster is down"), &me),
            Some(Redirect::Retry {
                kind: RetryKind::ClusterDown
            })
        );
        assert_eq!(classify(&err("ERR nope"), &me), None);
        assert_eq!(classify(&Frame::Integer(1), &me), None);
    }
}
