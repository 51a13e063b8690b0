//! `cargo xtask ci`: everything CI checks, in order, failing fast.
//!
//! 1. `cargo fmt --check` (workspace and fuzz crate)
//! 2. `cargo clippy --workspace --all-targets -- -D warnings` (and the fuzz crate)
//! 3. `cargo test --workspace` (unit, property, doc and real-server tests)
//! 4. the `std_adapter` example of `slotwise-cluster` against a real 3-primary cluster on loopback
//! 5. a `no_std` build of every core crate for `thumbv7em-none-eabihf`
//! 6. the fuzz smoke: every target's seed corpus and mutations on stable (`cargo test` in `fuzz/`), then
//!    each target under libFuzzer for a few seconds when nightly and cargo-fuzz are available.

use std::process::Command;

use slotwise_test_cluster::{Cluster, ClusterOptions};

use crate::fuzz;
use crate::util::{Result, cargo, exec, root};

/// The crates that must build without std.
pub(crate) const CORE_CRATES: &[&str] = &[
    "slotwise-resp",
    "slotwise-slot",
    "slotwise-topology",
    "slotwise-cluster",
];
const NO_STD_TARGET: &str = "thumbv7em-none-eabihf";

pub(crate) fn run(args: &[String]) -> Result {
    let fuzz_seconds = match args {
        [] => 10,
        [flag, n] if flag == "--fuzz-seconds" => n.parse()?,
        _ => return Err("usage: cargo xtask ci [--fuzz-seconds N]".into()),
    };
    let fuzz_manifest = root().join("fuzz/Cargo.toml");

    step("format");
    exec(cargo().args(["fmt", "--all", "--", "--check"]))?;
    exec(
        cargo()
            .args(["fmt", "--manifest-path"])
            .arg(&fuzz_manifest)
            .args(["--", "--check"]),
    )?;

    step("clippy");
    exec(cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    exec(
        cargo()
            .args(["clippy", "--manifest-path"])
            .arg(&fuzz_manifest)
            .args(["--lib", "--", "-D", "warnings"]),
    )?;

    step("tests");
    exec(cargo().args(["test", "--workspace", "--no-fail-fast"]))?;

    step("std adapter example against a real cluster");
    std_adapter_example()?;

    step("no_std builds");
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()?;
    if !String::from_utf8_lossy(&installed.stdout)
        .lines()
        .any(|t| t.trim() == NO_STD_TARGET)
    {
        exec(Command::new("rustup").args(["target", "add", NO_STD_TARGET]))?;
    }
    let mut build = cargo();
    build.args(["build", "--no-default-features", "--target", NO_STD_TARGET]);
    for krate in CORE_CRATES {
        build.args(["-p", krate]);
    }
    exec(&mut build)?;

    step("fuzz smoke");
    exec(
        cargo()
            .args(["test", "--manifest-path"])
            .arg(&fuzz_manifest)
            .arg("--lib"),
    )?;
    if fuzz::libfuzzer_available() {
        for target in fuzz::targets()? {
            fuzz::run_target(&target, fuzz_seconds)?;
        }
    } else {
        eprintln!(
            "(nightly or cargo-fuzz missing: the fuzz targets ran on stable through `cargo test --lib` only)"
        );
    }
    eprintln!("\nxtask ci: all checks passed");
    Ok(())
}

/// Starts a 3-primary cluster (one replica each) on free loopback ports, runs the
/// `std_adapter` example against it (it must exit 0: every value read back equals the one
/// written), and stops the cluster — by the PIDs it started, also when the example fails.
fn std_adapter_example() -> Result {
    let example = ["-p", "slotwise-cluster", "--example", "std_adapter"];
    // Built first (with the features of this one package, as `cargo run` will want it), so the
    // cluster only runs for as long as the example does.
    exec(cargo().arg("build").args(example))?;
    let started = std::time::Instant::now();
    let cluster = Cluster::start(&ClusterOptions {
        primaries: 3,
        replicas: 1,
        ..ClusterOptions::default()
    })
    .map_err(|e| format!("could not start a cluster for the example: {e}"))?;
    eprintln!("cluster up in {:.1?}", started.elapsed());
    let result = cluster
        .seed()
        .map_err(|e| e.to_string().into())
        .and_then(|seed| {
            let seed = format!("127.0.0.1:{}", seed.port());
            exec(cargo().arg("run").args(example).args(["--", &seed]))
        });
    let stopped = cluster.stop();
    result?;
    stopped.map_err(|e| format!("could not stop the example's cluster: {e}"))?;
    eprintln!("std adapter example passed in {:.1?}", started.elapsed());
    Ok(())
}

fn step(name: &str) {
    eprintln!("\n==> {name}");
}
