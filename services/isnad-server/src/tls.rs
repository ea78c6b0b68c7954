//! TLS for the gRPC server (rustls, with the `ring` provider), and the rule that plain text is
//! served on loopback only.
//!
//! tonic applies TLS to the connections of [`transport::incoming`](crate::transport::incoming)
//! itself: each accepted connection (holding its place among the open connections) is handed to
//! a handshake task, and only a finished handshake reaches HTTP/2. A handshake therefore holds
//! a connection slot while it runs, so it is bounded by [`TLS_HANDSHAKE_TIMEOUT`]: a client
//! that opens a socket and says nothing, or trickles its hello, is dropped then and its slot
//! freed.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tonic::transport::{Certificate, Identity, ServerTlsConfig};

/// How long a TLS handshake may take, from the accepted socket to the finished handshake;
/// beyond it the connection is closed. Generous for a handheld on a slow mobile network (a
/// handshake is two round trips), short enough that idle half-open handshakes cannot hold the
/// connection slots for long.
pub const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Bytes of a certificate file (PEM) read at most: a chain of a few certificates is a few KiB.
pub const CERTIFICATE_FILE_BYTES_MAX: u64 = 1024 * 1024;

/// The files the server's TLS is made of, as the operator names them.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// The server's certificate chain (PEM), leaf first.
    pub cert: PathBuf,
    /// The server's private key (PEM, PKCS#8, PKCS#1 or SEC1), readable by its owner only.
    pub key: PathBuf,
    /// When set, mutual TLS: the CA certificates (PEM) client certificates must chain to.
    pub client_ca: Option<PathBuf>,
    /// With `client_ca`: whether a client may also connect without a certificate (one it does
    /// present must still chain to `client_ca`). Without it a certificate is required.
    pub client_cert_optional: bool,
}

/// Why the TLS configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A certificate file cannot be read.
    #[error("{path}: {error}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        error: std::io::Error,
    },
    /// A certificate file is longer than [`CERTIFICATE_FILE_BYTES_MAX`].
    #[error("{path}: longer than {CERTIFICATE_FILE_BYTES_MAX} bytes; not a certificate file")]
    TooLong {
        /// The file.
        path: PathBuf,
    },
    /// A file holds no PEM block of the kind expected.
    #[error("{path}: no PEM {kind} found")]
    NoPem {
        /// The file.
        path: PathBuf,
        /// What was looked for.
        kind: &'static str,
    },
    /// The private key file cannot be read, or others may read it.
    #[error(transparent)]
    Key(#[from] isnad_keys::KeyFileError),
    /// rustls refused the certificate and key (a key that does not match the certificate, an
    /// unsupported key type, an unusable client CA).
    #[error("the TLS certificate, key or client CA is not usable: {0}")]
    Config(String),
}

/// Reads the TLS files into tonic's server configuration. The key file is refused when group
/// or others may read it, as the log's key is.
pub fn load(files: &TlsFiles) -> Result<ServerTlsConfig, TlsError> {
    let cert = read_pem(&files.cert, "CERTIFICATE")?;
    let key = isnad_keys::read_secret_file(&files.key)?;
    if !contains_pem(&key, "PRIVATE KEY") {
        return Err(TlsError::NoPem {
            path: files.key.clone(),
            kind: "PRIVATE KEY",
        });
    }
    let mut config = ServerTlsConfig::new()
        .identity(Identity::from_pem(cert, key.as_slice()))
        .timeout(TLS_HANDSHAKE_TIMEOUT);
    if let Some(client_ca) = &files.client_ca {
        config = config
            .client_ca_root(Certificate::from_pem(read_pem(client_ca, "CERTIFICATE")?))
            .client_auth_optional(files.client_cert_optional);
    }
    Ok(config)
}

/// A server builder with `tls` applied, when there is one: tonic checks the certificate and
/// key here, so a bad pair stops the server before it says it listens.
pub fn builder(tls: Option<&ServerTlsConfig>) -> Result<tonic::transport::Server, TlsError> {
    let builder = tonic::transport::Server::builder();
    match tls {
        None => Ok(builder),
        Some(tls) => builder
            .tls_config(tls.clone())
            .map_err(|error| TlsError::Config(error_chain(&error))),
    }
}

/// Refuses to serve plain text on an address that is not loopback, unless the operator said
/// `--insecure-plaintext`; then it warns. Anyone on the network could read every answer (the
/// custody flows partners keep from their competitors) and alter it in flight.
pub fn check_plaintext(
    address: SocketAddr,
    tls: bool,
    insecure_plaintext: bool,
) -> anyhow::Result<()> {
    if tls || address.ip().is_loopback() {
        return Ok(());
    }
    if !insecure_plaintext {
        anyhow::bail!(
            "refusing to serve plain text on {address}, which is not a loopback address: give \
             --tls-cert and --tls-key, or --insecure-plaintext to let anyone on the network read \
             and alter the traffic"
        );
    }
    tracing::warn!(
        %address,
        "serving PLAIN TEXT on a non-loopback address (--insecure-plaintext): anyone on the \
         network can read and alter the traffic"
    );
    Ok(())
}

fn read_pem(path: &Path, kind: &'static str) -> Result<Vec<u8>, TlsError> {
    let read = |error| TlsError::Read {
        path: path.to_owned(),
        error,
    };
    let length = std::fs::metadata(path).map_err(read)?.len();
    if length > CERTIFICATE_FILE_BYTES_MAX {
        return Err(TlsError::TooLong {
            path: path.to_owned(),
        });
    }
    let bytes = std::fs::read(path).map_err(read)?;
    if !contains_pem(&bytes, kind) {
        return Err(TlsError::NoPem {
            path: path.to_owned(),
            kind,
        });
    }
    Ok(bytes)
}

/// Whether `bytes` hold a PEM block whose label ends with `kind` (`PRIVATE KEY` matches the
/// PKCS#8, `RSA` and `EC` labels).
fn contains_pem(bytes: &[u8], kind: &str) -> bool {
    let text = String::from_utf8_lossy(bytes);
    text.lines().any(|line| {
        line.trim()
            .strip_prefix("-----BEGIN ")
            .and_then(|rest| rest.strip_suffix("-----"))
            .is_some_and(|label| label.ends_with(kind))
    })
}

/// An error and its sources on one line: rustls' reason is in the source.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(address: &str, tls: bool, insecure: bool, allowed: bool) {
        let address: SocketAddr = address.parse().expect("an address");
        assert_eq!(
            check_plaintext(address, tls, insecure).is_ok(),
            allowed,
            "{address} tls={tls} insecure={insecure}"
        );
    }

    #[test]
    fn plain_text_only_on_loopback_or_when_said_insecure() {
        check("127.0.0.1:50051", false, false, true);
        check("127.9.9.9:50051", false, false, true);
        check("[::1]:50051", false, false, true);
        check("0.0.0.0:50051", false, false, false);
        check("[::]:50051", false, false, false);
        check("192.0.2.7:50051", false, false, false);
        check("0.0.0.0:50051", true, false, true);
        check("0.0.0.0:50051", false, true, true);
    }

    #[test]
    fn pem_labels() {
        assert!(contains_pem(
            b"-----BEGIN PRIVATE KEY-----\nAA\n",
            "PRIVATE KEY"
        ));
        assert!(contains_pem(
            b"x\n-----BEGIN EC PRIVATE KEY-----\n",
            "PRIVATE KEY"
        ));
        assert!(contains_pem(
            b"-----BEGIN CERTIFICATE-----\r\n",
            "CERTIFICATE"
        ));
        assert!(!contains_pem(
            b"-----BEGIN CERTIFICATE-----\n",
            "PRIVATE KEY"
        ));
        assert!(!contains_pem(b"PRIVATE+KEY+log+00+AA", "PRIVATE KEY"));
    }
}
