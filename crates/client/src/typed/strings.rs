//! String values.

use std::time::Duration;

use bytes::Bytes;

use crate::typed::{Cmd, RunCmd};
use crate::{Args, FromFrame, ToArgs, commands};

/// Typed `GET`, `SET` (also with a TTL, or `NX`), `INCR`, `INCRBY`, `APPEND`, `STRLEN`, `GETRANGE`,
/// `DECRBY`, `INCRBYFLOAT`, `GETDEL`, `MSET`.
///
/// ```no_run
/// # use slotwise_client::{prelude::*, Handle, Error};
/// # use std::time::Duration;
/// # async fn demo(client: Handle) -> Result<(), Error> {
/// client.append("log", "line\n").await?;
/// let first: String = client.getrange("log", 0, 3).await?;
/// if client.set_nx("lock", "me").await? {
///     client.expire("lock", Duration::from_secs(10)).await?;
/// }
/// client.mset([("a", "1"), ("b", "2")]).await?; // split by slot
/// # let _ = first; Ok(()) }
/// ```
pub trait StringCommands: RunCmd {
    /// `GET key`: the value, or `None`.
    fn get<K: AsRef<[u8]>>(&self, key: K) -> Self::Out<Option<Bytes>> {
        self.run(Cmd::from_request(commands::get(key)))
    }

    /// `SET key value` (idempotent).
    fn set<K: AsRef<[u8]>, V: AsRef<[u8]>>(&self, key: K, value: V) -> Self::Out<()> {
        self.run(Cmd::from_request(commands::set(key, value)))
    }

    /// `SET key value PX ttl` (idempotent; the TTL in milliseconds, at least 1).
    fn set_ex<K: AsRef<[u8]>, V: AsRef<[u8]>>(
        &self,
        key: K,
        value: V,
        ttl: Duration,
    ) -> Self::Out<()> {
        self.run(Cmd::from_request(commands::set_ex(key, value, ttl)))
    }

    /// `INCR key`: the new value (not idempotent).
    fn incr<K: AsRef<[u8]>>(&self, key: K) -> Self::Out<i64> {
        self.run(Cmd::from_request(commands::incr(key)).not_idempotent())
    }

    /// `INCRBY key by`: the new value (not idempotent).
    fn incr_by<K: AsRef<[u8]>>(&self, key: K, by: i64) -> Self::Out<i64> {
        self.run(Cmd::from_request(commands::incr_by(key, by)).not_idempotent())
    }

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
}

impl<C: RunCmd + ?Sized> StringCommands for C {}
