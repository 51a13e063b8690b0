//! Fuzz body for slotwise-cluster: arbitrary sequences of submits, sessions (transactions),
//! cancels and inputs (garbage bytes, closes, time jumps included) never panic the core, every
//! submitted request gets exactly one reply (past every deadline), no reply is one that cannot
//! belong to its request (a push frame; `+QUEUED` for a request outside a session), and the
//! core's `Stats` agree with what came out.

use std::collections::HashSet;
use std::time::Duration;

use arbitrary::{Arbitrary, Unstructured};
use slotwise_cluster::{
    Cluster, Config, ConnId, Endpoint, Frame, Input, Instant, Output, Request, RequestId, SessionId,
};

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
}

const SESSION_COMMANDS: &[&[&str]] = &[
    &["WATCH", "foo"],
    &["MULTI"],
    &["SET", "foo", "1"],
    &["GET", "{foo}x"],
    &["EXEC"],
    &["DISCARD"],
    &["UNWATCH"],
    &["GET", "bar"],
    &["SUBSCRIBE", "x"],
];

const REPLIES: &[&[u8]] = &[
    b"+OK\r\n",
    b"%1\r\n$6\r\nserver\r\n$5\r\nredis\r\n",
    b"-MOVED 12182 127.0.0.1:7001\r\n",
    b"-ASK 12182 127.0.0.1:7002\r\n",
    b"-MOVED 1 :7000\r\n",
    b"-TRYAGAIN x\r\n",
    b"-CLUSTERDOWN down\r\n",
    b"-LOADING x\r\n",
    b"-READONLY x\r\n",
    b"-ERR unknown command 'HELLO'\r\n",
    b"-WRONGPASS x\r\n",
    b":1\r\n",
    b">2\r\n$7\r\nmessage\r\n$1\r\nx\r\n",
    b">3\r\n$9\r\nsubscribe\r\n$1\r\nx\r\n:1\r\n",
    b"+QUEUED\r\n",
    b"*-1\r\n",
    b"*1\r\n*4\r\n$5\r\nslots\r\n*2\r\n:0\r\n:16383\r\n$5\r\nnodes\r\n*1\r\n*8\r\n$2\r\nid\r\n$1\r\na\r\n$4\r\nport\r\n:7000\r\n$2\r\nip\r\n$9\r\n127.0.0.1\r\n$4\r\nrole\r\n$6\r\nmaster\r\n",
    b"*2\r\n*3\r\n:0\r\n:8191\r\n*2\r\n$9\r\n127.0.0.1\r\n:7000\r\n*3\r\n:8192\r\n:16383\r\n*2\r\n$9\r\n127.0.0.1\r\n:7001\r\n",
];

const COMMANDS: &[&[&str]] = &[
    &["GET", "foo"],
    &["SET", "bar", "1"],
    &["INCR", "baz"],
    &["BLPOP", "foo", "1"],
    &["PING"],
    &["MGET", "a", "b"],
    &["DBSIZE"],
    &["GET"],
    &["MULTI"],
    &["SUBSCRIBE", "ch"],
    &["XREAD", "BLOCK", "100", "STREAMS", "s", "$"],
];

/// The fuzz body.
pub fn events(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let mut config = Config::new([Endpoint::new("127.0.0.1", 7000)]);
    config.queue_bound = 8;
    config.request_timeout = Duration::from_millis(500);
    let mut now = Instant::ZERO;
    let mut core = Cluster::new(config, now);
    let mut conns: Vec<ConnId> = Vec::new();
    let mut submitted: HashSet<u64> = HashSet::new();
    let mut answered: HashSet<u64> = HashSet::new();
    let mut in_session: HashSet<u64> = HashSet::new();
    let mut sessions: Vec<SessionId> = Vec::new();
    let drain = |core: &mut Cluster,
                 conns: &mut Vec<ConnId>,
                 answered: &mut HashSet<u64>,
                 in_session: &HashSet<u64>| {
        for _ in 0..10_000 {
            match core.poll_output() {
                Output::Connect { conn, .. } => conns.push(conn),
                Output::Reply { id, result } => {
                    assert!(answered.insert(id.0), "two replies for {id}");
                    match &result {
                        Ok(Frame::Push(_)) => panic!("a push frame delivered as {id}'s reply"),
                        Ok(Frame::SimpleString(s)) if &s[..] == b"QUEUED" => assert!(
                            in_session.contains(&id.0),
                            "+QUEUED delivered to {id}, which is in no transaction"
                        ),
                        _ => {}
                    }
                }
                Output::Timeout(t) => {
                    assert!(t >= Instant::ZERO);
                    return;
                }
                Output::Idle => return,
                _ => {}
            }
        }
        panic!("poll_output does not settle");
    };
    drain(&mut core, &mut conns, &mut answered, &in_session);
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
                if args.len() > 1 {
                    args[1] = format!("{}{key}", args[1]);
                }
                let mut r = Request::new(args.iter().map(String::as_str));
                if idempotent {
                    r = r.idempotent();
                }
                if let Some(ms) = timeout_ms {
                    r = r.timeout(Duration::from_millis(ms.into()));
                }
                let id = core.submit(now, r);
                submitted.insert(id.0);
            }
            Step::Connected { conn } => core.handle_input(Input::Connected {
                conn: pick(&conns, conn),
                now,
            }),
            Step::ConnectFailed { conn } => core.handle_input(Input::ConnectFailed {
                conn: pick(&conns, conn),
                now,
            }),
            Step::Received { conn, bytes } => core.handle_input(Input::Received {
                conn: pick(&conns, conn),
                bytes: &bytes,
                now,
            }),
            Step::Reply { conn, which } => core.handle_input(Input::Received {
                conn: pick(&conns, conn),
                bytes: REPLIES[usize::from(which) % REPLIES.len()],
                now,
            }),
            Step::Closed { conn } => core.handle_input(Input::Closed {
                conn: pick(&conns, conn),
                now,
            }),
            Step::Advance { ms } => {
                now = now + Duration::from_millis(ms.into());
                core.handle_input(Input::Timeout { now });
            }
            Step::Session { op, command } => match (op % 4, sessions.last().copied()) {
                (0, _) | (1 | 2, None) => sessions.push(core.open_session(now, Some(12182))),
                (1, Some(session)) => {
                    let c = SESSION_COMMANDS[usize::from(command) % SESSION_COMMANDS.len()];
                    let id = core.submit_in(now, session, Request::new(c.iter().copied()));
                    submitted.insert(id.0);
                    in_session.insert(id.0);
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
        drain(&mut core, &mut conns, &mut answered, &in_session);
    }
    assert!(answered.is_subset(&submitted));
    // Past every deadline, every request has its one answer.
    now = now + Duration::from_secs(120);
    core.handle_input(Input::Timeout { now });
    drain(&mut core, &mut conns, &mut answered, &in_session);
    // (BLPOP here blocks 1 s, so it has a deadline too.)
    assert_eq!(answered.len(), submitted.len(), "every request answered");
    // The core's counters agree: every submit counted, each ended once as a reply or a failure.
    let stats = core.stats();
    assert_eq!(stats.requests, submitted.len() as u64, "{stats:?}");
    assert_eq!(stats.replies + stats.failed, stats.requests, "{stats:?}");
    // (A request written and then timed out counts in both.)
    assert!(stats.timeouts <= stats.failed, "{stats:?}");
    assert!(stats.maybe_applied <= stats.failed, "{stats:?}");
    assert!(stats.connects >= stats.connections, "{stats:?}");
}
