//! `cargo xtask cluster`: a real local Redis Cluster and faults (issue 4).
//!
//! A thin wrapper over `slotwise_test_cluster::Cluster`: `start` detaches the cluster (its processes
//! get their own process group, so they outlive this process and a Ctrl-C) and writes its state to
//! `target/slotwise-cluster/state`; every later command attaches to that state, acts, and saves it
//! again. `stop` kills only the PIDs recorded there, each checked to still be a `redis-server`.

mod print;

use std::path::PathBuf;
use std::time::Duration;

use slotwise_test_cluster::{Cluster, ClusterOptions, ClusterState, ReshardStep};

use crate::util::root;

/// The library's error type (`Send + Sync`), converted at the edge in [`run`].
type Result<T = ()> = std::result::Result<T, slotwise_test_cluster::Error>;

const USAGE: &str = "\
usage: cargo xtask cluster <command>

  start [--primaries 3] [--replicas 1] [--port BASE] [--tls] [--acl USER:PASS]
        [--announce-hostname NAME] [--node-timeout MS]
                         start a cluster on loopback (free ports unless --port) and leave it running
  stop                   kill the cluster's processes (only those it started) and remove its files
  status                 nodes, roles, slots, and how to connect
  failover PORT          graceful CLUSTER FAILOVER of primary PORT (or of replica PORT's primary)
  kill PORT              SIGKILL primary PORT, wait until its replica is promoted, say how long it took
  restart PORT           start a killed node again: it rejoins as a replica
  reshard FROM TO N [--pause-ms MS]
                         live-migrate N slots from primary FROM to primary TO, slot by slot
                         (--pause-ms: pause while each slot is MIGRATING, so clients see ASK)
  add-node               add a primary (and its replicas) and rebalance slots onto it
  remove-node PORT       move PORT's slots away, forget it (and its replicas) everywhere, stop it

State lives in target/slotwise-cluster/.";

pub(crate) fn run(args: &[String]) -> crate::util::Result {
    dispatch(args).map_err(|e| e as Box<dyn std::error::Error>)
}

fn dispatch(args: &[String]) -> Result {
    let Some((command, rest)) = args.split_first() else {
        println!("{USAGE}");
        return Ok(());
    };
    match command.as_str() {
        "start" => start(rest),
        "stop" => stop(rest),
        "status" => {
            no_args(rest)?;
            print::status(&attach()?)
        }
        "failover" => {
            let cluster = attach()?;
            let promotion = cluster.failover(port_arg(rest, 0)?);
            save(&cluster)?;
            print::promotion("failover", &promotion?);
            Ok(())
        }
        "kill" => {
            let cluster = attach()?;
            let promotion = cluster.kill(port_arg(rest, 0)?);
            save(&cluster)?;
            print::promotion("kill", &promotion?);
            Ok(())
        }
        "restart" => {
            let cluster = attach()?;
            let port = port_arg(rest, 0)?;
            let result = cluster.restart(port);
            save(&cluster)?;
            result?;
            let node = cluster.node(port)?;
            let pid = node.pid.map_or("?".to_owned(), |p| p.to_string());
            println!("{port} is back (PID {pid}) as a {}", print::role(&node));
            Ok(())
        }
        "reshard" => reshard(rest),
        "add-node" => {
            no_args(rest)?;
            let cluster = attach()?;
            let added = cluster.add_node();
            save(&cluster)?;
            let added = added?;
            println!(
                "added primary {} with replicas {:?}; {} slots moved onto it",
                added.primary, added.replicas, added.slots_moved
            );
            Ok(())
        }
        "remove-node" => {
            let cluster = attach()?;
            let port = port_arg(rest, 0)?;
            let result = cluster.remove_node(port);
            save(&cluster)?;
            result?;
            println!("removed {port} (and its replicas)");
            Ok(())
        }
        "help" | "--help" | "-h" => {
            println!("{USAGE}");
            Ok(())
        }
        other => Err(format!("unknown cluster command {other:?}\n\n{USAGE}").into()),
    }
}

fn start(args: &[String]) -> Result {
    let mut options = ClusterOptions {
        dir: Some(dir()),
        own_process_group: true,
        ..ClusterOptions::default()
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{flag} needs a value\n\n{USAGE}"))
        };
        match flag.as_str() {
            "--primaries" => options.primaries = number(&value()?, flag)?,
            "--replicas" => options.replicas = number(&value()?, flag)?,
            "--port" => options.base_port = Some(number(&value()?, flag)?),
            "--node-timeout" => options.node_timeout_ms = number(&value()?, flag)?,
            "--tls" => options.tls = true,
            "--announce-hostname" => options.announce_hostname = Some(value()?),
            "--acl" => {
                let spec = value()?;
                let (user, pass) = spec
                    .split_once(':')
                    .filter(|(u, p)| !u.is_empty() && !p.is_empty())
                    .ok_or_else(|| format!("--acl wants USER:PASS, got {spec:?}"))?;
                if user.contains(char::is_whitespace) {
                    return Err("--acl: the user name cannot contain spaces".into());
                }
                options.acl = Some((user.to_owned(), pass.to_owned()));
            }
            other => return Err(format!("unknown option {other:?}\n\n{USAGE}").into()),
        }
    }
    if let Ok(state) = ClusterState::load(&state_file()) {
        let cluster = Cluster::attach(state)?;
        if !cluster.ports().is_empty() {
            return Err(format!(
                "a cluster is already running (ports {:?}); `cargo xtask cluster stop` first",
                cluster.ports()
            )
            .into());
        }
        // Every process of the old one is gone: clear its leftovers.
        cluster.stop()?;
    }
    eprintln!("starting a Redis Cluster in {} …", dir().display());
    let started = std::time::Instant::now();
    let cluster = Cluster::start(&options)?;
    let state = cluster.detach();
    state.save(&state_file())?;
    eprintln!("started in {:.1?}", started.elapsed());
    print::status(&Cluster::attach(state)?)
}

fn stop(args: &[String]) -> Result {
    no_args(args)?;
    let path = state_file();
    if !path.exists() {
        println!("no cluster is running (no {})", path.display());
        return Ok(());
    }
    let cluster = Cluster::attach(ClusterState::load(&path)?)?;
    let ports = cluster.ports();
    cluster.stop()?;
    std::fs::remove_file(&path)?;
    println!("stopped the cluster (killed the redis-servers on {ports:?})");
    Ok(())
}

fn reshard(args: &[String]) -> Result {
    let (from, to, n) = match args {
        [from, to, n, ..] => (
            number::<u16>(from, "FROM")?,
            number::<u16>(to, "TO")?,
            number::<usize>(n, "N")?,
        ),
        _ => return Err(format!("reshard wants FROM TO N\n\n{USAGE}").into()),
    };
    let pause = match &args[3..] {
        [] => Duration::ZERO,
        [flag, ms] if flag == "--pause-ms" => Duration::from_millis(number(ms, flag)?),
        other => return Err(format!("unexpected arguments {other:?}\n\n{USAGE}").into()),
    };
    let cluster = attach()?;
    let result = cluster.reshard_with(from, to, n, &mut |step| {
        if let ReshardStep::Migrating { slot, .. } = step
            && !pause.is_zero()
        {
            eprintln!("slot {slot} is MIGRATING; pausing {pause:?}");
            std::thread::sleep(pause);
        }
        Ok(())
    });
    save(&cluster)?;
    let slots = result?;
    println!(
        "moved {} slots from {from} to {to}: {}",
        slots.len(),
        print::ranges(&slots)
    );
    Ok(())
}

fn dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
        .join("slotwise-cluster")
}

fn state_file() -> PathBuf {
    dir().join("state")
}

fn attach() -> Result<Cluster> {
    let path = state_file();
    if !path.exists() {
        return Err("no cluster is running: start one with `cargo xtask cluster start`".into());
    }
    Cluster::attach(ClusterState::load(&path)?)
}

fn save(cluster: &Cluster) -> Result {
    cluster.state().save(&state_file())
}

fn port_arg(args: &[String], index: usize) -> Result<u16> {
    match args {
        [_] => number(&args[index], "PORT"),
        _ => Err(format!("expected one PORT argument, got {args:?}").into()),
    }
}

fn no_args(args: &[String]) -> Result {
    if args.is_empty() {
        Ok(())
    } else {
        Err(format!("unexpected arguments {args:?}").into())
    }
}

fn number<T: std::str::FromStr>(text: &str, what: &str) -> Result<T> {
    text.parse()
        .map_err(|_| format!("{what}: {text:?} is not a valid number").into())
}
