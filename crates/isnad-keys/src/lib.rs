//! Ed25519 key files: generated from the operating system's randomness, written with mode 0600,
//! never printed.
//!
//! The format is the C2SP signed-note private key line, so that the same file works with the
//! Go `golang.org/x/mod/sumdb/note` tools:
//!
//! ```text
//! PRIVATE+KEY+<name>+<key id, 8 hex digits>+<base64(0x01 || 32-byte seed)>
//! ```

use std::fs::{self, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::SigningKey;
use zeroize::Zeroizing;

/// The algorithm byte of Ed25519 in C2SP signed notes.
const ALGORITHM_ED25519: u8 = 0x01;

/// The mode of every private key file: read and write for the owner only.
pub const PRIVATE_KEY_MODE: u32 = 0o600;

/// Bytes of a secret file read at most: a PEM private key (RSA 4096 included) is a few KiB.
pub const SECRET_FILE_BYTES_MAX: u64 = 64 * 1024;

/// Why a key file could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    /// The file could not be created, read or written.
    #[error("{path}: {error}")]
    Io {
        /// The key file.
        path: PathBuf,
        /// The operating system's error.
        error: std::io::Error,
    },
    /// The file exists already; keys are never overwritten.
    #[error("{path}: already exists; refusing to overwrite a key")]
    Exists {
        /// The key file.
        path: PathBuf,
    },
    /// Group or others may read the file.
    #[error("{path}: mode {mode:o} lets others read a private key; run `chmod 600` on it")]
    Permissions {
        /// The key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The file is not a private key line.
    #[error("{path}: not an isnad private key file ({problem})")]
    Format {
        /// The key file.
        path: PathBuf,
        /// What is wrong.
        problem: &'static str,
    },
    /// The operating system's random source failed.
    #[error("no randomness from the operating system: {0}")]
    Random(String),
}

/// A named signing key, as kept in a key file.
#[derive(Debug)]
pub struct NamedKey {
    /// The key's name (a party label, or the log's origin).
    pub name: String,
    /// The Ed25519 signing key.
    pub key: SigningKey,
}

/// A new signing key from the operating system's randomness.
pub fn generate() -> Result<SigningKey, KeyFileError> {
    let mut seed = Zeroizing::new([0u8; 32]);
    getrandom::fill(seed.as_mut_slice()).map_err(|e| KeyFileError::Random(e.to_string()))?;
    Ok(SigningKey::from_bytes(&seed))
}

/// Writes `key` to a new file at `path` with mode 0600. Refuses to overwrite.
pub fn write_private_key(path: &Path, name: &str, key: &SigningKey) -> Result<(), KeyFileError> {
    let io = |error| KeyFileError::Io {
        path: path.to_owned(),
        error,
    };
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(PRIVATE_KEY_MODE)
        .open(path)
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                KeyFileError::Exists {
                    path: path.to_owned(),
                }
            } else {
                io(e)
            }
        })?;
    let line = Zeroizing::new(private_key_line(name, key));
    file.write_all(line.as_bytes()).map_err(io)?;
    file.sync_all().map_err(io)?;
    Ok(())
}

/// Reads a private key file, refusing one that group or others can read.
pub fn read_private_key(path: &Path) -> Result<NamedKey, KeyFileError> {
    let bytes = read_secret_file(path)?;
    let text = std::str::from_utf8(&bytes).map_err(|_| KeyFileError::Format {
        path: path.to_owned(),
        problem: "not UTF-8 text",
    })?;
    parse_private_key_line(text.trim()).map_err(|problem| KeyFileError::Format {
        path: path.to_owned(),
        problem,
    })
}

/// Reads a file that holds a secret (any private key: an Ed25519 key file, a TLS key in PEM),
/// refusing one that group or others can read. The mode is read from the opened file, so the
/// file checked is the file read.
pub fn read_secret_file(path: &Path) -> Result<Zeroizing<Vec<u8>>, KeyFileError> {
    let io = |error| KeyFileError::Io {
        path: path.to_owned(),
        error,
    };
    let file = fs::File::open(path).map_err(io)?;
    let metadata = file.metadata().map_err(io)?;
    let mode = metadata.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(KeyFileError::Permissions {
            path: path.to_owned(),
            mode,
        });
    }
    if metadata.len() > SECRET_FILE_BYTES_MAX {
        return Err(KeyFileError::Format {
            path: path.to_owned(),
            problem: "longer than any private key file",
        });
    }
    // Sized up front, so that no copy of the secret is left behind by a reallocation.
    let mut bytes = Zeroizing::new(Vec::with_capacity(SECRET_FILE_BYTES_MAX as usize + 1));
    file.take(SECRET_FILE_BYTES_MAX + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > SECRET_FILE_BYTES_MAX {
        return Err(KeyFileError::Format {
            path: path.to_owned(),
            problem: "longer than any private key file",
        });
    }
    Ok(bytes)
}

/// The C2SP private key line of `key`.
pub fn private_key_line(name: &str, key: &SigningKey) -> String {
    let mut material = Zeroizing::new(Vec::with_capacity(33));
    material.push(ALGORITHM_ED25519);
    material.extend_from_slice(key.as_bytes());
    let id = isnad_log::checkpoint::key_id(name, &key.verifying_key());
    format!(
        "PRIVATE+KEY+{name}+{}+{}\n",
        hex::encode(id),
        STANDARD.encode(material.as_slice())
    )
}

/// Parses a C2SP private key line.
pub fn parse_private_key_line(line: &str) -> Result<NamedKey, &'static str> {
    let rest = line
        .strip_prefix("PRIVATE+KEY+")
        .ok_or("missing PRIVATE+KEY+ prefix")?;
    // Standard base64 uses '+' itself: split off the name and the id only.
    let mut parts = rest.splitn(3, '+');
    let name = parts.next().ok_or("missing name")?;
    let id_hex = parts.next().ok_or("missing key id")?;
    let material = parts.next().ok_or("missing key material")?;
    let material = Zeroizing::new(
        STANDARD
            .decode(material)
            .map_err(|_| "key material is not base64")?,
    );
    if material.len() != 33 || material[0] != ALGORITHM_ED25519 {
        return Err("key material is not an Ed25519 seed");
    }
    let seed: [u8; 32] = material[1..].try_into().map_err(|_| "seed length")?;
    let key = SigningKey::from_bytes(&seed);
    let id = isnad_log::checkpoint::key_id(name, &key.verifying_key());
    if hex::encode(id) != id_hex {
        return Err("key id does not match the key");
    }
    Ok(NamedKey {
        name: name.to_owned(),
        key,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_key_reads_back_with_mode_0600() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("key");
        let key = generate().expect("random key");
        write_private_key(&path, "pharma", &key).expect("write");
        let mode = fs::metadata(&path).expect("stat").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let back = read_private_key(&path).expect("read");
        assert_eq!(back.key.to_bytes(), key.to_bytes());
        assert_eq!(back.name, "pharma");
        let again = write_private_key(&path, "pharma", &key);
        assert!(
            matches!(again, Err(KeyFileError::Exists { .. })),
            "{again:?}"
        );
    }

    #[test]
    fn readable_by_others_is_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("key");
        write_private_key(&path, "x", &generate().expect("key")).expect("write");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).expect("chmod");
        let err = read_private_key(&path).expect_err("must refuse");
        assert!(
            matches!(err, KeyFileError::Permissions { mode: 0o644, .. }),
            "{err}"
        );
    }

    #[test]
    fn a_secret_file_readable_by_group_is_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("tls.key");
        fs::write(&path, b"-----BEGIN PRIVATE KEY-----").expect("write");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).expect("chmod");
        let err = read_secret_file(&path).expect_err("must refuse");
        assert!(
            matches!(err, KeyFileError::Permissions { mode: 0o640, .. }),
            "{err}"
        );
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).expect("chmod");
        assert_eq!(
            read_secret_file(&path).expect("owner only").as_slice(),
            b"-----BEGIN PRIVATE KEY-----"
        );
    }

    #[test]
    fn tampered_lines_are_refused() {
        let key = SigningKey::from_bytes(&[3; 32]);
        let line = private_key_line("log", &key);
        assert!(parse_private_key_line(line.trim()).is_ok());
        let wrong_name = line.replacen("+log+", "+other+", 1);
        assert_eq!(
            parse_private_key_line(wrong_name.trim()).err(),
            Some("key id does not match the key")
        );
        assert!(parse_private_key_line("PUBLIC+KEY").is_err());
    }
}
