//! Decoder limits: what a hostile or broken peer is allowed to make the decoder hold.

/// Bounds the decoder enforces while it reads a frame. Exceeding one is a [`crate::DecodeError`]
/// (kind [`crate::ErrorKind::LimitExceeded`]), raised as soon as the offending header is read, before
/// the payload arrives.
///
/// The defaults follow the server's own bounds where it has one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Deepest nesting of aggregates (arrays, maps, sets, pushes, attributes) in one frame.
    /// Default 128. Replies from Redis are a few levels deep; a Lua/Function reply may nest deeper,
    /// but a frame nested thousands deep is an attack or a bug. The decoder uses a heap stack of
    /// this depth, never the call stack.
    ///
    /// Dropping a decoded [`crate::Frame`] never recurses either, at any depth. What else is done with
    /// it may: cloning, comparing, hashing, debug-printing and encoding go one call deeper per level of
    /// nesting. At the default depth this is a few kilobytes of stack; a limit raised to hundreds of
    /// thousands can overflow the stack of whichever thread clones or encodes such a frame.
    pub max_depth: usize,
    /// Longest bulk string, bulk error, verbatim string or streamed-string chunk, in bytes.
    /// Default 512 MiB, the server's `proto-max-bulk-len`.
    pub max_bulk_len: usize,
    /// Most elements declared by one aggregate header (a map's pairs count twice).
    /// Default `i32::MAX`, the largest multibulk length the server accepts.
    pub max_aggregate_len: usize,
    /// Most bytes in one whole frame, headers included. Default 1 GiB, the server's default
    /// `client-query-buffer-limit`.
    pub max_frame_len: usize,
    /// Longest simple string, simple error, double, big number or other header line, in bytes.
    /// Default 64 KiB; the server's inline-request limit is the same.
    pub max_line_len: usize,
}

impl Limits {
    /// The defaults (see each field).
    pub const DEFAULT: Limits = Limits {
        max_depth: 128,
        max_bulk_len: 512 * 1024 * 1024,
        max_aggregate_len: i32::MAX as usize,
        max_frame_len: 1024 * 1024 * 1024,
        max_line_len: 64 * 1024,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}
