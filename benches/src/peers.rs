//! Peer RESP decoders that need glue: redis-async's codec (through `tokio_util`'s `Decoder` trait)
//! and hiredis's reader (Debian's `libhiredis-dev`, through the small FFI shim below). Each function
//! decodes every frame of an input fed in `chunk`-byte pieces and returns how many it got, like the
//! other decoders in `benches/benches/resp.rs`.

use std::hint::black_box;

use bytes::BytesMut;

use crate::resp_inputs::Input;

/// redis-async 0.18 (`redis_async::resp::RespCodec`, the codec its connections use). RESP2 only.
/// Like redis-protocol it keeps no state inside a partial frame, so it re-parses one from its start
/// on every piece.
pub fn redis_async(input: &Input, chunk: usize) -> usize {
    use tokio_util::codec::Decoder as _;
    let mut codec = redis_async::resp::RespCodec;
    let mut buf = BytesMut::with_capacity(chunk.min(input.bytes.len()));
    let mut n = 0;
    for piece in input.bytes.chunks(chunk) {
        buf.extend_from_slice(piece);
        while let Some(value) = codec.decode(&mut buf).expect("redis-async decode") {
            black_box(value);
            n += 1;
        }
    }
    n
}

/// hiredis's reader (`redisReaderFeed` + `redisReaderGetReply`, what its connections run on every
/// read), building its default reply objects; each reply is freed after use. RESP2 only in the 0.14
/// release Debian 12 ships (RESP3 needs hiredis 1.0).
pub fn hiredis(input: &Input, chunk: usize) -> usize {
    let mut reader = hiredis::Reader::new();
    let mut n = 0;
    for piece in input.bytes.chunks(chunk) {
        reader.feed(piece);
        while let Some(reply) = reader.next_reply() {
            black_box(&reply);
            n += 1;
        }
    }
    n
}

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
