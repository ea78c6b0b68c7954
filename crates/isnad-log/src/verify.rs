//! Proof verification with no storage: what a client runs with nothing but hashes.
//!
//! The algorithms follow RFC 9162, sections 2.1.3.2 and 2.1.4.2, in the bit-twiddling form of
//! the transparency-dev reference: a proof splits into an "inner" part below the level where the
//! paths to the leaf and to the last leaf of the tree diverge, and a "border" part of left
//! siblings along the tree's right edge.

use thiserror::Error;

use crate::hash::{Hash, LeafIndex, TreeSize, node_hash};

/// Why a proof did not verify.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum ProofError {
    /// The leaf index is not inside the tree.
    #[error("leaf index {index} is not below tree size {size}")]
    IndexOutOfRange {
        /// The claimed leaf index.
        index: LeafIndex,
        /// The claimed tree size.
        size: TreeSize,
    },
    /// The second tree is smaller than the first, so it cannot extend it.
    #[error("tree size {size2} is smaller than tree size {size1}")]
    SizesDecrease {
        /// The earlier tree size.
        size1: TreeSize,
        /// The later tree size.
        size2: TreeSize,
    },
    /// Consistency with the empty tree holds for every tree, so a proof of it proves nothing.
    #[error("a consistency proof from the empty tree is meaningless")]
    EmptyFirstTree,
    /// The proof does not have the number of hashes the sizes call for.
    #[error("proof has {actual} hashes, expected {expected}")]
    WrongProofLength {
        /// Hashes received.
        actual: usize,
        /// Hashes the sizes and index require.
        expected: usize,
    },
    /// A value that should be a SHA-256 hash has another length.
    #[error("a hash has {actual} bytes, expected 32")]
    WrongHashLength {
        /// Bytes received.
        actual: usize,
    },
    /// The proof leads to a root other than the one claimed.
    #[error("the proof leads to another root")]
    RootMismatch,
}

/// Checks that `proof` shows the leaf with hash `leaf` at `index` in the tree of `size` leaves
/// whose root is `root`.
pub fn verify_inclusion(
    leaf: &Hash,
    index: LeafIndex,
    size: TreeSize,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    let computed = root_from_inclusion_proof(leaf, index, size, proof)?;
    roots_match(&computed, root)
}

/// Recomputes the root of the tree of `size` leaves from a leaf hash and its inclusion proof.
pub fn root_from_inclusion_proof(
    leaf: &Hash,
    index: LeafIndex,
    size: TreeSize,
    proof: &[Hash],
) -> Result<Hash, ProofError> {
    if index.0 >= size.0 {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let (inner, border) = decompose_inclusion_proof(index.0, size.0);
    expect_proof_length(proof, inner + border)?;
    let (inner_proof, border_proof) = proof.split_at(inner);
    let hash = chain_inner(*leaf, inner_proof, index.0);
    Ok(chain_border_right(hash, border_proof))
}

/// Checks that `proof` shows the tree of `size2` leaves with root `root2` extends the tree of
/// `size1` leaves with root `root1`. Equal sizes need an empty proof and equal roots; a first
/// tree of size zero is refused, since a proof from it would prove nothing.
pub fn verify_consistency(
    size1: TreeSize,
    size2: TreeSize,
    proof: &[Hash],
    root1: &Hash,
    root2: &Hash,
) -> Result<(), ProofError> {
    if let Some(result) = check_consistency_shape(size1, size2, proof.len()) {
        return result.and_then(|()| roots_match(root1, root2));
    }
    let computed = root_from_consistency_proof(size1, size2, proof, root1)?;
    roots_match(&computed, root2)
}

/// Like [`verify_inclusion`], for hashes as they arrive on the wire (protobuf `bytes`): every
/// value hashed must be 32 bytes long, and a root of any other length simply does not match.
pub fn verify_inclusion_bytes<P: AsRef<[u8]>>(
    leaf: &[u8],
    index: LeafIndex,
    size: TreeSize,
    proof: &[P],
    root: &[u8],
) -> Result<(), ProofError> {
    let leaf = hash_from_bytes(leaf)?;
    let proof = hashes_from_bytes(proof)?;
    let computed = root_from_inclusion_proof(&leaf, index, size, &proof)?;
    roots_match(&computed, root)
}

/// Like [`verify_consistency`], for hashes as they arrive on the wire (protobuf `bytes`). Equal
/// sizes compare the two roots byte for byte, whatever their length.
pub fn verify_consistency_bytes<P: AsRef<[u8]>>(
    size1: TreeSize,
    size2: TreeSize,
    proof: &[P],
    root1: &[u8],
    root2: &[u8],
) -> Result<(), ProofError> {
    if let Some(result) = check_consistency_shape(size1, size2, proof.len()) {
        return result.and_then(|()| roots_match(root1, root2));
    }
    let proof = hashes_from_bytes(proof)?;
    // A first root of the wrong length cannot equal the root the proof leads to.
    let root1 = hash_from_bytes(root1).map_err(|_| ProofError::RootMismatch)?;
    let computed = root_from_consistency_proof(size1, size2, &proof, &root1)?;
    roots_match(&computed, root2)
}

/// Reads a 32-byte hash from a byte string of unchecked length.
pub fn hash_from_bytes(bytes: &[u8]) -> Result<Hash, ProofError> {
    bytes.try_into().map_err(|_| ProofError::WrongHashLength {
        actual: bytes.len(),
    })
}

fn hashes_from_bytes<P: AsRef<[u8]>>(proof: &[P]) -> Result<Vec<Hash>, ProofError> {
    proof
        .iter()
        .map(|hash| hash_from_bytes(hash.as_ref()))
        .collect()
}

/// Settles the cases decided by sizes alone. `Some(Ok(()))` means only the roots remain to be
/// compared for equality; `None` means a real proof must be checked.
fn check_consistency_shape(
    size1: TreeSize,
    size2: TreeSize,
    proof_len: usize,
) -> Option<Result<(), ProofError>> {
    if size2 < size1 {
        return Some(Err(ProofError::SizesDecrease { size1, size2 }));
    }
    if size1.0 == 0 {
        return Some(Err(ProofError::EmptyFirstTree));
    }
    if size1 == size2 {
        return Some(if proof_len == 0 {
            Ok(())
        } else {
            Err(ProofError::WrongProofLength {
                actual: proof_len,
                expected: 0,
            })
        });
    }
    None
}

/// Recomputes the root of the larger tree from a consistency proof, after checking that the
/// same proof leads to `root1` for the smaller tree. Requires `0 < size1 < size2`.
fn root_from_consistency_proof(
    size1: TreeSize,
    size2: TreeSize,
    proof: &[Hash],
    root1: &Hash,
) -> Result<Hash, ProofError> {
    let (size1, size2) = (size1.0, size2.0);
    debug_assert!(
        0 < size1 && size1 < size2,
        "the caller settled the other cases"
    );
    let (inner, border) = decompose_inclusion_proof(size1 - 1, size2);
    let shift = size1.trailing_zeros() as usize;
    let inner = inner - shift;
    // When size1 is a power of two, its root is the seed and the proof omits it.
    let (seed, rest) = if size1.is_power_of_two() {
        (*root1, proof)
    } else {
        let (first, rest) = proof.split_first().ok_or(ProofError::WrongProofLength {
            actual: 0,
            expected: 1 + inner + border,
        })?;
        (*first, rest)
    };
    let seed_len = proof.len() - rest.len();
    expect_proof_length(proof, seed_len + inner + border)?;
    let (inner_proof, border_proof) = rest.split_at(inner);
    let mask = (size1 - 1) >> shift;
    let computed1 = chain_border_right(chain_inner_right(seed, inner_proof, mask), border_proof);
    roots_match(&computed1, root1)?;
    Ok(chain_border_right(
        chain_inner(seed, inner_proof, mask),
        border_proof,
    ))
}

/// Splits the inclusion proof of `index` in a tree of `size` leaves into the lengths of its
/// inner and border parts.
fn decompose_inclusion_proof(index: u64, size: u64) -> (usize, usize) {
    let inner = (u64::BITS - (index ^ (size - 1)).leading_zeros()) as usize;
    let border = index.checked_shr(inner as u32).unwrap_or(0).count_ones() as usize;
    (inner, border)
}

fn expect_proof_length(proof: &[Hash], expected: usize) -> Result<(), ProofError> {
    if proof.len() == expected {
        Ok(())
    } else {
        Err(ProofError::WrongProofLength {
            actual: proof.len(),
            expected,
        })
    }
}

fn roots_match(computed: &[u8], expected: &[u8]) -> Result<(), ProofError> {
    if computed == expected {
        Ok(())
    } else {
        Err(ProofError::RootMismatch)
    }
}

/// Hashes up from `seed`, taking each proof hash as the left or right sibling according to the
/// bits of `index`.
fn chain_inner(seed: Hash, proof: &[Hash], index: u64) -> Hash {
    proof
        .iter()
        .enumerate()
        .fold(seed, |hash, (level, sibling)| {
            if (index >> level) & 1 == 0 {
                node_hash(&hash, sibling)
            } else {
                node_hash(sibling, &hash)
            }
        })
}

/// Like [`chain_inner`], but keeps only left siblings: the result is the hash of the same
/// subtree as it was before anything was appended to its right.
fn chain_inner_right(seed: Hash, proof: &[Hash], index: u64) -> Hash {
    proof
        .iter()
        .enumerate()
        .fold(seed, |hash, (level, sibling)| {
            if (index >> level) & 1 == 1 {
                node_hash(sibling, &hash)
            } else {
                hash
            }
        })
}

/// Hashes up along the right border of the tree, where every sibling is on the left.
fn chain_border_right(seed: Hash, proof: &[Hash]) -> Hash {
    proof
        .iter()
        .fold(seed, |hash, sibling| node_hash(sibling, &hash))
}
