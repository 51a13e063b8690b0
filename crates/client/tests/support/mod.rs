//! An in-memory [`Runtime`] for the glue's deterministic tests: connections are pipes to a
//! [`Model`] of a cluster (the one the core's simulation uses), so the real driver loop runs with
//! no sockets and no servers. Tests see every connect, write and close, and can refuse, stall or
//! hold connections.

#![allow(dead_code, unreachable_pub)]

use std::collections::{HashSet, VecDeque};
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use slotwise_client::adapter::{ConnRead, ConnWrite, Runtime, TlsTarget};
use slotwise_client::{ClientConfig, Endpoint, Error, Handle};
use slotwise_test_cluster::model::{Model, ModelConn};

/// What the tests look at and steer.
pub struct World {
    /// The cluster behind the pipes.
    pub model: Model,
    /// Ports that refuse connections.
    pub refuse: HashSet<u16>,
    /// Ports whose connections take bytes and never answer.
    pub stall: HashSet<u16>,
    /// While set, writes wait (as on a socket whose peer does not read).
    pub hold_writes: bool,
    /// Every connection opened, in order.
    pub conns: Vec<Pipe>,
    held: Vec<Waker>,
    /// While set, spawned tasks are not polled (as on a runtime that has not scheduled them yet).
    paused: bool,
    /// Spawned tasks in the middle of a poll.
    polling: usize,
    /// Spawned tasks that came to poll while paused.
    parked: Vec<Waker>,
}

/// One connection, as the test sees it.
pub struct Pipe {
    /// The port it went to.
    pub port: u16,
    /// The size of each write the client made on it.
    pub writes: Vec<usize>,
    /// The client closed its write half or dropped both halves.
    pub closed: bool,
    /// The server side closed it.
    pub eof: bool,
    to_client: VecDeque<u8>,
    reader: Option<Waker>,
    model: ModelConn,
    halves: u8,
}

/// The runtime: a thread per spawned task, async-io timers, pipes for connections.
#[derive(Clone)]
pub struct Memory(pub Arc<Mutex<World>>);

impl Memory {
    /// A world of `shards` primaries (ports 7000…), all answering.
    pub fn new(shards: usize) -> Memory {
        Memory(Arc::new(Mutex::new(World {
            model: Model::new(shards, false, 7000),
            refuse: HashSet::new(),
            stall: HashSet::new(),
            hold_writes: false,
            conns: Vec::new(),
            held: Vec::new(),
            paused: false,
            polling: 0,
            parked: Vec::new(),
        })))
    }

    /// The world, locked.
    pub fn world(&self) -> MutexGuard<'_, World> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Writes waiting because of `hold_writes`.
    pub fn writes_held(&self) -> usize {
        self.world().held.len()
    }

    /// Lets held writes go.
    pub fn release_writes(&self) {
        let mut w = self.world();
        w.hold_writes = false;
        for waker in w.held.drain(..) {
            waker.wake();
        }
    }

    /// Stops polling spawned tasks (the driver loop's among them) and waits until none is in the
    /// middle of a poll: until [`Memory::resume_tasks`], the runtime schedules nothing.
    pub fn pause_tasks(&self) {
        self.world().paused = true;
        eventually("spawned tasks to finish their polls", || {
            self.world().polling == 0
        });
    }

    /// Polls spawned tasks again, first those that came while paused.
    pub fn resume_tasks(&self) {
        let mut w = self.world();
        w.paused = false;
        for waker in w.parked.drain(..) {
            waker.wake();
        }
    }

    /// Closes every open connection to `port` from the server side.
    pub fn close_from_server(&self, port: u16) {
        let mut w = self.world();
        for p in w.conns.iter_mut().filter(|p| p.port == port && !p.closed) {
            p.eof = true;
            if let Some(r) = p.reader.take() {
                r.wake();
            }
        }
    }

    /// Connections opened to `port` so far.
    pub fn connects_to(&self, port: u16) -> usize {
        self.world().conns.iter().filter(|p| p.port == port).count()
    }

    /// A client on this runtime.
    pub fn client(&self, config: ClientConfig) -> Result<Handle, Error> {
        futures_lite::future::block_on(slotwise_client::adapter::start(self.clone(), &config))
    }
}

/// A client config for the model's cluster, with short timers.
pub fn config() -> ClientConfig {
    ClientConfig::new(["127.0.0.1:7000"])
        .expect("seed")
        .connect_wait(Duration::from_secs(5))
        .request_timeout(Duration::from_secs(5))
}

/// Waits (bounded) until `done` holds.
pub fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let until = Instant::now() + Duration::from_secs(5);
    while !done() {
        assert!(Instant::now() < until, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// A connection's read half.
pub struct Reader {
    world: Arc<Mutex<World>>,
    id: usize,
}

/// A connection's write half.
pub struct Writer {
    world: Arc<Mutex<World>>,
    id: usize,
}

fn lock(world: &Mutex<World>) -> MutexGuard<'_, World> {
    world.lock().unwrap_or_else(|e| e.into_inner())
}

impl ConnRead for Reader {
    fn read(&mut self, buf: &mut [u8]) -> impl Future<Output = io::Result<usize>> + Send {
        std::future::poll_fn(move |cx| {
            let mut w = lock(&self.world);
            let p = &mut w.conns[self.id];
            if !p.to_client.is_empty() {
                let n = buf.len().min(p.to_client.len());
                for (slot, byte) in buf.iter_mut().zip(p.to_client.drain(..n)) {
                    *slot = byte;
                }
                return Poll::Ready(Ok(n));
            }
            if p.eof {
                return Poll::Ready(Ok(0));
            }
            p.reader = Some(cx.waker().clone());
            Poll::Pending
        })
    }
}

impl ConnWrite for Writer {
    fn write_all(&mut self, buf: &[u8]) -> impl Future<Output = io::Result<()>> + Send {
        std::future::poll_fn(move |cx| {
            let mut w = lock(&self.world);
            if w.hold_writes {
                w.held.push(cx.waker().clone());
                return Poll::Pending;
            }
            let World {
                model,
                stall,
                conns,
                ..
            } = &mut *w;
            let p = &mut conns[self.id];
            if p.eof {
                return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
            }
            p.writes.push(buf.len());
            if !stall.contains(&p.port) {
                let reply = model.serve(&mut p.model, buf);
                p.to_client.extend(reply);
                if let Some(r) = p.reader.take() {
                    r.wake();
                }
            }
            Poll::Ready(Ok(()))
        })
    }

    fn close(&mut self) -> impl Future<Output = io::Result<()>> + Send {
        lock(&self.world).conns[self.id].closed = true;
        std::future::ready(Ok(()))
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        let mut w = lock(&self.world);
        let p = &mut w.conns[self.id];
        p.halves -= 1;
        p.closed |= p.halves == 0;
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        let mut w = lock(&self.world);
        let p = &mut w.conns[self.id];
        p.halves -= 1;
        p.closed |= p.halves == 0;
    }
}

impl Runtime for Memory {
    type Reader = Reader;
    type Writer = Writer;

    fn spawn<F: Future<Output = ()> + Send + 'static>(&self, future: F) {
        let world = Arc::clone(&self.0);
        std::thread::spawn(move || {
            let mut future = std::pin::pin!(future);
            futures_lite::future::block_on(std::future::poll_fn(|cx| {
                {
                    let mut w = lock(&world);
                    if w.paused {
                        w.parked.push(cx.waker().clone());
                        return Poll::Pending;
                    }
                    w.polling += 1;
                }
                let out = future.as_mut().poll(cx);
                lock(&world).polling -= 1;
                out
            }));
        });
    }

    fn sleep_until(&self, deadline: Instant) -> impl Future<Output = ()> + Send {
        let timer = async_io::Timer::at(deadline);
        async move {
            timer.await;
        }
    }

    fn connect(
        &self,
        endpoint: &Endpoint,
        _tls: Option<TlsTarget>,
        _timeout: Duration,
    ) -> impl Future<Output = io::Result<(Reader, Writer)>> + Send {
        let world = Arc::clone(&self.0);
        let port = endpoint.port;
        let mut w = lock(&world);
        let result = match w.model.node_of_port(port) {
            _ if w.refuse.contains(&port) => Err(io::ErrorKind::ConnectionRefused.into()),
            None => Err(io::ErrorKind::ConnectionRefused.into()),
            Some(node) => {
                let id = w.conns.len();
                w.conns.push(Pipe {
                    port,
                    writes: Vec::new(),
                    closed: false,
                    eof: false,
                    to_client: VecDeque::new(),
                    reader: None,
                    model: ModelConn::new(node),
                    halves: 2,
                });
                drop(w);
                Ok((
                    Reader {
                        world: Arc::clone(&world),
                        id,
                    },
                    Writer {
                        world: Arc::clone(&world),
                        id,
                    },
                ))
            }
        };
        std::future::ready(result)
    }
}

/// Polls `f` once with a no-op waker: whether it is ready now.
pub fn poll_once<F: Future + Unpin>(f: &mut F) -> Poll<F::Output> {
    let waker = Waker::noop();
    Pin::new(f).poll(&mut Context::from_waker(waker))
}

/// How many writes the client made to each of the first two nodes (ports 7000, 7001) so far.
pub fn writes(memory: &Memory) -> [usize; 2] {
    let w = memory.world();
    [0, 1].map(|s| {
        w.conns
            .iter()
            .filter(|p| p.port == port(s))
            .map(|p| p.writes.len())
            .sum()
    })
}

/// Polls a lone request twice (it must stay pending): its first poll may only yield (the
/// gather), so the second runs the loop for it if the first did not.
pub fn poll_twice(p: &mut slotwise_client::Pending) {
    assert!(poll_once(p).is_pending(), "answered at its first poll");
    assert!(poll_once(p).is_pending(), "answered at its second poll");
}

/// Keys of `shard` (of `shards`): `n` keys whose slots that shard owns.
pub fn keys_of(memory: &Memory, shard: usize, n: usize) -> Vec<String> {
    let w = memory.world();
    (0..)
        .map(|i| format!("k{i}"))
        .filter(|k| {
            w.model.owner[usize::from(slotwise_slot::key_slot(k.as_bytes()).get())] == shard
        })
        .take(n)
        .collect()
}

/// Ports by shard.
pub fn port(shard: usize) -> u16 {
    7000 + shard as u16
}
