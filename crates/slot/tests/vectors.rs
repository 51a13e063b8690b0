//! Replays the committed server answers in `tests/vectors/` (written by `tests/live.rs` with
//! `SLOTWISE_WRITE_VECTORS=1` from redis-server 7.0.15): the same checks as the live test, without a
//! server.

mod common;

use common::{Answer, VECTORS_DIR, dec, ours};
use serde_json::Value;
use slotwise_slot::{CommandTable, key_slot};

fn lines(file: &str) -> Vec<Value> {
    let path = format!("{VECTORS_DIR}/{file}");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{path}: {e}: {l}")))
        .collect()
}

#[test]
fn slots_equal_the_recorded_cluster_keyslot() {
    let vectors = lines("keyslot.jsonl");
    assert!(
        vectors.len() >= 1000,
        "too few slot vectors: {}",
        vectors.len()
    );
    for v in &vectors {
        let key = dec(&v["key"]);
        let slot = v["slot"].as_u64().expect("slot");
        assert_eq!(u64::from(key_slot(&key).get()), slot, "key {key:?}");
    }
}

#[test]
fn keys_equal_the_recorded_command_getkeysandflags() {
    let table = CommandTable::new();
    let vectors = lines("getkeys.jsonl");
    assert!(
        vectors.len() >= 1000,
        "too few command vectors: {}",
        vectors.len()
    );
    let mut mismatches = Vec::new();
    for v in &vectors {
        let args: Vec<Vec<u8>> = v["args"]
            .as_array()
            .expect("args")
            .iter()
            .map(dec)
            .collect();
        let server = Answer::from_json(&v["server"]);
        let ours = ours(&table, &args);
        if ours != server {
            mismatches.push(format!(
                "{}\n    server: {server:?}\n    ours:   {ours:?}",
                v["args"]
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {} recorded command lines disagree:\n{}",
        mismatches.len(),
        vectors.len(),
        mismatches.join("\n")
    );
}
