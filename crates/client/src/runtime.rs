//! [`Runtime`]: the little an async adapter provides (spawn, sleep, connect), and the driver loop
//! and connection tasks written once on top of it.

use std::future::Future;
use std::io;
use std::time::{Duration, Instant as StdInstant};

use bytes::Bytes;
use futures_channel::{mpsc, oneshot};
use futures_lite::{FutureExt, StreamExt};
use slotwise_cluster::{ConnId, Endpoint};

use crate::driver::{ConnectJob, Driver, Flow, Inbox, Msg};
use crate::tls::TlsTarget;
use crate::{ClientConfig, Error, Handle};

/// The read half of a connection (plain or TLS).
pub trait ConnRead: Send + 'static {
    /// Reads some bytes (0: end of stream). Must be cancel-safe: dropping the future loses nothing.
    fn read(&mut self, buf: &mut [u8]) -> impl Future<Output = io::Result<usize>> + Send;
}

/// The write half of a connection (plain or TLS).
pub trait ConnWrite: Send + 'static {
    /// Writes all of `buf` and flushes (TLS records included).
    fn write_all(&mut self, buf: &[u8]) -> impl Future<Output = io::Result<()>> + Send;
    /// Closes the write side (TLS `close_notify`, then TCP shutdown).
    fn close(&mut self) -> impl Future<Output = io::Result<()>> + Send;
}

/// What an async adapter implements: everything else (the driver loop, the connection tasks) is
/// written once here.
pub trait Runtime: Clone + Send + Sync + 'static {
    /// The read half of a connection.
    type Reader: ConnRead;
    /// The write half of a connection.
    type Writer: ConnWrite;

    /// Runs `future` in the background.
    fn spawn<F: Future<Output = ()> + Send + 'static>(&self, future: F);

    /// Completes at `deadline`.
    fn sleep_until(&self, deadline: StdInstant) -> impl Future<Output = ()> + Send;

    /// Connects to `endpoint` (resolving its host, trying each address) and does the TLS handshake
    /// with `tls` if set, all within `timeout`; returns the two halves.
    fn connect(
        &self,
        endpoint: &Endpoint,
        tls: Option<TlsTarget>,
        timeout: Duration,
    ) -> impl Future<Output = io::Result<(Self::Reader, Self::Writer)>> + Send;
}

/// How many inbox messages the loop takes in before it drains the core: replies and transmits from
/// one batch leave together (one write per node).
const BATCH: usize = 256;

/// Starts a client on `rt`: spawns its driver, waits until the first topology is known (or
/// discovery fails), and returns the handle.
pub async fn start<R: Runtime>(rt: R, config: &ClientConfig) -> Result<Handle, Error> {
    let (tx, rx) = mpsc::unbounded();
    let (driver, ready) = Driver::new(config, tx.clone())?;
    let handle = Handle::new(tx);
    rt.spawn(run(rt.clone(), driver, rx));
    match ready.await {
        Ok(Ok(())) => Ok(handle),
        Ok(Err(e)) => Err(e),
        Err(oneshot::Canceled) => Err(Error::Closed),
    }
    // On error `handle` drops here, and that stops the driver.
}

enum Wake {
    Msg(Option<Msg>),
    Tick,
}

/// The driver loop: wait for a message or the deadline, feed it, drain, open connections.
async fn run<R: Runtime>(rt: R, mut driver: Driver, mut inbox: mpsc::UnboundedReceiver<Msg>) {
    let mut jobs = Vec::new();
    let mut deadline = driver.poll(&mut jobs);
    let mut timer: Option<(StdInstant, std::pin::Pin<Box<_>>)> = None;
    'outer: loop {
        for job in jobs.drain(..) {
            rt.spawn(connection(rt.clone(), job));
        }
        let wake = match deadline {
            None => Wake::Msg(inbox.next().await),
            Some(at) => {
                // Keep the timer while the deadline stays the same: re-arming costs.
                if timer.as_ref().is_none_or(|(t, _)| *t != at) {
                    timer = Some((at, Box::pin(rt.sleep_until(at))));
                }
                let sleep = async {
                    if let Some((_, t)) = timer.as_mut() {
                        t.as_mut().await;
                    }
                    Wake::Tick
                };
                async { Wake::Msg(inbox.next().await) }.or(sleep).await
            }
        };
        match wake {
            Wake::Msg(None) => break,
            Wake::Msg(Some(msg)) => {
                if driver.handle(msg) == Flow::Stop {
                    break;
                }
                for _ in 1..BATCH {
                    match inbox.try_recv() {
                        Ok(msg) => {
                            if driver.handle(msg) == Flow::Stop {
                                break 'outer;
                            }
                        }
                        _ => break,
                    }
                }
                // A busy inbox must not starve the timers.
                if deadline.is_some_and(|at| StdInstant::now() >= at) {
                    driver.tick();
                }
            }
            Wake::Tick => {
                timer = None;
                driver.tick();
            }
        }
        deadline = driver.poll(&mut jobs);
    }
    inbox.close();
    // Requests that were still in the inbox end with `Closed` as their senders drop.
    while let Ok(msg) = inbox.try_recv() {
        if let Msg::Shutdown { done } = msg {
            driver.handle(Msg::Shutdown { done });
        }
    }
    driver.shutdown();
}

/// One connection: connect, then a writer task and this reader until either ends.
async fn connection<R: Runtime>(rt: R, job: ConnectJob) {
    let ConnectJob {
        conn,
        endpoint,
        tls,
        timeout,
        outgoing,
        inbox,
        ..
    } = job;
    let (reader, writer) = match rt.connect(&endpoint, tls, timeout).await {
        Ok(halves) => halves,
        Err(e) => {
            let _ = inbox.unbounded_send(Msg::ConnectFailed {
                conn,
                error: e.to_string(),
            });
            return;
        }
    };
    if inbox.unbounded_send(Msg::Connected { conn }).is_err() {
        return;
    }
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    rt.spawn(write_loop(
        rt.clone(),
        writer,
        outgoing,
        stop_tx,
        inbox.clone(),
        conn,
    ));
    read_loop(reader, stop_rx, inbox, conn).await;
}

/// Writes what the driver sends, coalescing whatever is queued into one write; when the driver
/// closes the channel (or a write fails), closes the socket and stops the reader.
async fn write_loop<R: Runtime, W: ConnWrite>(
    rt: R,
    mut writer: W,
    mut outgoing: mpsc::UnboundedReceiver<Bytes>,
    stop: oneshot::Sender<()>,
    inbox: Inbox,
    conn: ConnId,
) {
    let mut buf: Vec<u8> = Vec::new();
    while let Some(first) = outgoing.next().await {
        let result = match outgoing.try_recv() {
            Ok(second) => {
                buf.clear();
                buf.extend_from_slice(&first);
                buf.extend_from_slice(&second);
                while let Ok(more) = outgoing.try_recv() {
                    buf.extend_from_slice(&more);
                    if buf.len() > 1 << 20 {
                        break;
                    }
                }
                writer.write_all(&buf).await
            }
            _ => writer.write_all(&first).await,
        };
        if let Err(e) = result {
            let _ = inbox.unbounded_send(Msg::Closed {
                conn,
                error: Some(format!("write failed: {e}")),
            });
            break;
        }
    }
    // A peer that stopped reading must not hold the task forever.
    let closing = async {
        let _ = writer.close().await;
    };
    closing
        .or(rt.sleep_until(StdInstant::now() + Duration::from_secs(1)))
        .await;
    drop(stop);
}

/// Hands what arrives to the driver until end of stream, an error, or the writer says stop.
async fn read_loop<Rd: ConnRead>(
    mut reader: Rd,
    stop: oneshot::Receiver<()>,
    inbox: Inbox,
    conn: ConnId,
) {
    let reading = async {
        let mut buf = vec![0u8; 64 * 1024];
        let error = loop {
            match reader.read(&mut buf).await {
                Ok(0) => break None,
                Ok(n) => {
                    let bytes = Bytes::copy_from_slice(buf.get(..n).unwrap_or_default());
                    if inbox.unbounded_send(Msg::Received { conn, bytes }).is_err() {
                        return;
                    }
                }
                Err(e) => break Some(e.to_string()),
            }
        };
        let _ = inbox.unbounded_send(Msg::Closed { conn, error });
    };
    let stopped = async {
        let _ = stop.await;
    };
    reading.or(stopped).await;
}
