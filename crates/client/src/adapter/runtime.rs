//! [`Runtime`]: the little an async adapter provides — spawn, sleep, connect — and the two halves
//! of a connection it returns. Everything else (the driver loop) is written once, in
//! [`start`](crate::adapter::start).

use std::future::Future;
use std::io;
use std::time::{Duration, Instant as StdInstant};

use slotwise_cluster::Endpoint;

use crate::tls::TlsTarget;

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

    /// Runs `f` with this runtime as the current one, for a runtime whose timers and sockets
    /// must be created inside it (tokio): callers run the loop on their own tasks, which may
    /// belong to another executor or to none (`Pending::wait`). The default just calls `f`.
    fn enter<T>(&self, f: impl FnOnce() -> T) -> T {
        f()
    }
}
