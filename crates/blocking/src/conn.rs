//! One connection as threads: this one connects (TCP, then TLS) and reads; a second writes. Plain
//! TCP splits with `try_clone`; TLS shares one rustls `ClientConnection` behind a mutex that is
//! never held across a blocking read, so reads and writes run at the same time.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream, ToSocketAddrs};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use futures_lite::StreamExt;
use futures_lite::future::block_on;
use rustls::ClientConnection;
use slotwise_client::bytes::Bytes;
use slotwise_client::{ConnectJob, Endpoint, Msg, TlsTarget};

/// Starts the threads for `job`.
pub(crate) fn spawn(job: ConnectJob) {
    let conn = job.conn;
    let inbox = job.inbox.clone();
    let started = thread::Builder::new()
        .name(format!("slotwise-{conn}"))
        .spawn(move || run(job));
    if let Err(e) = started {
        let _ = inbox.unbounded_send(Msg::ConnectFailed {
            conn,
            error: format!("could not start a thread: {e}"),
        });
    }
}

/// The TLS state both threads use.
type Shared = Arc<Mutex<ClientConnection>>;

fn lock(tls: &Shared) -> MutexGuard<'_, ClientConnection> {
    tls.lock().unwrap_or_else(|e| e.into_inner())
}

fn run(job: ConnectJob) {
    let ConnectJob {
        conn,
        endpoint,
        tls,
        timeout,
        mut outgoing,
        inbox,
        ..
    } = job;
    let established = connect(&endpoint, timeout).and_then(|tcp| {
        let tls = tls.map(|t| handshake(&tcp, t, timeout)).transpose()?;
        let writer = tcp.try_clone()?;
        Ok((tcp, writer, tls))
    });
    let (mut reader, mut writer, tls) = match established {
        Ok(c) => c,
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

    let write_tls = tls.clone();
    let write_inbox = inbox.clone();
    let write = move || {
        while let Some(first) = block_on(outgoing.next()) {
            let mut chunks = vec![first];
            while let Ok(more) = outgoing.try_recv() {
                chunks.push(more);
            }
            if let Err(e) = write_all(&mut writer, write_tls.as_ref(), &chunks) {
                let _ = write_inbox.unbounded_send(Msg::Closed {
                    conn,
                    error: Some(format!("write failed: {e}")),
                });
                break;
            }
        }
        // The core closed the connection (or a write failed): close it, which also ends the read.
        if let Some(tls) = &write_tls {
            let mut c = lock(tls);
            c.send_close_notify();
            let _ = c.write_tls(&mut writer);
        }
        let _ = writer.shutdown(Shutdown::Both);
    };
    if let Err(e) = thread::Builder::new()
        .name(format!("slotwise-{conn}-w"))
        .spawn(write)
    {
        let _ = inbox.unbounded_send(Msg::Closed {
            conn,
            error: Some(format!("could not start a thread: {e}")),
        });
        return;
    }

    let mut raw = vec![0u8; 64 * 1024];
    let error = loop {
        let n = match reader.read(&mut raw) {
            Ok(0) => break None,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => break Some(e.to_string()),
        };
        let input = raw.get(..n).unwrap_or_default();
        let (bytes, closed) = match &tls {
            None => (Bytes::copy_from_slice(input), false),
            Some(tls) => match decrypt(tls, &mut reader, input) {
                Ok((plain, closed)) => (Bytes::from(plain), closed),
                Err(e) => break Some(e.to_string()),
            },
        };
        if !bytes.is_empty() && inbox.unbounded_send(Msg::Received { conn, bytes }).is_err() {
            return;
        }
        if closed {
            break None;
        }
    };
    let _ = inbox.unbounded_send(Msg::Closed { conn, error });
}

/// Resolves `endpoint` and connects to its addresses in turn, within `timeout` overall.
fn connect(endpoint: &Endpoint, timeout: Duration) -> io::Result<TcpStream> {
    let deadline = Instant::now() + timeout;
    let mut last = None;
    for addr in (endpoint.host.as_str(), endpoint.port).to_socket_addrs()? {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        match TcpStream::connect_timeout(&addr, left) {
            Ok(tcp) => {
                tcp.set_nodelay(true)?;
                return Ok(tcp);
            }
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| {
        io::Error::new(
            io::ErrorKind::TimedOut,
            format!("could not connect to {endpoint}"),
        )
    }))
}

/// The TLS handshake, within `timeout`.
fn handshake(tcp: &TcpStream, target: TlsTarget, timeout: Duration) -> io::Result<Shared> {
    let mut c =
        ClientConnection::new(target.config, target.server_name).map_err(io::Error::other)?;
    tcp.set_read_timeout(Some(timeout))?;
    tcp.set_write_timeout(Some(timeout))?;
    let mut stream = tcp;
    while c.is_handshaking() {
        c.complete_io(&mut stream)?;
    }
    tcp.set_read_timeout(None)?;
    tcp.set_write_timeout(None)?;
    Ok(Arc::new(Mutex::new(c)))
}

/// Feeds TLS records to rustls and takes out the plaintext, and whether the peer closed the
/// session (`close_notify`).
fn decrypt(tls: &Shared, tcp: &mut TcpStream, mut input: &[u8]) -> io::Result<(Vec<u8>, bool)> {
    let mut c = lock(tls);
    let mut plain = Vec::new();
    let mut closed = false;
    while !input.is_empty() && !closed {
        c.read_tls(&mut input)?;
        c.process_new_packets().map_err(io::Error::other)?;
        // `read_to_end` keeps what it read before `WouldBlock` (no more plaintext for now).
        match c.reader().read_to_end(&mut plain) {
            Ok(_) => closed = true,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
    }
    // rustls may have something to say back (alerts, key updates).
    while c.wants_write() {
        c.write_tls(tcp)?;
    }
    Ok((plain, closed))
}

fn write_all(tcp: &mut TcpStream, tls: Option<&Shared>, chunks: &[Bytes]) -> io::Result<()> {
    match tls {
        None => {
            for chunk in chunks {
                tcp.write_all(chunk)?;
            }
        }
        Some(tls) => {
            let mut c = lock(tls);
            for chunk in chunks {
                // rustls buffers a limited amount of plaintext: write, flush records, repeat.
                let mut rest: &[u8] = chunk;
                while !rest.is_empty() {
                    let n = c.writer().write(rest)?;
                    rest = rest.get(n..).unwrap_or_default();
                    if n == 0 && !c.wants_write() {
                        return Err(io::ErrorKind::WriteZero.into());
                    }
                    while c.wants_write() {
                        c.write_tls(tcp)?;
                    }
                }
            }
        }
    }
    Ok(())
}
