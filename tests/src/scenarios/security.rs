//! TLS with client certificates, an ACL user, and hostnames announced by the nodes.

use std::time::Duration;

use slotwise_cluster::{Frame, Request, RequestError};
use slotwise_test_cluster::ClusterOptions;

use super::{connect, must, start};
use crate::client::{Adapter, CallError, ClientSpec};
use crate::keys::{self, SLOTS};
use crate::sni::recording_config;

/// A TLS + ACL cluster whose nodes announce the hostname `localhost`:
///
/// - seed `localhost`, the cluster's CA and client certificate: every slot is reachable;
/// - seed `127.0.0.1` with a verifier that records names: the seed is verified as `127.0.0.1`
///   (its address; no hostname is known yet), every node found in the topology as `localhost`
///   — the name each node announces is the one sent as SNI and verified;
/// - seed `127.0.0.1` with the configured server name `wrong-name.invalid`: refused (the
///   certificate is really checked);
/// - the wrong password: a clear authentication error that does not show the password.
pub fn tls_acl_hostnames(adapter: &dyn Adapter) {
    let name = adapter.name();
    let cluster = start(ClusterOptions {
        replicas: 0,
        tls: true,
        acl: Some(("app".into(), "s3cret-pass".into())),
        announce_hostname: Some("localhost".into()),
        ..Default::default()
    });
    let port = cluster.seed().expect("seed").port();
    let base = ClientSpec::for_cluster(&cluster);
    let files = cluster.tls_files().expect("TLS files").clone();

    let mut spec = base.clone();
    spec.seeds = vec![("localhost".into(), port)];
    let client = connect(adapter, &spec);
    for slot in (0..SLOTS).step_by(211) {
        let key = keys::value(slot);
        must(&*client, &["SET", &key, "tls"]);
        assert_eq!(
            must(&*client, &["GET", &key]),
            Frame::BulkString("tls".into())
        );
    }
    drop(client);

    let (rustls, verifier) =
        recording_config(&files.ca_cert, &files.client_cert, &files.client_key)
            .expect("recording TLS config");
    let mut spec = base.clone();
    if let Some(tls) = &mut spec.tls {
        tls.rustls = Some(rustls);
    }
    let client = connect(adapter, &spec);
    for slot in (0..SLOTS).step_by(1021) {
        must(&*client, &["GET", &keys::value(slot)]);
    }
    drop(client);
    let names = verifier.names();
    println!("[{name}] TLS names verified (SNI): {names:?}");
    assert_eq!(
        names.first().map(String::as_str),
        Some("127.0.0.1"),
        "[{name}] the seed"
    );
    assert!(
        names.len() >= 2 && names[1..].iter().all(|n| n == "localhost"),
        "[{name}] nodes from the topology must be verified by their announced hostname: {names:?}"
    );

    let mut spec = base.clone();
    if let Some(tls) = &mut spec.tls {
        tls.server_name = Some("wrong-name.invalid".into());
    }
    spec.request_timeout = Duration::from_secs(3);
    match adapter
        .connect(&spec)
        .and_then(|c| c.call(Request::new(["GET", "k"])))
    {
        Ok(reply) => panic!("[{name}] a certificate for the wrong name was accepted: {reply:?}"),
        Err(e) => {
            println!("[{name}] wrong TLS name refused: {e}");
            assert!(
                e.to_string().contains("certificate"),
                "[{name}] unclear TLS error: {e}"
            );
        }
    }

    let mut spec = base.clone();
    spec.auth = Some(("app".into(), "wrong-pass".into()));
    spec.request_timeout = Duration::from_secs(3);
    let err = match adapter
        .connect(&spec)
        .and_then(|c| c.call(Request::new(["GET", "k"])))
    {
        Ok(reply) => panic!("[{name}] the wrong password was accepted: {reply:?}"),
        Err(e) => e,
    };
    let text = err.to_string();
    println!("[{name}] wrong password: {text}");
    assert!(
        matches!(err, CallError::Request(RequestError::Auth { .. })),
        "[{name}] the wrong password should give an authentication error, got: {text}"
    );
    assert!(
        !text.contains("wrong-pass"),
        "[{name}] the password leaked into the error: {text}"
    );
}
