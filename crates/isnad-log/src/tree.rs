//! The tree itself: hashes kept in tiles behind a [`NodeStore`], appends that compute what to
//! write, and inclusion and consistency proofs read from the stored hashes.
//!
//! Layout (C2SP tlog-tiles, tile height 8): tile level `L` holds the hashes of the perfect
//! subtrees of `2^(8L)` leaves, left to right, in rows cut into tiles of [`TILE_WIDTH`] hashes.
//! Level 0 holds the leaf hashes. A tile is stored as its row of hashes; a full tile also gets
//! a "mid row": the 16 hashes four levels up inside it, so that a proof hashes at most 7 nodes
//! per half tile instead of up to 127 (the mid row is derived data, and a store may omit it).
//! The rightmost tile of a level may be partial; it only ever grows, so a tile read now also
//! serves every smaller tree size.

use std::collections::{BTreeMap, HashMap};
use std::error::Error as StdError;

use thiserror::Error;

use crate::hash::{
    Hash, LeafIndex, TreeSize, empty_root, fold_right_border, node_hash, perfect_root,
};

/// Tree levels covered by one tile.
pub const TILE_HEIGHT: u8 = 8;

/// Hashes in a full tile: `2^TILE_HEIGHT`.
pub const TILE_WIDTH: usize = 1 << TILE_HEIGHT;

/// Tree levels from a tile's row up to its mid row.
pub const MID_ROW_HEIGHT: u32 = 4;

/// Hashes in a mid row: one per `2^MID_ROW_HEIGHT` hashes of a full tile.
pub const MID_ROW_WIDTH: usize = TILE_WIDTH >> MID_ROW_HEIGHT;

/// Leaves appended in one call at most, so that one append stays one bounded storage batch.
pub const APPEND_LEAVES_MAX: usize = 1 << 20;

/// The largest tree size handled: sizes stay below `2^63` so shifts and sums never overflow.
pub const TREE_SIZE_MAX: u64 = 1 << 62;

/// The error a [`NodeStore`] reports when it cannot read.
pub type NodeStoreError = Box<dyn StdError + Send + Sync + 'static>;

/// Names one tile: its tile level and its position in that level's row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TileId {
    /// Tile level: the tile holds hashes of subtrees of `2^(8 * level)` leaves.
    pub level: u8,
    /// Position of the tile in its level, counted from zero.
    pub index: u64,
}

/// Where the tree's hashes live. Implementations only store and return tiles; all hashing
/// happens in this crate.
pub trait NodeStore {
    /// Returns the hashes of tile `id` as last written, or `None` if it was never written.
    fn read_tile(&self, id: TileId) -> Result<Option<Vec<Hash>>, NodeStoreError>;

    /// Returns the mid row of full tile `id`, or `None` if the store does not keep it; proofs
    /// are the same either way, only slower without.
    fn read_mid_row(&self, id: TileId) -> Result<Option<Vec<Hash>>, NodeStoreError> {
        let _ = id;
        Ok(None)
    }
}

/// The size and root of one version of the tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TreeState {
    /// Number of leaves.
    pub size: TreeSize,
    /// Root hash, `SHA-256("")` for the empty tree.
    pub root: Hash,
}

impl TreeState {
    /// The tree with no leaves.
    pub fn empty() -> TreeState {
        TreeState {
            size: TreeSize(0),
            root: empty_root(),
        }
    }
}

/// The tiles an append changed, each with its whole new content, for the caller to store in
/// the same atomic batch as the entries they commit to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeWrites {
    /// New or grown tiles, by id.
    pub tiles: BTreeMap<TileId, Vec<Hash>>,
    /// Mid rows of the tiles this append filled, by tile id.
    pub mid_rows: BTreeMap<TileId, Vec<Hash>>,
}

/// Why a tree operation failed.
#[derive(Debug, Error)]
pub enum LogError {
    /// The store could not be read.
    #[error("node store read failed")]
    Storage(#[source] NodeStoreError),
    /// A tile the tree size implies is missing or too short: the store is damaged or belongs to
    /// another tree.
    #[error("tile {id:?} has {actual} hashes, expected at least {expected}")]
    MissingHashes {
        /// The tile read.
        id: TileId,
        /// Hashes found (0 when the tile is absent).
        actual: usize,
        /// Hashes needed.
        expected: usize,
    },
    /// The leaf index is not inside the tree.
    #[error("leaf index {index} is not below tree size {size}")]
    IndexOutOfRange {
        /// The requested leaf index.
        index: LeafIndex,
        /// The tree size asked about.
        size: TreeSize,
    },
    /// A proof was asked for between sizes that are not `0 < size1 <= size2 <= current size`.
    #[error("no consistency proof from size {size1} to size {size2}")]
    BadSizes {
        /// The earlier tree size.
        size1: TreeSize,
        /// The later tree size.
        size2: TreeSize,
    },
    /// The append would take the tree past [`TREE_SIZE_MAX`] or exceed [`APPEND_LEAVES_MAX`].
    #[error("appending {leaves} leaves to a tree of {size} exceeds the limits")]
    TooManyLeaves {
        /// Leaves in the request.
        leaves: usize,
        /// Size of the tree before the append.
        size: TreeSize,
    },
}

/// Computes the tiles and state that appending `leaves` (leaf hashes) to the tree `state`
/// produces, without writing anything. Costs O(k + log n) hashes and tile reads: only the
/// rightmost tile of each level is read, and only tiles that fill up are hashed.
pub fn append(
    store: &impl NodeStore,
    state: &TreeState,
    leaves: &[Hash],
) -> Result<(TreeState, NodeWrites), LogError> {
    let size = state.size.0;
    let new_size = size
        .checked_add(leaves.len() as u64)
        .filter(|&total| total <= TREE_SIZE_MAX);
    let new_size = match new_size {
        Some(total) if leaves.len() <= APPEND_LEAVES_MAX => total,
        _ => {
            return Err(LogError::TooManyLeaves {
                leaves: leaves.len(),
                size: state.size,
            });
        }
    };
    let mut writes = NodeWrites::default();
    let mut level = 0u8;
    let mut row_len = size;
    let mut added: Vec<Hash> = leaves.to_vec();
    while !added.is_empty() {
        added = extend_row(
            store,
            TileId {
                level,
                index: row_len / TILE_WIDTH as u64,
            },
            row_len,
            &added,
            &mut writes,
        )?;
        row_len /= TILE_WIDTH as u64;
        level += 1;
    }
    let staged = Staged::new(store, &writes);
    let root = root_at(&mut TileReader::new(&staged), TreeSize(new_size))?;
    Ok((
        TreeState {
            size: TreeSize(new_size),
            root,
        },
        writes,
    ))
}

/// Returns the root of the tree of `size` leaves, computed from the stored tiles.
pub fn root(store: &impl NodeStore, size: TreeSize) -> Result<Hash, LogError> {
    root_at(&mut TileReader::new(store), size)
}

/// Returns the inclusion proof of leaf `index` in the tree of `size` leaves (RFC 9162, section
/// 2.1.3.1). The caller must ensure `size` is not beyond the stored tree. Costs O(log n) reads.
pub fn inclusion_proof(
    store: &impl NodeStore,
    index: LeafIndex,
    size: TreeSize,
) -> Result<Vec<Hash>, LogError> {
    if index.0 >= size.0 || size.0 > TREE_SIZE_MAX {
        return Err(LogError::IndexOutOfRange { index, size });
    }
    sibling_path(&mut TileReader::new(store), 0, index.0, size.0)
}

/// Node and tile positions are small integers the log computes, never chosen by a client: a
/// fast hasher without flooding protection is safe for them.
type FastHash = foldhash::fast::FixedState;
type NodeMap<V> = HashMap<(u32, u64), V, FastHash>;

/// Returns the inclusion proofs of the leaves `indices` in the tree of `size` leaves, in order.
/// The proofs share the hashes they have in common, computed once: proofs for `n` consecutive
/// leaves cost O(n + log size) hashes, where one call of [`inclusion_proof`] per leaf costs up
/// to a tile's width each. With a `cache`, the hashes are also kept for later calls.
pub fn inclusion_proofs(
    store: &impl NodeStore,
    indices: impl IntoIterator<Item = u64>,
    size: TreeSize,
    cache: Option<&SubtreeCache>,
) -> Result<Vec<Vec<Hash>>, LogError> {
    let mut reader = TileReader::new(store);
    reader.memo = Some(NodeMap::default());
    reader.shared = cache;
    indices
        .into_iter()
        .map(|index| {
            if index >= size.0 || size.0 > TREE_SIZE_MAX {
                return Err(LogError::IndexOutOfRange {
                    index: LeafIndex(index),
                    size,
                });
            }
            sibling_path(&mut reader, 0, index, size.0)
        })
        .collect()
}

/// Hashes of perfect subtrees, kept across proofs and shared between threads. A perfect
/// subtree's hash never changes once its leaves are in the tree, so one computed for any tree
/// size serves every later one; proofs of leaves near the growing edge of the tree, whose tiles
/// are partial and have no mid rows, otherwise hash up to a tile's width per level each time.
///
/// Only hashes of committed leaves belong here: never use a cache with a store that shows
/// writes which may still be abandoned. Bounded: emptied when it reaches its capacity.
#[derive(Debug)]
pub struct SubtreeCache {
    hashes: std::sync::Mutex<NodeMap<Hash>>,
    capacity: usize,
}

impl SubtreeCache {
    /// A cache of at most `capacity` hashes.
    pub fn new(capacity: usize) -> SubtreeCache {
        SubtreeCache {
            hashes: std::sync::Mutex::new(NodeMap::default()),
            capacity,
        }
    }

    fn get(&self, node: (u32, u64)) -> Option<Hash> {
        self.lock().get(&node).copied()
    }

    fn insert(&self, node: (u32, u64), hash: Hash) {
        let mut hashes = self.lock();
        if hashes.len() >= self.capacity {
            hashes.clear();
        }
        hashes.insert(node, hash);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, NodeMap<Hash>> {
        // A panic elsewhere cannot leave a half-written hash: the map stays usable.
        self.hashes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Returns the consistency proof from the tree of `size1` leaves to the tree of `size2` leaves
/// (RFC 9162, section 2.1.4.1), for `0 < size1 <= size2`. The caller must ensure `size2` is not
/// beyond the stored tree. Costs O(log n) reads.
pub fn consistency_proof(
    store: &impl NodeStore,
    size1: TreeSize,
    size2: TreeSize,
) -> Result<Vec<Hash>, LogError> {
    if size1.0 == 0 || size1 > size2 || size2.0 > TREE_SIZE_MAX {
        return Err(LogError::BadSizes { size1, size2 });
    }
    if size1 == size2 {
        return Ok(Vec::new());
    }
    let mut reader = TileReader::new(store);
    // Start from the largest perfect subtree that ends at size1; unless it is the whole first
    // tree, the verifier needs its hash as the seed.
    let level = size1.0.trailing_zeros();
    let index = (size1.0 - 1) >> level;
    let mut proof = Vec::new();
    if index != 0 {
        proof.push(reader.perfect_hash(level, index)?);
    }
    proof.extend(sibling_path(&mut reader, level, index, size2.0)?);
    Ok(proof)
}

/// Appends `added` to the row of tile level `first.level`, which holds `row_len` hashes, and
/// records the changed tiles. Returns the roots of the tiles this fills, which extend the row
/// one tile level up.
fn extend_row(
    store: &impl NodeStore,
    first: TileId,
    row_len: u64,
    added: &[Hash],
    writes: &mut NodeWrites,
) -> Result<Vec<Hash>, LogError> {
    let kept = (row_len % TILE_WIDTH as u64) as usize;
    let mut row = Vec::with_capacity(kept + added.len());
    if kept > 0 {
        let mut reader = TileReader::new(store);
        row.extend_from_slice(&reader.tile(first, kept)?[..kept]);
    }
    row.extend_from_slice(added);
    let mut filled = Vec::new();
    for (offset, chunk) in row.chunks(TILE_WIDTH).enumerate() {
        let id = TileId {
            level: first.level,
            index: first.index + offset as u64,
        };
        if chunk.len() == TILE_WIDTH {
            let mid_row: Vec<Hash> = chunk.chunks(MID_ROW_WIDTH).map(perfect_root).collect();
            filled.push(perfect_root(&mid_row));
            writes.mid_rows.insert(id, mid_row);
        }
        writes.tiles.insert(id, chunk.to_vec());
    }
    Ok(filled)
}

fn root_at(reader: &mut TileReader<'_, impl NodeStore>, size: TreeSize) -> Result<Hash, LogError> {
    if size.0 == 0 {
        return Ok(empty_root());
    }
    reader.range_hash(0, size.0)
}

/// The hashes of the siblings of node (`level`, `index`) on its way to the root of the tree of
/// `size` leaves, lowest first. Siblings right of the tree's last leaf are absent; a sibling
/// that straddles it is the hash of its leaves inside the tree.
fn sibling_path(
    reader: &mut TileReader<'_, impl NodeStore>,
    level: u32,
    index: u64,
    size: u64,
) -> Result<Vec<Hash>, LogError> {
    let top = u64::BITS - (size - 1).leading_zeros();
    let mut path = Vec::with_capacity((top - level.min(top)) as usize);
    for sibling_level in level..top {
        let node = index >> (sibling_level - level);
        let start = (node ^ 1) << sibling_level;
        if start < size {
            let end = start.saturating_add(1 << sibling_level).min(size);
            path.push(reader.range_hash(start, end)?);
        }
    }
    Ok(path)
}

/// Reads tiles for one operation, keeping each one it read, since a proof touches the same tile
/// at several levels.
struct TileReader<'a, S> {
    store: &'a S,
    cache: HashMap<TileId, Vec<Hash>, FastHash>,
    mid_rows: HashMap<TileId, Option<Vec<Hash>>, FastHash>,
    /// Perfect subtree hashes by (level, index), kept when several proofs share them.
    memo: Option<NodeMap<Hash>>,
    /// The same, kept across calls.
    shared: Option<&'a SubtreeCache>,
}

impl<'a, S: NodeStore> TileReader<'a, S> {
    fn new(store: &'a S) -> Self {
        TileReader {
            store,
            cache: HashMap::default(),
            mid_rows: HashMap::default(),
            memo: None,
            shared: None,
        }
    }

    /// Returns the mid row of full tile `id`, if the store keeps one.
    fn mid_row(&mut self, id: TileId) -> Result<Option<&[Hash]>, LogError> {
        if !self.mid_rows.contains_key(&id) {
            let mid_row = self.store.read_mid_row(id).map_err(LogError::Storage)?;
            self.mid_rows.insert(id, mid_row);
        }
        match &self.mid_rows[&id] {
            Some(mid_row) if mid_row.len() != MID_ROW_WIDTH => Err(LogError::MissingHashes {
                id,
                actual: mid_row.len(),
                expected: MID_ROW_WIDTH,
            }),
            mid_row => Ok(mid_row.as_deref()),
        }
    }

    /// Returns tile `id`, checking that it holds at least `needed` hashes.
    fn tile(&mut self, id: TileId, needed: usize) -> Result<&[Hash], LogError> {
        if !self.cache.contains_key(&id) {
            let tile = self
                .store
                .read_tile(id)
                .map_err(LogError::Storage)?
                .unwrap_or_default();
            self.cache.insert(id, tile);
        }
        let tile = &self.cache[&id];
        if tile.len() < needed {
            return Err(LogError::MissingHashes {
                id,
                actual: tile.len(),
                expected: needed,
            });
        }
        Ok(tile)
    }

    /// The hash of leaves `start..end`, a subtree of the RFC 9162 tree: cut into perfect
    /// subtrees of decreasing size, then folded from the right.
    fn range_hash(&mut self, start: u64, end: u64) -> Result<Hash, LogError> {
        let mut pieces = Vec::new();
        let mut position = start;
        while position < end {
            let level = (end - position).ilog2().min(position.trailing_zeros());
            pieces.push(self.perfect_hash(level, position >> level)?);
            position += 1 << level;
        }
        Ok(fold_right_border(&pieces).expect("a non-empty range has at least one piece"))
    }

    /// The hash of perfect subtree (`level`, `index`): the `2^(level % 8)` hashes under it in its
    /// tile, hashed up, or fewer from the tile's mid row when the subtree reaches it.
    fn perfect_hash(&mut self, level: u32, index: u64) -> Result<Hash, LogError> {
        let tile_row = level.is_multiple_of(u32::from(TILE_HEIGHT));
        // A leaf hash is one read from its tile, and there are too many to keep.
        if level == 0 {
            return self.tile_hash(level, index);
        }
        let Some(memo) = &self.memo else {
            return self.tile_hash(level, index);
        };
        if let Some(hash) = memo.get(&(level, index)) {
            return Ok(*hash);
        }
        if let Some(hash) = self.shared.and_then(|shared| shared.get((level, index))) {
            if let Some(memo) = &mut self.memo {
                memo.insert((level, index), hash);
            }
            return Ok(hash);
        }
        // Built from its two halves, each kept, so that the proofs sharing this reader hash
        // every node once; a full tile's mid row still shortcuts the lower levels.
        // A hash stored in a tile row above the leaves is read, not rebuilt; kept all the same,
        // since every proof reads the same few upper tiles.
        let hash = if tile_row
            || level % u32::from(TILE_HEIGHT) >= MID_ROW_HEIGHT && self.has_mid_row(level, index)?
        {
            self.tile_hash(level, index)?
        } else {
            let left = self.perfect_hash(level - 1, index << 1)?;
            let right = self.perfect_hash(level - 1, (index << 1) | 1)?;
            node_hash(&left, &right)
        };
        if let Some(memo) = &mut self.memo {
            memo.insert((level, index), hash);
        }
        if let Some(shared) = self.shared {
            shared.insert((level, index), hash);
        }
        Ok(hash)
    }

    /// Whether the tile holding perfect subtree (`level`, `index`) has a mid row.
    fn has_mid_row(&mut self, level: u32, index: u64) -> Result<bool, LogError> {
        let id = Self::tile_of(level, index);
        Ok(self.mid_row(id)?.is_some())
    }

    /// The tile holding the hashes under perfect subtree (`level`, `index`).
    fn tile_of(level: u32, index: u64) -> TileId {
        let tile_level = level / u32::from(TILE_HEIGHT);
        let height = level % u32::from(TILE_HEIGHT);
        TileId {
            level: u8::try_from(tile_level).expect("tree levels stay below 64"),
            index: (index << height) / TILE_WIDTH as u64,
        }
    }

    /// [`TileReader::perfect_hash`] computed from its tile alone.
    fn tile_hash(&mut self, level: u32, index: u64) -> Result<Hash, LogError> {
        let tile_level = level / u32::from(TILE_HEIGHT);
        let height = level % u32::from(TILE_HEIGHT);
        let first = index << height;
        let id = TileId {
            level: u8::try_from(tile_level).expect("tree levels stay below 64"),
            index: first / TILE_WIDTH as u64,
        };
        let offset = (first % TILE_WIDTH as u64) as usize;
        let width = 1usize << height;
        if height >= MID_ROW_HEIGHT
            && let Some(mid_row) = self.mid_row(id)?
        {
            let (offset, width) = (offset >> MID_ROW_HEIGHT, width >> MID_ROW_HEIGHT);
            return Ok(perfect_root(&mid_row[offset..offset + width]));
        }
        let tile = self.tile(id, offset + width)?;
        Ok(perfect_root(&tile[offset..offset + width]))
    }
}

/// A store seen through writes not yet applied to it: lets an append hash the tiles it is about
/// to write, and lets a caller prove things about the tree an append produced before storing it.
#[derive(Debug)]
pub struct Staged<'a, S> {
    base: &'a S,
    writes: &'a NodeWrites,
}

impl<'a, S> Staged<'a, S> {
    /// `base` as it will be once `writes` are applied.
    pub fn new(base: &'a S, writes: &'a NodeWrites) -> Staged<'a, S> {
        Staged { base, writes }
    }
}

impl<S: NodeStore> NodeStore for Staged<'_, S> {
    fn read_tile(&self, id: TileId) -> Result<Option<Vec<Hash>>, NodeStoreError> {
        match self.writes.tiles.get(&id) {
            Some(tile) => Ok(Some(tile.clone())),
            None => self.base.read_tile(id),
        }
    }

    fn read_mid_row(&self, id: TileId) -> Result<Option<Vec<Hash>>, NodeStoreError> {
        match self.writes.mid_rows.get(&id) {
            Some(mid_row) => Ok(Some(mid_row.clone())),
            None => self.base.read_mid_row(id),
        }
    }
}

/// Tiles kept in memory: the [`NodeStore`] for unit tests, and for callers that stage writes.
#[derive(Clone, Debug, Default)]
pub struct MemNodeStore {
    tiles: HashMap<TileId, Vec<Hash>>,
    mid_rows: HashMap<TileId, Vec<Hash>>,
}

impl MemNodeStore {
    /// An empty store.
    pub fn new() -> MemNodeStore {
        MemNodeStore::default()
    }

    /// Stores every tile of `writes`, replacing earlier versions.
    pub fn apply(&mut self, writes: NodeWrites) {
        self.tiles.extend(writes.tiles);
        self.mid_rows.extend(writes.mid_rows);
    }

    /// Number of tiles stored.
    pub fn tile_count(&self) -> usize {
        self.tiles.len()
    }
}

impl NodeStore for MemNodeStore {
    fn read_tile(&self, id: TileId) -> Result<Option<Vec<Hash>>, NodeStoreError> {
        Ok(self.tiles.get(&id).cloned())
    }

    fn read_mid_row(&self, id: TileId) -> Result<Option<Vec<Hash>>, NodeStoreError> {
        Ok(self.mid_rows.get(&id).cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::leaf_hash;

    fn tree(size: u64) -> (MemNodeStore, TreeState) {
        let leaves: Vec<Hash> = (0..size)
            .map(|index| leaf_hash(&index.to_be_bytes()))
            .collect();
        let mut store = MemNodeStore::new();
        let (state, writes) = append(&store, &TreeState::empty(), &leaves).expect("append");
        store.apply(writes);
        (store, state)
    }

    #[test]
    fn append_writes_only_the_tiles_it_changes() {
        let (mut store, state) = tree(300);
        let (_, writes) = append(&store, &state, &[[1; 32]]).expect("append");
        let ids: Vec<TileId> = writes.tiles.keys().copied().collect();
        assert_eq!(ids, [TileId { level: 0, index: 1 }]);
        assert!(writes.mid_rows.is_empty(), "no tile filled up");
        assert_eq!(writes.tiles[&ids[0]].len(), 300 - TILE_WIDTH + 1);
        store.apply(writes);
        assert_eq!(
            store.tile_count(),
            3,
            "two level-0 tiles and one level-1 tile"
        );
        let (unchanged, no_writes) = append(&store, &state, &[]).expect("empty append");
        assert_eq!((unchanged, no_writes), (state, NodeWrites::default()));
    }

    #[track_caller]
    fn check(result: Result<Vec<Hash>, LogError>, expected: &str) {
        let error = result.expect_err("refused");
        assert_eq!(
            format!("{error:?}").split([' ', '{', '(']).next(),
            Some(expected),
            "{error}"
        );
    }

    #[test]
    fn requests_outside_the_stored_tree_are_refused() {
        let (store, state) = tree(10);
        check(
            inclusion_proof(&store, LeafIndex(10), TreeSize(10)),
            "IndexOutOfRange",
        );
        check(
            inclusion_proof(&store, LeafIndex(0), TreeSize(TREE_SIZE_MAX + 1)),
            "IndexOutOfRange",
        );
        check(
            consistency_proof(&store, TreeSize(0), TreeSize(5)),
            "BadSizes",
        );
        check(
            consistency_proof(&store, TreeSize(6), TreeSize(5)),
            "BadSizes",
        );
        // Sizes beyond what is stored find their tiles missing rather than inventing hashes.
        check(
            inclusion_proof(&store, LeafIndex(0), TreeSize(11)),
            "MissingHashes",
        );
        check(
            consistency_proof(&store, TreeSize(3), TreeSize(300)),
            "MissingHashes",
        );
        assert_eq!(
            consistency_proof(&store, state.size, state.size).expect("proof"),
            Vec::<Hash>::new()
        );
    }

    #[test]
    fn appends_past_the_limits_are_refused() {
        let store = MemNodeStore::new();
        let too_many = vec![[0; 32]; APPEND_LEAVES_MAX + 1];
        let result = append(&store, &TreeState::empty(), &too_many);
        assert!(
            matches!(result, Err(LogError::TooManyLeaves { leaves, .. }) if leaves == APPEND_LEAVES_MAX + 1)
        );
        let full = TreeState {
            size: TreeSize(TREE_SIZE_MAX),
            root: [0; 32],
        };
        let result = append(&store, &full, &[[0; 32]]);
        assert!(matches!(
            result,
            Err(LogError::TooManyLeaves { leaves: 1, .. })
        ));
        let (store, state) = tree(5);
        assert!(append(&store, &state, &vec![[0; 32]; APPEND_LEAVES_MAX]).is_ok());
    }

    /// The tiles of a store without their mid rows, as a store that does not keep them.
    struct WithoutMidRows<'a>(&'a MemNodeStore);

    impl NodeStore for WithoutMidRows<'_> {
        fn read_tile(&self, id: TileId) -> Result<Option<Vec<Hash>>, NodeStoreError> {
            self.0.read_tile(id)
        }
    }

    fn check_proofs_together(store: &impl NodeStore, window: std::ops::Range<u64>, size: u64) {
        let together =
            inclusion_proofs(store, window.clone(), TreeSize(size), None).expect("proofs");
        assert_eq!(together.len() as u64, window.end - window.start);
        for (index, proof) in window.zip(together) {
            let alone = inclusion_proof(store, LeafIndex(index), TreeSize(size)).expect("proof");
            assert_eq!(proof, alone, "leaf {index} of {size}");
        }
    }

    #[test]
    fn proofs_of_neighbours_together_equal_proofs_one_by_one() {
        // Partial and full tiles, with and without mid rows, at both tile levels.
        for size in [1u64, 2, 3, 255, 256, 257, 511, 4_113, 65_536 + 700] {
            let (store, _) = tree(size);
            let windows = [
                0..size.min(300),
                size / 2..(size / 2 + 40).min(size),
                size.saturating_sub(300)..size,
            ];
            for window in windows {
                check_proofs_together(&store, window.clone(), size);
                check_proofs_together(&WithoutMidRows(&store), window, size);
            }
            // Against an older size the tiles hold more than that tree.
            let older = size.div_ceil(2);
            check_proofs_together(&store, older.saturating_sub(50)..older, older);
        }
    }

    #[test]
    fn proofs_of_leaves_outside_the_tree_are_refused() {
        let (store, _) = tree(10);
        check(
            inclusion_proofs(&store, 5..11, TreeSize(10), None).map(|_| Vec::new()),
            "IndexOutOfRange",
        );
        assert!(
            inclusion_proofs(&store, 4..4, TreeSize(10), None)
                .expect("empty")
                .is_empty()
        );
    }

    #[test]
    fn a_shared_cache_serves_later_and_larger_trees() {
        for capacity in [3, 1 << 16] {
            let cache = SubtreeCache::new(capacity);
            let (mut store, mut state) = tree(300);
            let mut next = 300u64;
            for grow in [1u64, 17, 200, 4_000] {
                let size = state.size.0;
                let window = size.saturating_sub(120)..size;
                let cached = inclusion_proofs(&store, window.clone(), state.size, Some(&cache))
                    .expect("proofs");
                for (index, proof) in window.zip(cached) {
                    let alone =
                        inclusion_proof(&store, LeafIndex(index), state.size).expect("proof");
                    assert_eq!(proof, alone, "leaf {index} of {size}, capacity {capacity}");
                }
                let leaves: Vec<Hash> = (next..next + grow)
                    .map(|index| leaf_hash(&index.to_be_bytes()))
                    .collect();
                next += grow;
                let (grown, writes) = append(&store, &state, &leaves).expect("append");
                store.apply(writes);
                state = grown;
            }
        }
    }
}
