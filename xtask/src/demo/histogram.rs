//! A lock-free latency histogram: log-linear buckets (about 3 % wide) of microseconds, recorded
//! with one atomic add, read as snapshots that can be subtracted (per second, per phase).

use std::sync::atomic::{AtomicU64, Ordering};

/// Exact buckets below this many microseconds.
const LINEAR: usize = 64;
/// Sub-buckets per power of two above it.
const SUB: usize = 32;
/// Powers of two covered above `LINEAR` (up to ~2^38 µs, days).
const OCTAVES: usize = 32;
const BUCKETS: usize = LINEAR + SUB * OCTAVES;

/// Cumulative counts per bucket.
pub(crate) struct Histogram {
    buckets: Vec<AtomicU64>,
}

/// Counts per bucket at one moment (or the difference of two moments).
#[derive(Clone)]
pub(crate) struct Snapshot {
    counts: Vec<u64>,
}

fn index(micros: u64) -> usize {
    if micros < LINEAR as u64 {
        return micros as usize;
    }
    let exp = 63 - micros.leading_zeros() as usize; // ≥ 6
    let sub = ((micros >> (exp - 5)) as usize) & (SUB - 1);
    (LINEAR + (exp - 6) * SUB + sub).min(BUCKETS - 1)
}

/// The upper bound of a bucket, in microseconds.
fn upper(index: usize) -> u64 {
    if index < LINEAR {
        return index as u64;
    }
    let exp = (index - LINEAR) / SUB + 6;
    let sub = ((index - LINEAR) % SUB) as u64;
    ((SUB as u64 + sub + 1) << (exp - 5)) - 1
}

impl Histogram {
    pub(crate) fn new() -> Histogram {
        Histogram {
            buckets: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    pub(crate) fn record(&self, micros: u64) {
        self.buckets[index(micros)].fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> Snapshot {
        Snapshot {
            counts: self
                .buckets
                .iter()
                .map(|b| b.load(Ordering::Relaxed))
                .collect(),
        }
    }
}

impl Snapshot {
    pub(crate) fn empty() -> Snapshot {
        Snapshot {
            counts: vec![0; BUCKETS],
        }
    }

    /// What was recorded between `earlier` and `self`.
    pub(crate) fn since(&self, earlier: &Snapshot) -> Snapshot {
        Snapshot {
            counts: self
                .counts
                .iter()
                .zip(&earlier.counts)
                .map(|(a, b)| a.saturating_sub(*b))
                .collect(),
        }
    }

    pub(crate) fn count(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// The latency below which a fraction `q` of the samples fall (µs; 0 without samples).
    pub(crate) fn quantile(&self, q: f64) -> u64 {
        let total = self.count();
        if total == 0 {
            return 0;
        }
        let rank = ((total as f64) * q).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return upper(i);
            }
        }
        upper(BUCKETS - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_contain_their_values() {
        for v in [0u64, 1, 63, 64, 65, 100, 1000, 12_345, 1 << 30] {
            let i = index(v);
            assert!(upper(i) >= v, "{v} in bucket {i} ≤ {}", upper(i));
            if i > 0 {
                assert!(upper(i - 1) < v, "{v} belongs above bucket {}", i - 1);
            }
            assert!(upper(i) as f64 <= v as f64 * 1.04 + 1.0);
        }
    }

    #[test]
    fn quantiles() {
        let h = Histogram::new();
        for v in 1..=100 {
            h.record(v * 10);
        }
        let s = h.snapshot().since(&Snapshot::empty());
        let p50 = s.quantile(0.5);
        assert!((490..=520).contains(&p50), "{p50}");
        assert!(s.quantile(1.0) >= 1000);
    }
}
