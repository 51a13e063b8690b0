//! Request plans: one application request that becomes several sub-requests ("parts"), and the
//! rule that joins their outcomes into its one reply.
//!
//! - **Fan-out** by the command's tips: `request_policy:all_shards` (one part per shard that serves
//!   slots, sent to its primary and re-routed by the shard's first slot if the primary changes: a
//!   failover mid-fan-out is ridden out like for any keyed command) or `all_nodes`
//!   (one part per node, primaries and replicas, pinned to it), joined by `response_policy`.
//! - **Multi-key split**: a `request_policy:multi_shard` command whose keys span slots (`MGET`,
//!   `MSET`, `DEL`, `UNLINK`, `EXISTS`, `TOUCH`) becomes one command per slot, each routed (and
//!   redirected, retried) like any single-slot command; parts for the same node are written in the
//!   same batch. The replies are joined in the caller's key order (`MGET`) or aggregated (`agg_sum`,
//!   `all_succeeded`). `MSETNX` (`agg_min`: all or nothing) is not split.
//!
//! A part is an ordinary entry of kind `Kind::Part`; when it ends (`finish` or `abandon` in
//! `outcome.rs`) its outcome comes here (`on_part`), and the plan ends once, when its last part
//! has. If any part ended without a reply, the plan ends with [`RequestError::Partial`] naming the
//! nodes: never a partial answer.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use bytes::Bytes;
use slotwise_resp::Frame;
use slotwise_slot::{RequestPolicy, ResponsePolicy};
use slotwise_topology::Endpoint;

use crate::entry::{Entry, Kind};
use crate::error::PartFailure;
use crate::{Cluster, Instant, Request, RequestError, RequestId, idempotent};

/// How the parts' replies join into one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Join {
    /// Element `i` of the reply is element `order[i].1` of part `order[i].0`'s array (`MGET`).
    PerKey { order: Vec<(u32, u32)> },
    /// The sum of the integer replies (`DBSIZE`, `DEL`).
    Sum,
    /// The smallest integer reply.
    Min,
    /// The largest integer reply.
    Max,
    /// Logical AND of the integer replies, element-wise for arrays (`SCRIPT EXISTS`).
    And,
    /// Logical OR, likewise.
    Or,
    /// The first reply, if no part answered an error; with `agree`, only if all replies are equal
    /// (`SCRIPT LOAD`'s SHA, `FUNCTION LOAD`'s library name).
    AllSucceeded { agree: bool },
    /// The first reply that is not an error (`SCRIPT KILL`).
    OneSucceeded,
    /// The arrays concatenated, in node order (`KEYS`, `SLOWLOG GET`).
    Concat,
    /// A map from each node's endpoint (`host:port`) to its reply (`INFO`, `MEMORY STATS`,
    /// `LATENCY …`: per-node facts that do not add up).
    PerNode,
    /// One non-nil reply, from the part at `start` onwards (`RANDOMKEY`).
    AnyNonNil { start: u32 },
}

/// How a part ended, and the node it went to last.
type PartOutcome = (Result<Frame, RequestError>, Option<Endpoint>);

/// One application request in flight as several parts.
#[derive(Debug)]
pub(crate) struct Plan {
    id: RequestId,
    command: String,
    join: Join,
    /// The command writes: a part that succeeded means it partly ran.
    writes: bool,
    outcomes: Vec<Option<PartOutcome>>,
    pending: usize,
    /// Nodes parts are pinned to (`all_nodes`), so the node is not forgotten under them.
    pinned: Vec<usize>,
}

/// The live plans.
#[derive(Debug, Default)]
pub(crate) struct Plans {
    next: u64,
    live: BTreeMap<u64, Plan>,
}

impl Plans {
    /// True if a live plan has a part pinned to `node`.
    pub(crate) fn uses(&self, node: usize) -> bool {
        self.live.values().any(|p| p.pinned.contains(&node))
    }
}

/// Where one part goes.
pub(crate) enum PartTarget {
    /// The node serving this slot (its primary).
    Slot(u16),
    /// This node, always.
    Node(usize),
}

/// One part to send.
pub(crate) struct Part {
    pub(crate) wire: Bytes,
    pub(crate) target: PartTarget,
}

/// What a multi-node command becomes.
pub(crate) struct Shape {
    pub(crate) parts: Vec<Part>,
    pub(crate) join: Join,
}

/// The join for a fan-out command, by its tips and name; `None` for a command the core has no
/// rule for.
pub(crate) fn fanout_join(name: &str, response: Option<ResponsePolicy>) -> Option<Join> {
    Some(match response {
        Some(ResponsePolicy::AggSum) => Join::Sum,
        Some(ResponsePolicy::AggMin) => Join::Min,
        Some(ResponsePolicy::AggMax) => Join::Max,
        Some(ResponsePolicy::AggLogicalAnd) => Join::And,
        Some(ResponsePolicy::AggLogicalOr) => Join::Or,
        Some(ResponsePolicy::AllSucceeded) => Join::AllSucceeded {
            agree: matches!(name, "script|load" | "function|load"),
        },
        Some(ResponsePolicy::OneSucceeded) => Join::OneSucceeded,
        Some(ResponsePolicy::Special) => match name {
            "info"
            | "function|stats"
            | "memory|doctor"
            | "memory|malloc-stats"
            | "memory|stats" => Join::PerNode,
            n if n.starts_with("latency|") => Join::PerNode,
            _ => return None,
        },
        // No response policy: RANDOMKEY picks one; arrays without keys concatenate (the tips'
        // documented default).
        None if name == "randomkey" => Join::AnyNonNil { start: 0 },
        None => Join::Concat,
        Some(_) => return None,
    })
}

/// The per-slot parts of a multi-key command: `name` then, for each slot in order of first
/// appearance, its keys each with the `step - 1` arguments after it. `None` if a key's arguments
/// run past the command line.
pub(crate) fn split_by_slot(args: &[&[u8]], keys: &[usize], step: usize) -> Option<Shape> {
    let name = *args.first()?;
    let mut by_slot: BTreeMap<u16, u32> = BTreeMap::new();
    let mut groups: Vec<(u16, Vec<&[u8]>)> = Vec::new();
    let mut order = Vec::with_capacity(keys.len());
    for &k in keys {
        let chunk = args.get(k..k + step)?;
        let slot = slotwise_slot::key_slot(chunk.first()?).get();
        let part = *by_slot.entry(slot).or_insert_with(|| {
            groups.push((slot, alloc::vec![name]));
            (groups.len() - 1) as u32
        });
        let group = &mut groups.get_mut(part as usize)?.1;
        order.push((part, ((group.len() - 1) / step) as u32));
        group.extend_from_slice(chunk);
    }
    let parts = groups
        .into_iter()
        .map(|(slot, args)| Part {
            wire: Request::new(args).wire,
            target: PartTarget::Slot(slot),
        })
        .collect();
    Some(Shape {
        parts,
        join: Join::PerKey { order },
    })
}

impl Cluster {
    /// The parts of a fan-out to every shard (`all_shards`) or every node (`all_nodes`).
    pub(crate) fn fanout_targets(&self, policy: RequestPolicy) -> Vec<PartTarget> {
        let Some(topology) = self.slot_map.known.as_ref() else {
            return Vec::new();
        };
        let mut targets = Vec::new();
        for (shard, nodes) in topology.shards().iter().zip(&self.slot_map.shards) {
            match shard.slots.first() {
                Some(range) if policy == RequestPolicy::AllShards => {
                    targets.push(PartTarget::Slot(*range.slots().start()));
                }
                // A primary without slots holds no keys: a shard is what serves slots (and a view
                // taken mid-failover can show the demoted primary as one, which would refuse
                // writes with READONLY until the deadline).
                None if policy == RequestPolicy::AllShards => {}
                _ => targets.push(PartTarget::Node(nodes.primary)),
            }
            if policy == RequestPolicy::AllNodes {
                targets.extend(nodes.replicas.iter().map(|&r| PartTarget::Node(r)));
            }
        }
        targets
    }

    /// Starts plan `id` for `request`: its parts are submitted now. `retry` is whether a part may
    /// run twice (read-only, or idempotent, the caller's word first); `deadline` is every part's.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn start_plan(
        &mut self,
        now: Instant,
        id: RequestId,
        command: String,
        shape: Shape,
        read_only: bool,
        caller_idempotent: Option<bool>,
        deadline: Option<Instant>,
    ) {
        if shape.parts.is_empty() {
            let seen = self.unrouted_cause();
            self.reply(id, Err(RequestError::ClusterDown { slot: None, seen }));
            return;
        }
        let plans = &mut self.plans;
        plans.next += 1;
        let plan_id = plans.next;
        let pinned = shape
            .parts
            .iter()
            .filter_map(|p| match p.target {
                PartTarget::Node(n) => Some(n),
                PartTarget::Slot(_) => None,
            })
            .collect();
        let count = shape.parts.len();
        plans.live.insert(
            plan_id,
            Plan {
                id,
                command,
                join: shape.join,
                writes: !read_only,
                outcomes: (0..count).map(|_| None).collect(),
                pending: count,
                pinned,
            },
        );
        for (index, part) in shape.parts.into_iter().enumerate() {
            let args = crate::request::ArgList::of(&part.wire);
            let retry_written = read_only
                || caller_idempotent.unwrap_or_else(|| idempotent::is_idempotent(args.as_slice()));
            let (slot, pinned) = match part.target {
                PartTarget::Slot(s) => (Some(s), None),
                PartTarget::Node(n) => (None, Some(n)),
            };
            let kind = Kind::Part {
                plan: plan_id,
                index: index as u32,
            };
            let key = self.entries.insert(Entry {
                slot,
                read_only,
                retry_written,
                pinned,
                // Fan-outs to shards read their primaries (every key is there, none lags).
                to_primary: true,
                ..Entry::new(id, kind, part.wire, now)
            });
            if let Some(d) = deadline {
                self.add_deadline(d, key);
            }
            self.dispatch(key);
        }
    }

    /// Part `index` of plan `plan` ended; the last one ends the plan.
    pub(crate) fn on_part(
        &mut self,
        plan: u64,
        index: u32,
        node: Option<usize>,
        result: Result<Frame, RequestError>,
    ) {
        let endpoint = self.endpoint_of(node);
        let Some(p) = self.plans.live.get_mut(&plan) else {
            return;
        };
        let Some(slot @ None) = p.outcomes.get_mut(index as usize) else {
            return;
        };
        *slot = Some((result, endpoint));
        p.pending -= 1;
        if p.pending > 0 {
            return;
        }
        let Some(p) = self.plans.live.remove(&plan) else {
            return;
        };
        let id = p.id;
        let result = join(p);
        self.reply(id, result);
    }
}

/// The plan's one outcome from its parts' outcomes (all there).
fn join(plan: Plan) -> Result<Frame, RequestError> {
    let parts = plan.outcomes.len();
    let mut replies = Vec::with_capacity(parts);
    let mut failed = Vec::new();
    for (result, node) in plan.outcomes.into_iter().flatten() {
        match result {
            Ok(frame) => replies.push((frame, node)),
            Err(error) => failed.push(PartFailure { node, error }),
        }
    }
    let one_succeeded = plan.join == Join::OneSucceeded;
    let rescued = one_succeeded && replies.iter().any(|(f, _)| !is_error(f));
    if !failed.is_empty() && !rescued {
        let maybe_applied =
            plan.writes && (!replies.is_empty() || failed.iter().any(|f| f.error.maybe_applied()));
        return Err(RequestError::Partial {
            failed,
            parts,
            maybe_applied,
        });
    }
    if plan.join == Join::PerNode {
        return Ok(Frame::Map(
            replies
                .into_iter()
                .map(|(frame, node)| (endpoint_frame(node), frame))
                .collect(),
        ));
    }
    // An error reply from any node is the answer (the tips' rule), except where one success is
    // enough.
    if !one_succeeded && let Some(i) = replies.iter().position(|(f, _)| is_error(f)) {
        return Ok(replies.swap_remove(i).0);
    }
    let mut frames = replies.into_iter().map(|(f, _)| f);
    Ok(match plan.join {
        Join::PerKey { order } => per_key(frames.collect(), &order),
        Join::Sum => fold_integers(frames, |a, b| a.saturating_add(b)),
        Join::Min => fold_integers(frames, i64::min),
        Join::Max => fold_integers(frames, i64::max),
        Join::And => logical(frames, |a, b| a && b),
        Join::Or => logical(frames, |a, b| a || b),
        Join::AllSucceeded { agree } => {
            let first = frames.next().unwrap_or(Frame::Null);
            if agree && frames.any(|f| f != first) {
                return Err(RequestError::Disagreement {
                    command: plan.command,
                });
            }
            first
        }
        Join::OneSucceeded => {
            let all: Vec<Frame> = frames.collect();
            match all.iter().position(|f| !is_error(f)) {
                Some(i) => all.into_iter().nth(i).unwrap_or(Frame::Null),
                None => all.into_iter().next().unwrap_or(Frame::Null),
            }
        }
        Join::Concat => {
            let mut out = Vec::new();
            for f in frames {
                match f.into_items() {
                    Ok(items) => out.extend(items),
                    Err(Frame::Null | Frame::NullArray) => {}
                    Err(other) => return Ok(unexpected(&other)),
                }
            }
            Frame::Array(out)
        }
        Join::AnyNonNil { start } => {
            let all: Vec<Frame> = frames.collect();
            let n = all.len();
            (0..n)
                .filter_map(|i| all.get((start as usize + i) % n))
                .find(|f| !matches!(f, Frame::Null | Frame::NullBulk))
                .cloned()
                .unwrap_or(Frame::NullBulk)
        }
        Join::PerNode => Frame::Null, // handled above
    })
}

fn is_error(frame: &Frame) -> bool {
    frame.is_error()
}

fn endpoint_frame(node: Option<Endpoint>) -> Frame {
    let text = node.map_or_else(|| String::from("?"), |e| alloc::format!("{e}"));
    Frame::BulkString(Bytes::from(text.into_bytes()))
}

/// The reply a join cannot use, as an error reply the caller sees.
fn unexpected(frame: &Frame) -> Frame {
    let _ = frame;
    Frame::SimpleError(Bytes::from_static(
        b"ERR slotwise: a node's reply does not fit the command's response policy",
    ))
}

fn per_key(parts: Vec<Frame>, order: &[(u32, u32)]) -> Frame {
    let mut arrays: Vec<Vec<Option<Frame>>> = Vec::with_capacity(parts.len());
    for f in parts {
        if !matches!(f, Frame::Array(_)) {
            return unexpected(&f);
        }
        arrays.push(
            f.into_items()
                .unwrap_or_default()
                .into_iter()
                .map(Some)
                .collect(),
        );
    }
    let mut out = Vec::with_capacity(order.len());
    for &(part, i) in order {
        match arrays
            .get_mut(part as usize)
            .and_then(|a| a.get_mut(i as usize))
            .and_then(Option::take)
        {
            Some(f) => out.push(f),
            None => {
                return Frame::SimpleError(Bytes::from_static(
                    b"ERR slotwise: a node's reply has fewer elements than its keys",
                ));
            }
        }
    }
    Frame::Array(out)
}

fn fold_integers(frames: impl Iterator<Item = Frame>, f: impl Fn(i64, i64) -> i64) -> Frame {
    let mut acc: Option<i64> = None;
    for frame in frames {
        let Frame::Integer(n) = frame else {
            return unexpected(&frame);
        };
        acc = Some(acc.map_or(n, |a| f(a, n)));
    }
    Frame::Integer(acc.unwrap_or(0))
}

fn logical(frames: impl Iterator<Item = Frame>, f: impl Fn(bool, bool) -> bool + Copy) -> Frame {
    let mut acc: Option<Frame> = None;
    for frame in frames {
        acc = Some(match acc {
            None => frame,
            Some(a) => match combine(a, frame, f) {
                Some(c) => c,
                None => return unexpected(&Frame::Null),
            },
        });
    }
    acc.unwrap_or(Frame::Integer(0))
}

fn combine(a: Frame, b: Frame, f: impl Fn(bool, bool) -> bool + Copy) -> Option<Frame> {
    let bit = |x: bool| Frame::Integer(i64::from(x));
    match (&a, &b) {
        (Frame::Integer(x), Frame::Integer(y)) => Some(bit(f(*x != 0, *y != 0))),
        (Frame::Boolean(x), Frame::Boolean(y)) => Some(Frame::Boolean(f(*x, *y))),
        (Frame::Array(x), Frame::Array(y)) if x.len() == y.len() => {
            let (x, y) = (a.into_items().ok()?, b.into_items().ok()?);
            x.into_iter()
                .zip(y)
                .map(|(x, y)| combine(x, y, f))
                .collect::<Option<Vec<_>>>()
                .map(Frame::Array)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn plan(join: Join, outcomes: Vec<Result<Frame, RequestError>>) -> Plan {
        let n = outcomes.len();
        Plan {
            id: RequestId(1),
            command: "x".into(),
            join,
            writes: true,
            outcomes: outcomes
                .into_iter()
                .enumerate()
                .map(|(i, r)| Some((r, Some(Endpoint::new("127.0.0.1", 7000 + i as u16)))))
                .collect(),
            pending: n,
            pinned: Vec::new(),
        }
    }

    fn bulk(s: &'static str) -> Frame {
        Frame::BulkString(Bytes::from_static(s.as_bytes()))
    }

    #[test]
    fn splits_by_slot_and_rejoins_in_key_order() {
        // {a} and {b} hash to different slots; MSET carries each key's value.
        let args: Vec<&[u8]> = vec![b"MSET", b"{a}1", b"x", b"{b}1", b"y", b"{a}2", b"z"];
        let shape = split_by_slot(&args, &[1, 3, 5], 2).unwrap();
        assert_eq!(shape.parts.len(), 2);
        assert_eq!(
            &shape.parts[0].wire[..],
            &Request::new(["MSET", "{a}1", "x", "{a}2", "z"]).wire[..]
        );
        assert_eq!(
            shape.join,
            Join::PerKey {
                order: vec![(0, 0), (1, 0), (0, 1)]
            }
        );
        let replies = vec![
            Ok(Frame::Array(vec![bulk("1"), bulk("3")])),
            Ok(Frame::Array(vec![bulk("2")])),
        ];
        let joined = join(plan(shape.join, replies)).unwrap();
        assert_eq!(joined, Frame::Array(vec![bulk("1"), bulk("2"), bulk("3")]));
        assert!(split_by_slot(&args, &[5], 3).is_none());
    }

    #[test]
    fn aggregates_by_response_policy() {
        let ints = |v: &[i64]| v.iter().map(|&i| Ok(Frame::Integer(i))).collect::<Vec<_>>();
        assert_eq!(join(plan(Join::Sum, ints(&[3, 4]))), Ok(Frame::Integer(7)));
        assert_eq!(join(plan(Join::Min, ints(&[3, 4]))), Ok(Frame::Integer(3)));
        assert_eq!(join(plan(Join::Max, ints(&[3, 4]))), Ok(Frame::Integer(4)));
        let arrays = vec![
            Ok(Frame::Array(vec![Frame::Integer(1), Frame::Integer(1)])),
            Ok(Frame::Array(vec![Frame::Integer(1), Frame::Integer(0)])),
        ];
        assert_eq!(
            join(plan(Join::And, arrays.clone())),
            Ok(Frame::Array(vec![Frame::Integer(1), Frame::Integer(0)]))
        );
        assert_eq!(
            join(plan(Join::Or, arrays)),
            Ok(Frame::Array(vec![Frame::Integer(1), Frame::Integer(1)]))
        );
        let keys = vec![
            Ok(Frame::Array(vec![bulk("a")])),
            Ok(Frame::Array(vec![bulk("b"), bulk("c")])),
        ];
        assert_eq!(
            join(plan(Join::Concat, keys)),
            Ok(Frame::Array(vec![bulk("a"), bulk("b"), bulk("c")]))
        );
        let shas = vec![Ok(bulk("abc")), Ok(bulk("abd"))];
        assert!(matches!(
            join(plan(Join::AllSucceeded { agree: true }, shas)),
            Err(RequestError::Disagreement { .. })
        ));
        let err = Frame::SimpleError(Bytes::from_static(b"ERR no"));
        let mixed = vec![
            Ok(Frame::SimpleString(Bytes::from_static(b"OK"))),
            Ok(err.clone()),
        ];
        assert_eq!(
            join(plan(Join::AllSucceeded { agree: false }, mixed.clone())),
            Ok(err)
        );
        assert_eq!(
            join(plan(Join::OneSucceeded, mixed)),
            Ok(Frame::SimpleString(Bytes::from_static(b"OK")))
        );
        let random = vec![Ok(Frame::NullBulk), Ok(bulk("k")), Ok(Frame::NullBulk)];
        assert_eq!(
            join(plan(Join::AnyNonNil { start: 2 }, random)),
            Ok(bulk("k"))
        );
        let info = join(plan(Join::PerNode, vec![Ok(bulk("a")), Ok(bulk("b"))])).unwrap();
        assert_eq!(
            info,
            Frame::Map(vec![
                (bulk("127.0.0.1:7000"), bulk("a")),
                (bulk("127.0.0.1:7001"), bulk("b"))
            ])
        );
    }

    #[test]
    fn a_failed_part_is_a_typed_partial_failure() {
        let lost = RequestError::Timeout {
            slot: None,
            node: None,
            written: false,
        };
        let out = join(plan(
            Join::Sum,
            vec![Ok(Frame::Integer(1)), Err(lost.clone())],
        ));
        let Err(RequestError::Partial {
            failed,
            parts,
            maybe_applied,
        }) = out
        else {
            panic!("{out:?}");
        };
        assert_eq!(parts, 2);
        assert!(maybe_applied, "a write that ran on one node");
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].node, Some(Endpoint::new("127.0.0.1", 7001)));
        assert_eq!(failed[0].error, lost);
        // One success is enough for one_succeeded.
        let out = join(plan(
            Join::OneSucceeded,
            vec![Ok(Frame::Integer(1)), Err(lost)],
        ));
        assert_eq!(out, Ok(Frame::Integer(1)));
    }
}
