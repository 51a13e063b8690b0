//! [`CommandInfo`]: what the server says about one command or subcommand.

use alloc::borrow::Cow;

use crate::flags::{AclCategories, CommandFlags, DocFlags, KeyFlags};
use crate::handlers::GetKeysProc;
use crate::lookup::find_ignore_case;
use crate::spec::KeySpec;
use crate::tips::Tips;

/// One command (or subcommand) as the server describes it in `COMMAND INFO` and `COMMAND DOCS`.
///
/// The built-in table ([`crate::builtin_commands`]) holds these as `'static` data; commands registered at
/// run time ([`crate::CommandTable::register_command_info`]) own theirs, hence the `Cow`s.
///
/// ```
/// use slotwise_slot::{CommandFlags, CommandTable};
/// let table = CommandTable::new();
/// let get = table.command(b"GET").expect("a Redis 7 command");
/// assert_eq!(get.arity, 2);
/// assert!(get.flags.contains(CommandFlags::READONLY));
/// assert!(get.is_read_only());
/// let object = table.command(b"object").expect("a container command");
/// let encoding = object.subcommand(b"ENCODING").expect("a subcommand");
/// assert_eq!(encoding.name, "object|encoding");
/// assert_eq!(encoding.arity, 3); // OBJECT ENCODING key
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandInfo {
    /// The lowercase name; a subcommand is named `container|subcommand` (e.g. `object|encoding`).
    pub name: Cow<'static, str>,
    /// Arity: the exact number of arguments (command name included) when positive, the minimum when
    /// negative.
    pub arity: i32,
    /// Command flags.
    pub flags: CommandFlags,
    /// Legacy key position: first key (0 when none).
    pub first_key: i32,
    /// Legacy key position: last key (negative counts from the end).
    pub last_key: i32,
    /// Legacy key position: step between keys.
    pub key_step: i32,
    /// ACL categories.
    pub acl_categories: AclCategories,
    /// Request/response policy and nondeterminism tips.
    pub tips: Tips,
    /// Key specifications, in the server's order.
    pub key_specs: Cow<'static, [KeySpec]>,
    /// Subcommands, sorted by name (empty unless this is a container command such as `OBJECT`).
    pub subcommands: Cow<'static, [CommandInfo]>,
    /// Command group from `COMMAND DOCS` (`string`, `generic`, `cluster`, …; `module` or empty for
    /// commands registered at run time).
    pub group: Cow<'static, str>,
    /// The version that introduced the command, from `COMMAND DOCS`.
    pub since: Cow<'static, str>,
    /// One-line summary from `COMMAND DOCS`.
    pub summary: Cow<'static, str>,
    /// Documentation flags from `COMMAND DOCS`.
    pub doc_flags: DocFlags,
}

impl CommandInfo {
    /// The subcommand called `name` (ASCII case-insensitive, without the container's name), without
    /// allocating.
    #[must_use]
    pub fn subcommand(&self, name: &[u8]) -> Option<&CommandInfo> {
        let skip = self.name.len() + 1;
        find_ignore_case(&self.subcommands, name, |c| {
            c.name.as_bytes().get(skip..).unwrap_or_default()
        })
    }

    /// True for a container command (one with subcommands, such as `OBJECT` or `CLUSTER`).
    #[must_use]
    pub fn is_container(&self) -> bool {
        !self.subcommands.is_empty()
    }

    /// True when the command never writes (flag `readonly` without `write`): it may be served by a
    /// replica that was sent `READONLY`.
    #[must_use]
    pub fn is_read_only(&self) -> bool {
        self.flags.contains(CommandFlags::READONLY) && !self.flags.contains(CommandFlags::WRITE)
    }

    /// True when the command may write (flag `write`).
    #[must_use]
    pub fn is_write(&self) -> bool {
        self.flags.contains(CommandFlags::WRITE)
    }

    /// True when `argc` arguments (the command name, and the subcommand name, included) satisfy the
    /// arity, as the server checks it.
    #[must_use]
    pub fn accepts_arity(&self, argc: usize) -> bool {
        let argc = i64::try_from(argc).unwrap_or(i64::MAX);
        let arity = i64::from(self.arity);
        if arity >= 0 {
            argc == arity
        } else {
            argc >= -arity
        }
    }

    /// True when the command takes key arguments, as the server decides it for `COMMAND GETKEYS`:
    /// it has a key spec not marked `not_key`, or a key-finding function of its own.
    #[must_use]
    pub fn has_key_arguments(&self) -> bool {
        self.key_specs.iter().any(|s| !s.is_not_key()) || self.getkeys_proc().is_some()
    }

    /// True when the command takes sharded pub/sub channels (key specs marked `not_key`), which are
    /// routed by their slot like keys.
    #[must_use]
    pub fn has_channel_arguments(&self) -> bool {
        self.key_specs.iter().any(KeySpec::is_not_key)
    }

    /// The union of the flags of all key specs.
    #[must_use]
    pub fn key_spec_flags(&self) -> KeyFlags {
        self.key_specs
            .iter()
            .fold(KeyFlags::EMPTY, |acc, s| acc.union(s.flags))
    }

    pub(crate) fn getkeys_proc(&self) -> Option<GetKeysProc> {
        if self.flags.contains(CommandFlags::MODULE) {
            return None;
        }
        GetKeysProc::for_command(&self.name)
    }
}
