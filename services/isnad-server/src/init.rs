//! Creating a data directory (log key, store, genesis) and opening one.
//!
//! Layout of a data directory:
//!
//! ```text
//! log.key   the log's Ed25519 signing key, C2SP private key line, mode 0600
//! store/    the sled database: entries, tree tiles, checkpoints, ledger state
//! ```
//!
//! The data directory and every directory under it are mode 0700, every file 0600: the
//! ledger's state is the operator's alone. `init` and `open` both set these modes, so a
//! directory made beforehand, or files created since with the process's umask, are narrowed.

use std::fs;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use isnad_core::envelope::{self, EntryKind};
use isnad_core::event::{Admit, Genesis, PublicKey, Role};
use isnad_core::gs1::Gln;
use isnad_core::rules::{self, Context};
use isnad_log::LeafIndex;
use isnad_log::checkpoint::NoteSigner;
use isnad_store::Store;

use crate::error::LedgerError;
use crate::ledger::now_unix_ms;

/// The log key's file name inside the data directory.
pub const LOG_KEY_FILE: &str = "log.key";
/// The store's directory name inside the data directory.
pub const STORE_DIR: &str = "store";

/// What `isnad-server init` needs.
#[derive(Debug, Clone)]
pub struct InitOptions {
    /// The data directory to create.
    pub data_dir: PathBuf,
    /// The log's origin line, such as `isnad.sante.gov.ma/log`.
    pub origin: String,
    /// The regulator's party GLN.
    pub regulator_party: Gln,
    /// The regulator's name.
    pub regulator_name: String,
    /// The location GLNs the regulator acts from.
    pub regulator_sites: Vec<Gln>,
    /// The regulator's public keys: the trust root.
    pub regulator_keys: Vec<PublicKey>,
}

/// What `init` created.
#[derive(Debug, Clone)]
pub struct InitOutcome {
    /// The log's verifier key string, `name+hex8+base64`, for clients to pin.
    pub log_vkey: String,
    /// The first checkpoint, covering the genesis entry.
    pub checkpoint: String,
}

/// Creates a data directory with a new log key and the genesis entry. Refuses an existing one.
pub fn init(options: &InitOptions) -> anyhow::Result<InitOutcome> {
    anyhow::ensure!(
        !options.origin.trim().is_empty(),
        "the origin must not be empty"
    );
    anyhow::ensure!(
        !options.origin.contains('\n')
            && !options.origin.contains('+')
            && !options.origin.contains(' ')
            && !options.origin.contains('\0'),
        "the origin must be one line without '+', spaces or NUL (it names the log's key, and \
         event signatures end it with a NUL byte)"
    );
    anyhow::ensure!(
        !options.regulator_keys.is_empty(),
        "at least one regulator key is needed"
    );
    for key in &options.regulator_keys {
        // The rules refuse such keys in every later registration; genesis is written here.
        envelope::check_public_key(&key.0)
            .map_err(|error| anyhow::anyhow!("regulator key {}: {error}", hex::encode(key.0)))?;
    }
    let store_dir = options.data_dir.join(STORE_DIR);
    anyhow::ensure!(
        !store_dir.exists(),
        "{} already holds a store; refusing to overwrite it",
        options.data_dir.display()
    );
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&options.data_dir)?;
    let key = isnad_keys::generate()?;
    isnad_keys::write_private_key(&options.data_dir.join(LOG_KEY_FILE), &options.origin, &key)?;
    let signer = NoteSigner::new(&options.origin, key.clone())?;
    let genesis = Genesis {
        origin: options.origin.clone(),
        log_public_key: PublicKey(key.verifying_key().to_bytes()),
        regulator: Admit {
            party: options.regulator_party,
            name: options.regulator_name.clone(),
            roles: vec![Role::Regulator],
            sites: options.regulator_sites.clone(),
            company_prefixes: vec![],
            public_keys: options.regulator_keys.clone(),
        },
        created_unix_ms: now_unix_ms(),
    };
    let store = Store::open(&store_dir)?;
    let entry = envelope::encode_genesis_entry(
        genesis.created_unix_ms,
        &isnad_proto::encode_genesis(&genesis),
    );
    let context = Context {
        index: 0,
        recorded_unix_ms: genesis.created_unix_ms,
        signer: genesis.log_public_key,
    };
    let writes = rules::apply_genesis(&genesis, &context);
    let outcome = store.append(&[entry], writes.0, &signer)?;
    restrict_modes(&options.data_dir)?;
    Ok(InitOutcome {
        log_vkey: isnad_log::checkpoint::vkey(&options.origin, &key.verifying_key()),
        checkpoint: outcome.checkpoint,
    })
}

/// An opened data directory.
#[derive(Debug)]
pub struct Opened {
    /// The store.
    pub store: Arc<Store>,
    /// The log's checkpoint signer.
    pub signer: NoteSigner,
}

/// Opens a data directory made by [`init`], checking that the log key matches genesis.
pub fn open(data_dir: &Path) -> anyhow::Result<Opened> {
    let store_dir = data_dir.join(STORE_DIR);
    anyhow::ensure!(
        store_dir.exists(),
        "{} holds no store; create it first with `isnad-server init`",
        data_dir.display()
    );
    let key = isnad_keys::read_private_key(&data_dir.join(LOG_KEY_FILE))?;
    let store = Arc::new(Store::open(&store_dir)?);
    restrict_modes(data_dir)?;
    let genesis = read_genesis(&store)?;
    anyhow::ensure!(
        genesis.log_public_key.0 == key.key.verifying_key().to_bytes()
            && genesis.origin == key.name,
        "{} does not match the log's genesis entry",
        data_dir.join(LOG_KEY_FILE).display()
    );
    let signer = NoteSigner::new(&key.name, key.key)?;
    Ok(Opened { store, signer })
}

/// Sets `dir` and every directory under it to mode 0700 and every file to 0600.
fn restrict_modes(dir: &Path) -> anyhow::Result<()> {
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
        .map_err(|e| anyhow::anyhow!("cannot restrict {}: {e}", dir.display()))?;
    for child in fs::read_dir(dir)? {
        let child = child?;
        let path = child.path();
        if child.file_type()?.is_dir() {
            restrict_modes(&path)?;
        } else {
            fs::set_permissions(&path, fs::Permissions::from_mode(0o600))
                .map_err(|e| anyhow::anyhow!("cannot restrict {}: {e}", path.display()))?;
        }
    }
    Ok(())
}

/// Reads and decodes log entry 0.
pub fn read_genesis(store: &Store) -> Result<Genesis, LedgerError> {
    let entry = store
        .entry(LeafIndex(0))?
        .ok_or_else(|| LedgerError::Storage("the log has no genesis entry".into()))?;
    match envelope::decode_entry(&entry) {
        Ok(envelope::EntryRef {
            kind: EntryKind::Genesis { genesis },
            ..
        }) => isnad_proto::decode_genesis(genesis)
            .map_err(|e| LedgerError::Storage(format!("genesis entry: {e}"))),
        Ok(_) => Err(LedgerError::Storage(
            "entry 0 is not a genesis entry".into(),
        )),
        Err(e) => Err(LedgerError::Storage(format!("genesis entry: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use isnad_testkit::Scenario;

    use super::*;

    fn options(dir: &Path) -> InitOptions {
        let regulator = Scenario::bare().regulator;
        InitOptions {
            data_dir: dir.join("data"),
            origin: "isnad.example/log".into(),
            regulator_party: regulator.party,
            regulator_name: "regulator".into(),
            regulator_sites: vec![regulator.site],
            regulator_keys: vec![PublicKey(regulator.signing_key.verifying_key().to_bytes())],
        }
    }

    #[test]
    fn a_small_order_regulator_key_is_refused_and_nothing_is_written() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut options = options(dir.path());
        let mut identity = [0; 32];
        identity[0] = 1;
        options.regulator_keys.push(PublicKey(identity));
        let error = init(&options).expect_err("a small-order key is no regulator key");
        assert_eq!(
            error.to_string(),
            format!(
                "regulator key {}: public key is not a valid Ed25519 key: small order, torsion \
                 or non-canonical",
                hex::encode(identity)
            )
        );
        assert!(!options.data_dir.exists(), "nothing is written");
    }

    #[test]
    fn an_origin_with_a_nul_byte_is_refused_and_nothing_is_written() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut options = options(dir.path());
        options.origin = "isnad.example/log\0x".into();
        let error = init(&options).expect_err("a NUL byte would end the origin early");
        assert!(error.to_string().contains("NUL"), "{error}");
        assert!(!options.data_dir.exists(), "nothing is written");
    }

    #[test]
    fn the_log_key_is_readable_by_its_owner_only_and_opens() {
        let dir = tempfile::tempdir().expect("temp dir");
        let options = options(dir.path());
        init(&options).expect("init");
        let key_file = options.data_dir.join(LOG_KEY_FILE);
        let mode = fs::metadata(&key_file).expect("stat").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", key_file.display());
        open(&options.data_dir).expect("the key reads back");
    }

    /// Every path under `dir`, `dir` included, with its permission bits.
    fn modes(dir: &Path) -> Vec<(PathBuf, u32, bool)> {
        let metadata = fs::metadata(dir).expect("stat");
        let mut found = vec![(dir.to_owned(), metadata.permissions().mode() & 0o777, true)];
        for child in fs::read_dir(dir).expect("list") {
            let path = child.expect("entry").path();
            if path.is_dir() {
                found.extend(modes(&path));
            } else {
                let mode = fs::metadata(&path).expect("stat").permissions().mode() & 0o777;
                found.push((path, mode, false));
            }
        }
        found
    }

    #[track_caller]
    fn check_private(dir: &Path) {
        let found = modes(dir);
        assert!(found.len() > 3, "{found:?}");
        for (path, mode, is_dir) in found {
            let expected = if is_dir { 0o700 } else { 0o600 };
            assert_eq!(mode, expected, "{} is {mode:o}", path.display());
        }
    }

    #[test]
    fn the_data_directory_is_private_after_init_and_open() {
        let dir = tempfile::tempdir().expect("temp dir");
        let data_dir = dir.path().join("data");
        // Made beforehand by someone else, with the usual umask.
        fs::create_dir(&data_dir).expect("mkdir");
        fs::set_permissions(&data_dir, fs::Permissions::from_mode(0o755)).expect("chmod");
        let regulator = Scenario::bare().regulator;
        init(&InitOptions {
            data_dir: data_dir.clone(),
            origin: "isnad.example/log".into(),
            regulator_party: regulator.party,
            regulator_name: "regulator".into(),
            regulator_sites: vec![regulator.site],
            regulator_keys: vec![PublicKey(regulator.signing_key.verifying_key().to_bytes())],
        })
        .expect("init");
        check_private(&data_dir);
        // Widened since (a copy, a restore from backup): open narrows them again. A widened
        // log key is refused outright (isnad-keys), so it stays as it is.
        let key_file = data_dir.join(LOG_KEY_FILE);
        for (path, _, is_dir) in modes(&data_dir).into_iter().filter(|m| m.0 != key_file) {
            let mode = if is_dir { 0o755 } else { 0o644 };
            fs::set_permissions(&path, fs::Permissions::from_mode(mode)).expect("chmod");
        }
        let opened = open(&data_dir).expect("open");
        check_private(&data_dir);
        drop(opened);
    }
}
