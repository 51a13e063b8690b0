//! `slotwise decode [FILE|-] [--json] [--max-depth N …]`: print each RESP frame of a byte stream.
//!
//! The input is read in 64 KiB chunks and decoded as it arrives, so memory stays bounded by the
//! largest frame. On malformed input every frame before the fault is printed, then the error with its
//! byte offset, and the exit status is 1. The decoder's limits are set with `--max-depth`,
//! `--max-bulk-len`, `--max-aggregate-len`, `--max-frame-len` and `--max-line-len` (`limits.rs`); an
//! input past one is such an error.
//!
//! ## Readable form (default)
//! Like `redis-cli`: `OK` for a simple string, `"…"` for a bulk string (non-printable bytes as `\xNN`),
//! `(integer) 1`, `(nil)`, `(error) ERR …`, numbered array elements, `1# key => value` for maps,
//! `1~ member` for sets, `(push)` and `(attributes)` headers, `(double) 1.5`, `(true)`, `(big number) …`;
//! a verbatim string as its text, line breaks included (its format, `txt`, only in `--json`).
//!
//! ## JSON form (`--json`)
//! One object per top-level frame and line: `{"offset": N, "type": …, …}` with `type` one of
//! `simple`, `error`, `integer`, `bulk`, `null_bulk`, `null_array`, `array`, `null`, `boolean`,
//! `double`, `big_number`, `bulk_error`, `verbatim`, `map`, `set`, `push`, `attributed`, `streamed_string`.
//! Payloads are lossless: `"text": "…"` when the bytes are valid UTF-8, otherwise `"hex": "…"` (two
//! lowercase hex digits per byte). Integers are `"value": N`; doubles and big numbers keep the server's
//! text (`"text": "inf"`); aggregates have `"items": […]`, maps and attributes `"entries": [[k, v], …]`,
//! an attributed frame `"attributes"` and `"frame"`, a streamed string `"chunks": [payload, …]`.
//! A decode error ends the output with `{"offset": N, "error": "…"}`.

use std::fmt::Write as _;
use std::io::{BufWriter, Read, Write};

use bytes::BytesMut;
use serde_json::{Map, Value, json};
use slotwise_resp::{Decoder, Frame, Limits};

use crate::Failure;
use crate::args::Words;

/// The help text of `slotwise decode`.
pub(crate) const HELP: &str = "\
usage: slotwise decode [FILE|-] [--json] [--max-depth N] [--max-bulk-len SIZE] [--max-aggregate-len N]
                       [--max-frame-len SIZE] [--max-line-len SIZE]

Prints each RESP frame of a byte stream (FILE, or standard input), as redis-cli prints replies; with
--json, one JSON object per frame and line, lossless ({\"offset\", \"type\", …}). On malformed input,
or input past a limit, the frames before the fault are printed, then the error with its byte offset
on stderr, and the exit status is 1 (2 for a bad option).
";

/// `slotwise decode …`.
pub(crate) fn run(args: &[String]) -> Result<(), Failure> {
    let mut json = false;
    let mut path = None;
    let mut limits = Limits::DEFAULT;
    let mut words = Words::new(args);
    while let Some(arg) = words.next() {
        match arg {
            "--help" | "-h" => {
                println!("{HELP}\n{}", crate::limits::HELP);
                return Ok(());
            }
            "--json" => json = true,
            "-" => path = None,
            p if !p.starts_with('-') && path.is_none() => path = Some(p.to_string()),
            flag if crate::limits::take(flag, &mut words, &mut limits)? => {}
            other => {
                return Err(Failure::Usage(format!(
                    "decode: unexpected argument {other:?}"
                )));
            }
        }
    }
    let mut input: Box<dyn Read> = match &path {
        Some(p) => {
            Box::new(std::fs::File::open(p).map_err(|e| Failure::Input(format!("{p}: {e}")))?)
        }
        None => Box::new(std::io::stdin().lock()),
    };
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut decoder = Decoder::with_limits(limits);
    let mut buf = BytesMut::with_capacity(64 * 1024);
    let mut chunk = vec![0u8; 64 * 1024];
    let outcome = loop {
        let n = input.read(&mut chunk)?;
        if n == 0 {
            break decoder.finish(&buf);
        }
        buf.extend_from_slice(&chunk[..n]);
        let failed = loop {
            let offset = decoder.consumed();
            match decoder.decode(&mut buf) {
                Ok(Some(frame)) => print_frame(&mut out, &frame, offset, json)?,
                Ok(None) => break None,
                Err(e) => break Some(e),
            }
        };
        if let Some(e) = failed {
            break Err(e);
        }
    };
    match outcome {
        Ok(()) => {
            out.flush()?;
            Ok(())
        }
        Err(e) => {
            if json {
                writeln!(
                    out,
                    "{}",
                    json!({"offset": e.offset, "error": e.kind.to_string()})
                )?;
            }
            out.flush()?;
            Err(Failure::Input(e.to_string()))
        }
    }
}

fn print_frame(
    out: &mut impl Write,
    frame: &Frame,
    offset: u64,
    json: bool,
) -> std::io::Result<()> {
    if json {
        let mut value = to_json(frame);
        if let Value::Object(map) = &mut value {
            let mut with_offset = Map::new();
            with_offset.insert("offset".into(), offset.into());
            with_offset.append(map);
            value = Value::Object(with_offset);
        }
        writeln!(out, "{value}")
    } else {
        let mut text = String::new();
        render(frame, 0, &mut text);
        out.write_all(text.as_bytes())
    }
}

/// A payload as JSON: `{"text": …}` for UTF-8, `{"hex": …}` otherwise, merged into `obj`.
fn payload(obj: &mut Map<String, Value>, bytes: &[u8]) {
    match std::str::from_utf8(bytes) {
        Ok(text) => obj.insert("text".into(), text.into()),
        Err(_) => obj.insert("hex".into(), hex(bytes).into()),
    };
}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

fn typed(kind: &str) -> Map<String, Value> {
    let mut obj = Map::new();
    obj.insert("type".into(), kind.into());
    obj
}

fn with_payload(kind: &str, bytes: &[u8]) -> Value {
    let mut obj = typed(kind);
    payload(&mut obj, bytes);
    Value::Object(obj)
}

fn entries(pairs: &[(Frame, Frame)]) -> Value {
    pairs
        .iter()
        .map(|(k, v)| Value::Array(vec![to_json(k), to_json(v)]))
        .collect()
}

/// The JSON form of a frame (see the module docs).
pub(crate) fn to_json(frame: &Frame) -> Value {
    let items = |kind: &str, items: &[Frame]| {
        let mut obj = typed(kind);
        obj.insert("items".into(), items.iter().map(to_json).collect());
        Value::Object(obj)
    };
    match frame {
        Frame::SimpleString(s) => with_payload("simple", s),
        Frame::SimpleError(s) => with_payload("error", s),
        Frame::Integer(n) => json!({"type": "integer", "value": n}),
        Frame::BulkString(b) => with_payload("bulk", b),
        Frame::NullBulk => json!({"type": "null_bulk"}),
        Frame::NullArray => json!({"type": "null_array"}),
        Frame::Array(a) => items("array", a),
        Frame::Null => json!({"type": "null"}),
        Frame::Boolean(b) => json!({"type": "boolean", "value": b}),
        Frame::Double(d) => with_payload("double", d.text()),
        Frame::BigNumber(n) => with_payload("big_number", n.text()),
        Frame::BulkError(b) => with_payload("bulk_error", b),
        Frame::Verbatim(v) => {
            let mut obj = typed("verbatim");
            obj.insert(
                "format".into(),
                String::from_utf8_lossy(&v.format).into_owned().into(),
            );
            payload(&mut obj, &v.text);
            Value::Object(obj)
        }
        Frame::Map(pairs) => json!({"type": "map", "entries": entries(pairs)}),
        Frame::Set(s) => items("set", s),
        Frame::Push(p) => items("push", p),
        Frame::Attributed(a) => {
            json!({"type": "attributed", "attributes": entries(&a.attributes), "frame": to_json(&a.frame)})
        }
        Frame::StreamedString(chunks) => {
            let chunks: Vec<Value> = chunks
                .iter()
                .map(|c| {
                    let mut obj = Map::new();
                    payload(&mut obj, c);
                    Value::Object(obj)
                })
                .collect();
            json!({"type": "streamed_string", "chunks": chunks})
        }
        _ => json!({"type": "unknown"}),
    }
}

/// A byte string quoted the way redis-cli does: printable ASCII as is, `\"` `\\` `\n` `\r` `\t`, and
/// `\xNN` for anything else.
fn quoted(bytes: &[u8], out: &mut String) {
    out.push('"');
    for &b in bytes {
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x20..=0x7e => out.push(b as char),
            _ => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
    out.push('"');
}

/// Renders `frame` redis-cli style. The first line continues the current one (after a label); every
/// later line is indented by `indent` spaces. Always ends with a newline.
pub(crate) fn render(frame: &Frame, indent: usize, out: &mut String) {
    let lossy = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    match frame {
        Frame::SimpleString(s) => out.push_str(&lossy(s)),
        Frame::SimpleError(s) => {
            out.push_str("(error) ");
            out.push_str(&lossy(s));
        }
        Frame::BulkError(s) => {
            out.push_str("(error) ");
            out.push_str(&lossy(s));
        }
        Frame::Integer(n) => {
            let _ = write!(out, "(integer) {n}");
        }
        Frame::BulkString(b) => quoted(b, out),
        Frame::NullBulk | Frame::NullArray | Frame::Null => out.push_str("(nil)"),
        Frame::Boolean(b) => out.push_str(if *b { "(true)" } else { "(false)" }),
        Frame::Double(d) => {
            out.push_str("(double) ");
            out.push_str(&lossy(d.text()));
        }
        Frame::BigNumber(n) => {
            out.push_str("(big number) ");
            out.push_str(&lossy(n.text()));
        }
        Frame::Verbatim(v) => {
            // As redis-cli: the text itself, its line breaks included.
            out.push_str(&lossy(&v.text));
            if !out.ends_with('\n') {
                out.push('\n');
            }
            return;
        }
        Frame::StreamedString(chunks) => {
            quoted(&chunks.concat(), out);
            let _ = write!(out, " (streamed, {} chunks)", chunks.len());
        }
        Frame::Array(items) | Frame::Set(items) | Frame::Push(items) => {
            let (marker, header, empty) = match frame {
                Frame::Set(_) => ("~", None, "(empty set)"),
                Frame::Push(_) => (")", Some("(push)"), "(empty push)"),
                _ => (")", None, "(empty array)"),
            };
            if items.is_empty() {
                out.push_str(empty);
            } else {
                if let Some(header) = header {
                    out.push_str(header);
                    out.push('\n');
                    pad(out, indent);
                }
                numbered(items.len(), marker, indent, out, |i, indent, out| {
                    render(&items[i], indent, out)
                });
                return;
            }
        }
        Frame::Map(pairs) => {
            if pairs.is_empty() {
                out.push_str("(empty map)");
            } else {
                render_pairs(pairs, indent, out);
                return;
            }
        }
        Frame::Attributed(a) => {
            out.push_str("(attributes) ");
            if a.attributes.is_empty() {
                out.push_str("(empty)\n");
            } else {
                render_pairs(&a.attributes, indent + 13, out);
            }
            pad(out, indent);
            render(&a.frame, indent, out);
            return;
        }
        _ => out.push_str("(unknown)"),
    }
    out.push('\n');
}

fn render_pairs(pairs: &[(Frame, Frame)], indent: usize, out: &mut String) {
    numbered(pairs.len(), "#", indent, out, |i, indent, out| {
        let (k, v) = &pairs[i];
        let mut key = String::new();
        render(k, indent, &mut key);
        let key = key.trim_end_matches('\n');
        out.push_str(key);
        out.push_str(" => ");
        // A multi-line key (an aggregate) indents its value under the key's last line.
        let key_width = key.rsplit('\n').next().map_or(0, |l| l.chars().count());
        let value_indent = if key.contains('\n') {
            key_width
        } else {
            indent + key_width
        } + 4;
        render(v, value_indent, out);
    });
}

/// Numbered lines `1) …`, right-aligned labels as redis-cli does.
fn numbered(
    n: usize,
    marker: &str,
    indent: usize,
    out: &mut String,
    mut item: impl FnMut(usize, usize, &mut String),
) {
    let width = n.to_string().len();
    for i in 0..n {
        if i > 0 {
            pad(out, indent);
        }
        let label = format!("{:>width$}{marker} ", i + 1);
        out.push_str(&label);
        item(i, indent + label.len(), out);
    }
}

fn pad(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn text(input: &[u8]) -> String {
        let (frame, _) =
            slotwise_resp::decode_complete(&Bytes::copy_from_slice(input), &Default::default())
                .unwrap()
                .unwrap();
        let mut s = String::new();
        render(&frame, 0, &mut s);
        s
    }

    #[test]
    fn renders_like_redis_cli() {
        assert_eq!(text(b"+OK\r\n"), "OK\n");
        assert_eq!(text(b"$-1\r\n"), "(nil)\n");
        assert_eq!(text(b"$4\r\na\"\x00\n\r\n"), "\"a\\\"\\x00\\n\"\n");
        assert_eq!(
            text(b"*3\r\n$1\r\na\r\n*2\r\n:1\r\n:2\r\n-ERR x\r\n"),
            "1) \"a\"\n2) 1) (integer) 1\n   2) (integer) 2\n3) (error) ERR x\n"
        );
        assert_eq!(
            text(b"%1\r\n+k\r\n*2\r\n:1\r\n:2\r\n"),
            "1# k => 1) (integer) 1\n        2) (integer) 2\n"
        );
        assert_eq!(text(b"*0\r\n"), "(empty array)\n");
        assert_eq!(
            text(b"=21\r\ntxt:a:1\r\nb:2\r\nc:\"3\"\r\n\r\n"),
            "a:1\r\nb:2\r\nc:\"3\"\r\n"
        );
        assert_eq!(text(b"*1\r\n=5\r\ntxt:x\r\n"), "1) x\n");
    }

    #[test]
    fn json_is_lossless() {
        let frame = Frame::Array(vec![
            Frame::BulkString(Bytes::from_static(b"\xff\x00")),
            Frame::BulkString(Bytes::from_static("é".as_bytes())),
            Frame::Integer(i64::MIN),
        ]);
        assert_eq!(
            to_json(&frame).to_string(),
            r#"{"items":[{"hex":"ff00","type":"bulk"},{"text":"é","type":"bulk"},{"type":"integer","value":-9223372036854775808}],"type":"array"}"#
        );
    }
}
