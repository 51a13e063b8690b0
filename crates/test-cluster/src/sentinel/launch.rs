//! Launching the group's processes: config files, free ports, readiness, and the start sequence.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::{Proc, SentinelGroup, WAIT, lock};
use crate::{Error, free_port, process};

/// How many times a process on an automatically chosen port is retried on another port when its
/// port was taken between choosing and binding.
const PORT_ATTEMPTS: usize = 5;

/// A data node or a sentinel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    /// A data node: a replica of the given primary port, or the primary.
    Data(Option<u16>),
    /// A sentinel monitoring the given primary port.
    Sentinel(u16),
}

impl Kind {
    fn dir_prefix(self) -> &'static str {
        match self {
            Kind::Data(_) => "node",
            Kind::Sentinel(_) => "sentinel",
        }
    }
}

impl SentinelGroup {
    /// The start sequence (see [`SentinelGroup::start`]); on error, `Drop` cleans up.
    pub(super) fn launch(&self) -> Result<(), Error> {
        let primary = self.launch_new(Kind::Data(None))?;
        lock(&self.data).push(primary);
        let primary = self.data_ports().first().copied().ok_or("no primary")?;
        for _ in 0..self.options.replicas {
            let replica = self.launch_new(Kind::Data(Some(primary)))?;
            lock(&self.data).push(replica);
        }
        self.wait_for("every replica to be in sync with the primary", WAIT, || {
            self.data_ports()
                .into_iter()
                .filter(|&p| p != primary)
                .try_for_each(|p| self.check_in_sync(p, primary))
        })?;
        for _ in 0..self.options.sentinels {
            let sentinel = self.launch_new(Kind::Sentinel(primary))?;
            lock(&self.sentinels).push(sentinel);
        }
        self.wait_for(
            "every sentinel to report the primary, all replicas and all other sentinels",
            WAIT,
            || self.check_settled(primary),
        )
    }

    /// Starts a new process of `kind` on a free port (retried on another port if it was taken
    /// meanwhile) and waits until it answers.
    fn launch_new(&self, kind: Kind) -> Result<Proc, Error> {
        let mut attempt = 0;
        loop {
            let port = claim_port()?;
            let dir = self.dir.join(format!("{}-{port}", kind.dir_prefix()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir)?;
            let mut proc = Proc {
                port,
                dir,
                child: None,
            };
            match self.spawn(&mut proc, kind) {
                Ok(()) => return Ok(proc),
                Err(e) => {
                    let _ = proc.kill();
                    let _ = std::fs::remove_dir_all(&proc.dir);
                    attempt += 1;
                    if !e.to_string().contains("Address already in use") || attempt >= PORT_ATTEMPTS
                    {
                        return Err(e);
                    }
                }
            }
        }
    }

    /// Writes the config file of `proc` (fresh) and starts it in its directory; waits until it
    /// answers.
    pub(super) fn spawn(&self, proc: &mut Proc, kind: Kind) -> Result<(), Error> {
        let config = proc.dir.join(match kind {
            Kind::Data(_) => "redis.conf",
            Kind::Sentinel(_) => "sentinel.conf",
        });
        std::fs::write(&config, self.config(proc.port, &proc.dir, kind))
            .map_err(|e| format!("could not write {}: {e}", config.display()))?;
        let mut args = vec![config.to_string_lossy().into_owned()];
        if matches!(kind, Kind::Sentinel(_)) {
            args.push("--sentinel".into());
        }
        let child = process::spawn(&self.binary, &proc.dir, &args, false)?;
        proc.child = Some(child);
        self.wait_ready(proc)
    }

    /// The config file of a process of `kind` on `port` living in `dir`.
    fn config(&self, port: u16, dir: &Path, kind: Kind) -> String {
        let o = &self.options;
        let mut lines: Vec<String> = Vec::new();
        let path = |p: &Path| quote(&p.to_string_lossy());
        match &self.tls {
            None => lines.push(format!("port {port}")),
            Some(tls) => {
                lines.push("port 0".into());
                lines.push(format!("tls-port {port}"));
                lines.push(format!("tls-cert-file {}", path(&tls.server_cert)));
                lines.push(format!("tls-key-file {}", path(&tls.server_key)));
                lines.push(format!("tls-ca-cert-file {}", path(&tls.ca_cert)));
                lines.push("tls-replication yes".into());
                lines.push("tls-auth-clients optional".into());
            }
        }
        lines.push("bind 127.0.0.1".into());
        lines.push("daemonize no".into());
        lines.push(format!("dir {}", path(dir)));
        lines.push(format!("logfile {}", path(&dir.join("redis.log"))));
        // Lets a later run find and kill it should this process die without cleaning up.
        lines.push(format!("pidfile {}", path(&dir.join("redis.pid"))));
        if let Some(pass) = &o.password {
            lines.push(format!("requirepass {}", quote(pass)));
        }
        match kind {
            Kind::Data(primary) => {
                lines.push("save \"\"".into());
                lines.push("appendonly no".into());
                // The default waits 5 s for more replicas before a full sync.
                lines.push("repl-diskless-sync-delay 0".into());
                if let Some(pass) = &o.password {
                    lines.push(format!("masterauth {}", quote(pass)));
                }
                if let Some(primary) = primary {
                    lines.push(format!("replicaof 127.0.0.1 {primary}"));
                }
            }
            Kind::Sentinel(primary) => {
                let name = &o.master_name;
                lines.push("sentinel resolve-hostnames no".into());
                lines.push(format!(
                    "sentinel monitor {name} 127.0.0.1 {primary} {}",
                    self.quorum()
                ));
                lines.push(format!(
                    "sentinel down-after-milliseconds {name} {}",
                    o.down_after_ms
                ));
                lines.push(format!(
                    "sentinel failover-timeout {name} {}",
                    o.failover_timeout_ms
                ));
                lines.push(format!("sentinel parallel-syncs {name} 1"));
                if let Some(pass) = &o.password {
                    lines.push(format!("sentinel auth-pass {name} {}", quote(pass)));
                    lines.push(format!("sentinel sentinel-pass {}", quote(pass)));
                }
            }
        }
        let mut text = lines.join("\n");
        text.push('\n');
        text
    }

    /// Waits (up to 10 s) until the process of `proc` answers `INFO server` with its own PID
    /// (another process may own the port; ours then fails to bind and exits).
    fn wait_ready(&self, proc: &mut Proc) -> Result<(), Error> {
        let timeout = Duration::from_secs(10);
        let deadline = Instant::now() + timeout;
        loop {
            let Some(child) = &mut proc.child else {
                return Err(format!("the process for port {} is not running", proc.port).into());
            };
            let pid = child.id();
            if let Some(status) = child.try_wait()? {
                proc.child = None;
                return Err(format!(
                    "redis-server for port {} exited ({status}); end of its log:\n{}",
                    proc.port,
                    log_tail(&proc.dir, 15)
                )
                .into());
            }
            let last = match self.ask_pid(proc.port) {
                Ok(p) if p == pid => return Ok(()),
                Ok(p) => format!("port {} is served by another process ({p})", proc.port),
                Err(e) => e,
            };
            if Instant::now() > deadline {
                return Err(format!(
                    "redis-server on port {} did not answer within {timeout:?} (last error: {last}); end of its log:\n{}",
                    proc.port,
                    log_tail(&proc.dir, 15)
                )
                .into());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The `process_id` the server on `port` reports.
    fn ask_pid(&self, port: u16) -> Result<u32, String> {
        let info = self
            .conn(port)
            .and_then(|mut c| c.text(["INFO", "server"]))
            .map_err(|e| e.to_string())?;
        super::view::info_field(&info, "process_id")
            .and_then(|p| p.parse().ok())
            .ok_or_else(|| "INFO server without process_id".into())
    }
}

/// The last `n` lines of the log in `dir`.
pub(super) fn log_tail(dir: &Path, n: usize) -> String {
    let log = std::fs::read_to_string(dir.join("redis.log")).unwrap_or_default();
    let lines: Vec<&str> = log.lines().collect();
    lines
        .get(lines.len().saturating_sub(n)..)
        .unwrap_or_default()
        .join("\n")
}

/// A config-file value in double quotes (as Redis's config parser reads them).
fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_ascii_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A free port no other group of this process has been given (parallel tests would otherwise
/// race for the same one between choosing and binding).
fn claim_port() -> Result<u16, Error> {
    static CLAIMED: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());
    for _ in 0..100 {
        let port = free_port()?;
        if lock(&CLAIMED).insert(port) {
            return Ok(port);
        }
    }
    Err("no unclaimed free port found in 100 attempts".into())
}
