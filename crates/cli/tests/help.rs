//! `slotwise help`, `--help` on every subcommand, and the usage errors of the subcommands.

use std::process::{Command, Stdio};

fn slotwise(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_slotwise"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run slotwise");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn every_subcommand_has_help() {
    let cases: &[(&[&str], &str)] = &[
        (&["help"], "usage: slotwise <command>"),
        (&["--help"], "usage: slotwise <command>"),
        (&["-h"], "usage: slotwise <command>"),
        (&["help", "decode"], "usage: slotwise decode"),
        (&["decode", "--help"], "--max-depth N"),
        (&["decode", "-h"], "usage: slotwise decode"),
        (&["help", "slot"], "usage: slotwise slot"),
        (&["slot", "--help"], "usage: slotwise slot"),
        (&["help", "keys"], "usage: slotwise keys"),
        (&["keys", "--help"], "usage: slotwise keys"),
        (&["help", "topology"], "usage: slotwise topology parse"),
        (&["topology", "--help"], "usage: slotwise topology parse"),
        (
            &["topology", "parse", "--help"],
            "usage: slotwise topology parse",
        ),
        (&["topology", "diff", "--help"], "slotwise topology diff"),
        (&["help", "watch"], "usage: slotwise topology watch"),
        (
            &["topology", "watch", "--help"],
            "usage: slotwise topology watch",
        ),
        (
            &["topology", "watch", "-h"],
            "usage: slotwise topology watch",
        ),
        (&["help", "-c"], "usage: slotwise [-c [HOST:PORT]]"),
        (&["-c", "--help"], "-h HOST"),
        (&["-c", "-h"], "usage: slotwise [-c [HOST:PORT]]"),
        (&["-p", "7000", "--help"], "Exit status (as redis-cli 7)"),
        (&["help", "limits"], "--max-bulk-len SIZE"),
    ];
    for (args, want) in cases {
        let (code, stdout, stderr) = slotwise(args);
        assert_eq!(code, 0, "{args:?}: {stderr}");
        assert!(stdout.contains(want), "{args:?}: {want:?} not in {stdout}");
        assert_eq!(stderr, "", "{args:?}");
    }
    let (code, stdout, _) = slotwise(&["--version"]);
    assert_eq!(code, 0);
    assert!(stdout.starts_with("slotwise "), "{stdout}");
}

#[test]
fn usage_errors() {
    // The offline subcommands: status 2 and the usage.
    for args in [
        &[][..],
        &["bogus"],
        &["GET", "k"],
        &["help", "bogus"],
        &["decode", "--bogus"],
        &["topology"],
        &["topology", "watch", "--interval"],
        &["topology", "watch", "-n", "2"],
    ] {
        let (code, stdout, stderr) = slotwise(args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert_eq!(stdout, "", "{args:?}");
        assert!(stderr.contains("usage"), "{args:?}: {stderr}");
    }
    // A Redis command without connection options is not sent anywhere: the hint says how.
    let (_, _, stderr) = slotwise(&["GET", "k"]);
    assert!(
        stderr.contains("slotwise -c -h HOST -p PORT GET"),
        "{stderr}"
    );
    // The live mode: status 1, as redis-cli.
    let (code, _, stderr) = slotwise(&["-c", "--raw", "GET", "k"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("--raw is not supported"), "{stderr}");
    let (code, _, stderr) = slotwise(&["-u", "http://127.0.0.1:7000", "GET", "k"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("invalid URI"), "{stderr}");
}
