//! Randomized self-checks: trees built through `append` in random batches, checked against a
//! naive recursive RFC 9162 root at every size from 1 to 2,000 and at a few sizes up to 10^6.
//! Every proof checked must verify, and must stop verifying when any one bit of it, of the
//! leaf, of a root or of a size changes. Set `ISNAD_TEST_SEED` to replay a printed seed.

use isnad_log::{
    Hash, LeafIndex, MemNodeStore, NodeStore, NodeStoreError, TileId, TreeSize, TreeState, append,
    consistency_proof, inclusion_proof, leaf_hash, node_hash, root, verify_consistency,
    verify_inclusion,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Every size up to this one is checked with all of its proofs.
const EXHAUSTIVE_SIZE_MAX: u64 = 2_000;

/// Sizes up to this one check every leaf index and every earlier size.
const ALL_PAIRS_SIZE_MAX: u64 = 64;

/// Sizes up to this one try every single-bit flip of every proof; larger ones try one random
/// flip per proof.
const EVERY_BIT_SIZE_MAX: u64 = 16;

/// Leaf indices and earlier sizes sampled per size above [`ALL_PAIRS_SIZE_MAX`].
const SAMPLES_PER_SIZE: usize = 3;

/// Size of the large tree for spot checks.
const LARGE_SIZE: u64 = 1_000_000;

fn seed() -> u64 {
    let seed = match std::env::var("ISNAD_TEST_SEED") {
        Ok(text) => text.parse().expect("ISNAD_TEST_SEED is a u64"),
        Err(_) => rand::random(),
    };
    println!("seed {seed} (replay with ISNAD_TEST_SEED={seed})");
    seed
}

fn leaves(count: u64) -> Vec<Hash> {
    (0..count)
        .map(|index| leaf_hash(&index.to_le_bytes()))
        .collect()
}

/// The root straight from the RFC 9162 definition: split at the largest power of two below n.
fn naive_root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => isnad_log::empty_root(),
        1 => leaves[0],
        count => {
            let split = 1 << (count - 1).ilog2();
            node_hash(&naive_root(&leaves[..split]), &naive_root(&leaves[split..]))
        }
    }
}

/// Appends `leaves` in batches of random sizes up to `batch_max`; returns the store and the
/// state after every batch.
fn build(leaves: &[Hash], batch_max: usize, rng: &mut StdRng) -> (MemNodeStore, Vec<TreeState>) {
    let mut store = MemNodeStore::new();
    let mut states = vec![TreeState::empty()];
    let mut state = TreeState::empty();
    while state.size.0 < leaves.len() as u64 {
        let start = state.size.0 as usize;
        let end = (start + rng.random_range(1..=batch_max)).min(leaves.len());
        let (next, writes) = append(&store, &state, &leaves[start..end]).expect("append in memory");
        store.apply(writes);
        assert_eq!(next.size, TreeSize(end as u64));
        states.push(next);
        state = next;
    }
    (store, states)
}

/// The same tiles without their mid rows: proofs must not depend on whether a store keeps them.
struct RowsOnly<'a>(&'a MemNodeStore);

impl NodeStore for RowsOnly<'_> {
    fn read_tile(&self, id: TileId) -> Result<Option<Vec<Hash>>, NodeStoreError> {
        self.0.read_tile(id)
    }
}

#[track_caller]
fn check_same_without_mid_rows(store: &MemNodeStore, size: u64) {
    let (index, size) = (LeafIndex(size / 3), TreeSize(size));
    let with = inclusion_proof(store, index, size).expect("proof");
    assert_eq!(
        inclusion_proof(&RowsOnly(store), index, size).expect("proof"),
        with
    );
    let with = consistency_proof(store, TreeSize(size.0 / 2 + 1), size).expect("proof");
    let without = consistency_proof(&RowsOnly(store), TreeSize(size.0 / 2 + 1), size);
    assert_eq!(without.expect("proof"), with);
    assert_eq!(
        root(&RowsOnly(store), size).expect("root"),
        root(store, size).expect("root")
    );
}

fn flip(bytes: &mut [u8], bit: usize) {
    bytes[bit / 8] ^= 1 << (bit % 8);
}

/// Checks one inclusion proof, then that a flip of one bit anywhere in it, in the leaf or in
/// the root fails; with `every_bit`, every such flip is tried, else one random flip of each.
fn check_inclusion(
    store: &MemNodeStore,
    leaves: &[Hash],
    index: u64,
    size: u64,
    roots: &dyn Fn(u64) -> Hash,
    rng: &mut StdRng,
    every_bit: bool,
) {
    let (index, size) = (LeafIndex(index), TreeSize(size));
    let leaf = leaves[index.0 as usize];
    let root = roots(size.0);
    let proof = inclusion_proof(store, index, size).expect("proof from a stored tree");
    assert_eq!(
        verify_inclusion(&leaf, index, size, &proof, &root),
        Ok(()),
        "inclusion {index} in {size}"
    );
    let mut flat: Vec<u8> = leaf
        .iter()
        .chain(root.iter())
        .chain(proof.iter().flatten())
        .copied()
        .collect();
    let bits: Vec<usize> = if every_bit {
        (0..flat.len() * 8).collect()
    } else {
        vec![rng.random_range(0..flat.len() * 8)]
    };
    for bit in bits {
        flip(&mut flat, bit);
        let hashes: Vec<Hash> = flat
            .chunks_exact(32)
            .map(|chunk| chunk.try_into().expect("32-byte chunk"))
            .collect();
        let result = verify_inclusion(&hashes[0], index, size, &hashes[2..], &hashes[1]);
        assert!(
            result.is_err(),
            "inclusion {index} in {size} verified with bit {bit} flipped"
        );
        flip(&mut flat, bit);
    }
    for other in [index.0 ^ 1, index.0 + 1, index.0.wrapping_sub(1)] {
        if other != index.0 && other < size.0 && leaves[other as usize] != leaf {
            assert!(verify_inclusion(&leaf, LeafIndex(other), size, &proof, &root).is_err());
        }
    }
}

fn check_consistency(
    store: &MemNodeStore,
    size1: u64,
    size2: u64,
    roots: &dyn Fn(u64) -> Hash,
    rng: &mut StdRng,
    every_bit: bool,
) {
    let (root1, root2) = (roots(size1), roots(size2));
    let (size1, size2) = (TreeSize(size1), TreeSize(size2));
    let proof = consistency_proof(store, size1, size2).expect("proof from a stored tree");
    assert_eq!(
        verify_consistency(size1, size2, &proof, &root1, &root2),
        Ok(()),
        "consistency {size1} to {size2}"
    );
    let mut flat: Vec<u8> = root1
        .iter()
        .chain(root2.iter())
        .chain(proof.iter().flatten())
        .copied()
        .collect();
    let bits: Vec<usize> = if every_bit {
        (0..flat.len() * 8).collect()
    } else {
        vec![rng.random_range(0..flat.len() * 8)]
    };
    for bit in bits {
        flip(&mut flat, bit);
        let hashes: Vec<Hash> = flat
            .chunks_exact(32)
            .map(|chunk| chunk.try_into().expect("32-byte chunk"))
            .collect();
        let result = verify_consistency(size1, size2, &hashes[2..], &hashes[0], &hashes[1]);
        assert!(
            result.is_err(),
            "consistency {size1} to {size2} verified with bit {bit} flipped"
        );
        flip(&mut flat, bit);
    }
    if size1 != size2 {
        for other in [size1.0 + 1, size1.0 - 1, size1.0 ^ 2] {
            if other != size1.0 && other != 0 && other < size2.0 {
                assert!(
                    verify_consistency(TreeSize(other), size2, &proof, &root1, &root2).is_err()
                );
            }
        }
        let shorter = &proof[..proof.len() - 1];
        assert!(verify_consistency(size1, size2, shorter, &root1, &root2).is_err());
    }
}

#[test]
fn every_size_up_to_two_thousand() {
    let mut rng = StdRng::seed_from_u64(seed());
    let leaves = leaves(EXHAUSTIVE_SIZE_MAX);
    let naive_roots: Vec<Hash> = (0..=EXHAUSTIVE_SIZE_MAX)
        .map(|size| naive_root(&leaves[..size as usize]))
        .collect();
    let roots = |size: u64| naive_roots[size as usize];
    // One leaf at a time makes every size a batch boundary; random batches cross tile edges.
    let (one_by_one, states_one_by_one) = build(&leaves, 1, &mut rng);
    let (store, states) = build(&leaves, 700, &mut rng);
    assert_eq!(one_by_one.tile_count(), store.tile_count());
    for state in states_one_by_one.iter().chain(&states) {
        assert_eq!(
            state.root,
            roots(state.size.0),
            "root after appending up to {}",
            state.size
        );
    }
    for size in 1..=EXHAUSTIVE_SIZE_MAX {
        assert_eq!(
            root(&store, TreeSize(size)).expect("root from tiles"),
            roots(size)
        );
        check_same_without_mid_rows(&store, size);
        let (indices, sizes1): (Vec<u64>, Vec<u64>) = if size <= ALL_PAIRS_SIZE_MAX {
            ((0..size).collect(), (1..=size).collect())
        } else {
            let mut indices = vec![0, size - 1];
            indices.extend((0..SAMPLES_PER_SIZE).map(|_| rng.random_range(0..size)));
            let mut sizes1 = vec![1, size - 1, size];
            sizes1.extend((0..SAMPLES_PER_SIZE).map(|_| rng.random_range(1..=size)));
            (indices, sizes1)
        };
        let every_bit = size <= EVERY_BIT_SIZE_MAX;
        for index in indices {
            check_inclusion(&store, &leaves, index, size, &roots, &mut rng, every_bit);
        }
        for size1 in sizes1 {
            check_consistency(&store, size1, size, &roots, &mut rng, every_bit);
        }
    }
}

#[test]
fn spot_checks_up_to_a_million() {
    let mut rng = StdRng::seed_from_u64(seed());
    let leaves = leaves(LARGE_SIZE);
    let mut sizes = vec![LARGE_SIZE, 1 << 16, (1 << 16) + 1, 65_535 * 7];
    sizes.extend((0..2).map(|_| rng.random_range(1..=LARGE_SIZE)));
    let naive_roots: Vec<(u64, Hash)> = sizes
        .iter()
        .map(|&size| (size, naive_root(&leaves[..size as usize])))
        .collect();
    let roots = |size: u64| {
        naive_roots
            .iter()
            .find(|(known, _)| *known == size)
            .expect("a spot size")
            .1
    };
    let (store, states) = build(&leaves, 100_000, &mut rng);
    assert_eq!(
        states.last().map(|state| state.root),
        Some(roots(LARGE_SIZE))
    );
    for &size in &sizes {
        assert_eq!(
            root(&store, TreeSize(size)).expect("root from tiles"),
            roots(size)
        );
        check_same_without_mid_rows(&store, size);
        for sample in 0..SAMPLES_PER_SIZE {
            let index = rng.random_range(0..size);
            check_inclusion(&store, &leaves, index, size, &roots, &mut rng, sample == 0);
        }
        for (sample, &size1) in sizes.iter().filter(|&&size1| size1 <= size).enumerate() {
            check_consistency(&store, size1, size, &roots, &mut rng, sample == 0);
        }
    }
}
