//! Live slot migration (`SETSLOT IMPORTING/MIGRATING`, `GETKEYSINSLOT` + `MIGRATE`, `SETSLOT NODE`),
//! and adding and removing shards with it.

use super::view::Snapshot;
use super::{AddedShard, Cluster, ReshardStep};
use crate::{Conn, Error};

/// Keys moved per `MIGRATE`.
const KEYS_PER_MIGRATE: usize = 100;

/// Slots set `MIGRATING` together when rebalancing for `add_node` / `remove_node` (a `reshard` moves
/// one slot at a time).
const REBALANCE_BATCH: usize = 128;

/// A reshard hook: called at each [`ReshardStep`]; an error aborts the reshard.
pub type ReshardHook<'a> = &'a mut dyn FnMut(ReshardStep) -> Result<(), Error>;

impl Cluster {
    /// Moves `n` slots (the highest-numbered ones it owns) from the primary on `from` to the primary
    /// on `to`, live and one slot at a time, with their keys; returns the slots moved. Clients see
    /// `ASK` for a slot while it migrates. Waits until every node agrees afterwards.
    pub fn reshard(&self, from: u16, to: u16, n: usize) -> Result<Vec<u16>, Error> {
        self.reshard_with(from, to, n, &mut |_| Ok(()))
    }

    /// [`Cluster::reshard`], calling `hook` at each step of each slot's migration — to capture a
    /// mid-migration state, pause between steps (the hook may sleep), or stop (return an error; the
    /// slot in flight is then left `MIGRATING`/`IMPORTING`, as a crashed resharding tool would).
    pub fn reshard_with(
        &self,
        from: u16,
        to: u16,
        n: usize,
        hook: ReshardHook<'_>,
    ) -> Result<Vec<u16>, Error> {
        let _ops = self.lock_ops();
        let snapshot = self.check_converged().map_err(|e| {
            format!("reshard {from} → {to}: the cluster is not stable before resharding: {e}")
        })?;
        let owned =
            primary_slots(&snapshot, from).map_err(|e| format!("reshard {from} → {to}: {e}"))?;
        primary_slots(&snapshot, to).map_err(|e| format!("reshard {from} → {to}: {e}"))?;
        if from == to {
            return Err(format!("reshard {from} → {to}: source and target are the same").into());
        }
        if owned.len() < n {
            return Err(format!(
                "reshard {from} → {to}: {from} owns only {} slots, {n} asked",
                owned.len()
            )
            .into());
        }
        let mut slots: Vec<u16> = owned[owned.len() - n..].to_vec();
        slots.sort_unstable();
        self.move_slots(from, to, &slots, 1, hook)?;
        self.wait_stable_after(&format!(
            "the nodes to agree after resharding {from} → {to}"
        ))?;
        Ok(slots)
    }

    /// Adds a shard: a new primary (and `options.replicas` replicas of it) joins with `CLUSTER MEET`,
    /// then slots move onto it from the other primaries until all hold an even share.
    pub fn add_node(&self) -> Result<AddedShard, Error> {
        let _ops = self.lock_ops();
        let snapshot = self
            .check_converged()
            .map_err(|e| format!("add-node: the cluster is not stable before adding: {e}"))?;
        let count = 1 + self.options.replicas;
        let ports: Vec<Option<u16>> = match self.options.base_port {
            Some(_) => {
                let next = self.lock_nodes().iter().map(|n| n.port).max().unwrap_or(0) + 1;
                (0..count).map(|i| Some(next + i as u16)).collect()
            }
            None => vec![None; count],
        };
        let launched = self.launch(&ports)?;
        let new: Vec<(u16, String)> = launched.iter().map(|n| (n.port, n.id.clone())).collect();
        self.lock_nodes().extend(launched);
        let via = *snapshot
            .views
            .keys()
            .next()
            .ok_or("add-node: no running node to join")?;
        let new_ports: Vec<u16> = new.iter().map(|(p, _)| *p).collect();
        self.meet(via, &new_ports)?;
        let (primary, primary_id) = new[0].clone();
        for (replica, _) in &new[1..] {
            self.replicate(*replica, &primary_id)?;
        }
        // The new primary must know the slot map (and say cluster_state:ok) before it can import.
        self.wait_stable_after(&format!("the new shard {new_ports:?} to join"))?;

        // Even shares: every primary that owns slots, plus the new one.
        let mut donors: Vec<(u16, Vec<u16>)> = Vec::new();
        for (port, _) in self.live_ids() {
            if let Ok(slots) = primary_slots(&snapshot, port)
                && !slots.is_empty()
            {
                donors.push((port, slots));
            }
        }
        let share = 16384 / (donors.len() + 1);
        donors.sort_by_key(|(_, slots)| std::cmp::Reverse(slots.len()));
        let mut moved = 0;
        for (donor, slots) in &donors {
            let give = slots.len().saturating_sub(share).min(share - moved);
            let chunk = &slots[slots.len() - give..];
            self.move_slots(*donor, primary, chunk, REBALANCE_BATCH, &mut |_| Ok(()))?;
            moved += give;
        }
        self.wait_stable_after("the nodes to agree after add-node")?;
        Ok(AddedShard {
            primary,
            replicas: new_ports[1..].to_vec(),
            slots_moved: moved,
        })
    }

    /// Removes a node. A primary first moves all its slots (and keys) to the other primaries in even
    /// parts; then it and its replicas are forgotten by every other node (`CLUSTER FORGET`) and
    /// stopped. A replica is just forgotten and stopped.
    pub fn remove_node(&self, port: u16) -> Result<(), Error> {
        let _ops = self.lock_ops();
        let snapshot = self
            .check_converged()
            .map_err(|e| format!("remove-node {port}: the cluster is not stable: {e}"))?;
        let me = snapshot
            .myself(port)
            .ok_or_else(|| format!("remove-node {port}: no running node of this cluster there"))?
            .clone();
        let mut leaving: Vec<(u16, String)> = Vec::new();
        if me.is_primary() {
            let view = snapshot.view(port).unwrap_or_default();
            for n in view {
                if n.primary_id.as_deref() == Some(me.id.as_str())
                    && let Some(p) = self.port_of(&n.id)
                {
                    leaving.push((p, n.id.clone()));
                }
            }
            let slots = primary_slots(&snapshot, port)?;
            let receivers: Vec<u16> = self
                .live_ids()
                .into_iter()
                .map(|(p, _)| p)
                .filter(|&p| p != port && snapshot.myself(p).is_some_and(|n| n.is_primary()))
                .collect();
            if receivers.is_empty() && !slots.is_empty() {
                return Err(format!(
                    "remove-node {port}: it is the only primary; nowhere to move its slots"
                )
                .into());
            }
            let k = receivers.len().max(1);
            for (i, to) in receivers.iter().enumerate() {
                let part = &slots[i * slots.len() / k..(i + 1) * slots.len() / k];
                self.move_slots(port, *to, part, REBALANCE_BATCH, &mut |_| Ok(()))?;
            }
            self.wait_stable_after(&format!("the nodes to agree after emptying {port}"))?;
        }
        // Replicas first: a replica refuses to forget its own primary, and they leave too.
        leaving.push((port, me.id.clone()));
        let leaving_ids: Vec<&str> = leaving.iter().map(|(_, id)| id.as_str()).collect();
        for (_, id) in &leaving {
            for (other, _) in self.live_ids() {
                if leaving.iter().any(|(p, _)| *p == other) {
                    continue;
                }
                self.conn(other)?
                    .ok(["CLUSTER", "FORGET", id.as_str()])
                    .map_err(|e| format!("CLUSTER FORGET {id} on {other}: {e}"))?;
            }
        }
        {
            let mut nodes = self.lock_nodes();
            for node in nodes
                .iter_mut()
                .filter(|n| leaving_ids.contains(&n.id.as_str()))
            {
                node.kill()?;
                let _ = std::fs::remove_dir_all(&node.dir);
            }
            nodes.retain(|n| !leaving_ids.contains(&n.id.as_str()));
        }
        self.wait_converged(
            &format!("every node to have forgotten {port} and agree"),
            |s| {
                for (asked, view) in &s.views {
                    if let Some(n) = view.iter().find(|n| leaving_ids.contains(&n.id.as_str())) {
                        return Err(format!("{asked} still lists removed node {}", n.port));
                    }
                }
                Ok(())
            },
        )?;
        Ok(())
    }

    /// Waits until stable after a change (the caller holds the ops lock).
    fn wait_stable_after(&self, what: &str) -> Result<(), Error> {
        self.wait_converged(what, |_| Ok(())).map(|_| ())
    }

    /// Migrates `slots` from `from` to `to`, `batch` slots at a time.
    fn move_slots(
        &self,
        from: u16,
        to: u16,
        slots: &[u16],
        batch: usize,
        hook: ReshardHook<'_>,
    ) -> Result<(), Error> {
        let from_id = self.id_of(from)?;
        let to_id = self.id_of(to)?;
        let mut source = self.conn(from)?;
        let mut target = self.conn(to)?;
        let mut others: Vec<(u16, Conn)> = Vec::new();
        for (port, _) in self.live_ids() {
            if port != from && port != to && self.is_primary_port(port) {
                others.push((port, self.conn(port)?));
            }
        }
        for chunk in slots.chunks(batch.max(1)) {
            let setslot = |state: &str, slot: u16, id: &str| {
                ["CLUSTER", "SETSLOT", &slot.to_string(), state, id].map(str::to_owned)
            };
            pipeline(
                &mut target,
                to,
                chunk.iter().map(|&s| setslot("IMPORTING", s, &from_id)),
            )?;
            pipeline(
                &mut source,
                from,
                chunk.iter().map(|&s| setslot("MIGRATING", s, &to_id)),
            )?;
            for &slot in chunk {
                hook(ReshardStep::Migrating { slot, from, to })?;
            }
            for &slot in chunk {
                let keys = self.migrate_keys(&mut source, from, to, slot)?;
                hook(ReshardStep::KeysMoved { slot, keys })?;
            }
            // The target first, then the source, then everyone else (as redis-cli does), so the
            // slot is never owned by nobody.
            let assign = || chunk.iter().map(|&s| setslot("NODE", s, &to_id));
            pipeline(&mut target, to, assign())?;
            pipeline(&mut source, from, assign())?;
            for (port, conn) in &mut others {
                pipeline(conn, *port, assign())?;
            }
            for &slot in chunk {
                hook(ReshardStep::Done { slot })?;
            }
        }
        Ok(())
    }

    /// Moves every key of `slot` from `from` to `to` with `MIGRATE … KEYS`; returns how many.
    fn migrate_keys(
        &self,
        source: &mut Conn,
        from: u16,
        to: u16,
        slot: u16,
    ) -> Result<usize, Error> {
        let mut moved = 0;
        // Bounded: a slot holding more than this many keys is not a test cluster's.
        for _ in 0..100_000 {
            let reply = source.ok([
                "CLUSTER",
                "GETKEYSINSLOT",
                &slot.to_string(),
                &KEYS_PER_MIGRATE.to_string(),
            ])?;
            let keys: Vec<Vec<u8>> = reply
                .as_items()
                .unwrap_or_default()
                .iter()
                .filter_map(|k| k.as_bytes().map(|b| b.to_vec()))
                .collect();
            if keys.is_empty() {
                return Ok(moved);
            }
            let mut args: Vec<Vec<u8>> =
                ["MIGRATE", "127.0.0.1", &to.to_string(), "", "0", "10000"]
                    .iter()
                    .map(|s| s.as_bytes().to_vec())
                    .collect();
            if let Some((user, pass)) = &self.options.acl {
                args.extend([
                    b"AUTH2".to_vec(),
                    user.clone().into_bytes(),
                    pass.clone().into_bytes(),
                ]);
            }
            args.push(b"KEYS".to_vec());
            moved += keys.len();
            args.extend(keys);
            source
                .ok(args)
                .map_err(|e| format!("MIGRATE of slot {slot} from {from} to {to}: {e}"))?;
        }
        Err(format!("slot {slot} on {from} still has keys after 10 million were migrated").into())
    }

    /// True when our node on `port` says it is a primary.
    fn is_primary_port(&self, port: u16) -> bool {
        self.conn(port)
            .and_then(|mut c| c.text(["CLUSTER", "NODES"]))
            .ok()
            .and_then(|t| super::view::parse_nodes(&t).ok())
            .and_then(|v| v.into_iter().find(|n| n.is_myself()))
            .is_some_and(|n| n.is_primary())
    }
}

/// Sends all `commands` on `conn`, then reads all replies; the first error reply fails.
fn pipeline(
    conn: &mut Conn,
    port: u16,
    commands: impl Iterator<Item = [String; 5]>,
) -> Result<(), Error> {
    let commands: Vec<[String; 5]> = commands.collect();
    for c in &commands {
        conn.send(c.iter())?;
    }
    let mut first_error = None;
    for c in &commands {
        let reply = conn.read()?;
        if reply.is_error() && first_error.is_none() {
            let text = reply
                .as_bytes()
                .map(|b| String::from_utf8_lossy(b).into_owned());
            first_error = Some(format!(
                "{} on {port}: {}",
                c.join(" "),
                text.unwrap_or_default()
            ));
        }
    }
    first_error.map_or(Ok(()), |e| Err(e.into()))
}

/// The slots the primary on `port` owns (as it says itself), ascending.
fn primary_slots(snapshot: &Snapshot, port: u16) -> Result<Vec<u16>, String> {
    let me = snapshot
        .myself(port)
        .ok_or_else(|| format!("no running node of this cluster on port {port}"))?;
    if !me.is_primary() {
        return Err(format!("{port} is a replica, not a primary"));
    }
    Ok(me.slots.iter().flat_map(|&(a, b)| a..=b).collect())
}
