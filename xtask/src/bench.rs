//! `cargo xtask bench [BENCH…] [--full] [-- CRITERION ARGS…]`: the criterion benches of
//! `benches/`, with the settings the figures in `benches/README.md` were taken with.
//!
//! Each bench runs its peers side by side in one run (`e2e` starts its own local cluster). The
//! default settings are short (1 s warm-up, 3 s measurement, one `bencher`-format line per
//! benchmark, easy to paste); `--full` keeps criterion's defaults (and its HTML reports).

use crate::util::{Result, cargo, exec, manifest_names, root};

/// What `run` was asked for.
#[derive(Debug, PartialEq, Eq)]
struct Plan {
    benches: Vec<String>,
    full: bool,
    /// Passed to criterion after the defaults (a filter, `--save-baseline NAME` …).
    criterion: Vec<String>,
}

pub(crate) fn run(args: &[String]) -> Result {
    let all = benches()?;
    let plan = plan(args, &all)?;
    for bench in &plan.benches {
        println!("== cargo bench -p slotwise-benches --bench {bench}");
        let mut cmd = cargo();
        cmd.args(["bench", "-p", "slotwise-benches", "--bench", bench, "--"]);
        if !plan.full {
            cmd.args([
                "--warm-up-time",
                "1",
                "--measurement-time",
                "3",
                "--output-format",
                "bencher",
            ]);
        }
        cmd.args(&plan.criterion);
        exec(&mut cmd)?;
    }
    Ok(())
}

fn plan(args: &[String], all: &[String]) -> Result<Plan> {
    let mut plan = Plan {
        benches: Vec::new(),
        full: false,
        criterion: Vec::new(),
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--full" => plan.full = true,
            "--" => plan.criterion.extend(args.by_ref().cloned()),
            name if all.iter().any(|b| b == name) => {
                if !plan.benches.iter().any(|b| b == name) {
                    plan.benches.push(name.to_string());
                }
            }
            other => {
                return Err(format!(
                    "unexpected argument {other:?}; usage: cargo xtask bench [BENCH…] [--full] \
                     [-- CRITERION ARGS…]; benches: {}",
                    all.join(", ")
                )
                .into());
            }
        }
    }
    if plan.benches.is_empty() {
        plan.benches = all.to_vec();
    }
    Ok(plan)
}

/// The `[[bench]]` names in `benches/Cargo.toml`, in file order.
fn benches() -> Result<Vec<String>> {
    let manifest = std::fs::read_to_string(root().join("benches/Cargo.toml"))?;
    Ok(manifest_names(&manifest, "[[bench]]"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(s: &[&str]) -> Vec<String> {
        s.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn the_workspace_benches_are_found() {
        let names = benches().unwrap();
        for expected in ["resp", "slot", "topology", "cluster", "e2e"] {
            assert!(
                names.iter().any(|n| n == expected),
                "{expected} in {names:?}"
            );
        }
        // A `[lints]` section between benches does not hide the ones after it.
        let manifest =
            "[[bench]]\nname = \"a\"\n\n[lints]\nworkspace = true\n\n[[bench]]\nname = \"b\"\n";
        assert_eq!(manifest_names(manifest, "[[bench]]"), strings(&["a", "b"]));
        assert!(manifest_names(manifest, "[[bin]]").is_empty());
    }

    #[test]
    fn arguments() {
        let all = strings(&["resp", "slot", "e2e"]);
        let p = plan(&[], &all).unwrap();
        assert_eq!((p.benches, p.full), (all.clone(), false));
        let p = plan(
            &strings(&["e2e", "resp", "e2e", "--", "serial", "--noplot"]),
            &all,
        )
        .unwrap();
        assert_eq!(p.benches, strings(&["e2e", "resp"]));
        assert_eq!(p.criterion, strings(&["serial", "--noplot"]));
        assert!(plan(&strings(&["--full", "slot"]), &all).unwrap().full);
        let e = plan(&strings(&["nope"]), &all).unwrap_err().to_string();
        assert!(
            e.contains("\"nope\"") && e.contains("resp, slot, e2e"),
            "{e}"
        );
    }
}
