//! CLUSTER SHARDS, RESP2 and RESP3, from the documented reply format.

mod common;

use common::*;
use slotwise_resp::Frame;
use slotwise_topology::{Endpoint, Health, Origin, ParseError, Problem, Role, Topology};

fn shard_node(resp3: bool, name: &str, port: u16, role: &str, health: &str) -> Frame {
    map(
        resp3,
        vec![
            ("id", bulk(&id(name))),
            ("port", int(port.into())),
            ("ip", bulk("127.0.0.1")),
            ("endpoint", bulk("127.0.0.1")),
            ("role", bulk(role)),
            ("replication-offset", int(72156)),
            ("health", bulk(health)),
        ],
    )
}

fn reply(resp3: bool) -> Frame {
    arr(vec![
        map(
            resp3,
            vec![
                ("slots", arr(vec![int(0), int(5460)])),
                (
                    "nodes",
                    arr(vec![
                        shard_node(resp3, "a", 30001, "master", "online"),
                        shard_node(resp3, "d", 30004, "replica", "online"),
                    ]),
                ),
            ],
        ),
        map(
            resp3,
            vec![
                (
                    "slots",
                    arr(vec![int(5461), int(10922), int(10923), int(16383)]),
                ),
                (
                    "nodes",
                    arr(vec![
                        shard_node(resp3, "b", 30002, "master", "online"),
                        shard_node(resp3, "e", 30005, "replica", "loading"),
                    ]),
                ),
            ],
        ),
    ])
}

#[test]
fn resp2_and_resp3_forms_give_the_same_topology() {
    let two = Topology::from_cluster_shards(&reply(false), &Origin::unknown()).unwrap();
    let three = Topology::from_cluster_shards(&reply(true), &Origin::unknown()).unwrap();
    assert_eq!(two, three);
    assert!(two.is_fully_covered());
    assert!(two.problems().is_empty(), "{:?}", two.problems());
    assert_eq!(two.shards().len(), 2);
    let b = &two.shards()[1];
    assert_eq!(b.primary.id, node_id("b"));
    assert_eq!(b.slots, vec![range(5461, 16383)]);
    assert_eq!(b.replicas[0].health, Health::Loading);
    assert_eq!(b.replicas[0].role, Role::Replica);
    assert_eq!(b.replicas[0].replication_offset, Some(72156));
    assert_eq!(
        two.primary_for_slot(0).unwrap().endpoint,
        Some(Endpoint::new("127.0.0.1", 30001))
    );
}

#[test]
fn tls_ports_hostnames_and_empty_endpoints() {
    let node = map(
        true,
        vec![
            ("id", bulk(&id("a"))),
            ("port", int(6379)),
            ("tls-port", int(6380)),
            ("ip", bulk("")),
            ("endpoint", bulk("")),
            ("hostname", bulk("node-a.example")),
            ("role", bulk("master")),
            ("health", bulk("online")),
            ("some-future-field", bulk("ignored")),
        ],
    );
    let reply = arr(vec![map(
        true,
        vec![
            ("slots", arr(vec![int(0), int(16383)])),
            ("nodes", arr(vec![node])),
        ],
    )]);
    let origin = Origin::new(Endpoint::new("10.1.2.3", 6380)).with_tls(true);
    let t = Topology::from_cluster_shards(&reply, &origin).unwrap();
    let a = &t.shards()[0].primary;
    assert_eq!(a.endpoint, Some(Endpoint::new("10.1.2.3", 6380)));
    assert_eq!((a.port, a.tls_port), (Some(6379), Some(6380)));
    assert_eq!(a.hostname.as_deref(), Some("node-a.example"));
    assert_eq!(a.ip, None);
    assert_eq!(t.responder(), Some(&node_id("a")));

    // Plaintext, no origin: the endpoint stays unknown and is reported.
    let t = Topology::from_cluster_shards(&reply, &Origin::unknown()).unwrap();
    assert_eq!(t.shards()[0].primary.endpoint, None);
    assert!(
        t.problems()
            .contains(&Problem::UnknownEndpoint { node: node_id("a") })
    );
}

#[test]
fn question_mark_endpoint_is_unknown_not_the_origin() {
    let node = map(
        false,
        vec![
            ("id", bulk(&id("a"))),
            ("port", int(7000)),
            ("endpoint", bulk("?")),
            ("role", bulk("master")),
        ],
    );
    let reply = arr(vec![map(
        false,
        vec![("slots", arr(vec![])), ("nodes", arr(vec![node]))],
    )]);
    let t = Topology::from_cluster_shards(&reply, &Origin::new(Endpoint::new("h", 7000))).unwrap();
    assert_eq!(t.shards()[0].primary.endpoint, None);
    assert_eq!(t.shards()[0].primary.health, Health::Unknown);
    assert_eq!(t.covered_slot_count(), 0);
}

#[test]
fn conflicts_are_reported() {
    let shard = |name: &str, port, slots: Vec<Frame>| {
        map(
            false,
            vec![
                ("slots", arr(slots)),
                (
                    "nodes",
                    arr(vec![shard_node(false, name, port, "master", "online")]),
                ),
            ],
        )
    };
    let reply = arr(vec![
        shard("a", 7000, vec![int(0), int(100), int(50), int(60)]),
        shard("b", 7001, vec![int(90), int(200)]),
        shard("a", 7002, vec![int(300), int(300)]),
    ]);
    let t = Topology::from_cluster_shards(&reply, &Origin::unknown()).unwrap();
    let problems = t.problems();
    assert!(problems.contains(&Problem::OverlappingRanges {
        primary: node_id("a"),
        slots: range(50, 60)
    }));
    assert!(problems.contains(&Problem::SlotClaimedTwice {
        slots: range(90, 100),
        kept: node_id("a"),
        dropped: node_id("b")
    }));
    assert!(problems.contains(&Problem::DuplicateNode { node: node_id("a") }));
    assert_eq!(t.shards()[1].slots, vec![range(101, 200)]);
    assert_eq!(t.uncovered_slots(), vec![range(201, 16383)]);
}

#[test]
fn shard_with_two_primaries_or_none() {
    let reply = arr(vec![
        map(
            true,
            vec![
                ("slots", arr(vec![int(0), int(99)])),
                (
                    "nodes",
                    arr(vec![
                        shard_node(true, "a", 7000, "master", "failed"),
                        shard_node(true, "b", 7001, "master", "online"),
                    ]),
                ),
            ],
        ),
        map(
            true,
            vec![
                ("slots", arr(vec![int(100), int(199)])),
                (
                    "nodes",
                    arr(vec![shard_node(true, "c", 7002, "replica", "online")]),
                ),
            ],
        ),
    ]);
    let t = Topology::from_cluster_shards(&reply, &Origin::unknown()).unwrap();
    assert_eq!(t.shards()[0].primary.id, node_id("b"));
    assert!(t.problems().contains(&Problem::PrimaryCount {
        primary: node_id("b"),
        count: 2
    }));
    assert_eq!(t.orphan_replicas()[0].id, node_id("c"));
    assert_eq!(t.shard_for_slot(150), None);
}

#[test]
fn errors_say_where() {
    let err = Topology::from_cluster_shards(
        &Frame::SimpleError("ERR This instance has cluster support disabled".into()),
        &Origin::unknown(),
    )
    .unwrap_err();
    assert!(matches!(err, ParseError::ErrorReply { .. }));
    assert!(err.to_string().contains("cluster support disabled"));

    let bad_port = arr(vec![map(
        true,
        vec![(
            "nodes",
            arr(vec![map(
                true,
                vec![
                    ("id", bulk(&id("a"))),
                    ("port", int(70000)),
                    ("role", bulk("master")),
                ],
            )]),
        )],
    )]);
    let err = Topology::from_cluster_shards(&bad_port, &Origin::unknown()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "CLUSTER SHARDS reply: at shard 0, node 0, field \"port\": expected a port"
    );

    let bad_slots = arr(vec![map(
        true,
        vec![("slots", arr(vec![int(5), int(16384)]))],
    )]);
    let err = Topology::from_cluster_shards(&bad_slots, &Origin::unknown()).unwrap_err();
    assert!(err.to_string().contains("slots 0..=16383"), "{err}");
}
