//! CLUSTER SLOTS, from the documented reply format (Redis 3 to 7).

mod common;

use common::*;
use slotwise_resp::Frame;
use slotwise_topology::{Endpoint, Health, Origin, Problem, Role, Topology};

fn slots_node(endpoint: Frame, port: u16, name: &str, metadata: Option<Frame>) -> Frame {
    let mut items = vec![endpoint, int(port.into()), bulk(&id(name))];
    items.extend(metadata);
    arr(items)
}

#[test]
fn redis_7_reply_with_metadata() {
    for resp3 in [false, true] {
        let reply = arr(vec![
            arr(vec![
                int(0),
                int(5460),
                slots_node(
                    bulk("127.0.0.1"),
                    30001,
                    "a",
                    Some(map(resp3, vec![("hostname", bulk("host-1"))])),
                ),
                slots_node(
                    bulk("127.0.0.1"),
                    30004,
                    "d",
                    Some(map(resp3, vec![("hostname", bulk("host-4"))])),
                ),
            ]),
            arr(vec![
                int(5461),
                int(16383),
                slots_node(
                    bulk("host-2"),
                    30002,
                    "b",
                    Some(map(resp3, vec![("ip", bulk("127.0.0.2"))])),
                ),
            ]),
        ]);
        let t = Topology::from_cluster_slots(&reply, &Origin::unknown()).unwrap();
        assert!(t.is_fully_covered());
        assert!(t.problems().is_empty(), "{:?}", t.problems());
        let a = &t.shards()[0];
        assert_eq!(a.primary.hostname.as_deref(), Some("host-1"));
        assert_eq!(a.primary.ip.as_deref(), Some("127.0.0.1"));
        assert_eq!(a.primary.health, Health::Unknown);
        assert_eq!(a.replicas[0].role, Role::Replica);
        let b = &t.shards()[1].primary;
        assert_eq!(b.endpoint, Some(Endpoint::new("host-2", 30002)));
        assert_eq!(b.ip.as_deref(), Some("127.0.0.2"));
    }
}

#[test]
fn null_and_empty_endpoints_are_the_origin_and_question_mark_is_unknown() {
    let reply = arr(vec![
        arr(vec![
            int(0),
            int(99),
            slots_node(Frame::Null, 7000, "a", None),
        ]),
        arr(vec![
            int(100),
            int(199),
            slots_node(Frame::NullBulk, 7001, "b", None),
        ]),
        arr(vec![
            int(200),
            int(299),
            slots_node(bulk(""), 7002, "c", None),
        ]),
        arr(vec![
            int(300),
            int(399),
            slots_node(bulk("?"), 7003, "d", None),
        ]),
    ]);
    let origin = Origin::new(Endpoint::new("lb.example", 7002));
    let t = Topology::from_cluster_slots(&reply, &origin).unwrap();
    let endpoints: Vec<_> = t
        .shards()
        .iter()
        .map(|s| s.primary.endpoint.clone())
        .collect();
    assert_eq!(
        endpoints,
        vec![
            Some(Endpoint::new("lb.example", 7000)),
            Some(Endpoint::new("lb.example", 7001)),
            Some(Endpoint::new("lb.example", 7002)),
            None
        ]
    );
    assert_eq!(t.responder(), Some(&node_id("c")));
    assert_eq!(
        t.problems(),
        &[Problem::UnknownEndpoint { node: node_id("d") }]
    );
}

#[test]
fn ipv6_endpoints() {
    let reply = arr(vec![arr(vec![
        int(0),
        int(16383),
        slots_node(bulk("::1"), 7000, "a", None),
        slots_node(bulk("fe80::2"), 7001, "b", None),
    ])]);
    let t = Topology::from_cluster_slots(&reply, &Origin::unknown()).unwrap();
    let shard = &t.shards()[0];
    assert_eq!(shard.primary.endpoint, Some(Endpoint::new("::1", 7000)));
    assert_eq!(shard.primary.ip.as_deref(), Some("::1"));
    assert_eq!(
        shard.replicas[0].endpoint.as_ref().unwrap().to_string(),
        "[fe80::2]:7001"
    );
}

#[test]
fn ranges_of_one_primary_make_one_shard() {
    let entry = |s, e, replicas: Vec<Frame>| {
        let mut items = vec![
            int(s),
            int(e),
            slots_node(bulk("127.0.0.1"), 7000, "a", None),
        ];
        items.extend(replicas);
        arr(items)
    };
    let r = |name, port| slots_node(bulk("127.0.0.1"), port, name, None);
    let reply = arr(vec![
        entry(0, 10, vec![r("b", 7001)]),
        entry(20, 30, vec![r("b", 7001)]),
        entry(40, 40, vec![r("c", 7002)]),
    ]);
    let t = Topology::from_cluster_slots(&reply, &Origin::unknown()).unwrap();
    assert_eq!(t.shards().len(), 1);
    let shard = &t.shards()[0];
    assert_eq!(
        shard.slots,
        vec![range(0, 10), range(20, 30), range(40, 40)]
    );
    assert_eq!(shard.replicas.len(), 2);
    assert_eq!(
        t.problems(),
        &[Problem::ReplicasDiffer {
            primary: node_id("a")
        }]
    );
}

#[test]
fn old_and_malformed_replies() {
    // Redis before 4: no node id.
    let reply = arr(vec![arr(vec![
        int(0),
        int(1),
        arr(vec![bulk("127.0.0.1"), int(7000)]),
    ])]);
    let err = Topology::from_cluster_slots(&reply, &Origin::unknown()).unwrap_err();
    assert!(err.to_string().contains("range 0, node 0"), "{err}");
    let reply = arr(vec![arr(vec![
        int(9),
        int(1),
        slots_node(bulk("h"), 1, "a", None),
    ])]);
    assert!(Topology::from_cluster_slots(&reply, &Origin::unknown()).is_err());
    let reply = arr(vec![arr(vec![
        int(0),
        int(16384),
        slots_node(bulk("h"), 1, "a", None),
    ])]);
    assert!(Topology::from_cluster_slots(&reply, &Origin::unknown()).is_err());
    assert!(Topology::from_cluster_slots(&int(3), &Origin::unknown()).is_err());
    // An empty reply is a cluster with no slots assigned.
    let t = Topology::from_cluster_slots(&arr(vec![]), &Origin::unknown()).unwrap();
    assert_eq!(t.uncovered_slots(), vec![range(0, 16383)]);
}
