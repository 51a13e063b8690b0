//! A node that sends garbage on one connection: that connection is closed with a clear error, the
//! request in flight on it ends (a read is retried; a non-idempotent write reports it), and
//! requests for other nodes never notice. A reply that trickles in past its deadline closes its
//! connection too, so the next request does not wait behind the rest of it.

use std::time::{Duration, Instant};

use slotwise_cluster::{Frame, Request};
use slotwise_test_cluster::{Cluster, ClusterOptions};

use super::{connect, is_protocol, must, pause, start};
use crate::bystanders::Bystanders;
use crate::client::{Adapter, ClientSpec};
use crate::keys::{self, SLOTS};
use crate::proxy::CorruptingProxy;
use crate::verify::slot_owners;

/// See the module documentation.
pub fn garbage_on_one_connection(adapter: &dyn Adapter) {
    let name = adapter.name();
    let cluster = start(ClusterOptions {
        replicas: 0,
        ..Default::default()
    });
    let primaries = cluster.primaries().expect("primaries");
    let victim = primaries[0].clone();
    let proxy = CorruptingProxy::start(Cluster::addr(victim.port)).expect("proxy");
    announce_port(&cluster, victim.port, &victim.id, proxy.port());

    let mut spec = ClientSpec::for_cluster(&cluster);
    spec.seeds = vec![("127.0.0.1".into(), primaries[1].port)];
    let client = connect(adapter, &spec);
    let owners = slot_owners(&cluster);
    let victim_slot = (0..SLOTS)
        .find(|&s| owners[s] == victim.port)
        .expect("a victim slot");
    let key = keys::counter(victim_slot);
    assert_eq!(must(&*client, &["INCR", &key]), Frame::Integer(1));
    assert!(
        proxy.connections() >= 1,
        "[{name}] the client did not go through the proxy"
    );

    // Traffic for the other nodes, all along.
    let others: Vec<usize> = (0..SLOTS).filter(|&s| owners[s] != victim.port).collect();
    let bystanders = Bystanders::start(&client, others, 4, Duration::from_secs(10));
    pause(200);

    // A non-idempotent write gets the garbage: it fails, clearly, as a protocol error.
    proxy.arm();
    let err = client
        .call(Request::new(["INCR", key.as_str()]))
        .expect_err("INCR answered with garbage must fail");
    println!("[{name}] garbage reply to INCR: {err}");
    assert!(
        is_protocol(&err),
        "[{name}] expected a protocol error, got {err}"
    );
    assert!(
        err.to_string().contains(&proxy.port().to_string()),
        "[{name}] the error should name the node: {err}"
    );
    let waited = Instant::now();
    while proxy.closed_after().is_none() && waited.elapsed() < Duration::from_secs(5) {
        pause(10);
    }
    let closed = proxy.closed_after();
    println!("[{name}] the client closed the garbage connection after {closed:?}");
    assert!(
        closed.is_some(),
        "[{name}] the connection that sent garbage was not closed"
    );

    // A read that gets garbage is retried on a new connection, transparently.
    proxy.arm();
    let value = must(&*client, &["GET", &key]);
    assert_eq!(
        proxy.garbage_sent(),
        2,
        "[{name}] the GET did not meet the garbage"
    );
    assert!(
        matches!(value, Frame::BulkString(ref b) if b.as_ref() == b"1" || b.as_ref() == b"2"),
        "[{name}] GET after garbage: {value:?}"
    );
    // And the node works again.
    assert!(matches!(must(&*client, &["INCR", &key]), Frame::Integer(_)));

    // A reply that trickles in, a byte every 10 ms, past its deadline: the connection it was
    // arriving on is closed, not kept, so the next request does not wait behind the rest of it
    // (1 KB would take 10 s more).
    let big = "x".repeat(1000);
    let value_key = keys::value(victim_slot);
    must(&*client, &["SET", &value_key, &big]);
    let before = proxy.connections();
    proxy.trickle_open_connections(Duration::from_millis(10));
    let t = Instant::now();
    let err = client
        .call(Request::new(["GET", value_key.as_str()]).timeout(Duration::from_millis(500)))
        .expect_err("a trickled 1 KB reply cannot arrive within 500 ms");
    println!("[{name}] trickled reply: {err} after {:?}", t.elapsed());
    assert!(
        err.to_string().contains("timed out"),
        "[{name}] expected a timeout, got {err}"
    );
    let t = Instant::now();
    let value = must(&*client, &["GET", &value_key]);
    let took = t.elapsed();
    println!("[{name}] the next GET after the trickled reply answered in {took:?}");
    assert!(
        matches!(value, Frame::BulkString(ref b) if b.as_ref() == big.as_bytes()),
        "[{name}] GET after the trickled reply: {value:?}"
    );
    assert!(
        took < Duration::from_secs(3),
        "[{name}] the next request waited {took:?}: the trickling connection was kept"
    );
    assert!(
        proxy.connections() > before,
        "[{name}] no fresh connection after the trickled reply"
    );

    let others = bystanders.stop();
    println!(
        "[{name}] other nodes meanwhile: {} requests, {} errors, longest gap {:?}",
        others.ok,
        others.failed.len(),
        others.max_gap
    );
    assert!(others.ok > 0, "[{name}] no traffic to the other nodes");
    assert!(
        others.failed.is_empty(),
        "[{name}] other nodes were affected: {:?}",
        others.failed
    );
}

/// Makes the node on `port` announce `announced` as its client port, and waits until every node
/// says so.
pub(super) fn announce_port(cluster: &Cluster, port: u16, id: &str, announced: u16) {
    cluster
        .conn(port)
        .and_then(|mut c| {
            c.ok([
                "CONFIG",
                "SET",
                "cluster-announce-port",
                &announced.to_string(),
            ])
        })
        .expect("CONFIG SET cluster-announce-port");
    let needle = format!(":{announced}@");
    let started = Instant::now();
    loop {
        let agreed = cluster.ports().iter().all(|&p| {
            cluster
                .conn(p)
                .and_then(|mut c| c.text(["CLUSTER", "NODES"]))
                .is_ok_and(|text| {
                    text.lines()
                        .any(|l| l.starts_with(id) && l.contains(&needle))
                })
        });
        if agreed {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "the nodes did not learn the announced port {announced} of {port}"
        );
        pause(50);
    }
}
