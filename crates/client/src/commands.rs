//! Typed builders for common single-key commands, each a [`Request`] marked idempotent or not.
//!
//! A request marked idempotent is retried if its connection dies after it was written; others
//! end with [`RequestError::ConnectionLost`](slotwise_cluster::RequestError::ConnectionLost)
//! `{ maybe_applied: true }`. Idempotent here means "running it twice leaves the same data":
//! `SET`, `DEL`, `EXPIRE`, `HSET` are; `INCR`, `APPEND`, `SET … NX`, `GETDEL` are not. (A retried
//! `DEL` may report 0 keys removed: the first attempt removed it.) Read-only commands are always
//! retried by the core, marked or not.
//!
//! ```
//! use std::time::Duration;
//! use slotwise_client::commands;
//! let set = commands::set_ex("session:1", "data", Duration::from_secs(30));
//! assert_eq!(
//!     set.encoded(),
//!     &b"*5\r\n$3\r\nSET\r\n$9\r\nsession:1\r\n$4\r\ndata\r\n$2\r\nPX\r\n$5\r\n30000\r\n"[..]
//! );
//! ```

use std::time::Duration;

use slotwise_cluster::Request;

fn millis(d: Duration) -> String {
    // At least 1 ms: a zero TTL is an error in Redis.
    d.as_millis().clamp(1, i64::MAX as u128).to_string()
}

fn req(args: &[&[u8]]) -> Request {
    Request::new(args.iter().copied())
}

/// `GET key`.
pub fn get(key: impl AsRef<[u8]>) -> Request {
    req(&[b"GET", key.as_ref()])
}

/// `SET key value` (idempotent).
pub fn set(key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> Request {
    req(&[b"SET", key.as_ref(), value.as_ref()]).idempotent()
}

/// `SET key value PX ttl` (idempotent; the TTL in milliseconds, at least 1).
pub fn set_ex(key: impl AsRef<[u8]>, value: impl AsRef<[u8]>, ttl: Duration) -> Request {
    let ms = millis(ttl);
    req(&[b"SET", key.as_ref(), value.as_ref(), b"PX", ms.as_bytes()]).idempotent()
}

/// `SET key value NX` (not idempotent: a retry would report "not set").
pub fn set_nx(key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> Request {
    req(&[b"SET", key.as_ref(), value.as_ref(), b"NX"])
}

/// `GETDEL key` (not idempotent).
pub fn getdel(key: impl AsRef<[u8]>) -> Request {
    req(&[b"GETDEL", key.as_ref()])
}

/// `DEL key` (idempotent).
pub fn del(key: impl AsRef<[u8]>) -> Request {
    req(&[b"DEL", key.as_ref()]).idempotent()
}

/// `EXISTS key`.
pub fn exists(key: impl AsRef<[u8]>) -> Request {
    req(&[b"EXISTS", key.as_ref()])
}

/// `INCR key` (not idempotent).
pub fn incr(key: impl AsRef<[u8]>) -> Request {
    req(&[b"INCR", key.as_ref()])
}

/// `INCRBY key by` (not idempotent).
pub fn incr_by(key: impl AsRef<[u8]>, by: i64) -> Request {
    let by = by.to_string();
    req(&[b"INCRBY", key.as_ref(), by.as_bytes()])
}

/// `DECR key` (not idempotent).
pub fn decr(key: impl AsRef<[u8]>) -> Request {
    req(&[b"DECR", key.as_ref()])
}

/// `DECRBY key by` (not idempotent).
pub fn decr_by(key: impl AsRef<[u8]>, by: i64) -> Request {
    let by = by.to_string();
    req(&[b"DECRBY", key.as_ref(), by.as_bytes()])
}

/// `PEXPIRE key ttl` (idempotent; milliseconds, at least 1).
pub fn expire(key: impl AsRef<[u8]>, ttl: Duration) -> Request {
    let ms = millis(ttl);
    req(&[b"PEXPIRE", key.as_ref(), ms.as_bytes()]).idempotent()
}

/// `PERSIST key` (idempotent).
pub fn persist(key: impl AsRef<[u8]>) -> Request {
    req(&[b"PERSIST", key.as_ref()]).idempotent()
}

/// `TTL key` (seconds; -1 without expiry, -2 without the key).
pub fn ttl(key: impl AsRef<[u8]>) -> Request {
    req(&[b"TTL", key.as_ref()])
}

/// `PTTL key` (milliseconds; -1 without expiry, -2 without the key).
pub fn pttl(key: impl AsRef<[u8]>) -> Request {
    req(&[b"PTTL", key.as_ref()])
}

/// `APPEND key value` (not idempotent).
pub fn append(key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> Request {
    req(&[b"APPEND", key.as_ref(), value.as_ref()])
}

/// `HGET key field`.
pub fn hget(key: impl AsRef<[u8]>, field: impl AsRef<[u8]>) -> Request {
    req(&[b"HGET", key.as_ref(), field.as_ref()])
}

/// `HSET key field value` (idempotent).
pub fn hset(key: impl AsRef<[u8]>, field: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> Request {
    req(&[b"HSET", key.as_ref(), field.as_ref(), value.as_ref()]).idempotent()
}

/// `HDEL key field` (idempotent).
pub fn hdel(key: impl AsRef<[u8]>, field: impl AsRef<[u8]>) -> Request {
    req(&[b"HDEL", key.as_ref(), field.as_ref()]).idempotent()
}

/// `HGETALL key`.
pub fn hgetall(key: impl AsRef<[u8]>) -> Request {
    req(&[b"HGETALL", key.as_ref()])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings() {
        assert_eq!(
            incr_by("c", -5).encoded(),
            &b"*3\r\n$6\r\nINCRBY\r\n$1\r\nc\r\n$2\r\n-5\r\n"[..]
        );
        assert_eq!(
            expire("k", Duration::ZERO).encoded(),
            &b"*3\r\n$7\r\nPEXPIRE\r\n$1\r\nk\r\n$1\r\n1\r\n"[..]
        );
        assert_eq!(set("k", "v"), Request::new(["SET", "k", "v"]).idempotent());
        assert_eq!(incr("k"), Request::new(["INCR", "k"]));
    }
}
