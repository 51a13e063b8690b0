//! Passwords never reach the logs: with a subscriber recording every `tracing` span and event at
//! TRACE level, a client connects to a real ACL cluster (a good password, a rotating one from a
//! callback, and a wrong one), runs commands, and the recorded text is searched for the secrets.
//!
//! Its own test binary, because it installs the process-wide subscriber.

use slotwise_tokio::prelude::*;
use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use slotwise_test_cluster::{Cluster, ClusterOptions};
use slotwise_tokio::{Auth, Client, ClientConfig, CredentialsProvider, Endpoint};

const GOOD: &str = "pw-Good-7f3a91";
const WRONG: &str = "pw-Wrong-c40e2d";

/// A `tracing-subscriber` writer that appends everything to one shared buffer.
#[derive(Clone, Default)]
struct Recorded(Arc<Mutex<Vec<u8>>>);

impl io::Write for Recorded {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| io::Error::other("poisoned"))?
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Recorded {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// Hands out the good password, as a token-rotating application would.
struct Rotating;

impl CredentialsProvider for Rotating {
    fn credentials(&self, _endpoint: &Endpoint) -> Option<Auth> {
        Some(Auth {
            username: Some("app".into()),
            password: GOOD.into(),
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_password_in_any_log_line() {
    let recorded = Recorded::default();
    let writer = recorded.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber).expect("first subscriber");

    let cluster = Cluster::start(&ClusterOptions {
        primaries: 3,
        replicas: 0,
        acl: Some(("app".into(), GOOD.into())),
        ..Default::default()
    })
    .expect("ACL cluster starts");
    let seed = format!("localhost:{}", cluster.seed().expect("a seed").port());
    let config = || {
        ClientConfig::new([seed.clone()])
            .unwrap()
            .connect_wait(Duration::from_secs(5))
    };

    let client = Client::connect(config().user("app", GOOD))
        .await
        .expect("connects with the good password");
    for i in 0..300 {
        let key = format!("log:{i}");
        client.set(&key, "v").await.unwrap();
        assert!(client.get(&key).await.unwrap().is_some());
    }
    // A server error reply on the same connection.
    let not_a_number: Result<i64, _> = client.query(["INCR", "log:0"]).await;
    assert!(not_a_number.is_err());
    client.shutdown().await;

    let client = Client::connect(config().credentials_provider(Arc::new(Rotating)))
        .await
        .expect("connects with credentials from a callback");
    client.set("log:rotating", "v").await.unwrap();
    client.shutdown().await;

    let error = Client::connect(config().user("app", WRONG))
        .await
        .expect_err("the wrong password is refused");
    assert!(error.is_auth(), "{error}");
    assert!(!error.to_string().contains(WRONG), "{error}");
    assert!(!format!("{error:?}").contains(WRONG), "{error:?}");
    assert!(!format!("{:?}", config().user("app", GOOD)).contains(GOOD));

    let text = recorded.text();
    // The subscriber really saw the connections and the refused AUTH: the search below is not
    // over an empty log.
    assert!(text.contains("connected"), "no connect logged:\n{text}");
    assert!(
        text.contains("WRONGPASS"),
        "no refused AUTH logged:\n{text}"
    );
    for secret in [GOOD, WRONG] {
        assert!(
            !text.contains(secret),
            "a password was logged:\n{}",
            text.lines()
                .filter(|line| line.contains(secret))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
    eprintln!("{} log lines checked", text.lines().count());
}
