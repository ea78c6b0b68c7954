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

/// Bytes in one entry at most: the core's bound on what it frames (the header, key and
/// signature around a signed body of the largest size accepted).
pub use isnad_core::envelope::ENTRY_LEN_MAX;

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
    /// An entry read back from its segment file does not hash to its leaf in the tree: the
    /// file was damaged after the entry was appended (a flipped bit, an overwrite). The entry
    /// is not served; restore the segment file from a replica or a backup.
    #[error("stored entry {index} is damaged: it does not hash to its leaf in the tree")]
    EntryCorrupt {
        /// The entry's index in the log.
        index: u64,
    },
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
    /// Each is checked against its leaf hash in the tree before it is returned: an entry
    /// damaged on disk is refused with [`StoreError::EntryCorrupt`] (and logged), never served.
    pub fn entries(&self, start: LeafIndex, end: LeafIndex) -> Result<Vec<Vec<u8>>, StoreError> {
        let read = self.entries_and_leaves(start, end)?;
        let mut entries = Vec::with_capacity(read.len());
        for (index, (entry, leaf)) in (start.0..).zip(read) {
            if leaf_hash(&entry) != leaf {
                tracing::error!(
                    index,
                    "stored entry does not hash to its leaf in the tree; refusing to serve it"
                );
                return Err(StoreError::EntryCorrupt { index });
            }
            entries.push(entry);
        }
        Ok(entries)
    }

    /// The indices of the entries in `start..end` (cut at the tree size, at most
    /// [`ENTRIES_READ_MAX`]) whose bytes no longer hash to their leaf in the tree: what a
    /// scrub of the segment files looks for. A frame that cannot be read at all fails the
    /// whole call with [`StoreError::Corrupt`].
    pub fn damaged_entries(
        &self,
        start: LeafIndex,
        end: LeafIndex,
    ) -> Result<Vec<LeafIndex>, StoreError> {
        let read = self.entries_and_leaves(start, end)?;
        Ok((start.0..)
            .zip(read)
            .filter(|(_, (entry, leaf))| leaf_hash(entry) != *leaf)
            .map(|(index, _)| LeafIndex(index))
            .collect())
    }

    /// The entries at indices `start..end`, cut at the tree size, each with the leaf hash the
    /// level-0 tile of its bundle holds (one tile read per 256 entries). Not checked.
    fn entries_and_leaves(
        &self,
        start: LeafIndex,
        end: LeafIndex,
    ) -> Result<Vec<(Vec<u8>, Hash)>, StoreError> {
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
            let leaves = self.leaf_tile(bundle)?;
            let first = (index % keys::BUNDLE_WIDTH) as usize;
            let past_last = (end - bundle * keys::BUNDLE_WIDTH).min(keys::BUNDLE_WIDTH) as usize;
            if span.lens.len() < past_last {
                return Err(corrupt("entry span", "shorter than the tree size implies"));
            }
            if leaves.len() < past_last {
                return Err(corrupt("tile", "shorter than the tree size implies"));
            }
            let read = self.segments.read(bundle, &span, first..past_last)?;
            entries.extend(
                read.into_iter()
                    .zip(leaves[first..past_last].iter().copied()),
            );
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

    /// The last `limit` state keys with `prefix` and their values, in key order, read
    /// backwards from the end of the prefix: the time taken depends on `limit`, not on how
    /// many keys the prefix holds.
    pub fn state_scan_last(
        &self,
        prefix: &[u8],
        limit: usize,
    ) -> Result<Vec<StatePair>, StoreError> {
        let full_prefix = keys::state_key(prefix);
        let mut found = Vec::new();
        for pair in self.db.scan_prefix(&full_prefix).rev().take(limit) {
            let (key, value) = pair?;
            found.push((key[1..].to_vec(), value.to_vec()));
        }
        found.reverse();
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
        let (last_entry, last_leaf) = self
            .entries_and_leaves(LeafIndex(last_index), LeafIndex(state.size.0))?
            .pop()
            .expect("below the size");
        if leaf_hash(&last_entry) != last_leaf {
            return Err(corrupt(
                "entry segment",
                "last entry differs from the last leaf",
            ));
        }
        Ok(())
    }

    /// The leaf hashes of bundle `bundle`: its level-0 tile, read from sled (the cache holds
    /// only upper levels).
    fn leaf_tile(&self, bundle: u64) -> Result<Vec<Hash>, StoreError> {
        let id = isnad_log::TileId {
            level: 0,
            index: bundle,
        };
        let record = self.db.get(keys::tile_key(id))?;
        let record = record.ok_or_else(|| corrupt("tile", "missing below the tree size"))?;
        keys::decode_tile(&record)
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
mod tests;
