//! The demo's traffic: tokio tasks issuing `SET` (idempotent), `GET` and `INCR` (not idempotent)
//! over keys in every slot through one `slotwise-tokio` client, timing every call.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use slotwise_client::Error;
use slotwise_cluster::{Frame, Request, RequestError};
use slotwise_tokio::Client;

use super::keys::{SLOTS, counter_key, value_key};
use super::ledger::{CounterLog, Outcome};
use super::stats::Stats;

/// One worker: owns slots `w`, `w + workers`, … (so each counter has one writer) and walks them
/// until `stop`. Returns its counters' logs, by slot.
pub(crate) async fn worker(
    client: Client,
    w: usize,
    workers: usize,
    tags: Arc<Vec<String>>,
    stats: Arc<Stats>,
    stop: Arc<AtomicBool>,
) -> Vec<(usize, CounterLog)> {
    let mine: Vec<usize> = (w..SLOTS).step_by(workers).collect();
    let mut logs: Vec<CounterLog> = vec![CounterLog::default(); mine.len()];
    let mut last_ok = (Instant::now(), 0usize);
    let mut n = 0u64;
    'run: loop {
        for (i, &slot) in mine.iter().enumerate() {
            if stop.load(Ordering::Relaxed) {
                break 'run;
            }
            n += 1;
            let value = value_key(&tags, slot);
            let set = Request::new(["SET", value.as_str(), &n.to_string()]).idempotent();
            let _ = timed(&client, set, &stats, &mut last_ok).await;
            let get = Request::new(["GET", value.as_str()]);
            let _ = timed(&client, get, &stats, &mut last_ok).await;
            let counter = counter_key(&tags, slot);
            let result = timed(
                &client,
                Request::new(["INCR", counter.as_str()]),
                &stats,
                &mut last_ok,
            )
            .await;
            let outcome = match result {
                Ok(Frame::Integer(v)) => Outcome::Ack(v),
                Ok(_) => Outcome::NotApplied,
                Err(e) if ambiguous(&e) => Outcome::Ambiguous,
                Err(_) => Outcome::NotApplied,
            };
            logs[i].outcomes.push((stats.phase(), outcome));
        }
    }
    mine.into_iter().zip(logs).collect()
}

async fn timed(
    client: &Client,
    request: Request,
    stats: &Stats,
    last_ok: &mut (Instant, usize),
) -> Result<Frame, Error> {
    // Latency counts in the phase the request started in, a gap in the phase it started in: an
    // outage caused by a fault shows in that fault's phase even if it ends after the phase.
    let phase = stats.phase();
    let start = Instant::now();
    let result = client.send(request).await;
    let end = Instant::now();
    match &result {
        Ok(_) => {
            stats.success(phase, end - start, last_ok.1, end - last_ok.0);
            *last_ok = (end, phase);
        }
        Err(e) => stats.failure(phase, e.kind(), e.to_string()),
    }
    result
}

/// May an `INCR` that ended this way have been applied?
fn ambiguous(e: &Error) -> bool {
    match e {
        Error::Request(r) => matches!(
            r,
            RequestError::ConnectionLost { .. }
                | RequestError::Timeout { .. }
                | RequestError::Protocol { .. }
                | RequestError::ClusterDown { .. }
                | RequestError::TooManyRedirects { .. }
        ),
        Error::Redis(_) => false,
        _ => true,
    }
}
