//! Dropping a [`Frame`] of any depth without recursion.
//!
//! The compiler's drop glue for a nested enum calls itself once per level, so a frame nested a million
//! deep (possible with a raised [`crate::Limits::max_depth`]) would overflow the stack of whichever thread
//! drops it. [`Frame`]'s `Drop` moves every child that itself holds frames onto a heap stack first, so
//! the glue only ever drops leaves: the call depth stays at two, whatever the frame's shape.
//!
//! The price of a `Drop` on a public enum: a frame cannot be destructured by move. [`Frame::into_items`],
//! [`Frame::into_pairs`] and [`Frame::into_bytes`] take the parts out instead.

use alloc::vec::Vec;
use bytes::Bytes;
use core::mem;

use crate::frame::Frame;

impl Drop for Frame {
    fn drop(&mut self) {
        let mut stack = Vec::new();
        take_nested(self, &mut stack);
        while let Some(mut frame) = stack.pop() {
            take_nested(&mut frame, &mut stack);
            // `frame` holds only leaves now: its own drop finds nothing to move and returns.
        }
    }
}

/// True for a frame that holds other frames (dropping it through the glue would go a level deeper).
#[inline(always)]
fn nests(frame: &Frame) -> bool {
    match frame {
        Frame::Array(items) | Frame::Set(items) | Frame::Push(items) => !items.is_empty(),
        Frame::Map(pairs) => !pairs.is_empty(),
        Frame::Attributed(_) => true,
        _ => false,
    }
}

/// Moves each child of `frame` that holds frames onto `stack`, leaving a [`Frame::Null`] in its place.
#[inline(always)]
fn take_nested(frame: &mut Frame, stack: &mut Vec<Frame>) {
    let mut take = |child: &mut Frame| {
        if nests(child) {
            stack.push(mem::replace(child, Frame::Null));
        }
    };
    match frame {
        Frame::Array(items) | Frame::Set(items) | Frame::Push(items) => {
            items.iter_mut().for_each(take);
        }
        Frame::Map(pairs) => pairs.iter_mut().for_each(|(key, value)| {
            take(key);
            take(value);
        }),
        Frame::Attributed(attributed) => {
            attributed.attributes.iter_mut().for_each(|(key, value)| {
                take(key);
                take(value);
            });
            take(&mut attributed.frame);
        }
        _ => {}
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
