//! The trust store: the only things a client believes without proof.
//!
//! A client pins three things: the regulator's root keys (named by the log's genesis entry),
//! the log's verifier key (which signs checkpoints), and the last checkpoint it has seen. Every
//! later checkpoint must come with a consistency proof from the pinned one; when one does not,
//! the two signed checkpoints are kept as evidence of a possible split view (fork) and the
//! store refuses to be used until a person has looked at them.
//!
//! The store is a directory holding `trust.json` and, after a fork, `fork.json`. Both are
//! written atomically (a temporary file, fsync, rename), so a crash leaves the old or the new
//! file, never half of one.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use isnad_core::envelope::{self, EnvelopeError};
use isnad_core::event::{Genesis, PublicKey};
use isnad_log::checkpoint::{Checkpoint, NoteError, NoteVerifier};
use isnad_log::{LeafIndex, ProofError, TreeSize};
use serde::{Deserialize, Serialize};

/// The trust file's name inside the store's directory.
pub const TRUST_FILE: &str = "trust.json";

/// The fork evidence file's name inside the store's directory; while it exists, the store
/// refuses to be used.
pub const FORK_FILE: &str = "fork.json";

/// The `format` field of a trust file.
pub const TRUST_FORMAT: &str = "isnad-trust/v1";

/// The `format` field of a fork evidence file.
pub const FORK_FORMAT: &str = "isnad-fork/v1";

/// The longest trust or fork file read, in bytes: they hold a few keys and two checkpoint
/// notes (at most 64 KiB each), so anything longer is not one of ours.
pub const TRUST_FILE_LEN_MAX: u64 = 1024 * 1024;

/// Regulator root keys pinned at most; a genesis entry admits the regulator with a handful.
pub const REGULATOR_KEYS_MAX: usize = 64;

/// Why trust could not be established, loaded or saved.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    /// A file of the store could not be read or written.
    #[error("{path}: {error}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        error: std::io::Error,
    },
    /// No trust store exists in this directory yet.
    #[error("no trust store in {dir}: run `isnad trust init` first")]
    Missing {
        /// The store's directory.
        dir: PathBuf,
    },
    /// A trust store exists already and would be overwritten.
    #[error("a trust store exists in {dir} already; pass --force to replace it")]
    Exists {
        /// The store's directory.
        dir: PathBuf,
    },
    /// A possible fork was recorded: nothing from this log is trusted until it is resolved.
    #[error(
        "a possible split view (fork) of the log was detected; the evidence is in {path}. \
         Nothing from this log is trusted until it has been investigated and the file removed"
    )]
    Forked {
        /// The fork evidence file.
        path: PathBuf,
    },
    /// A file is not valid JSON of the expected shape, or is too long.
    #[error("{path}: not a valid {what}: {problem}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What the file should be.
        what: &'static str,
        /// What is wrong.
        problem: String,
    },
    /// A regulator key is not 32 bytes of hex, or not a key a secret key makes (see
    /// `isnad_core::envelope::check_public_key`).
    #[error("regulator key {key:?}: {problem}")]
    RegulatorKey {
        /// The key as given.
        key: String,
        /// What is wrong.
        problem: &'static str,
    },
    /// No regulator key, or more than [`REGULATOR_KEYS_MAX`].
    #[error("{count} regulator keys given; between 1 and {REGULATOR_KEYS_MAX} are needed")]
    RegulatorKeyCount {
        /// The number given.
        count: usize,
    },
    /// The log's verifier key string is malformed.
    #[error("log verifier key: {0}")]
    LogKey(NoteError),
    /// The checkpoint does not carry a valid signature of the log's key.
    #[error("checkpoint: {0}")]
    Checkpoint(NoteError),
    /// The checkpoint names another log than the verifier key.
    #[error("the checkpoint is of log {found:?}, but the log key is for {expected:?}")]
    Origin {
        /// The log the key names.
        expected: String,
        /// The log the checkpoint names.
        found: String,
    },
    /// The genesis entry is not proven to be entry 0 of the checkpoint's tree.
    #[error("the genesis entry is not in the checkpoint's tree: {0}")]
    GenesisInclusion(ProofError),
    /// The genesis entry does not decode.
    #[error("the genesis entry does not decode: {0}")]
    GenesisDecode(String),
    /// The genesis entry names other keys than the ones pinned.
    #[error(transparent)]
    Genesis(#[from] GenesisMismatch),
}

/// How a genesis entry differs from what the client pinned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GenesisMismatch {
    /// Genesis names another log key than the pinned verifier key.
    #[error("genesis names log key {found}, but the pinned log key is {expected}")]
    LogKey {
        /// The pinned key, hex.
        expected: String,
        /// The key genesis names, hex.
        found: String,
    },
    /// Genesis names another origin than the pinned log.
    #[error("genesis names log {found:?}, but the pinned log is {expected:?}")]
    Origin {
        /// The pinned origin.
        expected: String,
        /// The origin genesis names.
        found: String,
    },
    /// Genesis admits the regulator with other keys than the pinned root keys.
    #[error("genesis names regulator keys {found:?}, but the pinned root keys are {expected:?}")]
    RegulatorKeys {
        /// The pinned keys, hex, sorted.
        expected: Vec<String>,
        /// The keys genesis names, hex, sorted.
        found: Vec<String>,
    },
}

/// What a client trusts: the regulator's root keys, the log's key and the last checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trust {
    regulator_keys: Vec<PublicKey>,
    log_vkey: String,
    log_key: PublicKey,
    origin: String,
    checkpoint_note: String,
    checkpoint: Checkpoint,
}

impl Trust {
    /// Trust in `regulator_keys` and the log of `log_vkey`, with `checkpoint_note` pinned once
    /// its signature verifies. Use [`Trust::establish`] when the genesis entry is at hand.
    pub fn new(
        regulator_keys: Vec<PublicKey>,
        log_vkey: &str,
        checkpoint_note: &str,
    ) -> Result<Trust, TrustError> {
        let mut regulator_keys = regulator_keys;
        regulator_keys.sort_unstable();
        regulator_keys.dedup();
        if regulator_keys.is_empty() || regulator_keys.len() > REGULATOR_KEYS_MAX {
            return Err(TrustError::RegulatorKeyCount {
                count: regulator_keys.len(),
            });
        }
        let (origin, log_key) = parse_vkey(log_vkey).map_err(TrustError::LogKey)?;
        let mut trust = Trust {
            regulator_keys,
            log_vkey: log_vkey.to_owned(),
            log_key,
            origin,
            checkpoint_note: String::new(),
            checkpoint: Checkpoint {
                origin: String::new(),
                size: TreeSize(0),
                root: isnad_log::empty_root(),
                extensions: Vec::new(),
            },
        };
        trust.checkpoint = trust.verify_checkpoint(checkpoint_note)?;
        trust.checkpoint_note = checkpoint_note.to_owned();
        Ok(trust)
    }

    /// Like [`Trust::new`], and also checks that `genesis_entry` is entry 0 of the checkpoint's
    /// tree (by `inclusion_proof`) and names exactly the pinned regulator keys and log key.
    pub fn establish(
        regulator_keys: Vec<PublicKey>,
        log_vkey: &str,
        checkpoint_note: &str,
        genesis_entry: &[u8],
        inclusion_proof: &[impl AsRef<[u8]>],
    ) -> Result<Trust, TrustError> {
        let trust = Trust::new(regulator_keys, log_vkey, checkpoint_note)?;
        isnad_log::verify_inclusion_bytes(
            &isnad_log::leaf_hash(genesis_entry),
            LeafIndex(0),
            trust.checkpoint.size,
            inclusion_proof,
            &trust.checkpoint.root,
        )
        .map_err(TrustError::GenesisInclusion)?;
        let entry = isnad_proto::convert::decode_history_entry(0, genesis_entry)
            .map_err(|e| TrustError::GenesisDecode(e.to_string()))?;
        let isnad_core::verdict::HistoryKind::Genesis(genesis) = entry.kind else {
            return Err(TrustError::GenesisDecode(
                "entry 0 is not a genesis entry".into(),
            ));
        };
        trust.check_genesis(&genesis)?;
        Ok(trust)
    }

    /// Checks that a checkpoint note is signed by the pinned log key and names the pinned log.
    pub fn verify_checkpoint(&self, note: &str) -> Result<Checkpoint, TrustError> {
        let verifier = NoteVerifier::from_vkey(&self.log_vkey).map_err(TrustError::LogKey)?;
        let checkpoint = verifier.verify(note).map_err(TrustError::Checkpoint)?;
        if checkpoint.origin != self.origin {
            return Err(TrustError::Origin {
                expected: self.origin.clone(),
                found: checkpoint.origin,
            });
        }
        Ok(checkpoint)
    }

    /// Checks that a genesis entry names exactly the pinned log and regulator keys.
    pub fn check_genesis(&self, genesis: &Genesis) -> Result<(), GenesisMismatch> {
        if genesis.log_public_key != self.log_key {
            return Err(GenesisMismatch::LogKey {
                expected: hex::encode(self.log_key.0),
                found: hex::encode(genesis.log_public_key.0),
            });
        }
        if genesis.origin != self.origin {
            return Err(GenesisMismatch::Origin {
                expected: self.origin.clone(),
                found: genesis.origin.clone(),
            });
        }
        let mut named = genesis.regulator.public_keys.clone();
        named.sort_unstable();
        named.dedup();
        if named != self.regulator_keys {
            return Err(GenesisMismatch::RegulatorKeys {
                expected: self
                    .regulator_keys
                    .iter()
                    .map(|k| hex::encode(k.0))
                    .collect(),
                found: named.iter().map(|k| hex::encode(k.0)).collect(),
            });
        }
        Ok(())
    }

    /// The same trust with a newer checkpoint pinned. The caller has checked that it extends
    /// the pinned one (see [`crate::verify`]); this checks its signature again.
    pub fn with_checkpoint(&self, note: &str) -> Result<Trust, TrustError> {
        let checkpoint = self.verify_checkpoint(note)?;
        Ok(Trust {
            checkpoint,
            checkpoint_note: note.to_owned(),
            ..self.clone()
        })
    }

    /// The regulator's root keys, sorted.
    pub fn regulator_keys(&self) -> &[PublicKey] {
        &self.regulator_keys
    }

    /// The log's verifier key string, `origin+keyid+base64`.
    pub fn log_vkey(&self) -> &str {
        &self.log_vkey
    }

    /// The log's Ed25519 public key, as genesis names it.
    pub fn log_key(&self) -> PublicKey {
        self.log_key
    }

    /// The log's origin: the first line of its checkpoints.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The pinned checkpoint.
    pub fn checkpoint(&self) -> &Checkpoint {
        &self.checkpoint
    }

    /// The pinned checkpoint as the signed note it came in.
    pub fn checkpoint_note(&self) -> &str {
        &self.checkpoint_note
    }

    /// The serialized form, as kept in `trust.json` and inside evidence files.
    pub fn to_file(&self) -> TrustFile {
        TrustFile {
            format: TRUST_FORMAT.to_owned(),
            regulator_keys: self
                .regulator_keys
                .iter()
                .map(|k| hex::encode(k.0))
                .collect(),
            log_vkey: self.log_vkey.clone(),
            checkpoint: self.checkpoint_note.clone(),
        }
    }

    /// Reads the serialized form back, checking everything again.
    pub fn from_file(file: &TrustFile) -> Result<Trust, TrustError> {
        let keys = file
            .regulator_keys
            .iter()
            .map(|key| parse_regulator_key(key))
            .collect::<Result<Vec<_>, _>>()?;
        Trust::new(keys, &file.log_vkey, &file.checkpoint)
    }
}

/// The JSON form of [`Trust`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustFile {
    /// Always [`TRUST_FORMAT`].
    pub format: String,
    /// The regulator's root keys, hex.
    pub regulator_keys: Vec<String>,
    /// The log's verifier key string.
    pub log_vkey: String,
    /// The pinned checkpoint, as a signed note.
    pub checkpoint: String,
}

/// What a client keeps when a new checkpoint does not extend the pinned one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForkEvidence {
    /// Always [`FORK_FORMAT`].
    pub format: String,
    /// When the client noticed, milliseconds since the Unix epoch.
    pub detected_unix_ms: i64,
    /// The server that presented the other checkpoint.
    pub server: String,
    /// The checkpoint the client had pinned, a signed note.
    pub pinned_checkpoint: String,
    /// The checkpoint that does not extend it, a signed note by the same key.
    pub other_checkpoint: String,
    /// The consistency proof that failed, hex hashes (empty when none was given).
    pub consistency_proof: Vec<String>,
    /// What failed, in words.
    pub problem: String,
}

/// A directory holding a [`Trust`] and, after a fork, its evidence.
#[derive(Debug, Clone)]
pub struct TrustStore {
    dir: PathBuf,
}

impl TrustStore {
    /// The store in `dir` (created when first saved).
    pub fn new(dir: impl Into<PathBuf>) -> TrustStore {
        TrustStore { dir: dir.into() }
    }

    /// The store's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The trust file's path.
    pub fn trust_path(&self) -> PathBuf {
        self.dir.join(TRUST_FILE)
    }

    /// The fork evidence file's path.
    pub fn fork_path(&self) -> PathBuf {
        self.dir.join(FORK_FILE)
    }

    /// Whether a trust file exists.
    pub fn exists(&self) -> bool {
        self.trust_path().exists()
    }

    /// Loads the trust, refusing while a fork is recorded.
    pub fn load(&self) -> Result<Trust, TrustError> {
        let fork = self.fork_path();
        if fork.exists() {
            return Err(TrustError::Forked { path: fork });
        }
        self.load_ignoring_fork()
    }

    /// Loads the trust even when a fork is recorded: for showing it, never for trusting it.
    pub fn load_ignoring_fork(&self) -> Result<Trust, TrustError> {
        let path = self.trust_path();
        if !path.exists() {
            return Err(TrustError::Missing {
                dir: self.dir.clone(),
            });
        }
        let file: TrustFile = read_json(&path, "trust file")?;
        if file.format != TRUST_FORMAT {
            return Err(format_error(
                &path,
                "trust file",
                format!("format {:?}", file.format),
            ));
        }
        Trust::from_file(&file)
    }

    /// Writes `trust`, replacing the file atomically. Refuses to replace an existing store
    /// unless `replace` is set.
    pub fn save(&self, trust: &Trust, replace: bool) -> Result<(), TrustError> {
        if !replace && self.exists() {
            return Err(TrustError::Exists {
                dir: self.dir.clone(),
            });
        }
        fs::create_dir_all(&self.dir).map_err(|error| TrustError::Io {
            path: self.dir.clone(),
            error,
        })?;
        write_json_atomically(&self.trust_path(), &trust.to_file())
    }

    /// Pins `trust`'s checkpoint if it is newer than the stored one, so that two clients
    /// running at once never move the pin backwards. Returns whether the pin moved.
    pub fn advance(&self, trust: &Trust) -> Result<bool, TrustError> {
        let stored = self.load()?;
        if trust.checkpoint.size <= stored.checkpoint.size {
            return Ok(false);
        }
        self.save(trust, true)?;
        Ok(true)
    }

    /// Records fork evidence; from then on [`TrustStore::load`] refuses.
    pub fn record_fork(&self, evidence: &ForkEvidence) -> Result<PathBuf, TrustError> {
        fs::create_dir_all(&self.dir).map_err(|error| TrustError::Io {
            path: self.dir.clone(),
            error,
        })?;
        let path = self.fork_path();
        write_json_atomically(&path, evidence)?;
        Ok(path)
    }

    /// The recorded fork evidence, if any.
    pub fn fork(&self) -> Result<Option<ForkEvidence>, TrustError> {
        let path = self.fork_path();
        if !path.exists() {
            return Ok(None);
        }
        read_json(&path, "fork evidence file").map(Some)
    }
}

/// Parses a regulator public key written as 64 hex digits.
pub fn parse_regulator_key(text: &str) -> Result<PublicKey, TrustError> {
    let problem = |problem| TrustError::RegulatorKey {
        key: text.to_owned(),
        problem,
    };
    let bytes = hex::decode(text.trim()).map_err(|_| problem("not hex"))?;
    let key: [u8; 32] = bytes
        .try_into()
        .map_err(|_| problem("not 32 bytes (64 hex digits)"))?;
    match envelope::check_public_key(&key) {
        Ok(()) => Ok(PublicKey(key)),
        Err(EnvelopeError::PublicKeyWeak) => Err(problem(
            "a small-order, mixed-order or non-canonical point, which no secret key makes",
        )),
        Err(_) => Err(problem("not a valid Ed25519 public key")),
    }
}

/// Splits a verifier key string into its name and Ed25519 key, checking that it is well formed
/// (its key id matches).
pub fn parse_vkey(vkey: &str) -> Result<(String, PublicKey), NoteError> {
    let malformed = NoteError::MalformedVerifierKey;
    // Validates the whole string, key id included.
    NoteVerifier::from_vkey(vkey)?;
    let mut parts = vkey.splitn(3, '+');
    let (Some(name), Some(_), Some(encoded)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(malformed("expected name+id+key"));
    };
    let bytes = STANDARD
        .decode(encoded)
        .map_err(|_| malformed("key is not base64"))?;
    let key: [u8; 32] = bytes
        .get(1..)
        .and_then(|key| key.try_into().ok())
        .ok_or(malformed("key length"))?;
    Ok((name.to_owned(), PublicKey(key)))
}

fn format_error(path: &Path, what: &'static str, problem: String) -> TrustError {
    TrustError::Format {
        path: path.to_owned(),
        what,
        problem,
    }
}

/// Reads a JSON file of at most [`TRUST_FILE_LEN_MAX`] bytes.
pub(crate) fn read_json<T: serde::de::DeserializeOwned>(
    path: &Path,
    what: &'static str,
) -> Result<T, TrustError> {
    let io = |error| TrustError::Io {
        path: path.to_owned(),
        error,
    };
    let file = File::open(path).map_err(io)?;
    let mut text = String::new();
    file.take(TRUST_FILE_LEN_MAX + 1)
        .read_to_string(&mut text)
        .map_err(io)?;
    if text.len() as u64 > TRUST_FILE_LEN_MAX {
        return Err(format_error(path, what, "file too long".into()));
    }
    serde_json::from_str(&text).map_err(|e| format_error(path, what, e.to_string()))
}

/// Writes `value` as JSON to a temporary file beside `path`, syncs it, renames it over `path`
/// and syncs the directory: a crash leaves either the old file or the new one.
pub(crate) fn write_json_atomically<T: Serialize>(
    path: &Path,
    value: &T,
) -> Result<(), TrustError> {
    let io = |error| TrustError::Io {
        path: path.to_owned(),
        error,
    };
    let mut text = serde_json::to_string_pretty(value).expect("these types always serialize");
    text.push('\n');
    let temporary = path.with_extension("json.tmp");
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&temporary)
        .map_err(io)?;
    file.write_all(text.as_bytes()).map_err(io)?;
    file.sync_all().map_err(io)?;
    fs::rename(&temporary, path).map_err(io)?;
    // The rename is durable once the directory is: a bare file name lives in the current one.
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    File::open(dir).and_then(|d| d.sync_all()).map_err(io)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use isnad_testkit::Scenario;

    use super::*;
    use crate::testlog::TestLog;

    fn log() -> TestLog {
        TestLog::new(Scenario::new())
    }

    fn genesis_proof(log: &TestLog, size: u64) -> Vec<Vec<u8>> {
        let question = log.question("(01)06111234000019(21)X", None, size);
        let answer = log.answer(&question, log.scenario.clock_unix_ms);
        let genesis = answer
            .authorizations
            .iter()
            .find(|proven| proven.index == 0)
            .expect("every answer carries genesis");
        genesis.inclusion_proof.clone()
    }

    #[test]
    fn trust_is_established_from_a_proven_genesis_entry() {
        let log = log();
        let size = log.size();
        let regulator = log.scenario.regulator.public_key();
        let trust = Trust::establish(
            vec![regulator],
            &log.vkey(),
            &log.checkpoint_at(size),
            &log.entries[0],
            &genesis_proof(&log, size),
        )
        .expect("the genesis names the pinned keys");
        assert_eq!(trust.checkpoint().size.0, size);
        assert_eq!(trust.origin(), log.scenario.genesis.origin);
        assert_eq!(trust.log_key(), log.scenario.genesis.log_public_key);
    }

    /// A case: its name, what trusting gave, and the refusal expected.
    type Row = (
        &'static str,
        Result<Trust, TrustError>,
        fn(&TrustError) -> bool,
    );

    #[track_caller]
    fn check(name: &str, outcome: Result<Trust, TrustError>, expected: fn(&TrustError) -> bool) {
        match outcome {
            Ok(_) => panic!("{name}: accepted"),
            Err(error) => assert!(
                expected(&error),
                "{name}: refused for another reason: {error}"
            ),
        }
    }

    #[test]
    fn wrong_anchors_are_refused() {
        let log = log();
        let size = log.size();
        let note = log.checkpoint_at(size);
        let proof = genesis_proof(&log, size);
        let regulator = log.scenario.regulator.public_key();
        let stranger = log.scenario.manufacturer.public_key();
        let mut altered_genesis = log.entries[0].clone();
        altered_genesis[20] ^= 1;
        let other_vkey = isnad_log::checkpoint::vkey(
            &log.scenario.genesis.origin,
            &isnad_testkit::signing_key(77).verifying_key(),
        );
        let rows: Vec<Row> = vec![
            (
                "a regulator key genesis does not name",
                Trust::establish(vec![stranger], &log.vkey(), &note, &log.entries[0], &proof),
                |e| {
                    matches!(
                        e,
                        TrustError::Genesis(GenesisMismatch::RegulatorKeys { .. })
                    )
                },
            ),
            (
                "one key more than genesis names",
                Trust::establish(
                    vec![regulator, stranger],
                    &log.vkey(),
                    &note,
                    &log.entries[0],
                    &proof,
                ),
                |e| {
                    matches!(
                        e,
                        TrustError::Genesis(GenesisMismatch::RegulatorKeys { .. })
                    )
                },
            ),
            (
                "an altered genesis entry",
                Trust::establish(
                    vec![regulator],
                    &log.vkey(),
                    &note,
                    &altered_genesis,
                    &proof,
                ),
                |e| matches!(e, TrustError::GenesisInclusion(_)),
            ),
            (
                "another log key",
                Trust::new(vec![regulator], &other_vkey, &note),
                |e| matches!(e, TrustError::Checkpoint(NoteError::NoKnownSignature)),
            ),
            (
                "a malformed log key",
                Trust::new(vec![regulator], "isnad.test/log+00+AAAA", &note),
                |e| matches!(e, TrustError::LogKey(_)),
            ),
            (
                "no regulator key",
                Trust::new(Vec::new(), &log.vkey(), &note),
                |e| matches!(e, TrustError::RegulatorKeyCount { count: 0 }),
            ),
        ];
        for (name, outcome, expected) in rows {
            check(name, outcome, expected);
        }
    }

    #[test]
    fn regulator_keys_parse_from_hex_only_when_valid() {
        let key = hex::encode(isnad_testkit::signing_key(1).verifying_key().to_bytes());
        assert!(parse_regulator_key(&key).is_ok());
        let identity = format!("01{}", "00".repeat(31));
        let not_a_point = format!("02{}", "00".repeat(31));
        for (text, problem) in [
            ("zz", "not hex"),
            ("abcd", "not 32 bytes (64 hex digits)"),
            (
                identity.as_str(),
                "a small-order, mixed-order or non-canonical point, which no secret key makes",
            ),
            (not_a_point.as_str(), "not a valid Ed25519 public key"),
        ] {
            let error = parse_regulator_key(text).expect_err("refused");
            assert!(
                matches!(error, TrustError::RegulatorKey { problem: p, .. } if p == problem),
                "{text}: {error}"
            );
        }
    }

    #[test]
    fn the_store_saves_loads_and_only_moves_forward() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = TrustStore::new(dir.path().join("trust"));
        assert!(matches!(store.load(), Err(TrustError::Missing { .. })));
        let log = log();
        let older = log.trust_at(2);
        store.save(&older, false).expect("saved");
        assert_eq!(store.load().expect("loads"), older);
        assert!(matches!(
            store.save(&older, false),
            Err(TrustError::Exists { .. })
        ));
        let newer = log.trust_at(log.size());
        assert!(store.advance(&newer).expect("advances"));
        assert!(!store.advance(&older).expect("does not go back"));
        assert_eq!(store.load().expect("loads").checkpoint().size.0, log.size());
    }

    #[test]
    fn a_recorded_fork_makes_the_store_refuse() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = TrustStore::new(dir.path());
        let log = log();
        store.save(&log.trust_at(log.size()), false).expect("saved");
        let evidence = ForkEvidence {
            format: FORK_FORMAT.to_owned(),
            detected_unix_ms: 1,
            server: "http://127.0.0.1:1".to_owned(),
            pinned_checkpoint: log.checkpoint_at(log.size()),
            other_checkpoint: log.checkpoint_at(2),
            consistency_proof: Vec::new(),
            problem: "test".to_owned(),
        };
        let path = store.record_fork(&evidence).expect("recorded");
        assert!(matches!(store.load(), Err(TrustError::Forked { .. })));
        assert_eq!(store.fork().expect("reads"), Some(evidence));
        assert!(store.load_ignoring_fork().is_ok());
        fs::remove_file(path).expect("removed");
        assert!(store.load().is_ok());
    }

    #[test]
    fn a_corrupt_trust_file_is_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = TrustStore::new(dir.path());
        let log = log();
        store.save(&log.trust_at(log.size()), false).expect("saved");
        let text = fs::read_to_string(store.trust_path()).expect("reads");
        let changed = text.replacen("isnad-trust/v1", "isnad-trust/v9", 1);
        fs::write(store.trust_path(), changed).expect("writes");
        assert!(matches!(store.load(), Err(TrustError::Format { .. })));
        fs::write(store.trust_path(), "{").expect("writes");
        assert!(matches!(store.load(), Err(TrustError::Format { .. })));
    }
}
