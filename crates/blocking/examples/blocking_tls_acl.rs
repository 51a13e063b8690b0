//! Connecting to a cluster over TLS with an ACL user, with slotwise-blocking.
//!
//! ```text
//! cargo run -p slotwise-blocking --example blocking_tls_acl -- HOST:TLS_PORT CA_FILE USER PASSWORD
//! ```

use slotwise_blocking::prelude::*;
use slotwise_blocking::{Client, ClientConfig, Error, TlsOptions};

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [seed, ca, user, password] = args.as_slice() else {
        eprintln!("usage: blocking_tls_acl HOST:TLS_PORT CA_FILE USER PASSWORD");
        std::process::exit(2);
    };
    let config = ClientConfig::new([seed.as_str()])?
        .tls(TlsOptions::ca_file(ca))
        .user(user.as_str(), password.as_str());
    let client = Client::connect(config)?;
    client.set("tls:blocking", "hello")?;
    assert_eq!(client.append("tls:blocking", "!")?, 6);
    println!("tls_acl: ok ({seed} as {user})");
    client.shutdown();
    Ok(())
}
