//! Dropping a [`Frame`] of any depth without recursion.
//!
//! The compiler's drop glue for a nested enum calls itself once per level, so a frame nested a million
//! deep (possible with a raised [`crate::Limits::max_depth`]) would overflow the stack of whichever thread
//! drops it. [`Frame`]'s `Drop` takes an aggregate's children out and drops them itself, descending by
//! recursion for the first sixteen levels (every frame a server sends) and setting deeper levels
//! aside on a heap stack, so the call depth is bounded whatever the frame's shape.
//!
//! The price of a `Drop` on a public enum: a frame cannot be destructured by move. [`Frame::into_items`],
//! [`Frame::into_pairs`] and [`Frame::into_bytes`] take the parts out instead.

use alloc::vec::Vec;
use bytes::Bytes;
use core::mem;

use crate::frame::Frame;

impl Drop for Frame {
    #[inline]
    fn drop(&mut self) {
        // Leaves, and aggregates of leaves (most replies), drop through the glue one level deep.
        if !has_nested(self) {
            return;
        }
        let Some(children) = Children::take(self) else {
            return;
        };
        let mut deeper = Vec::new();
        children.drop_within(0, &mut deeper);
        while let Some(children) = deeper.pop() {
            children.drop_within(0, &mut deeper);
        }
    }
}

/// True for a frame that holds frames.
#[inline(always)]
fn holds_frames(frame: &Frame) -> bool {
    match frame {
        Frame::Array(items) | Frame::Set(items) | Frame::Push(items) => !items.is_empty(),
        Frame::Map(pairs) => !pairs.is_empty(),
        Frame::Attributed(_) => true,
        _ => false,
    }
}

/// True for a frame that holds frames that hold frames: dropping it through the glue would go more
/// than one level deep.
#[inline(always)]
fn has_nested(frame: &Frame) -> bool {
    match frame {
        Frame::Array(items) | Frame::Set(items) | Frame::Push(items) => {
            items.iter().any(holds_frames)
        }
        Frame::Map(pairs) => pairs
            .iter()
            .any(|(key, value)| holds_frames(key) || holds_frames(value)),
        Frame::Attributed(_) => true,
        _ => false,
    }
}

/// How deep [`Children::drop_within`] goes on the call stack before it sets the rest aside on the heap:
/// a few kilobytes of stack at most, and no heap stack at all for the frames servers send.
const CALL_DEPTH: u32 = 16;

/// What an aggregate frame holds, taken out of it (which leaves the frame empty: its own drop is then
/// trivial).
enum Children {
    Items(Vec<Frame>),
    Pairs(Vec<(Frame, Frame)>),
    /// An attributed frame's attributes and the frame they describe (its box stays, emptied).
    Attributed(Vec<(Frame, Frame)>, Frame),
}

impl Children {
    /// The children of `frame`, if it has any; `None` for a leaf or an empty aggregate.
    #[inline(always)]
    fn take(frame: &mut Frame) -> Option<Children> {
        match frame {
            Frame::Array(items) | Frame::Set(items) | Frame::Push(items) if !items.is_empty() => {
                Some(Children::Items(mem::take(items)))
            }
            Frame::Map(pairs) if !pairs.is_empty() => Some(Children::Pairs(mem::take(pairs))),
            Frame::Attributed(attributed)
                if !attributed.attributes.is_empty()
                    || !matches!(attributed.frame, Frame::Null) =>
            {
                Some(Children::Attributed(
                    mem::take(&mut attributed.attributes),
                    mem::replace(&mut attributed.frame, Frame::Null),
                ))
            }
            _ => None,
        }
    }

    /// Drops these children and everything under them: by recursion up to [`CALL_DEPTH`] levels,
    /// then by setting what lies deeper aside in `deeper` for the caller's loop.
    fn drop_within(self, depth: u32, deeper: &mut Vec<Children>) {
        let mut one = |mut frame: Frame| {
            if has_nested(&frame)
                && let Some(children) = Children::take(&mut frame)
            {
                if depth < CALL_DEPTH {
                    children.drop_within(depth + 1, deeper);
                } else {
                    deeper.push(children);
                }
            }
            // `frame` is a leaf, an aggregate of leaves, or empty now: its glue goes one level deep.
        };
        match self {
            Children::Items(items) => items.into_iter().for_each(one),
            Children::Pairs(pairs) => pairs.into_iter().for_each(|(key, value)| {
                one(key);
                one(value);
            }),
            Children::Attributed(attributes, frame) => {
                attributes.into_iter().for_each(|(key, value)| {
                    one(key);
                    one(value);
                });
                one(frame);
            }
        }
    }
}

impl Frame {
    /// The elements of an array, set or push, taken out of the frame; any other frame is given back.
    ///
    /// (A `Frame` cannot be destructured by move, because its `Drop` flattens deep frames.)
    pub fn into_items(mut self) -> Result<Vec<Frame>, Frame> {
        match &mut self {
            Frame::Array(items) | Frame::Set(items) | Frame::Push(items) => Ok(mem::take(items)),
            _ => Err(self),
        }
    }

    /// The frame under any attributes (the frame [`Frame::without_attributes`] points to), taken out.
    pub fn into_unattributed(mut self) -> Frame {
        while let Frame::Attributed(attributed) = &mut self {
            self = mem::replace(&mut attributed.frame, Frame::Null);
        }
        self
    }

    /// The key/value pairs of a map, taken out of the frame; any other frame is given back.
    pub fn into_pairs(mut self) -> Result<Vec<(Frame, Frame)>, Frame> {
        match &mut self {
            Frame::Map(pairs) => Ok(mem::take(pairs)),
            _ => Err(self),
        }
    }

    /// The payload of a string-like frame (the bytes [`Frame::as_bytes`] gives, taken without a
    /// reference-count increment); any other frame is given back.
    pub fn into_bytes(mut self) -> Result<Bytes, Frame> {
        match &mut self {
            Frame::SimpleString(b)
            | Frame::SimpleError(b)
            | Frame::BulkString(b)
            | Frame::BulkError(b) => Ok(mem::take(b)),
            Frame::Verbatim(v) => Ok(mem::take(&mut v.text)),
            _ => Err(self),
        }
    }
}
