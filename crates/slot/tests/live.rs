//! The crate against a real `redis-server` (started here on a free loopback port, killed on drop):
//! slots against `CLUSTER KEYSLOT`, keys against `COMMAND GETKEYSANDFLAGS`, the generated table
//! against `COMMAND INFO`. Zero mismatches allowed.
//!
//! With `SLOTWISE_WRITE_VECTORS=1` the server's answers are also written to `tests/vectors/`, the
//! committed files that `tests/vectors.rs` replays without a server.

mod common;

use std::collections::BTreeMap;
use std::io::Write as _;

use common::{Answer, Rng, VECTORS_DIR, enc, ours};
use serde_json::json;
use slotwise_resp::Frame;
use slotwise_slot::{CommandTable, key_slot};
use slotwise_test_cluster::{Conn, Server, ServerOptions};

fn start() -> (Server, Conn) {
    let server = Server::start(&ServerOptions {
        cluster_enabled: true,
        ..Default::default()
    })
    .expect("a local redis-server (install Redis 7: `apt-get install redis-server`)");
    let conn = server.conn().expect("connect");
    (server, conn)
}

fn write_vectors() -> bool {
    std::env::var_os("SLOTWISE_WRITE_VECTORS").is_some_and(|v| v == "1")
}

/// Sends every command, then reads every reply, in batches.
fn pipeline(conn: &mut Conn, commands: &[Vec<Vec<u8>>]) -> Vec<Frame> {
    let mut replies = Vec::with_capacity(commands.len());
    for batch in commands.chunks(500) {
        for c in batch {
            conn.send(c.iter()).expect("send");
        }
        for _ in batch {
            replies.push(conn.read().expect("reply"));
        }
    }
    replies
}

fn text(f: &Frame) -> String {
    f.as_bytes()
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Slots

fn test_keys() -> Vec<Vec<u8>> {
    let mut rng = Rng(0x51_07_5e_ed);
    let mut keys: Vec<Vec<u8>> = [
        &b""[..],
        b"{",
        b"}",
        b"{}",
        b"}{",
        b"{{}}",
        b"{a}",
        b"a{b}c",
        b"{}{a}",
        b"{a}{b}",
        b"foo{}{bar}",
        b"foo{{bar}}zap",
        b"foo{bar}{zap}",
        b"{user1000}.following",
        b"123456789",
        b"\0",
        b"{\0}",
        b"\xff{\xfe}",
    ]
    .iter()
    .map(|k| k.to_vec())
    .collect();
    let braces = [b'{', b'}', b'a', b'b', 0, 0xff, b'{', b'}'];
    for i in 0..5000 {
        let key: Vec<u8> = match i % 4 {
            0 => (0..rng.below(65)).map(|_| rng.next() as u8).collect(),
            1 | 2 => (0..rng.below(25)).map(|_| *rng.pick(&braces)).collect(),
            _ if i % 20 == 3 => (0..64 + rng.below(240)).map(|_| rng.next() as u8).collect(),
            _ => format!("user:{{{}}}:{}", rng.below(1000), rng.below(100)).into_bytes(),
        };
        keys.push(key);
    }
    keys
}

#[test]
fn slots_match_cluster_keyslot() {
    let (_server, mut conn) = start();
    let keys = test_keys();
    let commands: Vec<Vec<Vec<u8>>> = keys
        .iter()
        .map(|k| vec![b"CLUSTER".to_vec(), b"KEYSLOT".to_vec(), k.clone()])
        .collect();
    let replies = pipeline(&mut conn, &commands);
    let mut mismatches = Vec::new();
    let mut vectors = Vec::new();
    for (key, reply) in keys.iter().zip(&replies) {
        let server = reply
            .as_integer()
            .unwrap_or_else(|| panic!("CLUSTER KEYSLOT {key:?}: {reply:?}"));
        let ours = i64::from(key_slot(key).get());
        if ours != server {
            mismatches.push(format!("{key:?}: ours {ours}, server {server}"));
        }
        if vectors.len() < 1200 {
            vectors.push(json!({ "key": enc(key), "slot": server }).to_string());
        }
    }
    assert!(keys.len() >= 5000);
    assert!(
        mismatches.is_empty(),
        "{} of {} keys disagree with CLUSTER KEYSLOT:\n{}",
        mismatches.len(),
        keys.len(),
        mismatches.join("\n")
    );
    eprintln!("{} keys: all slots equal CLUSTER KEYSLOT", keys.len());
    if write_vectors() {
        let mut f = std::fs::File::create(format!("{VECTORS_DIR}/keyslot.jsonl")).expect("create");
        writeln!(f, "{}", vectors.join("\n")).expect("write");
    }
}

// ---------------------------------------------------------------------------------------------
// The table against COMMAND INFO

#[test]
fn table_matches_command_info() {
    let (_server, mut conn) = start();
    let table = CommandTable::new();
    let reply = conn.ok(["COMMAND", "INFO"]).expect("COMMAND INFO");
    let mut checked = 0;
    let mut check = |entry: &Frame| {
        let f = entry.as_items().expect("entry");
        let name = text(&f[0]);
        let cmd = match name.split_once('|') {
            Some((container, sub)) => table
                .command(container.as_bytes())
                .and_then(|c| c.subcommand(sub.as_bytes())),
            None => table.command(name.as_bytes()),
        }
        .unwrap_or_else(|| {
            panic!("{name} is missing from the table: run `cargo xtask gen-commands`")
        });
        assert_eq!(
            i64::from(cmd.arity),
            f[1].as_integer().unwrap(),
            "{name} arity"
        );
        let flags: Vec<String> = f[2].as_items().unwrap().iter().map(text).collect();
        assert_eq!(
            cmd.flags.names().collect::<Vec<_>>().len(),
            flags.len(),
            "{name} flags"
        );
        assert_eq!(
            cmd.key_specs.len(),
            f[8].as_items().unwrap().len(),
            "{name} key specs"
        );
        assert_eq!(
            cmd.subcommands.len(),
            f[9].as_items().unwrap().len(),
            "{name} subcommands"
        );
        checked += 1;
    };
    for entry in reply.as_items().unwrap() {
        check(entry);
        for sub in entry.as_items().unwrap()[9].as_items().unwrap() {
            check(sub);
        }
    }
    assert_eq!(
        checked,
        table_len(&table),
        "the server and the table have different numbers of commands"
    );
}

fn table_len(_table: &CommandTable) -> usize {
    slotwise_slot::builtin_commands()
        .iter()
        .map(|c| 1 + c.subcommands.len())
        .sum()
}

// ---------------------------------------------------------------------------------------------
// Keys against COMMAND GETKEYSANDFLAGS

/// One argument of a command as `COMMAND DOCS` describes it.
#[derive(Clone, Debug)]
struct DocArg {
    name: String,
    kind: String,
    token: Option<String>,
    optional: bool,
    multiple: bool,
    multiple_token: bool,
    args: Vec<DocArg>,
}

fn field<'a>(f: &'a Frame, name: &str) -> Option<&'a Frame> {
    f.as_items()?
        .chunks_exact(2)
        .find(|kv| text(&kv[0]) == name)
        .map(|kv| &kv[1])
}

fn parse_args(f: Option<&Frame>) -> Vec<DocArg> {
    let Some(items) = f.and_then(Frame::as_items) else {
        return Vec::new();
    };
    items
        .iter()
        .map(|a| {
            let flags: Vec<String> = field(a, "flags")
                .and_then(Frame::as_items)
                .unwrap_or_default()
                .iter()
                .map(text)
                .collect();
            DocArg {
                name: field(a, "name").map(text).unwrap_or_default(),
                kind: field(a, "type").map(text).unwrap_or_default(),
                token: field(a, "token").map(text),
                optional: flags.iter().any(|f| f == "optional"),
                multiple: flags.iter().any(|f| f == "multiple"),
                multiple_token: flags.iter().any(|f| f == "multiple_token"),
                args: parse_args(field(a, "arguments")),
            }
        })
        .collect()
}

/// Command name (`get`, `object|encoding`) → its documented arguments.
fn docs(conn: &mut Conn) -> BTreeMap<String, Vec<DocArg>> {
    let reply = conn.ok(["COMMAND", "DOCS"]).expect("COMMAND DOCS");
    let mut out = BTreeMap::new();
    fn walk(f: &Frame, out: &mut BTreeMap<String, Vec<DocArg>>) {
        for kv in f.as_items().unwrap_or_default().chunks_exact(2) {
            out.insert(text(&kv[0]), parse_args(field(&kv[1], "arguments")));
            if let Some(subs) = field(&kv[1], "subcommands") {
                walk(subs, out);
            }
        }
    }
    walk(&reply, &mut out);
    out
}

/// Names of the commands that have key arguments, by the server's own account (`COMMAND INFO`:
/// a key spec not marked `not_key`, or movable keys).
fn keyed_commands(conn: &mut Conn) -> Vec<String> {
    let reply = conn.ok(["COMMAND", "INFO"]).expect("COMMAND INFO");
    let mut out = Vec::new();
    let mut visit = |e: &Frame| {
        let f = e.as_items().unwrap();
        let has_key_spec = f[8].as_items().unwrap().iter().any(|spec| {
            !field(spec, "flags")
                .and_then(Frame::as_items)
                .unwrap_or_default()
                .iter()
                .any(|fl| text(fl) == "not_key")
        });
        let movable = f[2]
            .as_items()
            .unwrap()
            .iter()
            .any(|fl| text(fl) == "movablekeys");
        if has_key_spec || movable {
            out.push(text(&f[0]));
        }
    };
    for e in reply.as_items().unwrap() {
        visit(e);
        for s in e.as_items().unwrap()[9].as_items().unwrap() {
            visit(s);
        }
    }
    out.sort();
    out
}

const WORDS: &[&str] = &["x", "0", "$", "*", ">", "0-0", "a:b", "{t}v", "1", "v"];
const KEYWORDS: &[&str] = &[
    "STORE",
    "STREAMS",
    "KEYS",
    "GET",
    "BY",
    "LIMIT",
    "STOREDIST",
    "GROUP",
    "COUNT",
    "BLOCK",
    "NOACK",
    "AUTH",
    "AUTH2",
    "COPY",
    "REPLACE",
    "OVERFLOW",
    "SET",
    "INCRBY",
    "WEIGHTS",
    "store\0x",
    "get\0",
];
const NUMBERS: &[&str] = &[
    "-1",
    "0",
    "abc",
    " 1",
    "1x",
    "01",
    "+1",
    "4294967297",
    "2",
    "99",
    "",
    "3",
    "1\0",
    "-0",
];

fn random_case(rng: &mut Rng, s: &str) -> Vec<u8> {
    match rng.below(3) {
        0 => s.to_ascii_uppercase().into_bytes(),
        1 => s.to_ascii_lowercase().into_bytes(),
        _ => s
            .bytes()
            .map(|b| {
                if rng.chance(2) {
                    b.to_ascii_uppercase()
                } else {
                    b.to_ascii_lowercase()
                }
            })
            .collect(),
    }
}

fn random_key(rng: &mut Rng) -> Vec<u8> {
    match rng.below(6) {
        0 => (0..rng.below(8)).map(|_| rng.next() as u8).collect(),
        1 => format!("{{u{}}}:{}", rng.below(4), rng.below(9)).into_bytes(),
        2 => b"".to_vec(),
        _ => format!("k{}", rng.below(50)).into_bytes(),
    }
}

struct Gen<'r> {
    rng: &'r mut Rng,
    out: Vec<Vec<u8>>,
    numkeys: Option<usize>,
}

impl Gen<'_> {
    fn args(&mut self, args: &[DocArg]) {
        let shared_reps = 1 + self.rng.below(3);
        for a in args {
            let forced = self.numkeys.is_some() && a.multiple;
            if a.optional && !forced && self.rng.chance(2) {
                continue;
            }
            let reps = match (a.multiple, forced) {
                (false, _) => 1,
                (true, true) if a.optional => self.rng.below(4),
                (true, _) => shared_reps,
            };
            if forced {
                let at = self.numkeys.take().unwrap();
                self.out[at] = reps.to_string().into_bytes();
            }
            for r in 0..reps {
                if let Some(t) = &a.token
                    && (r == 0 || a.multiple_token)
                {
                    let t = random_case(self.rng, t);
                    self.out.push(t);
                }
                self.value(a);
            }
        }
    }

    fn value(&mut self, a: &DocArg) {
        match a.kind.as_str() {
            "key" => {
                let k = random_key(self.rng);
                self.out.push(k);
            }
            "integer" if a.name == "numkeys" => {
                self.numkeys = Some(self.out.len());
                self.out.push(b"1".to_vec());
            }
            "integer" => self.out.push(self.rng.below(4).to_string().into_bytes()),
            "double" => self.out.push(b"1.5".to_vec()),
            "unix-time" => self.out.push(b"1700000000".to_vec()),
            "oneof" if !a.args.is_empty() => {
                let mut chosen = self.rng.pick(&a.args).clone();
                chosen.optional = false;
                self.args(&[chosen]);
            }
            "block" => self.args(&a.args),
            "pure-token" | "oneof" => {}
            _ => {
                let w = self.rng.pick(WORDS).as_bytes().to_vec();
                self.out.push(w);
            }
        }
    }
}

fn command_prefix(rng: &mut Rng, name: &str) -> Vec<Vec<u8>> {
    name.split('|').map(|part| random_case(rng, part)).collect()
}

fn mutate(rng: &mut Rng, line: &mut Vec<Vec<u8>>, fixed: usize) {
    for _ in 0..1 + rng.below(2) {
        let pos = fixed + rng.below(line.len().saturating_sub(fixed) + 1);
        match rng.below(5) {
            0 if pos < line.len() => {
                line.remove(pos);
            }
            1 if pos < line.len() => {
                let a = line[pos].clone();
                line.insert(pos, a);
            }
            2 => line.insert(pos, rng.pick(KEYWORDS).as_bytes().to_vec()),
            3 if pos < line.len() => line[pos] = rng.pick(NUMBERS).as_bytes().to_vec(),
            _ => line.truncate(pos.max(fixed)),
        }
    }
}

fn random_line(rng: &mut Rng, name: &str) -> Vec<Vec<u8>> {
    let mut line = command_prefix(rng, name);
    for _ in 0..rng.below(9) {
        let a = match rng.below(4) {
            0 => rng.pick(KEYWORDS).as_bytes().to_vec(),
            1 => rng.pick(NUMBERS).as_bytes().to_vec(),
            2 => rng.pick(WORDS).as_bytes().to_vec(),
            _ => random_key(rng),
        };
        line.push(a);
    }
    line
}

fn hand_written() -> Vec<Vec<Vec<u8>>> {
    let lines: &[&[&str]] = &[
        &[
            "SORT", "k", "BY", "p", "LIMIT", "0", "1", "GET", "#", "STORE", "dst",
        ],
        &["sort", "k", "store", "a", "STORE", "b"],
        &["SORT", "k", "LIMIT", "store", "x", "STORE", "d"],
        &["SORT", "k", "STORE"],
        &["SORT_RO", "k", "BY", "x"],
        &["MIGRATE", "h", "1", "", "0", "5", "KEYS", "a", "b", "c"],
        &["MIGRATE", "h", "1", "k", "0", "5", "KEYS", "a"],
        &[
            "MIGRATE", "h", "1", "", "0", "5", "AUTH", "keys", "KEYS", "a", "b",
        ],
        &[
            "MIGRATE", "h", "1", "", "0", "5", "AUTH2", "u", "KEYS", "KEYS", "x",
        ],
        &[
            "MIGRATE", "h", "1", "", "0", "5", "COPY", "REPLACE", "KEYS", "x",
        ],
        &["MIGRATE", "h", "1", "k", "0", "5"],
        &["EVAL", "s", "2", "a", "b", "c"],
        &["EVAL", "s", " 1", "a"],
        &["EVAL", "s", "1abc", "a"],
        &["EVAL", "s", "0"],
        &["EVAL", "s", "-1", "a"],
        &["EVAL", "s", "4294967297", "a", "b"],
        &["FCALL", "f", "3", "a", "b"],
        &["EVALSHA_RO", "s", "2", "a", "b"],
        &["XREAD", "COUNT", "1", "STREAMS", "a", "b", "0", "0"],
        &["XREAD", "STREAMS", "streams", "0"],
        &["XREAD", "STREAMS", "a", "b", "c"],
        &["XREAD", "BLOCK", "0", "streams", "STREAMS", "a", "b"],
        &[
            "XREADGROUP",
            "GROUP",
            "g",
            "c",
            "NOACK",
            "STREAMS",
            "a",
            "0",
        ],
        &["XREADGROUP", "GROUP", "STREAMS", "c", "STREAMS", "a", "0"],
        &["ZUNIONSTORE", "d", "2", "a", "b"],
        &["ZUNIONSTORE", "d", "0", "a"],
        &["ZUNIONSTORE", "d", "3", "a", "b"],
        &["ZINTERCARD", "2", "a", "b", "LIMIT", "1"],
        &["ZDIFF", "01", "a"],
        &["LMPOP", "2", "a", "b", "LEFT"],
        &["BZMPOP", "0", "2", "a", "b", "MIN"],
        &[
            "GEORADIUS",
            "k",
            "0",
            "0",
            "1",
            "m",
            "STORE",
            "d",
            "STOREDIST",
            "e",
        ],
        &["GEORADIUSBYMEMBER", "k", "m", "1", "km", "STOREDIST", "d"],
        &["GEORADIUS", "k", "0", "0", "1", "m", "STORE"],
        &["SET", "k", "v", "GET"],
        &["SET", "k", "v", "get\0x"],
        &["SET", "k", "v", "EX", "1"],
        &["BITFIELD", "k", "GET", "u8", "0"],
        &["BITFIELD", "k", "GET", "u8", "0", "SET", "u8", "0", "1"],
        &["BITFIELD", "k", "OVERFLOW", "WRAP"],
        &["BITFIELD", "k"],
        &["BITFIELD_RO", "k", "GET", "u8", "0"],
        &["MSET", "a", "1", "b", "2"],
        &["MSET", "a", "1", "b"],
        &["OBJECT", "ENCODING", "k"],
        &["object", "nosuch", "k"],
        &["XINFO", "STREAM", "s", "FULL"],
        &["MEMORY", "USAGE", "k", "SAMPLES", "5"],
        &["SPUBLISH", "ch", "m"],
        &["SSUBSCRIBE", "a", "b"],
        &["PUBLISH", "ch", "m"],
        &["NOSUCHCOMMAND", "k"],
        &["LCS", "a", "b"],
        &["BLMOVE", "a", "b", "LEFT", "RIGHT", "0"],
        &["RENAME", "a", "b"],
        &["PFCOUNT", "a", "b", "c"],
    ];
    lines
        .iter()
        .map(|l| l.iter().map(|a| a.as_bytes().to_vec()).collect())
        .collect()
}

#[test]
fn keys_match_command_getkeysandflags() {
    let (_server, mut conn) = start();
    let table = CommandTable::new();
    let docs = docs(&mut conn);
    let keyed = keyed_commands(&mut conn);
    let mut rng = Rng(0x6e74_be75);

    let mut lines: Vec<(Option<String>, Vec<Vec<u8>>)> =
        hand_written().into_iter().map(|l| (None, l)).collect();
    for name in &keyed {
        let fixed = name.split('|').count();
        let args = &docs[name];
        for i in 0..14 {
            let line = if i < 8 {
                let mut g = Gen {
                    rng: &mut rng,
                    out: Vec::new(),
                    numkeys: None,
                };
                g.args(args);
                let mut line = command_prefix(g.rng, name);
                line.extend(g.out);
                line
            } else if i < 12 {
                let mut g = Gen {
                    rng: &mut rng,
                    out: Vec::new(),
                    numkeys: None,
                };
                g.args(args);
                let mut line = command_prefix(g.rng, name);
                line.extend(g.out);
                mutate(&mut rng, &mut line, fixed);
                line
            } else {
                random_line(&mut rng, name)
            };
            // COMMAND GETKEYSANDFLAGS needs at least one argument after the command name.
            if line.len() >= 2 {
                lines.push((Some(name.clone()), line));
            }
        }
    }

    let commands: Vec<Vec<Vec<u8>>> = lines
        .iter()
        .map(|(_, l)| {
            let mut c = vec![b"COMMAND".to_vec(), b"GETKEYSANDFLAGS".to_vec()];
            c.extend(l.iter().cloned());
            c
        })
        .collect();
    let replies = pipeline(&mut conn, &commands);

    let mut with_keys: BTreeMap<&str, usize> = keyed.iter().map(|n| (n.as_str(), 0)).collect();
    let mut by_answer: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut mismatches = Vec::new();
    let mut vectors = Vec::new();
    for ((name, line), reply) in lines.iter().zip(&replies) {
        let server = server_answer(reply, line);
        let ours = ours(&table, line);
        if ours != server {
            mismatches.push(format!(
                "{}\n    server: {server:?}\n    ours:   {ours:?}",
                show(line)
            ));
        }
        let kind = match &server {
            Answer::Keys(k) if k.is_empty() => "no keys (keys optional)",
            Answer::Keys(_) => "keys",
            Answer::InvalidCommand => "invalid command",
            Answer::NoKeyArguments => "no key arguments",
            Answer::WrongArity => "wrong arity",
            Answer::InvalidArguments => "invalid arguments",
        };
        *by_answer.entry(kind).or_default() += 1;
        if let (Some(name), Answer::Keys(k)) = (name, &server)
            && !k.is_empty()
        {
            *with_keys.get_mut(name.as_str()).unwrap() += 1;
        }
        vectors.push(
            json!({ "args": line.iter().map(|a| enc(a)).collect::<Vec<_>>(), "server": server.to_json() })
                .to_string(),
        );
    }
    assert!(
        mismatches.is_empty(),
        "{} of {} command lines disagree with COMMAND GETKEYSANDFLAGS:\n{}",
        mismatches.len(),
        lines.len(),
        mismatches.join("\n")
    );
    let thin: Vec<_> = with_keys.iter().filter(|(_, n)| **n < 3).collect();
    assert!(
        thin.is_empty(),
        "commands with fewer than 3 lines the server found keys in: {thin:?}"
    );
    eprintln!(
        "{} command lines over {} keyed commands agree with COMMAND GETKEYSANDFLAGS: {by_answer:?}",
        lines.len(),
        keyed.len()
    );
    if write_vectors() {
        let mut f = std::fs::File::create(format!("{VECTORS_DIR}/getkeys.jsonl")).expect("create");
        writeln!(f, "{}", vectors.join("\n")).expect("write");
    }
}

fn show(line: &[Vec<u8>]) -> String {
    line.iter()
        .map(|a| format!("{:?}", String::from_utf8_lossy(a)))
        .collect::<Vec<_>>()
        .join(" ")
}

fn server_answer(reply: &Frame, line: &[Vec<u8>]) -> Answer {
    if reply.is_error() {
        let t = text(reply);
        return match t.as_str() {
            "ERR Invalid command specified" => Answer::InvalidCommand,
            "ERR The command has no key arguments" => Answer::NoKeyArguments,
            "ERR Invalid number of arguments specified for command" => Answer::WrongArity,
            "ERR Invalid arguments specified for command" => Answer::InvalidArguments,
            other => panic!(
                "unexpected error from COMMAND GETKEYSANDFLAGS {}: {other}",
                show(line)
            ),
        };
    }
    let keys = reply
        .as_items()
        .unwrap_or_else(|| panic!("unexpected reply {reply:?}"))
        .iter()
        .map(|kf| {
            let kf = kf.as_items().expect("[key, flags]");
            let mut flags: Vec<String> =
                kf[1].as_items().expect("flags").iter().map(text).collect();
            flags.sort();
            (kf[0].as_bytes().expect("key").to_vec(), flags)
        })
        .collect();
    Answer::Keys(keys)
}
