//! The typed helpers of every family (`prelude`) on slotwise-tokio, against a real cluster.

use slotwise_test_cluster::{Cluster, ClusterOptions};
use slotwise_tokio::prelude::*;
use slotwise_tokio::{Client, ClientConfig, Error};

macro_rules! run {
    ($e:expr) => {
        $e.await
    };
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_helpers_of_every_family() {
    let cluster = Cluster::start(&ClusterOptions {
        primaries: 3,
        replicas: 0,
        ..Default::default()
    })
    .expect("cluster starts");
    let seed = format!("127.0.0.1:{}", cluster.seed().unwrap().port());
    let client = Client::connect(ClientConfig::new([seed]).unwrap())
        .await
        .expect("connects");
    let ns = "tokio";
    include!("../../client/tests/shared/typed_families.rs");
    client.shutdown().await;
}
