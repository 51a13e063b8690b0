//! The server's own key finders (`getkeys_proc`) for the commands whose key specs are incomplete,
//! have argument-dependent flags, or fail on some inputs: `SORT … STORE`, `MIGRATE … KEYS`,
//! `EVAL`/`FCALL` numkeys, `XREAD[GROUP] … STREAMS`, `ZUNIONSTORE` numkeys, `GEORADIUS … STORE`,
//! `SET … GET`, `BITFIELD`, ….
//!
//! The server publishes key specs, but not which commands have such a function nor what it does;
//! that is the one piece of routing knowledge kept by hand, here, following Redis 7's `db.c`.
//! Where the server's function reports no flags, neither does this one.

use crate::cstr::{atoi, keyword_eq};
use crate::flags::KeyFlags;
use crate::keys::{KeyRef, Keys};

/// A built-in command's own key finder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum GetKeysProc {
    /// `COMMAND [destkey] numkeys key … [options]`: Redis's `genericGetKeys` with the store-key,
    /// key-count and first-key offsets and the key step.
    NumKeys {
        store: usize,
        count: usize,
        first: usize,
        step: usize,
    },
    /// `SORT_RO key …`: only the sorted key.
    SortRo,
    /// `SORT key … [STORE dest]`.
    Sort,
    /// `MIGRATE host port key|"" db timeout … [KEYS key …]`.
    Migrate,
    /// `GEORADIUS[BYMEMBER] key … [STORE|STOREDIST dest]`.
    Georadius,
    /// `XREAD[GROUP] … STREAMS key … id …`.
    Xread,
    /// `SET key value … [GET]`: read-write with `GET`, overwrite otherwise.
    Set,
    /// `BITFIELD key …`: read-only when every operation is `GET`.
    Bitfield,
}

const fn num_keys(store: usize, count: usize, first: usize) -> Option<GetKeysProc> {
    Some(GetKeysProc::NumKeys {
        store,
        count,
        first,
        step: 1,
    })
}

impl GetKeysProc {
    /// The key finder of the built-in command `name` (lowercase, as in the table), if it has one.
    pub(crate) fn for_command(name: &str) -> Option<GetKeysProc> {
        match name {
            "zunionstore" | "zinterstore" | "zdiffstore" => num_keys(1, 2, 3),
            "zunion" | "zinter" | "zdiff" | "zintercard" | "sintercard" | "lmpop" | "zmpop" => {
                num_keys(0, 1, 2)
            }
            "eval" | "evalsha" | "eval_ro" | "evalsha_ro" | "fcall" | "fcall_ro" | "blmpop"
            | "bzmpop" => num_keys(0, 2, 3),
            "sort" => Some(GetKeysProc::Sort),
            "sort_ro" => Some(GetKeysProc::SortRo),
            "migrate" => Some(GetKeysProc::Migrate),
            "georadius" | "georadiusbymember" => Some(GetKeysProc::Georadius),
            "xread" | "xreadgroup" => Some(GetKeysProc::Xread),
            "set" => Some(GetKeysProc::Set),
            "bitfield" => Some(GetKeysProc::Bitfield),
            _ => None,
        }
    }

    /// Runs the key finder on `args` (the command name at index 0).
    pub(crate) fn keys<A: AsRef<[u8]>>(self, args: &[A]) -> Keys {
        let arg = |i: usize| args.get(i).map_or(&b""[..], AsRef::as_ref);
        let argc = args.len();
        let mut keys = Keys::new();
        let mut push = |index: usize, flags: KeyFlags| keys.push(KeyRef { index, flags });
        match self {
            GetKeysProc::NumKeys {
                store,
                count,
                first,
                step,
            } => {
                let num = atoi(arg(count));
                let max = argc.saturating_sub(first) / step.max(1);
                match usize::try_from(num) {
                    Ok(num) if num >= 1 && num <= max => {
                        for i in 0..num {
                            push(first + i * step, KeyFlags::EMPTY);
                        }
                        if store > 0 {
                            push(store, KeyFlags::EMPTY);
                        }
                    }
                    _ => {}
                }
            }
            GetKeysProc::SortRo => push(1, KeyFlags::RO | KeyFlags::ACCESS),
            GetKeysProc::Sort => {
                push(1, KeyFlags::RO | KeyFlags::ACCESS);
                // The last STORE wins, as in SORT itself. Options are assumed to take no argument
                // unless listed; note that STORE's own argument is scanned as an option name too.
                let mut store = None;
                let mut i = 2;
                while i < argc {
                    let a = arg(i);
                    if keyword_eq(a, b"limit") {
                        i += 2;
                    } else if keyword_eq(a, b"store") && i + 1 < argc {
                        store = Some(i + 1);
                    } else if keyword_eq(a, b"get") || keyword_eq(a, b"by") {
                        i += 1;
                    }
                    i += 1;
                }
                if let Some(i) = store {
                    push(i, KeyFlags::OW | KeyFlags::UPDATE);
                }
            }
            GetKeysProc::Migrate => {
                let flags = KeyFlags::RW | KeyFlags::ACCESS | KeyFlags::DELETE;
                let (mut first, mut num) = (3, 1);
                if argc > 6 {
                    let mut i = 6;
                    while i < argc {
                        let a = arg(i);
                        if keyword_eq(a, b"keys") {
                            if arg(3).is_empty() {
                                first = i + 1;
                                num = argc - first;
                            } else {
                                num = 0; // a key and KEYS together: the command's syntax error
                            }
                            break;
                        }
                        if keyword_eq(a, b"auth") {
                            i += 1;
                        } else if keyword_eq(a, b"auth2") {
                            i += 2;
                        }
                        i += 1;
                    }
                }
                for i in first..first + num {
                    push(i, flags);
                }
            }
            GetKeysProc::Georadius => {
                push(1, KeyFlags::EMPTY);
                let mut stored = None;
                let mut i = 5;
                while i < argc {
                    let a = arg(i);
                    if (keyword_eq(a, b"store") || keyword_eq(a, b"storedist")) && i + 1 < argc {
                        stored = Some(i + 1);
                        i += 1;
                    }
                    i += 1;
                }
                if let Some(i) = stored {
                    push(i, KeyFlags::EMPTY);
                }
            }
            GetKeysProc::Xread => {
                let mut streams = None;
                let mut i = 1;
                while i < argc {
                    let a = arg(i);
                    if keyword_eq(a, b"block") || keyword_eq(a, b"count") {
                        i += 1;
                    } else if keyword_eq(a, b"group") {
                        i += 2;
                    } else if keyword_eq(a, b"noack") {
                    } else if keyword_eq(a, b"streams") {
                        streams = Some(i);
                        break;
                    } else {
                        break;
                    }
                    i += 1;
                }
                if let Some(pos) = streams {
                    let num = argc - pos - 1;
                    if num > 0 && num.is_multiple_of(2) {
                        for i in pos + 1..pos + 1 + num / 2 {
                            push(i, KeyFlags::EMPTY);
                        }
                    }
                }
            }
            GetKeysProc::Set => {
                let get = (3..argc).any(|i| keyword_eq(arg(i), b"get"));
                push(
                    1,
                    if get {
                        KeyFlags::RW | KeyFlags::ACCESS | KeyFlags::UPDATE
                    } else {
                        KeyFlags::OW | KeyFlags::UPDATE
                    },
                );
            }
            GetKeysProc::Bitfield => {
                let mut read_only = true;
                let mut i = 2;
                while i < argc {
                    let remaining = argc - i - 1;
                    let a = arg(i);
                    if keyword_eq(a, b"get") && remaining >= 2 {
                        i += 2;
                    } else if (keyword_eq(a, b"set") || keyword_eq(a, b"incrby")) && remaining >= 3
                    {
                        read_only = false;
                        break;
                    } else if keyword_eq(a, b"overflow") && remaining >= 1 {
                        i += 1;
                    } else {
                        read_only = false; // a syntax error: assume the worst
                        break;
                    }
                    i += 1;
                }
                push(
                    1,
                    if read_only {
                        KeyFlags::RO | KeyFlags::ACCESS
                    } else {
                        KeyFlags::RW | KeyFlags::ACCESS | KeyFlags::UPDATE
                    },
                );
            }
        }
        keys
    }
}
