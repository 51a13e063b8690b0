//! The typed helpers of every family (`prelude`) on slotwise-blocking, against a real cluster.

use slotwise_blocking::prelude::*;
use slotwise_blocking::{Client, ClientConfig, Error};
use slotwise_test_cluster::{Cluster, ClusterOptions};

macro_rules! run {
    ($e:expr) => {
        $e
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
    let client = Client::connect(ClientConfig::new([seed]).unwrap()).expect("connects");
    let ns = "blocking";
    include!("../../client/tests/shared/typed_families.rs");
    client.shutdown();
}
