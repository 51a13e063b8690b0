//! The core against a real Redis Cluster (`slotwise-test-cluster` starts `redis-server` processes
//! on loopback), driven by a tiny single-threaded `std::net` adapter written here.

use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

use slotwise_cluster::{
    Cluster, Config, ConnId, Endpoint, Event, Frame, Input, Instant, Output, RedirectKind, Request,
    RequestError, RequestId,
};
use slotwise_slot::key_slot;
use slotwise_test_cluster::{Cluster as RealCluster, ClusterOptions};

/// The adapter: one non-blocking socket per connection, a bounded poll loop.
struct Driver {
    core: Cluster,
    socks: HashMap<ConnId, TcpStream>,
    origin: std::time::Instant,
    replies: HashMap<RequestId, Result<Frame, RequestError>>,
    buf: Vec<u8>,
    moved: usize,
    asked: usize,
}

impl Driver {
    fn new(seed: SocketAddr) -> Driver {
        let mut config = Config::new([Endpoint::new(seed.ip().to_string(), seed.port())]);
        config.refresh.interval = Some(Duration::from_secs(5));
        config.request_timeout = Duration::from_secs(20);
        let origin = std::time::Instant::now();
        let core = Cluster::new(config, Instant::ZERO);
        let mut d = Driver {
            core,
            socks: HashMap::new(),
            origin,
            replies: HashMap::new(),
            buf: vec![0; 64 * 1024],
            moved: 0,
            asked: 0,
        };
        d.drain();
        d
    }

    fn now(&self) -> Instant {
        Instant::from_micros(self.origin.elapsed().as_micros() as u64)
    }

    fn submit(&mut self, request: Request) -> RequestId {
        let id = self.core.submit(self.now(), request);
        self.drain();
        id
    }

    fn drain(&mut self) {
        loop {
            match self.core.poll_output() {
                Output::Connect { conn, endpoint, .. } => {
                    let now = self.now();
                    let input = match connect(&endpoint) {
                        Some(s) => {
                            self.socks.insert(conn, s);
                            Input::Connected { conn, now }
                        }
                        None => Input::ConnectFailed { conn, now },
                    };
                    self.core.handle_input(input);
                }
                Output::Transmit { conn, bytes } => {
                    let ok = self
                        .socks
                        .get_mut(&conn)
                        .is_some_and(|s| write_all(s, &bytes));
                    if !ok {
                        self.socks.remove(&conn);
                        let now = self.now();
                        self.core.handle_input(Input::Closed { conn, now });
                    }
                }
                Output::Close { conn } => {
                    self.socks.remove(&conn);
                }
                Output::Reply { id, result } => {
                    assert!(
                        self.replies.insert(id, result).is_none(),
                        "two replies for {id}"
                    );
                }
                Output::Event(Event::Redirected { kind, .. }) => match kind {
                    RedirectKind::Ask => self.asked += 1,
                    _ => self.moved += 1,
                },
                Output::Event(_) => {}
                Output::Timeout(_) | Output::Idle => return,
                other => panic!("unexpected {other:?}"),
            }
        }
    }

    /// Reads what is there, feeds it, fires timers.
    fn step(&mut self) {
        let mut progressed = false;
        let conns: Vec<ConnId> = self.socks.keys().copied().collect();
        for conn in conns {
            let Some(sock) = self.socks.get_mut(&conn) else {
                continue;
            };
            let input = match sock.read(&mut self.buf) {
                Ok(0) => Err(()),
                Ok(n) => Ok(n),
                Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
                Err(_) => Err(()),
            };
            let now = self.now();
            progressed = true;
            match input {
                Ok(n) => {
                    let bytes = self.buf[..n].to_vec();
                    self.core.handle_input(Input::Received {
                        conn,
                        bytes: &bytes,
                        now,
                    });
                }
                Err(()) => {
                    self.socks.remove(&conn);
                    self.core.handle_input(Input::Closed { conn, now });
                }
            }
            self.drain();
        }
        let now = self.now();
        self.core.handle_input(Input::Timeout { now });
        self.drain();
        if !progressed {
            std::thread::sleep(Duration::from_micros(200));
        }
    }

    fn wait(&mut self, ids: &[RequestId], limit: Duration) {
        let start = std::time::Instant::now();
        while ids.iter().any(|id| !self.replies.contains_key(id)) {
            assert!(
                start.elapsed() < limit,
                "requests not answered in {limit:?}"
            );
            self.step();
        }
    }

    fn take(&mut self, id: RequestId) -> Result<Frame, RequestError> {
        self.replies.remove(&id).expect("answered")
    }
}

fn connect(endpoint: &Endpoint) -> Option<TcpStream> {
    let addr = (endpoint.host.as_str(), endpoint.port)
        .to_socket_addrs()
        .ok()?
        .next()?;
    assert!(addr.ip().is_loopback(), "only loopback here: {addr}");
    let s = TcpStream::connect_timeout(&addr, Duration::from_secs(1)).ok()?;
    s.set_nonblocking(true).ok()?;
    s.set_nodelay(true).ok()?;
    Some(s)
}

fn write_all(s: &mut TcpStream, mut bytes: &[u8]) -> bool {
    while !bytes.is_empty() {
        match s.write(bytes) {
            Ok(0) => return false,
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_micros(100))
            }
            Err(_) => return false,
        }
    }
    true
}

fn start() -> RealCluster {
    RealCluster::start(&ClusterOptions {
        primaries: 3,
        replicas: 1,
        ..Default::default()
    })
    .expect("a local redis cluster")
}

/// One key per slot.
fn keys_for_every_slot() -> Vec<String> {
    let mut keys: Vec<Option<String>> = vec![None; 16384];
    let mut missing = 16384;
    let mut i = 0u64;
    while missing > 0 {
        let k = format!("k{i}");
        let slot = usize::from(key_slot(k.as_bytes()).get());
        if keys[slot].is_none() {
            keys[slot] = Some(k);
            missing -= 1;
        }
        i += 1;
    }
    keys.into_iter().flatten().collect()
}

#[test]
fn real_cluster_all_slots_reshard_and_failover() {
    let real = start();
    let mut d = Driver::new(real.seed().unwrap());

    // 1. Every slot: SET then GET, pipelined.
    let keys = keys_for_every_slot();
    let sets: Vec<_> = keys
        .iter()
        .map(|k| d.submit(Request::new(["SET", k.as_str(), k.as_str()])))
        .collect();
    d.wait(&sets, Duration::from_secs(30));
    for id in sets {
        assert_eq!(d.take(id), Ok(Frame::SimpleString("OK".into())));
    }
    let gets: Vec<_> = keys
        .iter()
        .map(|k| d.submit(Request::new(["GET", k.as_str()])))
        .collect();
    d.wait(&gets, Duration::from_secs(30));
    for (k, id) in keys.iter().zip(gets) {
        assert_eq!(
            d.take(id),
            Ok(Frame::BulkString(k.clone().into_bytes().into()))
        );
    }

    // 2. A live reshard while requests flow: INCRs on keys of the moving slots, zero errors.
    let primaries = real.primaries().unwrap();
    let (from, to) = (primaries[0].port, primaries[1].port);
    let moving: Vec<u16> = {
        let last = primaries[0].slots.last().unwrap().clone();
        (last.end() - 19..=*last.end()).collect()
    };
    let hot: Vec<String> = keys
        .iter()
        .filter(|k| moving.contains(&key_slot(k.as_bytes()).get()))
        .cloned()
        .collect();
    assert_eq!(hot.len(), 20);
    let mut counts: HashMap<String, i64> = HashMap::new();
    let mut pending: Vec<(RequestId, String)> = Vec::new();
    std::thread::scope(|scope| {
        let job = scope.spawn(|| real.reshard(from, to, 20));
        let mut round = 0usize;
        while !job.is_finished() {
            for k in &hot {
                let id = d.submit(Request::new(["INCR", format!("{{{k}}}:n").as_str()]));
                pending.push((id, k.clone()));
            }
            let ids: Vec<_> = pending.iter().map(|p| p.0).collect();
            d.wait(&ids, Duration::from_secs(30));
            for (id, k) in pending.drain(..) {
                let r = d.take(id);
                assert!(matches!(r, Ok(Frame::Integer(_))), "INCR {k}: {r:?}");
                *counts.entry(k).or_default() += 1;
            }
            round += 1;
        }
        job.join().unwrap().expect("reshard");
        assert!(round > 0);
    });
    eprintln!("reshard: {} ASK, {} MOVED followed", d.asked, d.moved);
    assert!(d.asked + d.moved > 0, "the reshard was seen");
    for k in &hot {
        let id = d.submit(Request::new(["GET", format!("{{{k}}}:n").as_str()]));
        d.wait(&[id], Duration::from_secs(10));
        let want = counts.get(k).copied().unwrap_or(0).to_string();
        assert_eq!(
            d.take(id),
            Ok(Frame::BulkString(want.into_bytes().into())),
            "count of {k}"
        );
    }

    // 3. A graceful failover under load: zero caller errors.
    let victim = real.primaries().unwrap()[2].port;
    std::thread::scope(|scope| {
        let job = scope.spawn(|| real.failover(victim));
        let mut i = 0u64;
        while !job.is_finished() || i == 0 {
            let batch: Vec<_> = keys
                .iter()
                .skip((i as usize * 97) % keys.len())
                .take(50)
                .map(|k| d.submit(Request::new(["SET", k.as_str(), "after"]).idempotent()))
                .collect();
            d.wait(&batch, Duration::from_secs(30));
            for id in batch {
                let r = d.take(id);
                assert_eq!(r, Ok(Frame::SimpleString("OK".into())));
            }
            i += 1;
        }
        job.join().unwrap().expect("failover");
        eprintln!("failover: {i} batches of 50 SETs during it");
    });
    let gets: Vec<_> = keys
        .iter()
        .step_by(7)
        .map(|k| d.submit(Request::new(["GET", k.as_str()])))
        .collect();
    d.wait(&gets, Duration::from_secs(30));
    for id in gets {
        assert!(matches!(d.take(id), Ok(Frame::BulkString(_))));
    }
}
