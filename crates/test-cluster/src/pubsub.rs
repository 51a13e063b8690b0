//! The pub/sub fault schedule every subscriber test runs, slotwise's adapters and peer clients
//! alike, so their losses compare: [`Ticks`] publishes numbered messages at 10/s through a node
//! that is never faulted, [`subscriber_faults`] puts the subscriber's node through a graceful
//! failover, a kill -9 and a restart over 36 s, [`lost`] lists what did not arrive and
//! [`outside_windows`] which of those no reported loss window explains.
//! [`Cluster::subscriber_nodes`] finds where a client (one whose choices are not reported) placed
//! its subscription.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::{Cluster, Error, Role};

/// How long the schedule of [`subscriber_faults`] runs, from its `start`.
pub const SCHEDULE: Duration = Duration::from_secs(36);

/// When the schedule's faults happen, from its `start`: the graceful failover, the kill -9, the
/// restart.
const FAILOVER_AT: Duration = Duration::from_secs(6);
const KILL_AT: Duration = Duration::from_secs(16);
const RESTART_AT: Duration = Duration::from_secs(26);

/// The gap between two published messages.
pub const TICK: Duration = Duration::from_millis(100);

/// A publisher of `"0"`, `"1"`, … to one channel, one message every [`TICK`], on a thread of its
/// own, through one node's plain connection (a global `PUBLISH` reaches every node's subscribers
/// over the cluster bus). A publish that fails is retried (reconnecting) until it is answered:
/// the subscriber side is what is under test.
pub struct Ticks {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<Result<Vec<Instant>, Error>>,
}

impl Ticks {
    /// Starts publishing to `channel` through the node at `port` (at most 1000 messages).
    pub fn start(cluster: &Cluster, port: u16, channel: &str) -> Result<Ticks, Error> {
        let mut conn = cluster.conn(port)?;
        let addr = Cluster::addr(port);
        let options = cluster.conn_options().clone();
        let channel = channel.to_string();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut sent = Vec::new();
            while !stopping.load(Ordering::Relaxed) && sent.len() < 1000 {
                let n = sent.len().to_string();
                let at = Instant::now();
                let mut tries = 0;
                while !matches!(conn.cmd(["PUBLISH", channel.as_str(), n.as_str()]), Ok(f) if !f.is_error())
                {
                    tries += 1;
                    if tries == 100 {
                        return Err(format!("PUBLISH {n} through {port} failed 100 times").into());
                    }
                    std::thread::sleep(Duration::from_millis(50));
                    if let Ok(fresh) = crate::Conn::connect_with(addr, &options) {
                        conn = fresh;
                    }
                }
                sent.push(at);
                std::thread::sleep(TICK);
            }
            Ok(sent)
        });
        Ok(Ticks { stop, thread })
    }

    /// Stops publishing; returns when each message was published (message `n` at index `n`).
    pub fn stop(self) -> Result<Vec<Instant>, Error> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().map_err(|_| "the publisher panicked")?
    }
}

/// When [`subscriber_faults`]'s faults happened.
#[derive(Clone, Copy, Debug)]
pub struct Faults {
    /// The graceful failover began.
    pub failover: Instant,
    /// The node was killed (SIGKILL sent).
    pub kill: Instant,
    /// The node was running again (as a replica).
    pub restarted: Instant,
}

/// Runs the 36 s schedule on the subscriber's node `node`, timed from `start` (when publishing
/// began): at 6 s a graceful failover (ending with the node as the primary just failed over to,
/// so it fails over twice when it was a primary), at 16 s a kill -9 (its replica takes over), at
/// 26 s its restart; returns at 36 s. It blocks: run it on a thread of its own while the
/// subscriber reads.
pub fn subscriber_faults(cluster: &Cluster, node: u16, start: Instant) -> Result<Faults, Error> {
    sleep_until(start + FAILOVER_AT);
    let failover = Instant::now();
    if cluster.node(node)?.role == Role::Primary {
        cluster.failover(node)?;
    }
    cluster.failover(node)?;
    sleep_until(start + KILL_AT);
    let kill = Instant::now();
    cluster.kill(node)?;
    sleep_until(start + RESTART_AT);
    cluster.restart(node)?;
    let restarted = Instant::now();
    sleep_until(start + SCHEDULE);
    Ok(Faults {
        failover,
        kill,
        restarted,
    })
}

/// A primary outside `node`'s shard, to publish through while `node`'s shard is faulted.
pub fn publisher_port(cluster: &Cluster, node: u16) -> Result<u16, Error> {
    let nodes = cluster.nodes()?;
    let id_of = |port: u16| nodes.iter().find(|n| n.port == port).map(|n| n.id.clone());
    let me = nodes
        .iter()
        .find(|n| n.port == node)
        .ok_or_else(|| format!("no node of this cluster on port {node}"))?;
    let shard = me.primary_id.clone().or_else(|| id_of(node));
    nodes
        .iter()
        .find(|n| n.role == Role::Primary && n.is_up() && Some(&n.id) != shard.as_ref())
        .map(|n| n.port)
        .ok_or_else(|| format!("no primary outside the shard of {node}").into())
}

/// The numbers of the messages in `sent` (message `n` published at `sent[n]`) that are not in
/// `got`, with when each was published.
pub fn lost(sent: &[Instant], got: &BTreeSet<u64>) -> Vec<(u64, Instant)> {
    (0u64..)
        .zip(sent)
        .filter(|(n, _)| !got.contains(n))
        .map(|(n, &at)| (n, at))
        .collect()
}

/// How long before a reported loss window a lost message may have been published: it was on its
/// way to the node, or inside it, when the node died.
pub const IN_FLIGHT: Duration = Duration::from_millis(300);

/// Of the `lost` messages (from [`lost`]), the numbers of those published outside every loss
/// window (`from - IN_FLIGHT ..= until`).
pub fn outside_windows(lost: &[(u64, Instant)], windows: &[(Instant, Instant)]) -> Vec<u64> {
    lost.iter()
        .filter(|(_, at)| {
            !windows
                .iter()
                .any(|&(from, until)| *at + IN_FLIGHT >= from && *at <= until)
        })
        .map(|&(n, _)| n)
        .collect()
}

/// Sleeps until `at` (at once if it has passed).
fn sleep_until(at: Instant) {
    std::thread::sleep(at.saturating_duration_since(Instant::now()));
}

impl Cluster {
    /// The running nodes with a client subscribed to anything (a channel, pattern or shard
    /// channel), by `CLIENT LIST`, each with how many such clients it has.
    pub fn subscriber_nodes(&self) -> Result<Vec<(u16, usize)>, Error> {
        let mut found = Vec::new();
        for node in self.nodes()?.iter().filter(|n| n.is_up()) {
            let list = self.conn(node.port)?.text(["CLIENT", "LIST"])?;
            let subscribed = list.lines().filter(|l| subscribed(l)).count();
            if subscribed > 0 {
                found.push((node.port, subscribed));
            }
        }
        Ok(found)
    }
}

/// True for a `CLIENT LIST` line of a client with at least one subscription.
fn subscribed(line: &str) -> bool {
    line.split(' ').any(|field| {
        field
            .split_once('=')
            .is_some_and(|(name, count)| matches!(name, "sub" | "psub" | "ssub") && count != "0")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_list_line_counts_as_subscribed_by_its_counts() {
        let line = "id=7 addr=127.0.0.1:5 laddr=127.0.0.1:6 fd=9 name= age=1 db=0 sub=0 psub=0 ssub=1 multi=-1";
        assert!(subscribed(line));
        assert!(!subscribed(&line.replace("ssub=1", "ssub=0")));
        assert!(subscribed(&line.replace("psub=0", "psub=12")));
    }

    #[test]
    fn lost_lists_the_numbers_not_received() {
        let t = Instant::now();
        let sent = [t, t + TICK, t + 2 * TICK, t + 3 * TICK];
        let got: BTreeSet<u64> = [0, 2].into_iter().collect();
        assert_eq!(lost(&sent, &got), [(1, t + TICK), (3, t + 3 * TICK)]);
    }

    #[test]
    fn a_loss_counts_inside_a_window_with_the_in_flight_slack() {
        let t = Instant::now() + Duration::from_secs(1);
        let windows = [(t, t + TICK)];
        let lost = [
            (0, t - IN_FLIGHT),
            (1, t + TICK),
            (2, t - IN_FLIGHT - TICK),
            (3, t + 2 * TICK),
        ];
        assert_eq!(outside_windows(&lost, &windows), [2, 3]);
    }
}
