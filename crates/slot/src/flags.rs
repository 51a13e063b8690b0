//! Small sets of named flags: command flags, key-spec flags, ACL categories and doc flags, each
//! spelled as Redis spells them in `COMMAND INFO` and `COMMAND DOCS`.

use core::fmt;

/// Defines a `Copy` set of named flags over an integer, with the names Redis uses.
macro_rules! flag_set {
    (
        $(#[$meta:meta])*
        $name:ident: $repr:ty {
            $( $(#[$fmeta:meta])* $flag:ident = $bit:literal, $text:literal; )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
        pub struct $name($repr);

        impl $name {
            $( $(#[$fmeta])* pub const $flag: $name = $name(1 << $bit); )*

            /// No flags.
            pub const EMPTY: $name = $name(0);

            /// Every flag with its Redis name, in bit order.
            pub const NAMED: &'static [($name, &'static str)] = &[$(($name::$flag, $text)),*];

            /// The raw bits.
            #[must_use]
            pub const fn bits(self) -> $repr {
                self.0
            }

            /// Both sets together (usable in `const` items).
            #[must_use]
            pub const fn union(self, other: $name) -> $name {
                $name(self.0 | other.0)
            }

            /// True when every flag of `other` is set in `self`.
            #[must_use]
            pub const fn contains(self, other: $name) -> bool {
                self.0 & other.0 == other.0
            }

            /// True when `self` and `other` have a flag in common.
            #[must_use]
            pub const fn intersects(self, other: $name) -> bool {
                self.0 & other.0 != 0
            }

            /// True when no flag is set.
            #[must_use]
            pub const fn is_empty(self) -> bool {
                self.0 == 0
            }

            /// The flag Redis calls `name` (ASCII case-insensitive; a leading `@` is ignored), if any.
            #[must_use]
            pub fn from_name(name: &[u8]) -> Option<$name> {
                let name = name.strip_prefix(b"@").unwrap_or(name);
                Self::NAMED
                    .iter()
                    .find(|(_, text)| text.as_bytes().eq_ignore_ascii_case(name))
                    .map(|(flag, _)| *flag)
            }

            /// The Redis names of the flags that are set, in bit order.
            pub fn names(self) -> impl Iterator<Item = &'static str> {
                Self::NAMED
                    .iter()
                    .filter(move |(flag, _)| self.contains(*flag))
                    .map(|(_, text)| *text)
            }
        }

        impl core::ops::BitOr for $name {
            type Output = $name;
            fn bitor(self, other: $name) -> $name {
                self.union(other)
            }
        }

        impl core::ops::BitOrAssign for $name {
            fn bitor_assign(&mut self, other: $name) {
                *self = self.union(other);
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}(", stringify!($name))?;
                fmt::Display::fmt(self, f)?;
                f.write_str(")")
            }
        }

        /// The Redis names, separated by spaces.
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                for (i, name) in self.names().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    f.write_str(name)?;
                }
                Ok(())
            }
        }
    };
}

flag_set! {
    /// Command flags, as `COMMAND INFO` reports them (e.g. `write`, `readonly`, `denyoom`).
    ///
    /// `may_replicate`, `sentinel`, `only_sentinel` and `protected` exist in Redis but are hidden from
    /// `COMMAND INFO`, so the generated table never sets them; they are here for commands registered
    /// at run time by callers who know better.
    ///
    /// ```
    /// use slotwise_slot::CommandFlags;
    /// let flags = CommandFlags::WRITE | CommandFlags::DENYOOM;
    /// assert!(flags.contains(CommandFlags::WRITE));
    /// assert_eq!(flags.to_string(), "write denyoom");
    /// assert_eq!(CommandFlags::from_name(b"READONLY"), Some(CommandFlags::READONLY));
    /// ```
    CommandFlags: u32 {
        /// May modify the keyspace.
        WRITE = 0, "write";
        /// Never modifies keys (may be served by a replica).
        READONLY = 1, "readonly";
        /// May grow memory use; refused when the server is over `maxmemory`.
        DENYOOM = 2, "denyoom";
        /// Implemented by a module.
        MODULE = 3, "module";
        /// Administrative command.
        ADMIN = 4, "admin";
        /// Pub/sub related.
        PUBSUB = 5, "pubsub";
        /// Not allowed in scripts.
        NOSCRIPT = 6, "noscript";
        /// May block the client.
        BLOCKING = 7, "blocking";
        /// Allowed while the database is loading.
        LOADING = 8, "loading";
        /// Allowed on a replica with stale data.
        STALE = 9, "stale";
        /// Not shown by `MONITOR`.
        SKIP_MONITOR = 10, "skip_monitor";
        /// Not shown in the slow log.
        SKIP_SLOWLOG = 11, "skip_slowlog";
        /// Allowed on an importing slot after `ASKING`-like handling.
        ASKING = 12, "asking";
        /// O(1) or O(log N) and never delays the server.
        FAST = 13, "fast";
        /// Allowed before authentication.
        NO_AUTH = 14, "no_auth";
        /// May be replicated even though it is not a write (hidden by `COMMAND INFO`).
        MAY_REPLICATE = 15, "may_replicate";
        /// Sentinel command (hidden by `COMMAND INFO`).
        SENTINEL = 16, "sentinel";
        /// Sentinel-only command (hidden by `COMMAND INFO`).
        ONLY_SENTINEL = 17, "only_sentinel";
        /// Key arguments are optional: no keys is not an error.
        NO_MANDATORY_KEYS = 18, "no_mandatory_keys";
        /// Protected by configuration (hidden by `COMMAND INFO`).
        PROTECTED = 19, "protected";
        /// Refused during async loading.
        NO_ASYNC_LOADING = 20, "no_async_loading";
        /// Not allowed inside `MULTI`.
        NO_MULTI = 21, "no_multi";
        /// Key positions cannot be found from first/last/step alone.
        MOVABLEKEYS = 22, "movablekeys";
        /// Allowed while a script or function is busy.
        ALLOW_BUSY = 23, "allow_busy";
        /// May touch keys not given as arguments (Redis 7.4+).
        TOUCHES_ARBITRARY_KEYS = 24, "touches_arbitrary_keys";
        /// A module command that cannot run in cluster mode.
        MODULE_NO_CLUSTER = 25, "module_no_cluster";
    }
}

flag_set! {
    /// Key-spec flags: how a command uses a key (`RO`, `RW`, `OW`, `RM`) and what it does to it.
    ///
    /// ```
    /// use slotwise_slot::KeyFlags;
    /// assert_eq!((KeyFlags::RW | KeyFlags::ACCESS).to_string(), "RW access");
    /// ```
    KeyFlags: u16 {
        /// Read-write: reads and modifies the value.
        RW = 0, "RW";
        /// Read-only.
        RO = 1, "RO";
        /// Overwrite: writes without reading.
        OW = 2, "OW";
        /// Remove: deletes the key.
        RM = 3, "RM";
        /// Returns, copies or uses user data from the value.
        ACCESS = 4, "access";
        /// Updates the value (or part of it).
        UPDATE = 5, "update";
        /// Adds data, never modifies or deletes existing data.
        INSERT = 6, "insert";
        /// Deletes data from the value.
        DELETE = 7, "delete";
        /// Not a key, though hashed like one (sharded pub/sub channels).
        NOT_KEY = 8, "not_key";
        /// The spec may not find every key: fall back to the command's own key finder.
        INCOMPLETE = 9, "incomplete";
        /// The flags depend on the arguments: fall back to the command's own key finder.
        VARIABLE_FLAGS = 10, "variable_flags";
    }
}

flag_set! {
    /// ACL categories (`@read`, `@write`, …). Names are kept without the `@`.
    AclCategories: u32 {
        /// `@keyspace`
        KEYSPACE = 0, "keyspace";
        /// `@read`
        READ = 1, "read";
        /// `@write`
        WRITE = 2, "write";
        /// `@set`
        SET = 3, "set";
        /// `@sortedset`
        SORTEDSET = 4, "sortedset";
        /// `@list`
        LIST = 5, "list";
        /// `@hash`
        HASH = 6, "hash";
        /// `@string`
        STRING = 7, "string";
        /// `@bitmap`
        BITMAP = 8, "bitmap";
        /// `@hyperloglog`
        HYPERLOGLOG = 9, "hyperloglog";
        /// `@geo`
        GEO = 10, "geo";
        /// `@stream`
        STREAM = 11, "stream";
        /// `@pubsub`
        PUBSUB = 12, "pubsub";
        /// `@admin`
        ADMIN = 13, "admin";
        /// `@fast`
        FAST = 14, "fast";
        /// `@slow`
        SLOW = 15, "slow";
        /// `@blocking`
        BLOCKING = 16, "blocking";
        /// `@dangerous`
        DANGEROUS = 17, "dangerous";
        /// `@connection`
        CONNECTION = 18, "connection";
        /// `@transaction`
        TRANSACTION = 19, "transaction";
        /// `@scripting`
        SCRIPTING = 20, "scripting";
    }
}

flag_set! {
    /// Documentation flags from `COMMAND DOCS`.
    DocFlags: u8 {
        /// The command is deprecated.
        DEPRECATED = 0, "deprecated";
        /// A system command, not meant to be called by users.
        SYSCMD = 1, "syscmd";
    }
}
