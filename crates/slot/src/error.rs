//! Errors: why a command line's keys could not be found, and why a `COMMAND INFO` reply could not be
//! registered.

use core::fmt;

/// Why the keys of a command line could not be found. The variants follow the server's own answers to
/// `COMMAND GETKEYS`, so a caller can reply as the server would without a round trip.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeysError {
    /// The command line was empty.
    EmptyCommand,
    /// The command is not in the table and the table's [`crate::UnknownCommandPolicy`] is `Reject`.
    UnknownCommand,
    /// The container command (e.g. `OBJECT`) has no such subcommand.
    UnknownSubcommand,
    /// The number of arguments does not satisfy the command's arity ("wrong number of arguments").
    WrongArity {
        /// The command's arity: exact when positive, a minimum when negative.
        arity: i32,
        /// How many arguments were given, the command name included.
        args: usize,
    },
    /// The arguments do not say where the keys are (e.g. `ZUNION 0 …`, `XREAD` without `STREAMS`):
    /// the server would reject the command with a syntax error.
    InvalidArguments,
}

impl fmt::Display for KeysError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeysError::EmptyCommand => f.write_str("empty command line"),
            KeysError::UnknownCommand => f.write_str("unknown command"),
            KeysError::UnknownSubcommand => f.write_str("unknown subcommand"),
            KeysError::WrongArity { arity, args } if *arity >= 0 => write!(
                f,
                "wrong number of arguments: the command takes exactly {arity} (name included), got {args}"
            ),
            KeysError::WrongArity { arity, args } => write!(
                f,
                "wrong number of arguments: the command takes at least {} (name included), got {args}",
                arity.unsigned_abs()
            ),
            KeysError::InvalidArguments => f.write_str(
                "invalid arguments: the key arguments cannot be found in this command line",
            ),
        }
    }
}

impl core::error::Error for KeysError {}

/// Why a `COMMAND INFO` reply could not be registered: which entry, and what was wrong with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RegisterError {
    /// Index of the offending entry in the reply (0 when the reply is a single entry).
    pub entry: usize,
    /// What was wrong.
    pub what: &'static str,
}

impl fmt::Display for RegisterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "COMMAND INFO entry {}: {}", self.entry, self.what)
    }
}

impl core::error::Error for RegisterError {}
