//! What the workload records: per phase (for the final table) and overall (for the status line).

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::histogram::Histogram;

/// The phases, in order.
pub(crate) const PHASES: [&str; 6] = [
    "steady",
    "failover",
    "kill",
    "freeze",
    "reshard",
    "steady again",
];
/// The index of the `SIGKILL` phase.
pub(crate) const KILL_PHASE: usize = 2;

/// Counters for one phase.
pub(crate) struct PhaseStats {
    pub(crate) ops: AtomicU64,
    pub(crate) hist: Histogram,
    pub(crate) max_us: AtomicU64,
    pub(crate) max_gap_us: AtomicU64,
    pub(crate) errors: Mutex<BTreeMap<String, u64>>,
    pub(crate) samples: Mutex<Vec<String>>,
    /// Wall time the phase took (set when it ends), and what the fault did.
    pub(crate) took: Mutex<Option<Duration>>,
    pub(crate) note: Mutex<String>,
}

impl PhaseStats {
    fn new() -> PhaseStats {
        PhaseStats {
            ops: AtomicU64::new(0),
            hist: Histogram::new(),
            max_us: AtomicU64::new(0),
            max_gap_us: AtomicU64::new(0),
            errors: Mutex::new(BTreeMap::new()),
            samples: Mutex::new(Vec::new()),
            took: Mutex::new(None),
            note: Mutex::new(String::new()),
        }
    }
}

/// Everything, shared by the workers, the status line and the report.
pub(crate) struct Stats {
    pub(crate) started: Instant,
    pub(crate) phase: AtomicUsize,
    pub(crate) phases: Vec<PhaseStats>,
    /// All operations (the status line diffs snapshots of it).
    pub(crate) hist: Histogram,
    pub(crate) ops: AtomicU64,
    pub(crate) errors: AtomicU64,
    /// The slowest operation since the status line last looked.
    pub(crate) window_max_us: AtomicU64,
}

impl Stats {
    pub(crate) fn new() -> Stats {
        Stats {
            started: Instant::now(),
            phase: AtomicUsize::new(0),
            phases: PHASES.iter().map(|_| PhaseStats::new()).collect(),
            hist: Histogram::new(),
            ops: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            window_max_us: AtomicU64::new(0),
        }
    }

    pub(crate) fn phase(&self) -> usize {
        self.phase.load(Ordering::Relaxed)
    }

    /// A successful operation started in `phase` that took `latency`, `gap` after this worker's
    /// previous success (which was in `gap_phase`).
    pub(crate) fn success(&self, phase: usize, latency: Duration, gap_phase: usize, gap: Duration) {
        let us = latency.as_micros() as u64;
        let p = &self.phases[phase];
        p.ops.fetch_add(1, Ordering::Relaxed);
        p.hist.record(us);
        p.max_us.fetch_max(us, Ordering::Relaxed);
        self.phases[gap_phase]
            .max_gap_us
            .fetch_max(gap.as_micros() as u64, Ordering::Relaxed);
        self.ops.fetch_add(1, Ordering::Relaxed);
        self.hist.record(us);
        self.window_max_us.fetch_max(us, Ordering::Relaxed);
    }

    /// A failed operation started in `phase`, by kind.
    pub(crate) fn failure(&self, phase: usize, kind: &str, detail: String) {
        let p = &self.phases[phase];
        p.ops.fetch_add(1, Ordering::Relaxed);
        *lock(&p.errors).entry(kind.to_string()).or_default() += 1;
        let mut samples = lock(&p.samples);
        if samples.len() < 5 {
            samples.push(detail);
        }
        self.ops.fetch_add(1, Ordering::Relaxed);
        self.errors.fetch_add(1, Ordering::Relaxed);
    }
}

/// Locks, ignoring poisoning (a panicking worker is reported by its join).
pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
