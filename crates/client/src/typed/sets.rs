//! Sets.

use crate::typed::{Cmd, RunCmd};
use crate::{Args, FromFrame, ToArgs};

/// Typed `SADD`, `SREM`, `SMEMBERS`, `SISMEMBER`, `SCARD`, `SPOP`.
///
/// ```no_run
/// # use slotwise_client::{prelude::*, Handle, Error};
/// # use std::collections::HashSet;
/// # async fn demo(client: Handle) -> Result<(), Error> {
/// client.sadd("tags", ["rust", "redis"]).await?;
/// let tags: HashSet<String> = client.smembers("tags").await?;
/// let known = client.sismember("tags", "rust").await?;
/// # let _ = (tags, known); Ok(()) }
/// ```
pub trait SetCommands: RunCmd {
    /// `SADD key member …`: how many were added (idempotent).
    fn sadd<K: ToArgs, M: ToArgs>(&self, key: K, members: M) -> Self::Out<u64> {
        self.run(Cmd::new(Args::command("SADD").arg(key).arg(members)).idempotent())
    }

    /// `SREM key member …`: how many were removed (idempotent).
    fn srem<K: ToArgs, M: ToArgs>(&self, key: K, members: M) -> Self::Out<u64> {
        self.run(Cmd::new(Args::command("SREM").arg(key).arg(members)).idempotent())
    }

    /// `SMEMBERS key` into any collection (`HashSet<String>`, `BTreeSet<i64>`, `Vec<Bytes>` …).
    fn smembers<K: ToArgs, S: FromFrame>(&self, key: K) -> Self::Out<S> {
        self.run(Cmd::new(Args::command("SMEMBERS").arg(key)))
    }

    /// `SISMEMBER key member`.
    fn sismember<K: ToArgs, M: ToArgs>(&self, key: K, member: M) -> Self::Out<bool> {
        self.run(Cmd::new(Args::command("SISMEMBER").arg(key).arg(member)))
    }

    /// `SCARD key`.
    fn scard<K: ToArgs>(&self, key: K) -> Self::Out<u64> {
        self.run(Cmd::new(Args::command("SCARD").arg(key)))
    }

    /// `SPOP key`: a random member, removed (not idempotent).
    fn spop<K: ToArgs, V: FromFrame>(&self, key: K) -> Self::Out<Option<V>> {
        self.run(Cmd::new(Args::command("SPOP").arg(key)).not_idempotent())
    }
}

impl<C: RunCmd + ?Sized> SetCommands for C {}
