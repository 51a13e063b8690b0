//! Traffic for the shards a fault does not touch, kept apart from the main load: closed-loop
//! workers that sweep every slot pile up on a faulted shard, so only traffic of its own shows
//! whether the other shards went on. Bounded in count and time.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use slotwise_cluster::Request;

use crate::client::TestClient;
use crate::keys;

/// Most requests per thread, and the longest a thread runs if never stopped.
const MAX_REQUESTS: usize = 200_000;
const MAX_TIME: Duration = Duration::from_secs(60);

/// What the bystanders saw.
#[derive(Debug, Default)]
pub struct BystanderReport {
    /// Requests answered.
    pub ok: u64,
    /// Requests that failed, in full.
    pub failed: Vec<String>,
    /// The longest any thread went between two answers.
    pub max_gap: Duration,
}

/// Running bystander threads; [`Bystanders::stop`] ends them.
pub struct Bystanders {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<BystanderReport>>,
}

impl Bystanders {
    /// Starts `threads` threads on `client`, each cycling over its share of `slots` with an
    /// idempotent `SET` (deadline `timeout`).
    pub fn start(
        client: &Arc<dyn TestClient>,
        slots: Vec<usize>,
        threads: usize,
        timeout: Duration,
    ) -> Bystanders {
        assert!(!slots.is_empty(), "bystanders need slots");
        let stop = Arc::new(AtomicBool::new(false));
        let slots = Arc::new(slots);
        let threads = (0..threads)
            .map(|t| {
                let client = Arc::clone(client);
                let stop = Arc::clone(&stop);
                let slots = Arc::clone(&slots);
                std::thread::spawn(move || run(&*client, &slots, t, threads, timeout, &stop))
            })
            .collect();
        Bystanders { stop, threads }
    }

    /// Stops the threads and merges what they saw.
    pub fn stop(self) -> BystanderReport {
        self.stop.store(true, Ordering::Relaxed);
        let mut report = BystanderReport::default();
        for t in self.threads {
            let r = t.join().expect("a bystander thread panicked");
            report.ok += r.ok;
            report.failed.extend(r.failed);
            report.max_gap = report.max_gap.max(r.max_gap);
        }
        report
    }
}

fn run(
    client: &dyn TestClient,
    slots: &[usize],
    t: usize,
    threads: usize,
    timeout: Duration,
    stop: &AtomicBool,
) -> BystanderReport {
    let mut report = BystanderReport::default();
    let started = Instant::now();
    let mut last_ok = Instant::now();
    let mine = slots.iter().skip(t).step_by(threads.max(1)).cycle();
    for slot in mine.take(MAX_REQUESTS) {
        if stop.load(Ordering::Relaxed) || started.elapsed() > MAX_TIME {
            break;
        }
        let key = keys::value_in("bystander", *slot);
        let request = Request::new(["SET", key.as_str(), "x"])
            .idempotent()
            .timeout(timeout);
        match client.call(request) {
            Ok(_) => {
                report.ok += 1;
                report.max_gap = report.max_gap.max(last_ok.elapsed());
                last_ok = Instant::now();
            }
            Err(e) => report.failed.push(format!("slot {slot}: {e}")),
        }
    }
    report
}
