//! Stream replies as Rust values: [`StreamEntry`] (`XRANGE`, `XREVRANGE`, `XCLAIM`) and
//! [`StreamRead`] (`XREAD`, `XREADGROUP`, in either protocol's shape).

use bytes::Bytes;
use slotwise_resp::Frame;

use crate::{ConvertError, FromFrame};

/// One stream entry: its id (`1700000000000-0`) and its fields in the order they were added.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamEntry {
    /// The entry id.
    pub id: String,
    /// Field–value pairs, in order (empty for an entry deleted while pending in a group).
    pub fields: Vec<(Bytes, Bytes)>,
}

impl StreamEntry {
    /// The value of `field`, if the entry has it (the first, if it has it twice).
    #[must_use]
    pub fn get(&self, field: &str) -> Option<&Bytes> {
        self.fields
            .iter()
            .find(|(f, _)| f.as_ref() == field.as_bytes())
            .map(|(_, v)| v)
    }
}

impl FromFrame for StreamEntry {
    fn from_frame(frame: Frame) -> Result<Self, ConvertError> {
        let (id, fields): (String, Option<Vec<Bytes>>) = FromFrame::from_frame(frame.clone())
            .map_err(|_| ConvertError::new("a stream entry [id, [field, value …]]", &frame))?;
        let fields = fields.unwrap_or_default();
        if fields.len() % 2 != 0 {
            return Err(ConvertError::new(
                "a stream entry (an even number of field items)",
                &frame,
            ));
        }
        let mut it = fields.into_iter();
        let mut pairs = Vec::new();
        while let (Some(f), Some(v)) = (it.next(), it.next()) {
            pairs.push((f, v));
        }
        Ok(StreamEntry { id, fields: pairs })
    }
}

/// What `XREAD`/`XREADGROUP` returned for one stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamRead {
    /// The stream's key.
    pub key: Bytes,
    /// Its new entries.
    pub entries: Vec<StreamEntry>,
}

/// The streams of an `XREAD`/`XREADGROUP` reply: RESP3 sends a map (key → entries), RESP2 an
/// array of `[key, entries]`; a timed-out `BLOCK` is null, here no streams.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StreamReads(pub Vec<StreamRead>);

impl FromFrame for StreamReads {
    fn from_frame(frame: Frame) -> Result<Self, ConvertError> {
        let pairs: Vec<(Bytes, Vec<StreamEntry>)> = match frame {
            Frame::Null | Frame::NullArray | Frame::NullBulk => Vec::new(),
            f @ Frame::Map(_) => f
                .into_pairs()
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| Ok((Bytes::from_frame(k)?, Vec::from_frame(v)?)))
                .collect::<Result<_, ConvertError>>()?,
            f => Vec::from_frame(f)?,
        };
        Ok(StreamReads(
            pairs
                .into_iter()
                .map(|(key, entries)| StreamRead { key, entries })
                .collect(),
        ))
    }
}

impl StreamReads {
    /// The entries read from `key` (none if that stream had nothing new).
    #[must_use]
    pub fn entries(&self, key: &str) -> &[StreamEntry] {
        self.0
            .iter()
            .find(|r| r.key.as_ref() == key.as_bytes())
            .map_or(&[], |r| &r.entries)
    }

    /// How many entries in all.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.iter().map(|r| r.entries.len()).sum()
    }

    /// True if nothing was read (e.g. a `BLOCK` that timed out).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Frame {
        Frame::BulkString(Bytes::copy_from_slice(s.as_bytes()))
    }

    fn entry(id: &str, fields: &[&str]) -> Frame {
        Frame::Array(vec![
            bulk(id),
            Frame::Array(fields.iter().map(|f| bulk(f)).collect()),
        ])
    }

    #[test]
    fn entries_and_reads_in_both_shapes() {
        let e = StreamEntry::from_frame(entry("1-0", &["a", "1", "b", "2"])).unwrap();
        assert_eq!(e.id, "1-0");
        assert_eq!(e.get("b").map(|v| &v[..]), Some(&b"2"[..]));
        assert!(StreamEntry::from_frame(entry("1-0", &["a"])).is_err());
        let deleted =
            StreamEntry::from_frame(Frame::Array(vec![bulk("2-0"), Frame::NullArray])).unwrap();
        assert!(deleted.fields.is_empty());

        let resp2 = Frame::Array(vec![Frame::Array(vec![
            bulk("s"),
            Frame::Array(vec![entry("1-0", &["a", "1"])]),
        ])]);
        let resp3 = Frame::Map(vec![(
            bulk("s"),
            Frame::Array(vec![entry("1-0", &["a", "1"])]),
        )]);
        for f in [resp2, resp3] {
            let r = StreamReads::from_frame(f).unwrap();
            assert_eq!(r.len(), 1);
            assert_eq!(r.entries("s")[0].id, "1-0");
            assert!(r.entries("other").is_empty());
        }
        assert!(
            StreamReads::from_frame(Frame::NullArray)
                .unwrap()
                .is_empty()
        );
        assert!(StreamReads::from_frame(Frame::Integer(1)).is_err());
    }
}
