//! The one interface every adapter is tested through: a client with a blocking `call`.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use slotwise_cluster::{Frame, Request, RequestError, Stats, Target};
use slotwise_test_cluster::Cluster;

/// Why a call failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallError {
    /// The core's typed error.
    Request(RequestError),
    /// Redis answered with an error reply (the whole line, code first).
    Redis(String),
    /// Anything else the adapter reports (connecting, shutdown …), as text.
    Other(String),
}

impl CallError {
    /// A short name for counting errors by kind (the core's [`RequestError::kind`] for request errors).
    pub fn kind(&self) -> &'static str {
        match self {
            CallError::Request(e) => e.kind(),
            CallError::Redis(_) => "Redis",
            CallError::Other(_) => "Other",
        }
    }

    /// True when a write that failed this way may still have been applied.
    pub fn maybe_applied(&self) -> bool {
        matches!(
            self,
            CallError::Request(
                RequestError::ConnectionLost {
                    maybe_applied: true,
                    ..
                } | RequestError::Timeout { .. }
                    | RequestError::Protocol { .. }
                    | RequestError::ClusterDown { .. }
                    | RequestError::TooManyRedirects { .. }
            ) | CallError::Other(_)
        )
    }
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallError::Request(e) => write!(f, "{e}"),
            CallError::Redis(line) => write!(f, "error reply: {line}"),
            CallError::Other(e) => f.write_str(e),
        }
    }
}

impl std::error::Error for CallError {}

/// TLS settings for a client: the CA to trust, an optional client certificate, and the name to
/// verify for nodes that announce only an IP address.
#[derive(Clone, Debug, Default)]
pub struct TlsSpec {
    /// PEM CA certificate.
    pub ca_cert: PathBuf,
    /// PEM client certificate and key, for mutual TLS.
    pub client_cert: Option<(PathBuf, PathBuf)>,
    /// The configured server name (`Tls::server_name`).
    pub server_name: Option<String>,
    /// A complete rustls configuration to use instead of the files above.
    pub rustls: Option<std::sync::Arc<rustls::ClientConfig>>,
}

/// How to connect a client, independent of the adapter.
#[derive(Clone, Debug)]
pub struct ClientSpec {
    /// Seeds, `host:port`.
    pub seeds: Vec<(String, u16)>,
    /// TLS, when on.
    pub tls: Option<TlsSpec>,
    /// ACL user and password.
    pub auth: Option<(String, String)>,
    /// The default request deadline.
    pub request_timeout: Duration,
    /// A seed URL used instead of `seeds` (`redis+sentinel://…/MASTER`).
    pub url: Option<String>,
}

impl ClientSpec {
    /// A client for `cluster`: its first node as the only seed (by IP), its TLS files and ACL user.
    pub fn for_cluster(cluster: &Cluster) -> ClientSpec {
        let seed = cluster.seed().expect("the cluster has a running node");
        ClientSpec {
            seeds: vec![(seed.ip().to_string(), seed.port())],
            tls: cluster.tls_files().map(|files| TlsSpec {
                ca_cert: files.ca_cert.clone(),
                client_cert: Some((files.client_cert.clone(), files.client_key.clone())),
                server_name: None,
                rustls: None,
            }),
            auth: cluster.options().acl.clone(),
            request_timeout: Duration::from_secs(10),
            url: None,
        }
    }
}

/// A connected client of one adapter. Error replies come back as [`CallError::Redis`]. `call` blocks the calling thread until the request's one
/// outcome; it may be called from many threads at once.
pub trait TestClient: Send + Sync {
    /// Runs one request.
    fn call(&self, request: Request) -> Result<Frame, CallError>;
    /// The client's counters (the core's [`Stats`]), as of now.
    fn stats(&self) -> Result<Stats, CallError>;
    /// Adds 1 to the integer at `key` with the adapter's optimistic-transaction helper: `WATCH
    /// key`, `GET key`, then `between(attempt)` (attempts count from 1), `MULTI`, `SET key n+1`,
    /// `EXEC`, re-run by the helper after a `WATCH` abort or a slot move. Returns the new value and
    /// how many attempts it took.
    fn incr_in_transaction(
        &self,
        key: &str,
        between: &(dyn Fn(u32) + Sync),
    ) -> Result<(i64, u32), CallError>;
    /// Submits `request` without waiting; dropping what this returns drops the request's future
    /// (which cancels a blocking command).
    fn submit_detached(&self, request: Request) -> Box<dyn Send>;
    /// Runs `requests` as one pipeline (the adapter's `Pipeline`): one outcome per request, in
    /// order.
    fn pipeline(&self, requests: Vec<Request>) -> Result<Vec<Result<Frame, CallError>>, CallError>;
    /// A cluster-wide `SCAN` (`COUNT count`, `MATCH pattern`) to its end, through the adapter's
    /// scan API; `between(n)` runs after the `n`th batch (from 1), on a thread that may block.
    fn scan(
        &self,
        count: u32,
        pattern: Option<&str>,
        between: &(dyn Fn(usize) + Sync),
    ) -> Result<Vec<Vec<u8>>, CallError>;
    /// Runs `request` on the node `target` names.
    fn call_to(&self, target: Target, request: Request) -> Result<Frame, CallError>;
    /// A new pub/sub subscriber (read it with `recv_timeout` from any thread).
    fn subscriber(&self) -> slotwise_client::Subscriber;
}

/// One adapter (and runtime) under test.
pub trait Adapter: Sync {
    /// Its name in test output.
    fn name(&self) -> &'static str;
    /// Connects a client.
    fn connect(&self, spec: &ClientSpec) -> Result<Box<dyn TestClient>, CallError>;
}
