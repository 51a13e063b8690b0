//! `slotwise topology watch HOST:PORT`: the live slot map, and each change as it happens.
//!
//! ```text
//! slotwise topology watch HOST:PORT [connection options as for -c] [--interval MS] [--count N] [--seconds S]
//! ```
//!
//! Asks the cluster for `CLUSTER SHARDS` (through `slotwise-blocking`, so failovers and redirects
//! are ridden out) every `--interval` (default 500 ms), prints the first slot map, then the
//! [`diff`] each time the map changes. A change is reported once two consecutive answers agree on
//! it, so nodes still converging on gossip do not show as flapping. Stops after `--count` changes
//! or `--seconds` (default: never).

use std::time::{Duration, Instant};

use slotwise_topology::{Origin, Topology, diff};

use crate::Failure;
use crate::live::{Connect, emit};

const USAGE: &str = "usage: slotwise topology watch HOST:PORT [--tls …] [--user U] [--pass P] \
                     [--interval MS] [--count N] [--seconds S]";

struct Bounds {
    interval: Duration,
    count: Option<u64>,
    seconds: Option<Duration>,
}

fn parse_bounds(args: &[String]) -> Result<Bounds, Failure> {
    let mut b = Bounds {
        interval: Duration::from_millis(500),
        count: None,
        seconds: None,
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let mut number = || -> Result<f64, Failure> {
            it.next()
                .and_then(|v| v.parse::<f64>().ok())
                .filter(|v| *v >= 0.0 && v.is_finite())
                .ok_or_else(|| Failure::Usage(format!("{flag} takes a number; {USAGE}")))
        };
        match flag.as_str() {
            "--interval" => b.interval = Duration::from_millis(number()?.max(10.0) as u64),
            "--count" => b.count = Some(number()? as u64),
            "--seconds" => b.seconds = Some(Duration::from_secs_f64(number()?)),
            other => return Err(Failure::Usage(format!("unknown option {other:?}; {USAGE}"))),
        }
    }
    Ok(b)
}

/// `slotwise topology watch …`.
pub(crate) fn run(args: &[String]) -> Result<(), Failure> {
    let (connect, rest) = Connect::parse(args, USAGE)?;
    let bounds = parse_bounds(rest)?;
    let origin = Origin::unknown().with_tls(connect.tls);
    let client = connect.connect()?;
    let started = Instant::now();
    let stamp = || format!("[+{:.1}s]", started.elapsed().as_secs_f64());
    let fetch = || -> Result<Topology, String> {
        let reply = client
            .cmd(["CLUSTER", "SHARDS"])
            .map_err(|e| e.to_string())?;
        Topology::from_cluster_shards(&reply, &origin).map_err(|e| e.to_string())
    };

    let mut current = loop {
        match fetch() {
            Ok(t) => break t,
            Err(e) if bounds.seconds.is_some_and(|s| started.elapsed() > s) => {
                return Err(Failure::Input(format!(
                    "no slot map from {}: {e}",
                    connect.seed
                )));
            }
            Err(e) => eprintln!("{} {e}", stamp()),
        }
        std::thread::sleep(bounds.interval);
    };
    emit(&format!(
        "{} slot map: {} shards, {} nodes, {} of 16384 slots covered\n{current}",
        stamp(),
        current.shards().len(),
        current.nodes().count(),
        current.covered_slot_count()
    ))?;

    let mut changes = 0u64;
    let mut candidate: Option<Topology> = None;
    while bounds.count.is_none_or(|n| changes < n)
        && bounds.seconds.is_none_or(|s| started.elapsed() < s)
    {
        std::thread::sleep(bounds.interval);
        let next = match fetch() {
            Ok(t) => t,
            Err(e) => {
                eprintln!("{} {e}", stamp());
                continue;
            }
        };
        if diff(&current, &next).is_empty() {
            candidate = None;
            continue;
        }
        match &candidate {
            Some(c) if diff(c, &next).is_empty() => {
                changes += 1;
                emit(&format!(
                    "{} change {changes}:\n{}",
                    stamp(),
                    diff(&current, &next)
                ))?;
                current = next;
                candidate = None;
            }
            _ => candidate = Some(next),
        }
    }
    client.shutdown();
    Ok(())
}
