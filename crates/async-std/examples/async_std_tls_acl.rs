//! Connecting to a cluster over TLS with an ACL user, with slotwise-async-std.
//!
//! ```text
//! cargo run -p slotwise-async-std --example async_std_tls_acl -- HOST:TLS_PORT CA_FILE USER PASSWORD
//! ```

use slotwise_async_std::prelude::*;
use slotwise_async_std::{Client, ClientConfig, Error, TlsOptions};

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [seed, ca, user, password] = args.as_slice() else {
        eprintln!("usage: async_std_tls_acl HOST:TLS_PORT CA_FILE USER PASSWORD");
        std::process::exit(2);
    };
    async_std::task::block_on(async {
        let config = ClientConfig::new([seed.as_str()])?
            .tls(TlsOptions::ca_file(ca))
            .user(user.as_str(), password.as_str());
        let client = Client::connect(config).await?;
        client.set("tls:async-std", "hello").await?;
        assert_eq!(client.strlen("tls:async-std").await?, 5);
        println!("tls_acl: ok ({seed} as {user})");
        client.shutdown().await;
        Ok(())
    })
}
