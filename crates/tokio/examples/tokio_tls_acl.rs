//! Connecting to a cluster over TLS with an ACL user, with slotwise-tokio.
//!
//! ```text
//! cargo run -p slotwise-tokio --example tokio_tls_acl -- HOST:TLS_PORT CA_FILE USER PASSWORD
//! ```
//!
//! The CA file verifies the nodes' certificates (by the name in the seed, or the hostname each
//! node announces). Exits non-zero if the round trip fails.

use slotwise_tokio::prelude::*;
use slotwise_tokio::{Client, ClientConfig, Error, TlsOptions};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [seed, ca, user, password] = args.as_slice() else {
        eprintln!("usage: tokio_tls_acl HOST:TLS_PORT CA_FILE USER PASSWORD");
        std::process::exit(2);
    };
    let config = ClientConfig::new([seed.as_str()])?
        .tls(TlsOptions::ca_file(ca))
        .user(user.as_str(), password.as_str());
    let client = match Client::connect(config).await {
        Ok(client) => client,
        // A refused password is its own error; so is a certificate that does not verify.
        Err(e) if e.is_auth() => {
            eprintln!("the cluster refused {user}: {e}");
            std::process::exit(1);
        }
        Err(e) => return Err(e),
    };
    client.set("tls:greeting", "hello over TLS").await?;
    let back: Option<String> = client.query(["GET", "tls:greeting"]).await?;
    assert_eq!(back.as_deref(), Some("hello over TLS"));
    assert_eq!(client.sadd("tls:set", ["a", "b"]).await?, 2);
    println!("tls_acl: ok ({} as {user})", seed);
    client.shutdown().await;
    Ok(())
}
