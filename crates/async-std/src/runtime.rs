//! [`AsyncIo`]: the [`Runtime`] implementation on async-io/async-net/futures-rustls, with the
//! client's tasks on a small executor of its own.

use std::future::Future;
use std::io;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use async_executor::Executor;
use async_io::Timer;
use async_net::TcpStream;
use futures_lite::io::{AsyncReadExt, AsyncWriteExt, ReadHalf, WriteHalf};
use futures_lite::{FutureExt, future};
use futures_rustls::TlsConnector;
use futures_rustls::client::TlsStream;
use slotwise_client::Endpoint;
use slotwise_client::adapter::{ConnRead, ConnWrite, Runtime, TlsTarget};

/// The executor every client of this process runs its driver and connection tasks on, driven by
/// one thread (`slotwise-async`) that also drives async-io's reactor while it waits; or why that
/// thread could not start.
pub(crate) fn executor() -> Result<&'static Executor<'static>, &'static io::Error> {
    static EXECUTOR: OnceLock<Result<&'static Executor<'static>, io::Error>> = OnceLock::new();
    EXECUTOR
        .get_or_init(|| {
            let ex: &'static Executor<'static> = Box::leak(Box::new(Executor::new()));
            std::thread::Builder::new()
                .name("slotwise-async".into())
                .spawn(move || async_io::block_on(ex.run(future::pending::<()>())))?;
            Ok(ex)
        })
        .as_ref()
        .copied()
}

/// The async-io runtime: the driver loop on the shared executor, or on a thread of its own.
#[derive(Clone, Copy, Debug)]
pub(crate) enum AsyncIo {
    /// On the executor every client of this process shares (`slotwise-async`).
    Shared,
    /// On a thread of its own (`slotwise-driver`), which drives async-io's reactor itself while
    /// the loop waits: no hop through another thread between a socket and the loop.
    OwnThread,
}

/// The read half of a connection.
pub(crate) enum Reader {
    Plain(TcpStream),
    Tls(ReadHalf<TlsStream<TcpStream>>),
}

/// The write half of a connection.
pub(crate) enum Writer {
    Plain(TcpStream),
    Tls(WriteHalf<TlsStream<TcpStream>>),
}

impl ConnRead for Reader {
    async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Reader::Plain(r) => r.read(buf).await,
            Reader::Tls(r) => r.read(buf).await,
        }
    }
}

impl ConnWrite for Writer {
    async fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            Writer::Plain(w) => w.write_all(buf).await,
            Writer::Tls(w) => {
                w.write_all(buf).await?;
                w.flush().await
            }
        }
    }

    async fn close(&mut self) -> io::Result<()> {
        match self {
            Writer::Plain(w) => w.shutdown(std::net::Shutdown::Both),
            Writer::Tls(w) => w.close().await,
        }
    }
}

impl Runtime for AsyncIo {
    type Reader = Reader;
    type Writer = Writer;

    fn spawn<F: Future<Output = ()> + Send + 'static>(&self, future: F) {
        match self {
            // `Client::connect` checked that the executor runs.
            AsyncIo::Shared => {
                if let Ok(ex) = executor() {
                    ex.spawn(future).detach();
                }
            }
            // If the thread cannot start, the future (and with it the driver's inbox) is dropped,
            // so `connect` ends with `Error::Closed`.
            AsyncIo::OwnThread => {
                let _ = std::thread::Builder::new()
                    .name("slotwise-driver".into())
                    .spawn(move || async_io::block_on(future));
            }
        }
    }

    async fn sleep_until(&self, deadline: Instant) {
        Timer::at(deadline).await;
    }

    async fn connect(
        &self,
        endpoint: &Endpoint,
        tls: Option<TlsTarget>,
        timeout: Duration,
    ) -> io::Result<(Reader, Writer)> {
        // Set once TCP is up: a timeout after it is the TLS handshake's (a plain port never
        // answers a ClientHello).
        let tcp_up = AtomicBool::new(false);
        let connecting = async {
            let tcp = TcpStream::connect((endpoint.host.as_str(), endpoint.port)).await?;
            tcp.set_nodelay(true)?;
            tcp_up.store(true, Ordering::Relaxed);
            Ok(match tls {
                None => (Reader::Plain(tcp.clone()), Writer::Plain(tcp)),
                Some(tls) => {
                    let stream = TlsConnector::from(tls.config)
                        .connect(tls.server_name, tcp)
                        .await?;
                    let (r, w) = futures_lite::io::split(stream);
                    (Reader::Tls(r), Writer::Tls(w))
                }
            })
        };
        let timer = async {
            Timer::after(timeout).await;
            let what = if tcp_up.load(Ordering::Relaxed) {
                "TLS handshake timed out"
            } else {
                "connect timed out"
            };
            Err(io::Error::new(io::ErrorKind::TimedOut, what))
        };
        connecting.or(timer).await
    }
}
