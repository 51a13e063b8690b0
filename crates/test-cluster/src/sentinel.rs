//! A real Redis Sentinel group: a primary, its replicas and the sentinels monitoring it, all
//! `redis-server` processes on free loopback ports, broken on demand and killed on drop.
//!
//! Data nodes and sentinels each run from a config file of their own in `node-PORT/` or
//! `sentinel-PORT/` under `target/slotwise-test/sentinel-OWNERPID-N/` (Sentinel rewrites its file;
//! data nodes get `CONFIG REWRITE` from the sentinels when they are reconfigured). Data nodes keep
//! nothing on disk (`save ""`, no AOF) and sync replicas at once (`repl-diskless-sync-delay 0`).
//! Sentinels monitor the primary as `127.0.0.1:PORT` with `sentinel resolve-hostnames no` and a
//! quorum of a majority of the sentinels.
//!
//! With a password, it is `requirepass` on every data node and sentinel, `masterauth` on the data
//! nodes, `sentinel auth-pass` (sentinels to data nodes) and `sentinel sentinel-pass` (sentinels
//! to each other). With TLS, every process listens only on its TLS port (`port 0`), replication and
//! the sentinels' links use TLS (`tls-replication yes`), and client certificates are optional.
//!
//! A group counts as settled when exactly one running data node says `ROLE` master, every other
//! running data node is its replica and in sync, and every sentinel reports it as the primary
//! (not flagged down, no failover in progress), lists every running replica unflagged, and knows
//! every other sentinel, none flagged.
//!
//! How long things take with the defaults (down-after 2 s, measured on loopback): the sentinels
//! know each other about 2 s after they start (hello messages every 2 s). `SENTINEL FAILOVER`
//! switches in about 1 s with one replica and 2 s with two (the leader reconfigures the other
//! replicas before it announces the switch); the old primary then stays a master for another
//! ~9 s, until a sentinel turns it into a replica (Sentinel waits 8 s after a node it lists as a
//! replica reports master), so [`SentinelGroup::failover`] returns about 11 s after the fault. A
//! kill -9 switches in about 3.2 s (down-after, then the vote, the promotion and the other
//! replica's reconfiguration); a sentinel counts the silence from the last reply it got, so the
//! switch can come a little sooner than that after the kill.

mod faults;
mod launch;
mod view;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Child;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use crate::conn::{Conn, ConnOptions};
use crate::tls::TlsFiles;
use crate::{Error, process, redis_server_binary};

/// How long every wait of a group lasts at most (start, failover, kill, restart).
const WAIT: Duration = Duration::from_secs(30);

/// How to start a [`SentinelGroup`].
#[derive(Clone, Debug)]
pub struct SentinelOptions {
    /// The name the sentinels monitor the primary under (`sentinel monitor NAME …`); letters,
    /// digits, `.`, `-` and `_` only. Default `"mymaster"`.
    pub master_name: String,
    /// How many replicas of the primary (`replicaof`). Default 2.
    pub replicas: usize,
    /// How many sentinels (at least 1); the quorum is `sentinels / 2 + 1`. Default 3.
    pub sentinels: usize,
    /// `sentinel down-after-milliseconds`: how long a node must not answer before a sentinel
    /// flags it down. Default 2000: a sentinel pings a primary it has just switched to only
    /// once its ping period (1 s) has passed, so with 1000 it may flag the new primary down right
    /// after a switch and fail over a second time (seen under load in the e2e scenario).
    pub down_after_ms: u64,
    /// `sentinel failover-timeout`. Default 10000.
    pub failover_timeout_ms: u64,
    /// A password (`requirepass`) on the data nodes and on the sentinels, with `masterauth`,
    /// `sentinel auth-pass` and `sentinel sentinel-pass` set so replication and the sentinels
    /// still work. [`SentinelGroup::conn`] authenticates with it (as user `default`). Default
    /// `None`.
    pub password: Option<String>,
    /// TLS only (`port 0`, `tls-port`) on the data nodes, replication and the sentinels, with
    /// certificates generated for the group ([`SentinelGroup::tls_files`]). Default false.
    pub tls: bool,
}

impl Default for SentinelOptions {
    fn default() -> SentinelOptions {
        SentinelOptions {
            master_name: "mymaster".into(),
            replicas: 2,
            sentinels: 3,
            down_after_ms: 2000,
            failover_timeout_ms: 10000,
            password: None,
            tls: false,
        }
    }
}

/// What a failover did, timed by a subscriber the tooling holds on one sentinel (`SUBSCRIBE
/// +switch-master`, opened before the fault).
#[derive(Clone, Copy, Debug)]
pub struct SentinelSwitch {
    /// The port of the primary before the fault.
    pub old_primary: u16,
    /// The port of the replica the sentinels promoted.
    pub new_primary: u16,
    /// When the fault was caused (`SENTINEL FAILOVER` sent / SIGKILL sent).
    pub fault_at: std::time::Instant,
    /// When the `+switch-master` message for this master arrived at the tooling's subscriber.
    pub switched_at: std::time::Instant,
    /// `switched_at - fault_at`: the sentinels' failover time.
    pub failover_time: std::time::Duration,
}

/// A primary, its replicas and the sentinels monitoring it, all on free loopback ports.
///
/// Every method takes `&self` and the type is `Send + Sync`: one thread can inject faults while
/// others run traffic. Faults are serialized among themselves; accessors do not wait for them.
/// Dropping it kills every process it started (by PID) and removes its directory, also when a
/// test panics.
#[derive(Debug)]
pub struct SentinelGroup {
    options: SentinelOptions,
    dir: PathBuf,
    binary: PathBuf,
    tls: Option<TlsFiles>,
    conn_options: ConnOptions,
    /// The primary and the replicas, in the order they were started.
    data: Mutex<Vec<Proc>>,
    /// The sentinels, in the order they were started.
    sentinels: Mutex<Vec<Proc>>,
    /// Serializes faults (failover, kill, restart).
    ops: Mutex<()>,
}

/// One process of the group (running or down).
#[derive(Debug)]
struct Proc {
    port: u16,
    dir: PathBuf,
    /// `None` while down.
    child: Option<Child>,
}

impl Proc {
    /// Kills the process (SIGKILL to our own child, then reaped).
    fn kill(&mut self) -> Result<(), Error> {
        if let Some(mut child) = self.child.take() {
            process::kill_child(&mut child)?;
        }
        Ok(())
    }
}

static NEXT_GROUP: AtomicUsize = AtomicUsize::new(0);

impl SentinelGroup {
    /// Starts the primary and the replicas (`replicaof`), waits until every replica is in sync
    /// (`master_link_status:up`), starts the sentinels, and waits until every sentinel reports the
    /// primary (`SENTINEL GET-MASTER-ADDR-BY-NAME`), knows all replicas (`SENTINEL REPLICAS`, none
    /// flagged down or disconnected) and all other sentinels (`SENTINEL SENTINELS`). Each wait
    /// lasts up to 30 s, then fails with the sentinels' logs.
    pub fn start(options: &SentinelOptions) -> Result<SentinelGroup, Error> {
        check_options(options)?;
        let binary = redis_server_binary()?;
        let n = NEXT_GROUP.fetch_add(1, Ordering::Relaxed);
        let root = crate::server::target_dir().join("slotwise-test");
        if n == 0 {
            crate::reap::reap_orphans(&root);
        }
        let dir = root.join(format!("sentinel-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("could not create {}: {e}", dir.display()))?;
        // Processes run in their own directory: every path they are given must be absolute.
        let dir = std::fs::canonicalize(&dir)?;
        let tls = if options.tls {
            Some(TlsFiles::generate(&dir.join("tls"))?)
        } else {
            None
        };
        let conn_options = ConnOptions {
            auth: options
                .password
                .as_ref()
                .map(|p| ("default".to_owned(), p.clone())),
            tls: tls.as_ref().map(TlsFiles::client_config).transpose()?,
        };
        let group = SentinelGroup {
            options: options.clone(),
            dir,
            binary,
            tls,
            conn_options,
            data: Mutex::new(Vec::new()),
            sentinels: Mutex::new(Vec::new()),
            ops: Mutex::new(()),
        };
        // On error, Drop kills whatever was started.
        group.launch()?;
        Ok(group)
    }

    /// The name the sentinels monitor the primary under.
    pub fn master_name(&self) -> &str {
        &self.options.master_name
    }

    /// The options it was started with.
    pub fn options(&self) -> &SentinelOptions {
        &self.options
    }

    /// The quorum the sentinels were given (`sentinels / 2 + 1`).
    pub fn quorum(&self) -> usize {
        self.options.sentinels / 2 + 1
    }

    /// Its directory (`node-PORT/` and `sentinel-PORT/` with each process's config file and
    /// `redis.log`, certificates in `tls/`).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The sentinels' ports (each sentinel's own listening port), in the order they were started.
    pub fn sentinel_ports(&self) -> Vec<u16> {
        lock(&self.sentinels).iter().map(|p| p.port).collect()
    }

    /// The ports of the data nodes (the first primary, then the replicas, as started), running
    /// or not.
    pub fn data_ports(&self) -> Vec<u16> {
        lock(&self.data).iter().map(|p| p.port).collect()
    }

    /// The current primary as the data nodes say it: the one running node whose `ROLE` is master
    /// and which every sentinel reports. An error if they disagree (or a node does not answer).
    pub fn primary_port(&self) -> Result<u16, Error> {
        self.primary_now().map_err(Into::into)
    }

    /// How to connect to its processes (password as user `default`, TLS client configuration).
    pub fn conn_options(&self) -> &ConnOptions {
        &self.conn_options
    }

    /// The certificate files of a TLS group (`None` without TLS).
    pub fn tls_files(&self) -> Option<&TlsFiles> {
        self.tls.as_ref()
    }

    /// The loopback address of a port.
    pub fn addr(port: u16) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, port))
    }

    /// A new connection to any data node or sentinel port (authenticated and over TLS as the
    /// options say).
    pub fn conn(&self, port: u16) -> Result<Conn, Error> {
        Conn::connect_with(SentinelGroup::addr(port), &self.conn_options)
    }

    /// Stops everything (sentinels first) and removes the group's directory; also done on drop.
    pub fn stop(mut self) -> Result<(), Error> {
        self.shutdown()
    }

    fn shutdown(&mut self) -> Result<(), Error> {
        let mut first_error = None;
        for procs in [&self.sentinels, &self.data] {
            let mut procs = lock(procs);
            for p in procs.iter_mut() {
                if let Err(e) = p.kill() {
                    first_error.get_or_insert(e);
                }
            }
            procs.clear();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
        first_error.map_or(Ok(()), Err)
    }

    /// Serializes faults.
    fn lock_ops(&self) -> MutexGuard<'_, ()> {
        lock(&self.ops)
    }
}

impl Drop for SentinelGroup {
    fn drop(&mut self) {
        let _ = self.shutdown();
    }
}

/// Locks a mutex, also when a panicking thread poisoned it (the data stays consistent: every
/// critical section is a few field updates).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

fn check_options(o: &SentinelOptions) -> Result<(), Error> {
    let name_ok = !o.master_name.is_empty()
        && o.master_name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    if !name_ok {
        return Err(format!(
            "master_name {:?}: use letters, digits, '.', '-' and '_' only",
            o.master_name
        )
        .into());
    }
    if o.sentinels == 0 {
        return Err("a sentinel group needs at least one sentinel".into());
    }
    if o.down_after_ms == 0 || o.failover_timeout_ms == 0 {
        return Err("down_after_ms and failover_timeout_ms must be positive".into());
    }
    if o.password.as_deref() == Some("") {
        return Err("an empty password disables requirepass: use None instead".into());
    }
    Ok(())
}
