//! Lists, blocking pops included (they run on a connection of their own and delay nothing else).

use std::time::Duration;

use crate::typed::{Cmd, RunCmd};
use crate::{Args, FromFrame, ToArgs};

/// A blocking command's timeout in seconds, as Redis reads it (decimals allowed; 0 blocks forever).
fn seconds(d: Duration) -> f64 {
    d.as_secs_f64()
}

/// Typed `LPUSH`, `RPUSH`, `LPOP`, `RPOP`, `LRANGE`, `LLEN`, `LINDEX`, `LSET`, `LREM`, `LTRIM`,
/// `BLPOP`, `BRPOP`.
///
/// ```no_run
/// # use slotwise_client::{prelude::*, Handle, Error};
/// # use std::time::Duration;
/// # async fn demo(client: Handle) -> Result<(), Error> {
/// client.rpush("jobs", ["a", "b"]).await?;
/// let all: Vec<String> = client.lrange("jobs", 0, -1).await?;
/// let next: Option<(String, String)> = client.blpop("jobs", Duration::from_secs(5)).await?;
/// # let _ = (all, next); Ok(()) }
/// ```
pub trait ListCommands: RunCmd {
    /// `LPUSH key value …`: the new length (not idempotent).
    fn lpush<K: ToArgs, V: ToArgs>(&self, key: K, values: V) -> Self::Out<u64> {
        self.run(Cmd::new(Args::command("LPUSH").arg(key).arg(values)).not_idempotent())
    }

    /// `RPUSH key value …`: the new length (not idempotent).
    fn rpush<K: ToArgs, V: ToArgs>(&self, key: K, values: V) -> Self::Out<u64> {
        self.run(Cmd::new(Args::command("RPUSH").arg(key).arg(values)).not_idempotent())
    }

    /// `LPOP key` (not idempotent).
    fn lpop<K: ToArgs, V: FromFrame>(&self, key: K) -> Self::Out<Option<V>> {
        self.run(Cmd::new(Args::command("LPOP").arg(key)).not_idempotent())
    }

    /// `RPOP key` (not idempotent).
    fn rpop<K: ToArgs, V: FromFrame>(&self, key: K) -> Self::Out<Option<V>> {
        self.run(Cmd::new(Args::command("RPOP").arg(key)).not_idempotent())
    }

    /// `LRANGE key start stop` (inclusive; `0, -1` is the whole list).
    fn lrange<K: ToArgs, V: FromFrame>(&self, key: K, start: i64, stop: i64) -> Self::Out<Vec<V>> {
        self.run(Cmd::new(
            Args::command("LRANGE").arg(key).arg(start).arg(stop),
        ))
    }

    /// `LLEN key`.
    fn llen<K: ToArgs>(&self, key: K) -> Self::Out<u64> {
        self.run(Cmd::new(Args::command("LLEN").arg(key)))
    }

    /// `LINDEX key index`.
    fn lindex<K: ToArgs, V: FromFrame>(&self, key: K, index: i64) -> Self::Out<Option<V>> {
        self.run(Cmd::new(Args::command("LINDEX").arg(key).arg(index)))
    }

    /// `LSET key index value` (idempotent).
    fn lset<K: ToArgs, V: ToArgs>(&self, key: K, index: i64, value: V) -> Self::Out<()> {
        self.run(Cmd::new(Args::command("LSET").arg(key).arg(index).arg(value)).idempotent())
    }

    /// `LREM key count value`: how many were removed (not idempotent: a retry removes more).
    fn lrem<K: ToArgs, V: ToArgs>(&self, key: K, count: i64, value: V) -> Self::Out<u64> {
        self.run(Cmd::new(Args::command("LREM").arg(key).arg(count).arg(value)).not_idempotent())
    }

    /// `LTRIM key start stop` (idempotent).
    fn ltrim<K: ToArgs>(&self, key: K, start: i64, stop: i64) -> Self::Out<()> {
        self.run(Cmd::new(Args::command("LTRIM").arg(key).arg(start).arg(stop)).idempotent())
    }

    /// `BLPOP key … timeout`: `(key, value)` of the first list with an element, or `None` after
    /// `timeout` (`Duration::ZERO`: wait forever). The keys must share a slot (a hash tag).
    fn blpop<K: ToArgs, V: FromFrame>(
        &self,
        keys: K,
        timeout: Duration,
    ) -> Self::Out<Option<(String, V)>> {
        self.run(Cmd::new(Args::command("BLPOP").arg(keys).arg(seconds(timeout))).not_idempotent())
    }

    /// `BRPOP key … timeout`: as [`ListCommands::blpop`], from the tail.
    fn brpop<K: ToArgs, V: FromFrame>(
        &self,
        keys: K,
        timeout: Duration,
    ) -> Self::Out<Option<(String, V)>> {
        self.run(Cmd::new(Args::command("BRPOP").arg(keys).arg(seconds(timeout))).not_idempotent())
    }
}

impl<C: RunCmd + ?Sized> ListCommands for C {}
