//! [`Handle`]: the application's side of a running client — cheap to clone, `Send + Sync`, and the
//! same for every runtime (its futures need no reactor).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use bytes::Bytes;
use futures_channel::oneshot;
use slotwise_cluster::{
    DownCause, Endpoint, Frame, Request, RequestError, Stats, Target, Topology,
};
use slotwise_resp::Arg;

use crate::adapter::drive::{Drive, Drove, Quiet};
use crate::adapter::{Inbox, Msg};
use crate::{Error, FromFrame, ServerError};

struct Shared {
    inbox: Inbox,
    /// The loop, for callers to run it themselves while it is free (the async adapters' loop).
    direct: Option<Arc<dyn Drive>>,
    /// Names cancellable requests and sessions for the driver.
    tokens: AtomicU64,
}

impl Drop for Shared {
    /// The last handle is gone: nobody can submit any more, so the driver stops.
    fn drop(&mut self) {
        let _ = self.inbox.unbounded_send(Msg::Shutdown { done: None });
    }
}

/// A handle on a running client: submits requests to the driver and awaits their outcomes.
///
/// Cloning is cheap (an `Arc`); every clone talks to the same driver, so any number of tasks or
/// threads share one connection per node. When the last clone is dropped the driver stops, as with
/// [`Handle::shutdown`].
///
/// The futures it returns are runtime-independent (a oneshot channel), so the tokio and
/// async-std/smol adapters expose this same API, and the blocking adapter wraps it.
///
/// Every method ends with exactly one outcome: the reply, or an [`Error`] — a Redis error reply is
/// [`Error::Redis`], a client-side failure is [`Error::Request`] (timeout, cluster down,
/// [`RequestError::ConnectionLost`] `{ maybe_applied }` …), and a stopped client is
/// [`Error::Closed`].
///
/// Commands that change a connection's state (`MULTI`, `WATCH`, `SUBSCRIBE`, `SELECT` …) are
/// refused with [`RequestError::ConnectionState`]: transactions run through
/// [`Handle::transaction`] (or a [`Transaction`](crate::Transaction) from [`Handle::session`]) on
/// a connection of their own; blocking commands get one from a small per-node pool
/// automatically.
#[derive(Clone)]
pub struct Handle {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handle")
            .field("closed", &self.is_closed())
            .finish()
    }
}

/// The outcome of a submitted request, as a future. Dropping it before its outcome cancels a
/// blocking command (`BLPOP`, `XREAD … BLOCK` …: its dedicated connection closes, so the server
/// stops blocking for it). Any other request is skipped if the driver had not taken it in yet
/// (so it never ran), and otherwise runs to its outcome, which is discarded.
///
/// With the async adapters, awaiting it may run the client's driver loop on the awaiting task
/// (when no other task is running it): the request is written, and its reply read, from there.
/// A request submitted that way (the loop was free and nothing else waited, or only requests
/// submitted the same way and not written yet: one task's burst) is written when this future, or
/// another of that burst, is polled — or by the driver's task if it is dropped first. The first
/// poll of such a request may only yield (wake its task and return `Pending`), so that the
/// requests its task makes next, such as the other futures of a `join`, leave in the same write;
/// the client stops doing so while it gathers nothing (one request at a time).
#[must_use = "a pending request does nothing useful unless awaited"]
pub struct Pending {
    rx: Option<oneshot::Receiver<Result<Frame, RequestError>>>,
    cancel: Option<(Inbox, u64)>,
    /// The loop this future may run, and its baton ticket while it holds the baton.
    direct: Option<Arc<dyn Drive>>,
    ticket: Option<u64>,
    /// The waker it waits on its outcome with after a poll that ran the loop.
    quiet: Option<Arc<Quiet>>,
    /// What the next poll does first.
    next: Next,
}

/// What the next poll of a [`Pending`] does first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Next {
    /// Only yield, then [`Next::Drive`]: the driver asked for it, so that the task's next
    /// requests may join this one's write.
    Yield,
    /// Run the loop for this request (it was handed in directly: its own poll writes it).
    Drive,
    /// Run the loop only while holding the baton; otherwise wait for the outcome.
    Wait,
}

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pending")
            .field("done", &self.rx.is_none())
            .finish_non_exhaustive()
    }
}

type Outcome = Result<Frame, RequestError>;

impl Pending {
    pub(crate) fn new(rx: Option<oneshot::Receiver<Outcome>>) -> Pending {
        Pending {
            rx,
            cancel: None,
            direct: None,
            ticket: None,
            quiet: None,
            next: Next::Wait,
        }
    }

    /// The outcome if it is in, checked without registering a waker.
    fn try_outcome(&mut self) -> Option<Result<Frame, Error>> {
        let outcome = match self.rx.as_mut()?.try_recv() {
            Ok(None) => return None,
            Ok(Some(outcome)) => Ok(outcome),
            Err(e) => Err(e),
        };
        Some(self.finish(outcome))
    }

    /// The outcome is in (`Err`: the driver dropped the request, it stopped).
    fn finish(&mut self, outcome: Result<Outcome, oneshot::Canceled>) -> Result<Frame, Error> {
        self.rx = None;
        if let (Some(direct), Some(ticket)) = (&self.direct, self.ticket.take()) {
            direct.leave(ticket);
        }
        match outcome {
            Err(oneshot::Canceled) => Err(Error::Closed),
            Ok(Err(e)) => Err(Error::Request(e)),
            Ok(Ok(frame)) => reply(frame),
        }
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if self.rx.is_none() {
            return;
        }
        if let Some(direct) = &self.direct {
            if let Some(ticket) = self.ticket.take() {
                direct.leave(ticket);
            }
            direct.nudge();
        }
        if let Some((inbox, token)) = self.cancel.take() {
            let _ = inbox.unbounded_send(Msg::Cancel { token });
        }
    }
}

impl Pending {
    /// Blocks the calling thread until the outcome is there (for synchronous code; in async code,
    /// `.await` it instead).
    pub fn wait(self) -> Result<Frame, Error> {
        futures_lite::future::block_on(self)
    }
}

impl Future for Pending {
    type Output = Result<Frame, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if this.rx.is_none() {
            return Poll::Ready(Err(Error::Closed));
        }
        // A request handed in directly is written by its own poll (after a yield if the driver
        // asked for one); later polls run the loop only while this request holds the baton (it
        // was the only one waiting): its reply's socket event wakes this task, which reads it.
        // Any other poll is a plain oneshot poll.
        let first = match std::mem::replace(&mut this.next, Next::Wait) {
            Next::Yield => {
                // Let this task's next requests be handed in too: the next poll writes them all.
                this.next = Next::Drive;
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            Next::Drive => true,
            Next::Wait => false,
        };
        if this.direct.is_some() && (first || this.ticket.is_some()) {
            // Checked before and after running the loop, without registering: the loop completing
            // this very request must not wake this task for nothing.
            if !first && let Some(outcome) = this.try_outcome() {
                return Poll::Ready(outcome);
            }
            let drove = match &this.direct {
                Some(direct) => direct.drive(cx, &mut this.quiet),
                None => Drove::Busy,
            };
            let mut ran = false;
            match drove {
                Drove::Ran(ticket) => {
                    this.ticket = Some(ticket);
                    ran = true;
                }
                // The baton went to the loop's task: no need to come back to the loop.
                Drove::Passed => this.ticket = None,
                Drove::Busy => {}
            }
            if let Some(outcome) = this.try_outcome() {
                return Poll::Ready(outcome);
            }
            if ran
                && let Some(quiet) = &this.quiet
                && let Some(rx) = this.rx.as_mut()
            {
                let waker = Waker::from(quiet.clone());
                return match Pin::new(rx).poll(&mut Context::from_waker(&waker)) {
                    Poll::Pending => Poll::Pending,
                    Poll::Ready(outcome) => Poll::Ready(this.finish(outcome)),
                };
            }
        }
        let Some(rx) = this.rx.as_mut() else {
            return Poll::Ready(Err(Error::Closed));
        };
        match Pin::new(rx).poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(outcome) => Poll::Ready(this.finish(outcome)),
        }
    }
}

/// A top-level error reply becomes [`Error::Redis`].
pub(crate) fn reply(frame: Frame) -> Result<Frame, Error> {
    match &frame {
        Frame::SimpleError(line) | Frame::BulkError(line) => {
            Err(Error::Redis(ServerError::from_bytes(line)))
        }
        Frame::Attributed(a) if a.frame.is_error() => reply(frame.into_unattributed()),
        _ => Ok(frame),
    }
}

impl Handle {
    /// A handle that submits to `inbox` (the adapter made the driver that reads it).
    #[must_use]
    pub fn new(inbox: Inbox) -> Handle {
        Handle {
            shared: Arc::new(Shared {
                inbox,
                direct: None,
                tokens: AtomicU64::new(0),
            }),
        }
    }

    /// A handle on the async adapters' loop, which its callers may run themselves.
    pub(crate) fn with_direct(inbox: Inbox, direct: Arc<dyn Drive>) -> Handle {
        Handle {
            shared: Arc::new(Shared {
                inbox,
                direct: Some(direct),
                tokens: AtomicU64::new(0),
            }),
        }
    }

    pub(crate) fn token(&self) -> u64 {
        self.shared.tokens.fetch_add(1, Ordering::Relaxed) + 1
    }

    pub(crate) fn send_msg(&self, msg: Msg) -> bool {
        self.shared.inbox.unbounded_send(msg).is_ok()
    }

    /// Completes at `until` (the driver's timer: needs no runtime).
    pub(crate) async fn sleep_until(&self, until: std::time::Instant) {
        let (done, rx) = oneshot::channel();
        if self.send_msg(Msg::Delay { until, done }) {
            let _ = rx.await;
        }
    }

    /// True once the driver has stopped.
    #[must_use]
    pub fn is_closed(&self) -> bool {
        self.shared.inbox.is_closed()
    }

    /// Submits `request` now and returns its outcome as a future (which needs no runtime).
    /// Submitting several before awaiting any pipelines them. If nobody is running the client's
    /// loop at this moment and nothing else waits (or only requests handed in the same way and
    /// not written yet), the request is handed to the driver directly and written when this
    /// pending request, or another of its burst, is polled (or by the driver's task if it
    /// is dropped first) — see [`Pending`]: a burst of submits wakes nobody, and leaves in one
    /// write per node.
    ///
    /// A blocking command (`BLPOP`, `XREAD … BLOCK` …) runs on a connection of its own, so it
    /// delays nothing else; dropping its [`Pending`] cancels it.
    pub fn submit(&self, request: Request) -> Pending {
        let (reply, rx) = oneshot::channel();
        let cancel = request.blocks().then(|| self.token());
        let msg = Msg::Submit {
            request,
            reply,
            cancel,
        };
        let direct = self.shared.direct.clone();
        let mut next = Next::Wait;
        let sent = match &direct {
            Some(d) => match d.offer(msg) {
                Ok(gather) => {
                    next = if gather { Next::Yield } else { Next::Drive };
                    true
                }
                Err(msg) => self.send_msg(msg),
            },
            None => self.send_msg(msg),
        };
        Pending {
            rx: sent.then_some(rx),
            cancel: cancel.map(|token| (self.shared.inbox.clone(), token)),
            direct,
            ticket: None,
            quiet: None,
            next,
        }
    }

    /// Runs `request` (with its own `idempotent` flag and deadline) and returns the reply.
    pub async fn send(&self, request: Request) -> Result<Frame, Error> {
        self.submit(request).await
    }

    /// Runs `request` and converts the reply.
    pub async fn send_as<T: FromFrame>(&self, request: Request) -> Result<T, Error> {
        Ok(T::from_frame(self.submit(request).await?)?)
    }

    /// Runs a command given as its arguments, name first: `["SET", "k", "v"]`. Not idempotent, with
    /// the default deadline; use [`Handle::send`] with a [`Request`] to change either.
    pub async fn cmd<I>(&self, args: I) -> Result<Frame, Error>
    where
        I: IntoIterator,
        I::IntoIter: ExactSizeIterator + Clone,
        I::Item: Arg,
    {
        self.submit(Request::new(args)).await
    }

    /// Runs a command given as its arguments and converts the reply.
    pub async fn query<T, I>(&self, args: I) -> Result<T, Error>
    where
        T: FromFrame,
        I: IntoIterator,
        I::IntoIter: ExactSizeIterator + Clone,
        I::Item: Arg,
    {
        self.send_as(Request::new(args)).await
    }

    /// Runs `request` on the node `target` names — an endpoint, a node id, or the primary of a
    /// slot — whatever its keys say: the escape hatch for commands the client's own routing does
    /// not cover (`CLIENT LIST` on one node, `DEBUG`, a module's admin command). Sent to a node
    /// by endpoint or id, a `MOVED` is the reply, not followed. A node not in the current
    /// topology: [`RequestError::UnknownNode`].
    pub async fn send_to(&self, target: Target, request: Request) -> Result<Frame, Error> {
        self.submit_to(target, request).await
    }

    /// [`Handle::send_to`], submitted now: its outcome as a future (submitting several before
    /// awaiting any sends them at once).
    pub fn submit_to(&self, target: Target, request: Request) -> Pending {
        let (reply, rx) = oneshot::channel();
        let sent = self.send_msg(Msg::SubmitTo {
            request,
            target,
            reply,
        });
        Pending::new(sent.then_some(rx))
    }

    /// The topology the client routes by: every shard with its primary, replicas, node ids and
    /// slots (the last one a refresh accepted).
    pub async fn topology(&self) -> Result<Topology, Error> {
        let (reply, rx) = oneshot::channel();
        if !self.send_msg(Msg::Topology { reply }) {
            return Err(Error::Closed);
        }
        rx.await
            .map_err(|_| Error::Closed)?
            .ok_or(Error::Request(RequestError::ClusterDown {
                slot: None,
                seen: DownCause::NoTopology {
                    last_unusable: None,
                },
            }))
    }

    /// `PING` on one node (a primary with a healthy connection, chosen at random): is the client
    /// connected to the cluster. See [`Handle::ping_all`] for every node.
    pub async fn ping(&self) -> Result<(), Error> {
        self.send_as::<()>(Request::new(["PING"])).await
    }

    /// `PING` on every node of the topology, primaries and replicas, at once: each node's
    /// endpoint with its outcome (its round trip time, or why it failed).
    pub async fn ping_all(&self) -> Result<Vec<(Endpoint, Result<Duration, Error>)>, Error> {
        let topology = self.topology().await?;
        let endpoints: Vec<Endpoint> = topology
            .shards()
            .iter()
            .flat_map(|s| s.nodes())
            .filter_map(|n| n.endpoint.clone())
            .collect();
        let started = std::time::Instant::now();
        let pings: Vec<_> = endpoints
            .iter()
            .map(|e| self.submit_to(Target::Node(e.clone()), Request::new(["PING"])))
            .collect();
        let mut out = Vec::with_capacity(pings.len());
        for (endpoint, ping) in endpoints.into_iter().zip(pings) {
            let outcome = ping.await.map(|_| started.elapsed());
            out.push((endpoint, outcome));
        }
        Ok(out)
    }

    /// `DBSIZE`: the number of keys, summed over every primary.
    pub async fn dbsize(&self) -> Result<u64, Error> {
        self.send_as(Request::new(["DBSIZE"])).await
    }

    /// `MGET` of keys in any slots (split by slot, sent as one batch per node): the values in the
    /// order of `keys`.
    pub async fn mget<K: AsRef<[u8]>>(
        &self,
        keys: impl IntoIterator<Item = K>,
    ) -> Result<Vec<Option<Bytes>>, Error> {
        let keys: Vec<K> = keys.into_iter().collect();
        let mut args: Vec<&[u8]> = Vec::with_capacity(keys.len() + 1);
        args.push(b"MGET");
        args.extend(keys.iter().map(AsRef::as_ref));
        self.send_as(Request::new(args)).await
    }

    /// The core's counters as of now: requests, replies and failures by kind, `MOVED`/`ASK`
    /// redirects, retries, refreshes, the topology epoch, connections and bytes (see [`Stats`]).
    /// [`Error::Closed`] once the client has stopped.
    pub async fn stats(&self) -> Result<Stats, Error> {
        let (reply, rx) = oneshot::channel();
        self.shared
            .inbox
            .unbounded_send(Msg::Stats { reply })
            .map_err(|_| Error::Closed)?;
        rx.await.map_err(|_| Error::Closed)
    }

    /// Stops the client: the driver stops, every connection closes, requests still pending end
    /// with [`Error::Closed`], and so does anything sent afterwards through any clone. Resolves
    /// once the driver has stopped.
    pub async fn shutdown(&self) {
        let (done, rx) = oneshot::channel();
        if self
            .shared
            .inbox
            .unbounded_send(Msg::Shutdown { done: Some(done) })
            .is_ok()
        {
            let _ = rx.await;
        }
    }
}
