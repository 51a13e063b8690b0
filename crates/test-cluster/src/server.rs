//! One `redis-server` process on a free loopback port, killed on drop.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::{Conn, Error};

/// How to start a [`Server`].
#[derive(Clone, Debug, Default)]
pub struct ServerOptions {
    /// Port to listen on; `None` picks a free one.
    pub port: Option<u16>,
    /// Start with `cluster-enabled yes` (no slots are assigned).
    pub cluster_enabled: bool,
    /// Extra `redis-server` arguments, e.g. `["--cluster-node-timeout", "2000"]`.
    pub extra_args: Vec<String>,
}

/// A running `redis-server` that this process started. Dropping it kills it (by PID) and removes its
/// working directory.
#[derive(Debug)]
pub struct Server {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Server {
    /// Starts a server in a fresh directory under `target/slotwise-test/` and waits (up to 10 s)
    /// until it answers `PING`.
    pub fn start(options: &ServerOptions) -> Result<Server, Error> {
        let binary = redis_server_binary()?;
        let port = match options.port {
            Some(p) => p,
            None => free_port()?,
        };
        let dir = scratch_dir(&format!("server-{port}"))?;
        // Through a shell that closes inherited descriptors first (see `process::redis_command`).
        let mut cmd = crate::process::redis_command(&binary);
        cmd.arg("--port")
            .arg(port.to_string())
            .args([
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
            ])
            .arg("--dir")
            .arg(&dir)
            .arg("--logfile")
            .arg(dir.join("redis.log"));
        if options.cluster_enabled {
            cmd.args(["--cluster-enabled", "yes", "--cluster-config-file"])
                .arg(dir.join("nodes.conf"));
        }
        cmd.args(&options.extra_args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let child = cmd
            .spawn()
            .map_err(|e| format!("could not start redis-server: {e}"))?;
        let mut server = Server { child, port, dir };
        server.wait_ready(Duration::from_secs(10))?;
        Ok(server)
    }

    fn wait_ready(&mut self, timeout: Duration) -> Result<(), Error> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait()? {
                let log = std::fs::read_to_string(self.dir.join("redis.log")).unwrap_or_default();
                return Err(format!(
                    "redis-server on port {} exited ({status}):\n{log}",
                    self.port
                )
                .into());
            }
            if let Ok(mut conn) = Conn::connect(self.addr())
                && conn.ok(["PING"]).is_ok()
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "redis-server on port {} did not answer PING within {timeout:?}",
                    self.port
                )
                .into());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The loopback address it listens on.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.port))
    }

    /// Its port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// A new blocking connection to it.
    pub fn conn(&self) -> Result<Conn, Error> {
        Conn::connect(self.addr())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A port that was free a moment ago (bound to port 0 on 127.0.0.1, then released). The cluster bus
/// uses port + 10000, so ports above 55535 are skipped.
pub fn free_port() -> Result<u16, Error> {
    for _ in 0..100 {
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
            .local_addr()?
            .port();
        if port <= 55535 && TcpListener::bind((Ipv4Addr::LOCALHOST, port + 10000)).is_ok() {
            return Ok(port);
        }
    }
    Err("no free loopback port pair (port, port + 10000) found".into())
}

/// A fresh, empty directory under the workspace's `target/slotwise-test/`.
fn scratch_dir(name: &str) -> Result<PathBuf, Error> {
    let root = target_dir().join("slotwise-test");
    let dir = root.join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

pub(crate) fn target_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(dir);
    }
    // crates/test-cluster → workspace root.
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target")
}

/// The `redis-server` binary from `PATH`. When it is missing on a Debian machine and we are root, it is
/// installed with `apt-get` (saying so); otherwise the error says what to install.
pub fn redis_server_binary() -> Result<PathBuf, Error> {
    if let Some(path) = which("redis-server") {
        return Ok(path);
    }
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0"))
        .unwrap_or(false);
    let is_debian = Path::new("/etc/debian_version").exists();
    if is_root && is_debian {
        eprintln!(
            "slotwise: redis-server not found; installing it with apt-get (Debian package redis-server)"
        );
        let ok = Command::new("sh")
            .args(["-c", "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server"])
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if let (true, Some(path)) = (ok, which("redis-server")) {
            return Ok(path);
        }
    }
    Err("redis-server not found on PATH: install Redis 7 (Debian/Ubuntu: `apt-get install redis-server`)".into())
}

fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}
