//! Routing decisions: where a command line goes in a cluster, in Redis's own terms.

use alloc::vec::Vec;
use core::fmt;

use crate::command::CommandInfo;
use crate::keys::Keys;
use crate::slot::{Slot, key_slot};
use crate::tips::{RequestPolicy, ResponsePolicy};

/// Where a command line should be sent.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Route {
    /// All keys (or sharded channels) hash to one slot: send to the node serving it.
    SingleSlot {
        /// The slot.
        slot: Slot,
        /// The command never writes, so a replica may serve it (after `READONLY`).
        read_only: bool,
    },
    /// No key and no request policy: any node can serve it (e.g. `PING`, `PUBLISH`, `SUBSCRIBE`).
    NoKey {
        /// The command never writes, so a replica may serve it.
        read_only: bool,
    },
    /// Keys in more than one slot for a command the server runs only within one slot: the server
    /// would answer `CROSSSLOT`.
    CrossSlot {
        /// The distinct slots, in ascending order.
        slots: Vec<Slot>,
    },
    /// The command's tips say it goes to several nodes, and how to combine their replies.
    MultiNode {
        /// Which nodes: every node, every primary, the primaries of the key slots (`multi_shard`), or
        /// command-specific (`special`).
        request_policy: RequestPolicy,
        /// How the replies combine, when the command says.
        response_policy: Option<ResponsePolicy>,
        /// For `multi_shard`: the distinct slots of the keys, ascending (split the command per slot).
        /// Empty otherwise.
        slots: Vec<Slot>,
        /// The command never writes, so replicas may serve it.
        read_only: bool,
    },
}

impl Route {
    /// True when the command may be served by replicas (false for [`Route::CrossSlot`]).
    #[must_use]
    pub fn read_only(&self) -> bool {
        match self {
            Route::SingleSlot { read_only, .. }
            | Route::NoKey { read_only }
            | Route::MultiNode { read_only, .. } => *read_only,
            Route::CrossSlot { .. } => false,
        }
    }

    /// The slot, for [`Route::SingleSlot`].
    #[must_use]
    pub fn slot(&self) -> Option<Slot> {
        match self {
            Route::SingleSlot { slot, .. } => Some(*slot),
            _ => None,
        }
    }
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let access = |ro: bool| if ro { "read-only" } else { "primary" };
        match self {
            Route::SingleSlot { slot, read_only } => {
                write!(f, "single slot {slot} ({})", access(*read_only))
            }
            Route::NoKey { read_only } => write!(f, "no key, any node ({})", access(*read_only)),
            Route::CrossSlot { slots } => {
                write!(f, "cross-slot ({} slots)", slots.len())
            }
            Route::MultiNode {
                request_policy,
                response_policy,
                slots,
                read_only,
            } => {
                write!(f, "multi-node: request_policy {request_policy}")?;
                if let Some(p) = response_policy {
                    write!(f, ", response_policy {p}")?;
                }
                if !slots.is_empty() {
                    write!(f, ", {} slots", slots.len())?;
                }
                write!(f, " ({})", access(*read_only))
            }
        }
    }
}

/// A classified command line: the command, its keys (with sharded channels) and the route.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Classified<'t> {
    /// The command (or subcommand) from the table; `None` for an unknown command handled by the
    /// table's [`crate::UnknownCommandPolicy`].
    pub command: Option<&'t CommandInfo>,
    /// Key arguments, and sharded pub/sub channels (flagged [`crate::KeyFlags::NOT_KEY`]).
    pub keys: Keys,
    /// Where to send it.
    pub route: Route,
}

impl Classified<'_> {
    /// True when the command may be served by a replica.
    #[must_use]
    pub fn read_only(&self) -> bool {
        self.route.read_only()
    }
}

/// The route for `cmd` with `keys` found in `args`.
pub(crate) fn route<A: AsRef<[u8]>>(cmd: &CommandInfo, keys: &Keys, args: &[A]) -> Route {
    let read_only = cmd.is_read_only();
    let slots = Slots::of(keys, args);
    match cmd.tips.request_policy {
        Some(RequestPolicy::MultiShard) => match slots {
            Slots::None => Route::NoKey { read_only },
            Slots::One(slot) => Route::SingleSlot { slot, read_only },
            Slots::Many(slots) => Route::MultiNode {
                request_policy: RequestPolicy::MultiShard,
                response_policy: cmd.tips.response_policy,
                slots,
                read_only,
            },
        },
        Some(request_policy) => Route::MultiNode {
            request_policy,
            response_policy: cmd.tips.response_policy,
            slots: Vec::new(),
            read_only,
        },
        None => match slots {
            Slots::None => Route::NoKey { read_only },
            Slots::One(slot) => Route::SingleSlot { slot, read_only },
            Slots::Many(slots) => Route::CrossSlot { slots },
        },
    }
}

enum Slots {
    None,
    One(Slot),
    Many(Vec<Slot>),
}

impl Slots {
    fn of<A: AsRef<[u8]>>(keys: &Keys, args: &[A]) -> Slots {
        let mut slots = keys.bytes(args).map(key_slot);
        let Some(first) = slots.next() else {
            return Slots::None;
        };
        let Some(other) = slots.find(|&s| s != first) else {
            return Slots::One(first);
        };
        let mut all: Vec<Slot> = [first, other].into_iter().chain(slots).collect();
        all.sort_unstable();
        all.dedup();
        Slots::Many(all)
    }
}
