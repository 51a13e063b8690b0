//! Sorted sets.

use crate::typed::{Cmd, RunCmd};
use crate::{Args, FromFrame, ToArgs, pairs};

/// Typed `ZADD`, `ZINCRBY`, `ZSCORE`, `ZRANK`, `ZREM`, `ZCARD`, `ZRANGE` (by rank or score, with
/// or without scores).
///
/// ```no_run
/// # use slotwise_client::{prelude::*, Handle, Error};
/// # async fn demo(client: Handle) -> Result<(), Error> {
/// client.zadd("board", [(31.5, "ada"), (12.0, "alan")]).await?;
/// let top: Vec<(String, f64)> = client.zrange_with_scores("board", -3, -1).await?;
/// let cheap: Vec<String> = client.zrange_by_score("board", "-inf", 20.0).await?;
/// # let _ = (top, cheap); Ok(()) }
/// ```
pub trait SortedSetCommands: RunCmd {
    /// `ZADD key score member …` from `(score, member)` pairs: how many were added (idempotent).
    fn zadd<K: ToArgs, P: ToArgs>(&self, key: K, scored: P) -> Self::Out<u64> {
        self.run(Cmd::new(Args::command("ZADD").arg(key).arg(scored)).idempotent())
    }

    /// `ZINCRBY key by member`: the new score (not idempotent).
    fn zincr_by<K: ToArgs, M: ToArgs>(&self, key: K, by: f64, member: M) -> Self::Out<f64> {
        self.run(Cmd::new(Args::command("ZINCRBY").arg(key).arg(by).arg(member)).not_idempotent())
    }

    /// `ZSCORE key member`.
    fn zscore<K: ToArgs, M: ToArgs>(&self, key: K, member: M) -> Self::Out<Option<f64>> {
        self.run(Cmd::new(Args::command("ZSCORE").arg(key).arg(member)))
    }

    /// `ZRANK key member`: its rank, lowest score first.
    fn zrank<K: ToArgs, M: ToArgs>(&self, key: K, member: M) -> Self::Out<Option<u64>> {
        self.run(Cmd::new(Args::command("ZRANK").arg(key).arg(member)))
    }

    /// `ZREM key member …`: how many were removed (idempotent).
    fn zrem<K: ToArgs, M: ToArgs>(&self, key: K, members: M) -> Self::Out<u64> {
        self.run(Cmd::new(Args::command("ZREM").arg(key).arg(members)).idempotent())
    }

    /// `ZCARD key`.
    fn zcard<K: ToArgs>(&self, key: K) -> Self::Out<u64> {
        self.run(Cmd::new(Args::command("ZCARD").arg(key)))
    }

    /// `ZRANGE key start stop`: members by rank (inclusive; `0, -1` is all).
    fn zrange<K: ToArgs, V: FromFrame>(&self, key: K, start: i64, stop: i64) -> Self::Out<Vec<V>> {
        self.run(Cmd::new(
            Args::command("ZRANGE").arg(key).arg(start).arg(stop),
        ))
    }

    /// `ZRANGE key start stop WITHSCORES`: `(member, score)` by rank, whichever shape the
    /// protocol sends.
    fn zrange_with_scores<K: ToArgs, V: FromFrame>(
        &self,
        key: K,
        start: i64,
        stop: i64,
    ) -> Self::Out<Vec<(V, f64)>> {
        self.run(Cmd::with(
            Args::command("ZRANGE")
                .arg(key)
                .arg(start)
                .arg(stop)
                .arg("WITHSCORES"),
            pairs::<V, f64>,
        ))
    }

    /// `ZRANGE key min max BYSCORE`: members with scores in `min..=max` (`f64`s, or strings such as
    /// `"(1.5"` for an open bound and `"-inf"`/`"+inf"`).
    fn zrange_by_score<K: ToArgs, A: ToArgs, B: ToArgs, V: FromFrame>(
        &self,
        key: K,
        min: A,
        max: B,
    ) -> Self::Out<Vec<V>> {
        self.run(Cmd::new(
            Args::command("ZRANGE")
                .arg(key)
                .arg(min)
                .arg(max)
                .arg("BYSCORE"),
        ))
    }
}

impl<C: RunCmd + ?Sized> SortedSetCommands for C {}
