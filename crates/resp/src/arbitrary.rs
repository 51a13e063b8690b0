//! `arbitrary::Arbitrary` for [`Frame`] (feature `arbitrary`), for structured fuzzing.
//!
//! Generated frames are always encodable and decode back to themselves: simple strings carry no CR or
//! LF, doubles and big numbers are valid text, streamed strings have no empty chunk, and nesting stops
//! at a small depth.

use alloc::vec::Vec;
use arbitrary::{Arbitrary, Result, Unstructured};
use bytes::Bytes;

use crate::frame::{BigNumber, Double, Frame, Verbatim};

const MAX_DEPTH: u32 = 6;

impl<'a> Arbitrary<'a> for Frame {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        frame(u, 0)
    }
}

fn bytes(u: &mut Unstructured<'_>) -> Result<Bytes> {
    Ok(Bytes::copy_from_slice(u.arbitrary::<&[u8]>()?))
}

fn line(u: &mut Unstructured<'_>) -> Result<Bytes> {
    let raw: &[u8] = u.arbitrary()?;
    Ok(raw
        .iter()
        .copied()
        .filter(|b| *b != b'\r' && *b != b'\n')
        .collect::<Vec<u8>>()
        .into())
}

fn items(u: &mut Unstructured<'_>, depth: u32) -> Result<Vec<Frame>> {
    let n = u.int_in_range(0..=6)?;
    (0..n).map(|_| frame(u, depth + 1)).collect()
}

fn pairs(u: &mut Unstructured<'_>, depth: u32) -> Result<Vec<(Frame, Frame)>> {
    let n = u.int_in_range(0..=4)?;
    (0..n)
        .map(|_| Ok((frame(u, depth + 1)?, frame(u, depth + 1)?)))
        .collect()
}

fn frame(u: &mut Unstructured<'_>, depth: u32) -> Result<Frame> {
    let leaf_kinds = 13u8;
    let kinds = if depth >= MAX_DEPTH {
        leaf_kinds
    } else {
        leaf_kinds + 6
    };
    Ok(match u.int_in_range(0..=kinds - 1)? {
        0 => Frame::SimpleString(line(u)?),
        1 => Frame::SimpleError(line(u)?),
        2 => Frame::Integer(u.arbitrary()?),
        3 => Frame::BulkString(bytes(u)?),
        4 => Frame::NullBulk,
        5 => Frame::NullArray,
        6 => Frame::Null,
        7 => Frame::Boolean(u.arbitrary()?),
        8 => Frame::Double(Double::from_f64(u.arbitrary()?)),
        9 => {
            let digits: u128 = u.arbitrary()?;
            let sign = if u.arbitrary()? { "-" } else { "" };
            Frame::BigNumber(BigNumber(Bytes::from(alloc::format!("{sign}{digits}"))))
        }
        10 => Frame::BulkError(bytes(u)?),
        11 => Frame::Verbatim(Verbatim {
            format: u.arbitrary()?,
            text: bytes(u)?,
        }),
        12 => {
            let n = u.int_in_range(0..=4)?;
            let chunks = (0..n).map(|_| bytes(u)).collect::<Result<Vec<_>>>()?;
            Frame::StreamedString(chunks.into_iter().filter(|c| !c.is_empty()).collect())
        }
        13 => Frame::Array(items(u, depth)?),
        14 => Frame::Set(items(u, depth)?),
        15 => Frame::Push(items(u, depth)?),
        16 => Frame::Map(pairs(u, depth)?),
        17 => frame(u, depth + 1)?.with_attributes(pairs(u, depth)?),
        _ => Frame::Array(items(u, depth)?),
    })
}
