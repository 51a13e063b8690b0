//! Streams: entries in, entries out, consumer groups.

use std::time::Duration;

use crate::typed::{Cmd, RunCmd};
use crate::{Args, StreamEntry, StreamReads, ToArgs};

/// `[COUNT n] [BLOCK ms] STREAMS key … id …`, the tail of `XREAD` and `XREADGROUP`.
fn read_tail<K: ToArgs, I: ToArgs>(
    mut args: Args,
    keys: K,
    ids: I,
    count: Option<u64>,
    block: Option<Duration>,
) -> Args {
    if let Some(n) = count {
        args = args.arg("COUNT").arg(n);
    }
    if let Some(b) = block {
        args = args
            .arg("BLOCK")
            .arg(u64::try_from(b.as_millis()).unwrap_or(u64::MAX));
    }
    args.arg("STREAMS").arg(keys).arg(ids)
}

/// Typed `XADD`, `XLEN`, `XDEL`, `XTRIM`, `XRANGE`, `XREVRANGE`, `XREAD`, `XGROUP CREATE`,
/// `XREADGROUP`, `XACK`.
///
/// ```no_run
/// # use slotwise_client::{prelude::*, Handle, Error};
/// # use std::time::Duration;
/// # async fn demo(client: Handle) -> Result<(), Error> {
/// client.xgroup_create("orders", "billing", "$", true).await?;
/// client.xadd("orders", "*", [("id", "7"), ("total", "42")]).await?;
/// let batch = client
///     .xreadgroup("billing", "worker-1", ["orders"], [">"], Some(10), Some(Duration::from_secs(1)))
///     .await?;
/// for entry in batch.entries("orders") {
///     println!("{} total {:?}", entry.id, entry.get("total"));
///     client.xack("orders", "billing", [&entry.id]).await?;
/// }
/// # Ok(()) }
/// ```
pub trait StreamCommands: RunCmd {
    /// `XADD key id field value …` (`id` `"*"`: the server picks one): the entry's id (not
    /// idempotent).
    fn xadd<K: ToArgs, F: ToArgs>(&self, key: K, id: &str, fields: F) -> Self::Out<String> {
        self.run(Cmd::new(Args::command("XADD").arg(key).arg(id).arg(fields)).not_idempotent())
    }

    /// `XADD key MAXLEN ~ max_len * field value …`: appends, keeping about `max_len` entries.
    fn xadd_capped<K: ToArgs, F: ToArgs>(
        &self,
        key: K,
        max_len: u64,
        fields: F,
    ) -> Self::Out<String> {
        self.run(
            Cmd::new(
                Args::command("XADD")
                    .arg(key)
                    .arg(("MAXLEN", "~", max_len, "*"))
                    .arg(fields),
            )
            .not_idempotent(),
        )
    }

    /// `XLEN key`.
    fn xlen<K: ToArgs>(&self, key: K) -> Self::Out<u64> {
        self.run(Cmd::new(Args::command("XLEN").arg(key)))
    }

    /// `XDEL key id …`: how many were deleted (idempotent).
    fn xdel<K: ToArgs, I: ToArgs>(&self, key: K, ids: I) -> Self::Out<u64> {
        self.run(Cmd::new(Args::command("XDEL").arg(key).arg(ids)).idempotent())
    }

    /// `XTRIM key MAXLEN max_len`: how many were evicted (idempotent).
    fn xtrim<K: ToArgs>(&self, key: K, max_len: u64) -> Self::Out<u64> {
        self.run(Cmd::new(Args::command("XTRIM").arg(key).arg("MAXLEN").arg(max_len)).idempotent())
    }

    /// `XRANGE key start end [COUNT n]` (`"-"` and `"+"` for the ends).
    fn xrange<K: ToArgs>(
        &self,
        key: K,
        start: &str,
        end: &str,
        count: Option<u64>,
    ) -> Self::Out<Vec<StreamEntry>> {
        let count = count.map(|n| ("COUNT", n));
        self.run(Cmd::new(
            Args::command("XRANGE")
                .arg(key)
                .arg(start)
                .arg(end)
                .arg(count),
        ))
    }

    /// `XREVRANGE key end start [COUNT n]`: newest first.
    fn xrevrange<K: ToArgs>(
        &self,
        key: K,
        end: &str,
        start: &str,
        count: Option<u64>,
    ) -> Self::Out<Vec<StreamEntry>> {
        let count = count.map(|n| ("COUNT", n));
        self.run(Cmd::new(
            Args::command("XREVRANGE")
                .arg(key)
                .arg(end)
                .arg(start)
                .arg(count),
        ))
    }

    /// `XREAD [COUNT n] [BLOCK ms] STREAMS key … id …` (`"$"`: only new entries; the keys must share
    /// a slot). With `block`, it runs on a connection of its own; after the block time with
    /// nothing new, no streams.
    fn xread<K: ToArgs, I: ToArgs>(
        &self,
        keys: K,
        ids: I,
        count: Option<u64>,
        block: Option<Duration>,
    ) -> Self::Out<StreamReads> {
        self.run(Cmd::new(read_tail(
            Args::command("XREAD"),
            keys,
            ids,
            count,
            block,
        )))
    }

    /// `XGROUP CREATE key group id [MKSTREAM]` (not idempotent: a second one is `BUSYGROUP`).
    fn xgroup_create<K: ToArgs, G: ToArgs>(
        &self,
        key: K,
        group: G,
        id: &str,
        mkstream: bool,
    ) -> Self::Out<()> {
        let mk = mkstream.then_some("MKSTREAM");
        self.run(
            Cmd::new(
                Args::command("XGROUP")
                    .arg("CREATE")
                    .arg(key)
                    .arg(group)
                    .arg(id)
                    .arg(mk),
            )
            .not_idempotent(),
        )
    }

    /// `XREADGROUP GROUP group consumer [COUNT n] [BLOCK ms] STREAMS key … id …` (`">"`: entries
    /// never delivered to this group; not idempotent: it hands entries out).
    #[allow(clippy::too_many_arguments)]
    fn xreadgroup<G: ToArgs, C: ToArgs, K: ToArgs, I: ToArgs>(
        &self,
        group: G,
        consumer: C,
        keys: K,
        ids: I,
        count: Option<u64>,
        block: Option<Duration>,
    ) -> Self::Out<StreamReads> {
        let head = Args::command("XREADGROUP")
            .arg("GROUP")
            .arg(group)
            .arg(consumer);
        self.run(Cmd::new(read_tail(head, keys, ids, count, block)).not_idempotent())
    }

    /// `XACK key group id …`: how many were acknowledged (idempotent).
    fn xack<K: ToArgs, G: ToArgs, I: ToArgs>(&self, key: K, group: G, ids: I) -> Self::Out<u64> {
        self.run(Cmd::new(Args::command("XACK").arg(key).arg(group).arg(ids)).idempotent())
    }
}

impl<C: RunCmd + ?Sized> StreamCommands for C {}
