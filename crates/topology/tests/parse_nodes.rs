//! CLUSTER NODES text, from the documented format.

mod common;

use common::*;
use slotwise_topology::{
    Endpoint, Health, LinkState, MigrationDirection, Origin, Problem, SlotEntry, Topology,
    parse_cluster_nodes,
};

fn line(
    name: &str,
    addr: &str,
    flags: &str,
    primary: &str,
    epoch: u64,
    link: &str,
    slots: &str,
) -> String {
    let primary = if primary == "-" {
        "-".to_string()
    } else {
        id(primary)
    };
    format!(
        "{} {addr} {flags} {primary} 0 1426238316232 {epoch} {link} {slots}\n",
        id(name)
    )
}

#[test]
fn the_documented_example() {
    let text = [
        line(
            "d",
            "127.0.0.1:30004@31004",
            "slave",
            "a",
            4,
            "connected",
            "",
        ),
        line(
            "b",
            "127.0.0.1:30002@31002",
            "master",
            "-",
            2,
            "connected",
            "5461-10922",
        ),
        line(
            "c",
            "127.0.0.1:30003@31003",
            "master",
            "-",
            3,
            "connected",
            "10923-16383",
        ),
        line(
            "a",
            "127.0.0.1:30001@31001",
            "myself,master",
            "-",
            1,
            "connected",
            "0-5460",
        ),
        line(
            "f",
            "127.0.0.1:30006@31006",
            "slave",
            "b",
            2,
            "connected",
            "",
        ),
        line(
            "e",
            "127.0.0.1:30005@31005",
            "slave",
            "c",
            3,
            "connected",
            "",
        ),
    ]
    .concat();
    let lines = parse_cluster_nodes(text.as_bytes()).unwrap();
    assert_eq!(lines.len(), 6);
    assert_eq!(lines[0].cluster_bus_port, Some(31004));
    assert_eq!(lines[0].link, LinkState::Connected);
    assert_eq!(lines[1].slots, vec![SlotEntry::Range(range(5461, 10922))]);
    let t = Topology::from_cluster_nodes(text.as_bytes(), &Origin::unknown()).unwrap();
    assert!(t.is_fully_covered());
    assert!(t.problems().is_empty(), "{:?}", t.problems());
    assert_eq!(t.responder(), Some(&node_id("a")));
    assert_eq!(t.max_config_epoch(), Some(3));
    let a = t.shard_for_slot(0).unwrap();
    assert_eq!(a.replicas[0].id, node_id("d"));
    assert_eq!(a.primary.config_epoch, Some(1));
}

#[test]
fn flags_hostnames_ipv6_single_slots_and_migrations() {
    let text = [
        line(
            "a",
            ":30001@31001,host-a",
            "myself,master",
            "-",
            5,
            "connected",
            &format!("0-10 12 [11->-{}] [20-<-{}]", id("b"), id("c")),
        ),
        line(
            "b",
            "[::1]:30002@31002,host-b",
            "master,fail?",
            "-",
            6,
            "connected",
            "11 13-100",
        ),
        line(
            "c",
            "::1:30003@31003",
            "master,fail",
            "-",
            0,
            "disconnected",
            "",
        ),
        line(
            "d",
            ":0@0",
            "slave,noaddr,nofailover",
            "a",
            5,
            "disconnected",
            "",
        ),
        line(
            "x",
            "127.0.0.1:30009@31009",
            "handshake",
            "-",
            0,
            "connected",
            "",
        ),
        line(
            "e",
            "127.0.0.1:30005@31005",
            "slave",
            "-",
            0,
            "connected",
            "",
        ),
    ]
    .concat()
    .replace('\n', "\r\n");
    let lines = parse_cluster_nodes(text.as_bytes()).unwrap();
    assert_eq!(lines[0].hostname.as_deref(), Some("host-a"));
    assert_eq!(lines[0].ip, "");
    assert!(lines[1].flags.possibly_failed);
    assert_eq!(lines[1].ip, "::1");
    assert!(lines[2].flags.failed);
    assert!(lines[3].flags.no_address && lines[3].flags.no_failover && lines[3].flags.replica);
    assert_eq!(
        lines[0].slots[2],
        SlotEntry::Migration {
            slot: 11,
            direction: MigrationDirection::Migrating,
            peer: node_id("b")
        }
    );

    let origin = Origin::new(Endpoint::new("10.0.0.1", 30001));
    let t = Topology::from_cluster_nodes(text.as_bytes(), &origin).unwrap();
    let a = &t.shards()[0];
    assert_eq!(a.primary.endpoint, Some(Endpoint::new("10.0.0.1", 30001)));
    assert_eq!(a.primary.hostname.as_deref(), Some("host-a"));
    assert_eq!(a.slots, vec![range(0, 10), range(12, 12)]);
    assert_eq!(a.replicas[0].endpoint, None);
    let b = &t.shards()[1].primary;
    assert_eq!(b.health, Health::PossiblyFailed);
    assert_eq!(b.endpoint, Some(Endpoint::new("::1", 30002)));
    assert_eq!(t.shards()[2].primary.health, Health::Failed);
    assert!(
        t.nodes().all(|n| n.id != node_id("x")),
        "handshake nodes are left out"
    );
    assert_eq!(t.migrations().len(), 2);
    assert_eq!(t.migrations()[1].direction, MigrationDirection::Importing);
    assert_eq!(t.migrations()[1].peer, node_id("c"));
    assert!(t.problems().contains(&Problem::ReplicaWithoutPrimary {
        replica: node_id("e"),
        primary: None
    }));
    assert!(
        t.problems()
            .contains(&Problem::UnknownEndpoint { node: node_id("d") })
    );
}

#[test]
fn higher_config_epoch_wins_a_slot_claimed_twice() {
    let text = [
        line(
            "a",
            "127.0.0.1:1@2",
            "myself,master",
            "-",
            1,
            "connected",
            "0-100",
        ),
        line("b", "127.0.0.1:3@4", "master", "-", 7, "connected", "50-60"),
    ]
    .concat();
    let t = Topology::from_cluster_nodes(text.as_bytes(), &Origin::unknown()).unwrap();
    assert_eq!(t.primary_for_slot(55).unwrap().id, node_id("b"));
    assert_eq!(t.primary_for_slot(49).unwrap().id, node_id("a"));
    assert_eq!(
        t.problems(),
        &[Problem::SlotClaimedTwice {
            slots: range(50, 60),
            kept: node_id("b"),
            dropped: node_id("a")
        }]
    );
}

#[test]
fn errors_name_the_line_and_field() {
    let cases = [
        (
            "abc 127.0.0.1:1@2 master - 0 0 1 connected\nxyz",
            "line 2, field \"address\"",
        ),
        (
            "abc 127.0.0.1:99999@2 master - 0 0 1 connected",
            "field \"address\"",
        ),
        (
            "abc 127.0.0.1:1@2 master - x 0 1 connected",
            "field \"ping-sent\"",
        ),
        (
            "abc 127.0.0.1:1@2 master - 0 0 1 sleeping",
            "field \"link-state\"",
        ),
        (
            "abc 127.0.0.1:1@2 master - 0 0 1 connected 16384",
            "field \"slot\"",
        ),
        (
            "abc 127.0.0.1:1@2 master - 0 0 1 connected 5-3",
            "field \"slot\"",
        ),
        (
            "abc 127.0.0.1:1@2 master - 0 0 1 connected [5->-]",
            "field \"slot\"",
        ),
        ("abc 127.0.0.1:1@2 ,, - 0 0 1 connected", "field \"flags\""),
    ];
    for (text, expected) in cases {
        let err = parse_cluster_nodes(text.as_bytes()).unwrap_err();
        assert!(err.to_string().contains(expected), "{text:?}: {err}");
    }
    assert!(parse_cluster_nodes(b"\xff").is_err());
    assert_eq!(parse_cluster_nodes(b"\n\n").unwrap(), vec![]);
}
