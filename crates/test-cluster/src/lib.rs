//! # slotwise-test-cluster
//!
//! Real `redis-server` processes for tests and for `cargo xtask cluster`: started on free loopback
//! ports, in their own directory under `target/`, and killed (by PID, only the ones started here)
//! when dropped — also when a test panics.
//!
//! - [`Server`]: one `redis-server` process (optionally cluster-enabled, with no slots).
//! - [`Conn`]: a minimal blocking RESP connection for driving a server in tests and tools.
//! - [`redis_server_binary`]: finds `redis-server`, installing it with `apt-get` on Debian as root.

mod conn;
mod server;

pub use conn::Conn;
pub use server::{Server, ServerOptions, free_port, redis_server_binary};

/// Errors from starting or talking to test servers: a message that says what to do.
pub type Error = Box<dyn std::error::Error + Send + Sync>;
