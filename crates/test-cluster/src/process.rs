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
    let mut cmd = redis_command(binary);
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

/// Closes every file descriptor but 0, 1 and 2, then `exec`s its arguments. `/dev/fd` lists the
/// shell's own descriptors (on Linux it is `/proc/self/fd`). POSIX shells only take single-digit
/// descriptors in redirections; bash takes any, so it is used when there is one.
const CLOSE_FDS_AND_EXEC: &str = r#"for fd in /dev/fd/*; do
  fd=${fd##*/}
  case $fd in
    ''|*[!0-9]*|0|1|2) ;;
    [3-9]) eval "exec $fd>&-" ;;
    *) if [ -n "${BASH_VERSION:-}" ]; then eval "exec $fd>&-"; fi ;;
  esac
done
exec "$@""#;

/// A command that runs `binary` with no open file descriptor but stdin, stdout and stderr.
///
/// `Command` marks the descriptors Rust opens close-on-exec, but not the ones this process
/// inherited without that flag: a lock file held by the caller (`flock FILE cargo xtask cluster
/// start`, `exec 9>FILE`), a CI runner's pipe. A `redis-server` would keep them open for its whole
/// life — the lock stays held, the pipe never reaches EOF. So the server starts through a shell
/// that closes them and then `exec`s it: same PID, same process group, nothing inherited. (Closing
/// them in `pre_exec` would need `unsafe`, which this crate forbids.)
pub(crate) fn redis_command(binary: &Path) -> Command {
    let shell = ["/bin/bash", "/usr/bin/bash", "/bin/sh"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .unwrap_or("sh");
    let mut cmd = Command::new(shell);
    cmd.args(["-c", CLOSE_FDS_AND_EXEC, "slotwise-redis-launcher"])
        .arg(binary);
    cmd
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

/// True once `pid` has exited: no process, or a zombie. (Not "no longer a redis-server": a process
/// being killed loses its command line before it is a zombie.)
fn has_exited(pid: u32) -> bool {
    if !Path::new("/proc/self").exists() {
        return !is_redis_server(pid);
    }
    match std::fs::read_to_string(Path::new("/proc").join(pid.to_string()).join("stat")) {
        Ok(stat) => {
            let state = stat.rsplit(')').next().unwrap_or("").trim_start();
            state.starts_with('Z') || state.starts_with('X')
        }
        Err(_) => true,
    }
}

/// Sends SIGKILL to `pid` (with the `kill` command: this crate forbids `unsafe`), after checking it
/// is still a `redis-server`, and waits up to 5 s for it to have exited. A PID that is no longer a
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
    while !has_exited(pid) {
        if Instant::now() > deadline {
            return Err(format!("redis-server PID {pid} still alive 5 s after SIGKILL").into());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok(())
}

/// Sends `SIG{name}` (`STOP`, `CONT`) to `pid`, after checking it is still a `redis-server`.
pub(crate) fn signal(pid: u32, name: &str) -> Result<(), Error> {
    if !is_redis_server(pid) {
        return Err(format!("PID {pid} is not a redis-server any more").into());
    }
    let status = Command::new("kill")
        .args([&format!("-{name}"), &pid.to_string()])
        .stderr(Stdio::null())
        .status()
        .map_err(|e| format!("could not run `kill -{name} {pid}`: {e}"))?;
    if !status.success() {
        return Err(format!("`kill -{name} {pid}` failed ({status})").into());
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

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};
    use std::process::Command;

    use crate::{Cluster, ClusterOptions, Server, ServerOptions};

    const CHILD: &str = "SLOTWISE_FD_LEAK_CHILD";
    const TEST: &str = "process::tests::no_inherited_fd_reaches_redis_server";

    /// The files `pid` has open (the targets of `/proc/PID/fd/*`).
    fn open_files(pid: u32) -> Vec<PathBuf> {
        std::fs::read_dir(format!("/proc/{pid}/fd"))
            .unwrap()
            .flatten()
            .filter_map(|e| std::fs::read_link(e.path()).ok())
            .collect()
    }

    /// A caller that holds a file open without `CLOEXEC` (as `flock FILE cmd` or `exec 9>FILE` in a
    /// shell do) must not pass it on to the `redis-server`s it starts: a lock would stay held, a
    /// pipe would never see EOF, for as long as the servers live. The test re-runs itself under
    /// `bash`, which opens two such files (fd 9 and fd 42) before `exec`ing this test binary; that
    /// child starts a server and a cluster and looks at their `/proc/PID/fd`.
    #[test]
    fn no_inherited_fd_reaches_redis_server() {
        if !Path::new("/proc/self/fd").exists() || !Path::new("/bin/bash").exists() {
            eprintln!("skipped: needs procfs and /bin/bash");
            return;
        }
        if let Some(files) = std::env::var_os(CHILD) {
            let held: Vec<PathBuf> = std::env::split_paths(&files).collect();
            // We really hold them (inherited, so without CLOEXEC): otherwise the test proves nothing.
            for file in &held {
                assert!(open_files(std::process::id()).contains(file), "{file:?}");
            }
            let server = Server::start(&ServerOptions::default()).unwrap();
            let cluster = Cluster::start(&ClusterOptions {
                primaries: 1,
                replicas: 1,
                ..Default::default()
            })
            .unwrap();
            let mut pids = vec![server.pid()];
            pids.extend(cluster.nodes().unwrap().iter().filter_map(|n| n.pid));
            assert_eq!(pids.len(), 3);
            for pid in pids {
                let open = open_files(pid);
                for file in &held {
                    assert!(
                        !open.contains(file),
                        "redis-server {pid} inherited {file:?}"
                    );
                }
            }
            return;
        }
        let dir = crate::server::target_dir().join("slotwise-test");
        std::fs::create_dir_all(&dir).unwrap();
        let dir = std::fs::canonicalize(dir).unwrap();
        let id = std::process::id();
        let files = [
            dir.join(format!("fd9-{id}.lock")),
            dir.join(format!("fd42-{id}.lock")),
        ];
        let status = Command::new("/bin/bash")
            .args(["-c", r#"exec 9>"$1" 42>"$2"; shift 2; exec "$@""#, "bash"])
            .args(&files)
            .arg(std::env::current_exe().unwrap())
            .args(["--exact", TEST, "--nocapture", "--test-threads=1"])
            .env(CHILD, std::env::join_paths(&files).unwrap())
            .status()
            .unwrap();
        for file in &files {
            let _ = std::fs::remove_file(file);
        }
        assert!(status.success(), "the child test failed ({status})");
    }
}
