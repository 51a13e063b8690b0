//! The typed helpers of every family (`prelude`) on slotwise-async-std, against a real cluster.

use slotwise_async_std::prelude::*;
use slotwise_async_std::{Client, ClientConfig, Error};
use slotwise_test_cluster::{Cluster, ClusterOptions};

macro_rules! run {
    ($e:expr) => {
        $e.await
    };
}

#[test]
fn typed_helpers_of_every_family() {
    let cluster = Cluster::start(&ClusterOptions {
        primaries: 3,
        replicas: 0,
        ..Default::default()
    })
    .expect("cluster starts");
    let seed = format!("127.0.0.1:{}", cluster.seed().unwrap().port());
    async_std::task::block_on(async {
        let client = Client::connect(ClientConfig::new([seed]).unwrap())
            .await
            .expect("connects");
        let ns = "async-std";
        include!("../../client/tests/shared/typed_families.rs");
        client.shutdown().await;
    });
}
