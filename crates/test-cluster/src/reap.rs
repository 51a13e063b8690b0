//! Cleaning up after test processes that died without dropping their clusters (killed by a
//! timeout, `SIGKILL`, a crash): their `redis-server`s would otherwise run forever.

use std::path::Path;

use crate::process;

/// For every `cluster-OWNERPID-N/` (or `sentinel-OWNERPID-N/`) directory under `root` whose owner
/// process is gone, kills the processes recorded in its `*/redis.pid` (nodes, sentinels) — only
/// when that PID still is a `redis-server` whose working directory is that process's directory —
/// and removes the directory.
pub(crate) fn reap_orphans(root: &Path) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(owner) = name
            .strip_prefix("cluster-")
            .or_else(|| name.strip_prefix("sentinel-"))
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if owner == std::process::id() || Path::new(&format!("/proc/{owner}")).exists() {
            continue;
        }
        if !Path::new("/proc/self").exists() {
            // Without procfs the owner cannot be checked: leave everything alone.
            return;
        }
        let cluster_dir = entry.path();
        let nodes = std::fs::read_dir(&cluster_dir)
            .into_iter()
            .flatten()
            .flatten();
        for node in nodes {
            let node_dir = node.path();
            let Some(pid) = std::fs::read_to_string(node_dir.join("redis.pid"))
                .ok()
                .and_then(|s| s.trim().parse::<u32>().ok())
            else {
                continue;
            };
            let cwd = std::fs::read_link(format!("/proc/{pid}/cwd")).ok();
            let same_dir = match (cwd, std::fs::canonicalize(&node_dir).ok()) {
                (Some(cwd), Some(dir)) => cwd == dir,
                _ => false,
            };
            if same_dir && process::is_redis_server(pid) {
                eprintln!(
                    "slotwise-test-cluster: killing orphaned redis-server {pid} in {} (its test process {owner} is gone)",
                    node_dir.display()
                );
                let _ = process::kill_pid(pid);
            }
        }
        let _ = std::fs::remove_dir_all(&cluster_dir);
    }
}
