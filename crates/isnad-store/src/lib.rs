//! Durable storage for the log and the ledger state: the entries in append-only segment files,
//! everything else in one sled database.
//!
//! sled applies a batch atomically only within one tree, so one sled tree holds the tiles of the
//! Merkle tree, the leaf-hash index, where each entry lies in the segment files, the new size
//! and root, the signed checkpoint and the ledger state changes, written by an
//! [`Store::append`] as one batch. The entries themselves go to segment files first: sled's
//! log-structured writes took two thirds of an append and doubled the entries' size on disk,
//! and gigabytes of entries in sled pushed the tiles, which every proof reads, out of its cache.
//!
//! # On-disk layout
//!
//! The store's folder is sled's folder, plus `entries/`, which holds the segment files
//! `00000000.seg`, `00000001.seg`, ...: segment `n` holds entries `n * 2^20` to
//! `(n + 1) * 2^20 - 1`. A segment file starts with the 8 bytes `isnadseg` and a format version
//! byte (1), then holds one frame per entry: its length (u32 big-endian) and its bytes.
//!
//! In sled, every key starts with one byte naming its family; numbers are big-endian so keys
//! sort in numeric order. Every value the store encodes starts with a format version byte
//! (currently 1 for all), so a later format can be told apart and migrated.
//!
//! | key | value |
//! | --- | --- |
//! | `e` + bundle index (u64) | version, offset of the bundle's first frame in its segment file (u64), then each entry's length (u32) |
//! | `t` + tile level (u8) + tile index (u64) | version, 1 to 256 hashes (C2SP tlog-tiles row) |
//! | `u` + tile level (u8) + tile index (u64) | version, the 16-hash mid row of a full tile |
//! | `h` + index segment (u64) + first byte of leaf hash | version, sorted (8 hash bytes, u16 offset) |
//! | `c` + tree size (u64) | version, signed checkpoint note (UTF-8) |
//! | `m` | version, tree size (u64), root hash (32 bytes) |
//! | `s` + ledger key | ledger value, stored as given: its format belongs to `isnad-core` |
//!
//! A bundle is the 256 entries of one level-0 tile. A full tile is one key for 256 hashes, so the
//! tree costs about 32 bytes per leaf, and the entry spans about 4 bytes per entry. The leaf
//! index is written once per 65,536 leaves, about 10 bytes per leaf (see `leaf_index.rs`);
//! lookups confirm the full hash against the tile. Every signed checkpoint is kept (about 200
//! bytes each, one per append). The last, partial span and the partial tiles are rewritten
//! whole by each append (at most about 9 KB), so one key per 256 entries or hashes stays true.
//!
//! # Durability
//!
//! sled's tree size (`m`) is the one source of truth: an entry exists when it is below it. An
//! append writes its entries' frames to the segment files and `fdatasync`s them (and the
//! folder, when it created a file) first; only then does it apply the sled batch, call sled's
//! `flush()` (which is not an fsync in sled 0.34) and `fdatasync` sled's data file and any new
//! blob file (see `durability.rs`), and return. A crash between the two syncs leaves frames
//! beyond the tree size; [`Store::open`] cuts them off, and refuses to open when a segment file
//! is shorter than the tree size says. Reads look entries up only below the durable size, with
//! positioned reads through one open handle per segment file.
//!
//! # Integrity
//!
//! Opening re-hashes only the last entry. Every read checks each entry it returns against its
//! leaf hash in the level-0 tile of its bundle (one sled read per 256 entries, cached by sled),
//! so an entry damaged in its segment file after it was appended is refused with
//! [`StoreError::EntryCorrupt`] instead of being served; [`Store::damaged_entries`] runs the
//! same check over a range without stopping at the first damaged entry, for a scrub.

mod durability;
mod keys;
mod leaf_index;
mod segments;
mod state_view;
mod store;
mod tiles;

pub use store::{
    APPEND_ENTRIES_MAX, AppendOutcome, ENTRIES_READ_MAX, ENTRY_LEN_MAX, STATE_KEY_LEN_MAX,
    STATE_VALUE_LEN_MAX, STATE_WRITES_MAX, StatePair, StateWrite, Store, StoreError,
};
