//! Which writes may run twice: the facts behind retrying a request whose connection was lost after
//! it was written.
//!
//! **The rule.** A write is idempotent here when running it a second time, right after the first
//! (nothing in between), leaves the same data as running it once, *and* the second run's reply does
//! not tell the caller something false about what happened:
//!
//! - A reply that counts what changed may come out lower on the retry (`DEL` removing 0 keys,
//!   `HSET` adding 0 fields, `SADD` adding 0 members): that is accepted, the data is the same.
//! - A reply that says whether a condition held (`SET … NX`, `SETNX`, `HSETNX`, `MSETNX`,
//!   `EXPIRE … NX|XX|GT|LT`, `SET … XX`), or returns the old value (`SET … GET`, `GETSET`,
//!   `SETBIT`), or an error for what the first run did (`RENAME`: the source is gone) would mislead
//!   the caller who acts on it: not idempotent.
//! - A relative expiry (`SET k v EX 10`, `EXPIRE k 10`, `SETEX`) restarts on the retry: the key
//!   lives up to one retry's delay (bounded by the request's deadline) longer. Accepted: the data is
//!   the same, only its end is a little later. Absolute ones (`EXAT`, `EXPIREAT` …) do not move.
//! - Anything that adds, pops, counts up, or depends on positions the first run shifted is not:
//!   `INCR*`, `DECR*`, `*INCRBY*`, `APPEND`, `LPUSH`/`RPUSH`/`LINSERT`, `LPOP`/`RPOP`/`LMOVE`/`SPOP`/
//!   `ZPOPMIN`, `GETDEL`, `GETEX`, `ZADD … INCR`, `ZREMRANGEBYRANK`, `LREM` with a count, `LTRIM`
//!   dropping from the front, `XADD` (an automatic id adds twice; an explicit one fails the retry),
//!   and scripts and functions (`EVAL`, `EVALSHA`, `FCALL`), which the core cannot see into.
//! - Commands not listed are not idempotent (a module's, a new one's): the safe answer is
//!   [`RequestError::ConnectionLost`](crate::RequestError::ConnectionLost) `{ maybe_applied: true }`.
//!
//! Running twice is only "the same" if no other client wrote in between: a retried `SET` can
//! overwrite a value written after the first run. A caller for whom that matters marks the request
//! [`Request::not_idempotent`](crate::Request::not_idempotent).
//!
//! Read-only commands (the command table's flag) are retried whatever these facts say.

/// Whether the command `args` (its name first, any case) may run twice (see the module's rule).
pub(crate) fn is_idempotent(args: &[&[u8]]) -> bool {
    let Some(name) = args.first() else {
        return false;
    };
    let is = |w: &str| name.eq_ignore_ascii_case(w.as_bytes());
    let options = args.get(3..).unwrap_or_default();
    let any_option = |words: &[&str]| {
        options
            .iter()
            .any(|a| words.iter().any(|w| a.eq_ignore_ascii_case(w.as_bytes())))
    };
    if is("SET") {
        // `SET key value [NX|XX] [GET] [EX s|PX ms|EXAT t|PXAT t|KEEPTTL] [IFEQ v …]`.
        return args.len() >= 3
            && !any_option(&["NX", "XX", "GET", "IFEQ", "IFNE", "IFDEQ", "IFDNE"]);
    }
    if is("EXPIRE") || is("PEXPIRE") || is("EXPIREAT") || is("PEXPIREAT") {
        // With NX|XX|GT|LT the reply says whether the condition held.
        return args.len() == 3;
    }
    if is("ZADD") {
        // `ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member …`: options come before the first
        // score (a member may well be named "INCR").
        let mut leading = args.iter().skip(2).take_while(|a| {
            ["NX", "XX", "GT", "LT", "CH", "INCR"]
                .iter()
                .any(|w| a.eq_ignore_ascii_case(w.as_bytes()))
        });
        return !leading.any(|a| a.eq_ignore_ascii_case(b"INCR"));
    }
    if is("LREM") {
        // `LREM key 0 element` removes them all; with a count, a retry removes the next ones.
        return args.get(2).is_some_and(|c| parse_int(c) == Some(0));
    }
    if is("LTRIM") {
        // Keeping a prefix (`0 n`, `0 -1`) or a suffix (`-n -1`) gives the same list again; other
        // ranges drop from the front, and would drop more on a retry.
        let (Some(start), Some(stop)) = (
            args.get(2).and_then(|a| parse_int(a)),
            args.get(3).and_then(|a| parse_int(a)),
        ) else {
            return false;
        };
        return (start == 0 && (stop >= 0 || stop == -1)) || (start < 0 && stop == -1);
    }
    [
        // Strings and keys.
        "SETEX",
        "PSETEX",
        "MSET",
        "SETRANGE",
        "DEL",
        "UNLINK",
        "PERSIST",
        // Hashes, sets, sorted sets, lists.
        "HSET",
        "HMSET",
        "HDEL",
        "SADD",
        "SREM",
        "ZREM",
        "ZREMRANGEBYSCORE",
        "ZREMRANGEBYLEX",
        "LSET",
        // Geo (no INCR form), HyperLogLog, streams.
        "GEOADD",
        "PFADD",
        "XDEL",
        "XACK",
    ]
    .iter()
    .any(|w| is(w))
}

/// A signed decimal integer.
fn parse_int(s: &[u8]) -> Option<i64> {
    core::str::from_utf8(s).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    fn check(line: &str) -> bool {
        let args: Vec<&[u8]> = line.split(' ').map(str::as_bytes).collect();
        is_idempotent(&args)
    }

    #[test]
    fn facts() {
        let table: &[(&str, bool)] = &[
            ("SET k v", true),
            ("set k v", true),
            ("SET k v EX 10", true),
            ("SET k v PX 10", true),
            ("SET k v EXAT 1700000000", true),
            ("SET k v KEEPTTL", true),
            ("SET k v NX", false),
            ("SET k v nx EX 10", false),
            ("SET k v XX", false),
            ("SET k v GET", false),
            ("SET k v IFEQ old", false),
            ("SET k", false),
            ("SETEX k 10 v", true),
            ("PSETEX k 10 v", true),
            ("MSET a 1 b 2", true),
            ("MSETNX a 1 b 2", false),
            ("SETNX k v", false),
            ("GETSET k v", false),
            ("SETRANGE k 3 abc", true),
            ("SETBIT k 7 1", false),
            ("DEL a b", true),
            ("UNLINK a", true),
            ("EXPIRE k 10", true),
            ("PEXPIRE k 100", true),
            ("EXPIREAT k 1700000000", true),
            ("PEXPIREAT k 1700000000000", true),
            ("EXPIRE k 10 NX", false),
            ("PEXPIRE k 10 GT", false),
            ("PERSIST k", true),
            ("RENAME a b", false),
            ("RENAMENX a b", false),
            ("HSET h f v g w", true),
            ("HMSET h f v", true),
            ("HDEL h f", true),
            ("HSETNX h f v", false),
            ("HINCRBY h f 1", false),
            ("HINCRBYFLOAT h f 1.5", false),
            ("SADD s m", true),
            ("SREM s m", true),
            ("SPOP s", false),
            ("ZADD z 1 m", true),
            ("ZADD z NX CH 1 m", true),
            ("ZADD z GT 1 m 2 n", true),
            ("ZADD z INCR 1 m", false),
            ("ZADD z xx incr 1 m", false),
            ("ZADD z 1 INCR", true),
            ("ZINCRBY z 1 m", false),
            ("ZREM z m", true),
            ("ZREMRANGEBYSCORE z 0 10", true),
            ("ZREMRANGEBYLEX z [a [c", true),
            ("ZREMRANGEBYRANK z 0 1", false),
            ("ZPOPMIN z", false),
            ("LSET l 0 v", true),
            ("LREM l 0 v", true),
            ("LREM l 2 v", false),
            ("LREM l -1 v", false),
            ("LTRIM l 0 99", true),
            ("LTRIM l 0 -1", true),
            ("LTRIM l -10 -1", true),
            ("LTRIM l 1 -1", false),
            ("LTRIM l 0 -2", false),
            ("LTRIM l x 1", false),
            ("LPUSH l v", false),
            ("RPUSH l v", false),
            ("LPOP l", false),
            ("RPOP l", false),
            ("LMOVE a b LEFT RIGHT", false),
            ("LINSERT l BEFORE p v", false),
            ("INCR k", false),
            ("INCRBY k 5", false),
            ("INCRBYFLOAT k 0.5", false),
            ("DECR k", false),
            ("DECRBY k 5", false),
            ("APPEND k v", false),
            ("GETDEL k", false),
            ("GETEX k EX 10", false),
            ("GEOADD g 13.4 52.5 berlin", true),
            ("PFADD h a b", true),
            ("XADD s * f v", false),
            ("XADD s 1-1 f v", false),
            ("XDEL s 1-1", true),
            ("XACK s g 1-1", true),
            ("EVAL return 0", false),
            ("EVALSHA abc 0", false),
            ("FCALL f 0", false),
            ("MY.MODULECMD k", false),
        ];
        for &(line, want) in table {
            assert_eq!(check(line), want, "{line}");
        }
        assert!(!is_idempotent(&[]));
    }
}
