//! `redis+sentinel://[user:pass@]HOST:PORT[,HOST:PORT…]/MASTER` (and `rediss+sentinel://`).

use slotwise_cluster::{Auth, Endpoint};

use crate::Error;

/// A parsed Sentinel seed.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct SentinelUrl {
    pub(crate) sentinels: Vec<Endpoint>,
    pub(crate) master: String,
    pub(crate) auth: Option<Auth>,
    pub(crate) tls: bool,
}

const PLAIN: &str = "redis+sentinel://";
const TLS: &str = "rediss+sentinel://";

/// Whether `text` is a Sentinel seed.
pub(crate) fn is_sentinel_url(text: &str) -> bool {
    let t = text.trim();
    t.starts_with(PLAIN) || t.starts_with(TLS)
}

/// Parses a Sentinel seed.
pub(crate) fn parse(text: &str) -> Result<SentinelUrl, Error> {
    let t = text.trim();
    let bad = |why: &str| {
        Error::Config(format!(
            "invalid Sentinel seed: {why} (expected \
             redis+sentinel://[user:pass@]HOST:PORT[,HOST:PORT…]/MASTER)"
        ))
    };
    let (rest, tls) = if let Some(r) = t.strip_prefix(TLS) {
        (r, true)
    } else if let Some(r) = t.strip_prefix(PLAIN) {
        (r, false)
    } else {
        return Err(bad("not a redis+sentinel:// URL"));
    };
    let (hosts, master) = rest.split_once('/').ok_or_else(|| bad("no /MASTER name"))?;
    let master =
        decode(master.trim_end_matches('/')).ok_or_else(|| bad("bad %-escape in the name"))?;
    if master.is_empty() || master.contains('/') {
        return Err(bad("no MASTER name after the addresses"));
    }
    let (auth, hosts) = match hosts.rsplit_once('@') {
        Some((userinfo, hosts)) => {
            let (user, pass) = userinfo.split_once(':').unwrap_or(("", userinfo));
            let user = decode(user).ok_or_else(|| bad("bad %-escape in the user"))?;
            let password = decode(pass).ok_or_else(|| bad("bad %-escape in the password"))?;
            let username = (!user.is_empty()).then_some(user);
            (Some(Auth { username, password }), hosts)
        }
        None => (None, hosts),
    };
    let mut sentinels = Vec::new();
    for host in hosts.split(',') {
        let host = host.trim();
        let endpoint = Endpoint::parse(host)
            .filter(|e| e.port != 0 && !e.host.is_empty())
            .or_else(|| {
                // A bare host: Sentinel's own default port.
                (!host.is_empty() && !host.contains(':')).then(|| Endpoint::new(host, 26379))
            })
            .ok_or_else(|| bad(&format!("{host:?} is not HOST:PORT")))?;
        sentinels.push(endpoint);
    }
    Ok(SentinelUrl {
        sentinels,
        master,
        auth,
        tls,
    })
}

/// Percent-decoding (`%40` is `@`).
fn decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            if !hex.bytes().all(|h| h.is_ascii_hexdigit()) {
                return None; // from_str_radix would take `%+1`
            }
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentinel_urls() {
        let u = parse("redis+sentinel://127.0.0.1:26379,127.0.0.1:26380/mymaster").unwrap();
        assert_eq!(
            u.sentinels,
            vec![
                Endpoint::new("127.0.0.1", 26379),
                Endpoint::new("127.0.0.1", 26380)
            ]
        );
        assert_eq!(
            (u.master.as_str(), u.tls, u.auth),
            ("mymaster", false, None)
        );
        let u = parse("rediss+sentinel://app:p%40ss@s1:1/m").unwrap();
        assert!(u.tls);
        assert_eq!(
            u.auth,
            Some(Auth {
                username: Some("app".into()),
                password: "p@ss".into()
            })
        );
        let u = parse("redis+sentinel://:secret@s1/m").unwrap();
        assert_eq!(u.sentinels, vec![Endpoint::new("s1", 26379)]);
        assert_eq!(u.auth.unwrap().username, None);
        assert!(parse("redis+sentinel://s1:1").is_err());
        assert!(parse("redis+sentinel://s1:1/").is_err());
        assert!(parse("redis+sentinel://s1:x/m").is_err());
        assert!(parse("redis+sentinel://s1:1,/m").is_err());
        assert!(parse("redis+sentinel://u:p%zz@s1:1/m").is_err());
        assert!(parse("redis+sentinel://u:p%+1@s1:1/m").is_err());
        assert!(is_sentinel_url(" redis+sentinel://x/m"));
        assert!(!is_sentinel_url("redis://x"));
    }
}
