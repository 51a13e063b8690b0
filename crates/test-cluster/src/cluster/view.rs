//! What one node says about the cluster (`CLUSTER NODES`, `CLUSTER INFO`, `INFO replication`), and
//! the agreement check that every wait is built on.
//!
//! A deliberately small parser: the real one lives in `slotwise-topology`; this one only needs ids,
//! flags, roles and owned slot ranges, and must not depend on the crate it helps test.

use std::collections::BTreeMap;

/// One line of `CLUSTER NODES`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct NodeLine {
    pub(crate) id: String,
    pub(crate) port: u16,
    pub(crate) flags: Vec<String>,
    pub(crate) primary_id: Option<String>,
    pub(crate) connected: bool,
    /// Owned slot ranges (migrating/importing markers left out).
    pub(crate) slots: Vec<(u16, u16)>,
}

impl NodeLine {
    pub(crate) fn has(&self, flag: &str) -> bool {
        self.flags.iter().any(|f| f == flag)
    }

    pub(crate) fn is_primary(&self) -> bool {
        self.has("master")
    }

    pub(crate) fn is_myself(&self) -> bool {
        self.has("myself")
    }

    /// Failing, suspected failing, in handshake or without an address: not a healthy member.
    pub(crate) fn unhealthy(&self) -> Option<&str> {
        ["fail", "fail?", "handshake", "noaddr"]
            .into_iter()
            .find(|f| self.has(f))
    }
}

/// Parses the text of `CLUSTER NODES`.
pub(crate) fn parse_nodes(text: &str) -> Result<Vec<NodeLine>, String> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(parse_line)
        .collect()
}

fn parse_line(line: &str) -> Result<NodeLine, String> {
    let bad = || format!("unexpected CLUSTER NODES line: {line:?}");
    let fields: Vec<&str> = line.split_whitespace().collect();
    if fields.len() < 8 {
        return Err(bad());
    }
    // ip:port@cport[,hostname]
    let addr = fields[1].split(',').next().unwrap_or("");
    let host_port = addr.split('@').next().unwrap_or("");
    let port = host_port
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .ok_or_else(bad)?;
    let primary_id = match fields[3] {
        "-" => None,
        id => Some(id.to_owned()),
    };
    let mut slots = Vec::new();
    for spec in &fields[8..] {
        if spec.starts_with('[') {
            continue;
        }
        let (a, b) = spec.split_once('-').unwrap_or((spec, spec));
        let a: u16 = a.parse().map_err(|_| bad())?;
        let b: u16 = b.parse().map_err(|_| bad())?;
        slots.push((a, b));
    }
    Ok(NodeLine {
        id: fields[0].to_owned(),
        port,
        flags: fields[2].split(',').map(str::to_owned).collect(),
        primary_id,
        connected: fields[7] == "connected",
        slots,
    })
}

/// One field of an `INFO`-style reply (`name:value` lines).
pub(crate) fn info_field<'a>(info: &'a str, name: &str) -> Option<&'a str> {
    info.lines().find_map(|l| {
        l.strip_prefix(name)
            .and_then(|rest| rest.strip_prefix(':'))
            .map(str::trim)
    })
}

/// The slot map of a view as sorted `(first, last, owner id)` ranges.
pub(crate) fn slot_map(view: &[NodeLine]) -> Vec<(u16, u16, String)> {
    let mut ranges: Vec<(u16, u16, String)> = view
        .iter()
        .filter(|n| n.is_primary())
        .flat_map(|n| n.slots.iter().map(|&(a, b)| (a, b, n.id.clone())))
        .collect();
    ranges.sort();
    // Adjacent ranges of one owner are merged so that views that split them differently compare
    // equal.
    let mut merged: Vec<(u16, u16, String)> = Vec::new();
    for (a, b, id) in ranges {
        match merged.last_mut() {
            Some(last) if last.2 == id && u32::from(last.1) + 1 == u32::from(a) => last.1 = b,
            _ => merged.push((a, b, id)),
        }
    }
    merged
}

/// How many slots a slot map covers.
pub(crate) fn coverage(map: &[(u16, u16, String)]) -> usize {
    map.iter()
        .map(|(a, b, _)| usize::from(*b) - usize::from(*a) + 1)
        .sum()
}

/// The views of all live nodes at one moment, keyed by the port asked.
#[derive(Clone, Debug, Default)]
pub(crate) struct Snapshot {
    pub(crate) views: BTreeMap<u16, Vec<NodeLine>>,
}

impl Snapshot {
    /// The view of the node on `port`.
    pub(crate) fn view(&self, port: u16) -> Option<&[NodeLine]> {
        self.views.get(&port).map(Vec::as_slice)
    }

    /// What the node on `port` says about itself.
    pub(crate) fn myself(&self, port: u16) -> Option<&NodeLine> {
        self.view(port)?.iter().find(|n| n.is_myself())
    }

    /// What the first view says about node `id`: a node's own line when it is alive, else any.
    pub(crate) fn line(&self, id: &str) -> Option<&NodeLine> {
        let own = self
            .views
            .values()
            .flat_map(|v| v.iter())
            .find(|n| n.id == id && n.is_myself());
        own.or_else(|| self.views.values().flatten().find(|n| n.id == id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NODES: &str = "\
07c37dfeb235213a872192d90877d0cd55635b91 127.0.0.1:30004@31004,localhost slave e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 0 1426238317239 4 connected
e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 127.0.0.1:30001@31001 myself,master - 0 0 1 connected 0-5460 [5461->-292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f]
292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f 127.0.0.1:30003@31003 master,fail? - 1426238316232 1426238315228 3 disconnected 5461 5462-16383
";

    #[test]
    fn parses_lines() {
        let view = parse_nodes(NODES).unwrap();
        assert_eq!(view.len(), 3);
        assert_eq!(view[0].port, 30004);
        assert_eq!(
            view[0].primary_id.as_deref(),
            Some("e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca")
        );
        assert!(view[1].is_myself() && view[1].is_primary());
        assert_eq!(view[1].slots, vec![(0, 5460)]);
        assert_eq!(view[2].unhealthy(), Some("fail?"));
        assert!(!view[2].connected);
        let map = slot_map(&view);
        assert_eq!(map.len(), 2);
        assert_eq!(coverage(&map), 16384);
    }

    #[test]
    fn reads_info_fields() {
        let info = "# Cluster\r\ncluster_state:ok\r\ncluster_slots_assigned:16384\r\n";
        assert_eq!(info_field(info, "cluster_state"), Some("ok"));
        assert_eq!(info_field(info, "cluster_slots"), None);
    }
}
