//! Glue for a peer RESP decoder that needs it: hiredis's reader (Debian's `libhiredis-dev`), through
//! the small FFI shim below. The decoders themselves are in [`crate::resp_decoders`].

/// The FFI shim: the five functions of hiredis's reader API, wrapped so that the callers above need no
/// unsafe code.
#[allow(unsafe_code)]
pub mod hiredis {
    use std::ffi::{c_char, c_int, c_void};
    use std::ptr::{NonNull, null_mut};

    /// `redisReader`, opaque here.
    #[repr(C)]
    struct RedisReader {
        _opaque: [u8; 0],
    }

    #[link(name = "hiredis")]
    unsafe extern "C" {
        fn redisReaderCreate() -> *mut RedisReader;
        fn redisReaderFree(reader: *mut RedisReader);
        fn redisReaderFeed(reader: *mut RedisReader, buf: *const c_char, len: usize) -> c_int;
        fn redisReaderGetReply(reader: *mut RedisReader, reply: *mut *mut c_void) -> c_int;
        fn freeReplyObject(reply: *mut c_void);
    }

    /// A hiredis reader with the default reply functions.
    pub struct Reader(NonNull<RedisReader>);

    /// One reply object built by the reader; freed on drop.
    pub struct Reply(NonNull<c_void>);

    impl Reader {
        /// A new reader (`redisReaderCreate`).
        pub fn new() -> Reader {
            // SAFETY: no preconditions; a null return (allocation failure) is checked.
            let reader = unsafe { redisReaderCreate() };
            Reader(NonNull::new(reader).expect("redisReaderCreate"))
        }

        /// Appends bytes to the reader's buffer (it copies them).
        pub fn feed(&mut self, bytes: &[u8]) {
            // SAFETY: the reader is live, and `bytes` is valid for `len` bytes for the call's duration.
            let rc =
                unsafe { redisReaderFeed(self.0.as_ptr(), bytes.as_ptr().cast(), bytes.len()) };
            assert_eq!(rc, 0, "redisReaderFeed failed");
        }

        /// The next complete reply, or `None` when more bytes are needed. Panics on a protocol error.
        pub fn next_reply(&mut self) -> Option<Reply> {
            let mut reply = null_mut();
            // SAFETY: the reader is live and `reply` is a valid out-pointer.
            let rc = unsafe { redisReaderGetReply(self.0.as_ptr(), &mut reply) };
            assert_eq!(rc, 0, "hiredis protocol error");
            NonNull::new(reply).map(Reply)
        }
    }

    impl Default for Reader {
        fn default() -> Self {
            Self::new()
        }
    }

    impl Drop for Reader {
        fn drop(&mut self) {
            // SAFETY: the reader was created by `redisReaderCreate` and is freed once.
            unsafe { redisReaderFree(self.0.as_ptr()) }
        }
    }

    impl Drop for Reply {
        fn drop(&mut self) {
            // SAFETY: the reply came from `redisReaderGetReply` with the default functions and is
            // freed once.
            unsafe { freeReplyObject(self.0.as_ptr()) }
        }
    }
}
