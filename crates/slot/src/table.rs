//! [`CommandTable`]: the built-in Redis 7 commands plus any registered at run time, with lookup, key
//! extraction and routing.

use alloc::vec::Vec;

use crate::command::CommandInfo;
use crate::commands::generated::COMMANDS;
use crate::error::KeysError;
use crate::extract::{Search, find_keys};
use crate::flags::KeyFlags;
use crate::keys::{KeyRef, Keys};
use crate::lookup::find_ignore_case;
use crate::route::{Classified, Route, route};
use crate::slot::key_slot;

/// What to do with a command that is neither built in nor registered (typically a module's).
///
/// The default is [`UnknownCommandPolicy::FirstArgumentIsKey`], the convention of most module
/// commands (`JSON.GET key …`, `BF.ADD key …`) and of other cluster clients.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum UnknownCommandPolicy {
    /// Route by the first argument after the name, taken as a key the command may write
    /// (flags `RW access update incomplete`); with no arguments, any node.
    #[default]
    FirstArgumentIsKey,
    /// Treat the command as keyless: any node, as a write.
    NoKeys,
    /// Refuse it with [`KeysError::UnknownCommand`].
    Reject,
}

/// The command table: built-in commands (generated from a real server, see
/// [`crate::REDIS_VERSION`]) and commands registered at run time, which take precedence.
///
/// Creating one does not allocate; registering commands does.
///
/// ```
/// use slotwise_slot::{CommandTable, Route, key_slot};
/// let table = CommandTable::new();
/// let args: [&[u8]; 3] = [b"SET", b"{user}:name", b"ann"];
/// let c = table.classify(&args)?;
/// assert_eq!(c.route, Route::SingleSlot { slot: key_slot(b"user"), read_only: false });
/// # Ok::<(), slotwise_slot::KeysError>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct CommandTable {
    /// Sorted by name.
    registered: Vec<CommandInfo>,
    unknown: UnknownCommandPolicy,
}

impl CommandTable {
    /// The built-in commands only, with the default [`UnknownCommandPolicy`].
    #[must_use]
    pub const fn new() -> CommandTable {
        CommandTable {
            registered: Vec::new(),
            unknown: UnknownCommandPolicy::FirstArgumentIsKey,
        }
    }

    /// Sets what to do with commands the table does not know.
    #[must_use]
    pub fn with_unknown_command_policy(mut self, policy: UnknownCommandPolicy) -> CommandTable {
        self.unknown = policy;
        self
    }

    /// What the table does with commands it does not know.
    #[must_use]
    pub fn unknown_command_policy(&self) -> UnknownCommandPolicy {
        self.unknown
    }

    /// The top-level command called `name` (ASCII case-insensitive), registered ones first.
    /// Does not allocate.
    #[must_use]
    pub fn command(&self, name: &[u8]) -> Option<&CommandInfo> {
        fn by_name(c: &CommandInfo) -> &[u8] {
            c.name.as_bytes()
        }
        find_ignore_case(&self.registered, name, by_name)
            .or_else(|| find_ignore_case(COMMANDS, name, by_name))
    }

    /// A command or subcommand by its full name: `GET`, `OBJECT ENCODING` or `object|encoding`
    /// (ASCII case-insensitive). Does not allocate.
    ///
    /// ```
    /// # use slotwise_slot::CommandTable;
    /// let table = CommandTable::new();
    /// assert_eq!(table.lookup(b"CLUSTER SHARDS").map(|c| &*c.name), Some("cluster|shards"));
    /// assert_eq!(table.lookup(b"xinfo|STREAM").map(|c| c.arity), Some(-3));
    /// assert!(table.lookup(b"OBJECT NOPE").is_none());
    /// ```
    #[must_use]
    pub fn lookup(&self, name: &[u8]) -> Option<&CommandInfo> {
        match name.iter().position(|&b| b == b' ' || b == b'|') {
            Some(at) => {
                let (container, sub) = name.split_at(at);
                self.command(container)?
                    .subcommand(sub.get(1..).unwrap_or_default())
            }
            None => self.command(name),
        }
    }

    /// The command a command line runs: `args[0]`, or for a container command with a second
    /// argument, its subcommand (`OBJECT ENCODING`, `XINFO STREAM`, `CLUSTER SHARDS`), as the server
    /// looks it up. `Ok(None)` for an unknown top-level command. Does not allocate.
    ///
    /// ```
    /// # use slotwise_slot::CommandTable;
    /// let table = CommandTable::new();
    /// let cmd = table.resolve(&["xinfo", "STREAM", "s"])?.expect("known");
    /// assert_eq!(cmd.name, "xinfo|stream");
    /// assert_eq!(table.resolve(&["object"])?.map(|c| &*c.name), Some("object"));
    /// assert!(table.resolve(&["object", "nope"]).is_err());
    /// # Ok::<(), slotwise_slot::KeysError>(())
    /// ```
    pub fn resolve<A: AsRef<[u8]>>(&self, args: &[A]) -> Result<Option<&CommandInfo>, KeysError> {
        let Some(name) = args.first() else {
            return Err(KeysError::EmptyCommand);
        };
        let Some(base) = self.command(name.as_ref()) else {
            return Ok(None);
        };
        match args.get(1) {
            Some(sub) if base.is_container() => base
                .subcommand(sub.as_ref())
                .map(Some)
                .ok_or(KeysError::UnknownSubcommand),
            _ => Ok(Some(base)),
        }
    }

    /// The keys of a command line with their flags, exactly as the server's
    /// `COMMAND GETKEYSANDFLAGS` reports them (sharded channels are not keys here; see
    /// [`CommandTable::classify`]). A keyless command has no keys; an unknown one follows the
    /// [`UnknownCommandPolicy`].
    ///
    /// ```
    /// # use slotwise_slot::{CommandTable, KeyFlags};
    /// let table = CommandTable::new();
    /// let args = ["ZUNIONSTORE", "dest", "2", "a", "b", "WEIGHTS", "1", "2"];
    /// let keys = table.keys(&args)?;
    /// assert_eq!(keys.bytes(&args).collect::<Vec<_>>(), [&b"dest"[..], b"a", b"b"]);
    /// assert_eq!(keys.as_slice()[0].flags, KeyFlags::OW | KeyFlags::UPDATE);
    /// # Ok::<(), slotwise_slot::KeysError>(())
    /// ```
    pub fn keys<A: AsRef<[u8]>>(&self, args: &[A]) -> Result<Keys, KeysError> {
        match self.resolve(args)? {
            Some(cmd) => find_keys(cmd, args, Search::Keys),
            None => self.unknown_keys(args),
        }
    }

    /// The command, its keys (plus sharded pub/sub channels, flagged `not_key`) and where to send
    /// it. Allocates only for a [`Route::CrossSlot`] or multi-slot [`Route::MultiNode`], or for
    /// more than six keys.
    ///
    /// ```
    /// # use slotwise_slot::{CommandTable, RequestPolicy, ResponsePolicy, Route, key_slot};
    /// let table = CommandTable::new();
    /// let c = table.classify(&["SPUBLISH", "news", "hello"])?;
    /// assert_eq!(c.route, Route::SingleSlot { slot: key_slot(b"news"), read_only: false });
    /// let c = table.classify(&["DBSIZE"])?;
    /// assert!(matches!(c.route, Route::MultiNode {
    ///     request_policy: RequestPolicy::AllShards,
    ///     response_policy: Some(ResponsePolicy::AggSum),
    ///     ..
    /// }));
    /// let c = table.classify(&["MGET", "a", "b"])?;
    /// assert!(matches!(c.route, Route::MultiNode { request_policy: RequestPolicy::MultiShard, .. }));
    /// assert!(c.read_only());
    /// # Ok::<(), slotwise_slot::KeysError>(())
    /// ```
    pub fn classify<A: AsRef<[u8]>>(&self, args: &[A]) -> Result<Classified<'_>, KeysError> {
        match self.resolve(args)? {
            Some(cmd) => {
                let keys = find_keys(cmd, args, Search::KeysAndChannels)?;
                let route = route(cmd, &keys, args);
                Ok(Classified {
                    command: Some(cmd),
                    keys,
                    route,
                })
            }
            None => {
                let keys = self.unknown_keys(args)?;
                let route = match keys.bytes(args).next() {
                    Some(key) => Route::SingleSlot {
                        slot: key_slot(key),
                        read_only: false,
                    },
                    None => Route::NoKey { read_only: false },
                };
                Ok(Classified {
                    command: None,
                    keys,
                    route,
                })
            }
        }
    }

    fn unknown_keys<A: AsRef<[u8]>>(&self, args: &[A]) -> Result<Keys, KeysError> {
        let mut keys = Keys::new();
        match self.unknown {
            UnknownCommandPolicy::FirstArgumentIsKey if args.len() >= 2 => keys.push(KeyRef {
                index: 1,
                flags: KeyFlags::RW | KeyFlags::ACCESS | KeyFlags::UPDATE | KeyFlags::INCOMPLETE,
            }),
            UnknownCommandPolicy::Reject => return Err(KeysError::UnknownCommand),
            _ => {}
        }
        Ok(keys)
    }

    /// Registers (or replaces) one command. Its name is lowercased; its subcommands are sorted.
    pub fn register(&mut self, mut info: CommandInfo) {
        info.name.to_mut().make_ascii_lowercase();
        let mut subs = info.subcommands.into_owned();
        for s in &mut subs {
            s.name.to_mut().make_ascii_lowercase();
        }
        subs.sort_by(|a, b| a.name.cmp(&b.name));
        info.subcommands = subs.into();
        match self
            .registered
            .binary_search_by(|c| c.name.as_bytes().cmp(info.name.as_bytes()))
        {
            Ok(i) => {
                if let Some(slot) = self.registered.get_mut(i) {
                    *slot = info;
                }
            }
            Err(i) => self.registered.insert(i, info),
        }
    }

    /// The commands registered at run time, sorted by name.
    #[must_use]
    pub fn registered(&self) -> &[CommandInfo] {
        &self.registered
    }
}

/// The built-in commands, sorted by name (see [`crate::REDIS_VERSION`] for where they came from).
#[must_use]
pub fn builtin_commands() -> &'static [CommandInfo] {
    COMMANDS
}
