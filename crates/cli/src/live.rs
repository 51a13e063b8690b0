//! The live mode, like redis-cli: `slotwise [-c] [options] [CMD ARG…]` runs one command on a
//! cluster, or, with no command, each line of standard input (see `repl.rs`). Routing, redirects
//! and retries are the slotwise core's, through `slotwise-blocking`; the options are parsed in
//! `args.rs` and `connect.rs`.
//!
//! A reply is printed as redis-cli prints it on a terminal (`--no-raw`): `OK`, `"…"`,
//! `(integer) 1`, `(nil)`, `(error) …`, numbered lines; a verbatim string (`=`, e.g. `CLUSTER
//! INFO`, `INFO`) as its text with its line breaks, and so a bulk-string reply of the commands
//! redis-cli prints raw (`INFO`, `CLUSTER INFO|NODES`, `CLIENT LIST|INFO`, `LOLWUT`, `MEMORY
//! DOCTOR`, `LATENCY DOCTOR` …, as they come from a RESP2 server or with `-2`). `--json` prints the
//! reply as plain JSON instead (strings, numbers, `null`, arrays, objects, `{"error": …}`).
//! Commands for several nodes go through the core's plans: `DBSIZE` sums every primary, `KEYS *`
//! lists every shard's keys, `MGET`/`DEL`/`MSET` over slots are split, `FLUSHALL` and `SCRIPT
//! LOAD` reach every primary, and `SCAN 0` walks the whole cluster. `SUBSCRIBE`, `PSUBSCRIBE` and
//! `SSUBSCRIBE` stream messages instead (`subscribe.rs`; `--count N` stops after N).
//!
//! A command the client refuses before sending it, where the server would answer with an error
//! reply (wrong arity, `CROSSSLOT`, `SELECT`, `MULTI` outside a session …), prints as that error
//! reply: `(error) ERR …`.
//!
//! Exit status, as redis-cli 7's: 0 when the command ran, whatever its reply, an error reply
//! included; 1 for an error reply with `-e` (the error then goes to stderr); 1 when the client
//! could not connect or the request failed without a reply (timeout, cluster down,
//! authentication refused …; told on stderr); 1 for a bad option. Reading standard input, the
//! status is 0 at the end of the input (or at `quit`), as redis-cli's, whatever the replies were.

use slotwise_blocking::{Client, Error, Frame, Request, RequestError};

use crate::Failure;
use crate::args::{self, Parsed};
use crate::decode::{render, to_json};
use serde_json::{Value, json};

/// The help text of the live mode.
pub(crate) const HELP: &str = "\
usage: slotwise [-c [HOST:PORT]] [OPTIONS] [CMD [ARG …]]

Runs CMD on a live Redis Cluster, like redis-cli -c (slotwise always follows the cluster's slot map,
MOVED and ASK; -c is accepted and implied). Without CMD, reads commands from standard input, one per
line, quoted as in redis-cli (\"a b\" with \\n \\\" \\\\ \\xHH escapes, 'a b'), and prints each reply as
for a single command; on a terminal it shows a prompt (127.0.0.1:7000> ); `quit` or `exit` ends it.
`N CMD …` runs CMD N times. Lines are edited by the terminal (backspace, ^U, ^W); there is no history.

Options come before CMD, in any order. Every word after CMD is an argument of CMD, even one that looks
like an option: `GET k --json` sends \"--json\" to the server (slotwise notes it on stderr).
  -c [HOST:PORT]     cluster mode (always on); a HOST:PORT or redis:// URI right after it is the seed;
                     redis+sentinel://[USER:PASS@]HOST:PORT[,HOST:PORT...]/MASTER asks those sentinels
                     for the primary named MASTER (rediss+sentinel://: TLS)
  -h HOST            server hostname (default 127.0.0.1); -h as the last word prints this help
  -p PORT            server port (default 6379)
  -u URI             redis://[[USER]:PASSWORD@]HOST[:PORT][/DB] (rediss:// turns TLS on)
  -a PASSWORD        password (also --pass; REDISCLI_AUTH when none is given)
  --user USER        ACL user (needs -a)
  --no-auth-warning  no warning about a password on the command line
  -n DB              database number: a cluster has only database 0, so only -n 0 is accepted
  -2 | -3            RESP2 | RESP3 (default: RESP3, falling back to RESP2)
  -e                 exit status 1 when the (single) command gets an error reply
  --tls              TLS (the system's roots unless --cacert)
  --cacert FILE      CA certificate to verify the server with (needs --tls)
  --cert FILE --key FILE  client certificate and key (need --tls)
  --sni NAME         server name for TLS (needs --tls)
  --no-raw           accepted: replies always print formatted
  --json             print each reply as plain JSON (slotwise's; before CMD)
  --count N          SUBSCRIBE/PSUBSCRIBE/SSUBSCRIBE: exit 0 after N messages (slotwise's)
  --timeout SECS     deadline of connecting and of each command (slotwise's)
  --max-depth N, --max-bulk-len SIZE …  the decoder's limits for replies (see slotwise help decode)
  --help, --version

Exit status (as redis-cli 7): 0 when the command ran, an error reply included (printed as
(error) …); 1 with -e and an error reply (printed on stderr); 1 when connecting or the request failed
(timeout, cluster down, authentication refused: told on stderr), or for a bad option. Reading
standard input: 0 at the end of the input, whatever the replies.";

/// How replies are printed.
pub(crate) struct Printing {
    /// Plain JSON, one reply per line.
    pub(crate) json: bool,
    /// Error replies go to stderr (`-e`).
    pub(crate) errors_to_stderr: bool,
    /// Subscriptions end after this many messages.
    pub(crate) count: Option<u64>,
}

/// How a command ended.
pub(crate) enum Outcome {
    /// A reply that is not an error (or a subscription that ended).
    Reply,
    /// An error reply (printed).
    ErrorReply,
}

/// `slotwise [-c] …`: the live mode.
pub(crate) fn run(args: &[String]) -> Result<(), Failure> {
    let inv = match args::parse(args)? {
        Parsed::Help => return emit(&format!("{HELP}\n")),
        Parsed::Version => return emit(&format!("slotwise {}\n", env!("CARGO_PKG_VERSION"))),
        Parsed::Run(inv) => inv,
    };
    if inv.connect.pass_on_command_line && !inv.no_auth_warning {
        eprintln!(
            "Warning: Using a password with '-a' or '-u' option on the command line interface may not be safe."
        );
    }
    let printing = Printing {
        json: inv.json,
        errors_to_stderr: inv.exit_on_error,
        count: inv.count,
    };
    if inv.command.is_empty() {
        return crate::repl::run(&inv.connect, &printing);
    }
    let name = &inv.command[0];
    for option in args::misplaced_options(&inv.command) {
        eprintln!(
            "slotwise: note: {option} comes after the command, so it is sent as an argument of {name}; options go before the command"
        );
    }
    let client = inv.connect.connect()?;
    let command: Vec<Vec<u8>> = inv.command.iter().map(|a| a.as_bytes().to_vec()).collect();
    let outcome = execute(&client, &command, &printing);
    client.shutdown();
    match outcome? {
        Outcome::ErrorReply if inv.exit_on_error => Err(Failure::Reply),
        _ => Ok(()),
    }
}

/// Runs one command (not empty) and prints its reply. A failure without a reply is returned.
pub(crate) fn execute(
    client: &Client,
    command: &[Vec<u8>],
    printing: &Printing,
) -> Result<Outcome, Failure> {
    let Some((name, rest)) = command.split_first() else {
        return Ok(Outcome::Reply);
    };
    let name_text = String::from_utf8_lossy(name);
    if let Some(kind) = crate::subscribe::kind_of(&name_text) {
        if !rest.is_empty() {
            crate::subscribe::run(client, kind, rest, printing.count, printing.json)?;
            return Ok(Outcome::Reply);
        }
        // What the server says to a SUBSCRIBE without channels.
        let line = format!(
            "ERR wrong number of arguments for '{}' command",
            name_text.to_ascii_lowercase()
        );
        return print_reply(&Frame::SimpleError(line.into()), false, printing);
    }
    let frame = match client.send(Request::new(command.iter().map(Vec::as_slice))) {
        Ok(frame) => frame,
        Err(Error::Redis(e)) => Frame::SimpleError(e.line().to_owned().into()),
        Err(Error::Request(e)) if refused_before_sending(&e) => {
            let line = match e {
                RequestError::CrossSlot => {
                    "CROSSSLOT Keys in request don't hash to the same slot".to_owned()
                }
                e => format!("ERR {e}"),
            };
            Frame::SimpleError(line.into())
        }
        Err(e) => return Err(Failure::Input(e.to_string())),
    };
    print_reply(&frame, prints_raw(command), printing)
}

/// A command the client refuses before sending it, where the server would have answered with an
/// error reply (wrong arity, CROSSSLOT, `SELECT`, `MULTI` out of a session …): printed as one.
fn refused_before_sending(e: &RequestError) -> bool {
    matches!(
        e,
        RequestError::InvalidCommand(_)
            | RequestError::CrossSlot
            | RequestError::Unsupported { .. }
            | RequestError::ConnectionState { .. }
            | RequestError::Transaction { .. }
            | RequestError::TooLarge { .. }
    )
}

fn print_reply(frame: &Frame, raw: bool, printing: &Printing) -> Result<Outcome, Failure> {
    let failed = frame.is_error();
    let mut out = String::new();
    if printing.json {
        out = plain_json(frame).to_string();
        out.push('\n');
    } else if let (true, Frame::BulkString(text)) = (raw, frame) {
        out.push_str(&String::from_utf8_lossy(text));
        if !out.ends_with('\n') {
            out.push('\n');
        }
    } else {
        render(frame, 0, &mut out);
    }
    if failed && printing.errors_to_stderr && !printing.json {
        eprint!("{out}");
    } else {
        emit(&out)?;
    }
    Ok(if failed {
        Outcome::ErrorReply
    } else {
        Outcome::Reply
    })
}

/// The commands whose string reply redis-cli prints as it is, not quoted.
fn prints_raw(command: &[Vec<u8>]) -> bool {
    let word = |i: usize| {
        command
            .get(i)
            .map(|w| String::from_utf8_lossy(w).to_ascii_lowercase())
    };
    let (Some(name), sub) = (word(0), word(1)) else {
        return false;
    };
    let sub = sub.as_deref().unwrap_or("");
    let n = command.len();
    match name.as_str() {
        "info" | "lolwut" => true,
        "cluster" => n == 2 && matches!(sub, "nodes" | "info"),
        "client" => matches!(sub, "list" | "info"),
        "memory" => matches!(sub, "malloc-stats" | "doctor"),
        "latency" => (n == 2 && sub == "doctor") || (n == 3 && sub == "graph"),
        "debug" => matches!(sub, "htstats" | "htstats-key"),
        _ => false,
    }
}

/// A reply as plain JSON, the way a script wants it: a bulk or simple string is a string (or
/// `{"hex": …}` when it is not UTF-8), an integer or double a number, nil `null`, an array or set
/// an array, a map an object (non-string keys as their JSON text), an error `{"error": line}`;
/// other frames keep `slotwise decode --json`'s typed form.
fn plain_json(frame: &Frame) -> Value {
    let text = |b: &[u8]| match std::str::from_utf8(b) {
        Ok(s) => Value::String(s.to_owned()),
        Err(_) => json!({ "hex": b.iter().map(|x| format!("{x:02x}")).collect::<String>() }),
    };
    match frame {
        Frame::SimpleString(s) | Frame::BulkString(s) => text(s),
        Frame::Verbatim(v) => text(&v.text),
        Frame::SimpleError(e) | Frame::BulkError(e) => json!({ "error": text(e) }),
        Frame::Integer(n) => json!(n),
        Frame::Boolean(b) => json!(b),
        Frame::Double(d) => std::str::from_utf8(d.text())
            .ok()
            .and_then(|t| t.parse::<f64>().ok())
            .map_or_else(|| to_json(frame), |x| json!(x)),
        Frame::Null | Frame::NullBulk | Frame::NullArray => Value::Null,
        Frame::Array(items) | Frame::Set(items) | Frame::Push(items) => {
            Value::Array(items.iter().map(plain_json).collect())
        }
        Frame::Map(pairs) => Value::Object(
            pairs
                .iter()
                .map(|(k, v)| {
                    let key = match plain_json(k) {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    (key, plain_json(v))
                })
                .collect(),
        ),
        Frame::Attributed(a) => plain_json(&a.frame),
        _ => to_json(frame),
    }
}

/// Writes to stdout and flushes; a closed pipe (`| head`) is not an error.
pub(crate) fn emit(text: &str) -> Result<(), Failure> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::prints_raw;

    fn raw(words: &[&str]) -> bool {
        let c: Vec<Vec<u8>> = words.iter().map(|w| w.as_bytes().to_vec()).collect();
        prints_raw(&c)
    }

    #[test]
    fn raw_commands_as_redis_cli() {
        assert!(raw(&["INFO"]) && raw(&["info", "server"]) && raw(&["CLUSTER", "INFO"]));
        assert!(raw(&["cluster", "nodes"]) && raw(&["CLIENT", "LIST"]) && raw(&["lolwut"]));
        assert!(!raw(&["CLUSTER", "SHARDS"]) && !raw(&["GET", "k"]) && !raw(&["CLUSTER"]));
    }
}
