//! Faults: `SENTINEL FAILOVER`, kill -9 of the primary, restarting a killed node; and the
//! `+switch-master` subscriber that times them.

use std::time::{Duration, Instant};

use super::launch::Kind;
use super::{Proc, SentinelGroup, SentinelSwitch, WAIT, lock};
use crate::{Conn, Error};

/// How long `SENTINEL FAILOVER` is retried while the sentinel refuses it (`-NOGOODSLAVE` right
/// after start, before it has fresh `INFO` of the replicas; `-INPROG`).
const FAILOVER_RETRY: Duration = Duration::from_secs(10);

/// The sentinel events the subscriber listens to: `+switch-master` times the failover, the
/// others say what happened when it does not come.
const EVENTS: [&str; 13] = [
    "+switch-master",
    "+sdown",
    "+odown",
    "+new-epoch",
    "+try-failover",
    "+elected-leader",
    "+selected-slave",
    "+promoted-slave",
    "+failover-end",
    "+failover-end-for-timeout",
    "-failover-abort-not-elected",
    "-failover-abort-no-good-slave",
    "-failover-abort-slave-timeout",
];

/// A subscription to one sentinel's events, opened before a fault.
struct Watch {
    conn: Conn,
    sentinel: u16,
    /// Every event seen, for errors.
    seen: Vec<String>,
}

impl SentinelGroup {
    /// `SENTINEL FAILOVER NAME` through the first sentinel (retried for up to 10 s while it answers
    /// `-NOGOODSLAVE` or `-INPROG`); waits (up to 30 s from the fault) until every sentinel reports
    /// the new primary, its `ROLE` is master, and the old primary and every other running data
    /// node are its replicas in sync — the group is settled again.
    ///
    /// The switch is timed by a subscriber on the same first sentinel, which leads this failover:
    /// it announces `+switch-master` once it has reconfigured the other replicas, about 1 s after
    /// the other sentinels (which learn the new primary from its hello messages). Demoting the old
    /// primary takes the sentinels about 9 s more (see the module docs).
    pub fn failover(&self) -> Result<SentinelSwitch, Error> {
        let _ops = self.lock_ops();
        let old = self.settled_primary("failover")?;
        let sentinel = self.first_sentinel()?;
        let mut watch = self.watch(sentinel)?;
        let mut conn = self.conn(sentinel)?;
        let name = self.master_name();
        let retry_until = Instant::now() + FAILOVER_RETRY;
        let fault_at = loop {
            let at = Instant::now();
            let reply = conn.cmd(["SENTINEL", "FAILOVER", name])?;
            if !reply.is_error() {
                break at;
            }
            let text = reply
                .as_bytes()
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default();
            let retry = text.starts_with("NOGOODSLAVE") || text.starts_with("INPROG");
            if !retry || Instant::now() > retry_until {
                return Err(format!(
                    "SENTINEL FAILOVER {name} on sentinel {sentinel}: {text}\n{}",
                    self.sentinel_logs()
                )
                .into());
            }
            std::thread::sleep(Duration::from_millis(200));
        };
        let switch = self.wait_switch(&mut watch, old, fault_at)?;
        let new = switch.new_primary;
        self.wait_for(
            &format!("the group to settle after the failover from {old} to {new}"),
            WAIT.saturating_sub(fault_at.elapsed()),
            || self.check_settled(new),
        )?;
        Ok(switch)
    }

    /// SIGKILL of the current primary; waits (up to 30 s) until every sentinel reports a new
    /// primary whose `ROLE` is master, then (up to 30 s more) until the group is settled around it
    /// (the other running replicas follow it and the sentinels see them). The killed node stays
    /// down until [`SentinelGroup::restart`]. The switch is timed by a subscriber on the first
    /// sentinel.
    pub fn kill_primary(&self) -> Result<SentinelSwitch, Error> {
        let _ops = self.lock_ops();
        let old = self.settled_primary("kill_primary")?;
        let mut watch = self.watch(self.first_sentinel()?)?;
        let fault_at = {
            let mut data = lock(&self.data);
            let node = data
                .iter_mut()
                .find(|p| p.port == old)
                .ok_or_else(|| format!("the primary {old} is not a data node of this group"))?;
            let at = Instant::now();
            node.kill()?;
            at
        };
        let switch = self.wait_switch(&mut watch, old, fault_at)?;
        let new = switch.new_primary;
        self.wait_for(
            &format!("every sentinel to report {new} as the primary after {old} was killed"),
            WAIT.saturating_sub(fault_at.elapsed()),
            || match self.primary_now()? {
                p if p == new => Ok(()),
                p => Err(format!("the primary is {p}, not {new}")),
            },
        )?;
        self.wait_for(
            &format!("the group to settle around {new} after {old} was killed"),
            WAIT,
            || self.check_settled(new),
        )?;
        Ok(switch)
    }

    /// Restarts a killed data node (same port, same directory) as a replica of the current
    /// primary; waits (up to 30 s) until it is in sync and the sentinels no longer flag it down.
    pub fn restart(&self, port: u16) -> Result<(), Error> {
        let _ops = self.lock_ops();
        let primary = self.wait_for(
            &format!("a primary the sentinels agree on before restarting {port}"),
            WAIT,
            || self.primary_now(),
        )?;
        let dir = {
            let data = lock(&self.data);
            let node = data
                .iter()
                .find(|p| p.port == port)
                .ok_or_else(|| format!("restart {port}: not a data node of this group"))?;
            if node.child.is_some() {
                return Err(format!("restart {port}: it is running").into());
            }
            node.dir.clone()
        };
        // Started outside the lock (accessors do not wait for it), then put in place.
        let mut proc = Proc {
            port,
            dir,
            child: None,
        };
        if let Err(e) = self.spawn(&mut proc, Kind::Data(Some(primary))) {
            let _ = proc.kill();
            return Err(format!("restart {port}: {e}").into());
        }
        if let Some(node) = lock(&self.data).iter_mut().find(|p| p.port == port) {
            node.child = proc.child.take();
        }
        self.wait_for(
            &format!("{port} to be back as a replica of {primary}, seen by every sentinel"),
            WAIT,
            || self.check_settled(primary),
        )
    }

    /// Waits (up to 30 s) for the group to be settled before a fault; returns the primary.
    fn settled_primary(&self, what: &str) -> Result<u16, Error> {
        self.wait_for(
            &format!("the group to be settled before {what}"),
            WAIT,
            || {
                let primary = self.primary_now()?;
                self.check_settled(primary)?;
                Ok(primary)
            },
        )
    }

    fn first_sentinel(&self) -> Result<u16, Error> {
        lock(&self.sentinels)
            .iter()
            .find(|p| p.child.is_some())
            .map(|p| p.port)
            .ok_or_else(|| "no sentinel of the group is running".into())
    }

    /// Subscribes to the events of the sentinel on `sentinel`.
    fn watch(&self, sentinel: u16) -> Result<Watch, Error> {
        let mut conn = self.conn(sentinel)?;
        let mut args = vec!["SUBSCRIBE"];
        args.extend(EVENTS);
        conn.send(args)?;
        for _ in EVENTS {
            let reply = conn.read()?;
            let kind = reply
                .as_items()
                .and_then(|i| i.first())
                .and_then(|f| f.as_bytes());
            if kind.map(|k| &k[..]) != Some(&b"subscribe"[..]) {
                return Err(format!("SUBSCRIBE on sentinel {sentinel} answered {reply:?}").into());
            }
        }
        Ok(Watch {
            conn,
            sentinel,
            seen: Vec::new(),
        })
    }

    /// Reads `watch` until `+switch-master` for this group's master arrives (up to 30 s after
    /// `fault_at`).
    fn wait_switch(
        &self,
        watch: &mut Watch,
        old: u16,
        fault_at: Instant,
    ) -> Result<SentinelSwitch, Error> {
        let deadline = fault_at + WAIT;
        let name = self.master_name();
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            let timed_out = || -> Error {
                format!(
                    "no +switch-master for {name} on sentinel {} within {WAIT:?} of the fault on {old}; events seen: {:?}\n{}",
                    watch.sentinel,
                    watch.seen,
                    self.sentinel_logs()
                )
                .into()
            };
            if remaining.is_zero() {
                return Err(timed_out());
            }
            watch
                .conn
                .set_read_timeout(remaining.max(Duration::from_millis(1)))?;
            let frame = match watch.conn.read() {
                Ok(frame) => frame,
                Err(e) => {
                    let timeout = e.downcast_ref::<std::io::Error>().is_some_and(|e| {
                        matches!(
                            e.kind(),
                            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                        )
                    });
                    if timeout {
                        return Err(timed_out());
                    }
                    return Err(format!(
                        "the subscriber on sentinel {} failed: {e}",
                        watch.sentinel
                    )
                    .into());
                }
            };
            let switched_at = Instant::now();
            let items = frame.as_items().unwrap_or_default();
            let texts: Vec<String> = items
                .iter()
                .filter_map(|f| f.as_bytes())
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .collect();
            let (Some(channel), Some(payload)) = (texts.get(1), texts.get(2)) else {
                continue;
            };
            watch.seen.push(format!("{channel} {payload}"));
            // "+switch-master NAME OLD-IP OLD-PORT NEW-IP NEW-PORT"
            let words: Vec<&str> = payload.split_whitespace().collect();
            if channel != "+switch-master" || words.first() != Some(&name) {
                continue;
            }
            let port = |i: usize| words.get(i).and_then(|p| p.parse::<u16>().ok());
            let (Some(from), Some(to)) = (port(2), port(4)) else {
                return Err(format!("unexpected +switch-master message: {payload:?}").into());
            };
            if from != old || to == old {
                return Err(format!(
                    "+switch-master {payload:?}: expected a switch away from {old}"
                )
                .into());
            }
            return Ok(SentinelSwitch {
                old_primary: old,
                new_primary: to,
                fault_at,
                switched_at,
                failover_time: switched_at.saturating_duration_since(fault_at),
            });
        }
    }
}
