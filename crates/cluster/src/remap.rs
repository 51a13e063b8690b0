//! Address remapping: a cluster behind NAT, in containers or reached through port forwarding
//! announces addresses (in `CLUSTER SHARDS`/`SLOTS`, `MOVED`, `ASK`) the client cannot dial. A
//! [`Remap`] in [`Config::remap`](crate::Config::remap) says where to connect instead, and
//! which TLS name to verify there. Nodes keep their announced endpoint as their identity (in
//! events, errors and the topology); only the connects change.

use alloc::string::String;
use alloc::sync::Arc;
use core::fmt;

use slotwise_topology::Endpoint;

/// Where to connect for an announced endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dial {
    /// The address to connect to.
    pub endpoint: Endpoint,
    /// With TLS on, the name to verify there; `None` keeps the one the core would use for the
    /// announced node (its announced hostname, the configured name, or the seed's host).
    pub tls_server_name: Option<String>,
}

impl Dial {
    /// Connect to `endpoint`, verifying the usual TLS name.
    #[must_use]
    pub fn to(endpoint: Endpoint) -> Dial {
        Dial {
            endpoint,
            tls_server_name: None,
        }
    }

    /// Verify `name` instead.
    #[must_use]
    pub fn verifying(mut self, name: impl Into<String>) -> Dial {
        self.tls_server_name = Some(name.into());
        self
    }
}

/// Maps an announced endpoint to where to dial, or `None` to dial it as announced. Called for
/// every connect (seeds included), so it should be cheap. Closures implement it.
pub trait AddressRemap: Send + Sync {
    /// Where to connect for `announced`.
    fn remap(&self, announced: &Endpoint) -> Option<Dial>;
}

impl<F> AddressRemap for F
where
    F: Fn(&Endpoint) -> Option<Dial> + Send + Sync,
{
    fn remap(&self, announced: &Endpoint) -> Option<Dial> {
        self(announced)
    }
}

/// An [`AddressRemap`], shareable (the configuration is `Clone`).
///
/// ```
/// use slotwise_cluster::{Dial, Endpoint, Remap};
/// // Nodes announce 10.0.0.x:6379; from here they are reached on forwarded local ports.
/// let remap = Remap::new(|e: &Endpoint| {
///     let last: u16 = e.host.strip_prefix("10.0.0.")?.parse().ok()?;
///     Some(Dial::to(Endpoint::new("127.0.0.1", 16000 + last)))
/// });
/// assert_eq!(
///     remap.dial(&Endpoint::new("10.0.0.7", 6379)).map(|d| d.endpoint),
///     Some(Endpoint::new("127.0.0.1", 16007))
/// );
/// assert_eq!(remap.dial(&Endpoint::new("other", 6379)), None);
/// ```
#[derive(Clone)]
pub struct Remap(Arc<dyn AddressRemap>);

impl Remap {
    /// From a mapping (a closure, or a type implementing [`AddressRemap`]).
    pub fn new(map: impl AddressRemap + 'static) -> Remap {
        Remap(Arc::new(map))
    }

    /// Where to connect for `announced`, if it is remapped.
    #[must_use]
    pub fn dial(&self, announced: &Endpoint) -> Option<Dial> {
        self.0.remap(announced)
    }
}

impl fmt::Debug for Remap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Remap(..)")
    }
}
