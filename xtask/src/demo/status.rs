//! The live status line: once a second, ops/s, latency percentiles, errors, and what the client
//! saw (redirects, retries, refreshes, topology epoch: its `stats()`). On a terminal it rewrites one
//! line; otherwise (a pipe, CI logs) it prints a line per second.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use super::histogram::Snapshot;
use super::stats::{PHASES, Stats};

/// Prints status lines and phase notes without mixing them up.
pub(crate) struct Printer {
    tty: bool,
    /// A status line is on screen without its newline.
    open: AtomicBool,
}

impl Printer {
    pub(crate) fn new() -> Printer {
        Printer {
            tty: std::io::stdout().is_terminal(),
            open: AtomicBool::new(false),
        }
    }

    /// A line that stays (phase changes, fault results).
    pub(crate) fn note(&self, text: &str) {
        let mut out = std::io::stdout().lock();
        if self.open.swap(false, Ordering::Relaxed) {
            let _ = write!(out, "\r\x1b[2K");
        }
        let _ = writeln!(out, "{text}");
        let _ = out.flush();
    }

    fn status(&self, text: &str) {
        let mut out = std::io::stdout().lock();
        if self.tty {
            let _ = write!(out, "\r\x1b[2K{text}");
            self.open.store(true, Ordering::Relaxed);
        } else {
            let _ = writeln!(out, "{text}");
        }
        let _ = out.flush();
    }

    /// Ends an open status line.
    pub(crate) fn finish(&self) {
        if self.open.swap(false, Ordering::Relaxed) {
            println!();
        }
    }
}

/// Runs the status line until `stop` is set.
pub(crate) fn spawn(
    stats: Arc<Stats>,
    client: slotwise_client::Handle,
    runtime: tokio::runtime::Handle,
    printer: Arc<Printer>,
    stop: Arc<AtomicBool>,
) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let mut last = Snapshot::empty();
        let mut last_errors = 0;
        let mut tick = std::time::Instant::now();
        while !stop.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(100));
            if tick.elapsed() < Duration::from_secs(1) {
                continue;
            }
            let secs = tick.elapsed().as_secs_f64();
            tick = std::time::Instant::now();
            let now = stats.hist.snapshot();
            let window = now.since(&last);
            last = now;
            let errors = stats.errors.load(Ordering::Relaxed);
            let new_errors = errors - last_errors;
            last_errors = errors;
            let max = stats.window_max_us.swap(0, Ordering::Relaxed);
            let seen = runtime.block_on(client.stats()).unwrap_or_default();
            let line = format!(
                "{:>4}s {:<12} {:>7.0} ops/s  p50 {:>6}  p99 {:>6}  max {:>7}  errors {:<3} \
                 MOVED {} ASK {} retries {} refreshes {} epoch {}",
                stats.started.elapsed().as_secs(),
                PHASES[stats.phase()],
                window.count() as f64 / secs,
                ms(window.quantile(0.5)),
                ms(window.quantile(0.99)),
                ms(max),
                new_errors,
                seen.moved,
                seen.ask,
                seen.retries,
                seen.refreshes,
                seen.topology_epoch,
            );
            printer.status(&line);
        }
    })
}

/// Microseconds as a short millisecond figure.
pub(crate) fn ms(us: u64) -> String {
    if us >= 100_000 {
        format!("{:.0}ms", us as f64 / 1000.0)
    } else {
        format!("{:.2}ms", us as f64 / 1000.0)
    }
}
