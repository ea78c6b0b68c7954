//! Durable sled storage for the log and the ledger state.
//!
//! One sled database, and in it one sled tree, holds everything, because sled applies a batch
//! atomically only within one tree: an [`Store::append`] writes the entries, the tiles of the
//! Merkle tree, the leaf-hash index, the new size and root, the signed checkpoint and the
//! ledger state changes as one batch, then makes it durable before returning.
//!
//! # On-disk layout
//!
//! Every key starts with one byte naming its family; numbers are big-endian so keys sort in
//! numeric order. Every value the store encodes starts with a format version byte (currently
//! 1 for all), so a later format can be told apart and migrated.
//!
//! | key | value |
//! | --- | --- |
//! | `b` + bundle index (u64) | version, then per entry: length (u32), bytes as appended |
//! | `t` + tile level (u8) + tile index (u64) | version, 1 to 256 hashes (C2SP tlog-tiles row) |
//! | `u` + tile level (u8) + tile index (u64) | version, the 16-hash mid row of a full tile |
//! | `h` + index segment (u64) + first byte of leaf hash | version, sorted (8 hash bytes, u16 offset) |
//! | `c` + tree size (u64) | version, signed checkpoint note (UTF-8) |
//! | `m` | version, tree size (u64), root hash (32 bytes) |
//! | `s` + ledger key | ledger value, stored as given: its format belongs to `isnad-core` |
//!
//! A full tile is one key for 256 hashes, so the tree costs about 32 bytes per leaf; a full
//! bundle is one key for 256 entries. The leaf index is written once per 65,536 leaves, about
//! 10 bytes per leaf (see `leaf_index.rs`); lookups confirm the full hash against the tile.
//! Every signed checkpoint is kept (about 200 bytes each, one per append). The last, partial
//! bundle and the partial tiles are rewritten whole by each append: one key per 256 entries or
//! hashes stays true, at the cost of up to 77 KB of rewriting per append (300-byte entries),
//! which matters only for appends of a few entries.
//!
//! # Durability
//!
//! sled 0.34's `flush()` is not an fsync. After each batch the store calls `flush()`, then
//! `fdatasync` on sled's data file and on any new blob file (see `durability.rs`), and only then
//! returns; the folder itself is synced when the database is created.

mod durability;
mod keys;
mod leaf_index;
mod state_view;
mod store;
mod tiles;

pub use store::{
    APPEND_ENTRIES_MAX, AppendOutcome, ENTRIES_READ_MAX, ENTRY_LEN_MAX, STATE_KEY_LEN_MAX,
    STATE_VALUE_LEN_MAX, STATE_WRITES_MAX, StatePair, StateWrite, Store, StoreError,
};
