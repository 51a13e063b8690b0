//! [`Model`]: a model of a small Redis Cluster's observable protocol, with no processes and no
//! sockets — slot ownership, keys, `MOVED`/`ASK`, a live migration, failover — for deterministic
//! tests: the core's seeded simulation and the adapter glue's in-memory runtime both serve their
//! connections from it.
//!
//! It answers `HELLO`, `READONLY`, `ASKING`, `CLUSTER SHARDS`, `GET`, `SET`, `INCR`, `DEL`,
//! `EXISTS`, and transactions (`WATCH`, `UNWATCH`, `MULTI`, `EXEC`, `DISCARD`: queued commands,
//! `EXEC` aborted with a null when a watched key changed); `BLPOP` blocks (no reply, and the
//! connection, like a blocked Redis client, serves nothing after it); anything else is
//! `-ERR unknown command`. Its fields are public: a test moves slots, promotes
//! replicas or takes nodes down by changing them.

use std::collections::{HashMap, HashSet};

use bytes::BytesMut;
use slotwise_resp::{Decoder, Frame};
use slotwise_slot::key_slot;

/// A slot being migrated from one shard to another: keys already moved are served by the target
/// (after `ASKING`); the source answers `ASK` for them and for keys it does not have.
#[derive(Clone, Debug)]
pub struct Migration {
    /// The slot.
    pub slot: u16,
    /// The shard it leaves.
    pub from: usize,
    /// The shard it goes to.
    pub to: usize,
    /// Keys already moved.
    pub moved: HashSet<String>,
}

/// The cluster's state.
#[derive(Clone, Debug)]
pub struct Model {
    /// Node index → port (on 127.0.0.1).
    pub ports: Vec<u16>,
    /// Node index → up (a down node is reported `failed`).
    pub up: Vec<bool>,
    /// Shard → (primary node, replica node).
    pub shards: Vec<(usize, Option<usize>)>,
    /// Slot → shard.
    pub owner: Vec<usize>,
    /// The keyspace.
    pub data: HashMap<String, Vec<u8>>,
    /// The migration in progress.
    pub migration: Option<Migration>,
    /// How often `INCR` ran on each key.
    pub executed_incr: HashMap<String, u64>,
    /// Key → how many times it was written (what `WATCH` compares).
    pub versions: HashMap<String, u64>,
    /// When set, `HELLO … AUTH user password` must give this password (else `WRONGPASS`).
    pub password: Option<String>,
}

/// One connection's state on the model's side.
#[derive(Debug)]
pub struct ModelConn {
    /// The node it is connected to.
    pub node: usize,
    /// `ASKING` was the last command.
    pub asking: bool,
    /// A `BLPOP` blocks it: nothing after it is served.
    pub blocked: bool,
    /// Inside `MULTI`: the queued commands.
    pub multi: Option<Vec<Vec<Vec<u8>>>>,
    /// `WATCH`ed keys with their versions then.
    pub watched: Vec<(String, u64)>,
    decoder: Decoder,
    inbuf: BytesMut,
}

impl ModelConn {
    /// A connection to `node`.
    pub fn new(node: usize) -> ModelConn {
        ModelConn {
            node,
            asking: false,
            blocked: false,
            multi: None,
            watched: Vec::new(),
            decoder: Decoder::new(),
            inbuf: BytesMut::new(),
        }
    }
}

impl Model {
    /// `shards` shards of slots split evenly, each a primary on port `base_port + i` and, with
    /// `replicas`, a replica on `base_port + shards + i`.
    pub fn new(shards: usize, replicas: bool, base_port: u16) -> Model {
        let nodes = if replicas { shards * 2 } else { shards };
        Model {
            ports: (0..nodes).map(|i| base_port + i as u16).collect(),
            up: vec![true; nodes],
            shards: (0..shards)
                .map(|s| (s, replicas.then_some(s + shards)))
                .collect(),
            owner: (0..16384usize).map(|s| s * shards / 16384).collect(),
            data: HashMap::new(),
            migration: None,
            executed_incr: HashMap::new(),
            versions: HashMap::new(),
            password: None,
        }
    }

    /// Writes `value` at `key` as a client would (watchers see the change).
    pub fn write(&mut self, key: &str, value: &[u8]) {
        self.data.insert(key.to_owned(), value.to_vec());
        *self.versions.entry(key.to_owned()).or_default() += 1;
    }

    fn version(&self, key: &str) -> u64 {
        self.versions.get(key).copied().unwrap_or(0)
    }

    /// The node listening on `port`.
    pub fn node_of_port(&self, port: u16) -> Option<usize> {
        self.ports.iter().position(|&p| p == port)
    }

    /// Feeds bytes a client sent on `conn`; returns the replies, in order (possibly none). Panics
    /// on bytes that are not RESP commands: the client under test must never send those.
    pub fn serve(&mut self, conn: &mut ModelConn, bytes: &[u8]) -> Vec<u8> {
        conn.inbuf.extend_from_slice(bytes);
        let mut out = Vec::new();
        while !conn.blocked {
            let frame = match conn.decoder.decode(&mut conn.inbuf) {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(e) => panic!("the client sent bad RESP: {e}"),
            };
            let args: Vec<Vec<u8>> = frame
                .as_items()
                .expect("a command is an array")
                .iter()
                .map(|a| a.as_bytes().expect("bulk string arguments").to_vec())
                .collect();
            if let Some(reply) = self.execute(conn, &args) {
                out.extend_from_slice(&reply);
            }
        }
        out
    }

    /// `CLUSTER SHARDS` as this model would answer it (RESP2).
    pub fn shards_reply(&self) -> Vec<u8> {
        let bulk = |s: &str| Frame::BulkString(s.to_owned().into_bytes().into());
        let node = |i: usize, role: &str| {
            Frame::Array(vec![
                bulk("id"),
                bulk(&format!("{i:0>40}")),
                bulk("port"),
                Frame::Integer(self.ports[i].into()),
                bulk("ip"),
                bulk("127.0.0.1"),
                bulk("role"),
                bulk(role),
                bulk("health"),
                bulk(if self.up[i] { "online" } else { "failed" }),
            ])
        };
        let shards = self.shards.iter().enumerate().map(|(s, &(p, r))| {
            let mut slots = Vec::new();
            let mut slot = 0usize;
            while slot < 16384 {
                if self.owner[slot] == s {
                    let start = slot;
                    while slot + 1 < 16384 && self.owner[slot + 1] == s {
                        slot += 1;
                    }
                    slots.push(Frame::Integer(start as i64));
                    slots.push(Frame::Integer(slot as i64));
                }
                slot += 1;
            }
            let mut nodes = vec![node(p, "master")];
            nodes.extend(r.map(|r| node(r, "replica")));
            Frame::Array(vec![
                bulk("slots"),
                Frame::Array(slots),
                bulk("nodes"),
                Frame::Array(nodes),
            ])
        });
        let mut out = BytesMut::new();
        Frame::Array(shards.collect()).encode(&mut out);
        out.to_vec()
    }

    /// Runs one command on `conn`; `None` when it blocks.
    pub fn execute(&mut self, conn: &mut ModelConn, args: &[Vec<u8>]) -> Option<Vec<u8>> {
        let node = conn.node;
        let asking = std::mem::take(&mut conn.asking);
        let name = String::from_utf8_lossy(&args[0]).to_ascii_uppercase();
        match name.as_str() {
            "HELLO" => {
                let given = args
                    .iter()
                    .position(|a| a.eq_ignore_ascii_case(b"AUTH"))
                    .and_then(|i| args.get(i + 2));
                return Some(match &self.password {
                    Some(p) if given.map(Vec::as_slice) != Some(p.as_bytes()) => {
                        b"-WRONGPASS invalid username-password pair or user is disabled.\r\n"
                            .to_vec()
                    }
                    _ => b"%1\r\n$6\r\nserver\r\n$5\r\nredis\r\n".to_vec(),
                });
            }
            "READONLY" => return Some(b"+OK\r\n".to_vec()),
            "ASKING" => {
                conn.asking = true;
                return Some(b"+OK\r\n".to_vec());
            }
            "CLUSTER" => return Some(self.shards_reply()),
            "MULTI" if conn.multi.is_some() => {
                return Some(b"-ERR MULTI calls can not be nested\r\n".to_vec());
            }
            "MULTI" => {
                conn.multi = Some(Vec::new());
                return Some(b"+OK\r\n".to_vec());
            }
            "DISCARD" => {
                conn.watched.clear();
                return Some(match conn.multi.take() {
                    Some(_) => b"+OK\r\n".to_vec(),
                    None => b"-ERR DISCARD without MULTI\r\n".to_vec(),
                });
            }
            "UNWATCH" if conn.multi.is_none() => {
                conn.watched.clear();
                return Some(b"+OK\r\n".to_vec());
            }
            "EXEC" => {
                let Some(queued) = conn.multi.take() else {
                    return Some(b"-ERR EXEC without MULTI\r\n".to_vec());
                };
                let watched = std::mem::take(&mut conn.watched);
                if watched.iter().any(|(k, v)| self.version(k) != *v) {
                    return Some(b"*-1\r\n".to_vec());
                }
                let mut out = format!("*{}\r\n", queued.len()).into_bytes();
                for args in queued {
                    out.extend(self.execute(conn, &args).unwrap_or_default());
                }
                return Some(out);
            }
            _ if conn.multi.is_some() => {
                if let Some(q) = conn.multi.as_mut() {
                    q.push(args.to_vec());
                }
                return Some(b"+QUEUED\r\n".to_vec());
            }
            _ => {}
        }
        let Some(k) = args.get(1).map(|k| String::from_utf8_lossy(k).into_owned()) else {
            return Some(b"-ERR wrong number of arguments\r\n".to_vec());
        };
        let slot = key_slot(k.as_bytes()).get();
        let my_shard = self.shards.iter().position(|&(p, _)| p == node);
        let owner = self.owner[usize::from(slot)];
        let moved = || {
            format!(
                "-MOVED {slot} 127.0.0.1:{}\r\n",
                self.ports[self.shards[owner].0]
            )
            .into_bytes()
        };
        let Some(me) = my_shard else {
            return Some(moved());
        };
        let serve = if me == owner {
            match &self.migration {
                Some(m)
                    if m.slot == slot
                        && m.from == me
                        && (m.moved.contains(&k) || !self.data.contains_key(&k)) =>
                {
                    let to = self.ports[self.shards[m.to].0];
                    return Some(format!("-ASK {slot} 127.0.0.1:{to}\r\n").into_bytes());
                }
                _ => true,
            }
        } else {
            matches!(&self.migration, Some(m) if m.slot == slot && m.to == me && asking)
        };
        if !serve {
            return Some(moved());
        }
        if let Some(m) = self.migration.as_mut()
            && m.slot == slot
            && m.to == me
        {
            m.moved.insert(k.clone());
        }
        if name == "WATCH" {
            for key in &args[1..] {
                let key = String::from_utf8_lossy(key).into_owned();
                let v = self.version(&key);
                conn.watched.push((key, v));
            }
            return Some(b"+OK\r\n".to_vec());
        }
        Some(match name.as_str() {
            "GET" => match self.data.get(&k) {
                Some(v) => {
                    format!("${}\r\n{}\r\n", v.len(), String::from_utf8_lossy(v)).into_bytes()
                }
                None => b"$-1\r\n".to_vec(),
            },
            "SET" => {
                self.write(&k, &args.get(2).cloned().unwrap_or_default());
                b"+OK\r\n".to_vec()
            }
            "DEL" => {
                let gone = self.data.remove(&k).is_some();
                if gone {
                    *self.versions.entry(k).or_default() += 1;
                }
                format!(":{}\r\n", u8::from(gone)).into_bytes()
            }
            "EXISTS" => format!(":{}\r\n", u8::from(self.data.contains_key(&k))).into_bytes(),
            "INCR" => {
                let v = self
                    .data
                    .get(&k)
                    .map_or(Some(0), |v| String::from_utf8_lossy(v).parse::<i64>().ok());
                match v {
                    Some(v) => {
                        *self.executed_incr.entry(k.clone()).or_default() += 1;
                        self.write(&k, (v + 1).to_string().as_bytes());
                        format!(":{}\r\n", v + 1).into_bytes()
                    }
                    None => b"-ERR value is not an integer or out of range\r\n".to_vec(),
                }
            }
            "BLPOP" => {
                conn.blocked = true;
                return None;
            }
            _ => b"-ERR unknown command\r\n".to_vec(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(args: &[&str]) -> Vec<u8> {
        let mut out = BytesMut::new();
        slotwise_resp::encode::write_command(&mut out, args.iter().copied());
        out.to_vec()
    }

    #[test]
    fn serves_its_slots_and_redirects_the_rest() {
        let mut m = Model::new(2, false, 7000);
        // "foo" is slot 12182: shard 1 (node 1, port 7001).
        let mut c0 = ModelConn::new(0);
        assert_eq!(
            m.serve(&mut c0, &cmd(&["GET", "foo"])),
            b"-MOVED 12182 127.0.0.1:7001\r\n"
        );
        let mut c1 = ModelConn::new(1);
        let mut two = cmd(&["SET", "foo", "1"]);
        two.extend(cmd(&["INCR", "foo"]));
        assert_eq!(m.serve(&mut c1, &two[..5]), b"");
        assert_eq!(m.serve(&mut c1, &two[5..]), b"+OK\r\n:2\r\n");
        // BLPOP blocks the connection: nothing after it is answered.
        let mut blocked = cmd(&["BLPOP", "foo", "0"]);
        blocked.extend(cmd(&["GET", "foo"]));
        assert_eq!(m.serve(&mut c1, &blocked), b"");
        assert!(c1.blocked);
    }

    #[test]
    fn transactions_queue_and_watch_aborts() {
        let mut m = Model::new(2, false, 7000);
        let mut c = ModelConn::new(1);
        let mut tx = cmd(&["WATCH", "foo"]);
        tx.extend(cmd(&["MULTI"]));
        tx.extend(cmd(&["INCR", "foo"]));
        tx.extend(cmd(&["EXEC"]));
        assert_eq!(
            m.serve(&mut c, &tx),
            b"+OK\r\n+OK\r\n+QUEUED\r\n*1\r\n:1\r\n"
        );
        // A write between WATCH and EXEC aborts it.
        let mut watch = cmd(&["WATCH", "foo"]);
        watch.extend(cmd(&["MULTI"]));
        watch.extend(cmd(&["INCR", "foo"]));
        assert_eq!(m.serve(&mut c, &watch), b"+OK\r\n+OK\r\n+QUEUED\r\n");
        m.write("foo", b"10");
        assert_eq!(m.serve(&mut c, &cmd(&["EXEC"])), b"*-1\r\n");
        assert_eq!(m.data["foo"], b"10");
    }
}
