//! The live mode (`slotwise -c …`, like redis-cli) and `slotwise topology watch` against real
//! clusters started on loopback by `slotwise-test-cluster`: one plain cluster shared by the cases
//! of `live_commands_on_a_plain_cluster` (run one after the other, the one that reshards last),
//! and one TLS + ACL cluster.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use slotwise_slot::key_slot;
use slotwise_test_cluster::{Cluster, ClusterOptions};

fn slotwise(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_slotwise"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run slotwise")
}

/// Runs slotwise with `input` piped to its standard input (and `env` set).
fn slotwise_stdin(args: &[&str], input: &str, env: &[(&str, &str)]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_slotwise"))
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn slotwise");
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_owned();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(input.as_bytes());
    });
    let out = child.wait_with_output().expect("wait for slotwise");
    writer.join().expect("writer");
    out
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A key whose slot is not served by the node on `seed`: the command must be routed (or
/// redirected) to another node.
fn key_elsewhere(cluster: &Cluster, seed: u16, prefix: &str) -> String {
    let seed_slots = cluster.node(seed).expect("seed node").slots;
    (0..)
        .map(|i| format!("{prefix}:{i}"))
        .find(|k| {
            let slot = key_slot(k.as_bytes()).get();
            !seed_slots.iter().any(|r| r.contains(&slot))
        })
        .expect("a key on another node")
}

#[test]
fn live_commands_on_a_plain_cluster() {
    let cluster = Cluster::start(&ClusterOptions {
        primaries: 3,
        replicas: 0,
        ..Default::default()
    })
    .expect("start a cluster");
    // DBSIZE and FLUSHALL first, while only this case's keys exist.
    multi_node_commands_use_the_core_plans(&cluster);
    one_command_with_a_seed_or_h_and_p(&cluster);
    exit_codes_as_redis_cli(&cluster);
    options_after_the_command_are_arguments(&cluster);
    verbatim_replies_print_their_text(&cluster);
    commands_piped_through_stdin(&cluster);
    subscribe_streams_messages_one_per_line(&cluster);
    watch_prints_the_map_and_each_change(&cluster);
}

fn one_command_with_a_seed_or_h_and_p(cluster: &Cluster) {
    let seed = cluster.seed().expect("seed");
    let addr = seed.to_string();
    let port = seed.port().to_string();
    let key = key_elsewhere(cluster, seed.port(), "cli");

    let set = slotwise(&["-c", &addr, "SET", &key, "hello world"]);
    assert!(set.status.success(), "{set:?}");
    assert_eq!(stdout(&set), "OK\n");
    // The key really is on another node than the seed.
    let owner = cluster
        .primaries()
        .expect("primaries")
        .into_iter()
        .find(|p| {
            p.slots
                .iter()
                .any(|r| r.contains(&key_slot(key.as_bytes()).get()))
        })
        .expect("owner");
    assert_ne!(owner.port, seed.port());
    let direct = cluster
        .conn(owner.port)
        .and_then(|mut c| c.text(["GET", key.as_str()]))
        .expect("GET on the owner");
    assert_eq!(direct, "hello world");

    // The reported bug: -h was taken for the seed.
    let want = "\"hello world\"\n";
    for args in [
        vec!["-c", &addr, "GET", &key],
        vec!["-c", "-h", "127.0.0.1", "-p", &port, "GET", &key],
        vec!["-h", "127.0.0.1", "-p", &port, "-c", "GET", &key],
        vec!["-p", &port, "GET", &key],
        vec!["-p", &port, "-n", "0", "-h", "127.0.0.1", "GET", &key],
        vec!["-c", "127.0.0.1:1", "-p", &port, "GET", &key],
    ] {
        let out = slotwise(&args);
        assert_eq!(stdout(&out), want, "{args:?}: {out:?}");
        assert_eq!(out.status.code(), Some(0), "{args:?}");
    }
    let uri = format!("redis://127.0.0.1:{port}/0");
    assert_eq!(stdout(&slotwise(&["-u", &uri, "-c", "GET", &key])), want);

    let json = slotwise(&["-c", "-p", &port, "--json", "GET", &key]);
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    assert_eq!(value, "hello world");
    let missing = slotwise(&["-c", &addr, "GET", "cli:missing"]);
    assert_eq!(stdout(&missing), "(nil)\n");
}

fn exit_codes_as_redis_cli(cluster: &Cluster) {
    let port = cluster.seed().expect("seed").port().to_string();
    let set = slotwise(&["-p", &port, "SET", "cli:text", "not a number"]);
    assert_eq!(stdout(&set), "OK\n");

    // redis-cli 7: an error reply is printed and the status is 0; with -e it is 1.
    let incr = slotwise(&["-c", "-p", &port, "INCR", "cli:text"]);
    assert_eq!(incr.status.code(), Some(0), "{incr:?}");
    assert!(stdout(&incr).starts_with("(error) ERR"), "{incr:?}");
    let incr = slotwise(&["-c", "-p", &port, "-e", "INCR", "cli:text"]);
    assert_eq!(incr.status.code(), Some(1), "{incr:?}");
    assert_eq!(stdout(&incr), "");
    assert!(stderr(&incr).starts_with("(error) ERR"), "{incr:?}");
    let ok = slotwise(&["-c", "-p", &port, "-e", "GET", "cli:text"]);
    assert_eq!(ok.status.code(), Some(0), "{ok:?}");
    // A command the server does not know is an error reply too.
    let unknown = slotwise(&["-c", "-p", &port, "NOSUCHCMD"]);
    assert_eq!(unknown.status.code(), Some(0));
    assert!(stdout(&unknown).starts_with("(error) ERR"), "{unknown:?}");

    // No command: standard input, here empty: status 0.
    let empty = slotwise(&["-c", "-p", &port]);
    assert_eq!(empty.status.code(), Some(0), "{empty:?}");
    assert_eq!(stdout(&empty), "");

    // Connecting fails: 1, told on stderr.
    let refused = slotwise(&[
        "-c",
        "-h",
        "127.0.0.1",
        "-p",
        "1",
        "--timeout",
        "2",
        "GET",
        "k",
    ]);
    assert_eq!(refused.status.code(), Some(1), "{refused:?}");
    assert!(stderr(&refused).contains("127.0.0.1:1"), "{refused:?}");

    // Bad options: 1, as redis-cli's.
    for args in [
        vec!["-c", "-p", &port, "--bogus", "GET", "k"],
        vec!["-c", "-p", &port, "-n", "1", "GET", "k"],
        vec!["-c", "-p", "notaport", "GET", "k"],
        vec!["-c", "-p"],
        vec!["-c", "--user", "u", "-p", &port, "GET", "k"],
    ] {
        let out = slotwise(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {out:?}");
        assert!(stderr(&out).starts_with("slotwise: "), "{args:?}: {out:?}");
        assert_eq!(stdout(&out), "", "{args:?}");
    }
    let db = stderr(&slotwise(&["-c", "-p", &port, "-n", "1", "GET", "k"]));
    assert!(db.contains("only database 0"), "{db}");
}

fn options_after_the_command_are_arguments(cluster: &Cluster) {
    let port = cluster.seed().expect("seed").port().to_string();
    // As redis-cli: every word after the command is an argument, noted on stderr.
    let echo = slotwise(&["-c", "-p", &port, "ECHO", "--json"]);
    assert_eq!(stdout(&echo), "\"--json\"\n", "{echo:?}");
    assert!(
        stderr(&echo).contains("--json comes after the command"),
        "{echo:?}"
    );
    let echo = slotwise(&["-c", "-p", &port, "--json", "ECHO", "-p"]);
    assert_eq!(stdout(&echo), "\"-p\"\n", "{echo:?}");
    // A wrong arity is refused as the server would: an error reply, status 0.
    let get = slotwise(&["-c", "-p", &port, "GET", "k", "--json"]);
    assert_eq!(get.status.code(), Some(0), "{get:?}");
    assert!(stdout(&get).starts_with("(error) ERR"), "{get:?}");
}

fn verbatim_replies_print_their_text(cluster: &Cluster) {
    let port = cluster.seed().expect("seed").port().to_string();
    // RESP3: a verbatim string; -2: a bulk string, which redis-cli prints raw for CLUSTER INFO.
    for protocol in ["-3", "-2"] {
        let out = slotwise(&["-c", protocol, "-p", &port, "CLUSTER", "INFO"]);
        let text = stdout(&out);
        assert!(
            text.starts_with("cluster_state:ok\r\n"),
            "{protocol}: {text:?}"
        );
        assert!(text.contains("\r\ncluster_known_nodes:3\r\n"), "{text:?}");
        assert!(text.lines().count() > 10, "one line per field: {text:?}");
        assert!(
            !text.contains("txt:") && !text.contains("(verbatim"),
            "{text:?}"
        );
    }
    let info = stdout(&slotwise(&["-p", &port, "INFO", "server"]));
    // INFO goes to every node: one map entry per node, each its text.
    assert_eq!(
        info.matches(" => # Server\r\nredis_version:").count(),
        3,
        "{info:?}"
    );
    assert!(info.starts_with("1# \"127.0.0.1:"), "{info:?}");
    let json = slotwise(&["-p", &port, "--json", "CLUSTER", "INFO"]);
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    assert!(
        value
            .as_str()
            .expect("a string")
            .starts_with("cluster_state:ok\r\n")
    );
}

fn commands_piped_through_stdin(cluster: &Cluster) {
    let port = cluster.seed().expect("seed").port().to_string();
    let key = key_elsewhere(cluster, cluster.seed().expect("seed").port(), "stdin");
    let input = format!(
        "SET \"{key}\" \"two\\nlines\"\n\
         GET {key}\n\
         get '{key}'\n\
         \n\
         INCR {key}\n\
         set x \"unterminated\n\
         2 PING\n\
         0 PING\n\
         RPUSH 'stdin:list' a \"b c\" \"\\x41\\x00\"\n\
         LRANGE stdin:list 0 -1\n\
         DEL stdin:list\n\
         quit\n\
         GET {key}\n"
    );
    let want = "OK\n\
                \"two\\nlines\"\n\
                \"two\\nlines\"\n\
                (error) ERR value is not an integer or out of range\n\
                Invalid argument(s)\n\
                PONG\n\
                PONG\n\
                Invalid redis-cli repeat command option value.\n\
                (integer) 3\n\
                1) \"a\"\n\
                2) \"b c\"\n\
                3) \"A\\x00\"\n\
                (integer) 1\n";
    let out = slotwise_stdin(&["-c", "-h", "127.0.0.1", "-p", &port], &input, &[]);
    assert_eq!(stdout(&out), want, "{out:?}");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    // Without a prompt: stdin is not a terminal.
    assert!(!stdout(&out).contains("> "));

    // --json: one JSON value per line.
    let out = slotwise_stdin(
        &["-p", &port, "--json", "-c"],
        &format!("GET {key}\nGET stdin:none\nNOSUCHCMD\n"),
        &[],
    );
    let values: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    assert_eq!(values.len(), 3, "{out:?}");
    assert_eq!(values[0], "two\nlines");
    assert_eq!(values[1], serde_json::Value::Null);
    assert!(
        values[2]["error"]
            .as_str()
            .expect("error")
            .starts_with("ERR")
    );

    // Unreachable: each command tells it on stderr; the status is 0, as redis-cli's.
    let out = slotwise_stdin(&["-c", "-p", "1", "--timeout", "2"], "GET a\nGET b\n", &[]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(stdout(&out), "");
    assert_eq!(
        stderr(&out).matches("connecting to 127.0.0.1:1").count(),
        3,
        "at the start and for each command: {out:?}"
    );
}

fn multi_node_commands_use_the_core_plans(cluster: &Cluster) {
    let addr = cluster.seed().expect("seed").to_string();
    let keys: Vec<String> = (0..60).map(|i| format!("multi:{i}")).collect();
    let slots: std::collections::BTreeSet<u16> =
        keys.iter().map(|k| key_slot(k.as_bytes()).get()).collect();
    assert!(slots.len() > 30, "keys over many slots");

    let ping = slotwise(&["-c", &addr, "PING"]);
    assert_eq!(stdout(&ping), "PONG\n", "{ping:?}");
    // MSET over every key (split by slot), then DBSIZE summed over all primaries.
    let mut mset = vec!["-c", addr.as_str(), "MSET"];
    let values: Vec<String> = keys.iter().map(|k| format!("v-{k}")).collect();
    for (k, v) in keys.iter().zip(&values) {
        mset.extend([k.as_str(), v.as_str()]);
    }
    let out = slotwise(&mset);
    assert_eq!(stdout(&out), "OK\n", "{out:?}");
    let dbsize = slotwise(&["-c", &addr, "DBSIZE"]);
    assert_eq!(stdout(&dbsize), "(integer) 60\n", "{dbsize:?}");

    // KEYS *: one numbered line per key, like redis-cli; --json: an array.
    let listed = stdout(&slotwise(&["-c", &addr, "KEYS", "*"]));
    assert_eq!(listed.lines().count(), 60, "{listed}");
    for k in &keys {
        assert!(
            listed.contains(&format!("\"{k}\"")),
            "{k} missing from {listed}"
        );
    }
    assert!(
        listed.lines().any(|l| l.starts_with("60) \"multi:")),
        "{listed}"
    );
    let json = stdout(&slotwise(&["-c", &addr, "--json", "KEYS", "*"]));
    let parsed: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    let mut got: Vec<String> = parsed
        .as_array()
        .expect("an array")
        .iter()
        .map(|v| v.as_str().expect("strings").to_owned())
        .collect();
    got.sort();
    let mut want = keys.clone();
    want.sort();
    assert_eq!(got, want);

    // MGET across slots: the values in the order asked (one missing key in the middle).
    let mut mget = vec!["-c", addr.as_str(), "MGET", keys[5].as_str(), "nope"];
    mget.extend(keys.iter().take(3).map(String::as_str));
    let got = stdout(&slotwise(&mget));
    let want = format!(
        "1) \"v-{}\"\n2) (nil)\n3) \"v-{}\"\n4) \"v-{}\"\n5) \"v-{}\"\n",
        keys[5], keys[0], keys[1], keys[2]
    );
    assert_eq!(got, want);

    // SCRIPT LOAD loads on every primary: EVALSHA then works in every slot.
    let sha = stdout(&slotwise(&[
        "-c",
        &addr,
        "SCRIPT",
        "LOAD",
        "return KEYS[1]",
    ]));
    let sha = sha.trim().trim_matches('"').to_owned();
    assert_eq!(sha.len(), 40, "{sha}");
    for k in keys.iter().step_by(7) {
        let out = slotwise(&["-c", &addr, "EVALSHA", &sha, "1", k]);
        assert_eq!(stdout(&out), format!("\"{k}\"\n"), "{out:?}");
    }

    // DEL across slots prints the total; FLUSHALL empties every primary.
    let mut del = vec!["-c", addr.as_str(), "DEL"];
    del.extend(keys.iter().take(25).map(String::as_str));
    del.push("nope");
    assert_eq!(stdout(&slotwise(&del)), "(integer) 25\n");
    assert_eq!(
        stdout(&slotwise(&["-c", &addr, "DBSIZE"])),
        "(integer) 35\n"
    );
    assert_eq!(stdout(&slotwise(&["-c", &addr, "FLUSHALL"])), "OK\n");
    for primary in cluster.primaries().expect("primaries") {
        let mut conn = cluster
            .conn(primary.port)
            .expect("a connection to the primary");
        let n = conn.cmd(["DBSIZE"]).expect("DBSIZE");
        assert_eq!(
            n,
            slotwise_resp::Frame::Integer(0),
            "primary {}",
            primary.port
        );
    }
}

/// Runs `slotwise` in the background and publishes with another `slotwise -c` until it exits.
fn subscribed(args: &[&str], addr: &str, publish: &[[&str; 3]]) -> Output {
    let child = Command::new(env!("CARGO_BIN_EXE_slotwise"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    let pid = child.id();
    let (done_tx, done) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = done_tx.send(child.wait_with_output());
    });
    // Publish every message again each round until the subscriber has its count (its
    // subscription is confirmed some time after it starts).
    for _ in 0..100 {
        for [cmd, channel, payload] in publish {
            slotwise(&["-c", addr, cmd, channel, payload]);
        }
        if let Ok(out) = done.recv_timeout(Duration::from_millis(200)) {
            return out.expect("waited");
        }
    }
    panic!("slotwise (pid {pid}) did not exit after its --count messages");
}

fn subscribe_streams_messages_one_per_line(cluster: &Cluster) {
    let addr = cluster.seed().expect("seed").to_string();
    let out = subscribed(
        &["-c", &addr, "--count", "2", "SUBSCRIBE", "cli:news"],
        &addr,
        &[["PUBLISH", "cli:news", "hello world"]],
    );
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        stdout(&out),
        "message cli:news hello world\nmessage cli:news hello world\n"
    );

    let out = subscribed(
        &["-c", &addr, "--json", "--count", "1", "PSUBSCRIBE", "cli:*"],
        &addr,
        &[["PUBLISH", "cli:x", "p"]],
    );
    assert!(out.status.success(), "{out:?}");
    let v: serde_json::Value = serde_json::from_str(stdout(&out).trim()).expect("one JSON object");
    assert_eq!(
        v,
        serde_json::json!({"kind": "pmessage", "channel": "cli:x", "payload": "p", "pattern": "cli:*"})
    );

    let port = cluster.seed().expect("seed").port().to_string();
    let out = subscribed(
        &[
            "-h",
            "127.0.0.1",
            "-p",
            &port,
            "--json",
            "--count",
            "1",
            "SSUBSCRIBE",
            "cli:shard",
        ],
        &addr,
        &[["SPUBLISH", "cli:shard", "s\n2"]],
    );
    assert!(out.status.success(), "{out:?}");
    let v: serde_json::Value = serde_json::from_str(stdout(&out).trim()).expect("one JSON object");
    assert_eq!(
        v,
        serde_json::json!({"kind": "smessage", "channel": "cli:shard", "payload": "s\n2"})
    );
    // No channel: the server's error reply, as redis-cli prints it (status 0; 1 with -e).
    let missing = slotwise(&["-c", &addr, "SUBSCRIBE"]);
    assert_eq!(missing.status.code(), Some(0), "{missing:?}");
    assert_eq!(
        stdout(&missing),
        "(error) ERR wrong number of arguments for 'subscribe' command\n"
    );
    let missing = slotwise(&["-c", &addr, "-e", "SUBSCRIBE"]);
    assert_eq!(missing.status.code(), Some(1), "{missing:?}");
}

/// The last case: it moves slots.
fn watch_prints_the_map_and_each_change(cluster: &Cluster) {
    let port = cluster.seed().expect("seed").port().to_string();
    let mut child = Command::new(env!("CARGO_BIN_EXE_slotwise"))
        .args([
            "topology",
            "watch",
            "-h",
            "127.0.0.1",
            "-p",
            &port,
            "--interval",
            "100",
            "--count",
            "1",
            "--seconds",
            "60",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn watch");
    let (tx, rx) = mpsc::channel();
    let out = child.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let first = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the first slot map");
    assert!(first.contains("slot map: 3 shards"), "{first}");
    let primaries = cluster.primaries().expect("primaries");
    cluster
        .reshard(primaries[0].port, primaries[1].port, 10)
        .expect("reshard");
    let status = child.wait().expect("watch exits after one change");
    reader.join().expect("reader");
    let text: Vec<String> = rx.try_iter().collect();
    assert!(status.success(), "{status:?}: {text:?}");
    let text = text.join("\n");
    assert!(text.contains("change 1:"), "{text}");
    assert!(text.contains("slot"), "{text}");
}

#[test]
fn tls_and_acl_options_as_redis_cli() {
    let cluster = Cluster::start(&ClusterOptions {
        primaries: 3,
        replicas: 0,
        tls: true,
        acl: Some(("cli".into(), "cli-pass".into())),
        extra_args: vec!["--tls-auth-clients".into(), "yes".into()],
        ..Default::default()
    })
    .expect("start a TLS + ACL cluster");
    let files = cluster.tls_files().expect("TLS files").clone();
    let (ca, cert, key) = (
        files.ca_cert.to_string_lossy().into_owned(),
        files.client_cert.to_string_lossy().into_owned(),
        files.client_key.to_string_lossy().into_owned(),
    );
    let port = cluster.seed().expect("seed").port().to_string();
    let tls = ["--tls", "--cacert", &ca, "--cert", &cert, "--key", &key];
    let with = |extra: &[&str]| -> Vec<String> {
        tls.iter()
            .chain(extra)
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
    };
    let run = |args: Vec<String>| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        slotwise(&args)
    };

    let ok = run(with(&[
        "-c",
        "-h",
        "127.0.0.1",
        "-p",
        &port,
        "--user",
        "cli",
        "-a",
        "cli-pass",
        "SET",
        "a",
        "1",
    ]));
    assert_eq!(stdout(&ok), "OK\n", "{ok:?}");
    assert_eq!(ok.status.code(), Some(0));
    // redis-cli's warning about a password on the command line, unless --no-auth-warning.
    assert!(
        stderr(&ok).contains("Using a password with '-a' or '-u' option"),
        "{ok:?}"
    );
    let quiet = run(with(&[
        "-p",
        &port,
        "--user",
        "cli",
        "--pass",
        "cli-pass",
        "--no-auth-warning",
        "GET",
        "a",
    ]));
    assert_eq!(stdout(&quiet), "\"1\"\n", "{quiet:?}");
    assert_eq!(stderr(&quiet), "");
    let uri = format!("rediss://cli:cli-pass@127.0.0.1:{port}");
    let by_uri = run(vec![
        "--cacert".into(),
        ca.clone(),
        "--cert".into(),
        cert.clone(),
        "--key".into(),
        key.clone(),
        "-u".into(),
        uri,
        "GET".into(),
        "a".into(),
    ]);
    assert_eq!(stdout(&by_uri), "\"1\"\n", "{by_uri:?}");

    let bad = run(with(&[
        "-p", &port, "--user", "cli", "-a", "nope", "GET", "a",
    ]));
    assert_eq!(bad.status.code(), Some(1), "{bad:?}");
    let err = stderr(&bad);
    assert!(
        err.contains("WRONGPASS") || err.contains("authentication"),
        "{err}"
    );
    assert!(
        !err.contains("nope"),
        "the password must not be printed: {err}"
    );
    // Without the CA, the server's certificate is not trusted.
    let untrusted = slotwise(&[
        "--tls",
        "-p",
        &port,
        "--timeout",
        "3",
        "--user",
        "cli",
        "-a",
        "cli-pass",
        "GET",
        "a",
    ]);
    assert_eq!(untrusted.status.code(), Some(1), "{untrusted:?}");

    // Standard input through TLS + ACL, the password from REDISCLI_AUTH as redis-cli takes it.
    let args = with(&["-p", &port, "--user", "cli"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = slotwise_stdin(
        &args,
        "INCR n\nINCR n\nGET n\nACL WHOAMI\n",
        &[("REDISCLI_AUTH", "cli-pass")],
    );
    assert_eq!(
        stdout(&out),
        "(integer) 1\n(integer) 2\n\"2\"\n\"cli\"\n",
        "{out:?}"
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(!stderr(&out).contains("Warning"), "{out:?}");
}

/// Against a standalone server (cluster mode off) the CLI works like redis-cli: one command with
/// `-h`/`-p`, and commands piped through standard input.
#[test]
fn a_standalone_server_like_redis_cli() {
    let server =
        slotwise_test_cluster::Server::start(&slotwise_test_cluster::ServerOptions::default())
            .expect("server starts");
    let port = server.port().to_string();
    let o = slotwise(&["-h", "127.0.0.1", "-p", &port, "SET", "k", "v"]);
    assert_eq!(stdout(&o), "OK\n", "{}", stderr(&o));
    assert!(o.status.success());
    let o = slotwise_stdin(
        &["-c", &format!("127.0.0.1:{port}")],
        "GET k\nDBSIZE\nMSET a 1 b 2\nMGET a b k\n",
        &[],
    );
    assert_eq!(
        stdout(&o),
        "\"v\"\n(integer) 1\nOK\n1) \"1\"\n2) \"2\"\n3) \"v\"\n",
        "{}",
        stderr(&o)
    );
    assert!(o.status.success());
}

/// A Sentinel-managed primary: `-c redis+sentinel://…/MASTER` asks the sentinels for it.
#[test]
fn a_sentinel_seed() {
    let group =
        slotwise_test_cluster::SentinelGroup::start(&Default::default()).expect("sentinels start");
    let hosts: Vec<String> = group
        .sentinel_ports()
        .iter()
        .map(|p| format!("127.0.0.1:{p}"))
        .collect();
    let url = format!(
        "redis+sentinel://{}/{}",
        hosts.join(","),
        group.master_name()
    );
    let o = slotwise(&["-c", &url, "INCR", "cli-sentinel"]);
    assert_eq!(stdout(&o), "(integer) 1\n", "{}", stderr(&o));
    assert!(o.status.success());
    let primary = group.primary_port().expect("the primary");
    let mut conn = group.conn(primary).expect("a connection to the primary");
    assert_eq!(conn.text(["GET", "cli-sentinel"]).expect("GET"), "1");
    // A name the sentinels do not monitor: a clear error naming it.
    let wrong = format!("redis+sentinel://{}/nosuch", hosts.join(","));
    let o = slotwise(&["-c", &wrong, "--timeout", "2", "PING"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("monitors no primary named `nosuch`"),
        "{}",
        stderr(&o)
    );
}
