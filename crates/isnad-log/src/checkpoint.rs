//! Checkpoints: C2SP tlog-checkpoint bodies, signed and verified as C2SP signed notes with
//! Ed25519 keys.
//!
//! A note is its body text, a blank line, and one line per signature:
//! `— <key name> <base64(key id || signature)>`. The key id is the first four bytes of
//! `SHA-256(name || 0x0A || 0x01 || public key)`; a verifier key is written
//! `<name>+<key id as 8 hex digits>+<base64(0x01 || public key)>`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::hash::{Hash, TreeSize};

/// Bytes in a note at most; longer input is refused before any parsing.
pub const NOTE_LEN_MAX: usize = 64 * 1024;

/// Signature lines in a note at most.
pub const SIGNATURES_MAX: usize = 100;

/// Extension lines in a checkpoint body at most.
pub const EXTENSIONS_MAX: usize = 16;

/// Signature algorithm byte of Ed25519 in C2SP signed notes.
const ALGORITHM_ED25519: u8 = 0x01;

/// Starts every signature line: an em dash and a space.
const SIGNATURE_LINE_PREFIX: &str = "\u{2014} ";

/// Length of a key id.
const KEY_ID_LEN: usize = 4;

/// A C2SP signed-note key id: the first bytes of the hash of a key's name and public key.
pub type KeyId = [u8; KEY_ID_LEN];

/// Why a checkpoint, note or verifier key was refused.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum NoteError {
    /// The note is longer than [`NOTE_LEN_MAX`].
    #[error("note is {0} bytes, more than the limit")]
    TooLong(usize),
    /// The text is not a signed note: no blank line before signatures, or no final newline.
    #[error("malformed note: {0}")]
    MalformedNote(&'static str),
    /// A signature line does not follow `— name base64`.
    #[error("malformed signature line {line}: {reason}")]
    MalformedSignature {
        /// Line number among the signature lines, from 1.
        line: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The note carries more than [`SIGNATURES_MAX`] signatures.
    #[error("note carries more than {SIGNATURES_MAX} signatures")]
    TooManySignatures,
    /// The checkpoint body does not follow the tlog-checkpoint format.
    #[error("malformed checkpoint: {0}")]
    MalformedCheckpoint(&'static str),
    /// A key name is empty or contains a space or `+`.
    #[error("invalid key name")]
    InvalidKeyName,
    /// The verifier key string is malformed or its key id does not match its key.
    #[error("malformed verifier key: {0}")]
    MalformedVerifierKey(&'static str),
    /// A signature from a known key does not verify: the note was altered or forged.
    #[error("invalid signature from key {0}")]
    InvalidSignature(String),
    /// No signature comes from a key the verifier knows.
    #[error("no signature from a known key")]
    NoKnownSignature,
}

/// The statement a log signs: its identity, a tree size and the root of that tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// Names the log; by convention the same as its key name.
    pub origin: String,
    /// Number of leaves in the tree.
    pub size: TreeSize,
    /// Root hash of the tree of `size` leaves.
    pub root: Hash,
    /// Optional extra lines, each non-empty, signed with the rest.
    pub extensions: Vec<String>,
}

impl Checkpoint {
    /// The checkpoint's note body: origin, decimal size, base64 root and extensions, each on a
    /// line ending in a newline.
    pub fn body(&self) -> String {
        let mut body = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size.0,
            BASE64.encode(self.root)
        );
        for extension in &self.extensions {
            body.push_str(extension);
            body.push('\n');
        }
        body
    }

    /// Parses a note body, refusing anything [`Checkpoint::body`] would not have written.
    pub fn parse(body: &str) -> Result<Checkpoint, NoteError> {
        let malformed = NoteError::MalformedCheckpoint;
        let text = body
            .strip_suffix('\n')
            .ok_or(malformed("no final newline"))?;
        let mut lines = text.split('\n');
        let origin = lines
            .next()
            .filter(|line| is_valid_line(line))
            .ok_or(malformed("origin"))?;
        let size = lines
            .next()
            .and_then(parse_decimal)
            .ok_or(malformed("tree size"))?;
        let root = lines
            .next()
            .and_then(parse_root)
            .ok_or(malformed("root hash"))?;
        let extensions: Vec<String> = lines.map(str::to_owned).collect();
        if extensions.len() > EXTENSIONS_MAX {
            return Err(malformed("too many extension lines"));
        }
        if !extensions.iter().all(|line| is_valid_line(line)) {
            return Err(malformed("empty or invalid extension line"));
        }
        Ok(Checkpoint {
            origin: origin.to_owned(),
            size: TreeSize(size),
            root,
            extensions,
        })
    }

    /// Parses the checkpoint of a signed note without checking any signature: for notes read
    /// back from the log's own storage, never for notes from elsewhere.
    pub fn from_note_unverified(note: &str) -> Result<Checkpoint, NoteError> {
        let (body, _) = split_note(note)?;
        Checkpoint::parse(body)
    }
}

/// Signs checkpoints with the log's Ed25519 key.
#[derive(Debug)]
pub struct NoteSigner {
    name: String,
    key: SigningKey,
    key_id: KeyId,
}

impl NoteSigner {
    /// A signer for key `name`, which must be non-empty and free of spaces and `+`.
    pub fn new(name: &str, key: SigningKey) -> Result<NoteSigner, NoteError> {
        check_key_name(name)?;
        let key_id = key_id(name, &key.verifying_key());
        Ok(NoteSigner {
            name: name.to_owned(),
            key,
            key_id,
        })
    }

    /// The key name, which is also the origin of the checkpoints this log signs.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The verifier key string that checks this signer's notes.
    pub fn vkey(&self) -> String {
        vkey(&self.name, &self.key.verifying_key())
    }

    /// Signs `checkpoint` and returns the whole note. Ed25519 signatures are deterministic, so
    /// the same checkpoint always gives the same note.
    pub fn sign(&self, checkpoint: &Checkpoint) -> String {
        self.sign_body(&checkpoint.body())
    }

    /// Signs any note body; kept private so that this log only ever signs checkpoints.
    fn sign_body(&self, body: &str) -> String {
        let signature = self.key.sign(body.as_bytes());
        let mut blob = Vec::with_capacity(KEY_ID_LEN + 64);
        blob.extend_from_slice(&self.key_id);
        blob.extend_from_slice(&signature.to_bytes());
        format!(
            "{body}\n{SIGNATURE_LINE_PREFIX}{} {}\n",
            self.name,
            BASE64.encode(blob)
        )
    }
}

/// Verifies signed notes against a set of known keys.
#[derive(Clone, Debug)]
pub struct NoteVerifier {
    keys: Vec<KnownKey>,
}

#[derive(Clone, Debug)]
struct KnownKey {
    name: String,
    key_id: KeyId,
    key: VerifyingKey,
}

impl NoteVerifier {
    /// A verifier that knows the single key written as `vkey`.
    pub fn from_vkey(vkey: &str) -> Result<NoteVerifier, NoteError> {
        NoteVerifier::from_vkeys(&[vkey])
    }

    /// A verifier that knows every key in `vkeys`.
    pub fn from_vkeys(vkeys: &[&str]) -> Result<NoteVerifier, NoteError> {
        let keys = vkeys
            .iter()
            .map(|vkey| parse_vkey(vkey))
            .collect::<Result<_, _>>()?;
        Ok(NoteVerifier { keys })
    }

    /// Checks that `note` carries a valid signature from at least one known key and returns its
    /// checkpoint. Signatures from unknown keys are ignored; a bad signature from a known key
    /// fails the whole note. The caller still decides whether the origin is the log it expects.
    pub fn verify(&self, note: &str) -> Result<Checkpoint, NoteError> {
        self.verified_body(note).and_then(Checkpoint::parse)
    }

    /// Returns the body of `note` once a known key's signature over it has verified.
    fn verified_body<'a>(&self, note: &'a str) -> Result<&'a str, NoteError> {
        let (body, signatures) = split_note(note)?;
        let mut verified = false;
        for (name, key_id, signature) in &signatures {
            let Some(known) = self
                .keys
                .iter()
                .find(|k| k.name == *name && k.key_id == *key_id)
            else {
                continue;
            };
            let signature = <[u8; 64]>::try_from(signature.as_slice())
                .map(|bytes| Signature::from_bytes(&bytes))
                .map_err(|_| NoteError::InvalidSignature(name.clone()))?;
            known
                .key
                .verify_strict(body.as_bytes(), &signature)
                .map_err(|_| NoteError::InvalidSignature(name.clone()))?;
            verified = true;
        }
        if verified {
            Ok(body)
        } else {
            Err(NoteError::NoKnownSignature)
        }
    }
}

/// Writes the verifier key string of `key` under `name`:
/// `name+<key id in hex>+<base64(0x01 || key)>`.
pub fn vkey(name: &str, key: &VerifyingKey) -> String {
    let mut encoded = vec![ALGORITHM_ED25519];
    encoded.extend_from_slice(key.as_bytes());
    format!(
        "{name}+{}+{}",
        hex_lower(&key_id(name, key)),
        BASE64.encode(encoded)
    )
}

fn parse_vkey(vkey: &str) -> Result<KnownKey, NoteError> {
    let malformed = NoteError::MalformedVerifierKey;
    // Standard base64 uses '+' itself: split off the name and the id only, as Go's note does.
    let mut parts = vkey.splitn(3, '+');
    let (Some(name), Some(id_hex), Some(key_base64)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(malformed("expected name+id+key"));
    };
    check_key_name(name)?;
    let key_bytes = BASE64
        .decode(key_base64)
        .map_err(|_| malformed("key is not base64"))?;
    let (algorithm, key_bytes) = key_bytes.split_first().ok_or(malformed("empty key"))?;
    if *algorithm != ALGORITHM_ED25519 {
        return Err(malformed("not an Ed25519 key"));
    }
    let key_bytes: [u8; 32] = key_bytes.try_into().map_err(|_| malformed("key length"))?;
    let key = VerifyingKey::from_bytes(&key_bytes).map_err(|_| malformed("invalid key"))?;
    let key_id = key_id(name, &key);
    if id_hex != hex_lower(&key_id) {
        return Err(malformed("key id does not match the key"));
    }
    Ok(KnownKey {
        name: name.to_owned(),
        key_id,
        key,
    })
}

/// A signature line, parsed: key name, key id and signature bytes.
type SignatureLine = (String, KeyId, Vec<u8>);

/// Splits a note into its body (with its final newline) and its parsed signature lines.
fn split_note(note: &str) -> Result<(&str, Vec<SignatureLine>), NoteError> {
    if note.len() > NOTE_LEN_MAX {
        return Err(NoteError::TooLong(note.len()));
    }
    if !note.ends_with('\n') {
        return Err(NoteError::MalformedNote("no final newline"));
    }
    let split = note
        .rfind("\n\n")
        .ok_or(NoteError::MalformedNote("no blank line"))?;
    let (body, signature_text) = (&note[..split + 1], &note[split + 2..]);
    let lines: Vec<&str> = signature_text
        .strip_suffix('\n')
        .ok_or(NoteError::MalformedNote("no signatures"))?
        .split('\n')
        .collect();
    if lines.len() > SIGNATURES_MAX {
        return Err(NoteError::TooManySignatures);
    }
    let signatures = lines
        .iter()
        .enumerate()
        .map(|(number, line)| parse_signature_line(line, number + 1))
        .collect::<Result<_, _>>()?;
    Ok((body, signatures))
}

fn parse_signature_line(line: &str, number: usize) -> Result<SignatureLine, NoteError> {
    let malformed = |reason| NoteError::MalformedSignature {
        line: number,
        reason,
    };
    let rest = line
        .strip_prefix(SIGNATURE_LINE_PREFIX)
        .ok_or(malformed("no em dash"))?;
    let (name, encoded) = rest
        .split_once(' ')
        .ok_or(malformed("no space after the name"))?;
    check_key_name(name).map_err(|_| malformed("invalid key name"))?;
    let blob = BASE64
        .decode(encoded)
        .map_err(|_| malformed("signature is not base64"))?;
    if blob.len() <= KEY_ID_LEN {
        return Err(malformed("signature too short"));
    }
    let (key_id, signature) = blob.split_at(KEY_ID_LEN);
    let key_id = key_id.try_into().expect("split at the key id length");
    Ok((name.to_owned(), key_id, signature.to_vec()))
}

/// The C2SP key id: the first 4 bytes of SHA-256(name || 0x0A || 0x01 || public key).
pub fn key_id(name: &str, key: &VerifyingKey) -> KeyId {
    let mut hasher = Sha256::new();
    hasher.update(name.as_bytes());
    hasher.update([b'\n', ALGORITHM_ED25519]);
    hasher.update(key.as_bytes());
    let digest = hasher.finalize();
    digest[..KEY_ID_LEN]
        .try_into()
        .expect("SHA-256 is longer than a key id")
}

fn check_key_name(name: &str) -> Result<(), NoteError> {
    let valid = !name.is_empty()
        && !name.contains('+')
        && !name.chars().any(|c| c.is_whitespace() || c.is_control());
    if valid {
        Ok(())
    } else {
        Err(NoteError::InvalidKeyName)
    }
}

/// A body line must be non-empty and free of control characters.
fn is_valid_line(line: &str) -> bool {
    !line.is_empty() && !line.chars().any(char::is_control)
}

/// Parses an ASCII decimal with no sign and no leading zero.
fn parse_decimal(text: &str) -> Option<u64> {
    let canonical = !text.is_empty()
        && text.bytes().all(|byte| byte.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    if canonical { text.parse().ok() } else { None }
}

/// Parses a base64 root hash, accepting only the canonical padded encoding of 32 bytes.
fn parse_root(text: &str) -> Option<Hash> {
    let bytes = BASE64.decode(text).ok()?;
    let root: Hash = bytes.try_into().ok()?;
    (BASE64.encode(root) == text).then_some(root)
}

fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The signer and verifier keys of the example in Go's `golang.org/x/mod/sumdb/note`.
    const GO_SIGNER_KEY: &str = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
    const GO_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    const GO_TEXT: &str = "If you think cryptography is the answer to your problem,\n\
                           then you don't know what your problem is.\n";
    const GO_SIGNATURE_LINE: &str = "\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

    fn go_signer() -> NoteSigner {
        let decoded = BASE64.decode(GO_SIGNER_KEY).expect("test key is base64");
        let seed: [u8; 32] = decoded[1..]
            .try_into()
            .expect("test key holds a 32-byte seed");
        NoteSigner::new("PeterNeumann", SigningKey::from_bytes(&seed)).expect("valid name")
    }

    fn signer(name: &str, seed_byte: u8) -> NoteSigner {
        NoteSigner::new(name, SigningKey::from_bytes(&[seed_byte; 32])).expect("valid name")
    }

    fn checkpoint() -> Checkpoint {
        Checkpoint {
            origin: "isnad.example/log".to_owned(),
            size: TreeSize(12345),
            root: [7; 32],
            extensions: vec!["ext one".to_owned()],
        }
    }

    #[test]
    fn matches_the_go_signed_note_example() {
        let signer = go_signer();
        assert_eq!(signer.vkey(), GO_VKEY);
        let note = signer.sign_body(GO_TEXT);
        assert_eq!(note, format!("{GO_TEXT}\n{GO_SIGNATURE_LINE}"));
        let verifier = NoteVerifier::from_vkey(GO_VKEY).expect("the Go key parses");
        assert_eq!(verifier.verified_body(&note), Ok(GO_TEXT));
    }

    #[test]
    fn signed_checkpoint_verifies_with_the_vkey_alone() {
        let signer = signer("isnad.example/log", 1);
        let note = signer.sign(&checkpoint());
        let verifier = NoteVerifier::from_vkey(&signer.vkey()).expect("own vkey parses");
        assert_eq!(verifier.verify(&note), Ok(checkpoint()));
        assert_eq!(Checkpoint::from_note_unverified(&note), Ok(checkpoint()));
    }

    #[test]
    fn unknown_signatures_are_ignored_but_one_known_is_required() {
        let log = signer("isnad.example/log", 1);
        let witness = signer("witness.example", 2);
        let verifier = NoteVerifier::from_vkey(&log.vkey()).expect("own vkey parses");
        let by_log = log.sign(&checkpoint());
        let by_witness = witness.sign(&checkpoint());
        let witness_line = by_witness
            .rsplit_once("\n\n")
            .expect("a note has a blank line")
            .1;

        let cosigned = format!("{by_log}{witness_line}");
        assert_eq!(verifier.verify(&cosigned), Ok(checkpoint()));
        assert_eq!(
            verifier.verify(&by_witness),
            Err(NoteError::NoKnownSignature)
        );
        let both = NoteVerifier::from_vkeys(&[&witness.vkey(), &log.vkey()]).expect("vkeys parse");
        assert_eq!(both.verify(&by_witness), Ok(checkpoint()));
    }

    #[test]
    fn same_name_with_another_key_is_an_unknown_key() {
        let log = signer("isnad.example/log", 1);
        let impostor = signer("isnad.example/log", 3);
        let verifier = NoteVerifier::from_vkey(&log.vkey()).expect("own vkey parses");
        assert_eq!(
            verifier.verify(&impostor.sign(&checkpoint())),
            Err(NoteError::NoKnownSignature)
        );
    }

    #[track_caller]
    fn check_note(note: &str, expected: Result<Checkpoint, NoteError>) {
        let log = signer("isnad.example/log", 1);
        let verifier = NoteVerifier::from_vkey(&log.vkey()).expect("own vkey parses");
        assert_eq!(verifier.verify(note), expected, "note {note:?}");
    }

    #[test]
    fn altered_and_malformed_notes_are_refused() {
        let good = signer("isnad.example/log", 1).sign(&checkpoint());
        let (body, signature_line) = good.split_once("\n\n").expect("a note has a blank line");
        let forged_size = good.replacen("12345", "12346", 1);
        let log_name = "isnad.example/log";
        check_note(&good, Ok(checkpoint()));
        check_note(
            &forged_size,
            Err(NoteError::InvalidSignature(log_name.to_owned())),
        );
        check_note(
            &good[..good.len() - 1],
            Err(NoteError::MalformedNote("no final newline")),
        );
        check_note(
            &format!("{body}\n{signature_line}"),
            Err(NoteError::MalformedNote("no blank line")),
        );
        check_note(
            &format!("{body}\n\n"),
            Err(NoteError::MalformedNote("no signatures")),
        );
        let bad_line = |reason| Err(NoteError::MalformedSignature { line: 1, reason });
        check_note(
            &format!("{body}\n\n- {log_name} AAAAAAA=\n"),
            bad_line("no em dash"),
        );
        check_note(
            &format!("{body}\n\n\u{2014} {log_name}\n"),
            bad_line("no space after the name"),
        );
        check_note(
            &format!("{body}\n\n\u{2014} a+b AAAAAAA=\n"),
            bad_line("invalid key name"),
        );
        check_note(
            &format!("{body}\n\n\u{2014} {log_name} !!\n"),
            bad_line("signature is not base64"),
        );
        check_note(
            &format!("{body}\n\n\u{2014} {log_name} AAAAAA==\n"),
            bad_line("signature too short"),
        );
        let too_many = format!("{good}{}", signature_line.repeat(SIGNATURES_MAX));
        check_note(&too_many, Err(NoteError::TooManySignatures));
        let too_long = format!("{}{good}", "x".repeat(NOTE_LEN_MAX));
        check_note(&too_long, Err(NoteError::TooLong(too_long.len())));
    }

    #[track_caller]
    fn check_body(body: &str, expected: Result<(u64, usize), NoteError>) {
        let parsed = Checkpoint::parse(body).map(|c| (c.size.0, c.extensions.len()));
        assert_eq!(parsed, expected, "body {body:?}");
    }

    #[test]
    fn checkpoint_bodies_parse_only_in_canonical_form() {
        let root = BASE64.encode([7u8; 32]);
        let malformed = |reason| Err(NoteError::MalformedCheckpoint(reason));
        check_body(&format!("log\n0\n{root}\n"), Ok((0, 0)));
        check_body(
            &format!("log\n18446744073709551615\n{root}\nx\ny\n"),
            Ok((u64::MAX, 2)),
        );
        check_body(&format!("log\n1\n{root}"), malformed("no final newline"));
        check_body(&format!("\n1\n{root}\n"), malformed("origin"));
        check_body(&format!("log\n01\n{root}\n"), malformed("tree size"));
        check_body(&format!("log\n+1\n{root}\n"), malformed("tree size"));
        check_body(
            &format!("log\n18446744073709551616\n{root}\n"),
            malformed("tree size"),
        );
        check_body("log\n1\n", malformed("root hash"));
        check_body("log\n1\nBwcH\n", malformed("root hash"));
        check_body(
            &format!("log\n1\n{}\n", root.trim_end_matches('=')),
            malformed("root hash"),
        );
        check_body(
            &format!("log\n1\n{root}\n\n"),
            malformed("empty or invalid extension line"),
        );
        check_body(
            &format!("log\n1\n{root}\na\tb\n"),
            malformed("empty or invalid extension line"),
        );
        let many = "x\n".repeat(EXTENSIONS_MAX + 1);
        check_body(
            &format!("log\n1\n{root}\n{many}"),
            malformed("too many extension lines"),
        );
    }

    #[track_caller]
    fn check_vkey(vkey: &str, expected: Result<(), NoteError>) {
        assert_eq!(
            NoteVerifier::from_vkey(vkey).map(|_| ()),
            expected,
            "vkey {vkey:?}"
        );
    }

    #[test]
    fn malformed_verifier_keys_are_refused() {
        let malformed = |reason| Err(NoteError::MalformedVerifierKey(reason));
        let (name_and_id, key) = GO_VKEY.rsplit_once('+').expect("vkey has three parts");
        check_vkey(GO_VKEY, Ok(()));
        // From the transparency-dev/formats note tests: the key's base64 itself holds a '+'.
        check_vkey(
            "TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6",
            Ok(()),
        );
        check_vkey("PeterNeumann+c74f20a3", malformed("expected name+id+key"));
        check_vkey(&format!("{GO_VKEY}+extra"), malformed("key is not base64"));
        check_vkey(
            &GO_VKEY.replacen("PeterNeumann", "", 1),
            Err(NoteError::InvalidKeyName),
        );
        check_vkey(
            &GO_VKEY.replacen("c74f20a3", "c74f20a4", 1),
            malformed("key id does not match the key"),
        );
        check_vkey(
            &GO_VKEY.replacen("PeterNeumann", "Peter", 1),
            malformed("key id does not match the key"),
        );
        check_vkey(
            &format!("{name_and_id}+{}", &key[..key.len() - 4]),
            malformed("key length"),
        );
        check_vkey(
            &format!("{name_and_id}+Ag{}", &key[2..]),
            malformed("not an Ed25519 key"),
        );
        check_vkey(
            &format!("{name_and_id}+*{}", &key[1..]),
            malformed("key is not base64"),
        );
        check_vkey(&format!("{name_and_id}+"), malformed("empty key"));
    }

    #[test]
    fn signer_names_are_checked() {
        let key = || SigningKey::from_bytes(&[1; 32]);
        for name in ["", "with space", "with+plus", "tab\there"] {
            assert_eq!(
                NoteSigner::new(name, key()).map(|_| ()),
                Err(NoteError::InvalidKeyName)
            );
        }
        assert_eq!(
            NoteSigner::new("ok.example/log", key()).map(|s| s.name().to_owned()),
            Ok("ok.example/log".to_owned())
        );
    }
}
