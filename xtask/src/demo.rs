//! `cargo xtask demo`: a local Redis Cluster, a steady workload through `slotwise-tokio` with a live
//! status line, and faults while it runs — graceful failover, `SIGKILL` of a primary, `SIGSTOP`
//! of a primary (frozen until its replica is promoted, then woken), a live reshard of 1,000
//! slots — then a table per phase and a check that every acknowledged `INCR` is
//! in Redis. Exit status 0 only when that check holds.
//!
//! ```text
//! cargo xtask demo [--duration SECS] [--tls] [--primaries N] [--replicas M] [--workers N]
//! ```

mod faults;
mod histogram;
mod keys;
mod ledger;
mod report;
mod stats;
mod status;
mod workload;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use slotwise_cluster::Frame;
use slotwise_test_cluster::{Cluster, ClusterOptions};

use self::ledger::{CounterLog, KillWindow};
use self::stats::{PHASES, Stats, lock};
use self::status::Printer;

/// The demo's errors: test-cluster's are `Send + Sync`, so these are too.
pub(crate) type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

const USAGE: &str = "usage: cargo xtask demo [--duration SECS] [--tls] [--primaries N] [--replicas M] [--workers N]\n\
    \n\
    --duration SECS   length of each of the 6 phases (default 8)\n\
    --tls             TLS cluster (certificates generated), client verifies the CA\n\
    --primaries N     primaries (default 3, at least 2)\n\
    --replicas M      replicas per primary (default 1, at least 1)\n\
    --workers N       concurrent tasks issuing requests (default 32)";

struct Options {
    duration: Duration,
    tls: bool,
    primaries: usize,
    replicas: usize,
    workers: usize,
}

impl Options {
    fn parse(args: &[String]) -> Result<Options> {
        let mut o = Options {
            duration: Duration::from_secs(8),
            tls: false,
            primaries: 3,
            replicas: 1,
            workers: 32,
        };
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            let mut number = |name: &str| -> Result<u64> {
                it.next()
                    .and_then(|v| v.parse().ok())
                    .ok_or_else(|| format!("{name} takes a number\n\n{USAGE}").into())
            };
            match arg.as_str() {
                "--duration" => o.duration = Duration::from_secs(number("--duration")?.max(1)),
                "--primaries" => o.primaries = number("--primaries")? as usize,
                "--replicas" => o.replicas = number("--replicas")? as usize,
                "--workers" => o.workers = (number("--workers")? as usize).clamp(1, 4096),
                "--tls" => o.tls = true,
                "-h" | "--help" => return Err(USAGE.into()),
                other => return Err(format!("unknown option {other:?}\n\n{USAGE}").into()),
            }
        }
        if o.primaries < 2 || o.replicas < 1 {
            return Err(format!(
                "the demo needs at least 2 primaries (to reshard) and 1 replica each (to fail over)\n\n{USAGE}"
            )
            .into());
        }
        Ok(o)
    }
}

pub(crate) fn run(args: &[String]) -> crate::util::Result {
    run_demo(args).map_err(|e| -> Box<dyn std::error::Error> { e })
}

fn run_demo(args: &[String]) -> Result {
    let options = Options::parse(args)?;
    let printer = Arc::new(Printer::new());
    printer.note(&format!(
        "starting a local Redis Cluster: {} primaries × {} replica(s){} …",
        options.primaries,
        options.replicas,
        if options.tls { ", TLS" } else { "" }
    ));
    let started = Instant::now();
    let cluster = Cluster::start(&ClusterOptions {
        primaries: options.primaries,
        replicas: options.replicas,
        tls: options.tls,
        ..Default::default()
    })?;
    printer.note(&format!(
        "cluster up in {}: nodes on ports {:?} (node timeout {} ms)",
        faults::secs(started.elapsed()),
        cluster.ports(),
        cluster.options().node_timeout_ms
    ));
    let outcome = demo(&cluster, &options, &printer);
    printer.note("stopping the cluster …");
    let stopped = cluster.stop();
    let holds = outcome?;
    stopped?;
    if holds {
        Ok(())
    } else {
        Err("verification failed: see the table above".into())
    }
}

/// Runs the workload and the phases; true when the verification holds.
fn demo(cluster: &Cluster, options: &Options, printer: &Arc<Printer>) -> Result<bool> {
    let tags = Arc::new(keys::tags_per_slot());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let client = runtime.block_on(connect(cluster))?;
    printer.note(&format!(
        "slotwise-tokio client connected; {} tasks issue SET (idempotent), GET and INCR (not idempotent) \
         on keys in all 16384 slots",
        options.workers
    ));

    let stats = Arc::new(Stats::new());
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..options.workers)
        .map(|w| {
            runtime.spawn(workload::worker(
                client.clone(),
                w,
                options.workers,
                Arc::clone(&tags),
                Arc::clone(&stats),
                Arc::clone(&stop),
            ))
        })
        .collect();
    let status_stop = Arc::new(AtomicBool::new(false));
    let status = status::spawn(
        Arc::clone(&stats),
        client.handle().clone(),
        runtime.handle().clone(),
        Arc::clone(printer),
        Arc::clone(&status_stop),
    );

    let mut kill: Option<KillWindow> = None;
    let phases = run_phases(cluster, options, &stats, printer, &mut kill);

    stop.store(true, Ordering::Relaxed);
    let mut logs = vec![CounterLog::default(); keys::SLOTS];
    for w in workers {
        for (slot, log) in runtime.block_on(w)? {
            logs[slot] = log;
        }
    }
    status_stop.store(true, Ordering::Relaxed);
    let _ = status.join();
    printer.finish();
    phases?;
    runtime.block_on(client.shutdown());
    drop(runtime);

    report::print_table(&stats);
    let finals = read_counters(cluster, &tags)?;
    let verdict = ledger::verify(&logs, &finals, kill.as_ref());
    report::print_verdict(&verdict);
    Ok(verdict.holds())
}

/// Steps through the phases: each lasts `options.duration`, and at least 2 s past the end of its
/// fault (so recovery shows in the phase that caused it).
fn run_phases(
    cluster: &Cluster,
    options: &Options,
    stats: &Stats,
    printer: &Printer,
    kill: &mut Option<KillWindow>,
) -> Result {
    for (i, name) in PHASES.iter().enumerate() {
        let start = Instant::now();
        stats.phase.store(i, Ordering::Relaxed);
        printer.note(&format!("── phase {}/{}: {name}", i + 1, PHASES.len()));
        let note = faults::inflict(cluster, i, kill)?;
        if !note.is_empty() {
            printer.note(&format!("   {note}"));
        }
        let settle = if note.is_empty() {
            start
        } else {
            Instant::now() + Duration::from_secs(2)
        };
        *lock(&stats.phases[i].note) = note;
        while start.elapsed() < options.duration || Instant::now() < settle {
            std::thread::sleep(Duration::from_millis(50));
        }
        *lock(&stats.phases[i].took) = Some(start.elapsed());
    }
    Ok(())
}

/// Reads every slot's counter from its primary, directly (pipelined `GET`s per node).
fn read_counters(cluster: &Cluster, tags: &[String]) -> Result<Vec<i64>> {
    let mut owner = vec![0u16; keys::SLOTS];
    for p in cluster.primaries()? {
        for r in &p.slots {
            for s in r.clone() {
                owner[usize::from(s)] = p.port;
            }
        }
    }
    let mut finals = vec![0i64; keys::SLOTS];
    let mut ports: Vec<u16> = owner.clone();
    ports.sort_unstable();
    ports.dedup();
    for port in ports {
        let slots: Vec<usize> = (0..keys::SLOTS).filter(|&s| owner[s] == port).collect();
        let mut conn = cluster.conn(port)?;
        for chunk in slots.chunks(1000) {
            for &s in chunk {
                conn.send(["GET", keys::counter_key(tags, s).as_str()])?;
            }
            for &s in chunk {
                finals[s] = match &conn.read()? {
                    Frame::BulkString(b) => std::str::from_utf8(b)?.parse()?,
                    Frame::NullBulk | Frame::Null => 0,
                    other => return Err(format!("GET counter of slot {s}: {other:?}").into()),
                };
            }
        }
    }
    Ok(finals)
}

/// Connects the client (TLS with the cluster's CA and client certificate when on).
async fn connect(cluster: &Cluster) -> Result<slotwise_tokio::Client> {
    let seed = cluster.seed()?;
    let mut config = slotwise_client::ClientConfig::new([seed.to_string()])?;
    if let Some(files) = cluster.tls_files() {
        config = config.tls(
            slotwise_client::TlsOptions::ca_file(&files.ca_cert)
                .client_cert(&files.client_cert, &files.client_key),
        );
    }
    Ok(slotwise_tokio::Client::connect(config).await?)
}
