//! Transactions against a real cluster: misuse refused before the server, a 100,000-command
//! transaction bounded by the queue, and no connection ever handed back inside a transaction.

use slotwise_test_cluster::{Cluster, ClusterOptions};
use slotwise_tokio::prelude::*;
use slotwise_tokio::{Client, ClientConfig, Error, Frame, Request, RequestError};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn misuse_and_a_huge_transaction_leave_no_connection_in_a_transaction() {
    let cluster = Cluster::start(&ClusterOptions {
        primaries: 3,
        replicas: 0,
        ..Default::default()
    })
    .expect("cluster starts");
    let seed = format!("127.0.0.1:{}", cluster.seed().expect("a seed").port());
    let client = Client::connect(ClientConfig::new([seed]).unwrap())
        .await
        .expect("connects");
    let tx = client.session("{t}");
    let misuse = |r: Result<Frame, Error>| {
        assert!(
            matches!(r, Err(Error::Request(RequestError::Transaction { .. }))),
            "{r:?}"
        )
    };
    misuse(tx.cmd(["EXEC"]).await);
    misuse(tx.cmd(["DISCARD"]).await);
    tx.multi().await.unwrap();
    misuse(tx.cmd(["MULTI"]).await);
    misuse(tx.cmd(["WATCH", "{t}:k"]).await);
    tx.discard().await.unwrap();

    // 100,000 commands inside one MULTI, submitted at once. The session's queue bound (8,192
    // requests queued or in flight) holds the client's share; what exceeds it is refused, and then
    // the EXEC discards the transaction instead of running it with commands missing. (The server
    // acknowledges quickly, so usually the window never fills and all of it runs.)
    tx.multi().await.unwrap();
    let pending: Vec<_> = (0..100_000)
        .map(|i| tx.submit(Request::new(["SET", "{t}:k", &i.to_string()])))
        .collect();
    let exec = tx.exec().await;
    let (mut queued, mut refused) = (0, 0);
    for p in pending {
        match p.await {
            Ok(Frame::SimpleString(ref s)) if &s[..] == b"QUEUED" => queued += 1,
            Err(Error::Request(RequestError::QueueFull { .. })) => refused += 1,
            other => panic!("{other:?}"),
        }
    }
    println!("100,000 commands in one MULTI: {queued} queued, {refused} refused (queue full)");
    assert_eq!(queued + refused, 100_000);
    let expected = if refused > 0 {
        assert!(
            matches!(
                exec,
                Err(Error::Request(RequestError::TransactionAborted { .. }))
            ),
            "{exec:?}"
        );
        Frame::Null // nothing of it ran
    } else {
        assert_eq!(exec.unwrap().map(|r| r.len()), Some(100_000));
        Frame::BulkString("99999".into())
    };
    drop(tx);

    // The connection the session gives back is not inside a MULTI: a new session (which takes it
    // from the pool) reads and writes at once.
    let tx = client.session("{t}");
    assert_eq!(tx.cmd(["GET", "{t}:k"]).await.unwrap(), expected);
    assert_eq!(
        tx.cmd(["SET", "{t}:k", "x"]).await.unwrap(),
        Frame::SimpleString("OK".into())
    );
    drop(tx);
    assert_eq!(
        client.get("{t}:k").await.unwrap().as_deref(),
        Some(&b"x"[..])
    );
    client.shutdown().await;
}
