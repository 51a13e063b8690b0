//! View selection: which of several nodes' answers to believe.

use alloc::vec::Vec;
use core::cmp::Reverse;

use crate::{NodeId, Topology};

/// Why [`select_view`] set a view aside.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Rejection {
    /// The view comes from a node outside the known cluster: its responder is not a known node and
    /// it names no known node at all. This is what a recycled seed address looks like (the address
    /// now belongs to another cluster, or to a fresh node).
    ForeignCluster {
        /// The node that answered, if known.
        responder: Option<NodeId>,
    },
}

/// The outcome of [`select_view`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Selection {
    /// The index of the chosen view in the slice given.
    pub chosen: usize,
    /// How many accepted views have the same slot owners as the chosen one (itself included).
    pub agreeing: usize,
    /// How many views were accepted (not rejected).
    pub accepted: usize,
    /// The views set aside, by index, and why.
    pub rejected: Vec<(usize, Rejection)>,
}

/// Chooses among the topologies several nodes answered with, given the topology currently believed
/// (`known`; `None` or an empty topology when bootstrapping from seeds).
///
/// The rule, in order:
/// 1. **Membership.** With a non-empty `known`, a view is rejected when the node that answered is not
///    a known node *and* the view shares no node id with `known` ([`Rejection::ForeignCluster`]).
/// 2. **Agreement.** Accepted views are grouped by [`Topology::same_slot_owners`]; a view's score
///    starts with the size of its group.
/// 3. **Config epoch.** Then the highest config epoch among its primaries (CLUSTER NODES views carry
///    epochs; others count as 0).
/// 4. **Coverage.** Then the number of slots covered.
/// 5. Then fewer [`Problem`](crate::Problem)s, then the earlier view in the slice.
///
/// Returns `None` when every view was rejected (or none was given).
///
/// ```
/// use slotwise_topology::{select_view, Endpoint, Node, NodeId, Role, SlotRange, TopologyBuilder};
///
/// let one_shard = |primary: &str| {
///     let id = NodeId::new(primary).unwrap();
///     let mut b = TopologyBuilder::new();
///     b.shard(Node::new(id, Some(Endpoint::new("127.0.0.1", 7000)), Role::Primary), vec![], &[SlotRange::ALL]);
///     b.build()
/// };
/// let views = [one_shard("a"), one_shard("b"), one_shard("b")];
/// let selection = select_view(&views, None).unwrap();
/// assert_eq!((selection.chosen, selection.agreeing), (1, 2));
/// ```
pub fn select_view(views: &[Topology], known: Option<&Topology>) -> Option<Selection> {
    let known = known.filter(|k| k.nodes().next().is_some());
    let mut rejected = Vec::new();
    let mut accepted: Vec<usize> = Vec::new();
    for (i, view) in views.iter().enumerate() {
        match known {
            Some(known) if is_foreign(view, known) => rejected.push((
                i,
                Rejection::ForeignCluster {
                    responder: view.responder().cloned(),
                },
            )),
            _ => accepted.push(i),
        }
    }
    let score = |i: usize| {
        let view = views.get(i)?;
        let agreeing = accepted
            .iter()
            .filter_map(|&j| views.get(j))
            .filter(|other| view.same_slot_owners(other))
            .count();
        let key = (
            agreeing,
            view.max_config_epoch().unwrap_or(0),
            view.covered_slot_count(),
            Reverse(view.problems().len()),
            Reverse(i),
        );
        Some(key)
    };
    let (best_key, chosen) = accepted
        .iter()
        .filter_map(|&i| Some((score(i)?, i)))
        .max_by(|a, b| a.0.cmp(&b.0))?;
    Some(Selection {
        chosen,
        agreeing: best_key.0,
        accepted: accepted.len(),
        rejected,
    })
}

fn is_foreign(view: &Topology, known: &Topology) -> bool {
    let responder_known = view.responder().is_some_and(|r| known.contains_node(r));
    let shares_a_node = view
        .nodes()
        .chain(view.orphan_replicas())
        .any(|n| known.contains_node(&n.id));
    !responder_known && !shares_a_node
}
