//! Hashes.

use crate::typed::{Cmd, RunCmd};
use crate::{Args, FromFrame, ToArgs};

/// Typed `HSET`, `HSETNX`, `HGET`, `HMGET`, `HGETALL`, `HDEL`, `HEXISTS`, `HINCRBY`,
/// `HINCRBYFLOAT`, `HLEN`, `HKEYS`, `HVALS`.
///
/// ```no_run
/// # use slotwise_client::{prelude::*, Handle, Error};
/// # use std::collections::HashMap;
/// # async fn demo(client: Handle) -> Result<(), Error> {
/// client.hset("user:1", [("name", "Ada"), ("visits", "0")]).await?;
/// let visits = client.hincr_by("user:1", "visits", 1).await?;
/// let name: Option<String> = client.hget("user:1", "name").await?;
/// let all: HashMap<String, String> = client.hgetall("user:1").await?;
/// # let _ = (visits, name, all); Ok(()) }
/// ```
pub trait HashCommands: RunCmd {
    /// `HSET key field value …` from pairs (`[("name", "ada"), ("lang", "en")]`, a map …): how
    /// many fields were added (idempotent).
    fn hset<K: ToArgs, F: ToArgs>(&self, key: K, fields: F) -> Self::Out<u64> {
        self.run(Cmd::new(Args::command("HSET").arg(key).arg(fields)).idempotent())
    }

    /// `HSETNX key field value`: true if it was set (not idempotent).
    fn hset_nx<K: ToArgs, F: ToArgs, V: ToArgs>(
        &self,
        key: K,
        field: F,
        value: V,
    ) -> Self::Out<bool> {
        self.run(Cmd::new(Args::command("HSETNX").arg(key).arg(field).arg(value)).not_idempotent())
    }

    /// `HGET key field`.
    fn hget<K: ToArgs, F: ToArgs, V: FromFrame>(&self, key: K, field: F) -> Self::Out<Option<V>> {
        self.run(Cmd::new(Args::command("HGET").arg(key).arg(field)))
    }

    /// `HMGET key field …`: one value (or `None`) per field, in order.
    fn hmget<K: ToArgs, F: ToArgs, V: FromFrame>(
        &self,
        key: K,
        fields: F,
    ) -> Self::Out<Vec<Option<V>>> {
        self.run(Cmd::new(Args::command("HMGET").arg(key).arg(fields)))
    }

    /// `HGETALL key` into any map type (`HashMap<String, String>`, `BTreeMap<String, i64>` …).
    fn hgetall<K: ToArgs, M: FromFrame>(&self, key: K) -> Self::Out<M> {
        self.run(Cmd::new(Args::command("HGETALL").arg(key)))
    }

    /// `HDEL key field …`: how many were removed (idempotent).
    fn hdel<K: ToArgs, F: ToArgs>(&self, key: K, fields: F) -> Self::Out<u64> {
        self.run(Cmd::new(Args::command("HDEL").arg(key).arg(fields)).idempotent())
    }

    /// `HEXISTS key field`.
    fn hexists<K: ToArgs, F: ToArgs>(&self, key: K, field: F) -> Self::Out<bool> {
        self.run(Cmd::new(Args::command("HEXISTS").arg(key).arg(field)))
    }

    /// `HINCRBY key field by`: the new value (not idempotent).
    fn hincr_by<K: ToArgs, F: ToArgs>(&self, key: K, field: F, by: i64) -> Self::Out<i64> {
        self.run(Cmd::new(Args::command("HINCRBY").arg(key).arg(field).arg(by)).not_idempotent())
    }

    /// `HINCRBYFLOAT key field by`: the new value (not idempotent).
    fn hincr_by_float<K: ToArgs, F: ToArgs>(&self, key: K, field: F, by: f64) -> Self::Out<f64> {
        self.run(
            Cmd::new(Args::command("HINCRBYFLOAT").arg(key).arg(field).arg(by)).not_idempotent(),
        )
    }

    /// `HLEN key`.
    fn hlen<K: ToArgs>(&self, key: K) -> Self::Out<u64> {
        self.run(Cmd::new(Args::command("HLEN").arg(key)))
    }

    /// `HKEYS key`.
    fn hkeys<K: ToArgs, V: FromFrame>(&self, key: K) -> Self::Out<Vec<V>> {
        self.run(Cmd::new(Args::command("HKEYS").arg(key)))
    }

    /// `HVALS key`.
    fn hvals<K: ToArgs, V: FromFrame>(&self, key: K) -> Self::Out<Vec<V>> {
        self.run(Cmd::new(Args::command("HVALS").arg(key)))
    }
}

impl<C: RunCmd + ?Sized> HashCommands for C {}
