//! Keys and record encodings of everything the store writes; see the crate docs for the layout.

use isnad_log::{HASH_LEN, Hash, TILE_WIDTH, TileId, TreeSize, TreeState};

use crate::StoreError;

/// First byte of entry span keys: where a bundle of entries lies in its segment file.
pub(crate) const SPAN_PREFIX: u8 = b'e';
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

/// Format version of entry spans: the version byte, the offset of the bundle's first frame in
/// its segment file (u64 big-endian), then each entry's length (u32 big-endian).
const SPAN_VERSION: u8 = 1;

/// Bytes of an entry span record before the lengths: the version and the start offset.
const SPAN_HEADER_LEN: usize = 9;

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

pub(crate) fn span_key(bundle: u64) -> [u8; 9] {
    prefixed_u64(SPAN_PREFIX, bundle)
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

/// Where the entries of one bundle lie in their segment file: the offset of the first entry's
/// frame, and each entry's length, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct EntrySpan {
    /// Offset of the first entry's frame in the segment file.
    pub(crate) start: u64,
    /// Length of each entry of the bundle, at most [`BUNDLE_WIDTH`] of them.
    pub(crate) lens: Vec<u32>,
}

impl EntrySpan {
    /// The offset of the frame of the entry at `position` in the bundle, or of the end of the
    /// bundle when `position` is its length.
    pub(crate) fn frame_offset(&self, position: usize) -> u64 {
        let before: u64 = self.lens[..position]
            .iter()
            .map(|len| FRAME_PREFIX_LEN + u64::from(*len))
            .sum();
        self.start + before
    }

    /// The offset just past the bundle's last frame.
    pub(crate) fn end(&self) -> u64 {
        self.frame_offset(self.lens.len())
    }
}

/// Bytes of the length that starts each entry's frame in a segment file.
pub(crate) const FRAME_PREFIX_LEN: u64 = 4;

pub(crate) fn encode_span(span: &EntrySpan) -> Vec<u8> {
    let mut record = Vec::with_capacity(SPAN_HEADER_LEN + 4 * span.lens.len());
    record.push(SPAN_VERSION);
    record.extend_from_slice(&span.start.to_be_bytes());
    span.lens
        .iter()
        .for_each(|len| record.extend_from_slice(&len.to_be_bytes()));
    record
}

pub(crate) fn decode_span(record: &[u8]) -> Result<EntrySpan, StoreError> {
    let fields = payload(record, SPAN_VERSION, "entry span")?;
    let (start, lens) = fields
        .split_at_checked(8)
        .ok_or_else(|| corrupt("entry span", "cut start offset"))?;
    if lens.len() % 4 != 0 {
        return Err(corrupt("entry span", "cut length"));
    }
    if (lens.len() / 4) as u64 > BUNDLE_WIDTH {
        return Err(corrupt("entry span", "more than 256 entries"));
    }
    Ok(EntrySpan {
        start: u64::from_be_bytes(start.try_into().expect("split at 8")),
        lens: lens
            .chunks_exact(4)
            .map(|len| u32::from_be_bytes(len.try_into().expect("chunks of 4")))
            .collect(),
    })
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
        let span = EntrySpan {
            start: 9,
            lens: vec![3, 0, 70_000],
        };
        assert_eq!(
            decode_span(&encode_span(&span)).expect("span decodes"),
            span
        );
        let empty = EntrySpan::default();
        assert_eq!(decode_span(&encode_span(&empty)).expect("decodes"), empty);
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
        check(decode_span(&[]).map(drop), "empty record");
        check(decode_span(&[2, 0]).map(drop), "unknown format version");
        check(
            decode_span(&[SPAN_VERSION, 0, 0, 0]).map(drop),
            "cut start offset",
        );
        let mut cut = encode_span(&EntrySpan {
            start: 9,
            lens: vec![1],
        });
        cut.pop();
        check(decode_span(&cut).map(drop), "cut length");
        let too_many = encode_span(&EntrySpan {
            start: 9,
            lens: vec![1; TILE_WIDTH + 1],
        });
        check(decode_span(&too_many).map(drop), "more than 256 entries");
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
