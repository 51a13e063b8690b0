//! A route to one node the caller chooses ([`Cluster::submit_to`]): the escape hatch for what the
//! core's own routing does not cover, and the current primaries and replicas to choose from
//! ([`Cluster::topology`]).

use alloc::string::{String, ToString};

use slotwise_topology::{Endpoint, Topology};

use crate::request::ArgList;
use crate::{Cluster, Instant, Request, RequestError, RequestId, stateful};

/// Where [`Cluster::submit_to`] sends a request.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Target {
    /// The node at this endpoint (a primary or a replica of the current topology).
    Node(Endpoint),
    /// The node with this id (`CLUSTER MYID`).
    NodeId(String),
    /// The primary serving this slot, followed through `MOVED`/`ASK` like a keyed command.
    SlotPrimary(u16),
}

impl core::fmt::Display for Target {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Target::Node(e) => write!(f, "{e}"),
            Target::NodeId(id) => f.write_str(id),
            Target::SlotPrimary(slot) => write!(f, "the primary of slot {slot}"),
        }
    }
}

impl Cluster {
    /// Submits `request` to the node `target` names, whatever its keys say; its outcome comes as
    /// one [`Output::Reply`](crate::Output::Reply) like any request's.
    ///
    /// Sent to a [`Target::Node`] or [`Target::NodeId`], a request is not redirected: a `MOVED`
    /// or `ASK` is its reply (the node is what the caller asked for). Retries after a lost
    /// connection, deadlines and the connection-state refusal are as for [`Cluster::submit`]; a
    /// blocking command runs on a dedicated connection of that node. A node the current topology
    /// does not have ends the request with [`RequestError::UnknownNode`].
    pub fn submit_to(&mut self, now: Instant, request: Request, target: Target) -> RequestId {
        self.advance(now);
        self.next_request += 1;
        let id = RequestId(self.next_request);
        let args = ArgList::of(&request.wire);
        let args = args.as_slice();
        if let Some(error) = self.too_large(args) {
            self.reply(id, Err(error));
            return id;
        }
        let classified = self.table.classify(args);
        let read_only = classified.as_ref().is_ok_and(|c| c.read_only());
        if let Ok(c) = &classified
            && let Some(command) = c.command
            && let Some(kind) = stateful::state_command(command)
        {
            let error = stateful::refusal(kind, &command.name, false);
            self.reply(id, Err(error));
            return id;
        }
        let (slot, pinned) = match &target {
            Target::SlotPrimary(slot) if *slot < slotwise_topology::SLOT_COUNT => {
                (Some(*slot), None)
            }
            Target::SlotPrimary(_) => {
                let node = target.to_string();
                self.reply(id, Err(RequestError::UnknownNode { node }));
                return id;
            }
            Target::Node(endpoint) => match self.by_endpoint.get(endpoint) {
                Some(&n) if self.node(n).is_some_and(|n| n.in_topology) => (None, Some(n)),
                _ => {
                    let node = target.to_string();
                    self.reply(id, Err(RequestError::UnknownNode { node }));
                    return id;
                }
            },
            Target::NodeId(node_id) => {
                let endpoint = self
                    .topology()
                    .and_then(|t| t.nodes().find(|n| n.id.as_str() == node_id))
                    .and_then(|n| n.endpoint.clone());
                match endpoint.and_then(|e| self.by_endpoint.get(&e).copied()) {
                    Some(n) => (None, Some(n)),
                    None => {
                        let node = node_id.clone();
                        self.reply(id, Err(RequestError::UnknownNode { node }));
                        return id;
                    }
                }
            }
        };
        // A slot's primary is the primary; a replica asked for by name answers itself.
        let to_primary = pinned.is_none();
        let admission = self.admission(now, &request, args, read_only);
        self.admit(
            now,
            id,
            request.wire,
            admission,
            (slot, read_only),
            (pinned, to_primary),
        );
        id
    }

    /// The topology the core routes by (the last one a refresh accepted; `MOVED` corrections made
    /// since are not in it): its shards with their primaries, replicas, node ids and slots.
    /// `None` until the first refresh succeeded.
    #[must_use]
    pub fn topology(&self) -> Option<&Topology> {
        self.slot_map.known.as_ref()
    }
}
