//! `slotwise`: inspect RESP streams, key slots, commands and cluster topologies from the shell, and
//! run commands on a live cluster like redis-cli.
//!
//! ```text
//! slotwise decode [FILE|-] [--json] [--max-depth N …]   print each RESP frame of a byte stream
//! slotwise slot KEY… | --stdin           each key's cluster slot
//! slotwise keys CMD ARG… | --stdin       the keys of a command line, their slots and the routing decision
//! slotwise topology parse|diff …         slot maps from CLUSTER SHARDS/SLOTS/NODES replies
//! slotwise topology watch [HOST:PORT] …  the live slot map of a cluster, and each change
//! slotwise [-c [HOST:PORT]] [-h HOST] [-p PORT] [-a PASS] [options] [CMD ARG…]
//!                                        like redis-cli: one command, or commands from stdin
//! slotwise help [TOPIC] | --help | SUBCOMMAND --help
//! ```
//!
//! A first word starting with `-` starts the live mode (`live.rs`): its options are redis-cli's
//! (`args.rs`, `connect.rs`) and come before the command; every word after the command is an
//! argument of it.
//!
//! Exit status. Live mode, as redis-cli 7's: 0 when the command ran, an error reply included; 1
//! for an error reply with `-e`, for a failure to connect or a request that failed without a reply,
//! and for a bad option; reading standard input, 0 at its end. The other subcommands: 0 on
//! success, 1 when the input was malformed (after printing what was decoded and the error), 2 on a
//! usage error.

#![forbid(unsafe_code)]

mod args;
mod connect;
mod decode;
mod keys;
mod limits;
mod live;
mod quote;
mod repl;
mod subscribe;
mod topology;
mod watch;

use std::process::ExitCode;

/// Printing and dropping a frame recurse once per level of nesting; a large stack keeps a frame
/// as deep as `--max-depth` allows from overflowing it.
const STACK_SIZE: usize = 256 << 20;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    std::thread::Builder::new()
        .name("slotwise".into())
        .stack_size(STACK_SIZE)
        .spawn(move || run(&args))
        .ok()
        .and_then(|t| t.join().ok())
        .unwrap_or(ExitCode::FAILURE)
}

fn run(args: &[String]) -> ExitCode {
    let Some((command, rest)) = args.split_first() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let live = command.starts_with('-') && !matches!(command.as_str(), "--help" | "--version");
    let result = match command.as_str() {
        "decode" => decode::run(rest),
        "slot" => keys::run_slot(rest),
        "keys" => keys::run_keys(rest),
        "topology" => topology::run(rest),
        "help" => help(rest),
        "--help" => live::emit(&format!("{USAGE}\n")),
        "-h" if rest.is_empty() => live::emit(&format!("{USAGE}\n")),
        "--version" => live::emit(&format!("slotwise {}\n", env!("CARGO_PKG_VERSION"))),
        _ if live => live::run(args),
        other => Err(Failure::Usage(format!(
            "unknown command {other:?} (to run it on a cluster, give the connection first: \
             slotwise -c -h HOST -p PORT {other} …)"
        ))),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(msg)) if live => {
            eprintln!("slotwise: {msg}\n(see slotwise -c --help)");
            ExitCode::from(1)
        }
        Err(Failure::Usage(msg)) => {
            eprintln!("slotwise: {msg}\n\n{USAGE}");
            ExitCode::from(2)
        }
        Err(Failure::Input(msg)) => {
            eprintln!("slotwise: {msg}");
            ExitCode::from(1)
        }
        Err(Failure::Reply) => ExitCode::from(1),
    }
}

/// `slotwise help [TOPIC]`.
fn help(topic: &[String]) -> Result<(), Failure> {
    let words: Vec<&str> = topic.iter().map(String::as_str).collect();
    let text = match words.as_slice() {
        [] => USAGE.to_owned(),
        ["decode"] => format!("{}\n{}", decode::HELP, limits::HELP),
        ["slot"] => keys::SLOT_HELP.to_owned(),
        ["keys"] => keys::KEYS_HELP.to_owned(),
        ["topology"] | ["topology", "parse" | "diff"] => topology::HELP.to_owned(),
        ["watch"] | ["topology", "watch"] => watch::HELP.to_owned(),
        ["-c" | "cli" | "live" | "repl"] => live::HELP.to_owned(),
        ["limits"] => limits::HELP.to_owned(),
        _ => {
            return Err(Failure::Usage(format!(
                "help: no topic {:?} (topics: decode, slot, keys, topology, watch, -c, limits)",
                words.join(" ")
            )));
        }
    };
    live::emit(&format!("{text}\n"))
}

/// Why a command failed: how it was called, or what it was given.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Bad arguments (exit status 2; 1 in the live mode, as redis-cli).
    Usage(String),
    /// Bad or unreadable input, or a failed live command (exit status 1).
    Input(String),
    /// A live command got an error reply with `-e`, already printed (exit status 1).
    Reply,
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        Failure::Input(e.to_string())
    }
}

const USAGE: &str = "\
usage: slotwise <command> [args]

commands:
  decode [FILE|-] [--json] [--max-depth N …]
                                 print each RESP frame of a byte stream (default: stdin)
  slot KEY… | --stdin            print each key's cluster slot
  keys CMD ARG… | --stdin        print a command's keys, their slots and the routing decision
  topology parse|diff …          parse CLUSTER SHARDS/SLOTS/NODES replies; diff two of them
  topology watch [HOST:PORT] [connection options] [--count N] [--seconds S] [--interval MS]
                                 the live slot map, then each change as it happens
  [-c [HOST:PORT]] [-h HOST] [-p PORT] [-u URI] [-a PASSWORD] [--user USER] [-n 0] [-2|-3] [-e]
     [--tls [--cacert F] [--cert F --key F] [--sni NAME]] [--timeout SECS] [--json] [--count N]
     [CMD ARG…]                  like redis-cli -c: run CMD on a live cluster, or without CMD each
                                 line of standard input (a prompt on a terminal). Options go before
                                 CMD; words after CMD are its arguments (`GET k --json` sends
                                 \"--json\"). SUBSCRIBE ch… streams messages (--count N: stop after N)
  help [TOPIC]                   TOPIC: decode, slot, keys, topology, watch, -c, limits; or
                                 slotwise SUBCOMMAND --help

exit status: live mode as redis-cli: 0 when the command ran (an error reply included), 1 with -e
and an error reply, 1 when it could not connect or for a bad option; other commands: 0, 1 on bad
input, 2 on a usage error.";
