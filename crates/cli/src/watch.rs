//! `slotwise topology watch HOST:PORT`: the live slot map, and each change as it happens.
//!
//! ```text
//! slotwise topology watch [HOST:PORT] [connection options as for -c] [--interval MS] [--count N] [--seconds S]
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
use crate::args::Words;
use crate::connect::Connect;
use crate::live::emit;

/// The help text of `slotwise topology watch`.
pub(crate) const HELP: &str = "\
usage: slotwise topology watch [HOST:PORT] [connection options] [--interval MS] [--count N] [--seconds S]

Prints the live slot map of a cluster, then each change as it happens (a change is told once two
answers in a row agree on it). The connection options are those of slotwise -c: -h HOST, -p PORT,
-u URI, -a PASSWORD, --user USER, --tls, --cacert FILE, --cert FILE --key FILE, --sni NAME, -2|-3,
--timeout SECS (see slotwise -c --help).
  --interval MS   how often to ask (default 500)
  --count N       exit 0 after N changes
  --seconds S     exit 0 after S seconds (and give up connecting after them)";

struct Bounds {
    interval: Duration,
    count: Option<u64>,
    seconds: Option<Duration>,
}

/// Takes a bound option (and its value) into `b`; `Ok(false)` if `flag` is not one.
fn take_bound(flag: &str, words: &mut Words<'_>, b: &mut Bounds) -> Result<bool, Failure> {
    if !matches!(flag, "--interval" | "--count" | "--seconds") {
        return Ok(false);
    }
    let v = words.value(flag)?;
    let n = v
        .parse::<f64>()
        .ok()
        .filter(|v| *v >= 0.0 && v.is_finite())
        .ok_or_else(|| Failure::Usage(format!("{flag} takes a number, not {v:?}")))?;
    match flag {
        "--interval" => b.interval = Duration::from_millis(n.max(10.0) as u64),
        "--count" => b.count = Some(n as u64),
        _ => b.seconds = Some(Duration::from_secs_f64(n.min(1e9))),
    }
    Ok(true)
}

/// `slotwise topology watch …`.
pub(crate) fn run(args: &[String]) -> Result<(), Failure> {
    let mut connect = Connect::default();
    let mut bounds = Bounds {
        interval: Duration::from_millis(500),
        count: None,
        seconds: None,
    };
    let mut seeded = false;
    let mut words = Words::new(args);
    while let Some(word) = words.next() {
        if word == "--help" || (word == "-h" && words.peek().is_none()) {
            return emit(&format!("{HELP}\n"));
        }
        if connect.take(word, &mut words)? || take_bound(word, &mut words, &mut bounds)? {
            continue;
        }
        if !seeded && !word.starts_with('-') {
            connect.seed(word)?;
            seeded = true;
            continue;
        }
        return Err(Failure::Usage(format!(
            "topology watch: unexpected argument {word:?} (see slotwise topology watch --help)"
        )));
    }
    connect.password_from_env();
    connect.check()?;
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
                    connect.endpoint()
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
