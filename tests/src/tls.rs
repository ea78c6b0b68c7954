//! TLS for end-to-end tests: certificates from `isnad_testkit::tls` written to files (private
//! keys with mode 0600), the server's TLS arguments, and gRPC channels over TLS.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use isnad_testkit::tls::{CertifiedPem, TestCa};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};

use crate::server::Server;

/// A set of test certificates on disk: a CA with a server and a client certificate, and a
/// second CA (with its own server and client certificates) that the first does not trust.
#[derive(Debug)]
pub struct TlsFiles {
    /// Removed when dropped.
    pub dir: tempfile::TempDir,
    /// The CA's certificate.
    pub ca: PathBuf,
    /// The server's certificate, for `localhost` and `127.0.0.1`, issued by the CA.
    pub server_cert: PathBuf,
    /// The server's private key, mode 0600.
    pub server_key: PathBuf,
    /// A client certificate issued by the CA.
    pub client_cert: PathBuf,
    /// Its private key, mode 0600.
    pub client_key: PathBuf,
    /// Another CA's certificate.
    pub other_ca: PathBuf,
    /// A server certificate for `localhost` and `127.0.0.1` issued by the other CA.
    pub other_server_cert: PathBuf,
    /// Its private key, mode 0600.
    pub other_server_key: PathBuf,
    /// A client certificate issued by the other CA.
    pub other_client_cert: PathBuf,
    /// Its private key, mode 0600.
    pub other_client_key: PathBuf,
}

impl TlsFiles {
    /// New certificates in a new temporary directory.
    pub fn generate() -> TlsFiles {
        let dir = tempfile::tempdir().expect("temp dir");
        let ca = TestCa::new("isnad test CA");
        let other = TestCa::new("another CA");
        let write = |name: &str, text: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).expect("a certificate file");
            path
        };
        let pair = |name: &str, pem: &CertifiedPem| {
            let cert = write(&format!("{name}.crt"), &pem.cert_pem);
            let key = write(&format!("{name}.key"), &pem.key_pem);
            set_mode(&key, 0o600);
            (cert, key)
        };
        let (server_cert, server_key) = pair("server", &ca.server());
        let (client_cert, client_key) = pair("client", &ca.client("partner system"));
        let (other_server_cert, other_server_key) = pair("other-server", &other.server());
        let (other_client_cert, other_client_key) = pair("other-client", &other.client("stranger"));
        TlsFiles {
            ca: write("ca.crt", &ca.cert_pem),
            other_ca: write("other-ca.crt", &other.cert_pem),
            server_cert,
            server_key,
            client_cert,
            client_key,
            other_server_cert,
            other_server_key,
            other_client_cert,
            other_client_key,
            dir,
        }
    }

    /// The server's arguments for TLS with its certificate from the CA.
    pub fn server_args(&self) -> Vec<String> {
        vec![
            "--tls-cert".into(),
            text(&self.server_cert),
            "--tls-key".into(),
            text(&self.server_key),
        ]
    }

    /// [`TlsFiles::server_args`] plus mutual TLS: clients need a certificate from the CA.
    pub fn mutual_server_args(&self) -> Vec<String> {
        let mut args = self.server_args();
        args.extend(["--tls-client-ca".into(), text(&self.ca)]);
        args
    }

    /// A TLS channel to `server`, trusting the CA, with a client certificate when given.
    pub async fn channel(
        &self,
        server: &Server,
        client: Option<(&Path, &Path)>,
    ) -> Result<Channel, tonic::transport::Error> {
        let mut tls = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(read(&self.ca)));
        if let Some((cert, key)) = client {
            tls = tls.identity(Identity::from_pem(read(cert), read(key)));
        }
        Endpoint::from_shared(https_url(server))
            .expect("valid URL")
            .connect_timeout(std::time::Duration::from_secs(10))
            .tls_config(tls)?
            .connect()
            .await
    }
}

/// The server's `https://` URL on loopback (its certificate names `127.0.0.1`).
pub fn https_url(server: &Server) -> String {
    format!("https://127.0.0.1:{}", server.address.port())
}

/// Sets a file's permission bits.
pub fn set_mode(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// A path as an argument.
pub fn text(path: &Path) -> String {
    path.to_str().expect("temporary paths are UTF-8").to_owned()
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).expect("a test certificate file")
}
