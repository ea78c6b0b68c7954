//! RFC 9162 hashing: leaves, interior nodes and the newtypes that name positions in the tree.

use std::fmt;

use sha2::{Digest, Sha256};

/// A SHA-256 output: a leaf hash, an interior node hash or a tree root.
pub type Hash = [u8; 32];

/// Length of a [`Hash`] in bytes.
pub const HASH_LEN: usize = 32;

/// Domain-separation byte hashed before a leaf entry (RFC 9162, section 2.1.1).
pub const LEAF_HASH_PREFIX: u8 = 0x00;

/// Domain-separation byte hashed before two child hashes (RFC 9162, section 2.1.1).
pub const NODE_HASH_PREFIX: u8 = 0x01;

/// The position of a leaf in the log, counted from zero.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LeafIndex(pub u64);

/// The number of leaves in a tree, which names one version of the append-only log.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TreeSize(pub u64);

impl fmt::Display for LeafIndex {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(formatter)
    }
}

impl fmt::Display for TreeSize {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(formatter)
    }
}

/// Hashes a log entry into its leaf hash, `SHA-256(0x00 || entry)`.
pub fn leaf_hash(entry: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([LEAF_HASH_PREFIX]);
    hasher.update(entry);
    hasher.finalize().into()
}

/// Hashes two child hashes into their parent, `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([NODE_HASH_PREFIX]);
    hasher.update(left);
    hasher.update(right);
    hasher.finalize().into()
}

/// The root of the empty tree, `SHA-256("")` (RFC 9162, section 2.1.1).
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// Folds a run of perfect subtree hashes, ordered left to right with strictly decreasing sizes,
/// into the hash of the tree they span: RFC 9162 splits at the largest power of two, so the
/// rightmost pieces join first.
pub(crate) fn fold_right_border(subtrees: &[Hash]) -> Option<Hash> {
    let (last, rest) = subtrees.split_last()?;
    Some(
        rest.iter()
            .rev()
            .fold(*last, |right, left| node_hash(left, &right)),
    )
}

/// Hashes a row of `2^levels` adjacent node hashes up `levels` levels into their common ancestor.
pub(crate) fn perfect_root(row: &[Hash]) -> Hash {
    assert!(
        row.len().is_power_of_two(),
        "a perfect subtree has a power-of-two width"
    );
    if let [single] = row {
        return *single;
    }
    let (left, right) = row.split_at(row.len() / 2);
    node_hash(&perfect_root(left), &perfect_root(right))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(actual: Hash, expected_hex: &str) {
        assert_eq!(hex::encode(actual), expected_hex);
    }

    #[test]
    fn known_answers() {
        // The empty-tree root and the leaf and node hashes of the transparency-dev test tree.
        check(
            empty_root(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        );
        check(
            leaf_hash(b""),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        );
        check(
            node_hash(&leaf_hash(b""), &leaf_hash(&[0x00])),
            "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        );
    }

    #[test]
    fn perfect_root_matches_nested_node_hashes() {
        let leaves: Vec<Hash> = (0..4u8).map(|byte| leaf_hash(&[byte])).collect();
        let expected = node_hash(
            &node_hash(&leaves[0], &leaves[1]),
            &node_hash(&leaves[2], &leaves[3]),
        );
        assert_eq!(perfect_root(&leaves), expected);
        assert_eq!(fold_right_border(&[expected]), Some(expected));
        assert_eq!(fold_right_border(&[]), None);
    }
}
