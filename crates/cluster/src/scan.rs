//! Cluster-wide `SCAN`: one cursor that walks every shard and survives failover and resharding.
//!
//! `SCAN cursor [MATCH p] [COUNT n] [TYPE t]` submitted to the cluster is one *step*: the core
//! sends `SCAN` to one primary and answers like `SCAN` does, `[next cursor, keys]`, with a cursor
//! of its own (text, opaque) that says which slots are done, which node is being walked and where.
//! Start with `0`; the walk is over when the cursor returned is `0` again.
//!
//! The guarantee is `SCAN`'s, cluster-wide: every key present for the whole walk is returned at
//! least once (some may come twice). A node is walked from its cursor `0` to the end; only then
//! are its slots marked done, and only those that it served at every step (by the slot map) and
//! still serves, not migrating, by its own `CLUSTER NODES` line at the end. A slot that moved
//! or was migrating is walked again on its new owner. If the node being walked is no longer a
//! primary (failover), the walk of its slots starts over on the new primary.
//!
//! A cursor is checked: a mangled one, one from another version, or one that names a node this
//! cluster never had ends with [`RequestError::InvalidCursor`].

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::string::String;
use alloc::vec::Vec;

use bytes::Bytes;
use slotwise_resp::Frame;
use slotwise_topology::{MigrationDirection, SLOT_COUNT, SlotEntry, parse_cluster_nodes};

use crate::entry::{Entry, Kind};
use crate::{Cluster, DownCause, Instant, Request, RequestError, RequestId};

const WORDS: usize = SLOT_COUNT as usize / 64;
const VERSION: u8 = 1;
/// Node ids remembered (from every topology seen) to tell a cursor of this cluster.
const ID_MEMORY: usize = 4096;

/// A set of slots.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct SlotSet([u64; WORDS]);

impl core::fmt::Debug for SlotSet {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_list().entries(self.ranges()).finish()
    }
}

impl SlotSet {
    pub(crate) fn empty() -> SlotSet {
        SlotSet([0; WORDS])
    }

    pub(crate) fn insert(&mut self, slot: u16) {
        if let Some(w) = self.0.get_mut(usize::from(slot / 64)) {
            *w |= 1 << (slot % 64);
        }
    }

    pub(crate) fn remove(&mut self, slot: u16) {
        if let Some(w) = self.0.get_mut(usize::from(slot / 64)) {
            *w &= !(1 << (slot % 64));
        }
    }

    pub(crate) fn contains(&self, slot: u16) -> bool {
        self.0
            .get(usize::from(slot / 64))
            .is_some_and(|w| w & (1 << (slot % 64)) != 0)
    }

    fn intersect(&mut self, other: &SlotSet) {
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a &= b;
        }
    }

    fn union(&mut self, other: &SlotSet) {
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a |= b;
        }
    }

    /// The lowest slot not in the set.
    fn first_missing(&self) -> Option<u16> {
        self.0
            .iter()
            .enumerate()
            .find(|(_, w)| **w != u64::MAX)
            .map(|(i, w)| (i * 64) as u16 + (!w).trailing_zeros() as u16)
    }

    /// The set as sorted, merged runs `(first, last)`.
    fn ranges(&self) -> impl Iterator<Item = (u16, u16)> + '_ {
        let mut slot = 0u16;
        core::iter::from_fn(move || {
            while slot < SLOT_COUNT && !self.contains(slot) {
                slot += 1;
            }
            if slot >= SLOT_COUNT {
                return None;
            }
            let start = slot;
            while slot < SLOT_COUNT && self.contains(slot) {
                slot += 1;
            }
            Some((start, slot - 1))
        })
    }
}

/// Where a walk stands: what a cursor encodes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ScanState {
    /// Slots done.
    scanned: SlotSet,
    /// The node being walked (its id), and its own `SCAN` cursor; `None` between nodes.
    node: Option<String>,
    node_cursor: u64,
    /// The last node walked (to tell the cluster by) when `node` is `None`.
    last: Option<String>,
    /// The slots the walked node served at every step so far.
    candidate: SlotSet,
}

impl ScanState {
    fn start() -> ScanState {
        ScanState {
            scanned: SlotSet::empty(),
            node: None,
            node_cursor: 0,
            last: None,
            candidate: SlotSet::empty(),
        }
    }

    /// The cursor text: hex of version, fields and an FNV-1a checksum.
    pub(crate) fn encode(&self) -> Bytes {
        let mut raw = Vec::with_capacity(64);
        raw.push(VERSION);
        raw.extend_from_slice(&self.node_cursor.to_le_bytes());
        for id in [&self.node, &self.last] {
            let id = id.as_deref().unwrap_or("");
            raw.push(id.len() as u8);
            raw.extend_from_slice(id.as_bytes());
        }
        for set in [&self.scanned, &self.candidate] {
            let ranges: Vec<(u16, u16)> = set.ranges().collect();
            raw.extend_from_slice(&(ranges.len() as u16).to_le_bytes());
            for (a, b) in ranges {
                raw.extend_from_slice(&a.to_le_bytes());
                raw.extend_from_slice(&b.to_le_bytes());
            }
        }
        raw.extend_from_slice(&fnv1a(&raw).to_le_bytes());
        let mut text = Vec::with_capacity(raw.len() * 2);
        for b in raw {
            text.push(hex_digit(b >> 4));
            text.push(hex_digit(b & 15));
        }
        Bytes::from(text)
    }

    /// A cursor back to its state: `0` is the start.
    pub(crate) fn decode(text: &[u8]) -> Result<ScanState, RequestError> {
        if text == b"0" {
            return Ok(ScanState::start());
        }
        let mangled = RequestError::InvalidCursor {
            problem: "mangled (not a cursor this client returned)",
        };
        if !text.len().is_multiple_of(2) || text.len() < 2 {
            return Err(mangled);
        }
        let mut raw = Vec::with_capacity(text.len() / 2);
        for pair in text.chunks(2) {
            let hi = pair.first().and_then(|&c| hex_value(c));
            let lo = pair.get(1).and_then(|&c| hex_value(c));
            match (hi, lo) {
                (Some(h), Some(l)) => raw.push(h << 4 | l),
                _ => return Err(mangled),
            }
        }
        let body_len = raw.len().checked_sub(4).ok_or(mangled.clone())?;
        let (body, sum) = raw.split_at(body_len);
        if sum != fnv1a(body).to_le_bytes() {
            return Err(mangled);
        }
        let mut r = Reader(body);
        if r.u8() != Some(VERSION) {
            return Err(RequestError::InvalidCursor {
                problem: "made by another version of slotwise",
            });
        }
        let state = (|| {
            let node_cursor = r.u64()?;
            let node = r.id()?;
            let last = r.id()?;
            let scanned = r.set()?;
            let candidate = r.set()?;
            r.0.is_empty().then_some(ScanState {
                scanned,
                node,
                node_cursor,
                last,
                candidate,
            })
        })();
        state.ok_or(mangled)
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn hex_digit(n: u8) -> u8 {
    HEX.get(usize::from(n)).copied().unwrap_or(b'0')
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

fn fnv1a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5u32, |h, &b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let (head, rest) = (self.0.get(..n)?, self.0.get(n..)?);
        self.0 = rest;
        Some(head)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1)?.first().copied()
    }
    fn u16(&mut self) -> Option<u16> {
        let b = self.take(2)?;
        Some(u16::from_le_bytes([*b.first()?, *b.get(1)?]))
    }
    fn u64(&mut self) -> Option<u64> {
        let b: [u8; 8] = self.take(8)?.try_into().ok()?;
        Some(u64::from_le_bytes(b))
    }
    fn id(&mut self) -> Option<Option<String>> {
        let n = usize::from(self.u8()?);
        let text = core::str::from_utf8(self.take(n)?).ok()?;
        Some((n > 0).then(|| String::from(text)))
    }
    fn set(&mut self) -> Option<SlotSet> {
        let mut set = SlotSet::empty();
        for _ in 0..self.u16()? {
            let (a, b) = (self.u16()?, self.u16()?);
            if a > b || b >= SLOT_COUNT {
                return None;
            }
            for s in a..=b {
                set.insert(s);
            }
        }
        Some(set)
    }
}

/// A step in flight: its `SCAN` on one node, then (at the node's end) that node's `CLUSTER NODES`.
#[derive(Debug)]
struct Step {
    id: RequestId,
    state: ScanState,
    node: usize,
    node_id: String,
    /// The keys of the node's last `SCAN` reply, while its `CLUSTER NODES` is asked.
    keys: Option<Frame>,
    deadline: Option<Instant>,
}

/// The scan steps in flight, and the node ids this cluster has had.
#[derive(Debug, Default)]
pub(crate) struct Scans {
    next: u64,
    live: BTreeMap<u64, Step>,
    ids: BTreeSet<String>,
}

impl Scans {
    /// Remembers the node ids of a topology (bounded).
    pub(crate) fn learn<'a>(&mut self, ids: impl Iterator<Item = &'a str>) {
        for id in ids {
            if self.ids.len() >= ID_MEMORY {
                return;
            }
            if !self.ids.contains(id) {
                self.ids.insert(String::from(id));
            }
        }
    }

    /// True if a step is using `node`.
    pub(crate) fn uses(&self, node: usize) -> bool {
        self.live.values().any(|s| s.node == node)
    }
}

impl Cluster {
    /// One step of a cluster-wide `SCAN` (`args`: `SCAN cursor …`), for request `id`.
    pub(crate) fn scan_step(
        &mut self,
        now: Instant,
        id: RequestId,
        args: &[&[u8]],
        deadline: Option<Instant>,
    ) {
        let cursor = args.get(1).copied().unwrap_or_default();
        let mut state = match ScanState::decode(cursor) {
            Ok(s) => s,
            Err(e) => return self.reply(id, Err(e)),
        };
        let named = state.node.as_ref().or(state.last.as_ref());
        if let Some(n) = named
            && !self.scans.ids.contains(n)
        {
            let problem = "names a node this cluster does not have (a cursor of another cluster?)";
            return self.reply(id, Err(RequestError::InvalidCursor { problem }));
        }
        // Continue on the node being walked if it is still a primary; else start its slots over.
        let walking = state
            .node
            .as_ref()
            .and_then(|n| self.primary_by_id(n))
            .filter(|_| state.node_cursor != 0);
        let (node, node_id) = match walking {
            Some(found) => found,
            None => {
                let Some(first) = state.scanned.first_missing() else {
                    return self.reply(id, Ok(scan_reply(Bytes::from_static(b"0"), empty())));
                };
                // Another node first, if one has slots left: a slot left over on the node just
                // walked is moving (or the map was stale), and may be settled by then.
                let last = state
                    .last
                    .as_deref()
                    .and_then(|l| self.primary_by_id(l))
                    .map(|p| p.0);
                let slot = (first..SLOT_COUNT)
                    .filter(|&s| !state.scanned.contains(s))
                    .find(|&s| self.slot_map.owner(s).is_some_and(|o| Some(o) != last))
                    .unwrap_or(first);
                let Some(owner) = self.slot_map.owner(slot) else {
                    return self.reply(
                        id,
                        Err(RequestError::ClusterDown {
                            slot: Some(slot),
                            seen: DownCause::Uncovered,
                        }),
                    );
                };
                let Some(owner_id) = self.node_id_of(owner) else {
                    return self.reply(
                        id,
                        Err(RequestError::ClusterDown {
                            slot: Some(slot),
                            seen: DownCause::Uncovered,
                        }),
                    );
                };
                state.node = Some(owner_id.clone());
                state.node_cursor = 0;
                state.candidate = self.slots_of(owner);
                (owner, owner_id)
            }
        };
        state.candidate.intersect(&self.slots_of(node));
        let mut node_args: Vec<&[u8]> = Vec::with_capacity(args.len());
        let node_cursor = itoa(state.node_cursor);
        node_args.push(b"SCAN");
        node_args.push(&node_cursor);
        node_args.extend(args.iter().skip(2).copied());
        let wire = Request::new(node_args).wire;
        self.scans.next += 1;
        let step = self.scans.next;
        self.scans.live.insert(
            step,
            Step {
                id,
                state,
                node,
                node_id,
                keys: None,
                deadline,
            },
        );
        self.send_step(now, step, id, node, wire, deadline);
    }

    fn send_step(
        &mut self,
        now: Instant,
        step: u64,
        id: RequestId,
        node: usize,
        wire: Bytes,
        deadline: Option<Instant>,
    ) {
        let key = self.entries.insert(Entry {
            read_only: true,
            retry_written: true,
            pinned: Some(node),
            to_primary: true,
            follow_redirects: false,
            ..Entry::new(id, Kind::Scan { step }, wire, now)
        });
        if let Some(d) = deadline {
            self.add_deadline(d, key);
        }
        self.dispatch(key);
    }

    /// A request of scan step `step` ended.
    pub(crate) fn on_scan_part(&mut self, step: u64, result: Result<Frame, RequestError>) {
        let Some(mut s) = self.scans.live.remove(&step) else {
            return;
        };
        let frame = match result {
            Ok(f) => f,
            Err(e) => return self.reply(s.id, Err(e)),
        };
        if let Some(keys) = s.keys.take() {
            // The node's `CLUSTER NODES`, after its walk ended: mark what it surely covered.
            let own = own_stable_slots(&frame, &s.node_id);
            if let Some(own) = own {
                let before = s.state.candidate.clone();
                s.state.candidate.intersect(&own);
                s.state.scanned.union(&s.state.candidate);
                if before != s.state.candidate {
                    // Slots the map gives the node that it does not serve (or that are moving):
                    // the map may be stale, and the next walk would go back to the same node.
                    self.trigger_refresh(crate::RefreshReason::StaleSlotMap);
                }
            }
            return self.end_node_walk(s, keys);
        }
        if frame.is_error() {
            return self.reply(s.id, Ok(frame));
        }
        let Some((next, keys)) = parse_scan_reply(frame) else {
            let error = Frame::SimpleError(Bytes::from_static(
                b"ERR slotwise: a node's SCAN reply is not [cursor, keys]",
            ));
            return self.reply(s.id, Ok(error));
        };
        if next != 0 {
            s.state.node_cursor = next;
            let cursor = s.state.encode();
            return self.reply(s.id, Ok(scan_reply(cursor, keys)));
        }
        // The node's walk is over: ask it which slots it serves, and which are moving.
        s.keys = Some(keys);
        let (id, node, deadline) = (s.id, s.node, s.deadline);
        self.scans.live.insert(step, s);
        let wire = Request::new(["CLUSTER", "NODES"]).wire;
        let now = self.now;
        self.send_step(now, step, id, node, wire, deadline);
    }

    fn end_node_walk(&mut self, s: Step, keys: Frame) {
        let mut state = s.state;
        state.last = state.node.take().or(state.last);
        state.node_cursor = 0;
        state.candidate = SlotSet::empty();
        let cursor = if state.scanned.first_missing().is_none() {
            Bytes::from_static(b"0")
        } else {
            state.encode()
        };
        self.reply(s.id, Ok(scan_reply(cursor, keys)));
    }

    /// The node with this id, if it is a primary of the current topology.
    fn primary_by_id(&self, id: &str) -> Option<(usize, String)> {
        let topology = self.slot_map.known.as_ref()?;
        let shard = topology
            .shards()
            .iter()
            .find(|s| s.primary.id.as_str() == id)?;
        let endpoint = shard.primary.endpoint.as_ref()?;
        let node = *self.by_endpoint.get(endpoint)?;
        Some((node, String::from(id)))
    }

    fn node_id_of(&self, node: usize) -> Option<String> {
        let endpoint = &self.node(node)?.endpoint;
        let topology = self.slot_map.known.as_ref()?;
        topology
            .nodes()
            .find(|n| n.endpoint.as_ref() == Some(endpoint))
            .map(|n| String::from(n.id.as_str()))
    }

    /// The slots the slot map says `node` serves.
    fn slots_of(&self, node: usize) -> SlotSet {
        let mut set = SlotSet::empty();
        for slot in 0..SLOT_COUNT {
            if self.slot_map.owner(slot) == Some(node) {
                set.insert(slot);
            }
        }
        set
    }
}

/// From a node's `CLUSTER NODES`: the slots its own line serves, less those migrating or
/// importing. `None` if the reply is not that (the walk's slots are then not marked).
fn own_stable_slots(reply: &Frame, node_id: &str) -> Option<SlotSet> {
    let text: &[u8] = match reply {
        Frame::BulkString(b) => b,
        Frame::Verbatim(v) => &v.text,
        _ => return None,
    };
    let lines = parse_cluster_nodes(text).ok()?;
    let me = lines
        .iter()
        .find(|l| l.flags.myself && l.id.as_str() == node_id)?;
    let mut set = SlotSet::empty();
    for entry in &me.slots {
        if let SlotEntry::Range(r) = entry {
            for s in r.slots() {
                set.insert(s);
            }
        }
    }
    for entry in &me.slots {
        if let SlotEntry::Migration {
            slot, direction, ..
        } = entry
            && matches!(
                direction,
                MigrationDirection::Migrating | MigrationDirection::Importing
            )
        {
            set.remove(*slot);
        }
    }
    Some(set)
}

fn parse_scan_reply(frame: Frame) -> Option<(u64, Frame)> {
    if !matches!(frame, Frame::Array(_)) {
        return None;
    }
    let mut items = frame.into_items().ok()?.into_iter();
    let cursor = match &items.next()? {
        Frame::BulkString(b) | Frame::SimpleString(b) => {
            core::str::from_utf8(b).ok()?.parse().ok()?
        }
        _ => return None,
    };
    let keys = items.next()?;
    if !matches!(keys, Frame::Array(_) | Frame::Set(_)) || items.next().is_some() {
        return None;
    }
    Some((cursor, keys))
}

fn scan_reply(cursor: Bytes, keys: Frame) -> Frame {
    Frame::Array(alloc::vec![Frame::BulkString(cursor), keys])
}

fn empty() -> Frame {
    Frame::Array(Vec::new())
}

fn itoa(n: u64) -> Vec<u8> {
    alloc::format!("{n}").into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_tampering() {
        let mut s = ScanState::start();
        for slot in (0..100).chain(5000..5461) {
            s.scanned.insert(slot);
        }
        s.candidate.insert(7000);
        s.node = Some("e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca".into());
        s.node_cursor = 1234567;
        let text = s.encode();
        assert_eq!(ScanState::decode(&text), Ok(s.clone()));
        assert_eq!(ScanState::decode(b"0"), Ok(ScanState::start()));
        let mut bad = text.to_vec();
        bad[20] = if bad[20] == b'0' { b'1' } else { b'0' };
        assert!(matches!(
            ScanState::decode(&bad),
            Err(RequestError::InvalidCursor { .. })
        ));
        for junk in [&b"17"[..], b"", b"zz", &text[..text.len() - 2]] {
            assert!(matches!(
                ScanState::decode(junk),
                Err(RequestError::InvalidCursor { .. })
            ));
        }
        assert_eq!(s.scanned.first_missing(), Some(100));
        assert_eq!(
            s.scanned.ranges().collect::<Vec<_>>(),
            [(0, 99), (5000, 5460)]
        );
    }

    #[test]
    fn marks_only_served_slots_that_are_not_moving() {
        let id = "a".repeat(40);
        let text = alloc::format!(
            "{id} 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-10 [5->-{b}] [20-<-{b}]\n\
             {b} 127.0.0.1:7001@17001 master - 0 0 2 connected 11-16383\n",
            b = "b".repeat(40)
        );
        let own = own_stable_slots(&Frame::BulkString(Bytes::from(text)), &id).unwrap();
        assert!(own.contains(0) && own.contains(10) && !own.contains(5) && !own.contains(11));
        assert!(!own.contains(20));
    }
}
