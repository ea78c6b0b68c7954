//! RFC 9162 Merkle log, proofs and C2SP signed checkpoints.
//!
//! Every accepted event becomes a leaf of one append-only Merkle tree over SHA-256. This crate
//! holds everything about that tree that needs no I/O:
//!
//! - hashing ([`leaf_hash`], [`node_hash`]) with the RFC 9162 domain-separation prefixes;
//! - proof verification for clients ([`verify_inclusion`], [`verify_consistency`] and their
//!   `_bytes` forms for hashes straight off the wire), which needs nothing but hashes;
//! - the tree kept as C2SP tlog-tiles behind the [`NodeStore`] trait: [`append`] computes the
//!   tiles to write without writing them, so the caller can commit them in the same atomic
//!   batch as the entries; [`inclusion_proof`] and [`consistency_proof`] read O(log n) tiles;
//! - checkpoints ([`checkpoint`]) as C2SP tlog-checkpoint bodies in Ed25519 signed notes.
//!
//! Durable storage lives in `isnad-store`; [`MemNodeStore`] keeps tiles in memory for tests.

mod hash;
mod tree;
mod verify;

pub mod checkpoint;

pub use hash::{
    HASH_LEN, Hash, LEAF_HASH_PREFIX, LeafIndex, NODE_HASH_PREFIX, TreeSize, empty_root, leaf_hash,
    node_hash,
};
pub use tree::{
    APPEND_LEAVES_MAX, LogError, MID_ROW_HEIGHT, MID_ROW_WIDTH, MemNodeStore, NodeStore,
    NodeStoreError, NodeWrites, Staged, SubtreeCache, TILE_HEIGHT, TILE_WIDTH, TREE_SIZE_MAX,
    TileId, TreeState, append, consistency_proof, inclusion_proof, inclusion_proofs, root,
};
pub use verify::{
    ProofError, hash_from_bytes, root_from_inclusion_proof, verify_consistency,
    verify_consistency_bytes, verify_inclusion, verify_inclusion_bytes,
};
