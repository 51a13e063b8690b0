//! What the data nodes and the sentinels say (`ROLE`, `INFO replication`, `SENTINEL …`), the
//! settled check every wait is built on, and the waiting itself.

use std::collections::BTreeMap;
use std::time::Duration;

use slotwise_resp::Frame;

use super::launch::log_tail;
use super::{SentinelGroup, lock};
use crate::Error;

/// How often waits poll.
const POLL: Duration = Duration::from_millis(50);

/// Sentinel flags that mean an instance is not healthy.
const BAD_FLAGS: [&str; 4] = ["s_down", "o_down", "disconnected", "failover_in_progress"];

/// One record of `SENTINEL REPLICAS` / `SENTINEL SENTINELS` / `SENTINEL MASTER`.
type Record = BTreeMap<String, String>;

impl SentinelGroup {
    /// The ports of the running data nodes.
    pub(super) fn running_data(&self) -> Vec<u16> {
        lock(&self.data)
            .iter()
            .filter(|p| p.child.is_some())
            .map(|p| p.port)
            .collect()
    }

    /// The ports of the running sentinels.
    fn running_sentinels(&self) -> Vec<u16> {
        lock(&self.sentinels)
            .iter()
            .filter(|p| p.child.is_some())
            .map(|p| p.port)
            .collect()
    }

    /// Sends one command to `port` on a new connection; an error reply is an `Err`.
    fn ask(&self, port: u16, args: &[&str]) -> Result<Frame, String> {
        self.conn(port)
            .and_then(|mut c| c.ok(args.iter().copied()))
            .map_err(|e| format!("{} on {port}: {e}", args.join(" ")))
    }

    /// The first element of `ROLE` on `port` (`master`, `slave`, `sentinel`).
    pub(super) fn role(&self, port: u16) -> Result<String, String> {
        let reply = self.ask(port, &["ROLE"])?;
        reply
            .as_items()
            .and_then(|items| items.first())
            .and_then(text)
            .ok_or_else(|| format!("unexpected ROLE reply from {port}: {reply:?}"))
    }

    /// The primary port the sentinel on `sentinel` reports (`SENTINEL GET-MASTER-ADDR-BY-NAME`).
    fn reported_primary(&self, sentinel: u16) -> Result<u16, String> {
        let name = self.master_name();
        let reply = self.ask(sentinel, &["SENTINEL", "GET-MASTER-ADDR-BY-NAME", name])?;
        let items = reply.as_items().unwrap_or_default();
        match (items.first().and_then(text), items.get(1).and_then(text)) {
            (Some(ip), Some(port)) if ip == "127.0.0.1" => port
                .parse()
                .map_err(|_| format!("sentinel {sentinel} reports port {port:?}")),
            _ => Err(format!(
                "sentinel {sentinel} reports no primary for {name}: {reply:?}"
            )),
        }
    }

    /// The current primary: the one running data node whose `ROLE` is master, reported by every
    /// running sentinel.
    pub(super) fn primary_now(&self) -> Result<u16, String> {
        let mut masters = Vec::new();
        for port in self.running_data() {
            if self.role(port)? == "master" {
                masters.push(port);
            }
        }
        let primary = match masters.as_slice() {
            [one] => *one,
            [] => return Err("no running data node says ROLE master".into()),
            many => return Err(format!("several data nodes say ROLE master: {many:?}")),
        };
        for sentinel in self.running_sentinels() {
            let reported = self.reported_primary(sentinel)?;
            if reported != primary {
                return Err(format!(
                    "sentinel {sentinel} reports {reported} as the primary, but {primary} is the data nodes' master"
                ));
            }
        }
        Ok(primary)
    }

    /// Checks the data node on `port` is a replica of `primary` and in sync with it.
    pub(super) fn check_in_sync(&self, port: u16, primary: u16) -> Result<(), String> {
        let info = self.ask(port, &["INFO", "replication"])?;
        let info = text(&info).unwrap_or_default();
        let field = |key| info_field(&info, key).unwrap_or("?");
        let (role, master, link, syncing) = (
            field("role"),
            field("master_port"),
            field("master_link_status"),
            field("master_sync_in_progress"),
        );
        if role != "slave" || master != primary.to_string() || link != "up" || syncing != "0" {
            return Err(format!(
                "{port} is not a replica of {primary} in sync (role:{role}, master_port:{master}, master_link_status:{link}, master_sync_in_progress:{syncing})"
            ));
        }
        Ok(())
    }

    /// Checks the group is settled around `primary` (see the module docs).
    pub(super) fn check_settled(&self, primary: u16) -> Result<(), String> {
        let role = self.role(primary)?;
        if role != "master" {
            return Err(format!("{primary} says ROLE {role}, not master"));
        }
        let replicas: Vec<u16> = self
            .running_data()
            .into_iter()
            .filter(|&p| p != primary)
            .collect();
        for &replica in &replicas {
            self.check_in_sync(replica, primary)?;
        }
        let sentinels = self.running_sentinels();
        let name = self.master_name();
        for &sentinel in &sentinels {
            let reported = self.reported_primary(sentinel)?;
            if reported != primary {
                return Err(format!(
                    "sentinel {sentinel} reports {reported} as the primary, not {primary}"
                ));
            }
            let master = self.ask(sentinel, &["SENTINEL", "MASTER", name])?;
            let master = record(&master).ok_or("unexpected SENTINEL MASTER reply")?;
            if let Some(flag) = bad_flag(&master) {
                return Err(format!("sentinel {sentinel} flags the primary {flag}"));
            }
            let known = records(&self.ask(sentinel, &["SENTINEL", "REPLICAS", name])?);
            for &replica in &replicas {
                let port = replica.to_string();
                let r = known
                    .iter()
                    .find(|r| r.get("port") == Some(&port))
                    .ok_or_else(|| format!("sentinel {sentinel} does not know replica {port}"))?;
                // Its `master-link-status` here comes from INFO, polled every 10 s: the data node
                // itself said it is in sync.
                if let Some(flag) = bad_flag(r) {
                    return Err(format!("sentinel {sentinel} flags replica {port} {flag}"));
                }
            }
            let peers = records(&self.ask(sentinel, &["SENTINEL", "SENTINELS", name])?);
            if peers.len() + 1 != sentinels.len() {
                return Err(format!(
                    "sentinel {sentinel} knows {} other sentinels, not {}",
                    peers.len(),
                    sentinels.len().saturating_sub(1)
                ));
            }
            if let Some((peer, flag)) = peers.iter().find_map(|p| Some((p, bad_flag(p)?))) {
                let port = peer.get("port").map_or("?", String::as_str);
                return Err(format!("sentinel {sentinel} flags sentinel {port} {flag}"));
            }
        }
        Ok(())
    }

    /// Polls `check` until it returns `Ok`, for at most `timeout`; then fails saying what it
    /// waited for, what it saw last, and the end of every sentinel's log.
    pub(super) fn wait_for<T>(
        &self,
        what: &str,
        timeout: Duration,
        check: impl FnMut() -> Result<T, String>,
    ) -> Result<T, Error> {
        crate::cluster::poll_until(what, timeout, POLL, check)
            .map_err(|e| format!("{e}\n{}", self.sentinel_logs()).into())
    }

    /// The end of every sentinel's log, for error messages.
    pub(super) fn sentinel_logs(&self) -> String {
        lock(&self.sentinels)
            .iter()
            .map(|p| {
                format!(
                    "--- sentinel {} ({}):\n{}\n",
                    p.port,
                    p.dir.join("redis.log").display(),
                    log_tail(&p.dir, 60)
                )
            })
            .collect()
    }
}

/// The text of a string reply.
fn text(frame: &Frame) -> Option<String> {
    frame
        .as_bytes()
        .map(|b| String::from_utf8_lossy(b).into_owned())
}

/// A flat `key value key value …` array (or a map) as a record.
fn record(frame: &Frame) -> Option<Record> {
    if let Frame::Map(pairs) = frame {
        return pairs
            .iter()
            .map(|(k, v)| Some((text(k)?, text(v)?)))
            .collect();
    }
    let items = frame.as_items()?;
    items
        .chunks(2)
        .map(|pair| match pair {
            [k, v] => Some((text(k)?, text(v)?)),
            _ => None,
        })
        .collect()
}

/// The records of an array of records (unparseable ones left out).
fn records(frame: &Frame) -> Vec<Record> {
    frame
        .as_items()
        .unwrap_or_default()
        .iter()
        .filter_map(record)
        .collect()
}

/// The first unhealthy flag of a sentinel record.
fn bad_flag(record: &Record) -> Option<&'static str> {
    let flags = record.get("flags").map_or("", String::as_str);
    BAD_FLAGS
        .into_iter()
        .find(|bad| flags.split(',').any(|f| f == *bad))
}

/// The value of `key` in `INFO` text.
pub(super) fn info_field<'a>(info: &'a str, key: &str) -> Option<&'a str> {
    info.lines().find_map(|line| {
        let (k, v) = line.split_once(':')?;
        (k == key).then(|| v.trim())
    })
}
