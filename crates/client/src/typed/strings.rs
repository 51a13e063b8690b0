//! Strings and keys beyond the basic helpers (`GET`, `SET`, `DEL`, `INCR`, `EXPIRE` … are methods
//! of the client itself).

use std::time::Duration;

use crate::typed::{Cmd, RunCmd};
use crate::{Args, FromFrame, ToArgs};

fn millis(d: Duration) -> u64 {
    // At least 1 ms: a zero TTL is an error in Redis.
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}

/// Typed `APPEND`, `STRLEN`, `GETRANGE`, `DECRBY`, `INCRBYFLOAT`, `SET … NX`, `GETDEL`, `MSET`,
/// `UNLINK`, `TOUCH`, `PERSIST`, `PEXPIRE`, `PTTL`, `TYPE`, `RENAME`.
///
/// ```no_run
/// # use slotwise_client::{prelude::*, Handle, Error};
/// # use std::time::Duration;
/// # async fn demo(client: Handle) -> Result<(), Error> {
/// client.append("log", "line\n").await?;
/// let first: String = client.getrange("log", 0, 3).await?;
/// if client.set_nx("lock", "me").await? {
///     client.pexpire("lock", Duration::from_secs(10)).await?;
/// }
/// client.mset([("a", "1"), ("b", "2")]).await?; // split by slot
/// # let _ = first; Ok(()) }
/// ```
pub trait StringCommands: RunCmd {
    /// `APPEND key value`: the new length (not idempotent).
    fn append<K: ToArgs, V: ToArgs>(&self, key: K, value: V) -> Self::Out<u64> {
        self.run(Cmd::new(Args::command("APPEND").arg(key).arg(value)).not_idempotent())
    }

    /// `STRLEN key`.
    fn strlen<K: ToArgs>(&self, key: K) -> Self::Out<u64> {
        self.run(Cmd::new(Args::command("STRLEN").arg(key)))
    }

    /// `GETRANGE key start end` (inclusive; negative counts from the end).
    fn getrange<K: ToArgs, V: FromFrame>(&self, key: K, start: i64, end: i64) -> Self::Out<V> {
        self.run(Cmd::new(
            Args::command("GETRANGE").arg(key).arg(start).arg(end),
        ))
    }

    /// `DECRBY key by`: the new value (not idempotent).
    fn decr_by<K: ToArgs>(&self, key: K, by: i64) -> Self::Out<i64> {
        self.run(Cmd::new(Args::command("DECRBY").arg(key).arg(by)).not_idempotent())
    }

    /// `INCRBYFLOAT key by`: the new value (not idempotent).
    fn incr_by_float<K: ToArgs>(&self, key: K, by: f64) -> Self::Out<f64> {
        self.run(Cmd::new(Args::command("INCRBYFLOAT").arg(key).arg(by)).not_idempotent())
    }

    /// `SET key value NX`: true if it was set (not idempotent: a retry would say "not set").
    fn set_nx<K: ToArgs, V: ToArgs>(&self, key: K, value: V) -> Self::Out<bool> {
        self.run(Cmd::new(Args::command("SET").arg(key).arg(value).arg("NX")).not_idempotent())
    }

    /// `GETDEL key`: the value it had (not idempotent).
    fn getdel<K: ToArgs, V: FromFrame>(&self, key: K) -> Self::Out<Option<V>> {
        self.run(Cmd::new(Args::command("GETDEL").arg(key)).not_idempotent())
    }

    /// `MSET k1 v1 k2 v2 …` from pairs (split by slot across nodes: not atomic across slots;
    /// idempotent).
    fn mset<P: ToArgs>(&self, pairs: P) -> Self::Out<()> {
        self.run(Cmd::new(Args::command("MSET").arg(pairs)).idempotent())
    }

    /// `UNLINK key …`: how many existed (idempotent; split by slot).
    fn unlink<K: ToArgs>(&self, keys: K) -> Self::Out<u64> {
        self.run(Cmd::new(Args::command("UNLINK").arg(keys)).idempotent())
    }

    /// `TOUCH key …`: how many exist.
    fn touch<K: ToArgs>(&self, keys: K) -> Self::Out<u64> {
        self.run(Cmd::new(Args::command("TOUCH").arg(keys)).idempotent())
    }

    /// `PERSIST key`: true if a TTL was removed (idempotent).
    fn persist<K: ToArgs>(&self, key: K) -> Self::Out<bool> {
        self.run(Cmd::new(Args::command("PERSIST").arg(key)).idempotent())
    }

    /// `PEXPIRE key ms`: true if the key exists (idempotent; at least 1 ms).
    fn pexpire<K: ToArgs>(&self, key: K, ttl: Duration) -> Self::Out<bool> {
        self.run(Cmd::new(Args::command("PEXPIRE").arg(key).arg(millis(ttl))).idempotent())
    }

    /// `PTTL key`: milliseconds left; -1 without a TTL, -2 if the key does not exist.
    fn pttl<K: ToArgs>(&self, key: K) -> Self::Out<i64> {
        self.run(Cmd::new(Args::command("PTTL").arg(key)))
    }

    /// `TYPE key`: `string`, `list`, `set`, `zset`, `hash`, `stream`, or `none`.
    fn key_type<K: ToArgs>(&self, key: K) -> Self::Out<String> {
        self.run(Cmd::new(Args::command("TYPE").arg(key)))
    }

    /// `RENAME key newkey` (both in one slot: use a hash tag; not idempotent — a retry finds no
    /// key).
    fn rename<K: ToArgs, N: ToArgs>(&self, key: K, new_key: N) -> Self::Out<()> {
        self.run(Cmd::new(Args::command("RENAME").arg(key).arg(new_key)).not_idempotent())
    }
}

impl<C: RunCmd + ?Sized> StringCommands for C {}
