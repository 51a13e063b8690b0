//! A whole adapter for the sans-IO core on `std::net` alone: no async runtime, no mio, one thread.
//!
//! `cargo run -p slotwise-cluster --example std_adapter -- 127.0.0.1:7000`
//!
//! Via one seed it SETs 100 keys spread over all slots, GETs them back, prints a summary, exits 0
//! only if every value read is the one written. The adapter owns sockets and clock; the core does
//! the rest (topology, routing, redirects, retries, deadlines). See docs/WRITING_AN_ADAPTER.md.

use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use slotwise_cluster::{Cluster, Config, ConnId, Endpoint, Frame, Input, Instant, Output};
use slotwise_cluster::{Request, RequestError, RequestId};
use slotwise_slot::key_slot;

const GIVE_UP: Duration = Duration::from_secs(30); // the run's bound: every wait below ends by it

/// One connection: a non-blocking socket, and the bytes the kernel has not taken yet.
struct Conn {
    sock: TcpStream,
    /// Unsent bytes, in order. The core matches replies to requests by their order on the wire, so
    /// bytes are never dropped or reordered: a partial write leaves the rest here until next turn.
    unsent: Vec<u8>,
}

impl Conn {
    /// Queues `bytes` after those still waiting, writes what the socket takes now. False if broken.
    fn send(&mut self, bytes: &[u8]) -> bool {
        self.unsent.extend_from_slice(bytes);
        while !self.unsent.is_empty() {
            match self.sock.write(&self.unsent) {
                Ok(0) => return false,
                Ok(n) => drop(self.unsent.drain(..n)), // ends: every pass sends or returns
                Err(e) => return e.kind() == ErrorKind::WouldBlock, // buffer full: next turn
            }
        }
        true
    }
}

struct Adapter {
    core: Cluster,
    /// `Instant`s are microseconds since this moment, read from a monotonic clock: never back.
    origin: std::time::Instant,
    conns: HashMap<ConnId, Conn>,
    replies: HashMap<RequestId, Result<Frame, RequestError>>,
    /// When the core wants `Input::Timeout` (from the last `Output::Timeout`; `None` after `Idle`).
    wake: Option<Instant>,
}

impl Adapter {
    fn now(&self) -> Instant {
        Instant::from_micros(u64::try_from(self.origin.elapsed().as_micros()).unwrap_or(u64::MAX))
    }

    /// Performs the core's actions, in order, until it has nothing more to do now. Called after
    /// every `submit` and `handle_input`: the core acts only through what `poll_output` returns.
    fn drain(&mut self) {
        for _ in 0..1_000_000 {
            match self.core.poll_output() {
                Output::Connect { conn, endpoint, .. } => {
                    // Blocking (≤ 1 s) keeps this short; a real adapter connects in the background
                    // (and with TLS verifies `tls_server_name`). Reporting inside a drain is fine:
                    // what it causes is queued, and the next `poll_output` below returns it.
                    let opened = connect(&endpoint).map(|c| self.conns.insert(conn, c));
                    let now = self.now();
                    self.core.handle_input(match opened {
                        Some(_) => Input::Connected { conn, now },
                        None => Input::ConnectFailed { conn, now },
                    });
                }
                Output::Transmit { conn, bytes } => {
                    let sent = self.conns.get_mut(&conn).is_none_or(|c| c.send(&bytes));
                    if !sent {
                        self.lost(conn); // a write error: the connection is gone
                    }
                }
                // Dropping the socket closes it. The core forgot the id: report nothing more on it.
                Output::Close { conn } => drop(self.conns.remove(&conn)),
                Output::Reply { id, result } => drop(self.replies.insert(id, result)),
                Output::Timeout(at) => return self.wake = Some(at),
                Output::Idle => return self.wake = None,
                // `Event`s are informational (log or count them); `Output` is non_exhaustive.
                _ => {}
            }
        }
        eprintln!("std_adapter: a drain did not end after 1,000,000 outputs");
    }

    /// A connection broke: forget it and tell the core (it retries or fails what was on it).
    fn lost(&mut self, conn: ConnId) {
        self.conns.remove(&conn);
        let now = self.now();
        self.core.handle_input(Input::Closed { conn, now });
    }

    /// One turn of the event loop: flush and read every socket, then fire the timer when due.
    /// A real adapter would block in poll(2) here; sleeping 1 ms when idle will do for an example.
    fn turn(&mut self, buf: &mut [u8]) {
        let mut busy = false;
        let ids: Vec<ConnId> = self.conns.keys().copied().collect();
        for conn in ids {
            let Some(c) = self.conns.get_mut(&conn) else {
                continue; // a drain earlier in this turn closed it
            };
            // Flush what earlier writes left, then read: `None` if the flush found it broken.
            match c.send(&[]).then(|| c.sock.read(buf)) {
                Some(Err(e)) if e.kind() == ErrorKind::WouldBlock => continue, // nothing to read
                Some(Ok(n)) if n > 0 => {
                    let now = self.now();
                    let bytes = &buf[..n]; // any split is fine: the core reassembles frames
                    self.core.handle_input(Input::Received { conn, bytes, now });
                }
                _ => self.lost(conn), // EOF (the peer closed it), or a write or read error
            }
            busy = true;
            self.drain();
        }
        if self.wake.is_some_and(|at| self.now() >= at) {
            self.core.handle_input(Input::Timeout { now: self.now() });
            self.drain();
        } else if !busy {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

/// Opens a TCP connection (at most 1 s), then makes it non-blocking for the event loop.
fn connect(endpoint: &Endpoint) -> Option<Conn> {
    let host = (endpoint.host.as_str(), endpoint.port);
    let addr = host.to_socket_addrs().ok()?.next()?;
    let sock = TcpStream::connect_timeout(&addr, Duration::from_secs(1)).ok()?;
    sock.set_nodelay(true).ok()?;
    sock.set_nonblocking(true).ok()?;
    let unsent = Vec::new();
    Some(Conn { sock, unsent })
}

/// Says why the run failed, and exits with status 1.
fn fail(why: impl std::fmt::Display) -> ! {
    eprintln!("std_adapter: FAILED: {why}");
    std::process::exit(1)
}

fn main() {
    let seed = std::env::args().nth(1).unwrap_or_default();
    let Some((host, Ok(port))) = seed.rsplit_once(':').map(|(h, p)| (h, p.parse::<u16>())) else {
        fail("usage: std_adapter HOST:PORT (any node of the cluster)")
    };
    let origin = std::time::Instant::now(); // `Instant::ZERO` for the core
    let mut a = Adapter {
        core: Cluster::new(Config::new([Endpoint::new(host, port)]), Instant::ZERO),
        origin,
        conns: HashMap::new(),
        replies: HashMap::new(),
        wake: None,
    };
    a.drain(); // `Cluster::new` has started discovery: connect to the seed
    // 100 keys spread over all 16384 slots: the first `std_adapter:N` in each hundredth of them.
    let mut keys = vec![None; 100];
    for key in (0..20_000).map(|n| format!("std_adapter:{n}")) {
        keys[usize::from(key_slot(key.as_bytes()).get()) * 100 / 16384].get_or_insert(key);
    }
    let keys: Vec<String> = keys.into_iter().flatten().collect();
    // A value unique to this run, so that one left by an earlier run cannot pass the check.
    let run_id = format!("{}-{}", std::process::id(), origin.elapsed().as_nanos());
    let value = |key: &str| format!("{key}={run_id}");
    let (mut buf, ok) = (vec![0; 64 * 1024], Frame::SimpleString("OK".into()));
    // Two pipelined rounds, each request with the reply it must get: 100 SETs, then 100 GETs.
    for set in [true, false] {
        let mut sent = Vec::new();
        for k in &keys {
            let (request, want) = match set {
                true => (Request::new(["SET", k, &value(k)]), ok.clone()),
                false => (Request::new(["GET", k]), Frame::BulkString(value(k).into())),
            };
            sent.push((k, a.core.submit(a.now(), request), want));
            a.drain(); // the request is only queued in the core until its outputs are drained
        }
        // Each request ends by its deadline (10 s by default); after 30 s, missing ones fail below.
        while origin.elapsed() < GIVE_UP && sent.iter().any(|s| !a.replies.contains_key(&s.1)) {
            a.turn(&mut buf);
        }
        for (key, id, want) in sent {
            match a.replies.remove(&id) {
                Some(Ok(got)) if got == want => {}
                other => fail(format_args!("{key}: wanted {want:?}, got {other:?}")),
            }
        }
    }
    let slots = keys.iter().map(|k| key_slot(k.as_bytes()).get());
    let (low, high) = (slots.clone().min().unwrap_or(0), slots.max().unwrap_or(0));
    let (n, nodes, elapsed) = (keys.len(), a.core.known_nodes().count(), origin.elapsed());
    println!(
        "std_adapter: wrote {n} keys and read them back, all equal; slots {low}..={high} \
         (one key in each hundredth); {nodes} nodes known; {elapsed:.1?}"
    );
}
