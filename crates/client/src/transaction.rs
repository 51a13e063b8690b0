//! [`Transaction`]: a session — a connection held for one caller — for `WATCH` / `MULTI` / `EXEC`,
//! and [`Handle::transaction`], which re-runs a transaction body after a `WATCH` abort or a slot
//! move.

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use futures_channel::oneshot;
use slotwise_cluster::{Frame, Request, RequestError};
use slotwise_resp::Arg;

use crate::adapter::Msg;
use crate::handle::Pending;
use crate::{Error, FromFrame, Handle};

/// How long [`Handle::transaction`] keeps re-running a body (as the core's default deadline: a
/// managed service's failover fits).
const RERUN_FOR: Duration = Duration::from_secs(10);

/// A session: one connection of its own, to the primary of one slot, for a transaction.
///
/// Commands run in order on that connection, so `WATCH`, the reads that follow it, `MULTI`, the
/// queued commands and `EXEC` all see the same connection state. Keys must be in the session's
/// slot (use a hash tag: `{user:1}:name`, `{user:1}:visits`); other slots are
/// [`RequestError::CrossSlot`]. Misuse (`EXEC` without `MULTI`, nested `MULTI`, `WATCH` inside
/// `MULTI`) is refused before it reaches the server ([`RequestError::Transaction`]).
///
/// Cloning is cheap; when the last clone is dropped the session ends: an open `MULTI` is
/// discarded, `WATCH`es are cleared, and the connection goes back to its node's pool.
///
/// Nothing in a session is retried or redirected (its state lives on its connection): a `MOVED`
/// or `ASK` ends that command with [`RequestError::SlotMoved`]; [`Handle::transaction`] then runs
/// the whole body again in a new session.
#[derive(Clone, Debug)]
pub struct Transaction {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    handle: Handle,
    token: u64,
    /// Commands queued inside MULTI, whose `+QUEUED` (or refusal) is looked at by `exec`.
    queued: Mutex<Vec<Pending>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.handle
            .send_msg(Msg::CloseSession { token: self.token });
    }
}

impl Handle {
    /// A session for the slot of `key`: see [`Transaction`]. Nothing is sent until its first
    /// command.
    pub fn session(&self, key: impl AsRef<[u8]>) -> Transaction {
        let slot = slotwise_slot::key_slot(key.as_ref()).get();
        self.open_session(Some(slot))
    }

    pub(crate) fn open_session(&self, slot: Option<u16>) -> Transaction {
        let token = self.token();
        self.send_msg(Msg::OpenSession { token, slot });
        Transaction {
            inner: Arc::new(Inner {
                handle: self.clone(),
                token,
                queued: Mutex::new(Vec::new()),
            }),
        }
    }

    /// Runs `body` as an optimistic transaction on `keys` (all in one slot), the way
    /// `WATCH`/`MULTI`/`EXEC` are meant to be used, re-running it when that is safe:
    ///
    /// 1. opens a [`Transaction`] for the keys' slot and `WATCH`es them;
    /// 2. calls `body`, which reads what it needs, then calls [`Transaction::multi`], queues its
    ///    writes with [`Transaction::queue`] and returns [`Transaction::exec`]'s result;
    /// 3. `Ok(Some(v))`: done. `Ok(None)` (a watched key changed, so `EXEC` ran nothing), a slot
    ///    that moved ([`RequestError::SlotMoved`]), a session that ended before anything ran, or
    ///    `TRYAGAIN`/`CLUSTERDOWN`/`LOADING`/`MASTERDOWN`/`READONLY` from the server: the body runs
    ///    again in a new session, with a short backoff, for up to 10 s.
    ///
    /// Any other error is returned as it is — in particular an `EXEC` whose connection was lost
    /// ([`Error::maybe_applied`]) is never re-run.
    ///
    /// ```no_run
    /// # async fn demo(client: slotwise_client::Handle) -> Result<(), slotwise_client::Error> {
    /// let balance: i64 = client
    ///     .transaction(["{acct:1}:balance"], |tx| async move {
    ///         let now: Option<i64> = tx.query(["GET", "{acct:1}:balance"]).await?;
    ///         let next = now.unwrap_or(0) + 10;
    ///         tx.multi().await?;
    ///         tx.queue(["SET", "{acct:1}:balance", &next.to_string()]);
    ///         Ok(tx.exec().await?.map(|_| next))
    ///     })
    ///     .await?;
    /// # let _ = balance; Ok(()) }
    /// ```
    pub async fn transaction<K, T, F, Fut>(
        &self,
        keys: impl IntoIterator<Item = K>,
        mut body: F,
    ) -> Result<T, Error>
    where
        K: AsRef<[u8]>,
        F: FnMut(Transaction) -> Fut,
        Fut: Future<Output = Result<Option<T>, Error>>,
    {
        let keys: Vec<Vec<u8>> = keys.into_iter().map(|k| k.as_ref().to_vec()).collect();
        let Some(first) = keys.first() else {
            return Err(Error::Config(
                "a transaction needs at least one key to WATCH".into(),
            ));
        };
        let slot = slotwise_slot::key_slot(first).get();
        if keys
            .iter()
            .any(|k| slotwise_slot::key_slot(k).get() != slot)
        {
            return Err(Error::Request(RequestError::CrossSlot));
        }
        let until = Instant::now() + RERUN_FOR;
        let mut attempt = 0u32;
        loop {
            let tx = self.open_session(Some(slot));
            let mut watch = Vec::with_capacity(keys.len() + 1);
            watch.push(&b"WATCH"[..]);
            watch.extend(keys.iter().map(Vec::as_slice));
            let outcome = match tx.send(Request::new(watch)).await {
                Ok(_) => body(tx).await,
                Err(e) => {
                    drop(tx);
                    Err(e)
                }
            };
            let again = match outcome {
                Ok(Some(v)) => return Ok(v),
                Ok(None) => true,
                Err(e) if rerun_after(&e) && Instant::now() < until => false,
                Err(e) => return Err(e),
            };
            attempt += 1;
            if Instant::now() >= until {
                return Err(Error::Request(RequestError::Timeout {
                    slot: Some(slot),
                    node: None,
                    written: false,
                }));
            }
            if !again {
                // The slot map was corrected (or the cluster is failing over): give it a moment.
                let delay = Duration::from_millis(5u64 << attempt.min(6));
                self.sleep_until(Instant::now() + delay).await;
            }
        }
    }
}

/// An error after which running the transaction body again cannot apply anything twice.
fn rerun_after(e: &Error) -> bool {
    match e {
        Error::Request(RequestError::SlotMoved { .. } | RequestError::SessionEnded { .. }) => true,
        Error::Request(RequestError::ConnectionLost {
            maybe_applied: false,
            ..
        }) => true,
        Error::Redis(e) => matches!(
            e.code(),
            "TRYAGAIN" | "CLUSTERDOWN" | "LOADING" | "MASTERDOWN" | "READONLY"
        ),
        _ => false,
    }
}

impl Transaction {
    /// Submits `request` in the session (after everything submitted before it) and returns its
    /// outcome as a future.
    pub fn submit(&self, request: Request) -> Pending {
        let (reply, rx) = oneshot::channel();
        let sent = self.inner.handle.send_msg(Msg::SubmitIn {
            token: self.inner.token,
            request,
            reply,
        });
        Pending::new(sent.then_some(rx))
    }

    /// Runs `request` in the session.
    pub async fn send(&self, request: Request) -> Result<Frame, Error> {
        self.submit(request).await
    }

    /// Runs a command in the session, given as its arguments.
    pub async fn cmd<I>(&self, args: I) -> Result<Frame, Error>
    where
        I: IntoIterator,
        I::IntoIter: ExactSizeIterator + Clone,
        I::Item: Arg,
    {
        self.submit(Request::new(args)).await
    }

    /// Runs a command in the session and converts the reply.
    pub async fn query<T, I>(&self, args: I) -> Result<T, Error>
    where
        T: FromFrame,
        I: IntoIterator,
        I::IntoIter: ExactSizeIterator + Clone,
        I::Item: Arg,
    {
        Ok(T::from_frame(self.cmd(args).await?)?)
    }

    /// `WATCH key …`: `EXEC` will run nothing if any of them changes first.
    pub async fn watch<K: AsRef<[u8]>>(
        &self,
        keys: impl IntoIterator<Item = K>,
    ) -> Result<(), Error> {
        let keys: Vec<Vec<u8>> = keys.into_iter().map(|k| k.as_ref().to_vec()).collect();
        let mut args = vec![&b"WATCH"[..]];
        args.extend(keys.iter().map(Vec::as_slice));
        Ok(<()>::from_frame(self.send(Request::new(args)).await?)?)
    }

    /// `UNWATCH`.
    pub async fn unwatch(&self) -> Result<(), Error> {
        Ok(<()>::from_frame(self.cmd(["UNWATCH"]).await?)?)
    }

    /// `MULTI`: what follows is queued, to run all at once at [`Transaction::exec`].
    pub async fn multi(&self) -> Result<(), Error> {
        Ok(<()>::from_frame(self.cmd(["MULTI"]).await?)?)
    }

    /// Queues a command inside `MULTI` (without waiting for its `+QUEUED`; a refusal shows at
    /// [`Transaction::exec`]).
    pub fn queue<I>(&self, args: I) -> &Transaction
    where
        I: IntoIterator,
        I::IntoIter: ExactSizeIterator + Clone,
        I::Item: Arg,
    {
        self.queue_request(Request::new(args))
    }

    /// Queues a [`Request`] inside `MULTI`.
    pub fn queue_request(&self, request: Request) -> &Transaction {
        let pending = self.submit(request);
        self.inner
            .queued
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(pending);
        self
    }

    /// `EXEC`: the replies of the queued commands, in order, or `None` when a watched key changed
    /// and nothing ran. When the server refused the transaction (`EXECABORT`), the error is the
    /// queued command's own refusal (for example [`RequestError::SlotMoved`]).
    pub async fn exec(&self) -> Result<Option<Vec<Frame>>, Error> {
        let exec = self.submit(Request::new(["EXEC"]));
        let queued = std::mem::take(
            &mut *self
                .inner
                .queued
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        let result = exec.await;
        let mut first_refusal = None;
        for pending in queued {
            if let Err(e) = pending.await
                && first_refusal.is_none()
            {
                first_refusal = Some(e);
            }
        }
        match result {
            Ok(Frame::Null | Frame::NullArray) => Ok(None),
            Ok(f @ Frame::Array(_)) => Ok(f.into_items().ok()),
            Ok(other) => Err(Error::Convert(crate::ConvertError::new(
                "EXEC's array of replies",
                &other,
            ))),
            Err(e @ Error::Redis(_))
            | Err(e @ Error::Request(RequestError::TransactionAborted { .. })) => {
                Err(first_refusal.unwrap_or(e))
            }
            Err(e) => Err(e),
        }
    }

    /// `DISCARD`: drops what was queued since `MULTI`.
    pub async fn discard(&self) -> Result<(), Error> {
        self.inner
            .queued
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
        Ok(<()>::from_frame(self.cmd(["DISCARD"]).await?)?)
    }
}
