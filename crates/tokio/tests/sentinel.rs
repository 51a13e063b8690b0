//! slotwise-tokio against a Sentinel-managed primary (real `redis-server --sentinel` processes):
//! the primary and its replicas come from the sentinels; sentinels and nodes require a password.
//! (The failover and kill -9 scenarios under load run for every adapter in `tests/`.)

use slotwise_test_cluster::{SentinelGroup, SentinelOptions};
use slotwise_tokio::prelude::*;
use slotwise_tokio::{Client, ClientConfig, ReadFrom};

fn url(group: &SentinelGroup, userinfo: &str) -> String {
    let hosts: Vec<String> = group
        .sentinel_ports()
        .iter()
        .map(|p| format!("127.0.0.1:{p}"))
        .collect();
    format!(
        "redis+sentinel://{userinfo}{}/{}",
        hosts.join(","),
        group.master_name()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sentinels_and_nodes_with_a_password() {
    let group = SentinelGroup::start(&SentinelOptions {
        password: Some("s3cret pass".into()),
        ..Default::default()
    })
    .expect("sentinels start");
    let config = ClientConfig::new([url(&group, ":s3cret%20pass@")])
        .unwrap()
        .read_from(ReadFrom::RoundRobin);
    let client = Client::connect(config).await.expect("connects");
    let topology = client.topology().await.unwrap();
    assert_eq!(topology.shards().len(), 1);
    let shard = &topology.shards()[0];
    let primary = group.primary_port().unwrap();
    assert_eq!(
        shard.primary.endpoint.as_ref().map(|e| e.port),
        Some(primary)
    );
    assert_eq!(shard.replicas.len(), 2, "{shard:?}");

    let _: () = client.set("sentinel:k", "v").await.unwrap();
    let value = client.get("sentinel:k").await.unwrap();
    // A replica read may run before the write reached it; the primary has it.
    assert!(matches!(value.as_deref(), Some(b"v") | None), "{value:?}");
    let n: i64 = client.incr("sentinel:n").await.unwrap();
    assert_eq!(n, 1);
    let mut conn = group.conn(primary).unwrap();
    assert_eq!(conn.text(["GET", "sentinel:k"]).unwrap(), "v");

    // The wrong password: connect fails and says the sentinels refused it.
    let wrong = ClientConfig::new([url(&group, ":nope@")])
        .unwrap()
        .connect_wait(std::time::Duration::from_secs(3));
    let err = Client::connect(wrong).await.expect_err("a wrong password");
    let text = err.to_string();
    assert!(
        text.contains("WRONGPASS") || text.contains("invalid password"),
        "{text}"
    );
}

/// `rediss+sentinel://`: TLS to the sentinels and to the nodes they name (every process listens
/// only on its TLS port), with a password on both; then a `SENTINEL FAILOVER`, after which writes
/// go to the new primary over TLS.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sentinels_and_nodes_over_tls() {
    let group = SentinelGroup::start(&SentinelOptions {
        tls: true,
        password: Some("tls-pass".into()),
        replicas: 1,
        ..Default::default()
    })
    .expect("TLS sentinels start");
    let ca = group.tls_files().expect("TLS files").ca_cert.clone();
    let url = url(&group, ":tls-pass@").replacen("redis+", "rediss+", 1);
    let config = ClientConfig::new([url])
        .unwrap()
        .tls(slotwise_tokio::TlsOptions::ca_file(ca));
    let client = Client::connect(config).await.expect("connects over TLS");
    let before = group.primary_port().unwrap();
    assert_eq!(client.incr("tls:n").await.unwrap(), 1);
    let switch = tokio::task::block_in_place(|| group.failover()).expect("SENTINEL FAILOVER");
    assert_eq!(switch.old_primary, before);
    // Writes go to the new primary (those sent during the switch waited for it).
    assert_eq!(client.incr("tls:n").await.unwrap(), 2);
    let stats = client.stats().await.unwrap();
    assert!(stats.sentinel_switches >= 1, "{stats:?}");
    let mut conn = group.conn(switch.new_primary).unwrap();
    assert_eq!(conn.text(["GET", "tls:n"]).unwrap(), "2");
    let topology = client.topology().await.unwrap();
    assert_eq!(
        topology.shards()[0]
            .primary
            .endpoint
            .as_ref()
            .map(|e| e.port),
        Some(switch.new_primary)
    );
}
