//! The tree's tiles in sled, as the log crate reads them, with the upper tile levels cached.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use isnad_log::{Hash, NodeStore, NodeStoreError, TILE_WIDTH, TileId};

use crate::keys;

/// Full tiles and mid rows of tile level 1 and up kept in memory at most: there is one per
/// 65,536 leaves, every proof reads them, and a full tile never changes. 8,192 of them (at
/// most 64 MiB) cover a tree of 2^29 leaves; beyond that the rest are read from sled.
const UPPER_TILES_CACHED_MAX: usize = 8192;

/// Which of a tile's two records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Record {
    Row,
    MidRow,
}

/// The hashes of one cached record, shared with readers.
type CachedHashes = Arc<Vec<Hash>>;

/// The cache of full upper-level tiles and their mid rows.
#[derive(Debug, Default)]
pub(crate) struct UpperTiles {
    records: Mutex<HashMap<(Record, TileId), CachedHashes>>,
}

/// Tiles read from sled, through the cache of upper tiles when one is given.
#[derive(Debug)]
pub(crate) struct SledTiles<'a> {
    db: &'a sled::Db,
    cache: Option<&'a UpperTiles>,
}

impl<'a> SledTiles<'a> {
    pub(crate) fn new(db: &'a sled::Db, cache: &'a UpperTiles) -> SledTiles<'a> {
        SledTiles {
            db,
            cache: Some(cache),
        }
    }

    /// Reads every tile from sled: for the checks on open, which must see what is stored.
    pub(crate) fn uncached(db: &'a sled::Db) -> SledTiles<'a> {
        SledTiles { db, cache: None }
    }

    fn read(&self, record: Record, id: TileId) -> Result<Option<Vec<Hash>>, NodeStoreError> {
        let cache = self.cache.filter(|_| id.level > 0);
        if let Some(hashes) = cache.and_then(|cache| cache.get(record, id)) {
            return Ok(Some(hashes.to_vec()));
        }
        let key = match record {
            Record::Row => keys::tile_key(id),
            Record::MidRow => keys::mid_row_key(id),
        };
        let Some(stored) = self.db.get(key)? else {
            return Ok(None);
        };
        let hashes = keys::decode_tile(&stored)?;
        let full = record == Record::MidRow || hashes.len() == TILE_WIDTH;
        if let Some(cache) = cache.filter(|_| full) {
            cache.insert(record, id, &hashes);
        }
        Ok(Some(hashes))
    }
}

impl UpperTiles {
    fn get(&self, record: Record, id: TileId) -> Option<Arc<Vec<Hash>>> {
        let records = self
            .records
            .lock()
            .expect("no thread panics holding the tile cache");
        records.get(&(record, id)).cloned()
    }

    fn insert(&self, record: Record, id: TileId, hashes: &[Hash]) {
        let mut records = self
            .records
            .lock()
            .expect("no thread panics holding the tile cache");
        if records.len() < UPPER_TILES_CACHED_MAX {
            records.insert((record, id), Arc::new(hashes.to_vec()));
        }
    }
}

impl NodeStore for SledTiles<'_> {
    fn read_tile(&self, id: TileId) -> Result<Option<Vec<Hash>>, NodeStoreError> {
        self.read(Record::Row, id)
    }

    fn read_mid_row(&self, id: TileId) -> Result<Option<Vec<Hash>>, NodeStoreError> {
        self.read(Record::MidRow, id)
    }
}

/// The store's tiles, for callers that use `isnad_log` directly. Tiles beyond the durable tree
/// may be visible here while an append is in flight; proofs and roots for durable sizes only
/// read their prefix, which never changes.
impl NodeStore for crate::Store {
    fn read_tile(&self, id: TileId) -> Result<Option<Vec<Hash>>, NodeStoreError> {
        self.tiles().read_tile(id)
    }

    fn read_mid_row(&self, id: TileId) -> Result<Option<Vec<Hash>>, NodeStoreError> {
        self.tiles().read_mid_row(id)
    }
}
