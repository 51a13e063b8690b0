//! Dropping a frame needs a bounded stack, at any depth and in any shape: each frame here is a million
//! levels deep and dropped on a thread with a 256 KiB stack, where the compiler's recursive drop glue
//! would need a hundred megabytes or more (it overflows after a few thousand levels).

use bytes::BytesMut;
use slotwise_resp::{Decoder, Frame, Limits};

const DEPTH: usize = 1_000_000;
const SMALL_STACK: usize = 256 * 1024;

/// Drops `frame` on a thread with a small stack; fails the test if that thread overflows or panics.
fn drop_on_small_stack(frame: Frame) {
    std::thread::Builder::new()
        .stack_size(SMALL_STACK)
        .spawn(move || drop(frame))
        .expect("a thread")
        .join()
        .expect("dropped without overflowing a 256 KiB stack");
}

/// `DEPTH` levels of `wrap` around an integer, built in a loop (no recursion here either).
fn nested(wrap: impl Fn(Frame) -> Frame) -> Frame {
    let mut frame = Frame::Integer(1);
    for _ in 0..DEPTH {
        frame = wrap(frame);
    }
    frame
}

#[test]
fn a_million_nested_arrays_drop_on_a_small_stack() {
    drop_on_small_stack(nested(|f| Frame::Array(vec![Frame::Integer(0), f])));
}

#[test]
fn a_million_nested_maps_sets_and_pushes_drop_on_a_small_stack() {
    drop_on_small_stack(nested(|f| Frame::Map(vec![(Frame::Null, f)])));
    drop_on_small_stack(nested(|f| Frame::Map(vec![(f, Frame::Null)])));
    drop_on_small_stack(nested(|f| Frame::Set(vec![f])));
    drop_on_small_stack(nested(|f| Frame::Push(vec![f, Frame::Null])));
}

#[test]
fn a_million_nested_attributes_drop_on_a_small_stack() {
    drop_on_small_stack(nested(|f| {
        f.with_attributes(vec![(Frame::Null, Frame::Null)])
    }));
    drop_on_small_stack(nested(|f| {
        Frame::Null.with_attributes(vec![(Frame::Integer(2), f)])
    }));
}

#[test]
fn a_decoded_million_deep_frame_drops_on_a_small_stack() {
    let mut input = Vec::with_capacity(DEPTH * 4 + 4);
    for _ in 0..DEPTH {
        input.extend_from_slice(b"*1\r\n");
    }
    input.extend_from_slice(b":7\r\n");
    let mut limits = Limits::DEFAULT;
    limits.max_depth = DEPTH + 1;
    let mut decoder = Decoder::with_limits(limits);
    let mut buf = BytesMut::from(&input[..]);
    let frame = decoder
        .decode(&mut buf)
        .expect("valid RESP")
        .expect("a whole frame");
    assert!(buf.is_empty());
    // Walk down by reference (no recursion) to check the shape before dropping it.
    let mut depth = 0;
    let mut at = &frame;
    while let Frame::Array(items) = at {
        assert_eq!(items.len(), 1);
        at = &items[0];
        depth += 1;
    }
    assert_eq!((depth, at), (DEPTH, &Frame::Integer(7)));
    drop_on_small_stack(frame);
}

#[test]
fn the_owned_accessors_take_parts_out_and_give_other_frames_back() {
    let array = Frame::Array(vec![Frame::Integer(1), "a".into()]);
    assert_eq!(array.into_items(), Ok(vec![Frame::Integer(1), "a".into()]));
    assert_eq!(Frame::Null.into_items(), Err(Frame::Null));
    let map = Frame::Map(vec![("k".into(), Frame::Integer(2))]);
    assert_eq!(map.into_pairs(), Ok(vec![("k".into(), Frame::Integer(2))]));
    assert_eq!(Frame::Set(vec![]).into_pairs(), Err(Frame::Set(vec![])));
    let bulk = Frame::BulkString("payload".into());
    assert_eq!(bulk.into_bytes().as_deref(), Ok(&b"payload"[..]));
    assert_eq!(Frame::Integer(3).into_bytes(), Err(Frame::Integer(3)));
    let inner = Frame::Integer(4)
        .with_attributes(vec![(Frame::Null, Frame::Null)])
        .with_attributes(vec![]);
    assert_eq!(inner.into_unattributed(), Frame::Integer(4));
}
