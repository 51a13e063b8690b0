//! A reply for a request: the answer, or a redirect or transient state to act on.

use slotwise_resp::Frame;

use crate::entry::{Kind, Lane, Place};
use crate::redirect::{self, Redirect, RetryKind};
use crate::slab::Key;
use crate::{Cluster, ConnId, Event, RedirectKind, RefreshReason, RequestError};

impl Cluster {
    pub(crate) fn on_reply(&mut self, node: usize, conn: ConnId, key: Key, frame: Frame) {
        let Some(entry) = self.entries.get(key) else {
            return;
        };
        if entry.place == Place::Abandoned {
            self.entries.remove(key);
            return;
        }
        if let Kind::Refresh { .. } = entry.kind {
            self.finish(key, Ok(frame));
            return;
        }
        match entry.lane {
            Lane::Session(s) => return self.on_session_reply(s, node, conn, key, frame),
            // The blocking command is done with its connection, whatever the reply says.
            Lane::Blocking => self.release(node, conn),
            Lane::Shared => {}
        }
        let Some(replier) = self.node(node).map(|n| &n.endpoint) else {
            return;
        };
        match redirect::classify(&frame, replier) {
            None => self.finish(key, Ok(frame)),
            Some(Redirect::Moved { slot, to }) => self.on_moved(node, key, slot, to),
            Some(Redirect::Ask { slot, to }) => {
                if !self.count_redirect(key, slot, &to) {
                    return;
                }
                if let Some(e) = self.entries.get_mut(key) {
                    e.ask = Some(to.clone());
                    let id = e.id;
                    self.event(Event::Redirected {
                        id,
                        kind: RedirectKind::Ask,
                        slot,
                        to,
                    });
                }
                self.dispatch(key);
            }
            Some(Redirect::Retry { kind }) => self.on_retry_reply(node, key, kind),
        }
    }

    /// Counts a redirect; false (and the request ended) when over the limit.
    fn count_redirect(&mut self, key: Key, slot: u16, to: &slotwise_topology::Endpoint) -> bool {
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

    fn on_moved(&mut self, from: usize, key: Key, slot: u16, to: slotwise_topology::Endpoint) {
        if !self.count_redirect(key, slot, &to) {
            return;
        }
        let target = self.node_for(&to);
        if let Some(e) = self.entries.get(key) {
            let id = e.id;
            self.event(Event::Redirected {
                id,
                kind: RedirectKind::Moved,
                slot,
                to,
            });
        }
        if target == from {
            // MOVED to the node that answered: its view is in flux (just after a failover).
            self.trigger_refresh(RefreshReason::Moved);
            self.retry_later(key);
            return;
        }
        if self.router.owner(slot) == Some(target) {
            // The map already says so: the request went to a replica (or a stale connection).
            if let Some(e) = self.entries.get_mut(key) {
                e.to_primary = true;
            }
        } else {
            self.router.correct(slot, target);
            let known = self.node(target).is_some_and(|n| n.in_topology);
            if !known {
                self.trigger_refresh(RefreshReason::UnknownNode);
            } else if self.config.refresh.triggers.moved {
                self.trigger_refresh(RefreshReason::Moved);
            }
        }
        self.dispatch(key);
    }

    fn on_retry_reply(&mut self, node: usize, key: Key, kind: RetryKind) {
        let replica = self.node(node).is_some_and(|n| n.serves_reads);
        if let Some(e) = self.entries.get_mut(key) {
            if replica {
                // A replica that is loading or lost its primary: read from the primary instead.
                e.to_primary = true;
            }
            if matches!(kind, RetryKind::ClusterDown | RetryKind::MasterDown) {
                e.last = Some(RequestError::ClusterDown { slot: e.slot });
            }
        }
        if kind.wants_refresh() && self.config.refresh.triggers.connection_failure {
            self.trigger_refresh(RefreshReason::ConnectionFailure);
        }
        self.retry_later(key);
    }
}
