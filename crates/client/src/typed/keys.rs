//! The keyspace: deleting, expiring, inspecting and renaming keys of any type.

use std::time::Duration;

use slotwise_resp::Frame;

use crate::typed::{Cmd, RunCmd};
use crate::{Args, ConvertError, FromFrame, ToArgs, commands};

/// `PTTL`'s answer as a time to live: `None` for -1 (no expiry) and -2 (no key).
fn time_to_live(frame: Frame) -> Result<Option<Duration>, ConvertError> {
    let ms = i64::from_frame(frame)?;
    Ok(u64::try_from(ms).ok().map(Duration::from_millis))
}

/// Typed `DEL`, `EXISTS`, `PEXPIRE`, `PTTL`, `UNLINK`, `TOUCH`, `PERSIST`, `TYPE`, `RENAME`.
///
/// ```no_run
/// # use slotwise_client::{prelude::*, Handle, Error};
/// # use std::time::Duration;
/// # async fn demo(client: Handle) -> Result<(), Error> {
/// client.set("session:1", "data").await?;
/// client.expire("session:1", Duration::from_secs(30)).await?;
/// let left: Option<Duration> = client.ttl("session:1").await?;
/// let removed = client.unlink(["session:1", "session:2"]).await?; // split by slot
/// # let _ = (left, removed); Ok(()) }
/// ```
pub trait KeyCommands: RunCmd {
    /// `DEL key` (idempotent): whether it removed the key.
    fn del<K: AsRef<[u8]>>(&self, key: K) -> Self::Out<bool> {
        self.run(Cmd::from_request(commands::del(key)))
    }

    /// `EXISTS key`.
    fn exists<K: AsRef<[u8]>>(&self, key: K) -> Self::Out<bool> {
        self.run(Cmd::from_request(commands::exists(key)))
    }

    /// `PEXPIRE key ttl` (idempotent; at least 1 ms): whether the key exists (and now expires).
    fn expire<K: AsRef<[u8]>>(&self, key: K, ttl: Duration) -> Self::Out<bool> {
        self.run(Cmd::from_request(commands::expire(key, ttl)))
    }

    /// `PTTL key` as a time to live: `None` if the key has no expiry or does not exist.
    fn ttl<K: AsRef<[u8]>>(&self, key: K) -> Self::Out<Option<Duration>> {
        self.run(Cmd::with_request(commands::pttl(key), time_to_live))
    }

    /// `UNLINK key …`: how many existed (idempotent; split by slot).
    fn unlink<K: ToArgs>(&self, keys: K) -> Self::Out<u64> {
        self.run(Cmd::new(Args::command("UNLINK").arg(keys)).idempotent())
    }

    /// `TOUCH key …`: how many exist.
    fn touch<K: ToArgs>(&self, keys: K) -> Self::Out<u64> {
        self.run(Cmd::new(Args::command("TOUCH").arg(keys)).idempotent())
    }

    /// `PERSIST key`: true if a TTL was removed (idempotent).
    fn persist<K: ToArgs>(&self, key: K) -> Self::Out<bool> {
        self.run(Cmd::new(Args::command("PERSIST").arg(key)).idempotent())
    }

    /// `PTTL key`: milliseconds left; -1 without a TTL, -2 if the key does not exist.
    fn pttl<K: ToArgs>(&self, key: K) -> Self::Out<i64> {
        self.run(Cmd::new(Args::command("PTTL").arg(key)))
    }

    /// `TYPE key`: `string`, `list`, `set`, `zset`, `hash`, `stream`, or `none`.
    fn key_type<K: ToArgs>(&self, key: K) -> Self::Out<String> {
        self.run(Cmd::new(Args::command("TYPE").arg(key)))
    }

    /// `RENAME key newkey` (both in one slot: use a hash tag; not idempotent — a retry finds no
    /// key).
    fn rename<K: ToArgs, N: ToArgs>(&self, key: K, new_key: N) -> Self::Out<()> {
        self.run(Cmd::new(Args::command("RENAME").arg(key).arg(new_key)).not_idempotent())
    }
}

impl<C: RunCmd + ?Sized> KeyCommands for C {}
