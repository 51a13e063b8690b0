//! What `cargo xtask cluster` prints.

use slotwise_test_cluster::{Cluster, NodeInfo, Promotion, Role};

use super::Result;

/// The nodes, their roles and slots, and how to connect.
pub(super) fn status(cluster: &Cluster) -> Result {
    let o = cluster.options();
    let mut features = vec![if o.tls { "TLS" } else { "plain TCP" }.to_owned()];
    if let Some((user, _)) = &o.acl {
        features.push(format!("ACL user {user}"));
    }
    if let Some(host) = &o.announce_hostname {
        features.push(format!("announces hostname {host}"));
    }
    println!(
        "Redis Cluster in {} ({}; cluster-node-timeout {} ms)",
        cluster.dir().display(),
        features.join(", "),
        o.node_timeout_ms
    );
    let nodes = match cluster.nodes() {
        Ok(nodes) => nodes,
        Err(e) => {
            println!("could not read the cluster's view: {e}");
            for port in cluster.ports() {
                println!("  {port} is running");
            }
            return Ok(());
        }
    };
    println!(
        "{:<6} {:<8} {:<8} {:<40} {:<8} slots",
        "port", "pid", "role", "node id", "primary"
    );
    for n in &nodes {
        println!(
            "{:<6} {:<8} {:<8} {:<40} {:<8} {}",
            n.port,
            n.pid.map_or("down".to_owned(), |p| p.to_string()),
            role(n),
            n.id,
            primary_port(&nodes, n),
            slots(n)
        );
    }
    let seed = cluster.seed()?;
    let mut cli = format!("redis-cli -c -h 127.0.0.1 -p {}", seed.port());
    if let Some(tls) = cluster.tls_files() {
        println!("CA certificate:     {}", tls.ca_cert.display());
        println!("client certificate: {}", tls.client_cert.display());
        println!("client key:         {}", tls.client_key.display());
        cli += &format!(
            " --tls --cacert {} --cert {} --key {}",
            tls.ca_cert.display(),
            tls.client_cert.display(),
            tls.client_key.display()
        );
    }
    if let Some((user, pass)) = &o.acl {
        cli += &format!(" --user {user} --pass {pass}");
    }
    println!("seed {seed}; try: {cli}");
    Ok(())
}

/// The outcome of a failover or kill.
pub(super) fn promotion(what: &str, p: &Promotion) {
    println!(
        "{what} {}: replica {} promoted after {:.2?} (all nodes agreed after {:.2?})",
        p.old_primary, p.new_primary, p.promoted_after, p.converged_after
    );
}

/// Slots as compact ranges: `0-99 200 300-310`.
pub(super) fn ranges(slots: &[u16]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut iter = slots.iter().copied().peekable();
    while let Some(first) = iter.next() {
        let mut last = first;
        while iter.peek() == Some(&(last + 1)) {
            last += 1;
            iter.next();
        }
        out.push(if first == last {
            first.to_string()
        } else {
            format!("{first}-{last}")
        });
    }
    out.join(" ")
}

pub(super) fn role(n: &NodeInfo) -> &'static str {
    match n.role {
        Role::Primary => "primary",
        Role::Replica => "replica",
        _ => "?",
    }
}

fn primary_port(nodes: &[NodeInfo], n: &NodeInfo) -> String {
    n.primary_id
        .as_ref()
        .and_then(|id| nodes.iter().find(|m| &m.id == id))
        .map_or("-".to_owned(), |m| m.port.to_string())
}

fn slots(n: &NodeInfo) -> String {
    let list: Vec<u16> = n.slots.iter().flat_map(|r| r.clone()).collect();
    match list.len() {
        0 => "-".to_owned(),
        count => format!("{} ({count})", ranges(&list)),
    }
}
