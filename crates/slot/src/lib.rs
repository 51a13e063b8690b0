//! # slotwise-slot
//!
//! Where does a command go in a Redis Cluster? This crate answers from data the server publishes,
//! not from a hand-kept list: key slots, the Redis 7 command table (`COMMAND INFO` + `COMMAND DOCS`,
//! generated and checked in), key extraction that interprets key specs the way the server does, and
//! routing decisions. `no_std`; slot hashing does not allocate, the rest uses `alloc` only for
//! run-time registered commands, cross-slot slot lists and commands with more than six keys.
//!
//! ## Contents
//! - Slots: [`Slot`] (a number that cannot reach 16384), [`key_slot`], [`hash_tag`], [`crc16`].
//! - The command table: [`CommandTable`] (built-in commands, plus [`CommandTable::register_command_info`]
//!   for modules, plus an [`UnknownCommandPolicy`]), [`CommandInfo`], [`KeySpec`] ([`BeginSearch`],
//!   [`FindKeys`]), [`Tips`] ([`RequestPolicy`], [`ResponsePolicy`]), flag sets [`CommandFlags`],
//!   [`KeyFlags`], [`AclCategories`], [`DocFlags`]; [`builtin_commands`] and [`REDIS_VERSION`].
//! - Key extraction: [`CommandTable::keys`] → [`Keys`] of [`KeyRef`] (argument index + key flags),
//!   matching `COMMAND GETKEYSANDFLAGS`, errors as [`KeysError`].
//! - Routing: [`CommandTable::classify`] → [`Classified`] with a [`Route`]: single slot (read or
//!   write), no key, cross-slot, or multi-node with the request/response policy from the tips.
//!
//! ## Example
//!
//! ```
//! use slotwise_slot::{CommandTable, Route, key_slot};
//!
//! let table = CommandTable::new();
//! let args = ["GET", "{user:1}:name"];
//! let c = table.classify(&args)?;
//! assert_eq!(c.route, Route::SingleSlot { slot: key_slot(b"user:1"), read_only: true });
//! assert_eq!(c.keys.bytes(&args).collect::<Vec<_>>(), [&b"{user:1}:name"[..]]);
//!
//! // Keys in different slots, for a command that must stay in one: the server would say CROSSSLOT.
//! let c = table.classify(&["RENAME", "a", "b"])?;
//! assert!(matches!(c.route, Route::CrossSlot { .. }));
//! # Ok::<(), slotwise_slot::KeysError>(())
//! ```
//!
//! ## How keys are found
//!
//! Exactly as the server's `getKeysFromCommandWithSpecs`: when a command has key specs and none has
//! `variable_flags`, the specs are interpreted (`begin_search` by index or keyword, `find_keys` by
//! range with `lastkey`/`keystep`/`limit` or by keynum); when a spec is unknown, incomplete or does not
//! fit the arguments, the command's own key finder takes over, as in the server (`SORT … STORE`,
//! `MIGRATE … KEYS`, `EVAL`/`FCALL` numkeys, `XREAD[GROUP] … STREAMS`, `ZUNIONSTORE` numkeys,
//! `GEORADIUS … STORE`, `SET … GET`, `BITFIELD`). Arguments are read like the server reads them (a
//! keyword match stops at a NUL byte, `numkeys` is parsed strictly and then leniently), so the
//! answers equal `COMMAND GETKEYSANDFLAGS`, which the tests check against a live server.
//!
//! ## Routing
//!
//! Keys in one slot give [`Route::SingleSlot`]; no keys give [`Route::NoKey`] (any node); keys in
//! several slots give [`Route::CrossSlot`] (the server would answer `CROSSSLOT`), unless the command's
//! tips say `request_policy:multi_shard` (`MSET`, `DEL`, `MGET`, …): then it is a
//! [`Route::MultiNode`] listing the slots, to be split per slot and the replies combined by the
//! response policy. A `request_policy` of `all_nodes`, `all_shards` or `special` is always a
//! [`Route::MultiNode`].
//!
//! Routes follow the server's tips literally: `PING`'s tips say `request_policy:all_shards`, so it is
//! a [`Route::MultiNode`]; a client that only wants a liveness check may send it anywhere.
//! `read_only` means the command has the `readonly` flag and not `write`, so a replica that was sent
//! `READONLY` may serve it; otherwise it goes to the primary.
//!
//! Sharded pub/sub channels (`SPUBLISH`, `SSUBSCRIBE`, `SUNSUBSCRIBE`) are not keys, but
//! [`CommandTable::classify`] hashes them like keys, so those commands route by channel slot;
//! `PUBLISH` and `SUBSCRIBE` go to any node.
//!
//! ## Failure semantics
//!
//! Nothing here panics on any input: a command line whose keys cannot be found gives a
//! [`KeysError`] that says what the server would answer; a malformed `COMMAND INFO` reply gives a
//! [`RegisterError`].
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

extern crate alloc;
#[cfg(any(feature = "std", test))]
extern crate std;

mod command;
mod commands;
mod crc16;
mod cstr;
mod error;
mod extract;
mod flags;
mod handlers;
mod keys;
mod lookup;
mod register;
mod route;
mod slot;
mod spec;
mod table;
mod tips;

pub use command::CommandInfo;
pub use commands::generated::REDIS_VERSION;
pub use crc16::crc16;
pub use error::{KeysError, RegisterError};
pub use flags::{AclCategories, CommandFlags, DocFlags, KeyFlags};
pub use keys::{KeyRef, Keys};
pub use route::{Classified, Route};
pub use slot::{Slot, SlotOutOfRange, hash_tag, key_slot};
pub use spec::{BeginSearch, FindKeys, KeySpec};
pub use table::{CommandTable, UnknownCommandPolicy, builtin_commands};
pub use tips::{RequestPolicy, ResponsePolicy, Tips};
