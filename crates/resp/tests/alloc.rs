//! Memory: nothing is allocated on the strength of a length read off the wire, and payloads are not
//! copied. A counting global allocator measures it.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use bytes::BytesMut;
use slotwise_resp::{Decoder, Event, Frame};

struct Counting;

thread_local! {
    /// Bytes requested by this thread. Counted per thread so that the test harness and other
    /// tests running in parallel cannot leak into a measurement (a `const` thread-local of a
    /// `Cell` needs no allocation and no destructor, so the allocator may touch it).
    static ALLOCATED: Cell<usize> = const { Cell::new(0) };
}

fn count(bytes: usize) {
    // `try_with` fails only while the thread is being torn down; nothing is measured then.
    let _ = ALLOCATED.try_with(|n| n.set(n.get() + bytes));
}

// SAFETY: forwards to the system allocator, only counting requested bytes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Bytes allocated by the current thread while running `f`.
fn allocated_by(f: impl FnOnce()) -> usize {
    let before = ALLOCATED.with(Cell::get);
    f();
    ALLOCATED.with(Cell::get) - before
}

#[test]
fn huge_declared_lengths_allocate_nothing() {
    for header in [
        &b"*2147483647\r\n"[..],
        b"%1073741823\r\n",
        b"$536870912\r\n",
        b"*2147483647\r\n*2147483647\r\n$536870912\r\nab",
    ] {
        let mut buf = BytesMut::from(header);
        let mut decoder = Decoder::new();
        let used = allocated_by(|| {
            assert_eq!(decoder.decode(&mut buf).unwrap(), None);
            assert_eq!(decoder.decode(&mut buf).unwrap(), None);
        });
        assert!(
            used < 1024,
            "{used} bytes allocated for {:?}",
            String::from_utf8_lossy(header)
        );
    }
}

#[test]
fn bulk_payloads_are_not_copied() {
    let payload = vec![b'x'; 1 << 20];
    let mut buf = BytesMut::with_capacity(payload.len() + 64);
    buf.extend_from_slice(b"*2\r\n$1048576\r\n");
    buf.extend_from_slice(&payload);
    buf.extend_from_slice(b"\r\n$3\r\nabc\r\n");
    let range = buf.as_ptr() as usize..buf.as_ptr() as usize + buf.len();
    let mut decoder = Decoder::new();
    let mut frame = None;
    let used = allocated_by(|| frame = decoder.decode(&mut buf).unwrap());
    assert!(used < 4096, "{used} bytes allocated decoding a 1 MiB bulk");
    let Some(Frame::Array(items)) = &frame else {
        panic!()
    };
    for item in items {
        let Frame::BulkString(b) = item else { panic!() };
        assert!(
            range.contains(&(b.as_ptr() as usize)),
            "payload was copied out of the input buffer"
        );
    }
    assert_eq!(items[0].as_bytes().unwrap().len(), 1 << 20);
}

#[test]
fn a_large_reply_fed_in_small_pieces_is_read_once() {
    // 50,000 elements fed one byte at a time: a decoder that rescanned the partial frame on every call
    // would do ~10^10 steps here and never finish; a resumable one does ~10^6.
    let n = 50_000;
    let mut input = format!("*{n}\r\n").into_bytes();
    for i in 0..n {
        input.extend_from_slice(format!("${}\r\n{i}\r\n", i.to_string().len()).as_bytes());
    }
    let mut decoder = Decoder::new();
    let mut buf = BytesMut::new();
    let mut frame = None;
    for &b in &input {
        buf.extend_from_slice(&[b]);
        if let Some(f) = decoder.decode(&mut buf).unwrap() {
            frame = Some(f);
        }
    }
    let Some(Frame::Array(items)) = &frame else {
        panic!("no frame")
    };
    assert_eq!(items.len(), n);
    assert_eq!(
        items[n - 1].as_bytes().unwrap().as_ref(),
        (n - 1).to_string().as_bytes()
    );
}

#[test]
fn visiting_allocates_nothing_per_frame() {
    let mut input = Vec::new();
    for i in 0..1000 {
        input
            .extend_from_slice(format!("+OK\r\n:{i}\r\n$12\r\nvalue-{i:06}\r\n$-1\r\n").as_bytes());
    }
    input.extend_from_slice(b"*100\r\n");
    for i in 0..100 {
        input.extend_from_slice(format!("$8\r\nval-{i:04}\r\n").as_bytes());
    }
    input.extend_from_slice(b"*2\r\n*2\r\n:1\r\n%1\r\n+k\r\n~1\r\n_\r\n$?\r\n;2\r\nab\r\n;0\r\n");
    let mut decoder = Decoder::new();
    // A first aggregate, so that the decoder's stacks exist.
    let mut warm = BytesMut::from(&b"*1\r\n*1\r\n*1\r\n:1\r\n"[..]);
    decoder.visit(&mut warm, |_| {}).unwrap();
    let mut buf = BytesMut::from(&input[..]);
    let (mut frames, mut bytes) = (0, 0);
    let used = allocated_by(|| {
        while let Some(len) = decoder
            .visit(&mut buf, |event| {
                if let Event::BulkString(b) = event {
                    bytes += b.len();
                }
            })
            .unwrap()
        {
            assert!(len > 0);
            frames += 1;
        }
    });
    assert_eq!((frames, bytes), (4002, 1000 * 12 + 100 * 8));
    assert!(buf.is_empty());
    assert_eq!(used, 0, "bytes allocated visiting 4,002 frames");
}
