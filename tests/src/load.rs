//! Traffic while faults happen: worker threads issuing `SET` (idempotent), `GET` and `INCR` (not
//! idempotent) over keys in every slot, bounded in operations and time, recording every outcome.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use slotwise_cluster::{Frame, Request, Stats};

use crate::client::{CallError, TestClient};
use crate::keys::{self, SLOTS};

/// How much traffic.
#[derive(Clone, Copy, Debug)]
pub struct LoadOptions {
    /// Worker threads (each one request at a time).
    pub workers: usize,
    /// Most operations per worker (each step is three).
    pub max_steps: u64,
    /// The longest the load may run even if never stopped.
    pub max_time: Duration,
    /// Per-request deadline.
    pub timeout: Duration,
    /// The keys' prefix: each load on a cluster needs its own, so its counters start at zero.
    pub namespace: &'static str,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            workers: 8,
            max_steps: 200_000,
            max_time: Duration::from_secs(60),
            timeout: Duration::from_secs(10),
            namespace: "load",
        }
    }
}

/// The three commands of a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Op {
    /// `SET value-key …`, marked idempotent.
    Set,
    /// `GET value-key`.
    Get,
    /// `INCR counter-key`, not idempotent.
    Incr,
}

/// One counter's tally: acknowledged `INCR`s, and failed ones that may have been applied.
#[derive(Clone, Copy, Debug, Default)]
pub struct Tally {
    /// Acknowledged.
    pub acked: u64,
    /// Failed, possibly applied.
    pub ambiguous: u64,
}

/// Everything one load run saw.
#[derive(Debug, Default)]
pub struct LoadReport {
    /// Operations attempted.
    pub ops: u64,
    /// Errors by command and kind.
    pub errors: BTreeMap<(Op, &'static str), u64>,
    /// The first few errors, in full.
    pub samples: Vec<String>,
    /// `GET` replies that were not the value this worker last set.
    pub stale_reads: u64,
    /// The longest any worker went between two successful operations.
    pub max_gap: Duration,
    /// When (since the load started) that gap ended.
    pub max_gap_end: Duration,
    /// Per counter slot, the tally (only slots that were touched).
    pub counters: BTreeMap<usize, Tally>,
    /// The keys' prefix.
    pub namespace: &'static str,
    /// The client's counters when the load stopped (since it connected: they include what came
    /// before this load on the same client).
    pub client: Stats,
}

impl LoadReport {
    /// Total errors.
    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    /// Errors other than `INCR`s that may have been applied (`ConnectionLost { maybe_applied }`).
    pub fn errors_besides_maybe_applied_incr(&self) -> u64 {
        self.errors
            .iter()
            .filter(|((op, kind), _)| {
                !(*op == Op::Incr && *kind == "ConnectionLost(maybe_applied)")
            })
            .map(|(_, n)| n)
            .sum()
    }

    fn merge(&mut self, other: LoadReport) {
        self.ops += other.ops;
        for (k, n) in other.errors {
            *self.errors.entry(k).or_default() += n;
        }
        for s in other.samples {
            if self.samples.len() < 10 {
                self.samples.push(s);
            }
        }
        self.stale_reads += other.stale_reads;
        if other.max_gap > self.max_gap {
            self.max_gap = other.max_gap;
            self.max_gap_end = other.max_gap_end;
        }
        self.counters.extend(other.counters);
    }

    /// One line for test output.
    pub fn summary(&self) -> String {
        let c = &self.client;
        format!(
            "{} ops, {} errors {:?}, {} stale reads, longest gap {:?}; client: MOVED {}, ASK {}, \
             retries {}, refreshes {}, epoch {}, connection failures {}",
            self.ops,
            self.error_count(),
            self.errors,
            self.stale_reads,
            self.max_gap,
            c.moved,
            c.ask,
            c.retries,
            c.refreshes,
            c.topology_epoch,
            c.connection_failures
        )
    }
}

/// Running traffic; [`Load::stop`] ends it and returns what it saw.
pub struct Load {
    client: Arc<dyn TestClient>,
    namespace: &'static str,
    stop: Arc<AtomicBool>,
    /// Steps done so far, by all workers.
    steps: Arc<AtomicU64>,
    workers: Vec<JoinHandle<LoadReport>>,
}

impl Load {
    /// Starts `options.workers` threads on `client`. Worker `w` owns the slots `w`, `w + workers`, …
    /// and walks them in order, so every counter has a single writer.
    pub fn start(client: Arc<dyn TestClient>, options: LoadOptions) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let steps = Arc::new(AtomicU64::new(0));
        let started = Instant::now();
        let workers = (0..options.workers)
            .map(|w| {
                let client = Arc::clone(&client);
                let stop = Arc::clone(&stop);
                let steps = Arc::clone(&steps);
                std::thread::spawn(move || worker(&*client, w, options, &stop, &steps, started))
            })
            .collect();
        Load {
            client,
            namespace: options.namespace,
            stop,
            steps,
            workers,
        }
    }

    /// True when every worker has finished (its steps or its time).
    pub fn finished(&self) -> bool {
        self.workers.iter().all(JoinHandle::is_finished)
    }

    /// Waits until the workers have together visited every slot once more (each step is one slot:
    /// worker `w` walks `w`, `w + workers`, …), or have finished, or `limit` has passed. After a
    /// fault, this makes sure the traffic met every slot the fault touched.
    pub fn wait_for_one_sweep(&self, limit: Duration) {
        let target = self.steps.load(Ordering::Relaxed) + SLOTS as u64;
        let started = Instant::now();
        while self.steps.load(Ordering::Relaxed) < target
            && !self.finished()
            && started.elapsed() < limit
        {
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Stops the workers (each finishes its current request), merges their reports and reads the
    /// client's counters.
    pub fn stop(self) -> LoadReport {
        self.stop.store(true, Ordering::Relaxed);
        let mut report = LoadReport {
            namespace: self.namespace,
            ..Default::default()
        };
        for w in self.workers {
            report.merge(w.join().expect("a load worker panicked"));
        }
        report.client = self
            .client
            .stats()
            .unwrap_or_else(|e| panic!("reading the client's stats: {e}"));
        assert!(
            report.client.requests >= report.ops,
            "the client counted fewer requests than the load made: {:?}",
            report.client
        );
        report
    }
}

fn worker(
    client: &dyn TestClient,
    w: usize,
    options: LoadOptions,
    stop: &AtomicBool,
    steps: &AtomicU64,
    started: Instant,
) -> LoadReport {
    let mut report = LoadReport::default();
    let mut last_ok = Instant::now();
    let mut slot = w;
    let mut record =
        |report: &mut LoadReport, op: Op, slot: usize, result: &Result<Frame, CallError>| {
            report.ops += 1;
            match result {
                Ok(_) => {
                    let now = Instant::now();
                    let gap = now - last_ok;
                    if gap > report.max_gap {
                        report.max_gap = gap;
                        report.max_gap_end = now - started;
                    }
                    last_ok = now;
                }
                Err(e) => {
                    *report.errors.entry((op, e.kind())).or_default() += 1;
                    if report.samples.len() < 10 {
                        report.samples.push(format!("{op:?} slot {slot}: {e}"));
                    }
                }
            }
        };
    for step in 0..options.max_steps {
        if stop.load(Ordering::Relaxed) || started.elapsed() > options.max_time {
            break;
        }
        let value = format!("{w}:{step}");
        let set = Request::new([
            "SET",
            keys::value_in(options.namespace, slot).as_str(),
            value.as_str(),
        ])
        .idempotent()
        .timeout(options.timeout);
        let result = client.call(set);
        let set_ok = matches!(result, Ok(Frame::SimpleString(_)));
        record(&mut report, Op::Set, slot, &result);

        let get = Request::new(["GET", keys::value_in(options.namespace, slot).as_str()])
            .timeout(options.timeout);
        let result = client.call(get);
        if set_ok
            && let Ok(frame) = &result
            && !matches!(frame, Frame::BulkString(b) if b.as_ref() == value.as_bytes())
        {
            report.stale_reads += 1;
        }
        record(&mut report, Op::Get, slot, &result);

        let incr = Request::new(["INCR", keys::counter_in(options.namespace, slot).as_str()])
            .timeout(options.timeout);
        let result = client.call(incr);
        let tally = report.counters.entry(slot).or_default();
        match &result {
            Ok(Frame::Integer(_)) => tally.acked += 1,
            Ok(_) => {}
            Err(e) if e.maybe_applied() => tally.ambiguous += 1,
            Err(_) => {}
        }
        record(&mut report, Op::Incr, slot, &result);
        steps.fetch_add(1, Ordering::Relaxed);

        slot += options.workers;
        if slot >= SLOTS {
            slot = w;
        }
    }
    report
}
