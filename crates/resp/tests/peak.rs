//! Peak memory while decoding a huge aggregate: no per-element structure beside the frames themselves.
//! A global allocator tracks this thread's live bytes and their high-water mark.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use bytes::{Bytes, BytesMut};
use slotwise_resp::{Decoder, Frame, Limits, decode_complete};

struct Tracking;

thread_local! {
    /// Bytes this thread holds (it may free memory another thread allocated, hence signed).
    static LIVE: Cell<isize> = const { Cell::new(0) };
    /// Highest `LIVE` since the last reset.
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn track(delta: isize) {
    // `try_with` fails only while the thread is being torn down; nothing is measured then.
    let _ = LIVE.try_with(|live| {
        let now = live.get() + delta;
        live.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
}

// SAFETY: forwards to the system allocator, only counting bytes.
unsafe impl GlobalAlloc for Tracking {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        track(layout.size() as isize);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        track(-(layout.size() as isize));
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // Counted as a new block alive beside the old one, as a moving realloc would be.
        track(new_size as isize);
        let out = unsafe { System.realloc(ptr, layout, new_size) };
        track(-(layout.size() as isize));
        out
    }
}

#[global_allocator]
static GLOBAL: Tracking = Tracking;

/// The most bytes alive at once while `f` runs, above what was alive when it started.
fn peak_of<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(base));
    let out = f();
    let peak = PEAK.with(Cell::get) - base;
    (out, peak.max(0) as usize)
}

const ELEMENTS: usize = 1_000_000;

/// `*1000000\r\n` then a million small integers: 3.8 MiB on the wire.
fn wire() -> Vec<u8> {
    let mut out = format!("*{ELEMENTS}\r\n").into_bytes();
    for i in 0..ELEMENTS {
        out.extend_from_slice(b":");
        out.push(b'0' + (i % 10) as u8);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// The frames themselves: the array's element vector.
const FRAMES: usize = ELEMENTS * std::mem::size_of::<Frame>();
/// Allowance for the builder's stack and small bookkeeping.
const SLACK: usize = 64 * 1024;

#[test]
fn decoding_a_million_element_array_holds_only_the_input_and_the_frames() {
    let input = wire();
    // Whole, and in 4 KiB pieces as from a socket (the receive buffer is part of the wire size here).
    for chunk in [usize::MAX, 4096] {
        let mut buf = BytesMut::with_capacity(input.len());
        let mut decoder = Decoder::new();
        let (frame, peak) = peak_of(|| {
            let mut frame = None;
            for piece in input.chunks(chunk) {
                buf.extend_from_slice(piece);
                if let Some(f) = decoder.decode(&mut buf).unwrap() {
                    frame = Some(f);
                }
            }
            frame
        });
        let frame = frame.expect("the array");
        assert_eq!(frame.as_items().map(<[Frame]>::len), Some(ELEMENTS));
        assert!(peak >= FRAMES, "the allocator is tracked ({peak} bytes)");
        assert!(
            peak <= FRAMES + SLACK,
            "chunk {chunk}: peak {peak} bytes above the input, frames take {FRAMES}"
        );
    }
}

#[test]
fn decode_complete_of_a_million_element_array_holds_only_the_frames() {
    let input = Bytes::from(wire());
    let (decoded, peak) = peak_of(|| decode_complete(&input, &Limits::DEFAULT).unwrap());
    let (frame, len) = decoded.expect("complete");
    assert_eq!(len, input.len());
    assert_eq!(frame.as_items().map(<[Frame]>::len), Some(ELEMENTS));
    assert!(peak >= FRAMES, "the allocator is tracked ({peak} bytes)");
    assert!(
        peak <= FRAMES + SLACK,
        "peak {peak} bytes above the input, frames take {FRAMES}"
    );
}
