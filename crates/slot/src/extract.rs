//! Key extraction: the key specs interpreted as the server interprets them (`getKeysUsingKeySpecs`
//! and `getKeysFromCommandWithSpecs` in Redis 7's `db.c`), falling back to the command's own key
//! finder ([`crate::handlers`]) where the server does.
//!
//! Positions are computed in 32-bit wrapping arithmetic, like the server's `int`s, so that odd
//! numbers (`numkeys` of 4294967297, say) give the server's answer and never a panic.

use crate::command::CommandInfo;
use crate::cstr::{keyword_eq, string2ll};
use crate::error::KeysError;
use crate::flags::{CommandFlags, KeyFlags};
use crate::keys::{KeyRef, Keys};
use crate::spec::{BeginSearch, FindKeys, KeySpec};

/// Which arguments to report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Search {
    /// Keys only, as `COMMAND GETKEYSANDFLAGS` reports them.
    Keys,
    /// Keys and sharded channels (`not_key` specs): everything hashed for routing.
    KeysAndChannels,
}

/// The keys of `args` (command name at index 0, subcommand at 1 for a subcommand), checking the arity
/// first, as `COMMAND GETKEYSANDFLAGS` does.
pub(crate) fn find_keys<A: AsRef<[u8]>>(
    cmd: &CommandInfo,
    args: &[A],
    search: Search,
) -> Result<Keys, KeysError> {
    if !cmd.accepts_arity(args.len()) {
        return Err(KeysError::WrongArity {
            arity: cmd.arity,
            args: args.len(),
        });
    }
    let include_channels = search == Search::KeysAndChannels;
    let has_specs = cmd
        .key_specs
        .iter()
        .any(|s| include_channels || !s.is_not_key());
    let variable_flags = cmd.key_spec_flags().contains(KeyFlags::VARIABLE_FLAGS);

    let mut keys = Keys::new();
    let mut found = false;
    if has_specs && !variable_flags {
        found = from_specs(&cmd.key_specs, args, include_channels, &mut keys);
    }
    if !found {
        keys = match cmd.getkeys_proc() {
            Some(proc) => proc.keys(args),
            None => Keys::new(),
        };
    }
    if keys.is_empty()
        && cmd.has_key_arguments()
        && !cmd.flags.contains(CommandFlags::NO_MANDATORY_KEYS)
    {
        return Err(KeysError::InvalidArguments);
    }
    Ok(keys)
}

/// `getKeysUsingKeySpecs` without `GET_KEYSPEC_RETURN_PARTIAL`: false (and no keys) when a spec is
/// invalid for these arguments, unknown or incomplete.
fn from_specs<A: AsRef<[u8]>>(
    specs: &[KeySpec],
    args: &[A],
    include_channels: bool,
    keys: &mut Keys,
) -> bool {
    let argc = i32::try_from(args.len()).unwrap_or(i32::MAX);
    for spec in specs {
        if spec.is_not_key() && !include_channels {
            continue;
        }
        let range = match spec_range(spec, args, argc) {
            SpecRange::Keys(range) => range,
            SpecRange::KeywordNotFound => continue,
            SpecRange::Invalid => {
                keys.clear();
                return false;
            }
        };
        let (first, last, step) = range;
        let mut i = first;
        while i <= last {
            if let Ok(index) = usize::try_from(i) {
                keys.push(KeyRef {
                    index,
                    flags: spec.flags,
                });
            }
            match i.checked_add(step) {
                Some(next) => i = next,
                None => break,
            }
        }
        if spec.flags.contains(KeyFlags::INCOMPLETE) {
            keys.clear();
            return false;
        }
    }
    true
}

enum SpecRange {
    /// First and last key index and the step; all within the arguments.
    Keys((i32, i32, i32)),
    /// A keyword spec whose keyword is absent: the spec contributes nothing.
    KeywordNotFound,
    /// The spec does not fit the arguments (or cannot be interpreted).
    Invalid,
}

fn spec_range<A: AsRef<[u8]>>(spec: &KeySpec, args: &[A], argc: i32) -> SpecRange {
    let arg = |i: i32| {
        usize::try_from(i)
            .ok()
            .and_then(|i| args.get(i))
            .map_or(&b""[..], AsRef::as_ref)
    };
    let first = match &spec.begin_search {
        // Index 0 (the command name) or below would make the server read outside argv; such specs
        // come only from a broken module and are refused.
        BeginSearch::Index { pos } if *pos >= 1 => *pos,
        BeginSearch::Index { .. } | BeginSearch::Unknown => return SpecRange::Invalid,
        BeginSearch::Keyword {
            keyword,
            start_from,
        } => {
            let (start, end) = if *start_from > 0 {
                (*start_from, argc.wrapping_sub(1))
            } else {
                (argc.wrapping_add(*start_from), 1)
            };
            let forward = start <= end;
            let mut i = start;
            let mut found = None;
            while i != end {
                if i >= argc || i < 1 {
                    break;
                }
                if keyword_eq(arg(i), keyword.as_bytes()) {
                    found = Some(i + 1);
                    break;
                }
                i = if forward { i + 1 } else { i - 1 };
            }
            match found {
                Some(first) => first,
                None => return SpecRange::KeywordNotFound,
            }
        }
    };
    let (first, last, step) = match spec.find_keys {
        FindKeys::Range {
            last_key,
            key_step,
            limit,
        } => {
            let last = if last_key >= 0 {
                first.wrapping_add(last_key)
            } else if limit == 0 {
                argc.wrapping_add(last_key)
            } else {
                first.wrapping_add(
                    argc.wrapping_sub(first)
                        .wrapping_div(limit)
                        .wrapping_add(last_key),
                )
            };
            (first, last, key_step)
        }
        FindKeys::KeyNum {
            key_num_index,
            first_key,
            key_step,
        } => {
            let at = first.wrapping_add(key_num_index);
            if key_num_index >= argc || at < 0 || at >= argc {
                return SpecRange::Invalid;
            }
            let numkeys = match string2ll(arg(at)) {
                Some(n) if n >= 0 => n,
                _ => return SpecRange::Invalid,
            };
            let first = first.wrapping_add(first_key);
            // `(int)numkeys` in the server: a truncating conversion.
            let last = first.wrapping_add(numkeys as i32).wrapping_sub(1);
            (first, last, key_step)
        }
        FindKeys::Unknown => return SpecRange::Invalid,
    };
    if last >= argc || last < first || first >= argc {
        return SpecRange::Invalid;
    }
    // A first key below 1 or a step below 1 would make the server read outside argv or loop forever;
    // only a broken module could declare such a spec.
    if first < 1 || step < 1 {
        return SpecRange::Invalid;
    }
    SpecRange::Keys((first, last, step))
}
