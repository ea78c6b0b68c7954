//! The [`Store`]: opening and checking a database, appending, and reading back.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant};

use isnad_log::checkpoint::{Checkpoint, NoteError, NoteSigner, NoteVerifier};
use isnad_log::{
    Hash, LeafIndex, LogError, NodeWrites, Staged, SubtreeCache, TreeSize, TreeState, leaf_hash,
    verify_consistency,
};
use thiserror::Error;

use crate::durability::DiskSync;
use crate::keys::{self, EntrySpan, corrupt};
use crate::leaf_index;
use crate::segments::{SEGMENT_ENTRIES, Segments};
use crate::tiles::{SledTiles, UpperTiles};

/// Entries in one append at most: a group of events is bounded, and so is its batch.
pub const APPEND_ENTRIES_MAX: usize = 10_000;

/// Bytes in one entry at most: the 64 KiB signed body limit plus room for the envelope.
pub const ENTRY_LEN_MAX: usize = 80 * 1024;

/// Ledger state writes in one append at most.
pub const STATE_WRITES_MAX: usize = 100_000;

/// Bytes in a ledger state key at most.
pub const STATE_KEY_LEN_MAX: usize = 1024;

/// Bytes in a ledger state value at most.
pub const STATE_VALUE_LEN_MAX: usize = 256 * 1024;

/// Entries returned by one [`Store::entries`] call at most.
pub const ENTRIES_READ_MAX: u64 = 10_000;

/// sled log segment size. sled stores a page bigger than a quarter of a segment as a separate
/// blob file; 8 MiB segments keep pages of 16 full tiles (128 KiB) in the log itself.
const SEGMENT_SIZE: usize = 8 * 1024 * 1024;

/// sled's page cache. Its default (1 GiB) let a server reach 600 MiB before its log held a
/// million entries; the working set (recent tiles, the state a circuit touches) is far
/// smaller, and the operating system's page cache holds what the sled cache does not.
const CACHE_BYTES: u64 = 64 * 1024 * 1024;

/// Perfect subtree hashes kept for proofs: about 15 MiB.
const SUBTREE_CACHE_HASHES: usize = 1 << 18;

/// How long [`Store::open`] waits for sled's lock on the database folder.
const OPEN_LOCK_WAIT: Duration = Duration::from_secs(2);

/// Pause between attempts to take sled's lock.
const OPEN_LOCK_RETRY: Duration = Duration::from_millis(10);

/// Why a store operation failed.
#[derive(Debug, Error)]
pub enum StoreError {
    /// sled reported an error.
    #[error("storage engine failed")]
    Sled(#[from] sled::Error),
    /// A file operation (opening or syncing sled's files) failed.
    #[error("file operation failed")]
    Io(#[from] std::io::Error),
    /// A tree operation failed, or the stored tree is incomplete.
    #[error("log tree operation failed")]
    Log(#[from] LogError),
    /// A stored record does not decode, or stored records disagree with each other.
    #[error("stored {what} is damaged: {problem}")]
    Corrupt {
        /// The kind of record.
        what: &'static str,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// The new tree does not extend the last signed checkpoint, so nothing was signed or written.
    #[error("refused to sign: tree of size {size} does not extend the checkpoint at {last_size}")]
    InconsistentCheckpoint {
        /// Size of the last signed checkpoint.
        last_size: TreeSize,
        /// Size of the tree that would have been signed.
        size: TreeSize,
    },
    /// The signer's key name cannot serve as a checkpoint origin.
    #[error("cannot sign a checkpoint")]
    Signing(#[from] NoteError),
    /// An earlier append could not be made durable; reopen the store to recover from disk.
    #[error("an earlier append was not made durable; reopen the store")]
    NeedsReopen,
    /// An append must add at least one entry.
    #[error("an append needs at least one entry")]
    EmptyAppend,
    /// More entries than [`APPEND_ENTRIES_MAX`].
    #[error("{0} entries in one append, more than the limit")]
    TooManyEntries(usize),
    /// An entry longer than [`ENTRY_LEN_MAX`].
    #[error("entry {position} of the append is {len} bytes, more than the limit")]
    EntryTooLong {
        /// Position of the entry in the append, from 0.
        position: usize,
        /// Its length.
        len: usize,
    },
    /// More state writes than [`STATE_WRITES_MAX`].
    #[error("{0} state writes in one append, more than the limit")]
    TooManyStateWrites(usize),
    /// A state key longer than [`STATE_KEY_LEN_MAX`] or a value longer than
    /// [`STATE_VALUE_LEN_MAX`].
    #[error("state write {position} is over the key or value length limit")]
    StateWriteTooLong {
        /// Position of the write in the append, from 0.
        position: usize,
    },
    /// The request names a tree size beyond the current one.
    #[error("tree size {requested} is beyond the current size {current}")]
    BeyondCurrentSize {
        /// The size asked about.
        requested: TreeSize,
        /// The current size.
        current: TreeSize,
    },
    /// An entry range is reversed or longer than [`ENTRIES_READ_MAX`].
    #[error("bad entry range {start}..{end}")]
    BadRange {
        /// First index asked for.
        start: u64,
        /// One past the last index asked for.
        end: u64,
    },
}

/// A ledger state key and its value.
pub type StatePair = (Vec<u8>, Vec<u8>);

/// A ledger state write: the key, and the new value or `None` to delete it.
pub type StateWrite = (Vec<u8>, Option<Vec<u8>>);

/// What an append committed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppendOutcome {
    /// Index of the first appended entry; the others follow in order.
    pub first_index: LeafIndex,
    /// The tree after the append.
    pub tree: TreeState,
    /// The signed checkpoint of that tree, as a C2SP signed note.
    pub checkpoint: String,
}

/// The log and the ledger state: the entries in append-only segment files, everything else in
/// one sled database. Appends are serialized; reads run concurrently with them and only ever
/// see durable data.
#[derive(Debug)]
pub struct Store {
    db: sled::Db,
    sync: DiskSync,
    segments: Segments,
    /// The tree as of the last durable append; readers never see further.
    durable: RwLock<TreeState>,
    /// Held for the whole of an append, so that one append computes on the last one's tree.
    writer: Mutex<()>,
    /// Full tiles of the upper levels, which every proof reads.
    upper_tiles: UpperTiles,
    /// Perfect subtree hashes computed by earlier proofs (of durable leaves only).
    subtrees: SubtreeCache,
    /// Set when an append failed after it started writing: the segment files or sled may then
    /// hold writes beyond the durable tree, and only reopening (which recovers from disk)
    /// clears that.
    broken: AtomicBool,
}

impl Store {
    /// Opens or creates the store in `dir`, then checks that the stored size, root and last
    /// checkpoint agree (the root is recomputed from the stored tiles), cuts off entries that
    /// an interrupted append left beyond the size, and checks that the last entry hashes to
    /// the last leaf. Entries missing below the size make it fail with
    /// [`StoreError::Corrupt`].
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        Store::open_with(dir, SEGMENT_ENTRIES)
    }

    /// [`Store::open`] with `entries_per_segment` entries per segment file, which must be what
    /// the store was created with; tests use small files to cross their boundaries.
    fn open_with(dir: &Path, entries_per_segment: u64) -> Result<Store, StoreError> {
        let created = !dir.join("conf").exists();
        let db = open_sled(dir)?;
        let sync = DiskSync::open(dir, created)?;
        let segments = Segments::open(dir, entries_per_segment)?;
        let state = match db.get(keys::META_KEY)? {
            Some(record) => keys::decode_meta(&record)?,
            None if db.is_empty() => TreeState::empty(),
            None => return Err(corrupt("meta", "missing from a non-empty database")),
        };
        let store = Store {
            db,
            sync,
            segments,
            durable: RwLock::new(state),
            writer: Mutex::new(()),
            upper_tiles: UpperTiles::default(),
            subtrees: SubtreeCache::new(SUBTREE_CACHE_HASHES),
            broken: AtomicBool::new(false),
        };
        store.check_stored_tree(&state)?;
        tracing::info!(size = state.size.0, created, "log store opened and checked");
        Ok(store)
    }

    /// The tree as of the last durable append.
    pub fn tree_state(&self) -> TreeState {
        *self
            .durable
            .read()
            .expect("no thread panics holding the state lock")
    }

    /// The entry at `index`, as appended, or `None` beyond the tree.
    pub fn entry(&self, index: LeafIndex) -> Result<Option<Vec<u8>>, StoreError> {
        if index.0 >= self.tree_state().size.0 {
            return Ok(None);
        }
        let mut entries = self.entries(index, LeafIndex(index.0 + 1))?;
        Ok(entries.pop())
    }

    /// The entries at indices `start..end`, cut at the tree size; at most [`ENTRIES_READ_MAX`].
    pub fn entries(&self, start: LeafIndex, end: LeafIndex) -> Result<Vec<Vec<u8>>, StoreError> {
        if start > end || end.0 - start.0 > ENTRIES_READ_MAX {
            return Err(StoreError::BadRange {
                start: start.0,
                end: end.0,
            });
        }
        let end = end.0.min(self.tree_state().size.0);
        let mut entries = Vec::new();
        let mut index = start.0;
        while index < end {
            let bundle = index / keys::BUNDLE_WIDTH;
            let span = self.span(bundle)?;
            let first = (index % keys::BUNDLE_WIDTH) as usize;
            let past_last = (end - bundle * keys::BUNDLE_WIDTH).min(keys::BUNDLE_WIDTH) as usize;
            if span.lens.len() < past_last {
                return Err(corrupt("entry span", "shorter than the tree size implies"));
            }
            entries.extend(self.segments.read(bundle, &span, first..past_last)?);
            index = bundle * keys::BUNDLE_WIDTH + past_last as u64;
        }
        Ok(entries)
    }

    /// The index of the first entry whose leaf hash is `leaf`, if the tree holds one. Reads
    /// one index page per 65,536 leaves, and at most 256 tiles.
    pub fn index_of_leaf(&self, leaf: &Hash) -> Result<Option<LeafIndex>, StoreError> {
        let size = self.tree_state().size.0;
        leaf_index::find(&self.db, &self.tiles(), leaf, size)
    }

    /// The inclusion proof of leaf `index` in the tree of `size` leaves. O(log n) reads.
    pub fn inclusion_proof(
        &self,
        index: LeafIndex,
        size: TreeSize,
    ) -> Result<Vec<Hash>, StoreError> {
        self.check_size(size)?;
        let mut proofs =
            isnad_log::inclusion_proofs(&self.tiles(), [index.0], size, Some(&self.subtrees))?;
        Ok(proofs.pop().expect("one proof per index"))
    }

    /// The inclusion proofs of the leaves `indices` in the tree of `size` leaves, computed
    /// together: the hashes they share are computed once, and kept for later proofs.
    pub fn inclusion_proofs(
        &self,
        indices: impl IntoIterator<Item = u64>,
        size: TreeSize,
    ) -> Result<Vec<Vec<Hash>>, StoreError> {
        self.check_size(size)?;
        Ok(isnad_log::inclusion_proofs(
            &self.tiles(),
            indices,
            size,
            Some(&self.subtrees),
        )?)
    }

    /// The consistency proof from the tree of `size1` leaves to the tree of `size2`. O(log n)
    /// reads.
    pub fn consistency_proof(
        &self,
        size1: TreeSize,
        size2: TreeSize,
    ) -> Result<Vec<Hash>, StoreError> {
        self.check_size(size2)?;
        Ok(isnad_log::consistency_proof(&self.tiles(), size1, size2)?)
    }

    /// The checkpoint of the current tree, or `None` before the first append.
    pub fn latest_checkpoint(&self) -> Result<Option<String>, StoreError> {
        self.checkpoint_at(self.tree_state().size)
    }

    /// The checkpoint signed when the tree had `size` leaves, if an append ended there. Every
    /// signed checkpoint is kept, so receipts can be served again.
    pub fn checkpoint_at(&self, size: TreeSize) -> Result<Option<String>, StoreError> {
        if size > self.tree_state().size {
            return Ok(None);
        }
        self.db
            .get(keys::checkpoint_key(size))?
            .map(|record| keys::decode_checkpoint(&record))
            .transpose()
    }

    /// The first signed checkpoint whose tree contains entry `index`: the checkpoint of the
    /// append that committed it, so that a resubmitted event gets its original receipt.
    /// `None` when the entry is beyond the tree.
    pub fn checkpoint_covering(
        &self,
        index: LeafIndex,
    ) -> Result<Option<(TreeSize, String)>, StoreError> {
        let durable = self.tree_state().size;
        if index.0 >= durable.0 {
            return Ok(None);
        }
        let range = keys::checkpoint_key(TreeSize(index.0 + 1))..=keys::checkpoint_key(durable);
        // The append that ended at the durable size stored a checkpoint, so one is in range.
        let (key, record) = self
            .db
            .range(range)
            .next()
            .ok_or_else(|| corrupt("checkpoint", "missing for the stored tree size"))??;
        let size = keys::checkpoint_size_from_key(&key)?;
        Ok(Some((size, keys::decode_checkpoint(&record)?)))
    }

    /// The ledger state value under `key`.
    pub fn state_get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .db
            .get(keys::state_key(key))?
            .map(|value| value.to_vec()))
    }

    /// Ledger state pairs whose key starts with `prefix`, strictly after `after` when given, in
    /// key order, at most `limit`.
    pub fn state_scan(
        &self,
        prefix: &[u8],
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<StatePair>, StoreError> {
        let full_prefix = keys::state_key(prefix);
        let pairs = match after {
            Some(after) if after >= prefix => {
                let start = keys::state_key(after);
                self.db.range::<&[u8], _>((
                    std::ops::Bound::Excluded(start.as_slice()),
                    std::ops::Bound::Unbounded,
                ))
            }
            _ => self.db.range::<&[u8], _>(full_prefix.as_slice()..),
        };
        let mut found = Vec::new();
        for pair in pairs.take(limit) {
            let (key, value) = pair?;
            if !key.starts_with(&full_prefix) {
                break;
            }
            found.push((key[1..].to_vec(), value.to_vec()));
        }
        Ok(found)
    }

    /// Appends `entries` after the current tree, applies `state_writes` (`None` deletes), and
    /// signs a checkpoint of the new tree with `signer` (its key name is the origin) after
    /// checking that the new tree extends the last signed checkpoint.
    ///
    /// Durability: the entries are written to the segment files and `fdatasync`ed first; then
    /// everything else is written as one atomic sled batch, sled is flushed and its data file
    /// (and any new blob file) is `fdatasync`ed. When this returns `Ok`, the entries, the state
    /// writes and the checkpoint survive a process crash or a power cut; when it returns `Err`,
    /// none of them is visible to readers, and a crash recovers either all of the append or
    /// none of it (sled's batch decides; entries beyond its size are cut off on open).
    pub fn append(
        &self,
        entries: &[Vec<u8>],
        state_writes: Vec<StateWrite>,
        signer: &NoteSigner,
    ) -> Result<AppendOutcome, StoreError> {
        check_append_limits(entries, &state_writes)?;
        if self.broken.load(Ordering::SeqCst) {
            return Err(StoreError::NeedsReopen);
        }
        let _writer = self
            .writer
            .lock()
            .expect("no thread panics holding the writer lock");
        let last = self.tree_state();
        let leaves: Vec<Hash> = entries.iter().map(|entry| leaf_hash(entry)).collect();
        let tiles = self.tiles();
        let (tree, node_writes) = isnad_log::append(&tiles, &last, &leaves)?;
        let checkpoint = self.sign_extension(&last, &tree, &node_writes, signer)?;
        let placement = self
            .segments
            .place(last.size.0, self.last_span(last.size)?, entries);
        // The entries are durable before sled counts them, so sled never counts a lost entry.
        self.failing_breaks(self.segments.write_durably(&placement.writes))?;
        let mut batch = sled::Batch::default();
        for (bundle, span) in &placement.spans {
            batch.insert(&keys::span_key(*bundle), keys::encode_span(span));
        }
        let staged = Staged::new(&tiles, &node_writes);
        for (key, page) in leaf_index::pages_to_write(&staged, last.size.0, tree.size.0)? {
            batch.insert(key, page);
        }
        for (id, hashes) in &node_writes.tiles {
            batch.insert(&keys::tile_key(*id), keys::encode_tile(hashes));
        }
        for (id, hashes) in &node_writes.mid_rows {
            batch.insert(&keys::mid_row_key(*id), keys::encode_tile(hashes));
        }
        batch.insert(
            &keys::checkpoint_key(tree.size),
            keys::encode_checkpoint(&checkpoint),
        );
        batch.insert(keys::META_KEY, keys::encode_meta(&tree));
        for (key, value) in state_writes {
            match value {
                Some(value) => batch.insert(keys::state_key(&key), value),
                None => batch.remove(keys::state_key(&key)),
            }
        }
        self.failing_breaks(self.db.apply_batch(batch).map_err(StoreError::from))?;
        self.failing_breaks(self.sync.make_durable(&self.db))?;
        // Durable now: readers may see the new tree, and the caller may acknowledge it.
        *self
            .durable
            .write()
            .expect("no thread panics holding the state lock") = tree;
        Ok(AppendOutcome {
            first_index: LeafIndex(last.size.0),
            tree,
            checkpoint,
        })
    }

    /// Marks the store broken when `result` failed: files were written that may be partly
    /// durable, and only reopening (which recovers from disk) can tell what is.
    fn failing_breaks<T>(&self, result: Result<T, StoreError>) -> Result<T, StoreError> {
        if let Err(error) = &result {
            self.broken.store(true, Ordering::SeqCst);
            tracing::error!(%error, "append not made durable; the store needs reopening");
        }
        result
    }

    /// The stored span of bundle `bundle`.
    fn span(&self, bundle: u64) -> Result<EntrySpan, StoreError> {
        let record = self.db.get(keys::span_key(bundle))?;
        let record = record.ok_or_else(|| corrupt("entry span", "missing below the tree size"))?;
        keys::decode_span(&record)
    }

    /// The span of the bundle holding entry `size - 1`, checked to end there; `None` when
    /// `size` is 0.
    fn last_span(&self, size: TreeSize) -> Result<Option<EntrySpan>, StoreError> {
        let Some(last_index) = size.0.checked_sub(1) else {
            return Ok(None);
        };
        let span = self.span(last_index / keys::BUNDLE_WIDTH)?;
        if span.lens.len() as u64 != last_index % keys::BUNDLE_WIDTH + 1 {
            return Err(corrupt("entry span", "does not end at the tree size"));
        }
        Ok(Some(span))
    }

    /// Signs the checkpoint of `tree` once a consistency proof from the last signed tree
    /// verifies, then checks the signed note says what was meant.
    fn sign_extension(
        &self,
        last: &TreeState,
        tree: &TreeState,
        node_writes: &NodeWrites,
        signer: &NoteSigner,
    ) -> Result<String, StoreError> {
        let refused = StoreError::InconsistentCheckpoint {
            last_size: last.size,
            size: tree.size,
        };
        if last.size.0 > 0 {
            let tiles = self.tiles();
            let staged = Staged::new(&tiles, node_writes);
            let proof = isnad_log::consistency_proof(&staged, last.size, tree.size)?;
            verify_consistency(last.size, tree.size, &proof, &last.root, &tree.root)
                .map_err(|_| refused)?;
        }
        let checkpoint = Checkpoint {
            origin: signer.name().to_owned(),
            size: tree.size,
            root: tree.root,
            extensions: Vec::new(),
        };
        let note = signer.sign(&checkpoint);
        let signed = NoteVerifier::from_vkey(&signer.vkey())?.verify(&note)?;
        assert_eq!(
            signed, checkpoint,
            "the signed note states the tree it was made for"
        );
        assert!(
            signed.size >= last.size,
            "a signed checkpoint never shrinks the tree"
        );
        Ok(note)
    }

    /// Pair assertions on open: the stored root matches the root recomputed from the tiles, the
    /// last checkpoint states the same size and root, and the entry spans end at the size.
    /// Then the segment files are cut to the size, and the last entry must hash to the last
    /// leaf.
    fn check_stored_tree(&self, state: &TreeState) -> Result<(), StoreError> {
        let tiles = SledTiles::uncached(&self.db);
        if isnad_log::root(&tiles, state.size)? != state.root {
            return Err(corrupt(
                "meta",
                "root differs from the root of the stored tiles",
            ));
        }
        if state.size.0 == 0 {
            return self.segments.recover(0, None);
        }
        let note = self
            .checkpoint_at(state.size)?
            .ok_or_else(|| corrupt("checkpoint", "missing for the stored tree size"))?;
        let checkpoint = Checkpoint::from_note_unverified(&note)
            .map_err(|_| corrupt("checkpoint", "does not parse"))?;
        if checkpoint.size != state.size || checkpoint.root != state.root {
            return Err(corrupt("checkpoint", "differs from the stored tree"));
        }
        let last_span = self.last_span(state.size)?;
        let last_index = state.size.0 - 1;
        let last_bundle = last_index / keys::BUNDLE_WIDTH;
        if self.db.get(keys::span_key(last_bundle + 1))?.is_some() {
            return Err(corrupt("entry span", "spans go beyond the tree size"));
        }
        self.segments.recover(state.size.0, last_span.as_ref())?;
        let last_entry = self.entry(LeafIndex(last_index))?.expect("below the size");
        if leaf_hash(&last_entry) != self.stored_leaf(last_index)? {
            return Err(corrupt(
                "entry segment",
                "last entry differs from the last leaf",
            ));
        }
        Ok(())
    }

    /// The leaf hash at `index`, read from its level-0 tile.
    fn stored_leaf(&self, index: u64) -> Result<Hash, StoreError> {
        let id = isnad_log::TileId {
            level: 0,
            index: index / keys::BUNDLE_WIDTH,
        };
        let record = self.db.get(keys::tile_key(id))?;
        let record = record.ok_or_else(|| corrupt("tile", "missing below the tree size"))?;
        let leaves = keys::decode_tile(&record)?;
        let position = (index % keys::BUNDLE_WIDTH) as usize;
        let leaf = leaves.get(position);
        leaf.copied()
            .ok_or_else(|| corrupt("tile", "shorter than the tree size implies"))
    }

    /// The tiles, read through the cache of upper tiles.
    pub(crate) fn tiles(&self) -> SledTiles<'_> {
        SledTiles::new(&self.db, &self.upper_tiles)
    }

    fn check_size(&self, size: TreeSize) -> Result<(), StoreError> {
        let current = self.tree_state().size;
        if size > current {
            return Err(StoreError::BeyondCurrentSize {
                requested: size,
                current,
            });
        }
        Ok(())
    }
}

/// Opens sled, waiting a little while its lock is still held: sled's background threads keep
/// a dropped database's files, and so its lock, open for a short while, which makes reopening
/// in the same process (a restart in tests) fail without this wait.
fn open_sled(dir: &Path) -> Result<sled::Db, StoreError> {
    match open_sled_waiting_for_lock(dir) {
        Err(StoreError::Sled(sled::Error::Corruption { .. })) if remove_partial_snapshots(dir)? => {
            // sled 0.34 picks the newest `snap.*` file, even one it was still writing when the
            // process died (`snap.<lsn>.generating`, renamed only once complete and synced), and
            // then refuses to open. Such a file is never needed: the log holds every committed
            // write and an older snapshot, or none, is a valid start for replaying it. The
            // checks of `check_stored_tree` then confirm that nothing committed was lost.
            open_sled_waiting_for_lock(dir)
        }
        result => result,
    }
}

fn open_sled_waiting_for_lock(dir: &Path) -> Result<sled::Db, StoreError> {
    let config = sled::Config::new()
        .path(dir)
        .segment_size(SEGMENT_SIZE)
        .cache_capacity(CACHE_BYTES);
    let deadline = Instant::now() + OPEN_LOCK_WAIT;
    loop {
        match config.open() {
            Err(sled::Error::Io(error))
                if error.to_string().contains("could not acquire lock")
                    && Instant::now() < deadline =>
            {
                std::thread::sleep(OPEN_LOCK_RETRY);
            }
            result => return Ok(result?),
        }
    }
}

/// Removes the snapshot files sled 0.34 left half-written (`snap.*.generating`); returns
/// whether there were any.
fn remove_partial_snapshots(dir: &Path) -> Result<bool, StoreError> {
    let mut removed = false;
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if name.starts_with("snap.") && name.ends_with(".generating") {
            tracing::warn!(file = %path.display(), "removing a snapshot sled left half-written");
            std::fs::remove_file(&path)?;
            removed = true;
        }
    }
    Ok(removed)
}

fn check_append_limits(entries: &[Vec<u8>], state_writes: &[StateWrite]) -> Result<(), StoreError> {
    if entries.is_empty() {
        return Err(StoreError::EmptyAppend);
    }
    if entries.len() > APPEND_ENTRIES_MAX {
        return Err(StoreError::TooManyEntries(entries.len()));
    }
    if let Some((position, entry)) = entries
        .iter()
        .enumerate()
        .find(|(_, entry)| entry.len() > ENTRY_LEN_MAX)
    {
        return Err(StoreError::EntryTooLong {
            position,
            len: entry.len(),
        });
    }
    if state_writes.len() > STATE_WRITES_MAX {
        return Err(StoreError::TooManyStateWrites(state_writes.len()));
    }
    let too_long = |(key, value): &(Vec<u8>, Option<Vec<u8>>)| {
        key.len() > STATE_KEY_LEN_MAX
            || value
                .as_ref()
                .is_some_and(|v| v.len() > STATE_VALUE_LEN_MAX)
    };
    if let Some(position) = state_writes.iter().position(too_long) {
        return Err(StoreError::StateWriteTooLong { position });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::SigningKey;
    use isnad_log::{verify_consistency, verify_inclusion};

    use super::*;

    const LOG_NAME: &str = "isnad.example/log";

    fn signer() -> NoteSigner {
        NoteSigner::new(LOG_NAME, SigningKey::from_bytes(&[3; 32])).expect("valid log name")
    }

    fn entries(first: u64, count: u64) -> Vec<Vec<u8>> {
        (first..first + count)
            .map(|index| format!("entry {index}").into_bytes())
            .collect()
    }

    fn append_batches(store: &Store, batch_lens: &[u64]) -> Vec<AppendOutcome> {
        let mut outcomes = Vec::new();
        for &len in batch_lens {
            let first = store.tree_state().size.0;
            let outcome = store.append(&entries(first, len), Vec::new(), &signer());
            outcomes.push(outcome.expect("append succeeds"));
        }
        outcomes
    }

    #[test]
    fn a_half_written_sled_snapshot_does_not_stop_the_store_from_opening() {
        let dir = tempfile::tempdir().expect("temp dir");
        let outcomes = append_batches(&Store::open(dir.path()).expect("open"), &[10, 20]);
        // What a process killed while sled wrote a snapshot leaves behind.
        let partial = dir.path().join("snap.FFFFFFFFFFFFFFFF.generating");
        std::fs::write(&partial, b"half a snapshot").expect("write");
        let store = Store::open(dir.path()).expect("reopens");
        assert_eq!(
            store.tree_state(),
            outcomes.last().expect("two appends").tree
        );
        assert!(!partial.exists(), "the partial snapshot is gone");
    }

    #[test]
    fn appends_survive_reopen_and_serve_entries_proofs_and_checkpoints() {
        let dir = tempfile::tempdir().expect("temp dir");
        let outcomes = append_batches(&Store::open(dir.path()).expect("open"), &[1, 300, 255, 1]);
        let store = Store::open(dir.path()).expect("reopen");
        let tree = store.tree_state();
        assert_eq!(tree, outcomes.last().expect("four appends").tree);
        assert_eq!(tree.size, TreeSize(557));
        assert_eq!(
            outcomes.iter().map(|o| o.first_index.0).collect::<Vec<_>>(),
            [0, 1, 301, 556]
        );
        assert_eq!(
            store.entry(LeafIndex(300)).expect("read"),
            Some(b"entry 300".to_vec())
        );
        assert_eq!(store.entry(LeafIndex(557)).expect("read"), None);
        assert_eq!(
            store.entries(LeafIndex(555), LeafIndex(600)).expect("read"),
            entries(555, 2)
        );
        let verifier = NoteVerifier::from_vkey(&signer().vkey()).expect("vkey parses");
        for outcome in &outcomes {
            let note = store
                .checkpoint_at(outcome.tree.size)
                .expect("read")
                .expect("kept");
            assert_eq!(note, outcome.checkpoint);
            let checkpoint = verifier.verify(&note).expect("signed by the log");
            assert_eq!(
                (checkpoint.size, checkpoint.root),
                (outcome.tree.size, outcome.tree.root)
            );
            let proof = store
                .consistency_proof(checkpoint.size, tree.size)
                .expect("proof");
            assert_eq!(
                verify_consistency(
                    checkpoint.size,
                    tree.size,
                    &proof,
                    &checkpoint.root,
                    &tree.root
                ),
                Ok(())
            );
        }
        assert_eq!(store.checkpoint_at(TreeSize(2)).expect("read"), None);
        for (index, batch) in [(0, 0), (1, 1), (300, 1), (301, 2), (555, 2), (556, 3)] {
            let covering = store.checkpoint_covering(LeafIndex(index)).expect("read");
            let expected = &outcomes[batch];
            assert_eq!(
                covering,
                Some((expected.tree.size, expected.checkpoint.clone()))
            );
        }
        assert_eq!(
            store.checkpoint_covering(LeafIndex(557)).expect("read"),
            None
        );
        assert_eq!(
            store.latest_checkpoint().expect("read"),
            Some(outcomes[3].checkpoint.clone())
        );
        for index in [0, 255, 256, 556] {
            let leaf = leaf_hash(format!("entry {index}").as_bytes());
            assert_eq!(
                store.index_of_leaf(&leaf).expect("lookup"),
                Some(LeafIndex(index))
            );
            let proof = store
                .inclusion_proof(LeafIndex(index), tree.size)
                .expect("proof");
            assert_eq!(
                verify_inclusion(&leaf, LeafIndex(index), tree.size, &proof, &tree.root),
                Ok(())
            );
        }
        assert_eq!(
            store
                .index_of_leaf(&leaf_hash(b"never appended"))
                .expect("lookup"),
            None
        );
    }

    #[test]
    fn leaf_lookup_spans_index_segments_and_the_tail() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(dir.path()).expect("open");
        let size = 2 * crate::leaf_index::SEGMENT_LEAVES + 1_000;
        let entry = |index: u64| match index {
            // A repeat of entry 5 in the second segment, and one of entry 70,000 in the tail.
            70_000 => 5u64.to_be_bytes().to_vec(),
            131_500 => 70_001u64.to_be_bytes().to_vec(),
            _ => index.to_be_bytes().to_vec(),
        };
        let mut first = 0;
        while first < size {
            let end = (first + APPEND_ENTRIES_MAX as u64).min(size);
            let batch: Vec<Vec<u8>> = (first..end).map(entry).collect();
            store.append(&batch, Vec::new(), &signer()).expect("append");
            first = end;
        }
        for (entry_of, expected) in [
            (0, 0),
            (5, 5),
            (65_535, 65_535),
            (65_536, 65_536),
            (70_001, 70_001),
            (131_071, 131_071),
            (131_072, 131_072),
            (size - 1, size - 1),
        ] {
            let leaf = leaf_hash(&entry(entry_of));
            assert_eq!(
                store.index_of_leaf(&leaf).expect("lookup"),
                Some(LeafIndex(expected)),
                "entry {entry_of}"
            );
        }
        // Proofs through the cache of upper tiles (read twice: filled, then hit) match proofs
        // read straight from sled.
        let tree = store.tree_state();
        for _ in 0..2 {
            let cached = store
                .inclusion_proof(LeafIndex(7), tree.size)
                .expect("proof");
            let uncached = isnad_log::inclusion_proof(
                &SledTiles::uncached(&store.db),
                LeafIndex(7),
                tree.size,
            );
            assert_eq!(cached, uncached.expect("proof"));
        }
        let absent = leaf_hash(&size.to_be_bytes());
        assert_eq!(store.index_of_leaf(&absent).expect("lookup"), None);
    }

    #[test]
    fn a_repeated_entry_is_found_at_its_first_index() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(dir.path()).expect("open");
        let twice = vec![b"same".to_vec(), b"other".to_vec(), b"same".to_vec()];
        store.append(&twice, Vec::new(), &signer()).expect("append");
        assert_eq!(
            store.index_of_leaf(&leaf_hash(b"same")).expect("lookup"),
            Some(LeafIndex(0))
        );
    }

    #[test]
    fn state_writes_commit_with_the_entries() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(dir.path()).expect("open");
        let writes = |pairs: &[(&str, Option<&str>)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.as_bytes().to_vec(), v.map(|v| v.as_bytes().to_vec())))
                .collect()
        };
        store
            .append(
                &entries(0, 1),
                writes(&[
                    ("u/1", Some("a")),
                    ("u/2", Some("b")),
                    ("u/3", Some("c")),
                    ("v/1", Some("d")),
                ]),
                &signer(),
            )
            .expect("append");
        store
            .append(&entries(1, 1), writes(&[("u/2", None)]), &signer())
            .expect("append");
        assert_eq!(store.state_get(b"u/1").expect("get"), Some(b"a".to_vec()));
        assert_eq!(store.state_get(b"u/2").expect("get"), None);
        let pairs = |found: Vec<(Vec<u8>, Vec<u8>)>| {
            found
                .into_iter()
                .map(|(k, v)| {
                    (
                        String::from_utf8(k).expect("utf-8"),
                        String::from_utf8(v).expect("utf-8"),
                    )
                })
                .collect::<Vec<_>>()
        };
        let owned = |list: &[(&str, &str)]| {
            list.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            pairs(store.state_scan(b"u/", None, 10).expect("scan")),
            owned(&[("u/1", "a"), ("u/3", "c")])
        );
        assert_eq!(
            pairs(store.state_scan(b"u/", Some(b"u/1"), 10).expect("scan")),
            owned(&[("u/3", "c")])
        );
        assert_eq!(
            pairs(store.state_scan(b"u/", None, 1).expect("scan")),
            owned(&[("u/1", "a")])
        );
        assert_eq!(
            pairs(store.state_scan(b"u/", Some(b"a"), 10).expect("scan")),
            owned(&[("u/1", "a"), ("u/3", "c")])
        );
        assert_eq!(
            pairs(store.state_scan(b"u/", Some(b"z"), 10).expect("scan")),
            owned(&[])
        );
        assert_eq!(
            pairs(store.state_scan(b"", None, 10).expect("scan")).len(),
            3
        );
    }

    #[track_caller]
    fn check_refused(
        store: &Store,
        entries: &[Vec<u8>],
        state_writes: Vec<(Vec<u8>, Option<Vec<u8>>)>,
        expected: &str,
    ) {
        let before = store.tree_state();
        let checkpoint = store.latest_checkpoint().expect("read");
        let error = store
            .append(entries, state_writes, &signer())
            .expect_err("refused");
        assert_eq!(
            format!("{error:?}").split(['(', ' ', '{']).next(),
            Some(expected),
            "{error}"
        );
        assert_eq!(store.tree_state(), before, "the tree did not change");
        assert_eq!(store.latest_checkpoint().expect("read"), checkpoint);
        assert_eq!(store.entry(LeafIndex(before.size.0)).expect("read"), None);
        assert_eq!(
            store.state_get(b"k").expect("read"),
            None,
            "no state was written"
        );
    }

    #[test]
    fn appends_over_a_limit_change_nothing() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(dir.path()).expect("open");
        append_batches(&store, &[3]);
        let state = |key_len: usize, value_len: usize| {
            vec![(vec![b'k'; key_len], Some(vec![0; value_len]))]
        };
        let one = entries(3, 1);
        check_refused(&store, &[], state(1, 1), "EmptyAppend");
        check_refused(
            &store,
            &vec![vec![1]; APPEND_ENTRIES_MAX + 1],
            state(1, 1),
            "TooManyEntries",
        );
        check_refused(
            &store,
            &[vec![1], vec![0; ENTRY_LEN_MAX + 1]],
            state(1, 1),
            "EntryTooLong",
        );
        check_refused(
            &store,
            &one,
            state(STATE_KEY_LEN_MAX + 1, 1),
            "StateWriteTooLong",
        );
        check_refused(
            &store,
            &one,
            state(1, STATE_VALUE_LEN_MAX + 1),
            "StateWriteTooLong",
        );
        let many = vec![(b"k".to_vec(), None); STATE_WRITES_MAX + 1];
        check_refused(&store, &one, many, "TooManyStateWrites");
        // Exactly at the limits is accepted.
        let largest = vec![vec![7; ENTRY_LEN_MAX]; 2];
        store
            .append(
                &largest,
                state(STATE_KEY_LEN_MAX, STATE_VALUE_LEN_MAX),
                &signer(),
            )
            .expect("at the limits");
    }

    #[test]
    fn a_store_whose_append_was_not_made_durable_refuses_appends() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(dir.path()).expect("open");
        append_batches(&store, &[2]);
        // What a failed fdatasync leaves behind.
        store.broken.store(true, Ordering::SeqCst);
        check_refused(&store, &entries(2, 1), Vec::new(), "NeedsReopen");
        drop(store);
        let store = Store::open(dir.path()).expect("reopen");
        assert_eq!(append_batches(&store, &[1])[0].tree.size, TreeSize(3));
    }

    #[test]
    fn a_tree_that_does_not_extend_the_last_checkpoint_is_not_signed() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(dir.path()).expect("open");
        append_batches(&store, &[5]);
        // Damage the first leaf hash: the next tree would rewrite history.
        let key = keys::tile_key(isnad_log::TileId { level: 0, index: 0 });
        let mut hashes =
            keys::decode_tile(&store.db.get(key).expect("read").expect("tile")).expect("decodes");
        hashes[0][0] ^= 1;
        store
            .db
            .insert(key, keys::encode_tile(&hashes))
            .expect("write");
        check_refused(
            &store,
            &entries(5, 1),
            vec![(b"k".to_vec(), Some(b"v".to_vec()))],
            "InconsistentCheckpoint",
        );
    }

    #[track_caller]
    fn check_reopen_fails(damage: impl FnOnce(&sled::Db), expected_problem: &str) {
        let dir = tempfile::tempdir().expect("temp dir");
        {
            let store = Store::open(dir.path()).expect("open");
            append_batches(&store, &[4, 300]);
            damage(&store.db);
            store.db.flush().expect("flush");
        }
        check_open_refused(dir.path(), SEGMENT_ENTRIES, expected_problem);
    }

    /// Opening `dir` fails with `expected_problem` and leaves the segment files as they were.
    #[track_caller]
    fn check_open_refused(dir: &Path, entries_per_segment: u64, expected_problem: &str) {
        let before = segment_files(dir);
        match Store::open_with(dir, entries_per_segment) {
            Err(StoreError::Corrupt { problem, .. }) => assert_eq!(problem, expected_problem),
            other => panic!("expected a corrupt store, got {other:?}"),
        }
        assert_eq!(
            segment_files(dir),
            before,
            "the refused open changed no file"
        );
    }

    /// Entries per segment file in tests, so that a few hundred entries cross files.
    const TEST_SEGMENT_ENTRIES: u64 = 512;

    fn segment_path(dir: &Path, segment: u64) -> std::path::PathBuf {
        dir.join(crate::segments::ENTRIES_DIR)
            .join(format!("{segment:08}.seg"))
    }

    /// Every segment file's name and bytes, by name.
    fn segment_files(dir: &Path) -> Vec<(std::ffi::OsString, Vec<u8>)> {
        let folder = dir.join(crate::segments::ENTRIES_DIR);
        let mut files: Vec<_> = std::fs::read_dir(folder)
            .expect("segment folder")
            .map(|entry| {
                let entry = entry.expect("folder entry");
                let bytes = std::fs::read(entry.path()).expect("segment file");
                (entry.file_name(), bytes)
            })
            .collect();
        files.sort();
        files
    }

    /// Appends `batch_lens` to a store with small segment files, and returns its folder.
    fn small_segments_store(batch_lens: &[u64]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open_with(dir.path(), TEST_SEGMENT_ENTRIES).expect("open");
        append_batches(&store, batch_lens);
        dir
    }

    /// Adds `bytes` at the end of segment file `segment`, creating it if needed.
    fn append_to_segment(dir: &Path, segment: u64, bytes: &[u8]) {
        use std::io::Write;
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(segment_path(dir, segment))
            .expect("segment file");
        file.write_all(bytes).expect("write");
    }

    /// A framed entry as an append writes it.
    fn frame(entry: &[u8]) -> Vec<u8> {
        let mut frame = (entry.len() as u32).to_be_bytes().to_vec();
        frame.extend_from_slice(entry);
        frame
    }

    /// Entries beyond the tree size, as an append that crashed between syncing its segment
    /// writes and making its sled batch durable leaves them, are cut off on reopen: the store
    /// holds exactly its durable entries, its files are as before, and appends go on.
    #[track_caller]
    fn check_recovers(batch_lens: &[u64], damage: impl FnOnce(&Path)) {
        let dir = small_segments_store(batch_lens);
        let size: u64 = batch_lens.iter().sum();
        let before = segment_files(dir.path());
        damage(dir.path());
        let store = Store::open_with(dir.path(), TEST_SEGMENT_ENTRIES).expect("reopen");
        assert_eq!(store.tree_state().size, TreeSize(size));
        assert_eq!(segment_files(dir.path()), before, "only the torn tail went");
        append_batches(&store, &[600]);
        drop(store);
        let store = Store::open_with(dir.path(), TEST_SEGMENT_ENTRIES).expect("reopen");
        let end = LeafIndex(size + 600);
        assert_eq!(
            store.entries(LeafIndex(0), end).expect("read"),
            entries(0, size + 600)
        );
    }

    #[test]
    fn reopening_cuts_entries_beyond_the_tree_size() {
        let extra = frame(b"never committed");
        check_recovers(&[4, 300, 300], |dir| append_to_segment(dir, 1, &extra));
        check_recovers(&[4, 300, 300], |dir| append_to_segment(dir, 1, &extra[..7]));
        check_recovers(&[4, 300, 300], |dir| append_to_segment(dir, 1, &extra[..2]));
        check_recovers(&[512], |dir| {
            append_to_segment(dir, 1, b"isnadseg\x01");
            append_to_segment(dir, 1, &extra);
        });
        check_recovers(&[], |dir| append_to_segment(dir, 0, b"isnadseg\x01"));
        check_recovers(&[100], |dir| {
            append_to_segment(dir, 0, &extra);
            append_to_segment(dir, 3, b"isnadseg");
        });
    }

    #[test]
    fn appends_fill_bundles_and_segment_files_in_order() {
        // Batches that end inside a bundle, on a bundle edge, on a segment edge, and across.
        let batch_lens = [1, 255, 256, 100, 412, 1_000, 3];
        let dir = small_segments_store(&batch_lens);
        let size = batch_lens.iter().sum();
        let store = Store::open_with(dir.path(), TEST_SEGMENT_ENTRIES).expect("reopen");
        assert_eq!(
            store.entries(LeafIndex(0), LeafIndex(size)).expect("read"),
            entries(0, size)
        );
        for index in [0, 255, 256, 511, 512, 1_023, 1_024, size - 1] {
            let expected = format!("entry {index}").into_bytes();
            assert_eq!(store.entry(LeafIndex(index)).expect("read"), Some(expected));
        }
        let files: Vec<_> = segment_files(dir.path())
            .into_iter()
            .map(|(name, bytes)| (name.into_string().expect("UTF-8 name"), bytes.len()))
            .collect();
        let names: Vec<&str> = files.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(
            names,
            [
                "00000000.seg",
                "00000001.seg",
                "00000002.seg",
                "00000003.seg"
            ]
        );
        // 9 header bytes, then a 4-byte length and the entry per frame.
        let frames_len = |range: std::ops::Range<u64>| {
            range
                .map(|index| 4 + format!("entry {index}").len())
                .sum::<usize>()
        };
        assert_eq!(files[1].1, 9 + frames_len(512..1_024));
        assert_eq!(files[3].1, 9 + frames_len(1_536..size));
    }

    #[test]
    fn reopening_refuses_missing_or_damaged_entries() {
        let refused = |damage: &dyn Fn(&Path), expected_problem: &str| {
            let dir = small_segments_store(&[4, 300, 300]);
            damage(dir.path());
            check_open_refused(dir.path(), TEST_SEGMENT_ENTRIES, expected_problem);
        };
        let rewrite = |dir: &Path, segment: u64, change: &dyn Fn(&mut Vec<u8>)| {
            let path = segment_path(dir, segment);
            let mut bytes = std::fs::read(&path).expect("read");
            change(&mut bytes);
            std::fs::write(&path, bytes).expect("write");
        };
        refused(
            &|dir| rewrite(dir, 1, &|bytes| bytes.truncate(bytes.len() - 1)),
            "shorter than the tree size",
        );
        refused(
            &|dir| rewrite(dir, 1, &|bytes| bytes.truncate(9)),
            "shorter than the tree size",
        );
        refused(
            &|dir| std::fs::remove_file(segment_path(dir, 0)).expect("remove"),
            "missing below the tree size",
        );
        refused(
            &|dir| std::fs::remove_file(segment_path(dir, 1)).expect("remove"),
            "missing below the tree size",
        );
        refused(
            &|dir| rewrite(dir, 1, &|bytes| *bytes.last_mut().expect("entry") ^= 1),
            "last entry differs from the last leaf",
        );
        let last_frame_len = 4 + "entry 603".len();
        refused(
            &|dir| {
                rewrite(dir, 1, &|bytes| {
                    let frame_start = bytes.len() - last_frame_len;
                    bytes[frame_start] ^= 1;
                })
            },
            "frame length differs from its span",
        );
        refused(
            &|dir| rewrite(dir, 1, &|bytes| bytes[0] ^= 1),
            "not a segment file",
        );
        refused(
            &|dir| rewrite(dir, 1, &|bytes| bytes[8] = 2),
            "unknown format version",
        );
        refused(
            &|dir| rewrite(dir, 1, &|bytes| bytes.truncate(5)),
            "cut header",
        );
    }

    #[test]
    fn a_damaged_entry_below_the_last_is_reported_when_read() {
        let dir = small_segments_store(&[4, 300]);
        let path = segment_path(dir.path(), 0);
        let mut bytes = std::fs::read(&path).expect("read");
        // The length of entry 0's frame, just after the header.
        bytes[9] ^= 1;
        std::fs::write(&path, bytes).expect("write");
        let store = Store::open_with(dir.path(), TEST_SEGMENT_ENTRIES).expect("reopen");
        assert!(matches!(
            store.entry(LeafIndex(0)),
            Err(StoreError::Corrupt {
                problem: "frame length differs from its span",
                ..
            })
        ));
        assert_eq!(
            store.entry(LeafIndex(1)).expect("read"),
            Some(b"entry 1".to_vec())
        );
    }

    #[test]
    fn reopening_checks_size_root_and_checkpoint_agree() {
        let tree = |db: &sled::Db| {
            keys::decode_meta(&db.get(keys::META_KEY).expect("read").expect("meta"))
                .expect("decodes")
        };
        check_reopen_fails(
            |db| {
                let mut state = tree(db);
                state.root[0] ^= 1;
                db.insert(keys::META_KEY, keys::encode_meta(&state))
                    .expect("write");
            },
            "root differs from the root of the stored tiles",
        );
        check_reopen_fails(
            |db| {
                let mut state = tree(db);
                state.size = TreeSize(4);
                let root = isnad_log::root(&SledTiles::uncached(db), state.size).expect("root");
                state.root = root;
                db.insert(keys::META_KEY, keys::encode_meta(&state))
                    .expect("write");
            },
            "does not end at the tree size",
        );
        check_reopen_fails(
            |db| {
                db.remove(keys::checkpoint_key(TreeSize(304)))
                    .expect("remove");
            },
            "missing for the stored tree size",
        );
        check_reopen_fails(
            |db| {
                let older = db
                    .get(keys::checkpoint_key(TreeSize(4)))
                    .expect("read")
                    .expect("kept");
                db.insert(keys::checkpoint_key(TreeSize(304)), older)
                    .expect("write");
            },
            "differs from the stored tree",
        );
        check_reopen_fails(
            |db| {
                db.remove(keys::span_key(1)).expect("remove");
            },
            "missing below the tree size",
        );
        check_reopen_fails(
            |db| {
                db.remove(keys::META_KEY).expect("remove");
            },
            "missing from a non-empty database",
        );
        check_reopen_fails(
            |db| {
                db.insert(keys::META_KEY, vec![9]).expect("write");
            },
            "unknown format version",
        );
    }

    #[test]
    fn requests_beyond_the_tree_are_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(dir.path()).expect("open");
        append_batches(&store, &[10]);
        let beyond = |result: Result<Vec<Hash>, StoreError>| {
            matches!(result, Err(StoreError::BeyondCurrentSize { .. }))
        };
        assert!(beyond(store.inclusion_proof(LeafIndex(0), TreeSize(11))));
        assert!(beyond(store.consistency_proof(TreeSize(1), TreeSize(11))));
        assert!(matches!(
            store.inclusion_proof(LeafIndex(10), TreeSize(10)),
            Err(StoreError::Log(LogError::IndexOutOfRange { .. }))
        ));
        assert!(matches!(
            store.consistency_proof(TreeSize(0), TreeSize(10)),
            Err(StoreError::Log(LogError::BadSizes { .. }))
        ));
        assert!(matches!(
            store.entries(LeafIndex(5), LeafIndex(4)),
            Err(StoreError::BadRange { .. })
        ));
        assert!(matches!(
            store.entries(LeafIndex(0), LeafIndex(ENTRIES_READ_MAX + 1)),
            Err(StoreError::BadRange { .. })
        ));
        assert_eq!(
            store
                .entries(LeafIndex(0), LeafIndex(ENTRIES_READ_MAX))
                .expect("read")
                .len(),
            10
        );
        assert_eq!(store.checkpoint_at(TreeSize(11)).expect("read"), None);
    }
}
