//! `slotwise -c` and `slotwise topology watch` against a real cluster (started on loopback by
//! `slotwise-test-cluster`).

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use slotwise_slot::key_slot;
use slotwise_test_cluster::{Cluster, ClusterOptions};

fn slotwise(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_slotwise"))
        .args(args)
        .output()
        .expect("run slotwise")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn cluster() -> Cluster {
    Cluster::start(&ClusterOptions {
        replicas: 0,
        ..Default::default()
    })
    .expect("start a cluster")
}

/// A key whose slot is not served by the node on `seed`: the command must be routed (or
/// redirected) to another node.
fn key_elsewhere(cluster: &Cluster, seed: u16) -> String {
    let seed_slots = cluster.node(seed).expect("seed node").slots;
    (0..)
        .map(|i| format!("cli:{i}"))
        .find(|k| {
            let slot = key_slot(k.as_bytes()).get();
            !seed_slots.iter().any(|r| r.contains(&slot))
        })
        .expect("a key on another node")
}

#[test]
fn runs_commands_on_a_live_cluster() {
    let cluster = cluster();
    let seed = cluster.seed().expect("seed");
    let addr = seed.to_string();
    let key = key_elsewhere(&cluster, seed.port());

    let set = slotwise(&["-c", &addr, "SET", &key, "hello world"]);
    assert!(set.status.success(), "{set:?}");
    assert_eq!(stdout(&set), "OK\n");
    let get = slotwise(&["-c", &addr, "GET", &key]);
    assert_eq!(stdout(&get), "\"hello world\"\n");
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

    let json = slotwise(&["-c", &addr, "--json", "GET", &key]);
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    assert_eq!(value, "hello world");

    let incr = slotwise(&["-c", &addr, "INCR", &key]);
    assert_eq!(incr.status.code(), Some(1), "an error reply exits 1");
    assert!(
        stdout(&incr).starts_with("(error) ERR"),
        "{}",
        stdout(&incr)
    );

    let missing = slotwise(&["-c", &addr, "GET", "cli:missing"]);
    assert_eq!(stdout(&missing), "(nil)\n");

    let usage = slotwise(&["-c", &addr]);
    assert_eq!(usage.status.code(), Some(2));
    let refused = slotwise(&["-c", "127.0.0.1:1", "--timeout", "1", "GET", "k"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("127.0.0.1:1"));
}

#[test]
fn authenticates_with_acl_user() {
    let cluster = Cluster::start(&ClusterOptions {
        replicas: 0,
        acl: Some(("cli".into(), "cli-pass".into())),
        ..Default::default()
    })
    .expect("start an ACL cluster");
    let addr = cluster.seed().expect("seed").to_string();
    let ok = slotwise(&[
        "-c", &addr, "--user", "cli", "--pass", "cli-pass", "SET", "a", "1",
    ]);
    assert_eq!(stdout(&ok), "OK\n", "{ok:?}");
    let bad = slotwise(&["-c", &addr, "--user", "cli", "--pass", "nope", "GET", "a"]);
    assert_eq!(bad.status.code(), Some(1));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("WRONGPASS") || err.contains("authentication"),
        "{err}"
    );
    assert!(
        !err.contains("nope"),
        "the password must not be printed: {err}"
    );
}

#[test]
fn watch_prints_the_map_and_each_change() {
    let cluster = cluster();
    let addr = cluster.seed().expect("seed").to_string();
    let mut child = Command::new(env!("CARGO_BIN_EXE_slotwise"))
        .args([
            "topology",
            "watch",
            &addr,
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
    println!("{first}\n{text}");
    assert!(text.contains("change 1:"), "{text}");
    assert!(text.contains("slot"), "{text}");
}

#[test]
fn multi_node_commands_use_the_core_plans() {
    let cluster = cluster();
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

#[test]
fn subscribe_streams_messages_one_per_line() {
    let cluster = cluster();
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

    let out = subscribed(
        &[
            "-c",
            &addr,
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
    let missing = slotwise(&["-c", &addr, "SUBSCRIBE"]);
    assert_eq!(missing.status.code(), Some(2), "{missing:?}");
}
