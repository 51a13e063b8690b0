//! [`Transaction`]: the blocking face of a session (`WATCH` / `MULTI` / `EXEC` on a connection of
//! its own), and [`Client::transaction`], which re-runs a transaction body when that is safe.

use futures_lite::future::block_on;
use slotwise_client::resp::Arg;

use crate::{Client, Frame, FromFrame, Pending, Request, Result};

/// A session for one slot: see [`slotwise_client::Transaction`], whose methods these are, each
/// waiting for its outcome. Dropping the last clone ends the session (an open `MULTI` is discarded
/// and the connection goes back to its node's pool).
#[derive(Clone, Debug)]
pub struct Transaction(slotwise_client::Transaction);

impl Client {
    /// A session for the slot of `key` (see [`Transaction`]).
    pub fn session(&self, key: impl AsRef<[u8]>) -> Transaction {
        Transaction(self.handle().session(key))
    }

    /// Runs `body` as an optimistic transaction on `keys` (all in one slot): `WATCH`es them, calls
    /// `body` (reads, then [`Transaction::multi`], [`Transaction::queue`], and it returns
    /// [`Transaction::exec`]'s result), and runs it again after a `WATCH` abort (`Ok(None)`), a
    /// slot move or a failover, for up to 10 s. See [`slotwise_client::Handle::transaction`].
    ///
    /// ```no_run
    /// # fn demo(client: slotwise_blocking::Client) -> slotwise_blocking::Result<()> {
    /// let next: i64 = client.transaction(["{acct:1}:balance"], |tx| {
    ///     let now: Option<i64> = tx.query(["GET", "{acct:1}:balance"])?;
    ///     let next = now.unwrap_or(0) + 10;
    ///     tx.multi()?;
    ///     tx.queue(["SET", "{acct:1}:balance", &next.to_string()]);
    ///     Ok(tx.exec()?.map(|_| next))
    /// })?;
    /// # let _ = next; Ok(()) }
    /// ```
    pub fn transaction<K, T, F>(&self, keys: impl IntoIterator<Item = K>, mut body: F) -> Result<T>
    where
        K: AsRef<[u8]>,
        F: FnMut(&Transaction) -> Result<Option<T>>,
    {
        block_on(self.handle().transaction(keys, |tx| {
            let outcome = body(&Transaction(tx));
            async move { outcome }
        }))
    }
}

impl Transaction {
    /// Submits `request` in the session and returns at once.
    pub fn submit(&self, request: Request) -> Pending {
        self.0.submit(request)
    }

    /// Runs `request` in the session.
    pub fn send(&self, request: Request) -> Result<Frame> {
        self.0.submit(request).wait()
    }

    /// Runs a command in the session, given as its arguments.
    pub fn cmd<I>(&self, args: I) -> Result<Frame>
    where
        I: IntoIterator,
        I::IntoIter: ExactSizeIterator + Clone,
        I::Item: Arg,
    {
        block_on(self.0.cmd(args))
    }

    /// Runs a command in the session and converts the reply.
    pub fn query<T, I>(&self, args: I) -> Result<T>
    where
        T: FromFrame,
        I: IntoIterator,
        I::IntoIter: ExactSizeIterator + Clone,
        I::Item: Arg,
    {
        block_on(self.0.query(args))
    }

    /// `WATCH key …`.
    pub fn watch<K: AsRef<[u8]>>(&self, keys: impl IntoIterator<Item = K>) -> Result<()> {
        block_on(self.0.watch(keys))
    }

    /// `UNWATCH`.
    pub fn unwatch(&self) -> Result<()> {
        block_on(self.0.unwatch())
    }

    /// `MULTI`.
    pub fn multi(&self) -> Result<()> {
        block_on(self.0.multi())
    }

    /// Queues a command inside `MULTI` (a refusal shows at [`Transaction::exec`]).
    pub fn queue<I>(&self, args: I) -> &Transaction
    where
        I: IntoIterator,
        I::IntoIter: ExactSizeIterator + Clone,
        I::Item: Arg,
    {
        self.0.queue(args);
        self
    }

    /// `EXEC`: the queued commands' replies, or `None` when a watched key changed.
    pub fn exec(&self) -> Result<Option<Vec<Frame>>> {
        block_on(self.0.exec())
    }

    /// `DISCARD`.
    pub fn discard(&self) -> Result<()> {
        block_on(self.0.discard())
    }
}
