//! Routing decisions, unknown commands, run-time registration, and "never panics" properties.

use proptest::prelude::*;
use slotwise_resp::Frame;
use slotwise_slot::{
    CommandFlags, CommandTable, KeyFlags, KeysError, RequestPolicy, ResponsePolicy, Route, Slot,
    UnknownCommandPolicy, builtin_commands, key_slot,
};

fn classify(args: &[&str]) -> Route {
    CommandTable::new()
        .classify(args)
        .expect("classifies")
        .route
}

fn slots(keys: &[&str]) -> Vec<Slot> {
    let mut s: Vec<Slot> = keys.iter().map(|k| key_slot(k.as_bytes())).collect();
    s.sort();
    s.dedup();
    s
}

#[test]
fn single_slot_reads_and_writes() {
    assert_eq!(
        classify(&["get", "a"]),
        Route::SingleSlot {
            slot: key_slot(b"a"),
            read_only: true
        }
    );
    assert_eq!(
        classify(&["INCR", "a"]),
        Route::SingleSlot {
            slot: key_slot(b"a"),
            read_only: false
        }
    );
    // Same hash tag: one slot, even for a command that is split by slot otherwise.
    assert_eq!(
        classify(&["MGET", "{u}a", "{u}b"]),
        Route::SingleSlot {
            slot: key_slot(b"u"),
            read_only: true
        }
    );
    assert_eq!(
        classify(&["OBJECT", "ENCODING", "k"]),
        Route::SingleSlot {
            slot: key_slot(b"k"),
            read_only: true
        }
    );
    assert_eq!(
        classify(&["SORT", "{x}a", "STORE", "{x}b"]),
        Route::SingleSlot {
            slot: key_slot(b"x"),
            read_only: false
        }
    );
}

#[test]
fn cross_slot_lists_the_slots() {
    assert_eq!(
        classify(&["RENAME", "a", "b"]),
        Route::CrossSlot {
            slots: slots(&["a", "b"])
        }
    );
    assert_eq!(
        classify(&["ZUNIONSTORE", "d", "2", "a", "b"]),
        Route::CrossSlot {
            slots: slots(&["d", "a", "b"])
        }
    );
    assert_eq!(
        classify(&["EVAL", "return 1", "2", "a", "b"]),
        Route::CrossSlot {
            slots: slots(&["a", "b"])
        }
    );
}

#[test]
fn multi_node_follows_the_tips() {
    assert_eq!(
        classify(&["DEL", "a", "b", "c"]),
        Route::MultiNode {
            request_policy: RequestPolicy::MultiShard,
            response_policy: Some(ResponsePolicy::AggSum),
            slots: slots(&["a", "b", "c"]),
            read_only: false,
        }
    );
    assert!(matches!(
        classify(&["KEYS", "*"]),
        Route::MultiNode { request_policy: RequestPolicy::AllShards, ref slots, read_only: true, .. }
            if slots.is_empty()
    ));
    assert!(matches!(
        classify(&["FLUSHALL"]),
        Route::MultiNode {
            request_policy: RequestPolicy::AllShards,
            response_policy: Some(ResponsePolicy::AllSucceeded),
            ..
        }
    ));
    assert!(matches!(
        classify(&["SCRIPT", "LOAD", "return 1"]),
        Route::MultiNode {
            request_policy: RequestPolicy::AllNodes,
            ..
        }
    ));
}

#[test]
fn pubsub() {
    assert_eq!(
        classify(&["SPUBLISH", "ch", "hello"]),
        Route::SingleSlot {
            slot: key_slot(b"ch"),
            read_only: false
        }
    );
    assert_eq!(
        classify(&["SSUBSCRIBE", "{n}a", "{n}b"]),
        Route::SingleSlot {
            slot: key_slot(b"n"),
            read_only: false
        }
    );
    assert_eq!(
        classify(&["SSUBSCRIBE", "a", "b"]),
        Route::CrossSlot {
            slots: slots(&["a", "b"])
        }
    );
    assert_eq!(
        classify(&["SUNSUBSCRIBE"]),
        Route::NoKey { read_only: false }
    );
    assert_eq!(
        classify(&["PUBLISH", "ch", "m"]),
        Route::NoKey { read_only: false }
    );
    assert_eq!(
        classify(&["SUBSCRIBE", "a", "b"]),
        Route::NoKey { read_only: false }
    );
    let t = CommandTable::new();
    let c = t.classify(&["SPUBLISH", "ch", "m"]).unwrap();
    assert_eq!(c.keys.as_slice()[0].flags, KeyFlags::NOT_KEY);
    // Channels are not keys for COMMAND GETKEYS.
    assert!(
        CommandTable::new()
            .keys(&["SPUBLISH", "ch", "m"])
            .unwrap()
            .is_empty()
    );
}

#[test]
fn no_key_commands() {
    assert_eq!(
        classify(&["EVAL", "return 1", "0"]),
        Route::NoKey { read_only: false }
    );
    assert_eq!(
        classify(&["EVAL_RO", "return 1", "0"]),
        Route::NoKey { read_only: true }
    );
    assert_eq!(
        classify(&["CLUSTER", "SHARDS"]),
        Route::NoKey { read_only: false }
    );
}

#[test]
fn errors_say_what_the_server_would() {
    let t = CommandTable::new();
    let empty: [&str; 0] = [];
    assert_eq!(t.classify(&empty).unwrap_err(), KeysError::EmptyCommand);
    assert_eq!(
        t.classify(&["GET"]).unwrap_err(),
        KeysError::WrongArity { arity: 2, args: 1 }
    );
    assert_eq!(
        t.classify(&["GET", "a", "b"]).unwrap_err(),
        KeysError::WrongArity { arity: 2, args: 3 }
    );
    assert_eq!(
        t.classify(&["XREAD", "COUNT", "1", "a"]).unwrap_err(),
        KeysError::InvalidArguments
    );
    assert_eq!(
        t.classify(&["ZUNION", "0", "a"]).unwrap_err(),
        KeysError::InvalidArguments
    );
    assert_eq!(
        t.classify(&["OBJECT", "NOPE", "k"]).unwrap_err(),
        KeysError::UnknownSubcommand
    );
    assert!(
        KeysError::WrongArity { arity: -3, args: 1 }
            .to_string()
            .contains("at least 3")
    );
}

#[test]
fn unknown_commands_follow_the_policy() {
    let t = CommandTable::new();
    assert_eq!(
        t.unknown_command_policy(),
        UnknownCommandPolicy::FirstArgumentIsKey
    );
    let c = t.classify(&["JSON.GET", "doc", "$"]).unwrap();
    assert!(c.command.is_none());
    assert_eq!(
        c.route,
        Route::SingleSlot {
            slot: key_slot(b"doc"),
            read_only: false
        }
    );
    assert_eq!(
        t.classify(&["MODULE.PING"]).unwrap().route,
        Route::NoKey { read_only: false }
    );

    let t = CommandTable::new().with_unknown_command_policy(UnknownCommandPolicy::NoKeys);
    assert_eq!(
        t.classify(&["JSON.GET", "doc"]).unwrap().route,
        Route::NoKey { read_only: false }
    );

    let t = CommandTable::new().with_unknown_command_policy(UnknownCommandPolicy::Reject);
    assert_eq!(
        t.classify(&["JSON.GET", "doc"]).unwrap_err(),
        KeysError::UnknownCommand
    );
}

fn s(t: &str) -> Frame {
    Frame::BulkString(t.as_bytes().to_vec().into())
}

fn int(n: i64) -> Frame {
    Frame::Integer(n)
}

fn arr(items: Vec<Frame>) -> Frame {
    Frame::Array(items)
}

#[test]
fn register_a_module_command_resp3_with_keynum_and_tips() {
    // `COMMAND INFO my.union` in RESP3: maps for the key spec.
    let spec = Frame::Map(vec![
        (s("flags"), Frame::Set(vec![s("RO"), s("access")])),
        (
            s("begin_search"),
            Frame::Map(vec![
                (s("type"), s("index")),
                (s("spec"), Frame::Map(vec![(s("index"), int(1))])),
            ]),
        ),
        (
            s("find_keys"),
            Frame::Map(vec![
                (s("type"), s("keynum")),
                (
                    s("spec"),
                    Frame::Map(vec![
                        (s("keynumidx"), int(0)),
                        (s("firstkey"), int(1)),
                        (s("keystep"), int(1)),
                    ]),
                ),
            ]),
        ),
    ]);
    let entry = arr(vec![
        s("My.Union"),
        int(-3),
        Frame::Set(vec![s("readonly"), s("module"), s("some_future_flag")]),
        int(0),
        int(0),
        int(0),
        Frame::Set(vec![s("@read")]),
        arr(vec![
            s("request_policy:multi_shard"),
            s("response_policy:agg_min"),
            s("future_tip"),
        ]),
        arr(vec![spec]),
        arr(vec![]),
    ]);
    let mut t = CommandTable::new();
    assert_eq!(
        t.register_command_info(&arr(vec![entry.clone(), Frame::Null])),
        Ok(1)
    );
    let info = t.command(b"MY.UNION").expect("registered");
    assert_eq!(info.name, "my.union");
    assert!(
        info.flags
            .contains(CommandFlags::MODULE | CommandFlags::READONLY)
    );
    assert_eq!(
        t.classify(&["my.union", "2", "a", "b"]).unwrap().route,
        Route::MultiNode {
            request_policy: RequestPolicy::MultiShard,
            response_policy: Some(ResponsePolicy::AggMin),
            slots: slots(&["a", "b"]),
            read_only: true,
        }
    );
    // Registering again replaces; a single entry works too.
    assert_eq!(t.register_command_info(&entry), Ok(1));
    assert_eq!(t.registered().len(), 1);
}

#[test]
fn register_a_redis6_entry_uses_first_last_step() {
    let entry = arr(vec![
        s("old.mset"),
        int(-3),
        arr(vec![s("write")]),
        int(1),
        int(-1),
        int(2),
    ]);
    let mut t = CommandTable::new();
    assert_eq!(t.register_command_info(&entry), Ok(1));
    let args = ["old.mset", "a", "1", "b", "2"];
    let keys = t.keys(&args).unwrap();
    assert_eq!(keys.bytes(&args).collect::<Vec<_>>(), [&b"a"[..], b"b"]);
}

#[test]
fn register_rejects_malformed_replies() {
    let mut t = CommandTable::new();
    assert!(t.register_command_info(&int(3)).is_err());
    assert!(
        t.register_command_info(&arr(vec![arr(vec![s("x")])]))
            .is_err()
    );
    let bad_spec = arr(vec![s("flags"), arr(vec![])]);
    let entry = arr(vec![
        s("x"),
        int(2),
        arr(vec![]),
        int(1),
        int(1),
        int(1),
        arr(vec![]),
        arr(vec![]),
        arr(vec![bad_spec]),
        arr(vec![]),
    ]);
    let e = t.register_command_info(&arr(vec![entry])).unwrap_err();
    assert!(e.to_string().contains("begin_search"), "{e}");
    assert!(t.registered().is_empty());
}

#[test]
fn the_table_is_sorted_and_complete() {
    let all = builtin_commands();
    assert!(all.windows(2).all(|w| w[0].name < w[1].name));
    for c in all {
        assert!(c.subcommands.windows(2).all(|w| w[0].name < w[1].name));
        let t = CommandTable::new();
        assert_eq!(
            t.command(c.name.to_uppercase().as_bytes()).map(|f| &f.name),
            Some(&c.name)
        );
        for sub in c.subcommands.iter() {
            let short = &sub.name[c.name.len() + 1..];
            assert_eq!(
                c.subcommand(short.to_uppercase().as_bytes())
                    .map(|f| &f.name),
                Some(&sub.name)
            );
        }
    }
    assert!(all.len() >= 200);
}

fn arg() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..6),
        prop::sample::select(vec![
            "STORE",
            "STREAMS",
            "KEYS",
            "GET",
            "BY",
            "LIMIT",
            "0",
            "1",
            "2",
            "-1",
            "99",
            "{a}",
            "",
            "4294967297",
            "numkeys",
            "SET",
            "OVERFLOW",
            "GROUP",
            "AUTH2"
        ])
        .prop_map(|s| s.as_bytes().to_vec()),
    ]
}

fn line() -> impl Strategy<Value = Vec<Vec<u8>>> {
    let names: Vec<String> = builtin_commands()
        .iter()
        .flat_map(|c| {
            core::iter::once(c.name.to_string())
                .chain(c.subcommands.iter().map(|s| s.name.replace('|', " ")))
        })
        .collect();
    (
        prop::sample::select(names),
        proptest::collection::vec(arg(), 0..10),
    )
        .prop_map(|(name, rest)| {
            let mut line: Vec<Vec<u8>> = name.split(' ').map(|p| p.as_bytes().to_vec()).collect();
            line.extend(rest);
            line
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]
    /// Any argument vector classifies without panicking, and every key found is an argument.
    #[test]
    fn classify_never_panics(args in line()) {
        let t = CommandTable::new();
        if let Ok(c) = t.classify(&args) {
            for k in &c.keys {
                prop_assert!(k.index >= 1 && k.index < args.len());
            }
            // COMMAND GETKEYS's keys are the classification's keys without the channels.
            if let Ok(keys) = t.keys(&args) {
                let without_channels: Vec<_> =
                    c.keys.iter().filter(|k| !k.flags.contains(KeyFlags::NOT_KEY)).collect();
                prop_assert_eq!(keys.iter().collect::<Vec<_>>(), without_channels);
            }
        }
    }
}
