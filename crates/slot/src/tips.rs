//! Command tips: how a command is meant to be sent across a cluster and how the replies combine
//! (see <https://redis.io/docs/latest/develop/reference/command-tips/>).

use core::fmt;

/// Which nodes a command goes to when it is not routed by its keys (`request_policy:…`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RequestPolicy {
    /// `all_nodes`: every node, primaries and replicas (e.g. `CONFIG SET`).
    AllNodes,
    /// `all_shards`: every primary (e.g. `DBSIZE`, `KEYS`).
    AllShards,
    /// `multi_shard`: split by slot: each primary gets the part of the command for its keys
    /// (e.g. `MSET`, `DEL`).
    MultiShard,
    /// `special`: needs command-specific handling by the client.
    Special,
}

/// How the replies of a multi-node command combine into one (`response_policy:…`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ResponsePolicy {
    /// `one_succeeded`: success if at least one node succeeded; that reply is returned.
    OneSucceeded,
    /// `all_succeeded`: success only if all nodes succeeded.
    AllSucceeded,
    /// `agg_logical_and`: logical AND of the integer replies.
    AggLogicalAnd,
    /// `agg_logical_or`: logical OR of the integer replies.
    AggLogicalOr,
    /// `agg_min`: the smallest reply.
    AggMin,
    /// `agg_max`: the largest reply.
    AggMax,
    /// `agg_sum`: the sum of the replies.
    AggSum,
    /// `special`: needs command-specific handling by the client.
    Special,
}

/// The tips of one command, as `COMMAND INFO` reports them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Tips {
    /// `request_policy:…`, when the command is not simply routed by its keys.
    pub request_policy: Option<RequestPolicy>,
    /// `response_policy:…`, how replies from several nodes combine.
    pub response_policy: Option<ResponsePolicy>,
    /// `nondeterministic_output`: the reply may differ between calls with the same state.
    pub nondeterministic_output: bool,
    /// `nondeterministic_output_order`: the reply is a collection whose order may vary.
    pub nondeterministic_output_order: bool,
}

impl Tips {
    /// No tips.
    pub const NONE: Tips = Tips {
        request_policy: None,
        response_policy: None,
        nondeterministic_output: false,
        nondeterministic_output_order: false,
    };

    /// Adds one tip given as Redis writes it (`request_policy:all_shards`, …). Returns false for a tip
    /// this crate does not know (it is then ignored).
    pub fn add(&mut self, tip: &[u8]) -> bool {
        if tip.eq_ignore_ascii_case(b"nondeterministic_output") {
            self.nondeterministic_output = true;
        } else if tip.eq_ignore_ascii_case(b"nondeterministic_output_order") {
            self.nondeterministic_output_order = true;
        } else if let Some(p) = strip_prefix_ignore_case(tip, b"request_policy:") {
            match RequestPolicy::from_name(p) {
                Some(p) => self.request_policy = Some(p),
                None => return false,
            }
        } else if let Some(p) = strip_prefix_ignore_case(tip, b"response_policy:") {
            match ResponsePolicy::from_name(p) {
                Some(p) => self.response_policy = Some(p),
                None => return false,
            }
        } else {
            return false;
        }
        true
    }
}

fn strip_prefix_ignore_case<'a>(s: &'a [u8], prefix: &[u8]) -> Option<&'a [u8]> {
    let (head, tail) = s.split_at_checked(prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then_some(tail)
}

impl RequestPolicy {
    const NAMES: [(RequestPolicy, &'static str); 4] = [
        (RequestPolicy::AllNodes, "all_nodes"),
        (RequestPolicy::AllShards, "all_shards"),
        (RequestPolicy::MultiShard, "multi_shard"),
        (RequestPolicy::Special, "special"),
    ];

    /// The policy Redis calls `name` (e.g. `all_shards`).
    #[must_use]
    pub fn from_name(name: &[u8]) -> Option<RequestPolicy> {
        Self::NAMES
            .iter()
            .find(|(_, n)| n.as_bytes().eq_ignore_ascii_case(name))
            .map(|(p, _)| *p)
    }

    /// Redis's name for the policy.
    #[must_use]
    pub fn name(self) -> &'static str {
        Self::NAMES
            .iter()
            .find(|(p, _)| *p == self)
            .map_or("special", |(_, n)| n)
    }
}

impl ResponsePolicy {
    const NAMES: [(ResponsePolicy, &'static str); 8] = [
        (ResponsePolicy::OneSucceeded, "one_succeeded"),
        (ResponsePolicy::AllSucceeded, "all_succeeded"),
        (ResponsePolicy::AggLogicalAnd, "agg_logical_and"),
        (ResponsePolicy::AggLogicalOr, "agg_logical_or"),
        (ResponsePolicy::AggMin, "agg_min"),
        (ResponsePolicy::AggMax, "agg_max"),
        (ResponsePolicy::AggSum, "agg_sum"),
        (ResponsePolicy::Special, "special"),
    ];

    /// The policy Redis calls `name` (e.g. `agg_sum`).
    #[must_use]
    pub fn from_name(name: &[u8]) -> Option<ResponsePolicy> {
        Self::NAMES
            .iter()
            .find(|(_, n)| n.as_bytes().eq_ignore_ascii_case(name))
            .map(|(p, _)| *p)
    }

    /// Redis's name for the policy.
    #[must_use]
    pub fn name(self) -> &'static str {
        Self::NAMES
            .iter()
            .find(|(p, _)| *p == self)
            .map_or("special", |(_, n)| n)
    }
}

impl fmt::Display for RequestPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Display for ResponsePolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
