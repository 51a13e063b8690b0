//! The final table: per phase, operations, errors seen by the caller by kind, the longest gap
//! between successes, latencies; then the verification of the counters.

use std::sync::atomic::Ordering;

use super::histogram::Snapshot;
use super::ledger::Verdict;
use super::stats::{PHASES, Stats, lock};
use super::status::ms;

/// Prints the per-phase table.
pub(crate) fn print_table(stats: &Stats) {
    println!();
    println!(
        "{:<13} {:>7} {:>10} {:>9} {:>8} {:>8} {:>9} {:>12}  errors seen by the caller",
        "phase", "time", "ops", "ops/s", "p50", "p99", "max", "longest gap"
    );
    for (name, p) in PHASES.iter().zip(&stats.phases) {
        let hist = p.hist.snapshot().since(&Snapshot::empty());
        let ops = p.ops.load(Ordering::Relaxed);
        let took = lock(&p.took).unwrap_or_default();
        let errors = lock(&p.errors);
        let errors = if errors.is_empty() {
            "none".to_string()
        } else {
            errors
                .iter()
                .map(|(k, n)| format!("{k} ×{n}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        println!(
            "{:<13} {:>6.1}s {:>10} {:>9.0} {:>8} {:>8} {:>9} {:>12}  {}",
            name,
            took.as_secs_f64(),
            ops,
            ops as f64 / took.as_secs_f64().max(0.001),
            ms(hist.quantile(0.5)),
            ms(hist.quantile(0.99)),
            ms(p.max_us.load(Ordering::Relaxed)),
            ms(p.max_gap_us.load(Ordering::Relaxed)),
            errors
        );
    }
    println!();
    for (name, p) in PHASES.iter().zip(&stats.phases) {
        let note = lock(&p.note);
        if !note.is_empty() {
            println!("{name}: {note}");
        }
        for s in lock(&p.samples).iter() {
            println!("  {name}: e.g. {s}");
        }
    }
    println!(
        "\n(longest gap: the longest any one worker waited between two successful operations; \
         each worker walks slots on every shard, so an outage of one shard shows in full)"
    );
}

/// Prints the verification and its rule.
pub(crate) fn print_verdict(v: &Verdict) {
    println!("\nverification of the INCR counters (read back from each slot's primary):");
    println!(
        "  rule: each slot's counter has one writer, one INCR at a time. Between two acknowledged INCRs,\n\
         \x20       the value they return grows by 1 plus at most one per ambiguous outcome between them\n\
         \x20       (ConnectionLost {{ maybe_applied }}, Timeout, Protocol, ClusterDown, TooManyRedirects);\n\
         \x20       the value in Redis at the end lies between the last acknowledged value and that plus\n\
         \x20       the ambiguous outcomes after it. More is a duplicate (never allowed). Less is a lost\n\
         \x20       write, allowed only across the SIGKILL and only on the killed primary's slots (it can\n\
         \x20       acknowledge a write before its replica has it)."
    );
    println!(
        "  {} counters, {} acknowledged INCR, {} ambiguous",
        v.counters, v.acknowledged, v.ambiguous
    );
    println!(
        "  lost across the kill (allowed): {}   lost elsewhere: {}   duplicated: {}",
        v.lost_in_kill, v.lost_elsewhere, v.duplicated
    );
    for p in &v.problems {
        println!("  ! {p}");
    }
    println!(
        "  verdict: {}",
        if v.holds() {
            "HOLDS: every acknowledged INCR is in Redis"
        } else {
            "FAILED"
        }
    );
}
