//! `cargo xtask ci`: everything CI checks, in order, failing fast.
//!
//! 1. `cargo fmt --check` (workspace and fuzz crate)
//! 2. `cargo clippy --workspace --all-targets -- -D warnings` (and the fuzz crate)
//! 3. `cargo test --workspace` (unit, property, doc and real-server tests)
//! 4. the examples against real clusters on loopback: `std_adapter` (slotwise-cluster) and each
//!    adapter's `*_everyday` on a plain 3-primary cluster, each adapter's `*_tls_acl` on a TLS
//!    cluster with an ACL user; the `*_everyday` ones again on a standalone server
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

    step("examples against real clusters");
    examples()?;

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

/// Each example, by package: it must exit 0 (every one checks what it reads back).
const PLAIN_EXAMPLES: &[(&str, &str)] = &[
    ("slotwise-cluster", "std_adapter"),
    ("slotwise-tokio", "tokio_everyday"),
    ("slotwise-async-std", "async_std_everyday"),
    ("slotwise-blocking", "blocking_everyday"),
];
/// Run with `SEED CA_FILE USER PASSWORD` against a TLS cluster with that ACL user.
const TLS_EXAMPLES: &[(&str, &str)] = &[
    ("slotwise-tokio", "tokio_tls_acl"),
    ("slotwise-async-std", "async_std_tls_acl"),
    ("slotwise-blocking", "blocking_tls_acl"),
];
const ACL_USER: (&str, &str) = ("app", "examples-s3cret");

/// Builds the examples, then starts a 3-primary cluster (one replica each) on free loopback ports
/// and runs the plain examples against it, then a TLS cluster with an ACL user for the TLS ones;
/// each cluster is stopped by the PIDs it started, also when an example fails.
pub(crate) fn examples() -> Result {
    // Built first (each with the features of its own package, as `cargo run` will want it), so
    // the clusters only run for as long as the examples do.
    for (package, example) in PLAIN_EXAMPLES.iter().chain(TLS_EXAMPLES) {
        exec(cargo().args(["build", "-p", package, "--example", example]))?;
    }
    let started = std::time::Instant::now();
    with_cluster(
        &ClusterOptions {
            primaries: 3,
            replicas: 1,
            ..ClusterOptions::default()
        },
        |cluster| {
            let seed = format!(
                "127.0.0.1:{}",
                cluster.seed().map_err(|e| e.to_string())?.port()
            );
            for (package, example) in PLAIN_EXAMPLES {
                run_example(package, example, &[&seed])?;
            }
            Ok(())
        },
    )?;
    with_cluster(
        &ClusterOptions {
            primaries: 3,
            replicas: 0,
            tls: true,
            acl: Some((ACL_USER.0.into(), ACL_USER.1.into())),
            ..ClusterOptions::default()
        },
        |cluster| {
            let seed = format!(
                "localhost:{}",
                cluster.seed().map_err(|e| e.to_string())?.port()
            );
            let files = cluster
                .tls_files()
                .ok_or("the TLS cluster has no TLS files")?;
            let ca = files.ca_cert.to_string_lossy().into_owned();
            for (package, example) in TLS_EXAMPLES {
                run_example(package, example, &[&seed, &ca, ACL_USER.0, ACL_USER.1])?;
            }
            Ok(())
        },
    )?;
    // The same everyday work against a standalone server (cluster mode off).
    let server =
        slotwise_test_cluster::Server::start(&slotwise_test_cluster::ServerOptions::default())
            .map_err(|e| format!("could not start a standalone server for the examples: {e}"))?;
    let seed = format!("127.0.0.1:{}", server.port());
    for (package, example) in PLAIN_EXAMPLES
        .iter()
        .filter(|(_, e)| e.ends_with("_everyday"))
    {
        run_example(package, example, &[&seed])?;
    }
    drop(server);
    eprintln!("examples passed in {:.1?}", started.elapsed());
    Ok(())
}

/// Starts a cluster, runs `body` on it, and stops it (also when `body` fails).
fn with_cluster(options: &ClusterOptions, body: impl FnOnce(&Cluster) -> Result) -> Result {
    let started = std::time::Instant::now();
    let cluster = Cluster::start(options)
        .map_err(|e| format!("could not start a cluster for the examples: {e}"))?;
    eprintln!("cluster up in {:.1?}", started.elapsed());
    let result = body(&cluster);
    let stopped = cluster.stop();
    result?;
    stopped.map_err(|e| format!("could not stop the examples' cluster: {e}"))?;
    Ok(())
}

fn run_example(package: &str, example: &str, args: &[&str]) -> Result {
    eprintln!("--> example {example}");
    exec(
        cargo()
            .args(["run", "-p", package, "--example", example, "--"])
            .args(args),
    )
}

fn step(name: &str) {
    eprintln!("\n==> {name}");
}
