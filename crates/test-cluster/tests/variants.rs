//! ACL, TLS and announced-hostname clusters.

use slotwise_test_cluster::{Cluster, ClusterOptions, Conn, ConnOptions};

#[test]
fn acl_cluster_accepts_its_user_and_rejects_others() {
    let options = ClusterOptions {
        primaries: 3,
        replicas: 1,
        acl: Some(("slotwise".into(), "s3cret".into())),
        ..Default::default()
    };
    let cluster = Cluster::start(&options).unwrap();
    let port = cluster.primaries().unwrap()[0].port;
    let addr = Cluster::addr(port);
    // Replication authenticated (wait_stable checked every replica is in sync).
    assert_eq!(cluster.replicas_of(port).unwrap().len(), 1);

    let err = Conn::connect_auth(addr, "slotwise", "wrong")
        .unwrap_err()
        .to_string();
    assert!(err.contains("WRONGPASS"), "{err}");
    let err = Conn::connect_auth(addr, "nobody", "s3cret")
        .unwrap_err()
        .to_string();
    assert!(err.contains("WRONGPASS"), "{err}");
    // The default user is off: an unauthenticated connection can do nothing.
    let reply = Conn::connect(addr).unwrap().cmd(["PING"]).unwrap();
    let text = String::from_utf8_lossy(reply.as_bytes().unwrap()).into_owned();
    assert!(reply.is_error() && text.starts_with("NOAUTH"), "{text}");
    let err = Conn::connect_auth(addr, "default", "")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("WRONGPASS") || err.contains("disabled"),
        "{err}"
    );

    let mut conn = Conn::connect_auth(addr, "slotwise", "s3cret").unwrap();
    assert_eq!(
        conn.text(["ACL", "WHOAMI"]).unwrap(),
        "slotwise",
        "authenticated as the ACL user"
    );
    // Resharding authenticates MIGRATE with the ACL user: a key in the slot that moves arrives.
    let primaries = cluster.primaries().unwrap();
    let last_slot = *primaries[0].slots.last().unwrap().end();
    let key = key_in_slot(last_slot);
    conn.ok(["SET", key.as_str(), "moved"]).unwrap();
    let to = primaries[1].port;
    let moved = cluster.reshard(port, to, 1).unwrap();
    assert_eq!(moved, vec![last_slot]);
    let mut target = cluster.conn(to).unwrap();
    let value = target.ok(["GET", key.as_str()]).unwrap();
    assert_eq!(value.as_bytes().map(|b| &b[..]), Some(&b"moved"[..]));
}

/// A key that hashes to `slot` (CRC16/XMODEM of the key, mod 16384).
fn key_in_slot(slot: u16) -> String {
    fn crc16(data: &[u8]) -> u16 {
        let mut crc: u16 = 0;
        for &byte in data {
            crc ^= u16::from(byte) << 8;
            for _ in 0..8 {
                crc = if crc & 0x8000 != 0 {
                    (crc << 1) ^ 0x1021
                } else {
                    crc << 1
                };
            }
        }
        crc
    }
    (0..)
        .map(|i| format!("key:{i}"))
        .find(|k| crc16(k.as_bytes()) % 16384 == slot)
        .unwrap()
}

#[test]
fn tls_cluster_starts_and_speaks_only_tls() {
    let options = ClusterOptions {
        primaries: 3,
        replicas: 1,
        tls: true,
        ..Default::default()
    };
    let cluster = Cluster::start(&options).unwrap();
    let files = cluster.tls_files().unwrap().clone();
    for path in [
        &files.ca_cert,
        &files.server_cert,
        &files.server_key,
        &files.client_cert,
        &files.client_key,
    ] {
        assert!(path.is_file(), "{}", path.display());
    }
    let port = cluster.primaries().unwrap()[0].port;
    // TLS with the cluster's client configuration (mutual TLS) works.
    let mut conn = cluster.conn(port).unwrap();
    assert_eq!(conn.text(["PING"]).unwrap(), "PONG");
    // CLUSTER SLOTS over TLS names the TLS ports.
    let slots = conn.ok(["CLUSTER", "SLOTS"]).unwrap();
    let ports = cluster.ports();
    for range in slots.as_items().unwrap() {
        let primary = range.as_items().unwrap()[2].as_items().unwrap();
        let p = primary[1].as_integer().unwrap() as u16;
        assert!(ports.contains(&p), "{p} not one of {ports:?}");
    }
    // Plain TCP gets no answer in RESP: the port speaks only TLS.
    let plain = Conn::connect(Cluster::addr(port)).and_then(|mut c| {
        c.set_read_timeout(std::time::Duration::from_secs(2))?;
        c.cmd(["PING"])
    });
    assert!(plain.is_err(), "{plain:?}");
    // Without the CA the server certificate is not trusted.
    let untrusted = ConnOptions {
        tls: Some(other_ca_config()),
        auth: None,
    };
    assert!(
        Conn::connect_with(Cluster::addr(port), &untrusted)
            .and_then(|mut c| c.cmd(["PING"]))
            .is_err()
    );
    // Faults work over TLS too (cluster bus and replication are TLS).
    let promotion = cluster.failover(port).unwrap();
    assert_ne!(promotion.new_primary, port);
}

#[test]
fn announced_hostname_is_the_preferred_endpoint() {
    let options = ClusterOptions {
        primaries: 3,
        replicas: 0,
        announce_hostname: Some("localhost".into()),
        ..Default::default()
    };
    let cluster = Cluster::start(&options).unwrap();
    assert_eq!(cluster.nodes().unwrap().len(), 3);
    let port = cluster.ports()[0];
    let mut conn = cluster.conn(port).unwrap();
    let slots = conn.ok(["CLUSTER", "SLOTS"]).unwrap();
    for range in slots.as_items().unwrap() {
        let primary = range.as_items().unwrap()[2].as_items().unwrap();
        assert_eq!(primary[0].as_bytes().unwrap().as_ref(), b"localhost");
    }
    let nodes = conn.text(["CLUSTER", "NODES"]).unwrap();
    assert!(nodes.lines().all(|l| l.contains(",localhost ")), "{nodes}");
    // A MOVED names the hostname.
    let other = cluster
        .primaries()
        .unwrap()
        .into_iter()
        .find(|n| n.port != port)
        .unwrap();
    let slot = *other.slots[0].start();
    let key = (0..100_000)
        .map(|i| format!("h{i}"))
        .find(|k| {
            conn.ok(["CLUSTER", "KEYSLOT", k.as_str()])
                .unwrap()
                .as_integer()
                == Some(i64::from(slot))
        })
        .unwrap();
    let reply = conn.cmd(["GET", key.as_str()]).unwrap();
    let text = String::from_utf8_lossy(reply.as_bytes().unwrap()).into_owned();
    assert_eq!(text, format!("MOVED {slot} localhost:{}", other.port));
}

/// A client configuration trusting a different, freshly made CA.
fn other_ca_config() -> std::sync::Arc<rustls::ClientConfig> {
    let dir = std::env::temp_dir().join(format!("slotwise-other-ca-{}", std::process::id()));
    let files = slotwise_test_cluster::TlsFiles::generate(&dir).unwrap();
    let config = files.client_config().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    config
}
