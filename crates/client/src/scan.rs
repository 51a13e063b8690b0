//! [`Scan`]: a cluster-wide `SCAN` that walks every shard, through failovers and resharding.

use std::time::{Duration, Instant};

use bytes::Bytes;
use slotwise_cluster::{Frame, Request, RequestError};

use crate::{Error, Handle};

/// How long a walk keeps retrying a step that fails on the way (a failover, a node restarting)
/// before it gives up with that step's error.
const RETRY_FOR: Duration = Duration::from_secs(30);

/// A cluster-wide `SCAN`: the keys of every shard, in batches, with `SCAN`'s guarantee held across
/// the cluster — every key present for the whole walk is returned at least once (some may come
/// twice), however slots move or primaries fail over meanwhile (see the core's `SCAN` plan).
///
/// Made by [`Handle::scan`]; set [`Scan::pattern`] (`MATCH`), [`Scan::count`] (`COUNT`, a hint
/// per node step) and [`Scan::of_type`] (`TYPE`), then call [`Scan::next_batch`] until it gives
/// `None`, or [`Scan::collect`] for all keys at once. A step that fails on the way (timeout, lost
/// connection, cluster down) is retried from the same cursor for up to 30 s.
///
/// ```no_run
/// # async fn demo(client: slotwise_client::Handle) -> Result<(), slotwise_client::Error> {
/// let mut scan = client.scan().pattern("user:*").count(500);
/// while let Some(keys) = scan.next_batch().await? {
///     for key in keys { /* … */ let _ = key; }
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[must_use = "a scan does nothing until its batches are asked for"]
pub struct Scan {
    handle: Handle,
    cursor: Bytes,
    done: bool,
    pattern: Option<Bytes>,
    count: Option<u32>,
    kind: Option<Bytes>,
}

impl Handle {
    /// A cluster-wide [`Scan`] from the start.
    pub fn scan(&self) -> Scan {
        self.scan_from(Bytes::from_static(b"0"))
    }

    /// A cluster-wide [`Scan`] resumed from a cursor that [`Scan::cursor`] gave (by this client or
    /// another of the same cluster). A mangled cursor, or one of another cluster, fails its first
    /// step with [`RequestError::InvalidCursor`].
    pub fn scan_from(&self, cursor: impl Into<Bytes>) -> Scan {
        Scan {
            handle: self.clone(),
            cursor: cursor.into(),
            done: false,
            pattern: None,
            count: None,
            kind: None,
        }
    }
}

impl Scan {
    /// Only keys matching this glob (`MATCH`).
    pub fn pattern(mut self, pattern: impl AsRef<[u8]>) -> Scan {
        self.pattern = Some(Bytes::copy_from_slice(pattern.as_ref()));
        self
    }

    /// How many keys each node step looks at (`COUNT`, a hint).
    pub fn count(mut self, count: u32) -> Scan {
        self.count = Some(count);
        self
    }

    /// Only keys of this type (`TYPE string`, `hash` …).
    pub fn of_type(mut self, kind: impl AsRef<[u8]>) -> Scan {
        self.kind = Some(Bytes::copy_from_slice(kind.as_ref()));
        self
    }

    /// Where the walk stands: give it to [`Handle::scan_from`] to resume. `0` at the start and at
    /// the end.
    #[must_use]
    pub fn cursor(&self) -> &[u8] {
        &self.cursor
    }

    /// The next batch of keys (possibly empty), or `None` when the walk is over.
    pub async fn next_batch(&mut self) -> Result<Option<Vec<Bytes>>, Error> {
        if self.done {
            return Ok(None);
        }
        let until = Instant::now() + RETRY_FOR;
        let mut attempt = 0u32;
        let frame = loop {
            match self.handle.send(self.request()).await {
                Err(Error::Request(e)) if transient(&e) && Instant::now() < until => {
                    attempt += 1;
                    let pause = Duration::from_millis(50 << attempt.min(4));
                    self.handle.sleep_until(Instant::now() + pause).await;
                }
                other => break other?,
            }
        };
        let (cursor, keys) = parse(frame)?;
        self.done = &cursor[..] == b"0";
        self.cursor = cursor;
        Ok(Some(keys))
    }

    /// Every key of the walk (for key spaces that fit in memory).
    pub async fn collect(mut self) -> Result<Vec<Bytes>, Error> {
        let mut all = Vec::new();
        while let Some(keys) = self.next_batch().await? {
            all.extend(keys);
        }
        Ok(all)
    }

    fn request(&self) -> Request {
        let mut args: Vec<&[u8]> = vec![b"SCAN", &self.cursor];
        if let Some(p) = &self.pattern {
            args.extend([&b"MATCH"[..], p]);
        }
        let count = self.count.map(|c| c.to_string());
        if let Some(c) = &count {
            args.extend([&b"COUNT"[..], c.as_bytes()]);
        }
        if let Some(t) = &self.kind {
            args.extend([&b"TYPE"[..], t]);
        }
        Request::new(args)
    }
}

/// A step that can be asked again with the same cursor.
fn transient(e: &RequestError) -> bool {
    matches!(
        e,
        RequestError::Timeout { .. }
            | RequestError::ConnectionLost { .. }
            | RequestError::ClusterDown { .. }
            | RequestError::QueueFull { .. }
            | RequestError::Protocol { .. }
    )
}

fn parse(frame: Frame) -> Result<(Bytes, Vec<Bytes>), Error> {
    let bad = |f: &Frame| Error::Convert(crate::ConvertError::new("a SCAN reply", f));
    let Frame::Array(parts) = &frame else {
        return Err(bad(&frame));
    };
    let (Some(Frame::BulkString(cursor)), Some(Frame::Array(keys) | Frame::Set(keys))) =
        (parts.first(), parts.get(1))
    else {
        return Err(bad(&frame));
    };
    let keys = keys
        .iter()
        .map(|k| match k {
            Frame::BulkString(b) | Frame::SimpleString(b) => Ok(b.clone()),
            other => Err(bad(other)),
        })
        .collect::<Result<_, _>>()?;
    Ok((cursor.clone(), keys))
}
