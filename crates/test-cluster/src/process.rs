//! Starting, checking and killing `redis-server` processes by PID — only ones this crate started.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::Error;

/// Spawns `redis-server` with `args`, logging to `dir/redis.log`. With `own_group` it gets a process
/// group of its own, so it outlives the starting process and a Ctrl-C in its terminal.
pub(crate) fn spawn(
    binary: &Path,
    dir: &Path,
    args: &[String],
    own_group: bool,
) -> Result<Child, Error> {
    let mut cmd = Command::new(binary);
    cmd.args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if own_group {
        cmd.process_group(0);
    }
    cmd.spawn()
        .map_err(|e| format!("could not start {}: {e}", binary.display()).into())
}

/// True when `pid` is a live (not zombie) `redis-server` process.
pub(crate) fn is_redis_server(pid: u32) -> bool {
    let proc_dir = Path::new("/proc").join(pid.to_string());
    if Path::new("/proc/self").exists() {
        let Ok(stat) = std::fs::read_to_string(proc_dir.join("stat")) else {
            return false;
        };
        // "PID (comm) STATE ...": a zombie is dead already.
        let state = stat.rsplit(')').next().unwrap_or("").trim_start();
        if state.starts_with('Z') || state.starts_with('X') {
            return false;
        }
        let cmdline = std::fs::read(proc_dir.join("cmdline")).unwrap_or_default();
        return String::from_utf8_lossy(&cmdline).contains("redis-server");
    }
    // No procfs (macOS and the like): ask ps.
    Command::new("ps")
        .args(["-p", &pid.to_string(), "-o", "comm="])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("redis-server"))
        .unwrap_or(false)
}

/// Sends SIGKILL to `pid` (with the `kill` command: this crate forbids `unsafe`), after checking it
/// is still a `redis-server`, and waits up to 5 s for it to be gone. A PID that is no longer a
/// `redis-server` is left alone (it may have been reused).
pub(crate) fn kill_pid(pid: u32) -> Result<(), Error> {
    if !is_redis_server(pid) {
        return Ok(());
    }
    let status = Command::new("kill")
        .args(["-9", &pid.to_string()])
        .stderr(Stdio::null())
        .status()
        .map_err(|e| format!("could not run `kill -9 {pid}`: {e}"))?;
    if !status.success() && is_redis_server(pid) {
        return Err(format!("`kill -9 {pid}` failed ({status})").into());
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while is_redis_server(pid) {
        if Instant::now() > deadline {
            return Err(format!("redis-server PID {pid} still alive 5 s after SIGKILL").into());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok(())
}

/// Kills a child we started (SIGKILL) and reaps it.
pub(crate) fn kill_child(child: &mut Child) -> Result<(), Error> {
    if child.try_wait()?.is_none() {
        child.kill()?;
    }
    child.wait()?;
    Ok(())
}
