//! [`ClientConfig`]: where the cluster is, how to authenticate, TLS, and the core's knobs.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use slotwise_cluster::{Config, Credentials, CredentialsProvider, Endpoint, Protocol, ReadFrom};

use crate::{Error, TlsOptions};

/// The port a seed without one gets (`localhost` means `localhost:6379`).
pub const DEFAULT_PORT: u16 = 6379;

/// Everything a client needs to start: the seeds, credentials, TLS, and the core's `Config`
/// (timeouts, refresh, backoff, read-from …) passed through.
///
/// The core's part is [`ClientConfig::core`], a [`Config`]. One seed is enough: a configuration endpoint such as a managed service's DNS name, or any node
/// of the cluster. The rest is discovered.
///
/// ```
/// use std::time::Duration;
/// use slotwise_client::{ClientConfig, TlsOptions};
///
/// let config = ClientConfig::new(["localhost:7000"])?
///     .user("app", "secret")
///     .client_name("billing")
///     .request_timeout(Duration::from_secs(5))
///     .tls(TlsOptions::system_roots());
/// // Passwords never show in `Debug` output.
/// assert!(!format!("{config:?}").contains("secret"));
/// # Ok::<(), slotwise_client::Error>(())
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct ClientConfig {
    /// The core's configuration: seeds, credentials, client name, protocol, timeouts, refresh,
    /// backoff, queue bound, read-from, RNG seed, decoder limits. Its `tls` field is set from
    /// [`ClientConfig::tls`] when the client starts.
    pub core: Config,
    /// TLS on (`Some`) or off.
    pub tls: Option<TlsOptions>,
    /// How long `connect` waits for the first topology before it gives up (sooner when every
    /// seed asked has refused or answered nothing usable: then it fails with the last error).
    pub connect_wait: Duration,
}

impl ClientConfig {
    /// A configuration with these seeds: `host:port`, `[v6]:port`, a bare `host` (port 6379), or
    /// `redis://host:port` / `rediss://host:port` (the latter turns TLS on with the system roots).
    ///
    /// A Sentinel-managed primary is one seed
    /// `redis+sentinel://[user:pass@]HOST:PORT[,HOST:PORT…]/MASTER` (`rediss+sentinel://` for TLS
    /// to the sentinels and the nodes): the sentinels at those addresses are asked for the primary
    /// named `MASTER`. The credentials (percent-encoded; `:pass@` for the `default` user)
    /// authenticate to the sentinels and the nodes alike; see
    /// [`ClientConfig::sentinel_credentials`] when they differ.
    pub fn new<I>(seeds: I) -> Result<ClientConfig, Error>
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        let seeds: Vec<String> = seeds.into_iter().map(|s| s.as_ref().to_owned()).collect();
        if let Some(url) = seeds
            .iter()
            .find(|s| crate::sentinel_url::is_sentinel_url(s))
        {
            if seeds.len() > 1 {
                return Err(Error::Config(
                    "a redis+sentinel:// seed lists all the sentinels: give it alone".into(),
                ));
            }
            let parsed = crate::sentinel_url::parse(url)?;
            let mut config = ClientConfig::from_endpoints(parsed.sentinels.clone());
            config.core.sentinel = Some(slotwise_cluster::SentinelConfig::new(
                parsed.master,
                parsed.sentinels,
            ));
            if let Some(auth) = parsed.auth {
                config.core.credentials = Credentials::Static(auth);
            }
            if parsed.tls {
                config.tls = Some(TlsOptions::system_roots());
            }
            return Ok(config);
        }
        let mut tls = false;
        let mut endpoints = Vec::new();
        for seed in &seeds {
            let (endpoint, wants_tls) = parse_seed(seed)?;
            tls |= wants_tls;
            endpoints.push(endpoint);
        }
        if endpoints.is_empty() {
            return Err(Error::Config("no seed given".into()));
        }
        let mut config = ClientConfig::from_endpoints(endpoints);
        if tls {
            config.tls = Some(TlsOptions::system_roots());
        }
        Ok(config)
    }

    /// A configuration with these seed endpoints.
    pub fn from_endpoints(seeds: impl IntoIterator<Item = Endpoint>) -> ClientConfig {
        ClientConfig {
            core: Config::new(seeds),
            tls: None,
            connect_wait: Duration::from_secs(10),
        }
    }

    /// Connects somewhere else than nodes announce (NAT, containers, port forwarding):
    /// `map` gets each announced endpoint and says where to dial it (see
    /// [`Remap`](slotwise_cluster::Remap)).
    ///
    /// ```
    /// use slotwise_client::{ClientConfig, Dial, Endpoint};
    /// let config = ClientConfig::new(["127.0.0.1:7000"])?.remap(|e: &Endpoint| {
    ///     (e.host == "redis-0.internal").then(|| Dial::to(Endpoint::new("127.0.0.1", e.port)))
    /// });
    /// # Ok::<(), slotwise_client::Error>(())
    /// ```
    #[must_use]
    pub fn remap(mut self, map: impl slotwise_cluster::AddressRemap + 'static) -> Self {
        self.core.remap = Some(slotwise_cluster::Remap::new(map));
        self
    }

    /// What the seeds may be: a cluster, or also a standalone server (the default,
    /// [`Deployment::Auto`](slotwise_cluster::Deployment::Auto)); `Deployment::Cluster` makes a
    /// standalone seed a connect error instead.
    #[must_use]
    pub fn deployment(mut self, deployment: slotwise_cluster::Deployment) -> Self {
        self.core.deployment = deployment;
        self
    }

    /// How to authenticate to the sentinels when it differs from the nodes (a Sentinel seed,
    /// see [`ClientConfig::new`]; sentinels have their own `requirepass`).
    #[must_use]
    pub fn sentinel_credentials(mut self, credentials: Credentials) -> Self {
        if let Some(s) = self.core.sentinel.as_mut() {
            s.credentials = Some(credentials);
        }
        self
    }

    /// Authenticates as this ACL user.
    #[must_use]
    pub fn user(mut self, username: impl Into<String>, password: impl Into<String>) -> Self {
        self.core.credentials = Credentials::user(username, password);
        self
    }

    /// Authenticates the `default` user with this password (`requirepass`).
    #[must_use]
    pub fn password(mut self, password: impl Into<String>) -> Self {
        self.core.credentials = Credentials::password(password);
        self
    }

    /// Asks `provider` for credentials at every connection handshake (rotating tokens).
    #[must_use]
    pub fn credentials_provider(mut self, provider: Arc<dyn CredentialsProvider>) -> Self {
        self.core.credentials = Credentials::Provider(provider);
        self
    }

    /// `CLIENT SETNAME` on every connection.
    #[must_use]
    pub fn client_name(mut self, name: impl Into<String>) -> Self {
        self.core.client_name = Some(name.into());
        self
    }

    /// Turns TLS on with these options.
    #[must_use]
    pub fn tls(mut self, tls: TlsOptions) -> Self {
        self.tls = Some(tls);
        self
    }

    /// RESP3 (the default, with fallback) or RESP2.
    #[must_use]
    pub fn protocol(mut self, protocol: Protocol) -> Self {
        self.core.protocol = protocol;
        self
    }

    /// The default deadline of a request, redirects and retries included.
    #[must_use]
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.core.request_timeout = timeout;
        self
    }

    /// How long one connection may take to connect (TLS included) and finish its handshake.
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.core.connect_timeout = timeout;
        self
    }

    /// How long `connect` waits for the first topology (it fails sooner when every seed has
    /// refused).
    #[must_use]
    pub fn connect_wait(mut self, wait: Duration) -> Self {
        self.connect_wait = wait;
        self
    }

    /// Which nodes serve reads.
    #[must_use]
    pub fn read_from(mut self, read_from: ReadFrom) -> Self {
        self.core.read_from = read_from;
        self
    }

    /// Reads from replicas in `zone` first ([`ReadFrom::SameZone`]); `zone_of` gives each node's
    /// zone where the server does not report it (`HELLO`'s `availability_zone`, Valkey 8).
    ///
    /// ```
    /// use slotwise_client::{ClientConfig, Endpoint};
    /// let config = ClientConfig::new(["127.0.0.1:7000"])?.same_zone("eu-1a", |e: &Endpoint| {
    ///     Some(if e.host.starts_with("10.1.") { "eu-1a" } else { "eu-1b" }.to_string())
    /// });
    /// # Ok::<(), slotwise_client::Error>(())
    /// ```
    #[must_use]
    pub fn same_zone(
        mut self,
        zone: impl Into<String>,
        zone_of: impl Fn(&Endpoint) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        self.core.read_from = ReadFrom::SameZone;
        self.core.zone = Some(zone.into());
        self.core.zone_of = Some(slotwise_cluster::ZoneOf::new(zone_of));
        self
    }

    /// The core configuration to start with: [`ClientConfig::core`] with TLS settings filled in.
    #[must_use]
    pub fn core_config(&self) -> Config {
        let mut core = self.core.clone();
        core.tls = self.tls.as_ref().map(TlsOptions::core_tls);
        core
    }
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `Config`'s own Debug redacts passwords (see `slotwise_cluster::Auth`).
        f.debug_struct("ClientConfig")
            .field("core", &self.core)
            .field("tls", &self.tls)
            .field("connect_wait", &self.connect_wait)
            .finish()
    }
}

/// Parses one seed; the flag says whether its scheme asks for TLS.
fn parse_seed(text: &str) -> Result<(Endpoint, bool), Error> {
    let text = text.trim();
    let (rest, tls) = if let Some(r) = text.strip_prefix("rediss://") {
        (r, true)
    } else if let Some(r) = text.strip_prefix("redis://") {
        (r, false)
    } else {
        (text, false)
    };
    // `user:pass@` in a URL is not accepted: credentials belong in the configuration, where they are
    // redacted, not in a string that ends up in logs.
    if rest.contains('@') {
        return Err(Error::Config(
            "credentials in a seed URL are not accepted: use ClientConfig::user".into(),
        ));
    }
    let rest = rest.trim_end_matches('/');
    let bad = || Error::Config(format!("invalid seed {text:?}: expected host:port"));
    if rest.is_empty() {
        return Err(bad());
    }
    let bare_v6 = rest.matches(':').count() > 1 && !rest.starts_with('[');
    let endpoint = if let Some(e) = Endpoint::parse(rest).filter(|_| !bare_v6) {
        e
    } else if !rest.contains(':') || bare_v6 {
        Endpoint::new(rest, DEFAULT_PORT)
    } else if let Some(host) = rest.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
        Endpoint::new(host, DEFAULT_PORT)
    } else {
        return Err(bad());
    };
    if endpoint.port == 0 {
        return Err(bad());
    }
    Ok((endpoint, tls))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds() {
        let p = |s| parse_seed(s).map(|(e, t)| (e.to_string(), t));
        assert_eq!(
            p("localhost:7000").unwrap(),
            ("localhost:7000".into(), false)
        );
        assert_eq!(p("localhost").unwrap(), ("localhost:6379".into(), false));
        assert_eq!(
            p("rediss://cfg.example:6380/").unwrap(),
            ("cfg.example:6380".into(), true)
        );
        assert_eq!(p("[::1]:7000").unwrap(), ("[::1]:7000".into(), false));
        assert_eq!(p("[::1]").unwrap(), ("[::1]:6379".into(), false));
        assert_eq!(p("::1").unwrap(), ("[::1]:6379".into(), false));
        assert!(p("localhost:notaport").is_err());
        assert!(p("localhost:0").is_err());
        assert!(p("").is_err());
        assert!(p("redis://u:pw@host:1").is_err());
        assert!(ClientConfig::new(Vec::<String>::new()).is_err());
    }

    #[test]
    fn debug_redacts() {
        let c = ClientConfig::new(["h:1"]).unwrap().user("u", "hunter2");
        assert!(!format!("{c:?}").contains("hunter2"));
        let c = ClientConfig::new(["h:1"]).unwrap().password("hunter2");
        assert!(!format!("{c:#?}").contains("hunter2"));
    }
}
