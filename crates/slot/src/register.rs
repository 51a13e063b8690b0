//! Registering commands at run time from a `COMMAND INFO` reply (a module's commands, or a newer
//! server's), RESP2 or RESP3.

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;

use slotwise_resp::Frame;

use crate::command::CommandInfo;
use crate::error::RegisterError;
use crate::flags::{AclCategories, CommandFlags, DocFlags, KeyFlags};
use crate::spec::{BeginSearch, FindKeys, KeySpec};
use crate::table::CommandTable;
use crate::tips::Tips;

impl CommandTable {
    /// Registers every command described by a `COMMAND INFO name …` (or `COMMAND`) reply, or by one
    /// entry of it; null entries (unknown names) are skipped. Returns how many were registered.
    ///
    /// Unknown flag, category and tip names are ignored, so replies from newer servers still register.
    /// Entries without key specs (Redis 6) get one from their first/last/step key positions.
    ///
    /// ```
    /// use slotwise_resp::Frame;
    /// use slotwise_slot::{CommandTable, Route, key_slot};
    ///
    /// fn s(t: &str) -> Frame { Frame::BulkString(t.as_bytes().to_vec().into()) }
    /// // What a module would answer to `COMMAND INFO json.get` (RESP2), abridged to its key spec.
    /// let spec = Frame::Array(vec![
    ///     s("flags"), Frame::Array(vec![s("RO"), s("access")]),
    ///     s("begin_search"), Frame::Array(vec![s("type"), s("index"), s("spec"), Frame::Array(vec![s("index"), Frame::Integer(1)])]),
    ///     s("find_keys"), Frame::Array(vec![s("type"), s("range"), s("spec"),
    ///         Frame::Array(vec![s("lastkey"), Frame::Integer(0), s("keystep"), Frame::Integer(1), s("limit"), Frame::Integer(0)])]),
    /// ]);
    /// let entry = Frame::Array(vec![
    ///     s("json.get"), Frame::Integer(-2), Frame::Array(vec![s("readonly"), s("module")]),
    ///     Frame::Integer(1), Frame::Integer(1), Frame::Integer(1),
    ///     Frame::Array(vec![]), Frame::Array(vec![]), Frame::Array(vec![spec]), Frame::Array(vec![]),
    /// ]);
    /// let mut table = CommandTable::new();
    /// assert_eq!(table.register_command_info(&Frame::Array(vec![entry]))?, 1);
    /// let c = table.classify(&["JSON.GET", "doc", "$.a"]).unwrap();
    /// assert_eq!(c.route, Route::SingleSlot { slot: key_slot(b"doc"), read_only: true });
    /// # Ok::<(), slotwise_slot::RegisterError>(())
    /// ```
    pub fn register_command_info(&mut self, reply: &Frame) -> Result<usize, RegisterError> {
        let reply = reply.without_attributes();
        let items = items(reply).ok_or(RegisterError {
            entry: 0,
            what: "the reply is not an array",
        })?;
        let single = items.first().is_some_and(|f| text(f).is_some());
        let mut parsed = Vec::new();
        if single {
            parsed.push(parse_entry(reply, 0, 0)?);
        } else {
            for (i, entry) in items.iter().enumerate() {
                if entry.without_attributes().is_null() {
                    continue;
                }
                parsed.push(parse_entry(entry, i, 0)?);
            }
        }
        let n = parsed.len();
        for info in parsed {
            self.register(info);
        }
        Ok(n)
    }
}

fn err(entry: usize, what: &'static str) -> RegisterError {
    RegisterError { entry, what }
}

fn text(f: &Frame) -> Option<&[u8]> {
    match f.without_attributes() {
        Frame::SimpleString(b) | Frame::BulkString(b) => Some(b),
        Frame::Verbatim(v) => Some(&v.text),
        _ => None,
    }
}

fn items(f: &Frame) -> Option<&[Frame]> {
    f.without_attributes().as_items()
}

fn int(f: &Frame) -> Option<i32> {
    match f.without_attributes() {
        Frame::Integer(n) => i32::try_from(*n).ok(),
        other => core::str::from_utf8(text(other)?).ok()?.parse().ok(),
    }
}

/// A field of a RESP3 map or of a RESP2 flat key/value array.
fn field<'a>(f: &'a Frame, name: &str) -> Option<&'a Frame> {
    match f.without_attributes() {
        Frame::Map(pairs) => pairs
            .iter()
            .find(|(k, _)| text(k).is_some_and(|k| k.eq_ignore_ascii_case(name.as_bytes())))
            .map(|(_, v)| v),
        other => {
            let items = items(other)?;
            items
                .chunks_exact(2)
                .find(|kv| {
                    kv.first()
                        .and_then(text)
                        .is_some_and(|k| k.eq_ignore_ascii_case(name.as_bytes()))
                })
                .and_then(|kv| kv.get(1))
        }
    }
}

fn owned_text(bytes: &[u8]) -> Cow<'static, str> {
    let mut s = String::from_utf8_lossy(bytes).into_owned();
    s.make_ascii_lowercase();
    Cow::Owned(s)
}

fn parse_entry(f: &Frame, entry: usize, depth: u8) -> Result<CommandInfo, RegisterError> {
    let fields = items(f).ok_or(err(entry, "an entry is not an array"))?;
    let at = |i: usize| fields.get(i);
    let name = at(0)
        .and_then(text)
        .ok_or(err(entry, "the command name is missing"))?;
    let number = |i: usize, what| at(i).and_then(int).ok_or(err(entry, what));
    let arity = number(1, "the arity is missing or not a number")?;
    let first_key = number(3, "the first key position is missing")?;
    let last_key = number(4, "the last key position is missing")?;
    let key_step = number(5, "the key step is missing")?;

    let mut flags = CommandFlags::EMPTY;
    for flag in at(2).and_then(items).unwrap_or_default() {
        if let Some(f) = text(flag).and_then(CommandFlags::from_name) {
            flags |= f;
        }
    }
    let mut acl_categories = AclCategories::EMPTY;
    for cat in at(6).and_then(items).unwrap_or_default() {
        if let Some(c) = text(cat).and_then(AclCategories::from_name) {
            acl_categories |= c;
        }
    }
    let mut tips = Tips::NONE;
    for tip in at(7).and_then(items).unwrap_or_default() {
        if let Some(t) = text(tip) {
            tips.add(t);
        }
    }
    let key_specs = match at(8).and_then(items) {
        Some(specs) => specs
            .iter()
            .map(|s| parse_spec(s, entry))
            .collect::<Result<Vec<_>, _>>()?,
        None => legacy_spec(first_key, last_key, key_step, flags),
    };
    let subcommands = match at(9).and_then(items) {
        Some(subs) if depth == 0 => subs
            .iter()
            .filter(|s| !s.without_attributes().is_null())
            .map(|s| parse_entry(s, entry, depth + 1))
            .collect::<Result<Vec<_>, _>>()?,
        _ => Vec::new(),
    };
    Ok(CommandInfo {
        name: owned_text(name),
        arity,
        flags,
        first_key,
        last_key,
        key_step,
        acl_categories,
        tips,
        key_specs: key_specs.into(),
        subcommands: subcommands.into(),
        group: Cow::Borrowed(if flags.contains(CommandFlags::MODULE) {
            "module"
        } else {
            ""
        }),
        since: Cow::Borrowed(""),
        summary: Cow::Borrowed(""),
        doc_flags: DocFlags::EMPTY,
    })
}

/// A key spec equivalent to the pre-Redis-7 first/last/step key positions.
fn legacy_spec(first: i32, last: i32, step: i32, flags: CommandFlags) -> Vec<KeySpec> {
    if first <= 0 {
        return Vec::new();
    }
    let mut key_flags = if flags.contains(CommandFlags::READONLY) {
        KeyFlags::RO | KeyFlags::ACCESS
    } else {
        KeyFlags::RW | KeyFlags::ACCESS | KeyFlags::UPDATE
    };
    if flags.contains(CommandFlags::MOVABLEKEYS) {
        key_flags |= KeyFlags::INCOMPLETE;
    }
    let spec = KeySpec {
        flags: key_flags,
        begin_search: BeginSearch::Index { pos: first },
        find_keys: FindKeys::Range {
            last_key: if last >= 0 {
                last.saturating_sub(first)
            } else {
                last
            },
            key_step: step,
            limit: 0,
        },
    };
    alloc::vec![spec]
}

fn parse_spec(f: &Frame, entry: usize) -> Result<KeySpec, RegisterError> {
    let mut flags = KeyFlags::EMPTY;
    for flag in field(f, "flags").and_then(items).unwrap_or_default() {
        if let Some(k) = text(flag).and_then(KeyFlags::from_name) {
            flags |= k;
        }
    }
    let bs = field(f, "begin_search").ok_or(err(entry, "a key spec has no begin_search"))?;
    let bs_type = field(bs, "type").and_then(text).unwrap_or_default();
    let bs_spec = field(bs, "spec");
    let num = |spec: Option<&Frame>, name: &str, what| {
        spec.and_then(|s| field(s, name))
            .and_then(int)
            .ok_or(err(entry, what))
    };
    let begin_search = if bs_type.eq_ignore_ascii_case(b"index") {
        BeginSearch::Index {
            pos: num(bs_spec, "index", "begin_search index has no index")?,
        }
    } else if bs_type.eq_ignore_ascii_case(b"keyword") {
        let keyword = bs_spec
            .and_then(|s| field(s, "keyword"))
            .and_then(text)
            .ok_or(err(entry, "begin_search keyword has no keyword"))?;
        BeginSearch::Keyword {
            keyword: Cow::Owned(String::from_utf8_lossy(keyword).into_owned()),
            start_from: num(
                bs_spec,
                "startfrom",
                "begin_search keyword has no startfrom",
            )?,
        }
    } else {
        BeginSearch::Unknown
    };
    let fk = field(f, "find_keys").ok_or(err(entry, "a key spec has no find_keys"))?;
    let fk_type = field(fk, "type").and_then(text).unwrap_or_default();
    let fk_spec = field(fk, "spec");
    let find_keys = if fk_type.eq_ignore_ascii_case(b"range") {
        FindKeys::Range {
            last_key: num(fk_spec, "lastkey", "find_keys range has no lastkey")?,
            key_step: num(fk_spec, "keystep", "find_keys range has no keystep")?,
            limit: num(fk_spec, "limit", "find_keys range has no limit")?,
        }
    } else if fk_type.eq_ignore_ascii_case(b"keynum") {
        FindKeys::KeyNum {
            key_num_index: num(fk_spec, "keynumidx", "find_keys keynum has no keynumidx")?,
            first_key: num(fk_spec, "firstkey", "find_keys keynum has no firstkey")?,
            key_step: num(fk_spec, "keystep", "find_keys keynum has no keystep")?,
        }
    } else {
        FindKeys::Unknown
    };
    Ok(KeySpec {
        flags,
        begin_search,
        find_keys,
    })
}
