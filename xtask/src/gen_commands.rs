//! `cargo xtask gen-commands`: regenerate crates/slot's command table from a live redis-server.
//!
//! Starts a local `redis-server` (slotwise-test-cluster, loopback, free port), reads `INFO server`,
//! `COMMAND INFO` and `COMMAND DOCS`, writes `crates/slot/src/commands/generated.rs` and runs rustfmt
//! on it. The table is data the server publishes; the one hand-kept part of routing (which commands
//! have their own key finder) lives in `crates/slot/src/handlers.rs`.
//!
//! ```text
//! cargo xtask gen-commands [--out PATH]
//! ```

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;

use slotwise_resp::Frame;
use slotwise_test_cluster::{Server, ServerOptions};

use crate::util::{Result, exec, root};

const OUT: &str = "crates/slot/src/commands/generated.rs";

// The names crates/slot knows (its flag sets in crates/slot/src/flags.rs). A server reporting a name
// outside these lists needs the crate extended first: the task says so rather than dropping it.
const COMMAND_FLAGS: &[&str] = &[
    "write",
    "readonly",
    "denyoom",
    "module",
    "admin",
    "pubsub",
    "noscript",
    "blocking",
    "loading",
    "stale",
    "skip_monitor",
    "skip_slowlog",
    "asking",
    "fast",
    "no_auth",
    "may_replicate",
    "sentinel",
    "only_sentinel",
    "no_mandatory_keys",
    "protected",
    "no_async_loading",
    "no_multi",
    "movablekeys",
    "allow_busy",
    "touches_arbitrary_keys",
    "module_no_cluster",
];
const KEY_FLAGS: &[&str] = &[
    "RW",
    "RO",
    "OW",
    "RM",
    "access",
    "update",
    "insert",
    "delete",
    "not_key",
    "incomplete",
    "variable_flags",
];
const ACL_CATEGORIES: &[&str] = &[
    "keyspace",
    "read",
    "write",
    "set",
    "sortedset",
    "list",
    "hash",
    "string",
    "bitmap",
    "hyperloglog",
    "geo",
    "stream",
    "pubsub",
    "admin",
    "fast",
    "slow",
    "blocking",
    "dangerous",
    "connection",
    "transaction",
    "scripting",
];
const DOC_FLAGS: &[&str] = &["deprecated", "syscmd"];
const REQUEST_POLICIES: &[&str] = &["all_nodes", "all_shards", "multi_shard", "special"];
const RESPONSE_POLICIES: &[&str] = &[
    "one_succeeded",
    "all_succeeded",
    "agg_logical_and",
    "agg_logical_or",
    "agg_min",
    "agg_max",
    "agg_sum",
    "special",
];

pub(crate) fn run(args: &[String]) -> Result {
    let out = match args {
        [] => root().join(OUT),
        [flag, path] if flag == "--out" => PathBuf::from(path),
        _ => return Err("usage: cargo xtask gen-commands [--out PATH]".into()),
    };
    let server = tc(Server::start(&ServerOptions::default()))?;
    let mut conn = tc(server.conn())?;
    let info = tc(conn.ok(["INFO", "server"]))?;
    let version = text(&info)
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("redis_version:"))
                .map(|v| v.trim().to_string())
        })
        .ok_or("INFO server has no redis_version")?;
    let commands = tc(conn.ok(["COMMAND", "INFO"]))?;
    let docs = tc(conn.ok(["COMMAND", "DOCS"]))?;
    drop(conn);
    drop(server);

    let docs = parse_docs(&docs)?;
    let mut table = Vec::new();
    for entry in items(&commands).ok_or("COMMAND INFO reply is not an array")? {
        table.push(parse_command(entry, &docs)?);
    }
    table.sort_by(|a, b| a.name.cmp(&b.name));
    let source = render(&version, &table)?;
    std::fs::write(&out, source).map_err(|e| format!("writing {}: {e}", out.display()))?;
    exec(
        Command::new("rustfmt")
            .args(["--edition", "2024"])
            .arg(&out),
    )?;
    let subcommands: usize = table.iter().map(|c| c.subcommands.len()).sum();
    eprintln!(
        "wrote {} ({} commands, {subcommands} subcommands, redis-server {version})",
        out.display(),
        table.len()
    );
    Ok(())
}

/// slotwise-test-cluster's errors are `Send + Sync`; ours are plain.
fn tc<T>(r: std::result::Result<T, slotwise_test_cluster::Error>) -> Result<T> {
    r.map_err(|e| e.to_string().into())
}

/// One command as read from the server.
struct Cmd {
    name: String,
    arity: i64,
    flags: Vec<String>,
    first_key: i64,
    last_key: i64,
    key_step: i64,
    acl_categories: Vec<String>,
    tips: Vec<String>,
    key_specs: Vec<Spec>,
    subcommands: Vec<Cmd>,
    docs: Docs,
}

struct Spec {
    flags: Vec<String>,
    begin_search: String,
    find_keys: String,
}

#[derive(Clone, Default)]
struct Docs {
    summary: String,
    since: String,
    group: String,
    doc_flags: Vec<String>,
}

fn text(f: &Frame) -> Option<String> {
    f.as_bytes()
        .map(|b| String::from_utf8_lossy(b).into_owned())
}

fn items(f: &Frame) -> Option<&[Frame]> {
    f.as_items()
}

fn int(f: &Frame) -> Option<i64> {
    f.as_integer()
}

/// A field of a RESP2 flat key/value array (or a RESP3 map).
fn field<'a>(f: &'a Frame, name: &str) -> Option<&'a Frame> {
    if let Frame::Map(pairs) = f {
        return pairs
            .iter()
            .find(|(k, _)| text(k).as_deref() == Some(name))
            .map(|(_, v)| v);
    }
    items(f)?
        .chunks_exact(2)
        .find(|kv| text(&kv[0]).as_deref() == Some(name))
        .map(|kv| &kv[1])
}

/// Pairs of a RESP2 flat key/value array (or a RESP3 map).
fn pairs(f: &Frame) -> Vec<(&Frame, &Frame)> {
    match f {
        Frame::Map(p) => p.iter().map(|(k, v)| (k, v)).collect(),
        other => items(other)
            .unwrap_or_default()
            .chunks_exact(2)
            .map(|kv| (&kv[0], &kv[1]))
            .collect(),
    }
}

fn strings(f: Option<&Frame>) -> Vec<String> {
    f.and_then(items)
        .unwrap_or_default()
        .iter()
        .filter_map(text)
        .collect()
}

fn parse_docs(reply: &Frame) -> Result<BTreeMap<String, Docs>> {
    let mut out = BTreeMap::new();
    fn walk(reply: &Frame, out: &mut BTreeMap<String, Docs>) {
        for (name, doc) in pairs(reply) {
            let Some(name) = text(name) else { continue };
            let get = |k: &str| field(doc, k).and_then(text).unwrap_or_default();
            out.insert(
                name.to_ascii_lowercase(),
                Docs {
                    summary: get("summary"),
                    since: get("since"),
                    group: get("group"),
                    doc_flags: strings(field(doc, "doc_flags")),
                },
            );
            if let Some(subs) = field(doc, "subcommands") {
                walk(subs, out);
            }
        }
    }
    if items(reply).is_none() && !matches!(reply, Frame::Map(_)) {
        return Err("COMMAND DOCS reply is not a map".into());
    }
    walk(reply, &mut out);
    Ok(out)
}

fn parse_command(entry: &Frame, docs: &BTreeMap<String, Docs>) -> Result<Cmd> {
    let f = items(entry).ok_or("a COMMAND INFO entry is not an array")?;
    if f.len() < 10 {
        return Err(format!(
            "a COMMAND INFO entry has {} fields; Redis 7 or later is needed",
            f.len()
        )
        .into());
    }
    let name = text(&f[0])
        .ok_or("command name missing")?
        .to_ascii_lowercase();
    let num = |i: usize| int(&f[i]).ok_or_else(|| format!("{name}: field {i} is not an integer"));
    let mut key_specs = Vec::new();
    for spec in items(&f[8]).unwrap_or_default() {
        key_specs.push(parse_spec(&name, spec)?);
    }
    let mut subcommands = Vec::new();
    for sub in items(&f[9]).unwrap_or_default() {
        subcommands.push(parse_command(sub, docs)?);
    }
    subcommands.sort_by(|a, b| a.name.cmp(&b.name));
    let cmd = Cmd {
        arity: num(1)?,
        flags: strings(Some(&f[2])),
        first_key: num(3)?,
        last_key: num(4)?,
        key_step: num(5)?,
        acl_categories: strings(Some(&f[6]))
            .into_iter()
            .map(|c| c.trim_start_matches('@').to_string())
            .collect(),
        tips: strings(Some(&f[7])),
        key_specs,
        subcommands,
        docs: docs.get(&name).cloned().unwrap_or_default(),
        name,
    };
    check_names(&cmd.name, "command flag", &cmd.flags, COMMAND_FLAGS)?;
    check_names(
        &cmd.name,
        "ACL category",
        &cmd.acl_categories,
        ACL_CATEGORIES,
    )?;
    check_names(&cmd.name, "doc flag", &cmd.docs.doc_flags, DOC_FLAGS)?;
    for spec in &cmd.key_specs {
        check_names(&cmd.name, "key spec flag", &spec.flags, KEY_FLAGS)?;
    }
    Ok(cmd)
}

fn check_names(command: &str, what: &str, names: &[String], known: &[&str]) -> Result {
    for n in names {
        if !known.contains(&n.as_str()) {
            return Err(format!(
                "{command}: unknown {what} {n:?}; add it to crates/slot/src/flags.rs and to the lists \
                 in xtask/src/gen_commands.rs"
            )
            .into());
        }
    }
    Ok(())
}

fn parse_spec(command: &str, spec: &Frame) -> Result<Spec> {
    let flags = strings(field(spec, "flags"));
    let bs = field(spec, "begin_search").ok_or_else(|| format!("{command}: no begin_search"))?;
    let fk = field(spec, "find_keys").ok_or_else(|| format!("{command}: no find_keys"))?;
    let kind = |f: &Frame| field(f, "type").and_then(text).unwrap_or_default();
    let n = |f: &Frame, k: &str| -> Result<i64> {
        field(f, "spec")
            .and_then(|s| field(s, k))
            .and_then(int)
            .ok_or_else(|| format!("{command}: key spec has no {k}").into())
    };
    let begin_search = match kind(bs).as_str() {
        "index" => format!("BeginSearch::Index {{ pos: {} }}", n(bs, "index")?),
        "keyword" => {
            let keyword = field(bs, "spec")
                .and_then(|s| field(s, "keyword"))
                .and_then(text)
                .ok_or_else(|| format!("{command}: keyword spec has no keyword"))?;
            format!(
                "BeginSearch::Keyword {{ keyword: Cow::Borrowed({keyword:?}), start_from: {} }}",
                n(bs, "startfrom")?
            )
        }
        "unknown" => "BeginSearch::Unknown".to_string(),
        other => return Err(format!("{command}: unknown begin_search type {other:?}").into()),
    };
    let find_keys = match kind(fk).as_str() {
        "range" => format!(
            "FindKeys::Range {{ last_key: {}, key_step: {}, limit: {} }}",
            n(fk, "lastkey")?,
            n(fk, "keystep")?,
            n(fk, "limit")?
        ),
        "keynum" => format!(
            "FindKeys::KeyNum {{ key_num_index: {}, first_key: {}, key_step: {} }}",
            n(fk, "keynumidx")?,
            n(fk, "firstkey")?,
            n(fk, "keystep")?
        ),
        "unknown" => "FindKeys::Unknown".to_string(),
        other => return Err(format!("{command}: unknown find_keys type {other:?}").into()),
    };
    Ok(Spec {
        flags,
        begin_search,
        find_keys,
    })
}

fn flag_expr(ty: &str, names: &[String]) -> String {
    if names.is_empty() {
        return format!("{ty}::EMPTY");
    }
    let mut parts = names
        .iter()
        .map(|n| format!("{ty}::{}", n.to_ascii_uppercase()));
    let first = parts.next().unwrap_or_default();
    parts.fold(first, |acc, p| format!("{acc}.union({p})"))
}

fn camel(snake: &str) -> String {
    snake
        .split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

fn tips_expr(command: &str, tips: &[String]) -> Result<String> {
    let mut request = "None".to_string();
    let mut response = "None".to_string();
    let (mut nondet, mut nondet_order) = (false, false);
    for tip in tips {
        if let Some(p) = tip.strip_prefix("request_policy:") {
            check_names(
                command,
                "request policy",
                &[p.to_string()],
                REQUEST_POLICIES,
            )?;
            request = format!("Some(RequestPolicy::{})", camel(p));
        } else if let Some(p) = tip.strip_prefix("response_policy:") {
            check_names(
                command,
                "response policy",
                &[p.to_string()],
                RESPONSE_POLICIES,
            )?;
            response = format!("Some(ResponsePolicy::{})", camel(p));
        } else if tip == "nondeterministic_output" {
            nondet = true;
        } else if tip == "nondeterministic_output_order" {
            nondet_order = true;
        } else {
            return Err(format!(
                "{command}: unknown tip {tip:?}; teach crates/slot/src/tips.rs and this task about it"
            )
            .into());
        }
    }
    if request == "None" && response == "None" && !nondet && !nondet_order {
        return Ok("Tips::NONE".to_string());
    }
    Ok(format!(
        "Tips {{ request_policy: {request}, response_policy: {response}, \
         nondeterministic_output: {nondet}, nondeterministic_output_order: {nondet_order} }}"
    ))
}

fn render_command(out: &mut String, c: &Cmd) -> Result {
    writeln!(out, "CommandInfo {{")?;
    writeln!(out, "name: Cow::Borrowed({:?}),", c.name)?;
    writeln!(out, "arity: {},", c.arity)?;
    writeln!(out, "flags: {},", flag_expr("CommandFlags", &c.flags))?;
    writeln!(out, "first_key: {},", c.first_key)?;
    writeln!(out, "last_key: {},", c.last_key)?;
    writeln!(out, "key_step: {},", c.key_step)?;
    writeln!(
        out,
        "acl_categories: {},",
        flag_expr("AclCategories", &c.acl_categories)
    )?;
    writeln!(out, "tips: {},", tips_expr(&c.name, &c.tips)?)?;
    write!(out, "key_specs: Cow::Borrowed(&[")?;
    for s in &c.key_specs {
        writeln!(
            out,
            "KeySpec {{ flags: {}, begin_search: {}, find_keys: {} }},",
            flag_expr("KeyFlags", &s.flags),
            s.begin_search,
            s.find_keys
        )?;
    }
    writeln!(out, "]),")?;
    write!(out, "subcommands: Cow::Borrowed(&[")?;
    for s in &c.subcommands {
        render_command(out, s)?;
    }
    writeln!(out, "]),")?;
    writeln!(out, "group: Cow::Borrowed({:?}),", c.docs.group)?;
    writeln!(out, "since: Cow::Borrowed({:?}),", c.docs.since)?;
    writeln!(out, "summary: Cow::Borrowed({:?}),", c.docs.summary)?;
    writeln!(
        out,
        "doc_flags: {},",
        flag_expr("DocFlags", &c.docs.doc_flags)
    )?;
    writeln!(out, "}},")?;
    Ok(())
}

fn render(version: &str, table: &[Cmd]) -> Result<String> {
    let mut out = String::new();
    writeln!(
        out,
        "//! The built-in command table: every command and subcommand of redis-server {version}.\n\
         //!\n\
         //! @generated by `cargo xtask gen-commands` (xtask/src/gen_commands.rs) from the `COMMAND INFO`\n\
         //! and `COMMAND DOCS` replies of a local redis-server {version}. Do not edit by hand: run the\n\
         //! task again (with the server version you want described on `PATH`) and review the diff.\n\
         \n\
         use alloc::borrow::Cow;\n\
         \n\
         use crate::command::CommandInfo;\n\
         use crate::flags::{{AclCategories, CommandFlags, DocFlags, KeyFlags}};\n\
         use crate::spec::{{BeginSearch, FindKeys, KeySpec}};\n\
         #[allow(unused_imports)]\n\
         use crate::tips::{{RequestPolicy, ResponsePolicy, Tips}};\n\
         \n\
         /// The version of redis-server the built-in command table was generated from.\n\
         pub const REDIS_VERSION: &str = {version:?};\n\
         \n\
         /// Every command, sorted by name; subcommands sorted within their container.\n\
         pub(crate) static COMMANDS: &[CommandInfo] = &["
    )?;
    for c in table {
        render_command(&mut out, c)?;
    }
    writeln!(out, "];")?;
    Ok(out)
}
