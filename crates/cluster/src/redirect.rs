//! Reading a node's error reply: a redirect (`MOVED`, `ASK`), a transient cluster state to retry
//! (`TRYAGAIN`, `CLUSTERDOWN`, `LOADING`, `MASTERDOWN`, `READONLY`), or an answer for the caller.

use slotwise_resp::Frame;
use slotwise_topology::Endpoint;

/// What an error reply asks the client to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Redirect {
    /// `MOVED slot endpoint`.
    Moved { slot: u16, to: Endpoint },
    /// `ASK slot endpoint`.
    Ask { slot: u16, to: Endpoint },
    /// Retry later, after a backoff; `refresh` says whether the topology may have changed.
    Retry { kind: RetryKind },
}

/// The transient states a node reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RetryKind {
    /// `TRYAGAIN`: a multi-key command during a migration, keys split between the two nodes.
    TryAgain,
    /// `CLUSTERDOWN`: the cluster is not serving (slots uncovered, no quorum).
    ClusterDown,
    /// `LOADING`: the node is loading its data set.
    Loading,
    /// `MASTERDOWN`: a replica that lost its primary (and `replica-serve-stale-data no`).
    MasterDown,
    /// `READONLY`: a write reached a node that is a replica now (after a failover).
    ReadOnly,
}

impl RetryKind {
    /// Whether this state says the topology may have changed.
    pub(crate) fn wants_refresh(self) -> bool {
        matches!(
            self,
            RetryKind::ClusterDown | RetryKind::MasterDown | RetryKind::ReadOnly
        )
    }
}

/// The redirect or retry an error reply asks for, or `None` for an answer the caller gets as is.
/// `replier` resolves an empty host (`MOVED 3999 :6380`: "the host you are connected to").
pub(crate) fn classify(frame: &Frame, replier: &Endpoint) -> Option<Redirect> {
    let line: &[u8] = match frame {
        Frame::SimpleError(b) | Frame::BulkError(b) => b,
        _ => return None,
    };
    let mut words = line.split(|&b| b == b' ').filter(|w| !w.is_empty());
    let code = words.next()?;
    let retry = |kind| Some(Redirect::Retry { kind });
    match code {
        b"MOVED" | b"ASK" => {
            let slot = parse_slot(words.next()?)?;
            let to = parse_endpoint(words.next()?, replier)?;
            if code == b"MOVED" {
                Some(Redirect::Moved { slot, to })
            } else {
                Some(Redirect::Ask { slot, to })
            }
        }
        b"TRYAGAIN" => retry(RetryKind::TryAgain),
        b"CLUSTERDOWN" => retry(RetryKind::ClusterDown),
        b"LOADING" => retry(RetryKind::Loading),
        b"MASTERDOWN" => retry(RetryKind::MasterDown),
        b"READONLY" => retry(RetryKind::ReadOnly),
        _ => None,
    }
}

fn parse_slot(word: &[u8]) -> Option<u16> {
    let text = core::str::from_utf8(word).ok()?;
    let slot: u16 = text.parse().ok()?;
    (slot < slotwise_topology::SLOT_COUNT).then_some(slot)
}

fn parse_endpoint(word: &[u8], replier: &Endpoint) -> Option<Endpoint> {
    let text = core::str::from_utf8(word).ok()?;
    if let Some(port) = text.strip_prefix(':') {
        return Some(Endpoint::new(replier.host.clone(), port.parse().ok()?));
    }
    let ep = Endpoint::parse(text)?;
    (ep.host != "?").then_some(ep)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(s: &'static str) -> Frame {
        Frame::SimpleError(s.into())
    }

    #[test]
    fn reads_redirects() {
        let me = Endpoint::new("10.0.0.1", 7000);
        assert_eq!(
            classify(&err("MOVED 3999 127.0.0.1:6381"), &me),
            Some(Redirect::Moved {
                slot: 3999,
                to: Endpoint::new("127.0.0.1", 6381)
            })
        );
        assert_eq!(
            classify(&err("ASK 1 :7001"), &me),
            Some(Redirect::Ask {
                slot: 1,
                to: Endpoint::new("10.0.0.1", 7001)
            })
        );
        assert_eq!(classify(&err("MOVED 16384 a:1"), &me), None);
        assert_eq!(classify(&err("MOVED 1 ?:1"), &me), None);
        assert_eq!(
            classify(&err("CLUSTERDOWN The cluster is down"), &me),
            Some(Redirect::Retry {
                kind: RetryKind::ClusterDown
            })
        );
        assert_eq!(classify(&err("ERR nope"), &me), None);
        assert_eq!(classify(&Frame::Integer(1), &me), None);
    }
}
