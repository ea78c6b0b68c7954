//! Keys and record encodings of everything the store writes; see the crate docs for the layout.

use isnad_log::{HASH_LEN, Hash, TILE_WIDTH, TileId, TreeSize, TreeState};

use crate::StoreError;

/// First byte of entry bundle keys.
pub(crate) const BUNDLE_PREFIX: u8 = b'b';
/// First byte of tile keys.
pub(crate) const TILE_PREFIX: u8 = b't';
/// First byte of mid row keys (16 hashes derived from a full tile, stored like a tile).
pub(crate) const MID_ROW_PREFIX: u8 = b'u';
/// First byte of leaf index page keys.
pub(crate) const INDEX_PAGE_PREFIX: u8 = b'h';
/// First byte of signed checkpoint keys.
pub(crate) const CHECKPOINT_PREFIX: u8 = b'c';
/// The one key of the tree's size and root.
pub(crate) const META_KEY: &[u8] = b"m";
/// First byte of ledger state keys.
pub(crate) const STATE_PREFIX: u8 = b's';

/// Format version of entry bundles: the version byte, then for each entry its length (u32
/// big-endian) and its bytes.
const BUNDLE_VERSION: u8 = 1;

/// Entries in a full bundle: one bundle per level-0 tile, as in C2SP tlog-tiles.
pub(crate) const BUNDLE_WIDTH: u64 = TILE_WIDTH as u64;
/// Format version of tile records: the version byte, then 1 to 256 hashes of 32 bytes.
const TILE_VERSION: u8 = 1;
/// Format version of leaf index pages: the version byte, then sorted entries of 8 hash bytes
/// and a u16 offset (see `leaf_index.rs`).
const INDEX_PAGE_VERSION: u8 = 1;
/// Format version of checkpoint records: the version byte, then the signed note in UTF-8.
const CHECKPOINT_VERSION: u8 = 1;
/// Format version of the meta record: the version byte, size (u64 big-endian), root.
const META_VERSION: u8 = 1;

pub(crate) fn bundle_key(bundle: u64) -> [u8; 9] {
    prefixed_u64(BUNDLE_PREFIX, bundle)
}

pub(crate) fn checkpoint_key(size: TreeSize) -> [u8; 9] {
    prefixed_u64(CHECKPOINT_PREFIX, size.0)
}

pub(crate) fn tile_key(id: TileId) -> [u8; 10] {
    tile_family_key(TILE_PREFIX, id)
}

pub(crate) fn mid_row_key(id: TileId) -> [u8; 10] {
    tile_family_key(MID_ROW_PREFIX, id)
}

fn tile_family_key(prefix: u8, id: TileId) -> [u8; 10] {
    let mut key = [0; 10];
    key[0] = prefix;
    key[1] = id.level;
    key[2..].copy_from_slice(&id.index.to_be_bytes());
    key
}

/// The key of index page `first_byte` of leaf index segment `segment`.
pub(crate) fn index_page_key(segment: u64, first_byte: u8) -> Vec<u8> {
    let mut key = prefixed_u64(INDEX_PAGE_PREFIX, segment).to_vec();
    key.push(first_byte);
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

/// Starts an empty bundle record.
pub(crate) fn new_bundle() -> Vec<u8> {
    vec![BUNDLE_VERSION]
}

/// Adds one entry at the end of a bundle record.
pub(crate) fn push_to_bundle(bundle: &mut Vec<u8>, entry: &[u8]) {
    let len = u32::try_from(entry.len()).expect("entries are far below 4 GiB");
    bundle.extend_from_slice(&len.to_be_bytes());
    bundle.extend_from_slice(entry);
}

pub(crate) fn encode_tile(hashes: &[Hash]) -> Vec<u8> {
    let parts: Vec<&[u8]> = hashes.iter().map(|hash| hash.as_slice()).collect();
    versioned(TILE_VERSION, &parts)
}

pub(crate) fn encode_index_page(entries: impl Iterator<Item = u8>) -> Vec<u8> {
    std::iter::once(INDEX_PAGE_VERSION).chain(entries).collect()
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

/// Splits a bundle record into its entries.
pub(crate) fn decode_bundle(record: &[u8]) -> Result<Vec<&[u8]>, StoreError> {
    let mut rest = payload(record, BUNDLE_VERSION, "entry bundle")?;
    let mut entries = Vec::new();
    while !rest.is_empty() {
        let (len, tail) = rest
            .split_at_checked(4)
            .ok_or_else(|| corrupt("entry bundle", "cut length"))?;
        let len = u32::from_be_bytes(len.try_into().expect("split at 4")) as usize;
        let (entry, tail) = tail
            .split_at_checked(len)
            .ok_or_else(|| corrupt("entry bundle", "cut entry"))?;
        entries.push(entry);
        rest = tail;
    }
    if entries.len() as u64 > BUNDLE_WIDTH {
        return Err(corrupt("entry bundle", "more than 256 entries"));
    }
    Ok(entries)
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

/// Returns the entries of an index page, checked to be whole.
pub(crate) fn decode_index_page(record: &[u8]) -> Result<&[u8], StoreError> {
    let entries = payload(record, INDEX_PAGE_VERSION, "leaf index page")?;
    if entries.len() % 10 != 0 {
        return Err(corrupt("leaf index page", "cut entry"));
    }
    Ok(entries)
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
        let mut bundle = new_bundle();
        push_to_bundle(&mut bundle, b"abc");
        push_to_bundle(&mut bundle, b"");
        let entries: &[&[u8]] = &[b"abc", b""];
        assert_eq!(decode_bundle(&bundle).expect("bundle decodes"), entries);
        assert_eq!(
            decode_bundle(&new_bundle()).expect("bundle decodes").len(),
            0
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
        let page = encode_index_page([7u8; 20].into_iter());
        assert_eq!(decode_index_page(&page).expect("page decodes"), [7u8; 20]);
        assert_eq!(index_page_key(1, 2), [b'h', 0, 0, 0, 0, 0, 0, 0, 1, 2]);
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
        check(decode_bundle(&[]).map(drop), "empty record");
        check(decode_bundle(&[2, 0]).map(drop), "unknown format version");
        check(
            decode_bundle(&[BUNDLE_VERSION, 0, 0, 0]).map(drop),
            "cut length",
        );
        check(
            decode_bundle(&[BUNDLE_VERSION, 0, 0, 0, 2, 9]).map(drop),
            "cut entry",
        );
        let mut too_many = new_bundle();
        (0..=BUNDLE_WIDTH).for_each(|_| push_to_bundle(&mut too_many, b"x"));
        check(decode_bundle(&too_many).map(drop), "more than 256 entries");
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
        check(
            decode_index_page(&[INDEX_PAGE_VERSION, 1]).map(drop),
            "cut entry",
        );
        check(
            checkpoint_size_from_key(b"c123").map(drop),
            "wrong key length",
        );
    }
}
