//! A small script language for scenario tests: drive a `Cluster` by hand, one step at a time.
#![allow(dead_code, unreachable_pub)]

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use bytes::BytesMut;
use slotwise_cluster::{
    Cluster, Config, ConnId, Endpoint, Event, Frame, Input, Instant, Output, Request, RequestError,
    RequestId,
};

/// `host:port`.
pub fn ep(s: &str) -> Endpoint {
    Endpoint::parse(s).expect("host:port")
}

/// The wire form of a command.
pub fn cmd(args: &[&str]) -> Vec<u8> {
    Request::new(args.iter().copied()).encoded().to_vec()
}

/// A `CLUSTER SHARDS` reply (RESP2): each shard is (slot ranges, primary `host:port`, replicas).
/// One shard: slot ranges, primary `host:port`, replicas.
pub type ShardSpec<'a> = (&'a [(u16, u16)], &'a str, &'a [&'a str]);

pub fn shards_reply(shards: &[ShardSpec<'_>]) -> Vec<u8> {
    let node = |addr: &str, role: &str| {
        let e = ep(addr);
        let id = format!("{:0>40}", e.port);
        Frame::Array(vec![
            bulk("id"),
            bulk(&id),
            bulk("port"),
            Frame::Integer(e.port.into()),
            bulk("ip"),
            bulk(&e.host),
            bulk("endpoint"),
            bulk(&e.host),
            bulk("role"),
            bulk(role),
            bulk("replication-offset"),
            Frame::Integer(0),
            bulk("health"),
            bulk("online"),
        ])
    };
    let frame = Frame::Array(
        shards
            .iter()
            .map(|(ranges, primary, replicas)| {
                let slots = ranges
                    .iter()
                    .flat_map(|&(a, b)| [Frame::Integer(a.into()), Frame::Integer(b.into())])
                    .collect();
                let mut nodes = vec![node(primary, "master")];
                nodes.extend(replicas.iter().map(|r| node(r, "replica")));
                Frame::Array(vec![
                    bulk("slots"),
                    Frame::Array(slots),
                    bulk("nodes"),
                    Frame::Array(nodes),
                ])
            })
            .collect(),
    );
    let mut out = BytesMut::new();
    frame.encode(&mut out);
    out.to_vec()
}

fn bulk(s: &str) -> Frame {
    Frame::BulkString(bytes::Bytes::copy_from_slice(s.as_bytes()))
}

pub const HELLO: &[&str] = &["HELLO", "3"];
pub const HELLO_OK: &str = "%1\r\n$6\r\nserver\r\n$5\r\nredis\r\n";

pub struct Script {
    pub cluster: Cluster,
    pub now: Instant,
    /// Connect actions not yet expected.
    connects: VecDeque<(ConnId, Endpoint, Option<String>)>,
    /// Bytes written per connection, not yet expected.
    sent: BTreeMap<ConnId, Vec<u8>>,
    closes: Vec<ConnId>,
    pub replies: Vec<(RequestId, Result<Frame, RequestError>)>,
    pub events: Vec<Event>,
    pub pubsub: Vec<(
        slotwise_cluster::SubscriberId,
        slotwise_cluster::PubSubEvent,
    )>,
    pub timeout: Option<Instant>,
}

impl Script {
    pub fn new(config: Config) -> Script {
        let mut s = Script {
            cluster: Cluster::new(config, Instant::ZERO),
            now: Instant::ZERO,
            connects: VecDeque::new(),
            sent: BTreeMap::new(),
            closes: Vec::new(),
            replies: Vec::new(),
            events: Vec::new(),
            pubsub: Vec::new(),
            timeout: None,
        };
        s.drain();
        s
    }

    /// A config with one seed and quiet timers (no periodic refresh, no jitter).
    pub fn config(seed: &str) -> Config {
        let mut c = Config::new([ep(seed)]);
        c.refresh.interval = None;
        c.refresh.jitter = Duration::ZERO;
        c.backoff.jitter_percent = 0;
        c
    }

    pub fn drain(&mut self) {
        for _ in 0..100_000 {
            match self.cluster.poll_output() {
                Output::Connect {
                    conn,
                    endpoint,
                    tls_server_name,
                } => self.connects.push_back((conn, endpoint, tls_server_name)),
                Output::Transmit { conn, bytes } => {
                    self.sent.entry(conn).or_default().extend_from_slice(&bytes)
                }
                Output::Close { conn } => {
                    self.closes.push(conn);
                    self.sent.remove(&conn);
                }
                Output::Reply { id, result } => {
                    assert!(
                        self.replies.iter().all(|(i, _)| *i != id),
                        "second reply for {id}"
                    );
                    self.replies.push((id, result))
                }
                Output::Event(e) => self.events.push(e),
                Output::PubSub { subscriber, event } => self.pubsub.push((subscriber, event)),
                Output::Timeout(t) => {
                    self.timeout = Some(t);
                    return;
                }
                Output::Idle => {
                    self.timeout = None;
                    return;
                }
                other => panic!("unexpected output {other:?}"),
            }
        }
        panic!("poll_output never settled");
    }

    pub fn submit(&mut self, request: Request) -> RequestId {
        let id = self.cluster.submit(self.now, request);
        self.drain();
        id
    }

    pub fn get(&mut self, args: &[&str]) -> RequestId {
        self.submit(Request::new(args.iter().copied()))
    }

    /// Expects a connect to `endpoint`; answers `Connected`. Returns the connection.
    pub fn expect_connect(&mut self, endpoint: &str) -> ConnId {
        let conn = self.expect_connect_pending(endpoint);
        self.connected(conn);
        conn
    }

    /// Expects a connect to `endpoint`, without answering.
    pub fn expect_connect_pending(&mut self, endpoint: &str) -> ConnId {
        let want = ep(endpoint);
        let pos = self
            .connects
            .iter()
            .position(|(_, e, _)| *e == want)
            .unwrap_or_else(|| panic!("no connect to {endpoint}; pending: {:?}", self.connects));
        self.connects.remove(pos).unwrap().0
    }

    pub fn no_connect(&self) {
        assert!(
            self.connects.is_empty(),
            "unexpected connects {:?}",
            self.connects
        );
    }

    pub fn connected(&mut self, conn: ConnId) {
        self.cluster.handle_input(Input::Connected {
            conn,
            now: self.now,
        });
        self.drain();
    }

    pub fn connect_failed(&mut self, conn: ConnId) {
        self.cluster.handle_input(Input::ConnectFailed {
            conn,
            now: self.now,
        });
        self.drain();
    }

    /// Expects exactly these commands written on `conn` since the last expectation.
    pub fn expect_sent(&mut self, conn: ConnId, commands: &[&[&str]]) {
        let want: Vec<u8> = commands.iter().flat_map(|c| cmd(c)).collect();
        let got = self.sent.remove(&conn).unwrap_or_default();
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(&want),
            "bytes sent on {conn}"
        );
    }

    pub fn nothing_sent(&mut self, conn: ConnId) {
        let got = self.sent.remove(&conn).unwrap_or_default();
        assert!(
            got.is_empty(),
            "unexpected {:?}",
            String::from_utf8_lossy(&got)
        );
    }

    pub fn recv(&mut self, conn: ConnId, bytes: &str) {
        self.recv_bytes(conn, bytes.as_bytes());
    }

    pub fn recv_bytes(&mut self, conn: ConnId, bytes: &[u8]) {
        self.cluster.handle_input(Input::Received {
            conn,
            bytes,
            now: self.now,
        });
        self.drain();
    }

    pub fn close(&mut self, conn: ConnId) {
        self.cluster.handle_input(Input::Closed {
            conn,
            now: self.now,
        });
        self.drain();
    }

    /// `conn` has not been closed (by the core) so far.
    pub fn expect_open(&self, conn: ConnId) {
        assert!(!self.closes.contains(&conn), "{conn} closed");
    }

    pub fn expect_closed(&mut self, conn: ConnId) {
        let pos = self
            .closes
            .iter()
            .position(|c| *c == conn)
            .unwrap_or_else(|| panic!("{conn} not closed"));
        self.closes.remove(pos);
    }

    pub fn advance(&mut self, d: Duration) {
        self.now = self.now + d;
        self.cluster.handle_input(Input::Timeout { now: self.now });
        self.drain();
    }

    /// Advances to the next timer the core asked for.
    pub fn run_next_timer(&mut self) {
        let t = self.timeout.expect("a timer");
        self.now = self.now.max(t);
        self.cluster.handle_input(Input::Timeout { now: self.now });
        self.drain();
    }

    pub fn reply_of(&mut self, id: RequestId) -> Result<Frame, RequestError> {
        let pos = self
            .replies
            .iter()
            .position(|(i, _)| *i == id)
            .unwrap_or_else(|| panic!("no reply for {id}; have {:?}", self.replies));
        self.replies.remove(pos).1
    }

    pub fn no_reply(&self, id: RequestId) {
        assert!(self.replies.iter().all(|(i, _)| *i != id), "{id} answered");
    }

    /// Bootstraps: seed connect, HELLO, CLUSTER SHARDS answered with `shards`; returns the seed's
    /// connection.
    pub fn bootstrap(&mut self, seed: &str, shards: &[u8]) -> ConnId {
        let c = self.expect_connect(seed);
        self.expect_sent(c, &[HELLO]);
        self.recv(c, HELLO_OK);
        self.expect_sent(c, &[&["CLUSTER", "SHARDS"]]);
        self.recv_bytes(c, shards);
        c
    }

    /// Accepts a connect to `endpoint` and completes its HELLO.
    pub fn open(&mut self, endpoint: &str) -> ConnId {
        let c = self.expect_connect(endpoint);
        self.expect_sent(c, &[HELLO]);
        self.recv(c, HELLO_OK);
        c
    }
}

pub fn ok(s: &str) -> Frame {
    Frame::SimpleString(bytes::Bytes::copy_from_slice(s.as_bytes()))
}

impl Script {
    /// The commands written on `conn` since the last expectation, one string each.
    pub fn sent_on(&mut self, conn: ConnId) -> Vec<String> {
        let bytes = self.sent.remove(&conn).unwrap_or_default();
        let mut buf = BytesMut::from(&bytes[..]);
        let mut decoder = slotwise_resp::Decoder::new();
        let mut out = Vec::new();
        while let Ok(Some(f)) = decoder.decode(&mut buf) {
            let mut w = BytesMut::new();
            f.encode(&mut w);
            out.push(String::from_utf8_lossy(&w).into_owned());
        }
        out
    }

    /// Like `expect_sent`, ignoring refresh commands (`CLUSTER SHARDS`).
    pub fn expect_sent_besides_refresh(&mut self, conn: ConnId, commands: &[&[&str]]) {
        let got: Vec<String> = self
            .sent_on(conn)
            .into_iter()
            .filter(|c| !c.contains("SHARDS"))
            .collect();
        let want: Vec<String> = commands
            .iter()
            .map(|c| String::from_utf8(cmd(c)).unwrap())
            .collect();
        assert_eq!(got, want, "sent on {conn}");
    }

    pub fn has_connect(&self, endpoint: &str) -> bool {
        let want = ep(endpoint);
        self.connects.iter().any(|(_, e, _)| *e == want)
    }

    pub fn expect_connect_full(&mut self, endpoint: &str) -> (ConnId, Option<String>) {
        let want = ep(endpoint);
        let pos = self
            .connects
            .iter()
            .position(|(_, e, _)| *e == want)
            .unwrap_or_else(|| panic!("no connect to {endpoint}; pending: {:?}", self.connects));
        let (c, _, name) = self.connects.remove(pos).unwrap();
        (c, name)
    }

    /// Runs timers until the core reconnects to `endpoint`, then completes the handshake.
    pub fn open_after_backoff(&mut self, endpoint: &str) -> ConnId {
        for _ in 0..20 {
            if self.has_connect(endpoint) {
                return self.open(endpoint);
            }
            self.run_next_timer();
            // Answer any refresh with nothing useful: the test is not about it.
        }
        panic!("no reconnect to {endpoint}");
    }
}
