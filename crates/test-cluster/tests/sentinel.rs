//! Real Redis Sentinel groups: start, `SENTINEL FAILOVER`, kill -9 and restart, a password, TLS.
//! One group per test; the tests run in parallel.

use std::time::Duration;

use slotwise_test_cluster::{Conn, SentinelGroup, SentinelOptions, SentinelSwitch};

/// The group is shared across threads (faults on one, traffic on others).
const _: fn() = || {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<SentinelGroup>();
};

/// The text of a string reply to `args` on `port`.
fn text(group: &SentinelGroup, port: u16, args: &[&str]) -> String {
    group
        .conn(port)
        .unwrap()
        .text(args.iter().copied())
        .unwrap()
}

/// The first element of `ROLE` on `port`.
fn role(group: &SentinelGroup, port: u16) -> String {
    let reply = group.conn(port).unwrap().ok(["ROLE"]).unwrap();
    let first = reply.as_items().and_then(|i| i.first()).unwrap();
    String::from_utf8_lossy(first.as_bytes().unwrap()).into_owned()
}

/// The value of `key` in `INFO replication` on `port`.
fn replication(group: &SentinelGroup, port: u16, key: &str) -> String {
    let info = text(group, port, &["INFO", "replication"]);
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{key}:")))
        .unwrap_or_else(|| panic!("no {key} in INFO replication of {port}:\n{info}"))
        .trim()
        .to_owned()
}

/// The primary port every sentinel reports.
fn reported(group: &SentinelGroup) -> Vec<u16> {
    let name = group.master_name().to_owned();
    group
        .sentinel_ports()
        .into_iter()
        .map(|s| {
            let reply = group
                .conn(s)
                .unwrap()
                .ok(["SENTINEL", "GET-MASTER-ADDR-BY-NAME", name.as_str()])
                .unwrap();
            let port = reply.as_items().and_then(|i| i.get(1)).unwrap();
            String::from_utf8_lossy(port.as_bytes().unwrap())
                .parse()
                .unwrap()
        })
        .collect()
}

/// Checks `primary` is the primary, every other running data node replicates it in sync, and
/// every sentinel agrees and knows `replicas` replicas and the other sentinels.
fn check_group(group: &SentinelGroup, primary: u16, running: &[u16], replicas: usize) {
    assert_eq!(group.primary_port().unwrap(), primary);
    assert_eq!(role(group, primary), "master");
    let n = group.sentinel_ports().len();
    assert!(reported(group).iter().all(|&p| p == primary));
    for &port in running.iter().filter(|&&p| p != primary) {
        assert_eq!(role(group, port), "slave", "{port}");
        assert_eq!(replication(group, port, "master_port"), primary.to_string());
        assert_eq!(replication(group, port, "master_link_status"), "up");
    }
    let name = group.master_name().to_owned();
    for sentinel in group.sentinel_ports() {
        let mut conn = group.conn(sentinel).unwrap();
        assert_eq!(role(group, sentinel), "sentinel");
        let known = conn
            .ok(["SENTINEL", "REPLICAS", name.as_str()])
            .unwrap()
            .as_items()
            .map_or(0, <[_]>::len);
        assert_eq!(known, replicas, "replicas known to sentinel {sentinel}");
        let peers = conn
            .ok(["SENTINEL", "SENTINELS", name.as_str()])
            .unwrap()
            .as_items()
            .map_or(0, <[_]>::len);
        assert_eq!(peers, n - 1, "sentinels known to sentinel {sentinel}");
    }
}

/// Checks a switch away from `old` that every sentinel and the data nodes agree on.
fn check_switch(group: &SentinelGroup, switch: &SentinelSwitch, old: u16) {
    assert_eq!(switch.old_primary, old);
    assert_ne!(switch.new_primary, old);
    assert!(group.data_ports().contains(&switch.new_primary));
    assert_eq!(switch.failover_time, switch.switched_at - switch.fault_at);
    assert!(switch.failover_time < Duration::from_secs(30), "{switch:?}");
    assert_eq!(group.primary_port().unwrap(), switch.new_primary);
    assert!(reported(group).iter().all(|&p| p == switch.new_primary));
    assert_eq!(role(group, switch.new_primary), "master");
}

/// A write on the primary reaches every replica in `running`.
fn check_replication(group: &SentinelGroup, primary: u16, running: &[u16], key: &str) {
    let mut conn = group.conn(primary).unwrap();
    conn.ok(["SET", key, "replicated"]).unwrap();
    let replicas = running.len() - 1;
    let acked = conn
        .ok(["WAIT", &replicas.to_string(), "5000"])
        .unwrap()
        .as_integer();
    assert_eq!(acked, Some(replicas as i64));
    for &port in running.iter().filter(|&&p| p != primary) {
        assert_eq!(text(group, port, &["GET", key]), "replicated", "{port}");
    }
}

#[test]
fn failover_kill_and_restart() {
    let group = SentinelGroup::start(&SentinelOptions::default()).unwrap();
    assert_eq!(group.master_name(), "mymaster");
    let data = group.data_ports();
    assert_eq!(data.len(), 3);
    assert_eq!(group.sentinel_ports().len(), 3);
    let first = *data.first().unwrap();
    check_group(&group, first, &data, 2);

    // SENTINEL FAILOVER: the group is settled again when it returns.
    let switch = group.failover().unwrap();
    eprintln!("SENTINEL FAILOVER: {:?} ({switch:?})", switch.failover_time);
    check_switch(&group, &switch, first);
    assert_eq!(role(&group, first), "slave", "the old primary was demoted");
    check_group(&group, switch.new_primary, &data, 2);
    check_replication(&group, switch.new_primary, &data, "after-failover");

    // kill -9: a replica takes over. (Not necessarily after down-after-milliseconds: the killed
    // node's links drop at once, and a sentinel counts the silence from its last reply.)
    let killed = switch.new_primary;
    let switch = group.kill_primary().unwrap();
    eprintln!("kill -9: {:?} ({switch:?})", switch.failover_time);
    check_switch(&group, &switch, killed);
    assert!(group.conn(killed).is_err(), "the killed node stays down");
    let running: Vec<u16> = data.iter().copied().filter(|&p| p != killed).collect();
    check_group(&group, switch.new_primary, &running, 2);
    check_replication(&group, switch.new_primary, &running, "after-kill");

    // Back as a replica of the new primary, with the data written while it was down.
    group.restart(killed).unwrap();
    check_group(&group, switch.new_primary, &data, 2);
    assert_eq!(text(&group, killed, &["GET", "after-kill"]), "replicated");
    group.stop().unwrap();
}

#[test]
fn password_guards_sentinels_and_nodes() {
    let options = SentinelOptions {
        master_name: "guarded".into(),
        replicas: 1,
        password: Some("s3 cr\"et".into()),
        ..Default::default()
    };
    let group = SentinelGroup::start(&options).unwrap();
    let primary = group.primary_port().unwrap();
    check_group(&group, primary, &group.data_ports(), 1);
    let sentinel = *group.sentinel_ports().first().unwrap();
    for port in [sentinel, primary] {
        let mut bare = Conn::connect(SentinelGroup::addr(port)).unwrap();
        let reply = bare.cmd(["PING"]).unwrap();
        let text = String::from_utf8_lossy(reply.as_bytes().unwrap()).into_owned();
        assert!(
            reply.is_error() && text.starts_with("NOAUTH"),
            "{port}: {text}"
        );
        let err = Conn::connect_auth(SentinelGroup::addr(port), "default", "wrong")
            .unwrap_err()
            .to_string();
        assert!(err.contains("WRONGPASS"), "{port}: {err}");
    }
    // Electing a leader needs the sentinels to talk to each other (sentinel-pass) and to the
    // replica (auth-pass); the replica syncs from the new primary with masterauth.
    let switch = group.kill_primary().unwrap();
    eprintln!("kill -9 (password): {:?}", switch.failover_time);
    check_switch(&group, &switch, primary);
    group.restart(primary).unwrap();
    check_group(&group, switch.new_primary, &group.data_ports(), 1);
    check_replication(
        &group,
        switch.new_primary,
        &group.data_ports(),
        "with-password",
    );
}

#[test]
fn tls_group_fails_over() {
    let options = SentinelOptions {
        replicas: 1,
        tls: true,
        ..Default::default()
    };
    let group = SentinelGroup::start(&options).unwrap();
    let primary = group.primary_port().unwrap();
    let data = group.data_ports();
    check_group(&group, primary, &data, 1);
    // TLS only: a plain connection gets no answer it can read.
    let sentinel = *group.sentinel_ports().first().unwrap();
    for port in [sentinel, primary] {
        let plain = Conn::connect(SentinelGroup::addr(port)).and_then(|mut c| {
            c.set_read_timeout(Duration::from_secs(2))?;
            c.cmd(["PING"])
        });
        assert!(plain.is_err(), "{port} answered plain TCP: {plain:?}");
    }
    let switch = group.failover().unwrap();
    eprintln!("SENTINEL FAILOVER (TLS): {:?}", switch.failover_time);
    check_switch(&group, &switch, primary);
    check_group(&group, switch.new_primary, &data, 1);
    // Votes between sentinels go over TLS too.
    let killed = switch.new_primary;
    let switch = group.kill_primary().unwrap();
    eprintln!("kill -9 (TLS): {:?}", switch.failover_time);
    check_switch(&group, &switch, killed);
    group.restart(killed).unwrap();
    check_replication(&group, switch.new_primary, &data, "over-tls");
}
