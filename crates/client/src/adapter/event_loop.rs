//! The driver loop, written once for every async runtime ([`start`]): the [`Driver`], the inbox,
//! the timer and every connection's read and write halves, whose I/O it polls itself; connection
//! events are direct calls on the driver, never messages. Which task runs it — the loop's own, or
//! a caller's — is [`super::drive`]'s business.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant as StdInstant};

use futures_channel::{mpsc, oneshot};
use futures_lite::{FutureExt, StreamExt};
use futures_util::stream::FuturesUnordered;
use slotwise_cluster::{ConnId, Endpoint};

use super::drive::{self, Direct};
use super::driver::{Driver, Flow, Io, Msg};
use super::runtime::{ConnRead, ConnWrite, Runtime};
use crate::tls::TlsTarget;
use crate::{ClientConfig, Error, Handle};

/// How many inbox messages (and, separately, I/O completions) the loop takes in before it drains
/// the core: replies and transmits from one batch leave together (one write per node).
const BATCH: usize = 256;

/// How many rounds one poll of the loop may run before it yields to the executor.
const ROUNDS: usize = 64;

/// The read buffer of each connection.
const READ_BUF: usize = 64 * 1024;

/// Write buffers above this capacity are not kept for reuse.
const KEEP_BUF: usize = 1 << 20;

/// How long closing a socket (TLS `close_notify`, TCP shutdown) may take.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(1);

/// Starts a client on `rt`: spawns its driver task, waits until the first topology is known (or
/// discovery fails), and returns the handle. The handle's callers run the loop themselves while
/// it is free and their request is all that waits (a round trip with no task hop); the task runs
/// it otherwise.
pub async fn start<R: Runtime>(rt: R, config: &ClientConfig) -> Result<Handle, Error> {
    let (tx, rx) = mpsc::unbounded();
    let (driver, ready) = Driver::new(config)?;
    let direct = Arc::new(Direct::new(rt.clone(), Loop::new(rt.clone(), driver, rx)));
    let handle = Handle::with_direct(tx, direct.clone());
    rt.spawn(drive::task(direct));
    match ready.await {
        Ok(Ok(())) => Ok(handle),
        Ok(Err(e)) => Err(e),
        Err(oneshot::Canceled) => Err(Error::Closed),
    }
    // On error `handle` drops here, and that stops the driver.
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// What one of the loop's I/O futures completed with.
enum Done<R: Runtime> {
    Connected {
        conn: ConnId,
        result: io::Result<(R::Reader, R::Writer)>,
    },
    Read {
        conn: ConnId,
        reader: R::Reader,
        buf: Vec<u8>,
        result: io::Result<usize>,
    },
    Written {
        conn: ConnId,
        writer: R::Writer,
        buf: Vec<u8>,
        result: io::Result<()>,
    },
    /// A socket was closed (or closing it timed out).
    Closed,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Connect,
    Read,
    Write,
    Close,
}

/// An I/O future of the loop, tagged so a connection's futures can be dropped when it closes.
struct IoFuture<R: Runtime> {
    conn: ConnId,
    kind: Kind,
    fut: BoxFuture<Done<R>>,
}

impl<R: Runtime> Future for IoFuture<R> {
    type Output = Done<R>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Done<R>> {
        self.get_mut().fut.as_mut().poll(cx)
    }
}

/// A connection as the loop sees it.
struct Conn<W> {
    /// The write half while no write is in flight (and once connected).
    writer: Option<W>,
    /// Bytes waiting for the next write.
    out: Vec<u8>,
    /// An empty buffer to swap with `out` when a write starts.
    spare: Vec<u8>,
    /// In the loop's list of connections to flush.
    dirty: bool,
}

/// The driver loop's state: the driver, the inbox, the timer and every connection's I/O.
pub(super) struct Loop<R: Runtime> {
    rt: R,
    pub(super) driver: Driver,
    inbox: mpsc::UnboundedReceiver<Msg>,
    io: Vec<Io>,
    deadline: Option<StdInstant>,
    timer: Option<(StdInstant, BoxFuture<()>)>,
    conns: HashMap<ConnId, Conn<R::Writer>>,
    tasks: FuturesUnordered<IoFuture<R>>,
    dirty: Vec<ConnId>,
    /// Messages taken in by [`Loop::offer`] (handed in directly, and what was still in the inbox
    /// then) since the core was last drained: in the driver, not written yet.
    fresh: usize,
    /// The driver has stopped: the loop's task closes everything.
    pub(super) stopped: bool,
    /// Messages taken in so far, by either path (wrapping).
    taken_in: u64,
}

impl<R: Runtime> Loop<R> {
    fn new(rt: R, driver: Driver, inbox: mpsc::UnboundedReceiver<Msg>) -> Loop<R> {
        let mut lp = Loop {
            rt,
            driver,
            inbox,
            io: Vec::new(),
            deadline: None,
            timer: None,
            conns: HashMap::new(),
            tasks: FuturesUnordered::new(),
            dirty: Vec::new(),
            fresh: 0,
            stopped: false,
            taken_in: 0,
        };
        lp.drain();
        lp
    }

    /// Takes `msg` in now, after whatever is still in the inbox (a caller's requests keep their
    /// order when some went through the inbox); the core is drained on the next run. Gives `msg`
    /// back if the driver stopped.
    pub(super) fn offer(&mut self, msg: Msg) -> Result<(), Msg> {
        while let Ok(earlier) = self.inbox.try_recv() {
            self.fresh += 1;
            if self.take_in(earlier) == Flow::Stop {
                return Err(msg);
            }
        }
        self.fresh += 1;
        self.take_in(msg);
        Ok(())
    }

    /// Whether a caller may hand a request in directly ([`Loop::offer`]): the loop runs, and
    /// nothing waits but at most one request, or only requests handed in since the core was last
    /// drained (one task's burst, submitted before it awaits any: none of them wakes anybody,
    /// and the first poll of one writes them all, [`Loop::burst`]).
    pub(super) fn takes_direct(&self) -> bool {
        !self.stopped && self.driver.only_requests(self.fresh.max(1))
    }

    /// Requests were handed in directly since the core was last drained, and nothing else waits:
    /// a caller that runs the loop now writes them all, and nobody waits on socket events yet.
    pub(super) fn burst(&self) -> bool {
        self.fresh > 0 && self.driver.only_requests(self.fresh)
    }

    /// Something was handed in directly since the core was last drained.
    pub(super) fn undrained(&self) -> bool {
        self.fresh > 0
    }

    /// How many messages were taken in by [`Loop::offer`] since the core was last drained.
    pub(super) fn fresh(&self) -> usize {
        self.fresh
    }

    /// Hands `msg` to the driver, counting it; marks the loop stopped if the driver stopped.
    fn take_in(&mut self, msg: Msg) -> Flow {
        self.taken_in = self.taken_in.wrapping_add(1);
        let flow = self.driver.handle(msg);
        if flow == Flow::Stop {
            self.stopped = true;
        }
        flow
    }

    /// Messages taken in so far, directly or from the inbox (wrapping).
    pub(super) fn taken_in(&self) -> u64 {
        self.taken_in
    }

    /// After the loop stopped: ends what is left in the inbox, stops the driver and closes
    /// every socket (each close bounded by `CLOSE_TIMEOUT`).
    pub(super) async fn finish(mut self) {
        self.inbox.close();
        // Requests that were still in the inbox end with `Closed` as their senders drop.
        while let Ok(msg) = self.inbox.try_recv() {
            if let Msg::Shutdown { done } = msg {
                self.driver.handle(Msg::Shutdown { done });
            }
        }
        self.driver.shutdown();
        let conns: Vec<ConnId> = self.conns.keys().copied().collect();
        for conn in conns {
            self.teardown(conn, true);
        }
        while self.tasks.next().await.is_some() {}
    }

    /// Runs rounds until nothing is ready (or the driver stops: `Ready`, and the loop is marked
    /// [`stopped`](Loop::stopped)). Socket I/O wakes
    /// `io`'s waker (the baton); the inbox and the timer wake `ctl`'s (the loop's task).
    pub(super) fn poll_run(&mut self, io: &mut Context<'_>, ctl: &mut Context<'_>) -> Poll<()> {
        for _ in 0..ROUNDS {
            let mut work = self.fresh > 0;
            for _ in 0..BATCH {
                match self.inbox.poll_next(ctl) {
                    Poll::Ready(Some(msg)) => {
                        work = true;
                        if self.take_in(msg) == Flow::Stop {
                            return Poll::Ready(());
                        }
                    }
                    Poll::Ready(None) => {
                        self.stopped = true;
                        return Poll::Ready(());
                    }
                    Poll::Pending => break,
                }
            }
            for _ in 0..BATCH {
                match self.tasks.poll_next(io) {
                    Poll::Ready(Some(ev)) => {
                        work = true;
                        self.on_event(ev);
                    }
                    Poll::Ready(None) | Poll::Pending => break,
                }
            }
            if self.poll_timer(ctl) {
                work = true;
            }
            if !work {
                return Poll::Pending;
            }
            self.drain();
        }
        // Busy: let the executor run others; the loop's task comes back.
        ctl.waker().wake_by_ref();
        Poll::Pending
    }

    /// Ticks the driver if its deadline has come (a busy loop must not starve the timers), else
    /// makes sure a timer will wake the loop. True if it ticked.
    fn poll_timer(&mut self, cx: &mut Context<'_>) -> bool {
        let Some(at) = self.deadline else {
            return false;
        };
        for _ in 0..4 {
            if StdInstant::now() >= at {
                self.driver.tick();
                return true;
            }
            // A timer set for a later deadline is replaced; one set earlier is kept (re-arming
            // costs, and an early tick is harmless).
            if self.timer.as_ref().is_none_or(|(t, _)| *t > at) {
                let rt = self.rt.clone();
                self.timer = Some((at, Box::pin(async move { rt.sleep_until(at).await })));
            }
            let Some((_, timer)) = self.timer.as_mut() else {
                return false;
            };
            if timer.as_mut().poll(cx).is_pending() {
                return false;
            }
            self.timer = None;
        }
        false
    }

    /// Drains the core, then opens connections, queues transmits, closes, and starts writes.
    fn drain(&mut self) {
        self.fresh = 0;
        let mut io = std::mem::take(&mut self.io);
        self.deadline = self.driver.poll(&mut io);
        for op in io.drain(..) {
            match op {
                Io::Connect {
                    conn,
                    endpoint,
                    tls,
                    timeout,
                } => self.connect(conn, endpoint, tls, timeout),
                Io::Transmit { conn, bytes } => {
                    if let Some(c) = self.conns.get_mut(&conn) {
                        c.out.extend_from_slice(&bytes);
                        if !c.dirty {
                            c.dirty = true;
                            self.dirty.push(conn);
                        }
                    }
                }
                Io::Close { conn } => self.teardown(conn, true),
            }
        }
        self.io = io;
        for conn in std::mem::take(&mut self.dirty) {
            if let Some(c) = self.conns.get_mut(&conn) {
                c.dirty = false;
                if !c.out.is_empty()
                    && let Some(writer) = c.writer.take()
                {
                    self.write(conn, writer);
                }
            }
        }
    }

    fn connect(
        &mut self,
        conn: ConnId,
        endpoint: Endpoint,
        tls: Option<TlsTarget>,
        timeout: Duration,
    ) {
        self.conns.insert(
            conn,
            Conn {
                writer: None,
                out: Vec::new(),
                spare: Vec::new(),
                dirty: false,
            },
        );
        let rt = self.rt.clone();
        let fut = async move {
            let result = rt.connect(&endpoint, tls, timeout).await;
            Done::Connected { conn, result }
        };
        self.push(conn, Kind::Connect, fut);
    }

    /// Starts writing what is queued for `conn` (which has bytes queued).
    fn write(&mut self, conn: ConnId, mut writer: R::Writer) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        let mut buf = std::mem::take(&mut c.spare);
        std::mem::swap(&mut buf, &mut c.out);
        let fut = async move {
            let result = writer.write_all(&buf).await;
            Done::Written {
                conn,
                writer,
                buf,
                result,
            }
        };
        self.push(conn, Kind::Write, fut);
    }

    fn read(&mut self, conn: ConnId, mut reader: R::Reader, mut buf: Vec<u8>) {
        let fut = async move {
            let result = reader.read(&mut buf).await;
            Done::Read {
                conn,
                reader,
                buf,
                result,
            }
        };
        self.push(conn, Kind::Read, fut);
    }

    fn push(
        &mut self,
        conn: ConnId,
        kind: Kind,
        fut: impl Future<Output = Done<R>> + Send + 'static,
    ) {
        self.tasks.push(IoFuture {
            conn,
            kind,
            fut: Box::pin(fut),
        });
    }

    /// Forgets `conn`: drops its pending I/O futures (and with them its halves, unless
    /// `graceful` and no write is in flight: then its socket is closed within `CLOSE_TIMEOUT`).
    fn teardown(&mut self, conn: ConnId, graceful: bool) {
        let Some(c) = self.conns.remove(&conn) else {
            return;
        };
        if self
            .tasks
            .iter()
            .any(|t| t.conn == conn && t.kind != Kind::Close)
        {
            for task in std::mem::take(&mut self.tasks) {
                if task.conn != conn || task.kind == Kind::Close {
                    self.tasks.push(task);
                }
            }
        }
        if graceful && let Some(mut writer) = c.writer {
            let rt = self.rt.clone();
            let fut = async move {
                let closing = async {
                    let _ = writer.close().await;
                };
                closing
                    .or(rt.sleep_until(StdInstant::now() + CLOSE_TIMEOUT))
                    .await;
                Done::Closed
            };
            self.push(conn, Kind::Close, fut);
        }
    }

    fn on_event(&mut self, ev: Done<R>) {
        match ev {
            Done::Connected { conn, result } => match result {
                Ok((reader, writer)) => {
                    let Some(c) = self.conns.get_mut(&conn) else {
                        return;
                    };
                    c.writer = Some(writer);
                    if !c.out.is_empty() && !c.dirty {
                        c.dirty = true;
                        self.dirty.push(conn);
                    }
                    self.read(conn, reader, vec![0u8; READ_BUF]);
                    self.driver.connected(conn);
                }
                Err(e) => {
                    self.conns.remove(&conn);
                    self.driver.connect_failed(conn, &e.to_string());
                }
            },
            Done::Read {
                conn,
                reader,
                buf,
                result,
            } => match result {
                Ok(0) => self.closed(conn, None),
                Ok(n) => {
                    self.driver.received(conn, buf.get(..n).unwrap_or_default());
                    self.read(conn, reader, buf);
                }
                Err(e) => self.closed(conn, Some(e.to_string())),
            },
            Done::Written {
                conn,
                writer,
                mut buf,
                result,
            } => {
                if let Err(e) = result {
                    self.teardown(conn, false);
                    self.driver
                        .closed(conn, Some(&format!("write failed: {e}")));
                    return;
                }
                let Some(c) = self.conns.get_mut(&conn) else {
                    return;
                };
                if buf.capacity() <= KEEP_BUF {
                    buf.clear();
                    c.spare = buf;
                }
                if c.out.is_empty() {
                    c.writer = Some(writer);
                } else {
                    self.write(conn, writer);
                }
            }
            Done::Closed => {}
        }
    }

    /// The peer closed `conn` (or reading failed).
    fn closed(&mut self, conn: ConnId, error: Option<String>) {
        self.teardown(conn, true);
        self.driver.closed(conn, error.as_deref());
    }
}
