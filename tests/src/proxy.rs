//! A TCP proxy in front of one real node that, when armed, replaces the next reply it forwards with
//! bytes that are not RESP — a node that sends garbage on one connection; or, when stalled, stops
//! forwarding anything on the connections open at that moment (a half-open path: the node is
//! fine, and new connections work); or, when trickling, passes the replies on those connections
//! one byte at a time (a slow path, or a reply cut short).
//!
//! The node is made to announce the proxy's port (`CONFIG SET cluster-announce-port`), so the
//! cluster's own topology sends clients through the proxy. Loopback only; every thread stops when
//! the proxy is dropped.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// What the client receives instead of a reply: a type byte RESP does not have.
pub const GARBAGE: &[u8] = b"\x00\x01\x02 this is not RESP\r\n";

#[derive(Default)]
struct Shared {
    stop: AtomicBool,
    armed: AtomicBool,
    connections: AtomicUsize,
    /// Connections accepted before this count (by accept order) forward nothing more.
    stalled_below: AtomicUsize,
    /// Connections accepted before this count pass replies on one byte per `trickle_us`.
    trickle_below: AtomicUsize,
    trickle_us: AtomicU64,
    garbage_sent: AtomicUsize,
    /// Microseconds from sending garbage until the client closed that connection (0: not yet).
    closed_after_us: AtomicU64,
}

/// The proxy; dropping it stops it.
pub struct CorruptingProxy {
    port: u16,
    shared: Arc<Shared>,
}

impl CorruptingProxy {
    /// Listens on a free loopback port and forwards every connection to `target`.
    pub fn start(target: SocketAddr) -> std::io::Result<CorruptingProxy> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let port = listener.local_addr()?.port();
        let shared = Arc::new(Shared::default());
        let s = Arc::clone(&shared);
        std::thread::spawn(move || accept_loop(&listener, target, &s));
        Ok(CorruptingProxy { port, shared })
    }

    /// The port clients connect to.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Replaces the next reply chunk (on whichever connection it comes) with [`GARBAGE`]; that
    /// connection then forwards nothing more to its client.
    pub fn arm(&self) {
        self.shared.armed.store(true, Ordering::SeqCst);
    }

    /// Stops forwarding, both ways, on every connection open now (they stay open, silent, until
    /// the client closes them); connections accepted later forward as usual.
    pub fn stall_open_connections(&self) {
        let open = self.shared.connections.load(Ordering::SeqCst);
        self.shared.stalled_below.store(open, Ordering::SeqCst);
    }

    /// From now on, the connections open now pass what the node sends one byte every `delay`
    /// (until the client closes them); connections accepted later forward as usual.
    pub fn trickle_open_connections(&self, delay: Duration) {
        let open = self.shared.connections.load(Ordering::SeqCst);
        let us = u64::try_from(delay.as_micros()).unwrap_or(u64::MAX).max(1);
        self.shared.trickle_us.store(us, Ordering::SeqCst);
        self.shared.trickle_below.store(open, Ordering::SeqCst);
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// Times garbage was sent.
    pub fn garbage_sent(&self) -> usize {
        self.shared.garbage_sent.load(Ordering::SeqCst)
    }

    /// How long the client took to close the connection that got garbage (`None`: not yet).
    pub fn closed_after(&self) -> Option<Duration> {
        match self.shared.closed_after_us.load(Ordering::SeqCst) {
            0 => None,
            us => Some(Duration::from_micros(us)),
        }
    }
}

impl Drop for CorruptingProxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
    }
}

fn accept_loop(listener: &TcpListener, target: SocketAddr, shared: &Arc<Shared>) {
    while !shared.stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((client, _)) => {
                let index = shared.connections.fetch_add(1, Ordering::SeqCst);
                let Ok(server) = TcpStream::connect(target) else {
                    continue;
                };
                let shared = Arc::clone(shared);
                std::thread::spawn(move || serve(client, server, index, &shared));
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(_) => return,
        }
    }
}

/// One proxied connection: client → server in this thread, server → client in another.
fn serve(client: TcpStream, server: TcpStream, index: usize, shared: &Arc<Shared>) {
    let stalled = move |shared: &Shared| index < shared.stalled_below.load(Ordering::SeqCst);
    let tick = Some(Duration::from_millis(50));
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let _ = client.set_read_timeout(tick);
    let _ = server.set_read_timeout(tick);
    let (Ok(mut c_read), Ok(mut s_read)) = (client.try_clone(), server.try_clone()) else {
        return;
    };
    let (mut c_write, mut s_write) = (client, server);
    let poisoned_at: Arc<std::sync::Mutex<Option<Instant>>> = Arc::default();
    let downstream = {
        let shared = Arc::clone(shared);
        let poisoned_at = Arc::clone(&poisoned_at);
        std::thread::spawn(move || {
            let mut buf = [0u8; 16 * 1024];
            loop {
                if shared.stop.load(Ordering::SeqCst) {
                    break;
                }
                match s_read.read(&mut buf) {
                    Ok(0) => break,
                    Ok(_) if stalled(&shared) => {}
                    Ok(n) => {
                        if shared.armed.swap(false, Ordering::SeqCst) {
                            // Marked before sending: the client may close at once.
                            *poisoned_at.lock().unwrap_or_else(|e| e.into_inner()) =
                                Some(Instant::now());
                            shared.garbage_sent.fetch_add(1, Ordering::SeqCst);
                            let _ = c_write.write_all(GARBAGE);
                            // Stay silent from now on: the client must close this connection.
                            continue;
                        }
                        if poisoned_at
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .is_some()
                        {
                            continue;
                        }
                        if index < shared.trickle_below.load(Ordering::SeqCst) {
                            let delay =
                                Duration::from_micros(shared.trickle_us.load(Ordering::SeqCst));
                            let sent = buf[..n].iter().all(|b| {
                                std::thread::sleep(delay);
                                !shared.stop.load(Ordering::SeqCst)
                                    && c_write.write_all(core::slice::from_ref(b)).is_ok()
                            });
                            if !sent {
                                break;
                            }
                            continue;
                        }
                        if c_write.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                    Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                    Err(_) => break,
                }
            }
            let _ = c_write.shutdown(Shutdown::Both);
        })
    };
    let mut buf = [0u8; 16 * 1024];
    let mut client_closed = false;
    loop {
        if shared.stop.load(Ordering::SeqCst) {
            break;
        }
        match c_read.read(&mut buf) {
            Ok(0) => {
                client_closed = true;
                break;
            }
            Ok(_) if stalled(shared) => {}
            Ok(n) => {
                if s_write.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => {
                client_closed = true;
                break;
            }
        }
    }
    if client_closed && let Some(t) = *poisoned_at.lock().unwrap_or_else(|e| e.into_inner()) {
        let us = (t.elapsed().as_micros() as u64).max(1);
        shared.closed_after_us.store(us, Ordering::SeqCst);
    }
    let _ = s_write.shutdown(Shutdown::Both);
    let _ = downstream.join();
}
