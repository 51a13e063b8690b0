//! `cargo xtask ci`: everything CI checks, in order, failing fast.
//!
//! 1. `cargo fmt --check` (workspace and fuzz crate)
//! 2. `cargo clippy --workspace --all-targets -- -D warnings` (and the fuzz crate)
//! 3. `cargo test --workspace` (unit, property, doc and real-server tests)
//! 4. a `no_std` build of every core crate for `thumbv7em-none-eabihf`
//! 5. the fuzz smoke: every target's seed corpus and mutations on stable (`cargo test` in `fuzz/`), then
//!    each target under libFuzzer for a few seconds when nightly and cargo-fuzz are available.

use std::process::Command;

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

fn step(name: &str) {
    eprintln!("\n==> {name}");
}
