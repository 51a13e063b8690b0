//! [`TlsOptions`]: which roots to trust, an optional client certificate, an optional server-name
//! override; built into a rustls configuration with the ring provider.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig as RustlsConfig, RootCertStore};

use crate::Error;

/// PEM data: a file to read when the client starts, or the bytes themselves.
#[derive(Clone)]
#[non_exhaustive]
pub enum Pem {
    /// A PEM file.
    File(PathBuf),
    /// PEM text.
    Inline(Vec<u8>),
}

impl fmt::Debug for Pem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pem::File(p) => f.debug_tuple("File").field(p).finish(),
            // May be a private key: never printed.
            Pem::Inline(b) => write!(f, "Inline(<{} bytes>)", b.len()),
        }
    }
}

impl From<PathBuf> for Pem {
    fn from(p: PathBuf) -> Pem {
        Pem::File(p)
    }
}

impl From<&std::path::Path> for Pem {
    fn from(p: &std::path::Path) -> Pem {
        Pem::File(p.to_path_buf())
    }
}

impl Pem {
    fn read(&self) -> Result<Vec<u8>, Error> {
        match self {
            Pem::File(p) => std::fs::read(p).map_err(|source| Error::Io {
                context: format!("reading {}", p.display()),
                source,
            }),
            Pem::Inline(b) => Ok(b.clone()),
        }
    }

    fn name(&self) -> String {
        match self {
            Pem::File(p) => p.display().to_string(),
            Pem::Inline(_) => "inline PEM".into(),
        }
    }
}

/// TLS settings: trusted roots (the system's, and/or CA certificates), an optional client
/// certificate and key (mutual TLS), and an optional server name.
///
/// The name each connection verifies (and sends as SNI) is, in order: the hostname the node
/// announces in the topology (`cluster-announce-hostname`), else [`TlsOptions::server_name`],
/// else the seed's host. So a configuration endpoint like `clustercfg.example.com` works with
/// no extra setting, and a cluster reached by IP address can name its certificate here.
///
/// ```no_run
/// use slotwise_client::TlsOptions;
/// let tls = TlsOptions::ca_file("/etc/redis/ca.crt")
///     .client_cert("/etc/redis/client.crt", "/etc/redis/client.key")
///     .server_name("redis.internal");
/// let rustls_config = tls.build()?; // what the adapters use
/// # Ok::<(), slotwise_client::Error>(())
/// ```
#[derive(Clone, Default)]
#[non_exhaustive]
pub struct TlsOptions {
    /// Trust the operating system's root certificates.
    pub system_roots: bool,
    /// Trust these CA certificates (each PEM may hold several).
    pub ca: Vec<Pem>,
    /// Present this certificate chain and private key (mutual TLS).
    pub client_cert: Option<(Pem, Pem)>,
    /// The name to verify when a node announces no hostname (see the type's docs).
    pub server_name: Option<String>,
    /// A ready rustls configuration, used instead of building one from the fields above.
    pub rustls: Option<Arc<RustlsConfig>>,
}

impl TlsOptions {
    /// Trust the operating system's roots.
    #[must_use]
    pub fn system_roots() -> TlsOptions {
        TlsOptions {
            system_roots: true,
            ..TlsOptions::default()
        }
    }

    /// Trust only the CA certificate(s) in this PEM file.
    #[must_use]
    pub fn ca_file(path: impl Into<PathBuf>) -> TlsOptions {
        TlsOptions {
            ca: vec![Pem::File(path.into())],
            ..TlsOptions::default()
        }
    }

    /// Trust only the CA certificate(s) in this PEM text.
    #[must_use]
    pub fn ca_pem(pem: impl Into<Vec<u8>>) -> TlsOptions {
        TlsOptions {
            ca: vec![Pem::Inline(pem.into())],
            ..TlsOptions::default()
        }
    }

    /// Use this rustls configuration as it is (its roots, client auth, ALPN …).
    #[must_use]
    pub fn rustls(config: Arc<RustlsConfig>) -> TlsOptions {
        TlsOptions {
            rustls: Some(config),
            ..TlsOptions::default()
        }
    }

    /// Also trust the CA certificate(s) in this PEM.
    #[must_use]
    pub fn add_ca(mut self, pem: impl Into<Pem>) -> TlsOptions {
        self.ca.push(pem.into());
        self
    }

    /// Present this certificate chain and key, both PEM files (mutual TLS).
    #[must_use]
    pub fn client_cert(mut self, cert: impl Into<PathBuf>, key: impl Into<PathBuf>) -> TlsOptions {
        self.client_cert = Some((Pem::File(cert.into()), Pem::File(key.into())));
        self
    }

    /// Present this certificate chain and key, both PEM text (mutual TLS).
    #[must_use]
    pub fn client_cert_pem(
        mut self,
        cert: impl Into<Vec<u8>>,
        key: impl Into<Vec<u8>>,
    ) -> TlsOptions {
        self.client_cert = Some((Pem::Inline(cert.into()), Pem::Inline(key.into())));
        self
    }

    /// The name to verify when a node announces no hostname and is reached by IP address.
    #[must_use]
    pub fn server_name(mut self, name: impl Into<String>) -> TlsOptions {
        self.server_name = Some(name.into());
        self
    }

    /// The core's view of these settings.
    pub(crate) fn core_tls(&self) -> slotwise_cluster::Tls {
        let mut tls = slotwise_cluster::Tls::default();
        tls.server_name.clone_from(&self.server_name);
        tls
    }

    /// Builds the rustls configuration (ring provider, safe default protocol versions), reading
    /// the PEM files now.
    pub fn build(&self) -> Result<Arc<RustlsConfig>, Error> {
        if let Some(c) = &self.rustls {
            return Ok(c.clone());
        }
        let mut roots = RootCertStore::empty();
        if self.system_roots {
            let found = rustls_native_certs::load_native_certs();
            let (added, _ignored) = roots.add_parsable_certificates(found.certs);
            if added == 0 && self.ca.is_empty() {
                let why = found
                    .errors
                    .first()
                    .map_or_else(|| "none found".to_owned(), ToString::to_string);
                return Err(Error::Tls(format!(
                    "no usable system root certificates: {why}"
                )));
            }
        }
        for pem in &self.ca {
            let bytes = pem.read()?;
            let mut n = 0;
            for cert in CertificateDer::pem_slice_iter(&bytes) {
                let cert = cert.map_err(|e| Error::Tls(format!("{}: {e}", pem.name())))?;
                roots
                    .add(cert)
                    .map_err(|e| Error::Tls(format!("{}: {e}", pem.name())))?;
                n += 1;
            }
            if n == 0 {
                return Err(Error::Tls(format!("{}: no certificate found", pem.name())));
            }
        }
        if roots.is_empty() {
            return Err(Error::Tls(
                "no trusted roots: use TlsOptions::system_roots or a CA".into(),
            ));
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = RustlsConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::Tls(e.to_string()))?
            .with_root_certificates(roots);
        let config = match &self.client_cert {
            None => builder.with_no_client_auth(),
            Some((cert, key)) => {
                let cert_bytes = cert.read()?;
                let chain = CertificateDer::pem_slice_iter(&cert_bytes)
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| Error::Tls(format!("{}: {e}", cert.name())))?;
                if chain.is_empty() {
                    return Err(Error::Tls(format!("{}: no certificate found", cert.name())));
                }
                let key_bytes = key.read()?;
                let private = PrivateKeyDer::from_pem_slice(&key_bytes)
                    .map_err(|e| Error::Tls(format!("{}: {e}", key.name())))?;
                builder
                    .with_client_auth_cert(chain, private)
                    .map_err(|e| Error::Tls(format!("client certificate: {e}")))?
            }
        };
        Ok(Arc::new(config))
    }
}

impl fmt::Debug for TlsOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsOptions")
            .field("system_roots", &self.system_roots)
            .field("ca", &self.ca)
            .field("client_cert", &self.client_cert.as_ref().map(|(c, _)| c))
            .field("server_name", &self.server_name)
            .field("rustls", &self.rustls.as_ref().map(|_| ".."))
            .finish()
    }
}

/// The name a connection verifies, as rustls wants it (a DNS name or an IP address).
pub fn server_name(name: &str) -> Result<ServerName<'static>, Error> {
    ServerName::try_from(name.to_owned())
        .map_err(|e| Error::Tls(format!("invalid TLS server name {name:?}: {e}")))
}

/// What a connection needs for TLS: the configuration and the name to verify.
#[derive(Clone)]
pub struct TlsTarget {
    /// The rustls configuration.
    pub config: Arc<RustlsConfig>,
    /// The name to verify and send as SNI.
    pub server_name: ServerName<'static>,
}

impl fmt::Debug for TlsTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsTarget")
            .field("server_name", &self.server_name)
            .finish_non_exhaustive()
    }
}
