//! `cargo xtask fuzz [TARGET] [--seconds N]`: run cargo-fuzz targets under libFuzzer (nightly).
//!
//! Crashes are written to `fuzz/artifacts/TARGET/`; the corpus grows in `fuzz/corpus/TARGET/` (only the
//! committed `seed-*` files are tracked).

use std::process::Command;

use crate::util::{Result, exec, manifest_names, root, succeeds};

pub(crate) fn run(args: &[String]) -> Result {
    let mut seconds = 60;
    let mut target = None;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--seconds" => seconds = args.next().ok_or("--seconds needs a number")?.parse()?,
            name if !name.starts_with('-') && target.is_none() => target = Some(name.to_string()),
            other => {
                return Err(format!(
                    "unexpected argument {other:?}; usage: cargo xtask fuzz [TARGET] [--seconds N]"
                )
                .into());
            }
        }
    }
    if !libfuzzer_available() {
        return Err("libFuzzer needs the nightly toolchain and cargo-fuzz: \
                    `rustup toolchain install nightly && cargo install cargo-fuzz`"
            .into());
    }
    let all = targets()?;
    let chosen = match target {
        Some(t) if all.contains(&t) => vec![t],
        Some(t) => return Err(format!("no fuzz target {t:?}; targets: {}", all.join(", ")).into()),
        None => all,
    };
    for target in chosen {
        run_target(&target, seconds)?;
    }
    Ok(())
}

/// True when `rustup run nightly cargo fuzz` works.
pub(crate) fn libfuzzer_available() -> bool {
    succeeds(Command::new("rustup").args(["run", "nightly", "cargo", "fuzz", "--version"]))
}

/// The targets listed by cargo-fuzz's manifest (`[[bin]]` names in `fuzz/Cargo.toml`).
pub(crate) fn targets() -> Result<Vec<String>> {
    let manifest = std::fs::read_to_string(root().join("fuzz/Cargo.toml"))?;
    Ok(manifest_names(&manifest, "[[bin]]"))
}

/// Runs one target for `seconds` (seed corpus first), failing on any crash.
pub(crate) fn run_target(target: &str, seconds: u64) -> Result {
    let corpus = root().join("fuzz/corpus").join(target);
    std::fs::create_dir_all(&corpus)?;
    exec(
        Command::new("rustup")
            .args(["run", "nightly", "cargo", "fuzz", "run", "--fuzz-dir"])
            .arg(root().join("fuzz"))
            .arg(target)
            .arg(&corpus)
            .arg("--")
            .arg(format!("-max_total_time={seconds}"))
            .arg("-print_final_stats=1")
            .current_dir(root()),
    )
}
