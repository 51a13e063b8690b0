//! slotwise-async-std against real `redis-server` clusters, each scenario under both
//! `async_std::task::block_on` and `smol::block_on`: a single hostname seed, keys in every slot,
//! many concurrent tasks, TLS + ACL with announced hostnames (SNI) and mutual TLS, a wrong
//! password, shutdown.

use slotwise_async_std::prelude::*;
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use slotwise_async_std::{
    Client, ClientConfig, Error, Frame, Request, RequestError, TlsOptions, commands,
};
use slotwise_test_cluster::{Cluster, ClusterOptions};

/// The executor a scenario runs under.
#[derive(Clone, Copy, Debug)]
enum Exec {
    AsyncStd,
    Smol,
}

const BOTH: [Exec; 2] = [Exec::AsyncStd, Exec::Smol];

impl Exec {
    fn block_on<F: Future>(self, f: F) -> F::Output {
        match self {
            Exec::AsyncStd => async_std::task::block_on(f),
            Exec::Smol => smol::block_on(f),
        }
    }

    fn spawn<F: Future<Output = ()> + Send + 'static>(
        self,
        f: F,
    ) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        match self {
            Exec::AsyncStd => Box::pin(async_std::task::spawn(f)),
            Exec::Smol => Box::pin(smol::spawn(f)),
        }
    }

    async fn sleep(self, d: Duration) {
        match self {
            Exec::AsyncStd => async_std::task::sleep(d).await,
            Exec::Smol => {
                smol::Timer::after(d).await;
            }
        }
    }
}

/// One key per slot: `keys[slot]` hashes to `slot` (16384 keys).
fn keys_in_every_slot(prefix: &str) -> Vec<String> {
    slotwise_test_cluster::slot_tags()
        .iter()
        .map(|tag| format!("{prefix}{{{tag}}}"))
        .collect()
}

fn plain_cluster() -> Cluster {
    Cluster::start(&ClusterOptions {
        primaries: 3,
        replicas: 0,
        ..Default::default()
    })
    .expect("cluster starts")
}

fn seed(cluster: &Cluster) -> String {
    format!("localhost:{}", cluster.seed().expect("a seed").port())
}

#[test]
fn every_slot_through_one_hostname_seed() {
    let cluster = plain_cluster();
    for exec in BOTH {
        let prefix = format!("{exec:?}:");
        exec.block_on(async {
            let started = Instant::now();
            let client = Client::connect(ClientConfig::new([seed(&cluster)]).unwrap())
                .await
                .expect("connects");
            let keys = keys_in_every_slot(&prefix);
            let sets: Vec<_> = keys
                .iter()
                .map(|k| client.submit(commands::set(k, k)))
                .collect();
            for s in sets {
                assert_eq!(s.await.unwrap(), Frame::SimpleString("OK".into()));
            }
            for k in keys.iter().step_by(7) {
                assert_eq!(client.get(k).await.unwrap().as_deref(), Some(k.as_bytes()));
            }
            let counters: Vec<_> = keys
                .iter()
                .map(|k| client.submit(commands::incr(format!("{k}:n"))))
                .collect();
            for c in counters {
                assert_eq!(c.await.unwrap(), Frame::Integer(1));
            }
            client
                .set_ex(format!("{prefix}ttl"), "v", Duration::from_secs(60))
                .await
                .unwrap();
            assert!(
                client.ttl(format!("{prefix}ttl")).await.unwrap().unwrap()
                    > Duration::from_secs(50)
            );
            assert_eq!(client.incr_by(format!("{prefix}by"), 5).await.unwrap(), 5);
            assert!(client.del(format!("{prefix}by")).await.unwrap());
            client
                .cmd(["LPUSH", &format!("{prefix}list"), "x"])
                .await
                .unwrap();
            let e = client
                .cmd(["INCR", &format!("{prefix}list")])
                .await
                .unwrap_err();
            assert_eq!(e.server_code(), Some("WRONGTYPE"), "{e}");
            let e = client
                .cmd(["MSETNX", "a", "1", "b", "2"])
                .await
                .unwrap_err();
            assert!(matches!(e, Error::Request(RequestError::CrossSlot)), "{e}");
            let e = client
                .send(
                    Request::new(["BLPOP", "empty-list", "0"]).timeout(Duration::from_millis(200)),
                )
                .await
                .unwrap_err();
            assert!(e.is_timeout(), "{e}");
            eprintln!("{exec:?} every slot: {:?}", started.elapsed());
            client.shutdown().await;
        });
    }
}

#[test]
fn many_concurrent_tasks_share_one_client() {
    let cluster = plain_cluster();
    for exec in BOTH {
        let name = format!("slotwise-{exec:?}");
        exec.block_on(async {
            let config = ClientConfig::new([seed(&cluster)])
                .unwrap()
                .client_name(&name);
            let client = Client::connect(config).await.expect("connects");
            let started = Instant::now();
            let tasks: Vec<_> = (0..32)
                .map(|t| {
                    let client = client.clone();
                    exec.spawn(async move {
                        for i in 0..200 {
                            let key = format!("{exec:?}{t}:key{i}");
                            client.set(&key, i.to_string()).await.unwrap();
                            let v: i64 = client.query(["GET", key.as_str()]).await.unwrap();
                            assert_eq!(v, i);
                            client.incr(format!("{exec:?}{t}:count")).await.unwrap();
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await;
            }
            eprintln!("{exec:?} 32 tasks x 200 x 3 ops: {:?}", started.elapsed());
            for t in 0..32 {
                let n: i64 = client
                    .query(["GET", &format!("{exec:?}{t}:count")])
                    .await
                    .unwrap();
                assert_eq!(n, 200);
            }
            assert_eq!(cluster.clients_named(&name).unwrap(), vec![1, 1, 1]);
            drop(client);
            let t = Instant::now();
            while cluster.clients_named(&name).unwrap() != vec![0, 0, 0] {
                assert!(
                    t.elapsed() < Duration::from_secs(3),
                    "connections left open"
                );
                exec.sleep(Duration::from_millis(20)).await;
            }
        });
    }
}

#[test]
fn tls_acl_announced_hostnames_and_mutual_tls() {
    let cluster = Cluster::start(&ClusterOptions {
        primaries: 3,
        replicas: 0,
        tls: true,
        acl: Some(("app".into(), "s3cret".into())),
        announce_hostname: Some("localhost".into()),
        extra_args: vec!["--tls-auth-clients".into(), "yes".into()],
        ..Default::default()
    })
    .expect("TLS cluster starts");
    let files = cluster.tls_files().expect("TLS files").clone();
    let port = cluster.seed().unwrap().port();
    let tls =
        || TlsOptions::ca_file(&files.ca_cert).client_cert(&files.client_cert, &files.client_key);
    let config = |seed: String| {
        ClientConfig::new([seed])
            .unwrap()
            .connect_wait(Duration::from_secs(5))
    };
    for exec in BOTH {
        exec.block_on(async {
            let client = Client::connect(
                config(format!("localhost:{port}"))
                    .user("app", "s3cret")
                    .tls(tls()),
            )
            .await
            .expect("TLS + ACL connect");
            for k in keys_in_every_slot("tls").iter().step_by(97) {
                client.set(k, "v").await.unwrap();
                assert_eq!(client.get(k).await.unwrap().as_deref(), Some(&b"v"[..]));
            }
            let big = "x".repeat(1 << 20);
            client.set("big", &big).await.unwrap();
            assert_eq!(
                client.get("big").await.unwrap().map(|b| b.len()),
                Some(big.len())
            );
            let who: String = client.query(["ACL", "WHOAMI"]).await.unwrap();
            assert_eq!(who, "app");
            client.shutdown().await;

            let t = Instant::now();
            let e = Client::connect(
                config(format!("localhost:{port}"))
                    .user("app", "wrong")
                    .tls(tls()),
            )
            .await
            .unwrap_err();
            assert!(e.is_auth(), "{e}");
            assert!(e.to_string().contains("WRONGPASS"), "{e}");
            assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());

            let e = Client::connect(
                config(format!("127.0.0.1:{port}"))
                    .user("app", "s3cret")
                    .tls(tls().server_name("not-this-host.example")),
            )
            .await
            .unwrap_err();
            assert!(matches!(e, Error::Connect { .. }), "{e}");
            assert!(e.to_string().to_lowercase().contains("certificate"), "{e}");

            let e = Client::connect(
                config(format!("localhost:{port}"))
                    .user("app", "s3cret")
                    .connect_wait(Duration::from_secs(2))
                    .tls(TlsOptions::ca_file(&files.ca_cert)),
            )
            .await
            .unwrap_err();
            assert!(matches!(e, Error::Connect { .. }), "{e}");
            eprintln!("{exec:?} no client certificate: {e}");
        });
    }
}

#[test]
fn shutdown_ends_pending_requests_and_refuses_new_ones() {
    let cluster = plain_cluster();
    for exec in BOTH {
        exec.block_on(async {
            let client = Client::connect(ClientConfig::new([seed(&cluster)]).unwrap())
                .await
                .unwrap();
            let other = client.clone();
            let blocked = client.submit(Request::new(["BLPOP", "nothing", "10"]));
            exec.sleep(Duration::from_millis(100)).await;
            let t = Instant::now();
            client.shutdown().await;
            assert!(matches!(blocked.await, Err(Error::Closed)));
            assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
            assert!(matches!(other.get("k").await, Err(Error::Closed)));

            let dead = slotwise_test_cluster::free_port().unwrap();
            let e = Client::connect(
                ClientConfig::new([format!("127.0.0.1:{dead}")])
                    .unwrap()
                    .connect_wait(Duration::from_millis(500)),
            )
            .await
            .unwrap_err();
            assert!(matches!(e, Error::Connect { .. }), "{e}");
        });
    }
}
