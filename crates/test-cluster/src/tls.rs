//! Test certificates made in Rust with `rcgen`: a CA, a server certificate for `127.0.0.1` and
//! `localhost`, and a client certificate for mutual TLS; plus a rustls client configuration that
//! trusts the CA and presents the client certificate.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::ClientConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::Error;

/// Paths of the PEM files of a TLS cluster (all in one directory).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsFiles {
    /// The CA certificate that signed the server and client certificates (trust this).
    pub ca_cert: PathBuf,
    /// The server certificate (SANs `127.0.0.1` and `localhost`; also used by nodes as clients of
    /// each other on the cluster bus and for replication).
    pub server_cert: PathBuf,
    /// The server certificate's private key (PKCS#8).
    pub server_key: PathBuf,
    /// A client certificate for mutual TLS.
    pub client_cert: PathBuf,
    /// The client certificate's private key (PKCS#8).
    pub client_key: PathBuf,
}

impl TlsFiles {
    /// The file names used inside `dir` (whether or not they exist yet).
    pub fn in_dir(dir: &Path) -> TlsFiles {
        TlsFiles {
            ca_cert: dir.join("ca.crt"),
            server_cert: dir.join("server.crt"),
            server_key: dir.join("server.key"),
            client_cert: dir.join("client.crt"),
            client_key: dir.join("client.key"),
        }
    }

    /// Generates a fresh CA, server and client certificate into `dir` (created if missing).
    pub fn generate(dir: &Path) -> Result<TlsFiles, Error> {
        std::fs::create_dir_all(dir)?;
        let files = TlsFiles::in_dir(dir);
        let gen_err = |e: rcgen::Error| format!("generating test certificates: {e}");

        let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(gen_err)?;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "slotwise test CA");
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_key = KeyPair::generate().map_err(gen_err)?;
        let ca_cert = ca_params.self_signed(&ca_key).map_err(gen_err)?;
        let issuer = Issuer::new(ca_params, ca_key);

        // Nodes also use the server certificate as clients of each other (cluster bus, replication,
        // MIGRATE), so it carries both purposes.
        let mut server = CertificateParams::new(vec!["127.0.0.1".into(), "localhost".into()])
            .map_err(gen_err)?;
        server
            .distinguished_name
            .push(DnType::CommonName, "slotwise test server");
        server.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        let server_key = KeyPair::generate().map_err(gen_err)?;
        let server_cert = server.signed_by(&server_key, &issuer).map_err(gen_err)?;

        let mut client = CertificateParams::new(Vec::<String>::new()).map_err(gen_err)?;
        client
            .distinguished_name
            .push(DnType::CommonName, "slotwise test client");
        client.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let client_key = KeyPair::generate().map_err(gen_err)?;
        let client_cert = client.signed_by(&client_key, &issuer).map_err(gen_err)?;

        std::fs::write(&files.ca_cert, ca_cert.pem())?;
        std::fs::write(&files.server_cert, server_cert.pem())?;
        std::fs::write(&files.server_key, server_key.serialize_pem())?;
        std::fs::write(&files.client_cert, client_cert.pem())?;
        std::fs::write(&files.client_key, client_key.serialize_pem())?;
        Ok(files)
    }

    /// The `redis-server` arguments for a TLS-only node listening on `port` (plain port disabled;
    /// TLS on the cluster bus and for replication; client certificates optional).
    pub fn server_args(&self, port: u16) -> Vec<String> {
        let path = |p: &PathBuf| p.to_string_lossy().into_owned();
        [
            "--port",
            "0",
            "--tls-port",
            &port.to_string(),
            "--tls-cert-file",
            &path(&self.server_cert),
            "--tls-key-file",
            &path(&self.server_key),
            "--tls-ca-cert-file",
            &path(&self.ca_cert),
            "--tls-cluster",
            "yes",
            "--tls-replication",
            "yes",
            "--tls-auth-clients",
            "optional",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect()
    }

    /// A rustls client configuration (ring provider) that trusts the CA and presents the client
    /// certificate.
    pub fn client_config(&self) -> Result<Arc<ClientConfig>, Error> {
        let pem_err = |what: &Path, e: rustls::pki_types::pem::Error| {
            format!("reading {}: {e}", what.display())
        };
        let mut roots = rustls::RootCertStore::empty();
        let ca =
            CertificateDer::from_pem_file(&self.ca_cert).map_err(|e| pem_err(&self.ca_cert, e))?;
        roots.add(ca)?;
        let client_cert = CertificateDer::from_pem_file(&self.client_cert)
            .map_err(|e| pem_err(&self.client_cert, e))?;
        let client_key = PrivateKeyDer::from_pem_file(&self.client_key)
            .map_err(|e| pem_err(&self.client_key, e))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_client_auth_cert(vec![client_cert], client_key)?;
        Ok(Arc::new(config))
    }
}
