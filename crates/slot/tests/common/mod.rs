//! Shared by the live-server test and the committed-vector test: the JSON encoding of binary-safe
//! arguments, the comparison of our answer with the server's, and a seeded RNG.
#![allow(dead_code)]

use serde_json::{Value, json};
use slotwise_slot::{CommandTable, KeysError};

/// An argument as JSON: a string when it is UTF-8, otherwise `{"hex": "…"}` (the CLI's encoding).
pub(crate) fn enc(bytes: &[u8]) -> Value {
    match std::str::from_utf8(bytes) {
        Ok(s) => Value::String(s.to_string()),
        Err(_) => json!({ "hex": bytes.iter().map(|b| format!("{b:02x}")).collect::<String>() }),
    }
}

/// The inverse of [`enc`].
pub(crate) fn dec(v: &Value) -> Vec<u8> {
    match v {
        Value::String(s) => s.as_bytes().to_vec(),
        Value::Object(o) => {
            let hex = o["hex"].as_str().expect("hex string");
            (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex digits"))
                .collect()
        }
        other => panic!("not an encoded argument: {other}"),
    }
}

/// What the server answered to `COMMAND GETKEYSANDFLAGS`, in a form both sides can produce.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Answer {
    /// Keys with their flag names (sorted).
    Keys(Vec<(Vec<u8>, Vec<String>)>),
    /// `ERR Invalid command specified`
    InvalidCommand,
    /// `ERR The command has no key arguments`
    NoKeyArguments,
    /// `ERR Invalid number of arguments specified for command`
    WrongArity,
    /// `ERR Invalid arguments specified for command`
    InvalidArguments,
}

impl Answer {
    pub(crate) fn to_json(&self) -> Value {
        match self {
            Answer::Keys(keys) => Value::Array(
                keys.iter()
                    .map(|(k, flags)| json!([enc(k), flags]))
                    .collect(),
            ),
            Answer::InvalidCommand => json!("invalid_command"),
            Answer::NoKeyArguments => json!("no_key_arguments"),
            Answer::WrongArity => json!("wrong_arity"),
            Answer::InvalidArguments => json!("invalid_arguments"),
        }
    }

    pub(crate) fn from_json(v: &Value) -> Answer {
        match v {
            Value::Array(keys) => Answer::Keys(
                keys.iter()
                    .map(|kf| {
                        let flags = kf[1]
                            .as_array()
                            .expect("flags")
                            .iter()
                            .map(|f| f.as_str().expect("flag").to_string())
                            .collect();
                        (dec(&kf[0]), flags)
                    })
                    .collect(),
            ),
            Value::String(s) => match s.as_str() {
                "invalid_command" => Answer::InvalidCommand,
                "no_key_arguments" => Answer::NoKeyArguments,
                "wrong_arity" => Answer::WrongArity,
                "invalid_arguments" => Answer::InvalidArguments,
                other => panic!("unknown answer {other}"),
            },
            other => panic!("unknown answer {other}"),
        }
    }
}

/// Our answer, in the server's terms: the checks `COMMAND GETKEYSANDFLAGS` makes, in its order.
pub(crate) fn ours(table: &CommandTable, args: &[Vec<u8>]) -> Answer {
    let cmd = match table.resolve(args) {
        Ok(Some(cmd)) => cmd,
        Ok(None) | Err(KeysError::UnknownSubcommand) => return Answer::InvalidCommand,
        Err(e) => panic!("resolve: {e}"),
    };
    if !cmd.has_key_arguments() {
        return Answer::NoKeyArguments;
    }
    match table.keys(args) {
        Ok(keys) => Answer::Keys(
            keys.iter()
                .map(|k| {
                    let mut flags: Vec<String> = k.flags.names().map(String::from).collect();
                    flags.sort();
                    (args[k.index].clone(), flags)
                })
                .collect(),
        ),
        Err(KeysError::WrongArity { .. }) => Answer::WrongArity,
        Err(KeysError::InvalidArguments) => Answer::InvalidArguments,
        Err(e) => panic!("keys: {e}"),
    }
}

/// xorshift64*: deterministic, so every generated line reproduces from the seed.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    pub(crate) fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }
    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

pub(crate) const VECTORS_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors");
