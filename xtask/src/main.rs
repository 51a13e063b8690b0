//! `cargo xtask`: the project's automation, in Rust so it runs wherever cargo does.
//!
//! ```text
//! cargo xtask ci                          fmt, clippy, tests, examples on real clusters, no_std, fuzz smoke
//! cargo xtask fuzz [TARGET] [--seconds N] run cargo-fuzz targets (all when TARGET is omitted)
//! cargo xtask gen-commands                regenerate the command table from a live redis-server
//! cargo xtask cluster start|stop|status|… a real local Redis Cluster, and faults to inflict on it
//! cargo xtask demo [--duration S] [--tls] a cluster, traffic through slotwise-tokio, faults, a verdict
//! cargo xtask bench [BENCH…]              the criterion benches, peers side by side (benches/README.md)
//! ```

mod bench;
mod ci;
mod cluster;
mod demo;
mod fuzz;
mod gen_commands;
mod util;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (task, rest) = match args.split_first() {
        Some((task, rest)) => (task.as_str(), rest),
        None => ("help", &[][..]),
    };
    let result = match task {
        "ci" => ci::run(rest),
        "examples" => ci::examples(),
        "fuzz" => fuzz::run(rest),
        "gen-commands" => gen_commands::run(rest),
        "cluster" => cluster::run(rest),
        "demo" => demo::run(rest),
        "bench" => bench::run(rest),
        "help" | "--help" | "-h" => {
            println!("{}", HELP);
            Ok(())
        }
        other => Err(format!("unknown task {other:?}\n\n{HELP}").into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask {task}: {e}");
            ExitCode::FAILURE
        }
    }
}

const HELP: &str = "\
usage: cargo xtask <task> [args]

tasks:
  ci                           fmt check, clippy -D warnings, all tests, the examples on real
                               clusters, no_std builds, fuzz smoke
  examples                     build and run every example against real clusters (as ci does)
  fuzz [TARGET] [--seconds N]  run cargo-fuzz targets (default: all, 60 s each)
  gen-commands                 regenerate crates/slot's command table from a live redis-server
  cluster <cmd> [args]         start/stop/status a local Redis Cluster and inflict faults on it
  demo [--duration SECS] [--tls] [--primaries N --replicas M]
                               a local cluster, a workload through slotwise-tokio with a live status
                               line, failover + SIGKILL + live reshard while it runs, then a table and
                               a check that every acknowledged INCR is in Redis (exit 1 if not)
  bench [BENCH...] [--full] [-- ARGS]
                               criterion benches with peers side by side (resp, slot, topology,
                               cluster, e2e; default all), 1 s warm-up + 3 s measurement unless
                               --full; ARGS go to criterion (a filter, --save-baseline NAME ...)";
