//! `slotwise`: inspect RESP streams, key slots, commands and cluster topologies from the shell.
//!
//! ```text
//! slotwise decode [FILE|-] [--json]     print each RESP frame of a byte stream
//! slotwise slot KEY… | --stdin           each key's cluster slot
//! slotwise keys CMD ARG… | --stdin       the keys of a command line, their slots and the routing decision
//! slotwise topology parse|diff …        slot maps from CLUSTER SHARDS/SLOTS/NODES replies
//! slotwise topology watch HOST:PORT …   the live slot map of a cluster, and each change
//! slotwise -c HOST:PORT [opts] CMD ARG…  one command on a live cluster (like redis-cli -c)
//! ```
//!
//! Exit status: 0 on success, 1 when the input was malformed (after printing what was decoded and the
//! error), 2 on a usage error.

mod decode;
mod keys;
mod live;
mod subscribe;
mod topology;
mod watch;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((command, rest)) = args.split_first() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let result = match command.as_str() {
        "decode" => decode::run(rest),
        "slot" => keys::run_slot(rest),
        "keys" => keys::run_keys(rest),
        "topology" => topology::run(rest),
        "-c" => live::run(rest),
        "help" | "--help" | "-h" => {
            println!("{USAGE}");
            Ok(())
        }
        other => Err(Failure::Usage(format!("unknown command {other:?}"))),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
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

/// Why a command failed: how it was called, or what it was given.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Bad arguments (exit status 2).
    Usage(String),
    /// Bad or unreadable input, or a failed live command (exit status 1).
    Input(String),
    /// A live command got an error reply, already printed (exit status 1).
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
  decode [FILE|-] [--json]       print each RESP frame of a byte stream (default: stdin)
  slot KEY… | --stdin            print each key's cluster slot
  keys CMD ARG… | --stdin        print a command's keys, their slots and the routing decision
  topology parse|diff …          parse CLUSTER SHARDS/SLOTS/NODES replies; diff two of them
  topology watch HOST:PORT [--count N] [--seconds S] [--interval MS] [connection options]
                                 the live slot map, then each change as it happens
  -c HOST:PORT [--tls [--cacert F] [--cert F --key F] [--sni NAME]] [--user U] [--pass P]
     [--timeout SECS] [--json] [--count N] CMD ARG…
                                 run one command on a live cluster (like redis-cli -c; multi-node
                                 commands such as DBSIZE, KEYS, MGET over slots, SCAN span every
                                 shard; --json prints the reply as plain JSON); SUBSCRIBE ch…,
                                 PSUBSCRIBE pattern…, SSUBSCRIBE ch… stream one line per message
                                 until interrupted (--count N: exit 0 after N messages)";
