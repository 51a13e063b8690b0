//! Capturing the three replies from a node of a real cluster, at one moment.

use std::path::Path;

use slotwise_resp::bytes::Bytes;
use slotwise_resp::{Frame, Limits, decode_complete};
use slotwise_test_cluster::Cluster;
use slotwise_topology::{Endpoint, Origin, Topology};

/// The three replies of one node, raw (as on the wire), and where they came from.
#[derive(Clone, Debug)]
pub struct Capture {
    pub port: u16,
    pub tls: bool,
    /// CLUSTER SHARDS over RESP2.
    pub shards_resp2: Bytes,
    /// CLUSTER SHARDS over RESP3 (after `HELLO 3`).
    pub shards_resp3: Bytes,
    /// CLUSTER SLOTS over RESP2.
    pub slots: Bytes,
    /// The text of CLUSTER NODES.
    pub nodes: String,
}

/// The three parsed topologies of a capture.
pub struct Parsed {
    pub shards: Topology,
    pub shards_resp3: Topology,
    pub slots: Topology,
    pub nodes: Topology,
}

pub fn capture(cluster: &Cluster, port: u16) -> Result<Capture, slotwise_test_cluster::Error> {
    let mut conn = cluster.conn(port)?;
    let mut conn3 = cluster.conn(port)?;
    conn3.ok(["HELLO", "3"])?;
    // Back to back, so that the four replies describe (nearly) the same moment.
    let shards_resp2 = conn.cmd(["CLUSTER", "SHARDS"])?.to_bytes();
    let shards_resp3 = conn3.cmd(["CLUSTER", "SHARDS"])?.to_bytes();
    let slots = conn.cmd(["CLUSTER", "SLOTS"])?.to_bytes();
    let nodes = match &conn.cmd(["CLUSTER", "NODES"])? {
        Frame::BulkString(b) => String::from_utf8(b.to_vec())?,
        other => return Err(format!("CLUSTER NODES answered {other:?}").into()),
    };
    Ok(Capture {
        port,
        tls: cluster.options().tls,
        shards_resp2,
        shards_resp3,
        slots,
        nodes,
    })
}

impl Capture {
    pub fn origin(&self) -> Origin {
        Origin::new(Endpoint::new("127.0.0.1", self.port)).with_tls(self.tls)
    }

    pub fn parse(&self) -> Parsed {
        let frame = |bytes: &Bytes| decode_complete(bytes, &Limits::DEFAULT).unwrap().unwrap().0;
        let origin = self.origin();
        Parsed {
            shards: Topology::from_cluster_shards(&frame(&self.shards_resp2), &origin).unwrap(),
            shards_resp3: Topology::from_cluster_shards(&frame(&self.shards_resp3), &origin)
                .unwrap(),
            slots: Topology::from_cluster_slots(&frame(&self.slots), &origin).unwrap(),
            nodes: Topology::from_cluster_nodes(self.nodes.as_bytes(), &origin).unwrap(),
        }
    }

    /// Writes the capture as fixture files into `dir`.
    pub fn save(&self, dir: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        std::fs::write(dir.join("shards.resp2"), &self.shards_resp2)?;
        std::fs::write(dir.join("shards.resp3"), &self.shards_resp3)?;
        std::fs::write(dir.join("slots.resp"), &self.slots)?;
        std::fs::write(dir.join("nodes.txt"), &self.nodes)?;
        let tls = if self.tls { " tls" } else { "" };
        std::fs::write(
            dir.join("origin.txt"),
            format!("127.0.0.1:{}{tls}\n", self.port),
        )
    }

    /// Reads a capture saved by [`Capture::save`].
    pub fn load(dir: &Path) -> std::io::Result<Capture> {
        let read = |name: &str| std::fs::read(dir.join(name)).map(Bytes::from);
        let origin = std::fs::read_to_string(dir.join("origin.txt"))?;
        let mut words = origin.split_whitespace();
        let port = words
            .next()
            .and_then(Endpoint::parse)
            .map(|e| e.port)
            .unwrap_or(0);
        Ok(Capture {
            port,
            tls: words.next() == Some("tls"),
            shards_resp2: read("shards.resp2")?,
            shards_resp3: read("shards.resp3")?,
            slots: read("slots.resp")?,
            nodes: std::fs::read_to_string(dir.join("nodes.txt"))?,
        })
    }
}
