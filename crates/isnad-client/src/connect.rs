//! How a client reaches a server: TLS (rustls) for `https://` URLs, plain text for `http://`
//! URLs on loopback only, unless the caller says it accepts an insecure connection.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Identity};

/// How long a TLS handshake with the server may take.
pub const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Bytes of a certificate file (PEM) read at most.
pub const CERTIFICATE_FILE_BYTES_MAX: u64 = 1024 * 1024;

/// How to connect, beyond the URL.
#[derive(Debug, Clone, Default)]
pub struct ConnectOptions {
    /// CA certificates (PEM) the server's certificate must chain to. Without them, an
    /// `https://` server is checked against the public web's roots (Mozilla's list, built in).
    pub ca_pem: Option<Vec<u8>>,
    /// A client certificate chain and its private key (PEM), for servers that require mutual
    /// TLS.
    pub identity: Option<ClientIdentity>,
    /// Allow plain text (`http://`) to a host that is not loopback: anyone on the way can read
    /// and alter the traffic. The answers' proofs still hold; their privacy does not.
    pub insecure: bool,
}

/// A client certificate and its private key, in PEM.
#[derive(Clone)]
pub struct ClientIdentity {
    /// The certificate chain, leaf first.
    pub cert_pem: Vec<u8>,
    /// The private key.
    pub key_pem: zeroize::Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for ClientIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key.
        f.debug_struct("ClientIdentity")
            .field("cert_pem_len", &self.cert_pem.len())
            .finish_non_exhaustive()
    }
}

/// Why the connection options cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// A file cannot be read.
    #[error("{path}: {error}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        error: std::io::Error,
    },
    /// A certificate file is too long to be one, or holds no PEM certificate.
    #[error("{path}: not a PEM certificate file ({problem})")]
    NotCertificate {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problem: &'static str,
    },
    /// The private key file cannot be read, or others may read it.
    #[error(transparent)]
    Key(#[from] isnad_keys::KeyFileError),
    /// Plain text to a host that is not loopback, without `insecure`.
    #[error(
        "refusing plain text (http://) to {host}, which is not a loopback address: anyone on the \
         way could read and alter the traffic; use https:// (with --tls-ca for a private CA), or \
         --insecure to accept that"
    )]
    PlaintextNotLoopback {
        /// The host of the URL.
        host: String,
    },
    /// A client certificate with a plain-text URL, where it would never be presented.
    #[error("a client certificate needs an https:// server URL")]
    IdentityWithoutTls,
    /// A URL scheme other than `http` and `https`.
    #[error("unknown URL scheme {scheme:?}: use https:// (or http:// on loopback)")]
    Scheme {
        /// The scheme given.
        scheme: String,
    },
    /// tonic refused the TLS configuration.
    #[error("TLS configuration: {0}")]
    Tls(tonic::transport::Error),
}

impl ConnectOptions {
    /// Options read from files: the CA certificates, and a client certificate with its key
    /// (refused when group or others may read the key, as every key file is).
    pub fn from_files(
        ca: Option<&Path>,
        identity: Option<(&Path, &Path)>,
        insecure: bool,
    ) -> Result<ConnectOptions, ConnectError> {
        let ca_pem = ca.map(read_certificates).transpose()?;
        let identity = match identity {
            None => None,
            Some((cert, key)) => Some(ClientIdentity {
                cert_pem: read_certificates(cert)?,
                key_pem: isnad_keys::read_secret_file(key)?,
            }),
        };
        Ok(ConnectOptions {
            ca_pem,
            identity,
            insecure,
        })
    }

    /// `endpoint` (made from `url`) set up as these options say: TLS for `https`, plain text
    /// for `http` to loopback (or anywhere with `insecure`).
    pub(crate) fn apply(&self, endpoint: Endpoint) -> Result<Endpoint, ConnectError> {
        let uri = endpoint.uri().clone();
        let host = uri.host().unwrap_or_default();
        match uri.scheme_str().unwrap_or_default() {
            "https" => {
                let mut tls = ClientTlsConfig::new().timeout(TLS_HANDSHAKE_TIMEOUT);
                tls = match &self.ca_pem {
                    Some(pem) => tls.ca_certificate(Certificate::from_pem(pem)),
                    None => tls.with_webpki_roots(),
                };
                if let Some(identity) = &self.identity {
                    tls = tls.identity(Identity::from_pem(
                        &identity.cert_pem,
                        identity.key_pem.as_slice(),
                    ));
                }
                endpoint.tls_config(tls).map_err(ConnectError::Tls)
            }
            "http" => {
                if self.identity.is_some() {
                    return Err(ConnectError::IdentityWithoutTls);
                }
                if !self.insecure && !is_loopback(host) {
                    return Err(ConnectError::PlaintextNotLoopback {
                        host: host.to_owned(),
                    });
                }
                Ok(endpoint)
            }
            scheme => Err(ConnectError::Scheme {
                scheme: scheme.to_owned(),
            }),
        }
    }
}

/// Whether `host` (a URL's host: a name, an IPv4 address or a bracketed IPv6 address) is
/// loopback: `localhost` or an address in 127.0.0.0/8 or `::1`.
pub fn is_loopback(host: &str) -> bool {
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if bare.eq_ignore_ascii_case("localhost") {
        return true;
    }
    bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn read_certificates(path: &Path) -> Result<Vec<u8>, ConnectError> {
    let read = |error| ConnectError::Read {
        path: path.to_owned(),
        error,
    };
    let not = |problem| ConnectError::NotCertificate {
        path: path.to_owned(),
        problem,
    };
    if std::fs::metadata(path).map_err(read)?.len() > CERTIFICATE_FILE_BYTES_MAX {
        return Err(not("too long"));
    }
    let bytes = std::fs::read(path).map_err(read)?;
    let text = String::from_utf8_lossy(&bytes);
    if !text
        .lines()
        .any(|line| line.trim() == "-----BEGIN CERTIFICATE-----")
    {
        return Err(not("no BEGIN CERTIFICATE block"));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(url: &str, insecure: bool, allowed: bool) {
        let endpoint = Endpoint::from_shared(url.to_owned()).expect("a valid URL");
        let options = ConnectOptions {
            insecure,
            ..ConnectOptions::default()
        };
        let applied = options.apply(endpoint);
        assert_eq!(
            applied.is_ok(),
            allowed,
            "{url} insecure={insecure}: {applied:?}"
        );
    }

    #[test]
    fn plain_text_only_to_loopback_unless_insecure() {
        check("http://127.0.0.1:50051", false, true);
        check("http://127.1.2.3:50051", false, true);
        check("http://localhost:50051", false, true);
        check("http://[::1]:50051", false, true);
        check("http://192.0.2.7:50051", false, false);
        check("http://ledger.example:50051", false, false);
        check("http://0.0.0.0:50051", false, false);
        check("http://192.0.2.7:50051", true, true);
        check("https://ledger.example:443", false, true);
        check("ftp://ledger.example", true, false);
    }

    #[test]
    fn a_client_certificate_needs_tls() {
        let options = ConnectOptions {
            identity: Some(ClientIdentity {
                cert_pem: Vec::new(),
                key_pem: zeroize::Zeroizing::new(Vec::new()),
            }),
            ..ConnectOptions::default()
        };
        let endpoint = Endpoint::from_static("http://127.0.0.1:50051");
        assert!(matches!(
            options.apply(endpoint),
            Err(ConnectError::IdentityWithoutTls)
        ));
    }
}
