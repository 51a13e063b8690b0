//! `slotwise topology parse|diff`: slot maps from CLUSTER SHARDS / SLOTS / NODES replies.
//!
//! ```text
//! slotwise topology parse [--format shards|slots|nodes] [--from HOST:PORT] [--tls] FILE|-
//! slotwise topology diff  [--format shards|slots|nodes] [--from HOST:PORT] [--tls] OLD NEW
//! ```
//!
//! A file holds the raw RESP reply (as `redis-cli --no-raw` would not show it: the bytes on the wire),
//! or the plain text of CLUSTER NODES. Without `--format` the format is guessed: text that is not RESP
//! is CLUSTER NODES; a RESP string is CLUSTER NODES; an array whose first entry starts with an integer
//! is CLUSTER SLOTS; otherwise CLUSTER SHARDS. `--from` is the address the reply came from (it stands in
//! for NULL or empty endpoints); `--tls` picks TLS ports.

use std::io::Read;

use bytes::Bytes;
use slotwise_resp::{Frame, Limits, decode_complete};
use slotwise_topology::{Endpoint, Format, Origin, Topology, diff};

use crate::Failure;

const USAGE: &str = "topology parse [--format shards|slots|nodes] [--from HOST:PORT] [--tls] FILE | \
                     topology diff [--format …] [--from HOST:PORT] [--tls] OLD NEW";

/// The help text of `slotwise topology`.
pub(crate) const HELP: &str = "\
usage: slotwise topology parse [--format shards|slots|nodes] [--from HOST:PORT] [--tls] FILE|-
       slotwise topology diff  [--format shards|slots|nodes] [--from HOST:PORT] [--tls] OLD NEW
       slotwise topology watch [HOST:PORT] [options]   (see slotwise topology watch --help)

parse prints the slot map of a CLUSTER SHARDS, SLOTS or NODES reply (the raw RESP bytes, or the text
of CLUSTER NODES); diff prints what changed from OLD to NEW. Without --format the format is guessed
from the reply's shape. --from is the address the reply came from (it stands in for empty
endpoints); --tls picks TLS ports.";

/// `slotwise topology …`.
pub(crate) fn run(args: &[String]) -> Result<(), Failure> {
    let Some((sub, rest)) = args.split_first() else {
        return Err(Failure::Usage(format!("usage: slotwise {USAGE}")));
    };
    if sub == "watch" {
        return crate::watch::run(rest);
    }
    if sub == "--help" || sub == "-h" || rest.iter().any(|a| a == "--help" || a == "-h") {
        return emit(&format!("{HELP}\n"));
    }
    let options = Options::parse(rest)?;
    match (sub.as_str(), options.files.as_slice()) {
        ("parse", [file]) => {
            let topology = load(file, &options)?;
            emit(&format!("{}{topology}", summary(&topology)))
        }
        ("diff", [old, new]) => {
            let old = load(old, &options)?;
            let new = load(new, &options)?;
            emit(&diff(&old, &new).to_string())
        }
        ("parse" | "diff", _) => Err(Failure::Usage(format!(
            "topology {sub}: wrong number of files; usage: slotwise {USAGE}"
        ))),
        (other, _) => Err(Failure::Usage(format!(
            "topology: unknown subcommand {other:?}; usage: slotwise {USAGE}"
        ))),
    }
}

struct Options {
    format: Option<Format>,
    origin: Origin,
    files: Vec<String>,
}

impl Options {
    fn parse(args: &[String]) -> Result<Options, Failure> {
        let mut format = None;
        let mut from = None;
        let mut tls = false;
        let mut files = Vec::new();
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--format" => {
                    format = Some(match args.next().map(String::as_str) {
                        Some("shards") => Format::Shards,
                        Some("slots") => Format::Slots,
                        Some("nodes") => Format::Nodes,
                        other => {
                            return Err(Failure::Usage(format!(
                                "--format takes shards, slots or nodes, not {other:?}"
                            )));
                        }
                    })
                }
                "--from" => {
                    let text = args.next().map(String::as_str).unwrap_or_default();
                    from = Some(Endpoint::parse(text).ok_or_else(|| {
                        Failure::Usage(format!("--from takes HOST:PORT, not {text:?}"))
                    })?);
                }
                "--tls" => tls = true,
                file if file == "-" || !file.starts_with('-') => files.push(file.to_string()),
                other => {
                    return Err(Failure::Usage(format!(
                        "topology: unknown option {other:?}"
                    )));
                }
            }
        }
        let origin = match from {
            Some(e) => Origin::new(e),
            None => Origin::unknown(),
        }
        .with_tls(tls);
        Ok(Options {
            format,
            origin,
            files,
        })
    }
}

/// Writes to stdout; a closed pipe (`| head`) is not an error.
fn emit(text: &str) -> Result<(), Failure> {
    use std::io::Write;
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

fn load(path: &str, options: &Options) -> Result<Topology, Failure> {
    let mut data = Vec::new();
    if path == "-" {
        std::io::stdin().read_to_end(&mut data)?;
    } else {
        data = std::fs::read(path).map_err(|e| Failure::Input(format!("{path}: {e}")))?;
    }
    let fail = |e: &dyn std::fmt::Display| Failure::Input(format!("{path}: {e}"));
    let data = Bytes::from(data);
    let looks_resp = matches!(
        data.first(),
        Some(b'*' | b'%' | b'$' | b'=' | b'|' | b'-' | b'!')
    );
    let needs_resp = matches!(options.format, Some(Format::Shards | Format::Slots));
    let frame = if looks_resp || needs_resp {
        match decode_complete(&data, &Limits::DEFAULT).map_err(|e| fail(&e))? {
            Some((frame, _)) => Some(frame),
            None => return Err(fail(&"the RESP reply is incomplete")),
        }
    } else {
        None
    };
    let origin = &options.origin;
    let topology = match (options.format, frame) {
        (Some(Format::Nodes) | None, None) => Topology::from_cluster_nodes(&data, origin),
        (Some(Format::Nodes), Some(frame)) => Topology::from_cluster_nodes_reply(&frame, origin),
        (Some(Format::Shards), Some(frame)) => Topology::from_cluster_shards(&frame, origin),
        (Some(Format::Slots), Some(frame)) => Topology::from_cluster_slots(&frame, origin),
        (_, Some(frame)) => match guess(&frame) {
            Format::Nodes => Topology::from_cluster_nodes_reply(&frame, origin),
            Format::Slots => Topology::from_cluster_slots(&frame, origin),
            _ => Topology::from_cluster_shards(&frame, origin),
        },
        (Some(_), None) => return Err(fail(&"expected a RESP reply")),
    };
    topology.map_err(|e| fail(&e))
}

/// The format of a decoded reply, from its shape.
fn guess(frame: &Frame) -> Format {
    let frame = frame.without_attributes();
    if frame.as_bytes().is_some() && !frame.is_error() {
        return Format::Nodes;
    }
    let first_entry_starts_with_integer = frame
        .as_items()
        .and_then(|items| items.first())
        .and_then(|entry| entry.without_attributes().as_items())
        .and_then(|fields| fields.first())
        .is_some_and(|f| f.without_attributes().as_integer().is_some());
    if first_entry_starts_with_integer {
        Format::Slots
    } else {
        Format::Shards
    }
}

fn summary(t: &Topology) -> String {
    let uncovered: Vec<String> = t.uncovered_slots().iter().map(|r| r.to_string()).collect();
    let mut out = format!(
        "{}: {} shards, {} nodes, {} of 16384 slots covered",
        t.format(),
        t.shards().len(),
        t.nodes().count(),
        t.covered_slot_count()
    );
    if let Some(id) = t.responder() {
        out.push_str(&format!(", answered by {id}"));
    }
    out.push('\n');
    if !uncovered.is_empty() {
        out.push_str(&format!("uncovered: {}\n", uncovered.join(", ")));
    }
    out
}
