//! Turning what a reply announces as a node's endpoint into an [`Endpoint`].

use alloc::string::String;

use crate::{Endpoint, Origin};

/// What a reply said about where a node is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Announced {
    /// NULL or `""`: "the node you asked" (NULL: unknown-endpoint type; `""`: the node does not know
    /// its own IP yet).
    SameAsOrigin,
    /// `?`: announced hostnames are preferred but the node has none; where it is is unknown.
    Unknown,
    /// An IP address or hostname.
    Host(String),
}

impl Announced {
    /// Classifies an endpoint string (`None` for NULL).
    pub(crate) fn from_text(text: Option<&str>) -> Announced {
        match text {
            None | Some("") => Announced::SameAsOrigin,
            Some("?") => Announced::Unknown,
            Some(host) => Announced::Host(String::from(host)),
        }
    }

    /// The endpoint with `port`, resolving "same as origin" with the origin's host.
    pub(crate) fn resolve(&self, port: Option<u16>, origin: &Origin) -> Option<Endpoint> {
        let port = port.filter(|&p| p != 0)?;
        match self {
            Announced::Host(host) => Some(Endpoint::new(host.clone(), port)),
            Announced::SameAsOrigin => origin
                .endpoint
                .as_ref()
                .map(|e| Endpoint::new(e.host.clone(), port)),
            Announced::Unknown => None,
        }
    }
}

/// The responder: the origin's node id if given, else the first node whose endpoint is the origin's,
/// else the first whose IP and (plaintext or TLS) port are the origin's (when endpoints are hostnames).
pub(crate) fn find_responder<'a>(
    origin: &Origin,
    nodes: impl Iterator<Item = &'a crate::Node>,
) -> Option<crate::NodeId> {
    if let Some(id) = &origin.node_id {
        return Some(id.clone());
    }
    let endpoint = origin.endpoint.as_ref()?;
    let nodes: alloc::vec::Vec<&crate::Node> = nodes.collect();
    let by_endpoint = nodes.iter().find(|n| n.endpoint.as_ref() == Some(endpoint));
    let by_ip = || {
        nodes.iter().find(|n| {
            n.ip.as_deref() == Some(endpoint.host.as_str())
                && (n.port == Some(endpoint.port) || n.tls_port == Some(endpoint.port))
        })
    };
    by_endpoint.or_else(by_ip).map(|n| n.id.clone())
}
