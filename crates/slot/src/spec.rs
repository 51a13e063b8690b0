//! Key specifications: where a command's keys are, in the server's own terms
//! (see <https://redis.io/docs/latest/develop/reference/key-specs/>).

use alloc::borrow::Cow;

use crate::flags::KeyFlags;

/// One key specification of a command: where the search begins, how keys are found from there,
/// and how the command uses those keys.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct KeySpec {
    /// How the command uses the keys this spec finds.
    pub flags: KeyFlags,
    /// Where the search for the first key starts.
    pub begin_search: BeginSearch,
    /// How the keys are found from there.
    pub find_keys: FindKeys,
}

/// The `begin_search` part of a key spec.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BeginSearch {
    /// The first key is at this argument index (the command name is index 0).
    Index {
        /// Argument index of the first key.
        pos: i32,
    },
    /// The first key follows this keyword (ASCII case-insensitive). The search starts at `start_from`
    /// (counted from the end when negative) and moves towards the end (or the start, when negative).
    Keyword {
        /// The keyword, as the server spells it (e.g. `STREAMS`).
        keyword: Cow<'static, str>,
        /// Where the keyword search starts.
        start_from: i32,
    },
    /// The server cannot say: the command's own key finder must be used.
    Unknown,
}

/// The `find_keys` part of a key spec.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FindKeys {
    /// Keys are a range from the begin-search position.
    Range {
        /// Index of the last key relative to the first, or counted from the end of the arguments when
        /// negative (`-1` is the last argument).
        last_key: i32,
        /// Distance between consecutive keys.
        key_step: i32,
        /// With a negative `last_key`: only `1/limit` of the remaining arguments are keys (`2` for
        /// `XREAD … STREAMS k1 k2 id1 id2`); 0 means no limit.
        limit: i32,
    },
    /// An argument gives the number of keys.
    KeyNum {
        /// Index of the number-of-keys argument, relative to the begin-search position.
        key_num_index: i32,
        /// Index of the first key, relative to the begin-search position.
        first_key: i32,
        /// Distance between consecutive keys.
        key_step: i32,
    },
    /// The server cannot say: the command's own key finder must be used.
    Unknown,
}

impl KeySpec {
    /// True for a spec whose arguments are not keys but are hashed like keys (sharded channels).
    #[must_use]
    pub fn is_not_key(&self) -> bool {
        self.flags.contains(KeyFlags::NOT_KEY)
    }
}
