//! Keys and record encodings of everything the store writes; see the crate docs for the layout.

use isnad_log::{HASH_LEN, Hash, LeafIndex, TILE_WIDTH, TileId, TreeSize, TreeState};

use crate::StoreError;

/// First byte of entry keys.
pub(crate) const ENTRY_PREFIX: u8 = b'e';
/// First byte of tile keys.
pub(crate) const TILE_PREFIX: u8 = b't';
/// First byte of leaf-hash index keys.
pub(crate) const LEAF_INDEX_PREFIX: u8 = b'h';
/// First byte of signed checkpoint keys.
pub(crate) const CHECKPOINT_PREFIX: u8 = b'c';
/// The one key of the tree's size and root.
pub(crate) const META_KEY: &[u8] = b"m";
/// First byte of ledger state keys.
pub(crate) const STATE_PREFIX: u8 = b's';

/// Format version of entry records: the version byte, then the entry bytes.
const ENTRY_VERSION: u8 = 1;
/// Format version of tile records: the version byte, then 1 to 256 hashes of 32 bytes.
const TILE_VERSION: u8 = 1;
/// Format version of leaf-index records: the version byte alone, the key says it all.
const LEAF_INDEX_VERSION: u8 = 1;
/// Format version of checkpoint records: the version byte, then the signed note in UTF-8.
const CHECKPOINT_VERSION: u8 = 1;
/// Format version of the meta record: the version byte, size (u64 big-endian), root.
const META_VERSION: u8 = 1;

/// Bytes of a leaf hash kept in a leaf-index key: enough to make false candidates rare, which
/// are then told apart by the full hash in the level-0 tile.
pub(crate) const LEAF_INDEX_HASH_LEN: usize = 8;

pub(crate) fn entry_key(index: u64) -> [u8; 9] {
    prefixed_u64(ENTRY_PREFIX, index)
}

pub(crate) fn checkpoint_key(size: TreeSize) -> [u8; 9] {
    prefixed_u64(CHECKPOINT_PREFIX, size.0)
}

pub(crate) fn tile_key(id: TileId) -> [u8; 10] {
    let mut key = [0; 10];
    key[0] = TILE_PREFIX;
    key[1] = id.level;
    key[2..].copy_from_slice(&id.index.to_be_bytes());
    key
}

/// The scan prefix of the leaf-index keys that may hold `leaf`.
pub(crate) fn leaf_index_prefix(leaf: &Hash) -> [u8; 1 + LEAF_INDEX_HASH_LEN] {
    let mut key = [0; 1 + LEAF_INDEX_HASH_LEN];
    key[0] = LEAF_INDEX_PREFIX;
    key[1..].copy_from_slice(&leaf[..LEAF_INDEX_HASH_LEN]);
    key
}

pub(crate) fn leaf_index_key(leaf: &Hash, index: u64) -> [u8; 1 + LEAF_INDEX_HASH_LEN + 8] {
    let mut key = [0; 1 + LEAF_INDEX_HASH_LEN + 8];
    key[..1 + LEAF_INDEX_HASH_LEN].copy_from_slice(&leaf_index_prefix(leaf));
    key[1 + LEAF_INDEX_HASH_LEN..].copy_from_slice(&index.to_be_bytes());
    key
}

pub(crate) fn state_key(key: &[u8]) -> Vec<u8> {
    let mut prefixed = Vec::with_capacity(1 + key.len());
    prefixed.push(STATE_PREFIX);
    prefixed.extend_from_slice(key);
    prefixed
}

fn prefixed_u64(prefix: u8, value: u64) -> [u8; 9] {
    let mut key = [0; 9];
    key[0] = prefix;
    key[1..].copy_from_slice(&value.to_be_bytes());
    key
}

pub(crate) fn encode_entry(entry: &[u8]) -> Vec<u8> {
    versioned(ENTRY_VERSION, &[entry])
}

pub(crate) fn encode_tile(hashes: &[Hash]) -> Vec<u8> {
    let parts: Vec<&[u8]> = hashes.iter().map(|hash| hash.as_slice()).collect();
    versioned(TILE_VERSION, &parts)
}

pub(crate) fn encode_leaf_index() -> Vec<u8> {
    vec![LEAF_INDEX_VERSION]
}

pub(crate) fn encode_checkpoint(note: &str) -> Vec<u8> {
    versioned(CHECKPOINT_VERSION, &[note.as_bytes()])
}

pub(crate) fn encode_meta(state: &TreeState) -> Vec<u8> {
    versioned(META_VERSION, &[&state.size.0.to_be_bytes(), &state.root])
}

fn versioned(version: u8, parts: &[&[u8]]) -> Vec<u8> {
    let len = 1 + parts.iter().map(|part| part.len()).sum::<usize>();
    let mut record = Vec::with_capacity(len);
    record.push(version);
    parts.iter().for_each(|part| record.extend_from_slice(part));
    record
}

pub(crate) fn decode_entry(record: &[u8]) -> Result<Vec<u8>, StoreError> {
    Ok(payload(record, ENTRY_VERSION, "entry")?.to_vec())
}

pub(crate) fn decode_tile(record: &[u8]) -> Result<Vec<Hash>, StoreError> {
    let hashes = payload(record, TILE_VERSION, "tile")?;
    let width = hashes.len() / HASH_LEN;
    if hashes.len() % HASH_LEN != 0 || width == 0 || width > TILE_WIDTH {
        return Err(corrupt("tile", "length is not 1 to 256 hashes"));
    }
    Ok(hashes
        .chunks_exact(HASH_LEN)
        .map(|chunk| chunk.try_into().expect("chunks are hash-sized"))
        .collect())
}

pub(crate) fn decode_checkpoint(record: &[u8]) -> Result<String, StoreError> {
    let note = payload(record, CHECKPOINT_VERSION, "checkpoint")?;
    String::from_utf8(note.to_vec()).map_err(|_| corrupt("checkpoint", "not UTF-8"))
}

pub(crate) fn decode_meta(record: &[u8]) -> Result<TreeState, StoreError> {
    let fields = payload(record, META_VERSION, "meta")?;
    if fields.len() != 8 + HASH_LEN {
        return Err(corrupt("meta", "wrong length"));
    }
    let (size, root) = fields.split_at(8);
    Ok(TreeState {
        size: TreeSize(u64::from_be_bytes(size.try_into().expect("split at 8"))),
        root: root.try_into().expect("the rest is one hash"),
    })
}

/// Reads the leaf index out of a leaf-index key.
pub(crate) fn leaf_index_from_key(key: &[u8]) -> Result<LeafIndex, StoreError> {
    let index: [u8; 8] = key
        .get(1 + LEAF_INDEX_HASH_LEN..)
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or_else(|| corrupt("leaf index", "wrong key length"))?;
    Ok(LeafIndex(u64::from_be_bytes(index)))
}

/// Reads the tree size out of a checkpoint key.
pub(crate) fn checkpoint_size_from_key(key: &[u8]) -> Result<TreeSize, StoreError> {
    let size: [u8; 8] = key
        .get(1..)
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or_else(|| corrupt("checkpoint", "wrong key length"))?;
    Ok(TreeSize(u64::from_be_bytes(size)))
}

/// Checks the version byte and returns what follows it.
fn payload<'a>(record: &'a [u8], version: u8, what: &'static str) -> Result<&'a [u8], StoreError> {
    match record.split_first() {
        Some((found, rest)) if *found == version => Ok(rest),
        Some(_) => Err(corrupt(what, "unknown format version")),
        None => Err(corrupt(what, "empty record")),
    }
}

pub(crate) fn corrupt(what: &'static str, problem: &'static str) -> StoreError {
    StoreError::Corrupt { what, problem }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip() {
        let state = TreeState {
            size: TreeSize(7),
            root: [9; 32],
        };
        assert_eq!(
            decode_meta(&encode_meta(&state)).expect("meta decodes"),
            state
        );
        assert_eq!(
            decode_entry(&encode_entry(b"abc")).expect("entry decodes"),
            b"abc"
        );
        let hashes = vec![[1; 32], [2; 32]];
        assert_eq!(
            decode_tile(&encode_tile(&hashes)).expect("tile decodes"),
            hashes
        );
        assert_eq!(
            decode_checkpoint(&encode_checkpoint("note\n")).expect("decodes"),
            "note\n"
        );
        let key = leaf_index_key(&[5; 32], 42);
        assert!(key.starts_with(&leaf_index_prefix(&[5; 32])));
        assert_eq!(
            leaf_index_from_key(&key).expect("key decodes"),
            LeafIndex(42)
        );
    }

    #[track_caller]
    fn check(result: Result<(), StoreError>, problem: &str) {
        match result {
            Err(StoreError::Corrupt { problem: found, .. }) => assert_eq!(found, problem),
            other => panic!("expected a corrupt record ({problem}), got {other:?}"),
        }
    }

    #[test]
    fn damaged_records_are_reported() {
        check(decode_entry(&[]).map(drop), "empty record");
        check(decode_entry(&[2, 0]).map(drop), "unknown format version");
        check(
            decode_tile(&[TILE_VERSION]).map(drop),
            "length is not 1 to 256 hashes",
        );
        check(
            decode_tile(&[TILE_VERSION; 34]).map(drop),
            "length is not 1 to 256 hashes",
        );
        let mut too_wide = vec![TILE_VERSION];
        too_wide.resize(1 + (TILE_WIDTH + 1) * HASH_LEN, 0);
        check(
            decode_tile(&too_wide).map(drop),
            "length is not 1 to 256 hashes",
        );
        check(decode_meta(&[META_VERSION, 1]).map(drop), "wrong length");
        check(
            decode_checkpoint(&[CHECKPOINT_VERSION, 0xff]).map(drop),
            "not UTF-8",
        );
        check(leaf_index_from_key(b"h123").map(drop), "wrong key length");
        check(
            checkpoint_size_from_key(b"c123").map(drop),
            "wrong key length",
        );
    }
}
