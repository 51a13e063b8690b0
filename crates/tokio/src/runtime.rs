//! [`Tokio`]: the [`Runtime`] implementation — spawn, sleep, and TCP (+ TLS) connections.

use std::future::Future;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use slotwise_client::Endpoint;
use slotwise_client::adapter::{ConnRead, ConnWrite, Runtime, TlsTarget};
use tokio::io::{AsyncReadExt, AsyncWriteExt, ReadHalf, WriteHalf};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

/// The tokio runtime the client was started on.
#[derive(Clone, Debug)]
pub(crate) struct Tokio(pub(crate) tokio::runtime::Handle);

/// The read half of a connection.
pub(crate) enum Reader {
    Plain(OwnedReadHalf),
    Tls(ReadHalf<TlsStream<TcpStream>>),
}

/// The write half of a connection.
pub(crate) enum Writer {
    Plain(OwnedWriteHalf),
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
            Writer::Plain(w) => w.shutdown().await,
            Writer::Tls(w) => w.shutdown().await,
        }
    }
}

impl Runtime for Tokio {
    type Reader = Reader;
    type Writer = Writer;

    fn spawn<F: Future<Output = ()> + Send + 'static>(&self, future: F) {
        drop(self.0.spawn(future));
    }

    fn enter<T>(&self, f: impl FnOnce() -> T) -> T {
        let _entered = self.0.enter();
        f()
    }

    fn sleep_until(&self, deadline: Instant) -> impl Future<Output = ()> + Send {
        tokio::time::sleep_until(deadline.into())
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
                None => {
                    let (r, w) = tcp.into_split();
                    (Reader::Plain(r), Writer::Plain(w))
                }
                Some(tls) => {
                    let stream = TlsConnector::from(tls.config)
                        .connect(tls.server_name, tcp)
                        .await?;
                    let (r, w) = tokio::io::split(stream);
                    (Reader::Tls(r), Writer::Tls(w))
                }
            })
        };
        tokio::time::timeout(timeout, connecting)
            .await
            .map_err(|_| {
                let what = if tcp_up.load(Ordering::Relaxed) {
                    "TLS handshake timed out"
                } else {
                    "connect timed out"
                };
                io::Error::new(io::ErrorKind::TimedOut, what)
            })?
    }
}
