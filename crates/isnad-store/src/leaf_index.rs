//! Lookup of a leaf's index by its hash, without one sled key per leaf.
//!
//! Random per-leaf keys are what sled handles worst: measured here they took two thirds of
//! append time and about 640 bytes of disk per leaf. Instead, each segment of
//! [`SEGMENT_LEAVES`] leaves gets its index written once, when it completes, as 256 pages
//! chosen by the first byte of the leaf hash; a page lists the next 8 bytes of each hash with
//! the leaf's offset in the segment, sorted. Leaves of the last, incomplete segment are found by
//! scanning its level-0 tiles. A lookup reads one page per complete segment plus at most 256
//! tiles; every candidate is confirmed against the full hash in its tile.

use isnad_log::{Hash, LeafIndex, NodeStore, TILE_WIDTH, TileId};

use crate::StoreError;
use crate::keys::{self, corrupt};

/// Leaves per index segment: the span of one level-1 tile.
pub(crate) const SEGMENT_LEAVES: u64 = 1 << 16;

/// Level-0 tiles per segment.
const SEGMENT_TILES: u64 = SEGMENT_LEAVES / TILE_WIDTH as u64;

/// Bytes per page entry: 8 bytes of the hash after the first, and a u16 offset in the segment.
const PAGE_ENTRY_LEN: usize = 10;

/// An index page key and its record.
pub(crate) type PageWrite = (Vec<u8>, Vec<u8>);

/// The index pages that growing the tree from `old_size` to `new_size` leaves completes, read
/// from `tiles` (which must already show the new tree).
pub(crate) fn pages_to_write(
    tiles: &impl NodeStore,
    old_size: u64,
    new_size: u64,
) -> Result<Vec<PageWrite>, StoreError> {
    let mut writes = Vec::new();
    for segment in old_size / SEGMENT_LEAVES..new_size / SEGMENT_LEAVES {
        let mut pages: Vec<Vec<(u64, u16)>> = vec![Vec::new(); 256];
        for tile in 0..SEGMENT_TILES {
            let hashes = full_tile(tiles, segment * SEGMENT_TILES + tile)?;
            for (position, hash) in hashes.iter().enumerate() {
                let offset = u16::try_from(tile * TILE_WIDTH as u64 + position as u64)
                    .expect("a segment has 2^16 leaves");
                pages[usize::from(hash[0])].push((hash_rest(hash), offset));
            }
        }
        for (first_byte, mut page) in pages.into_iter().enumerate() {
            page.sort_unstable();
            let first_byte = u8::try_from(first_byte).expect("256 pages");
            let entries = page.iter().flat_map(|(rest, offset)| {
                rest.to_be_bytes().into_iter().chain(offset.to_be_bytes())
            });
            writes.push((
                keys::index_page_key(segment, first_byte),
                keys::encode_index_page(entries),
            ));
        }
    }
    Ok(writes)
}

/// The lowest index of a leaf with hash `leaf` in the tree of `size` leaves.
pub(crate) fn find(
    db: &sled::Db,
    tiles: &impl NodeStore,
    leaf: &Hash,
    size: u64,
) -> Result<Option<LeafIndex>, StoreError> {
    let complete = size / SEGMENT_LEAVES;
    for segment in 0..complete {
        let record = db.get(keys::index_page_key(segment, leaf[0]))?;
        let record = record.ok_or_else(|| corrupt("leaf index page", "missing"))?;
        let page = keys::decode_index_page(&record)?;
        let entries: Vec<&[u8]> = page.chunks_exact(PAGE_ENTRY_LEN).collect();
        let rest = hash_rest(leaf).to_be_bytes();
        let first = entries.partition_point(|entry| entry[..8] < rest[..]);
        for entry in entries[first..]
            .iter()
            .take_while(|entry| entry[..8] == rest[..])
        {
            let offset = u64::from(u16::from_be_bytes([entry[8], entry[9]]));
            let index = segment * SEGMENT_LEAVES + offset;
            if leaf_hash_at(tiles, index)? == *leaf {
                return Ok(Some(LeafIndex(index)));
            }
        }
    }
    scan_tail(tiles, leaf, complete * SEGMENT_LEAVES, size)
}

/// Scans the level-0 tiles of leaves `start..end` in order.
fn scan_tail(
    tiles: &impl NodeStore,
    leaf: &Hash,
    start: u64,
    end: u64,
) -> Result<Option<LeafIndex>, StoreError> {
    let width = TILE_WIDTH as u64;
    for tile in start / width..end.div_ceil(width) {
        let hashes = tiles
            .read_tile(TileId {
                level: 0,
                index: tile,
            })
            .map_err(tile_error)?;
        let hashes = hashes.ok_or_else(|| corrupt("tile", "missing below the tree size"))?;
        let found = hashes.iter().position(|hash| hash == leaf);
        if let Some(index) = found.map(|position| tile * width + position as u64) {
            return Ok((index < end).then_some(LeafIndex(index)));
        }
    }
    Ok(None)
}

fn full_tile(tiles: &impl NodeStore, index: u64) -> Result<Vec<Hash>, StoreError> {
    let hashes = tiles
        .read_tile(TileId { level: 0, index })
        .map_err(tile_error)?;
    hashes
        .filter(|hashes| hashes.len() == TILE_WIDTH)
        .ok_or_else(|| corrupt("tile", "a completed segment has a missing or partial tile"))
}

fn leaf_hash_at(tiles: &impl NodeStore, index: u64) -> Result<Hash, StoreError> {
    let width = TILE_WIDTH as u64;
    let hashes = tiles
        .read_tile(TileId {
            level: 0,
            index: index / width,
        })
        .map_err(tile_error)?;
    hashes
        .and_then(|hashes| hashes.get((index % width) as usize).copied())
        .ok_or_else(|| corrupt("tile", "missing a leaf hash below the tree size"))
}

/// The 8 bytes of a hash after the first, which picks the page.
fn hash_rest(hash: &Hash) -> u64 {
    u64::from_be_bytes(hash[1..9].try_into().expect("a hash has 9 bytes"))
}

fn tile_error(error: isnad_log::NodeStoreError) -> StoreError {
    StoreError::Log(isnad_log::LogError::Storage(error))
}
