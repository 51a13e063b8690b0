//! Reading the counters back from Redis (directly, not through the client under test) and checking
//! them against what the callers were told.
//!
//! For a counter with `acked` acknowledged `INCR`s and `ambiguous` failed ones that may have been
//! applied, the value in Redis must be in `acked ..= acked + ambiguous`. Below is a lost write
//! (allowed only for slots of a primary that was `SIGKILL`ed: replication is asynchronous); above
//! is a duplicate (never allowed).

use std::collections::BTreeMap;

use slotwise_cluster::Frame;
use slotwise_test_cluster::{Cluster, Conn};

use crate::keys;
use crate::load::LoadReport;

/// Counters in Redis vs. acknowledgements.
#[derive(Debug, Default)]
pub struct CounterCheck {
    /// Counters checked.
    pub counters: usize,
    /// Acknowledged increments missing from slots where that is allowed.
    pub lost_allowed: u64,
    /// Acknowledged increments missing elsewhere.
    pub lost: u64,
    /// Increments applied more often than asked.
    pub duplicated: u64,
    /// The first few problems.
    pub problems: Vec<String>,
}

impl CounterCheck {
    /// No loss outside the allowed slots and no duplicate.
    pub fn holds(&self) -> bool {
        self.lost == 0 && self.duplicated == 0
    }
}

/// The slot → primary port map, as the cluster says now.
pub fn slot_owners(cluster: &Cluster) -> Vec<u16> {
    let mut owners = vec![0u16; keys::SLOTS];
    for primary in cluster
        .primaries()
        .expect("the cluster lists its primaries")
    {
        for range in &primary.slots {
            for slot in range.clone() {
                owners[usize::from(slot)] = primary.port;
            }
        }
    }
    owners
}

/// Reads the counter of every slot `report` touched, from the slot's primary (pipelined).
pub fn read_counters(cluster: &Cluster, report: &LoadReport) -> BTreeMap<usize, i64> {
    let owners = slot_owners(cluster);
    let mut by_node: BTreeMap<u16, Vec<usize>> = BTreeMap::new();
    for &slot in report.counters.keys() {
        by_node.entry(owners[slot]).or_default().push(slot);
    }
    let mut values = BTreeMap::new();
    for (port, slots) in by_node {
        let mut conn = cluster.conn(port).expect("connect to a primary");
        read_counters_on(&mut conn, report.namespace, &slots, &mut values);
    }
    values
}

/// Reads the counters of `slots` in `namespace` over `conn` (pipelined, 500 at a time) into
/// `values`; a missing counter reads 0.
pub fn read_counters_on(
    conn: &mut Conn,
    namespace: &str,
    slots: &[usize],
    values: &mut BTreeMap<usize, i64>,
) {
    for chunk in slots.chunks(500) {
        for &slot in chunk {
            conn.send(["GET", keys::counter_in(namespace, slot).as_str()])
                .expect("send GET");
        }
        for &slot in chunk {
            let value = match &conn.read().expect("read GET") {
                Frame::BulkString(b) => std::str::from_utf8(b)
                    .ok()
                    .and_then(|s| s.parse().ok())
                    .expect("a counter holds an integer"),
                Frame::NullBulk | Frame::Null => 0,
                other => panic!("GET {}: {other:?}", keys::counter_in(namespace, slot)),
            };
            values.insert(slot, value);
        }
    }
}

/// Checks every counter; `loss_allowed(slot)` says where acknowledged writes may be missing.
pub fn check_counters(
    report: &LoadReport,
    values: &BTreeMap<usize, i64>,
    loss_allowed: &dyn Fn(usize) -> bool,
) -> CounterCheck {
    let mut check = CounterCheck::default();
    for (&slot, tally) in &report.counters {
        check.counters += 1;
        let value = values.get(&slot).copied().unwrap_or(0);
        let low = tally.acked as i64;
        let high = low + tally.ambiguous as i64;
        if value < low {
            let n = (low - value) as u64;
            if loss_allowed(slot) {
                check.lost_allowed += n;
            } else {
                check.lost += n;
                problem(
                    &mut check,
                    format!("slot {slot}: {value} in Redis, {low} acknowledged"),
                );
            }
        } else if value > high {
            check.duplicated += (value - high) as u64;
            problem(
                &mut check,
                format!(
                    "slot {slot}: {value} in Redis, {low} acknowledged + {} ambiguous",
                    tally.ambiguous
                ),
            );
        }
    }
    check
}

fn problem(check: &mut CounterCheck, text: String) {
    if check.problems.len() < 10 {
        check.problems.push(text);
    }
}
