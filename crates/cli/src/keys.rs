//! `slotwise slot` and `slotwise keys`: key slots, and the keys and routing decision of command lines.
//!
//! ```text
//! slotwise slot KEY…              one line per key: its slot, a tab, the key
//! slotwise slot --stdin           one JSON array of keys per input line → one JSON object per line
//! slotwise keys CMD ARG…          the command, its keys (index, flags, slot) and the route
//! slotwise keys --stdin           one JSON array of arguments per input line → one JSON object per line
//! ```
//!
//! ## Binary-safe JSON arguments
//!
//! Shell arguments are text, so `--stdin` is the way to pass arbitrary bytes. Each input line is a JSON
//! array; each element is one argument, either a JSON string (its UTF-8 bytes, so `"\u0000"` is a NUL
//! byte) or an object `{"hex": "00ff…"}` (two hex digits per byte) for bytes that are not UTF-8.
//! Blank lines are skipped. Output uses the same encoding for keys: a string when the bytes are valid
//! UTF-8, `{"hex": …}` otherwise.
//!
//! ## JSON output
//!
//! `slot --stdin`: `{"keys": [k…], "slots": [n…]}`.
//!
//! `keys --stdin`: `{"command": "zunionstore", "read_only": false, "keys": [{"index": 1, "key": k,
//! "flags": ["OW", "update"], "slot": n}, …], "route": R}` where `command` is `null` for a command the
//! table does not know (routed by its first argument), `flags` are Redis's key-spec flag names (a
//! sharded channel has `not_key`), and `R` is one of
//! `{"type": "single_slot", "slot": n, "read_only": b}`, `{"type": "no_key", "read_only": b}`,
//! `{"type": "cross_slot", "slots": [n…]}`, or `{"type": "multi_node", "request_policy": p,
//! "response_policy": p|null, "slots": [n…], "read_only": b}`. A command line whose keys cannot be
//! found gives `{"error": {"kind": k, "message": m}}` with `k` one of `empty_command`,
//! `unknown_command`, `unknown_subcommand`, `wrong_arity`, `invalid_arguments` (exit status 0: the
//! answer is that error). A line that is not such a JSON array stops the run with exit status 1.

use std::io::{BufRead, BufWriter, Write};

use serde_json::{Value, json};
use slotwise_slot::{Classified, CommandTable, KeysError, Route, key_slot};

use crate::Failure;

/// The help text of `slotwise slot`.
pub(crate) const SLOT_HELP: &str = "\
usage: slotwise slot KEY…
       slotwise slot --stdin

Prints each key's Redis Cluster slot (CRC16 of the key's hash tag, modulo 16384), a tab, and the key.
With --stdin, reads one JSON array of keys per line and prints {\"keys\": […], \"slots\": […]} per line.
Keys are JSON strings (UTF-8) or {\"hex\": \"…\"} objects for arbitrary bytes.";

/// The help text of `slotwise keys`.
pub(crate) const KEYS_HELP: &str = "\
usage: slotwise keys CMD ARG…
       slotwise keys --stdin

Prints the command, its keys (argument index, key-spec flags, slot) and the routing decision: single
slot (read or write), no key (any node), cross-slot, or multi-node with the request/response policy.
With --stdin, reads one JSON array of arguments per line and prints one JSON object per line.
Arguments are JSON strings (UTF-8) or {\"hex\": \"…\"} objects for arbitrary bytes.";

/// `slotwise slot …`.
pub(crate) fn run_slot(args: &[String]) -> Result<(), Failure> {
    match args {
        [flag] if flag == "--help" || flag == "-h" => {
            println!("{SLOT_HELP}");
            Ok(())
        }
        [flag] if flag == "--stdin" => each_stdin_line(|line| {
            let keys = parse_line(line)?;
            let slots: Vec<u16> = keys.iter().map(|k| key_slot(k).get()).collect();
            Ok(json!({ "keys": keys.iter().map(|k| enc(k)).collect::<Vec<_>>(), "slots": slots }))
        }),
        [] => Err(Failure::Usage(format!(
            "slot: no keys given\n\n{SLOT_HELP}"
        ))),
        keys => {
            let mut out = BufWriter::new(std::io::stdout().lock());
            for key in keys {
                writeln!(out, "{}\t{key}", key_slot(key.as_bytes()))?;
            }
            out.flush()?;
            Ok(())
        }
    }
}

/// `slotwise keys …`.
pub(crate) fn run_keys(args: &[String]) -> Result<(), Failure> {
    let table = CommandTable::new();
    match args {
        [flag] if flag == "--help" || flag == "-h" => {
            println!("{KEYS_HELP}");
            Ok(())
        }
        [flag] if flag == "--stdin" => each_stdin_line(|line| {
            let args = parse_line(line)?;
            Ok(match table.classify(&args) {
                Ok(c) => classified_json(&c, &args),
                Err(e) => error_json(e),
            })
        }),
        [] => Err(Failure::Usage(format!(
            "keys: no command given\n\n{KEYS_HELP}"
        ))),
        args => {
            let c = table
                .classify(args)
                .map_err(|e| Failure::Input(format!("keys: {e}")))?;
            print!("{}", classified_text(&c, args));
            Ok(())
        }
    }
}

/// Runs `f` on every non-blank stdin line and prints its JSON answer; stops at the first malformed
/// line (after printing the answers before it).
fn each_stdin_line(mut f: impl FnMut(&str) -> Result<Value, String>) -> Result<(), Failure> {
    let stdin = std::io::stdin().lock();
    let mut out = BufWriter::new(std::io::stdout().lock());
    for (n, line) in stdin.lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        match f(&line) {
            Ok(v) => writeln!(out, "{v}")?,
            Err(e) => {
                out.flush()?;
                return Err(Failure::Input(format!("line {}: {e}", n + 1)));
            }
        }
    }
    out.flush()?;
    Ok(())
}

/// One input line: a JSON array of arguments, each a string or `{"hex": "…"}`.
fn parse_line(line: &str) -> Result<Vec<Vec<u8>>, String> {
    let value: Value = serde_json::from_str(line).map_err(|e| format!("not JSON: {e}"))?;
    let Value::Array(items) = value else {
        return Err("expected a JSON array of arguments".into());
    };
    items
        .iter()
        .enumerate()
        .map(|(i, v)| dec(v).map_err(|e| format!("argument {i}: {e}")))
        .collect()
}

fn dec(v: &Value) -> Result<Vec<u8>, String> {
    match v {
        Value::String(s) => Ok(s.as_bytes().to_vec()),
        Value::Object(o) if o.len() == 1 => match o.get("hex") {
            Some(Value::String(hex)) => decode_hex(hex),
            _ => Err(r#"expected {"hex": "…"}"#.into()),
        },
        _ => Err(r#"expected a string or {"hex": "…"}"#.into()),
    }
}

fn decode_hex(hex: &str) -> Result<Vec<u8>, String> {
    if !hex.len().is_multiple_of(2) {
        return Err("hex has an odd number of digits".into());
    }
    let digit = |c: u8| match c {
        b'0'..=b'9' => Ok(c - b'0'),
        b'a'..=b'f' => Ok(c - b'a' + 10),
        b'A'..=b'F' => Ok(c - b'A' + 10),
        _ => Err(format!("{:?} is not a hex digit", c as char)),
    };
    hex.as_bytes()
        .chunks_exact(2)
        .map(|p| Ok(digit(p[0])? << 4 | digit(p[1])?))
        .collect()
}

fn enc(bytes: &[u8]) -> Value {
    match std::str::from_utf8(bytes) {
        Ok(s) => Value::String(s.to_string()),
        Err(_) => json!({ "hex": bytes.iter().map(|b| format!("{b:02x}")).collect::<String>() }),
    }
}

fn route_json(route: &Route) -> Value {
    let slots = |s: &[slotwise_slot::Slot]| s.iter().map(|s| s.get()).collect::<Vec<_>>();
    match route {
        Route::SingleSlot { slot, read_only } => {
            json!({ "type": "single_slot", "slot": slot.get(), "read_only": read_only })
        }
        Route::NoKey { read_only } => json!({ "type": "no_key", "read_only": read_only }),
        Route::CrossSlot { slots: s } => json!({ "type": "cross_slot", "slots": slots(s) }),
        Route::MultiNode {
            request_policy,
            response_policy,
            slots: s,
            read_only,
        } => json!({
            "type": "multi_node",
            "request_policy": request_policy.name(),
            "response_policy": response_policy.map(|p| p.name()),
            "slots": slots(s),
            "read_only": read_only,
        }),
        other => json!({ "type": "other", "text": other.to_string() }),
    }
}

fn classified_json(c: &Classified<'_>, args: &[Vec<u8>]) -> Value {
    let keys: Vec<Value> = c
        .keys
        .iter()
        .filter_map(|k| {
            let key = k.key(args)?;
            Some(json!({
                "index": k.index,
                "key": enc(key),
                "flags": k.flags.names().collect::<Vec<_>>(),
                "slot": key_slot(key).get(),
            }))
        })
        .collect();
    json!({
        "command": c.command.map(|cmd| cmd.name.to_string()),
        "read_only": c.read_only(),
        "keys": keys,
        "route": route_json(&c.route),
    })
}

fn error_json(e: KeysError) -> Value {
    let kind = match e {
        KeysError::EmptyCommand => "empty_command",
        KeysError::UnknownCommand => "unknown_command",
        KeysError::UnknownSubcommand => "unknown_subcommand",
        KeysError::WrongArity { .. } => "wrong_arity",
        KeysError::InvalidArguments => "invalid_arguments",
        _ => "other",
    };
    json!({ "error": { "kind": kind, "message": e.to_string() } })
}

fn classified_text(c: &Classified<'_>, args: &[String]) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    match c.command {
        Some(cmd) => {
            let _ = writeln!(
                s,
                "command: {} (arity {}, flags: {})",
                cmd.name, cmd.arity, cmd.flags
            );
        }
        None => {
            let _ = writeln!(s, "command: unknown (first argument taken as the key)");
        }
    }
    if c.keys.is_empty() {
        let _ = writeln!(s, "keys: none");
    } else {
        let _ = writeln!(s, "keys:");
        for k in &c.keys {
            let key = k.key(args).unwrap_or_default();
            let _ = writeln!(
                s,
                "  [{}] {:?}  slot {}  {}",
                k.index,
                String::from_utf8_lossy(key),
                key_slot(key),
                k.flags
            );
        }
    }
    let _ = writeln!(s, "route: {}", c.route);
    match &c.route {
        Route::CrossSlot { slots } | Route::MultiNode { slots, .. } if !slots.is_empty() => {
            let list: Vec<String> = slots.iter().map(|s| s.to_string()).collect();
            let _ = writeln!(s, "slots: {}", list.join(" "));
        }
        _ => {}
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_arguments_are_binary_safe() {
        assert_eq!(
            parse_line(r#"["GET", {"hex": "00ff7b"}, "\u0000"]"#).unwrap(),
            vec![b"GET".to_vec(), vec![0, 0xff, b'{'], vec![0]]
        );
        assert!(parse_line(r#"{"a": 1}"#).is_err());
        assert!(parse_line(r#"[1]"#).is_err());
        assert!(parse_line(r#"[{"hex": "0"}]"#).is_err());
        assert!(parse_line(r#"[{"hex": "zz"}]"#).is_err());
        assert_eq!(enc(&[0xff]), json!({"hex": "ff"}));
        assert_eq!(enc(b"a"), json!("a"));
    }

    #[test]
    fn keys_json_shape() {
        let table = CommandTable::new();
        let args = parse_line(r#"["MSET", "a", "1", "b", "2"]"#).unwrap();
        let v = classified_json(&table.classify(&args).unwrap(), &args);
        assert_eq!(v["command"], "mset");
        assert_eq!(v["keys"][1]["key"], "b");
        assert_eq!(v["keys"][1]["index"], 3);
        assert_eq!(v["route"]["type"], "multi_node");
        assert_eq!(v["route"]["request_policy"], "multi_shard");
        let e = error_json(table.classify(&["GET"]).unwrap_err());
        assert_eq!(e["error"]["kind"], "wrong_arity");
    }
}
