//! How to reach a cluster: redis-cli's connection options (`-h`, `-p`, `-u`, `-a`, `--user`,
//! `--tls` …) plus slotwise's own (`--timeout`, the decoder limits), shared by `slotwise -c` and
//! `slotwise topology watch`.

use std::time::Duration;

use slotwise_blocking::{Client, ClientConfig, Endpoint, Protocol, TlsOptions};
use slotwise_resp::Limits;

use crate::Failure;
use crate::args::Words;

/// The host and port redis-cli uses when none is given.
const DEFAULT_HOST: &str = "127.0.0.1";
const DEFAULT_PORT: u16 = 6379;

/// Where the cluster is and how to talk to it.
#[derive(Default)]
pub(crate) struct Connect {
    host: Option<String>,
    port: Option<u16>,
    /// TLS on (`--tls`, or a `rediss://` URI).
    pub(crate) tls: bool,
    cacert: Option<String>,
    cert: Option<String>,
    key: Option<String>,
    sni: Option<String>,
    user: Option<String>,
    pass: Option<String>,
    /// The password came from the command line (`-a`, `--pass`, `-u`): redis-cli warns then.
    pub(crate) pass_on_command_line: bool,
    /// The database asked for (`-n`, or the path of a `-u` URI).
    pub(crate) db: Option<String>,
    timeout: Option<Duration>,
    protocol: Option<Protocol>,
    limits: Option<Limits>,
    /// A Sentinel seed (`redis+sentinel://…/MASTER`), checked when given.
    sentinel: Option<String>,
}

/// A word is a seed (`HOST:PORT`, `[v6]:PORT`, `redis://…`, `redis+sentinel://…`) rather than
/// a command name.
pub(crate) fn looks_like_seed(word: &str) -> bool {
    word.starts_with("redis://")
        || word.starts_with("rediss://")
        || is_sentinel(word)
        || word
            .rsplit_once(':')
            .is_some_and(|(h, p)| !h.is_empty() && !p.is_empty() && p.parse::<u16>().is_ok())
}

impl Connect {
    /// Takes `flag` (and its value from `words`) if it is a connection option; `Ok(false)` if it
    /// is not one.
    pub(crate) fn take(&mut self, flag: &str, words: &mut Words<'_>) -> Result<bool, Failure> {
        match flag {
            "-h" => self.host = Some(words.value(flag)?.to_owned()),
            "-p" => {
                let v = words.value(flag)?;
                self.port = Some(
                    v.parse::<u16>()
                        .ok()
                        .filter(|p| *p > 0)
                        .ok_or_else(|| Failure::Usage(format!("-p takes a port, not {v:?}")))?,
                );
            }
            "-u" => {
                let uri = words.value(flag)?.to_owned();
                self.uri(&uri)?;
            }
            "-a" | "--pass" => {
                self.pass = Some(words.value(flag)?.to_owned());
                self.pass_on_command_line = true;
            }
            "--user" => self.user = Some(words.value(flag)?.to_owned()),
            "-n" => self.db = Some(words.value(flag)?.to_owned()),
            "-2" => self.protocol = Some(Protocol::Resp2),
            "-3" => self.protocol = Some(Protocol::Resp3),
            "--tls" => self.tls = true,
            "--cacert" => self.cacert = Some(words.value(flag)?.to_owned()),
            "--cert" => self.cert = Some(words.value(flag)?.to_owned()),
            "--key" => self.key = Some(words.value(flag)?.to_owned()),
            "--sni" => self.sni = Some(words.value(flag)?.to_owned()),
            "--timeout" => {
                let v = words.value(flag)?;
                let secs = v
                    .parse::<f64>()
                    .ok()
                    .filter(|s| s.is_finite() && *s > 0.0)
                    .ok_or_else(|| Failure::Usage(format!("--timeout takes seconds, not {v:?}")))?;
                self.timeout = Some(Duration::from_secs_f64(secs.clamp(0.001, 86_400.0)));
            }
            _ => {
                let mut limits = self.limits.unwrap_or_default();
                if !crate::limits::take(flag, words, &mut limits)? {
                    return Ok(false);
                }
                self.limits = Some(limits);
            }
        }
        Ok(true)
    }

    /// A seed given as a word (`-c HOST:PORT`, `topology watch HOST:PORT`).
    pub(crate) fn seed(&mut self, word: &str) -> Result<(), Failure> {
        if is_sentinel(word) {
            // `[user:pass@]` in it authenticates to the sentinels and the nodes.
            ClientConfig::new([word]).map_err(|e| Failure::Usage(e.to_string()))?;
            self.tls |= word.starts_with("rediss+");
            self.sentinel = Some(word.to_owned());
            return Ok(());
        }
        if word.starts_with("redis://") || word.starts_with("rediss://") {
            return self.uri(word);
        }
        let e = Endpoint::parse(word)
            .filter(|e| e.port > 0)
            .ok_or_else(|| Failure::Usage(format!("expected HOST:PORT, got {word:?}")))?;
        self.host = Some(e.host);
        self.port = Some(e.port);
        Ok(())
    }

    /// `redis://[[user]:password@]host[:port][/db]` (`rediss://`: TLS), as redis-cli's `-u`.
    fn uri(&mut self, uri: &str) -> Result<(), Failure> {
        let bad = || {
            Failure::Usage(format!(
                "invalid URI {uri:?}: expected redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]"
            ))
        };
        let rest = if let Some(r) = uri.strip_prefix("rediss://") {
            self.tls = true;
            r
        } else {
            uri.strip_prefix("redis://").ok_or_else(bad)?
        };
        let (authority, db) = rest.split_once('/').unwrap_or((rest, ""));
        let hostport = match authority.rsplit_once('@') {
            Some((userinfo, hostport)) => {
                let (user, pass) = userinfo.split_once(':').unwrap_or(("", userinfo));
                if !user.is_empty() {
                    self.user = Some(percent_decode(user).ok_or_else(bad)?);
                }
                if !pass.is_empty() {
                    self.pass = Some(percent_decode(pass).ok_or_else(bad)?);
                    self.pass_on_command_line = true;
                }
                hostport
            }
            None => authority,
        };
        match Endpoint::parse(hostport) {
            Some(e) if e.port > 0 => {
                self.host = Some(e.host);
                self.port = Some(e.port);
            }
            Some(_) => return Err(bad()),
            None if hostport.is_empty() => {}
            None => {
                let host = hostport.trim_start_matches('[').trim_end_matches(']');
                self.host = Some(host.to_owned());
            }
        }
        if !db.is_empty() {
            self.db = Some(db.to_owned());
        }
        Ok(())
    }

    /// Checks options that only make sense together.
    pub(crate) fn check(&self) -> Result<(), Failure> {
        if self.cert.is_some() != self.key.is_some() {
            return Err(Failure::Usage("--cert and --key go together".into()));
        }
        if self.user.is_some() && self.pass.is_none() {
            return Err(Failure::Usage(
                "--user needs -a PASSWORD (or --pass)".into(),
            ));
        }
        let tls_only = self.cacert.is_some() || self.cert.is_some() || self.sni.is_some();
        if tls_only && !self.tls {
            return Err(Failure::Usage(
                "--cacert, --cert, --key and --sni need --tls".into(),
            ));
        }
        match self.db.as_deref() {
            None | Some("0") => Ok(()),
            Some(db) if db.parse::<u32>().is_ok() => Err(Failure::Usage(format!(
                "-n {db}: a cluster has only database 0 (SELECT is not allowed in cluster mode)"
            ))),
            Some(db) => Err(Failure::Usage(format!(
                "-n takes a database number, not {db:?}"
            ))),
        }
    }

    /// Uses `REDISCLI_AUTH` as the password when none was given, like redis-cli.
    pub(crate) fn password_from_env(&mut self) {
        if self.pass.is_none()
            && let Ok(p) = std::env::var("REDISCLI_AUTH")
            && !p.is_empty()
        {
            self.pass = Some(p);
        }
    }

    /// The address to connect to (`127.0.0.1:6379` unless told otherwise).
    pub(crate) fn endpoint(&self) -> Endpoint {
        Endpoint::new(
            self.host.as_deref().unwrap_or(DEFAULT_HOST),
            self.port.unwrap_or(DEFAULT_PORT),
        )
    }

    /// The client configuration.
    pub(crate) fn config(&self) -> ClientConfig {
        let mut config = match self
            .sentinel
            .as_ref()
            .and_then(|url| ClientConfig::new([url]).ok())
        {
            Some(config) => config,
            None => ClientConfig::from_endpoints([self.endpoint()]),
        };
        if let Some(t) = self.timeout {
            config = config.request_timeout(t).connect_wait(t);
        }
        match (&self.user, &self.pass) {
            (Some(u), Some(p)) => config = config.user(u.as_str(), p.as_str()),
            (None, Some(p)) => config = config.password(p.as_str()),
            _ => {}
        }
        if let Some(p) = self.protocol {
            config = config.protocol(p);
        }
        if let Some(limits) = self.limits {
            config.core.decoder_limits = limits;
        }
        if self.tls {
            let mut tls = match &self.cacert {
                Some(ca) => TlsOptions::ca_file(ca),
                None => TlsOptions::system_roots(),
            };
            if let (Some(cert), Some(key)) = (&self.cert, &self.key) {
                tls = tls.client_cert(cert, key);
            }
            if let Some(name) = &self.sni {
                tls = tls.server_name(name.as_str());
            }
            config = config.tls(tls);
        }
        config
    }

    /// Connects (waits for the cluster's topology).
    pub(crate) fn connect(&self) -> Result<Client, Failure> {
        let target = match &self.sentinel {
            Some(url) => redact(url),
            None => self.endpoint().to_string(),
        };
        Client::connect(self.config())
            .map_err(|e| Failure::Input(format!("connecting to {target}: {e}")))
    }
}

/// A `redis+sentinel://` (or `rediss+sentinel://`) seed.
fn is_sentinel(word: &str) -> bool {
    word.starts_with("redis+sentinel://") || word.starts_with("rediss+sentinel://")
}

/// A URL with its `user:pass@` left out, for messages.
fn redact(url: &str) -> String {
    match (url.split_once("://"), url.rsplit_once('@')) {
        (Some((scheme, _)), Some((_, rest))) => format!("{scheme}://{rest}"),
        _ => url.to_owned(),
    }
}

/// `%XX` escapes of a URI part decoded; `None` when one is malformed or the result not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let mut out = Vec::with_capacity(s.len());
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        if b == b'%' {
            let hi = char::from(bytes.next()?).to_digit(16)?;
            let lo = char::from(bytes.next()?).to_digit(16)?;
            out.push((hi * 16 + lo) as u8);
        } else {
            out.push(b);
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(words: &[&str]) -> Result<Connect, Failure> {
        let words: Vec<String> = words.iter().map(|s| s.to_string()).collect();
        let mut w = Words::new(&words);
        let mut c = Connect::default();
        while let Some(flag) = w.next() {
            assert!(c.take(flag, &mut w)?, "{flag} is a connection option");
        }
        c.check()?;
        Ok(c)
    }

    #[test]
    fn host_port_uri_and_db() {
        let c = parsed(&["-h", "10.0.0.1", "-p", "7001"]).unwrap();
        assert_eq!(c.endpoint(), Endpoint::new("10.0.0.1", 7001));
        assert_eq!(
            parsed(&[]).unwrap().endpoint(),
            Endpoint::new("127.0.0.1", 6379)
        );
        let c = parsed(&["-u", "rediss://ann:p%40ss@[::1]:7002/0"]).unwrap();
        assert_eq!(c.endpoint(), Endpoint::new("::1", 7002));
        assert!(c.tls);
        assert_eq!(c.user.as_deref(), Some("ann"));
        assert_eq!(c.pass.as_deref(), Some("p@ss"));
        assert!(parsed(&["-n", "0"]).is_ok());
        assert!(parsed(&["-n", "3"]).is_err());
        assert!(parsed(&["-n", "x"]).is_err());
        assert!(parsed(&["-u", "redis://h/2"]).is_err());
        assert!(parsed(&["-p", "x"]).is_err());
        assert!(parsed(&["-p"]).is_err());
        assert!(parsed(&["--user", "u"]).is_err());
        assert!(parsed(&["--cacert", "ca.pem"]).is_err());
        assert!(parsed(&["-u", "http://x"]).is_err());
    }

    #[test]
    fn seeds() {
        assert!(looks_like_seed("127.0.0.1:7000"));
        assert!(looks_like_seed("[::1]:7000"));
        assert!(looks_like_seed("redis://h"));
        assert!(looks_like_seed("redis+sentinel://h:26379/m"));
        let mut c = Connect::default();
        c.seed("rediss+sentinel://app:pw@127.0.0.1:26379,127.0.0.1:26380/mymaster")
            .unwrap();
        assert!(c.tls);
        let config = c.config();
        let sentinel = config.core.sentinel.expect("a sentinel configuration");
        assert_eq!(sentinel.master, "mymaster");
        assert_eq!(sentinel.sentinels.len(), 2);
        assert_eq!(
            redact("redis+sentinel://app:pw@h:1/m"),
            "redis+sentinel://h:1/m"
        );
        assert!(Connect::default().seed("redis+sentinel://h:1").is_err());
        assert!(!looks_like_seed("GET"));
        assert!(!looks_like_seed("a:b"));
        assert!(!looks_like_seed(":7000"));
    }
}
