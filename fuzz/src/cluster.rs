//! Fuzz body for slotwise-cluster: arbitrary sequences of submits, sessions (transactions),
//! cancels and inputs (garbage bytes, closes, time jumps, an echoing server included) never panic
//! the core, every submitted request gets exactly one reply (past every deadline), no reply is
//! ever another request's (the echoing server answers each keyed command with a tag naming its
//! unique key; a push frame or `+QUEUED` outside a session is never a reply), and the core's
//! `Stats` agree with what came out.
//!
//! [`sentinel`] runs the same steps against a Sentinel deployment: two sentinels asked and
//! watched, whose answers (primary address, replicas, `ROLE`) and failover events
//! (`+switch-master`, `+try-failover`, `+failover-end`) the echoing server and the canned replies
//! give, alongside everything else.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use arbitrary::{Arbitrary, Unstructured};
use bytes::BytesMut;
use slotwise_cluster::{
    Cluster, Config, ConnId, Endpoint, Frame, Input, Instant, Output, Request, RequestId,
    SentinelConfig, SessionId,
};
use slotwise_resp::Decoder;

#[derive(Arbitrary, Debug)]
enum Step {
    Submit {
        command: u8,
        key: u8,
        idempotent: bool,
        timeout_ms: Option<u16>,
    },
    Connected {
        conn: u8,
    },
    ConnectFailed {
        conn: u8,
    },
    Received {
        conn: u8,
        bytes: Vec<u8>,
    },
    /// A canned reply (valid RESP a server would send) on a connection.
    Reply {
        conn: u8,
        which: u8,
    },
    Closed {
        conn: u8,
    },
    Advance {
        ms: u16,
    },
    /// Open a session, submit in the newest one, close it, or cancel a request.
    Session {
        op: u8,
        command: u8,
    },
    /// The server answers the next `n % 4 + 1` commands written on a connection, each as a real
    /// server would in form: keyed commands with the tag of their key.
    Serve {
        conn: u8,
        n: u8,
    },
    /// A cluster `SCAN` step: from the start (`0`), from the last cursor a step returned, or from
    /// the fuzzer's bytes (which the core must refuse or, if valid, follow).
    Scan {
        from: u8,
        cursor: Vec<u8>,
    },
    /// Pub/sub: open a subscriber, subscribe or unsubscribe the newest one (any kind, a few
    /// channel names), or close it.
    PubSub {
        op: u8,
        kind: u8,
        channel: u8,
    },
}

/// What the harness saw of the core's outputs, and the echoing server's side.
#[derive(Default)]
struct Net {
    conns: Vec<ConnId>,
    answered: HashSet<u64>,
    in_session: HashSet<u64>,
    /// Request → the tag the echoing server would answer it with (unique per request).
    tags: HashMap<u64, Vec<u8>>,
    /// Connection → bytes written to it, not yet parsed into commands.
    wire: HashMap<ConnId, BytesMut>,
    /// Connection → replies the fuzzer injected there (canned frames), each of which the core
    /// took as the answer to the oldest command: the echoing server skips that many.
    answered_by_fuzzer: HashMap<ConnId, usize>,
    /// Subscribers open (events for any other are a bug).
    subscribers: HashSet<u64>,
    /// The cursor the last `SCAN` step returned.
    cursor: Option<Vec<u8>>,
    /// Connections the fuzzer fed raw bytes: how many replies those held is unknown, so the
    /// echoing server no longer answers there (its tags would be misaligned by the harness, not
    /// by the core).
    tainted: HashSet<ConnId>,
}

impl Net {
    fn drain(&mut self, core: &mut Cluster) {
        for _ in 0..10_000 {
            match core.poll_output() {
                Output::Connect { conn, .. } => self.conns.push(conn),
                Output::Transmit { conn, bytes } => {
                    self.wire.entry(conn).or_default().extend_from_slice(&bytes)
                }
                Output::Close { conn } => {
                    self.wire.remove(&conn);
                }
                Output::Reply { id, result } => {
                    assert!(self.answered.insert(id.0), "two replies for {id}");
                    match &result {
                        Ok(Frame::Push(_)) => panic!("a push frame delivered as {id}'s reply"),
                        Ok(Frame::SimpleString(s)) if &s[..] == b"QUEUED" => assert!(
                            self.in_session.contains(&id.0),
                            "+QUEUED delivered to {id}, which is in no transaction"
                        ),
                        Ok(Frame::BulkString(b)) if b.starts_with(b"tag:") => assert_eq!(
                            self.tags.get(&id.0).map(Vec::as_slice),
                            Some(&b[..]),
                            "{id} got another request's reply"
                        ),
                        Ok(Frame::Array(parts)) if parts.len() == 2 => {
                            if let Some(Frame::BulkString(c)) = parts.first() {
                                self.cursor = Some(c.to_vec());
                            }
                        }
                        _ => {}
                    }
                }
                Output::PubSub { subscriber, .. } => assert!(
                    self.subscribers.contains(&subscriber.0),
                    "an event for {subscriber}, which is not open"
                ),
                Output::Timeout(t) => {
                    assert!(t >= Instant::ZERO);
                    return;
                }
                Output::Idle => return,
                _ => {}
            }
        }
        panic!("poll_output does not settle");
    }

    /// The echoing server's replies to the next `n` complete commands written on `conn`.
    fn serve(&mut self, conn: ConnId, n: usize) -> Vec<u8> {
        let mut out = Vec::new();
        if self.tainted.contains(&conn) {
            return out;
        }
        let Some(buf) = self.wire.get_mut(&conn) else {
            return out;
        };
        let mut decoder = Decoder::new();
        let skip = self.answered_by_fuzzer.entry(conn).or_default();
        while *skip > 0 {
            let Ok(Some(_)) = decoder.decode(buf) else {
                return out; // the command it answered is not written yet
            };
            *skip -= 1;
        }
        for _ in 0..n {
            let Ok(Some(frame)) = decoder.decode(buf) else {
                break;
            };
            let args: Vec<Vec<u8>> = frame
                .as_items()
                .unwrap_or_default()
                .iter()
                .filter_map(|a| a.as_bytes().map(|b| b.to_vec()))
                .collect();
            let name = args
                .first()
                .map(|a| a.to_ascii_uppercase())
                .unwrap_or_default();
            let reply: Vec<u8> = match &name[..] {
                b"HELLO" => HELLO_OK.to_vec(),
                b"CLUSTER"
                    if args
                        .get(1)
                        .is_some_and(|a| a.eq_ignore_ascii_case(b"NODES")) =>
                {
                    let line = b"a 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-16383\n";
                    let mut r = format!("${}\r\n", line.len()).into_bytes();
                    r.extend_from_slice(line);
                    r.extend_from_slice(b"\r\n");
                    r
                }
                b"CLUSTER" => ONE_SHARD.to_vec(),
                b"SENTINEL"
                    if args
                        .get(1)
                        .is_some_and(|a| a.eq_ignore_ascii_case(b"REPLICAS")) =>
                {
                    SENTINEL_REPLICAS.to_vec()
                }
                b"SENTINEL" => MASTER_ADDR.to_vec(),
                b"ROLE" => ROLE_MASTER.to_vec(),
                b"SCAN" => b"*2\r\n$1\r\n0\r\n*1\r\n$1\r\nk\r\n".to_vec(),
                b"ASKING" | b"MULTI" | b"WATCH" | b"UNWATCH" | b"DISCARD" | b"READONLY" => {
                    b"+OK\r\n".to_vec()
                }
                b"EXEC" => b"*0\r\n".to_vec(),
                _ => {
                    let mut tag = b"tag:".to_vec();
                    tag.extend_from_slice(args.get(1).unwrap_or(&name));
                    let mut r = format!("${}\r\n", tag.len()).into_bytes();
                    r.extend_from_slice(&tag);
                    r.extend_from_slice(b"\r\n");
                    r
                }
            };
            out.extend_from_slice(&reply);
        }
        out
    }
}

const SESSION_COMMANDS: &[&[&str]] = &[
    &["WATCH", "{foo}w"],
    &["MULTI"],
    &["SET", "{foo}s", "1"],
    &["GET", "{foo}x"],
    &["EXEC"],
    &["DISCARD"],
    &["UNWATCH"],
    &["GET", "bar"],
    &["SUBSCRIBE", "x"],
];

/// `CLUSTER SHARDS`: one shard, every slot on 127.0.0.1:7000.
const ONE_SHARD: &[u8] = b"*1\r\n*4\r\n$5\r\nslots\r\n*2\r\n:0\r\n:16383\r\n$5\r\nnodes\r\n*1\r\n*8\r\n$2\r\nid\r\n$1\r\na\r\n$4\r\nport\r\n:7000\r\n$2\r\nip\r\n$9\r\n127.0.0.1\r\n$4\r\nrole\r\n$6\r\nmaster\r\n";

/// `SENTINEL GET-MASTER-ADDR-BY-NAME m`: 127.0.0.1:7000.
const MASTER_ADDR: &[u8] = b"*2\r\n$9\r\n127.0.0.1\r\n$4\r\n7000\r\n";

/// `SENTINEL REPLICAS m`: one replica, 127.0.0.1:7001.
const SENTINEL_REPLICAS: &[u8] = b"*1\r\n*6\r\n$2\r\nip\r\n$9\r\n127.0.0.1\r\n$4\r\nport\r\n$4\r\n7001\r\n$5\r\nflags\r\n$5\r\nslave\r\n";

/// `ROLE` of a primary.
const ROLE_MASTER: &[u8] = b"*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n";

/// `HELLO 3`'s answer.
const HELLO_OK: &[u8] = b"%1\r\n$6\r\nserver\r\n$5\r\nredis\r\n";

const REPLIES: &[&[u8]] = &[
    b"+OK\r\n",
    HELLO_OK,
    b"-MOVED 12182 127.0.0.1:7001\r\n",
    b"-ASK 12182 127.0.0.1:7002\r\n",
    b"-MOVED 1 :7000\r\n",
    b"-TRYAGAIN x\r\n",
    b"-CLUSTERDOWN down\r\n",
    b"-LOADING x\r\n",
    b"-READONLY x\r\n",
    b"-ERR unknown command 'HELLO'\r\n",
    b"-ERR This instance has cluster support disabled\r\n",
    b"-WRONGPASS x\r\n",
    b":1\r\n",
    b">2\r\n$7\r\nmessage\r\n$1\r\nx\r\n",
    b">3\r\n$9\r\nsubscribe\r\n$1\r\nx\r\n:1\r\n",
    b"+QUEUED\r\n",
    b">3\r\n$10\r\nssubscribe\r\n$3\r\nfoo\r\n:1\r\n",
    b">3\r\n$12\r\nsunsubscribe\r\n$3\r\nfoo\r\n:0\r\n",
    b">3\r\n$8\r\nsmessage\r\n$3\r\nfoo\r\n$1\r\np\r\n",
    b">4\r\n$8\r\npmessage\r\n$2\r\nn*\r\n$2\r\nnx\r\n$1\r\np\r\n",
    b"*3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n",
    b"*2\r\n$4\r\npong\r\n$0\r\n\r\n",
    b"+PONG\r\n",
    b">2\r\n$10\r\ninvalidate\r\n*0\r\n",
    b"*-1\r\n",
    ONE_SHARD,
    MASTER_ADDR,
    SENTINEL_REPLICAS,
    ROLE_MASTER,
    b"*5\r\n$5\r\nslave\r\n$9\r\n127.0.0.1\r\n:7001\r\n$9\r\nconnected\r\n:0\r\n",
    b">3\r\n$7\r\nmessage\r\n$14\r\n+switch-master\r\n$31\r\nm 127.0.0.1 7000 127.0.0.1 7001\r\n",
    b"*3\r\n$7\r\nmessage\r\n$14\r\n+switch-master\r\n$31\r\nm 127.0.0.1 7001 127.0.0.1 7000\r\n",
    b">3\r\n$7\r\nmessage\r\n$13\r\n+try-failover\r\n$25\r\nmaster m 127.0.0.1 7000 0\r\n",
    b">3\r\n$7\r\nmessage\r\n$13\r\n+failover-end\r\n$23\r\nmaster m 127.0.0.1 7000\r\n",
    b"*2\r\n*3\r\n:0\r\n:8191\r\n*2\r\n$9\r\n127.0.0.1\r\n:7000\r\n*3\r\n:8192\r\n:16383\r\n*2\r\n$9\r\n127.0.0.1\r\n:7001\r\n",
];

const COMMANDS: &[&[&str]] = &[
    &["GET", "foo"],
    &["SET", "bar", "1"],
    &["INCR", "baz"],
    &["BLPOP", "foo", "1"],
    &["PING"],
    &["MGET", "a", "b"],
    &["DEL", "a", "b", "{a}c"],
    &["MSET", "a", "1", "b", "2"],
    &["DBSIZE"],
    &["KEYS", "*"],
    &["SCRIPT", "LOAD", "return 1"],
    &["INFO", "server"],
    &["GET"],
    &["MULTI"],
    &["SUBSCRIBE", "ch"],
    &["XREAD", "BLOCK", "100", "STREAMS", "s", "$"],
];

/// The fuzz body: a cluster.
pub fn events(data: &[u8]) {
    run(data, Config::new([Endpoint::new("127.0.0.1", 7000)]));
}

/// The fuzz body: a Sentinel deployment (see the module docs).
pub fn sentinel(data: &[u8]) {
    let sentinels = vec![
        Endpoint::new("127.0.0.1", 26379),
        Endpoint::new("127.0.0.1", 26380),
    ];
    let mut config = Config::new(sentinels.clone());
    let mut s = SentinelConfig::new("m", sentinels);
    s.failover_hold = Some(Duration::from_millis(300));
    config.sentinel = Some(s);
    run(data, config);
}

fn run(data: &[u8], mut config: Config) {
    let mut u = Unstructured::new(data);
    config.queue_bound = 8;
    config.request_timeout = Duration::from_millis(500);
    let mut now = Instant::ZERO;
    let mut core = Cluster::new(config, now);
    let mut net = Net::default();
    let mut submitted: HashSet<u64> = HashSet::new();
    let mut sessions: Vec<SessionId> = Vec::new();
    net.drain(&mut core);
    let pick = |conns: &[ConnId], i: u8| {
        conns
            .get(usize::from(i) % conns.len().max(1))
            .copied()
            .unwrap_or(ConnId(u64::from(i)))
    };
    for _ in 0..256 {
        let Ok(step) = Step::arbitrary(&mut u) else {
            break;
        };
        match step {
            Step::Submit {
                command,
                key,
                idempotent,
                timeout_ms,
            } => {
                let c = COMMANDS[usize::from(command) % COMMANDS.len()];
                let mut args: Vec<String> = c.iter().map(|s| s.to_string()).collect();
                let unique = submitted.len();
                if args.len() > 1 {
                    // Unique per request: the echoing server's tag names exactly one request.
                    args[1] = format!("{}{key}:{unique}", args[1]);
                }
                // The echoing server tags a keyless one-word command (`PING`) with its name.
                let tag = args
                    .get(1)
                    .or(args.first())
                    .map(|k| [&b"tag:"[..], k.as_bytes()].concat());
                let mut r = Request::new(args.iter().map(String::as_str));
                if idempotent {
                    r = r.idempotent();
                }
                if let Some(ms) = timeout_ms {
                    r = r.timeout(Duration::from_millis(ms.into()));
                }
                let id = core.submit(now, r);
                submitted.insert(id.0);
                if let Some(tag) = tag {
                    net.tags.insert(id.0, tag);
                }
            }
            Step::Connected { conn } => core.handle_input(Input::Connected {
                conn: pick(&net.conns, conn),
                now,
            }),
            Step::ConnectFailed { conn } => core.handle_input(Input::ConnectFailed {
                conn: pick(&net.conns, conn),
                now,
            }),
            Step::Received { conn, bytes } => {
                let conn = pick(&net.conns, conn);
                net.tainted.insert(conn);
                core.handle_input(Input::Received {
                    conn,
                    bytes: &bytes,
                    now,
                });
            }
            Step::Reply { conn, which } => {
                let conn = pick(&net.conns, conn);
                let bytes = REPLIES[usize::from(which) % REPLIES.len()];
                // One frame: unless it is a push, the core takes it as the oldest command's reply.
                if bytes.first() != Some(&b'>') {
                    *net.answered_by_fuzzer.entry(conn).or_default() += 1;
                }
                core.handle_input(Input::Received { conn, bytes, now });
            }
            Step::Closed { conn } => core.handle_input(Input::Closed {
                conn: pick(&net.conns, conn),
                now,
            }),
            Step::Advance { ms } => {
                now = now + Duration::from_millis(ms.into());
                core.handle_input(Input::Timeout { now });
            }
            Step::Serve { conn, n } => {
                let conn = pick(&net.conns, conn);
                let bytes = net.serve(conn, usize::from(n % 4) + 1);
                if !bytes.is_empty() {
                    core.handle_input(Input::Received {
                        conn,
                        bytes: &bytes,
                        now,
                    });
                }
            }
            Step::PubSub { op, kind, channel } => {
                use slotwise_cluster::SubscriptionKind as K;
                let kind = [
                    K::Channel,
                    K::Pattern,
                    K::ShardChannel,
                    K::NodeChannel,
                    K::NodePattern,
                ][usize::from(kind % 5)];
                let name = bytes::Bytes::from_static(
                    [&b"news"[..], b"foo", b"n*", b"bar", b"{foo}x"][usize::from(channel % 5)],
                );
                let newest = net.subscribers.iter().max().copied();
                match (op % 4, newest) {
                    (0, _) | (_, None) => {
                        let id = core.open_subscriber();
                        net.subscribers.insert(id.0);
                    }
                    (1, Some(id)) => {
                        core.subscribe(now, slotwise_cluster::SubscriberId(id), kind, [name])
                    }
                    (2, Some(id)) => {
                        let names = if channel % 2 == 0 {
                            vec![name]
                        } else {
                            Vec::new()
                        };
                        core.unsubscribe(now, slotwise_cluster::SubscriberId(id), kind, names);
                    }
                    (_, Some(id)) => {
                        // Events already out for it were checked; none may follow.
                        net.drain(&mut core);
                        net.subscribers.remove(&id);
                        core.close_subscriber(now, slotwise_cluster::SubscriberId(id));
                    }
                }
            }
            Step::Scan { from, cursor } => {
                let cursor = match from % 3 {
                    0 => b"0".to_vec(),
                    1 => net.cursor.clone().unwrap_or_else(|| b"0".to_vec()),
                    _ => cursor,
                };
                let id = core.submit(now, Request::new([&b"SCAN"[..], &cursor, b"COUNT", b"5"]));
                submitted.insert(id.0);
            }
            Step::Session { op, command } => match (op % 4, sessions.last().copied()) {
                (0, _) | (1 | 2, None) => sessions.push(core.open_session(now, Some(12182))),
                (1, Some(session)) => {
                    let c = SESSION_COMMANDS[usize::from(command) % SESSION_COMMANDS.len()];
                    let mut args: Vec<String> = c.iter().map(|s| s.to_string()).collect();
                    // Keys of the session's slot (12182, the slot of "foo") made unique.
                    let unique = submitted.len();
                    let keyed = args.len() > 1 && args[1].starts_with("{foo}");
                    if keyed {
                        args[1] = format!("{{foo}}:{unique}");
                    }
                    let r = Request::new(args.iter().map(String::as_str));
                    let id = core.submit_in(now, session, r);
                    submitted.insert(id.0);
                    net.in_session.insert(id.0);
                    if keyed {
                        net.tags
                            .insert(id.0, [&b"tag:"[..], args[1].as_bytes()].concat());
                    }
                }
                (2, Some(session)) => {
                    core.close_session(now, session);
                    sessions.pop();
                }
                _ => {
                    let id = submitted
                        .iter()
                        .nth(usize::from(command) % submitted.len().max(1));
                    if let Some(&id) = id {
                        core.cancel(now, RequestId(id));
                    }
                }
            },
        }
        net.drain(&mut core);
    }
    assert!(net.answered.is_subset(&submitted));
    // Past every deadline, every request has its one answer.
    now = now + Duration::from_secs(120);
    core.handle_input(Input::Timeout { now });
    net.drain(&mut core);
    // (BLPOP here blocks 1 s, so it has a deadline too.)
    assert_eq!(
        net.answered.len(),
        submitted.len(),
        "every request answered"
    );
    // The core's counters agree: every submit counted, each ended once as a reply or a failure.
    let stats = core.stats();
    assert_eq!(stats.requests, submitted.len() as u64, "{stats:?}");
    assert_eq!(stats.replies + stats.failed, stats.requests, "{stats:?}");
    // (A request written and then timed out counts in both.)
    assert!(stats.timeouts <= stats.failed, "{stats:?}");
    assert!(stats.maybe_applied <= stats.failed, "{stats:?}");
    assert!(stats.connects >= stats.connections, "{stats:?}");
}
