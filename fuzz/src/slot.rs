//! Fuzz bodies for slotwise-slot.

use arbitrary::{Arbitrary, Unstructured};
use slotwise_resp::Frame;
use slotwise_slot::{CommandTable, KeyFlags, Route, Slot, builtin_commands, key_slot};

/// Words that steer key extraction down its interesting paths.
const WORDS: &[&[u8]] = &[
    b"STORE",
    b"STREAMS",
    b"KEYS",
    b"GET",
    b"BY",
    b"LIMIT",
    b"STOREDIST",
    b"GROUP",
    b"COUNT",
    b"BLOCK",
    b"NOACK",
    b"AUTH",
    b"AUTH2",
    b"SET",
    b"INCRBY",
    b"OVERFLOW",
    b"0",
    b"1",
    b"2",
    b"-1",
    b"4294967297",
    b" 1",
    b"",
    b"{a}",
    b"store\0",
];

#[derive(Debug)]
struct Line {
    args: Vec<Vec<u8>>,
    register: Option<Frame>,
}

impl<'a> Arbitrary<'a> for Line {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let commands = builtin_commands();
        let mut args = Vec::new();
        // Mostly a real command (and subcommand), so the fuzzer spends its time on key extraction.
        if u.ratio(7, 8)? {
            let cmd = u.choose(commands)?;
            if cmd.subcommands.is_empty() || u.ratio(1, 8)? {
                args.push(cmd.name.as_bytes().to_vec());
            } else {
                let sub = u.choose(&cmd.subcommands)?;
                let (container, name) = sub.name.split_once('|').unwrap_or((&sub.name, ""));
                args.push(container.as_bytes().to_vec());
                args.push(name.as_bytes().to_vec());
            }
        }
        for _ in 0..u.int_in_range(0..=12)? {
            if u.ratio(1, 2)? {
                args.push(u.choose(WORDS)?.to_vec());
            } else {
                args.push(Vec::<u8>::arbitrary(u)?);
            }
        }
        let register = if u.ratio(1, 16)? {
            Some(Frame::arbitrary(u)?)
        } else {
            None
        };
        Ok(Line { args, register })
    }
}

/// Arbitrary argument vectors (and arbitrary `COMMAND INFO` replies to register) never panic the
/// classifier; every key it reports is an argument of the line, and `keys` agrees with `classify`.
pub fn classify(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(line) = Line::arbitrary(&mut u) else {
        return;
    };
    let mut table = CommandTable::new();
    if let Some(reply) = &line.register {
        let _ = table.register_command_info(reply);
    }
    let args = &line.args;
    for a in args {
        assert!(key_slot(a).get() < Slot::COUNT);
    }
    let Ok(c) = table.classify(args) else { return };
    for k in &c.keys {
        assert!(
            k.index >= 1 && k.index < args.len(),
            "key index {} out of {args:?}",
            k.index
        );
    }
    match &c.route {
        Route::CrossSlot { slots } => {
            assert!(slots.len() >= 2 && slots.windows(2).all(|w| w[0] < w[1]))
        }
        Route::SingleSlot { slot, .. } => {
            assert!(
                c.keys
                    .iter()
                    .all(|k| k.key(args).map(key_slot) == Some(*slot))
            )
        }
        _ => {}
    }
    if let Ok(keys) = table.keys(args) {
        let without_channels: Vec<_> = c
            .keys
            .iter()
            .filter(|k| !k.flags.contains(KeyFlags::NOT_KEY))
            .collect();
        assert_eq!(keys.iter().collect::<Vec<_>>(), without_channels);
    }
}
