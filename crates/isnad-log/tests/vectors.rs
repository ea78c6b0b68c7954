//! Known-answer tests: the transparency-dev Merkle proof vectors, vendored in `tests/data/merkle`
//! (source, commit and license in its README), `wantErr` cases included.

use std::fs;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use isnad_log::{
    Hash, LeafIndex, MemNodeStore, TreeSize, TreeState, append, consistency_proof, inclusion_proof,
    leaf_hash, verify_consistency, verify_consistency_bytes, verify_inclusion,
    verify_inclusion_bytes,
};
use serde_json::Value;

const VECTORS_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/merkle");

/// Vector files at the pinned upstream commit; a lower count means the folder moved.
const VECTOR_FILES_MIN: usize = 190;

/// The leaves of the upstream test tree, in order (from its `verify_test.go`).
const TEST_TREE_LEAVES_HEX: [&str; 8] = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
];

struct Inclusion {
    index: u64,
    size: u64,
    leaf: Vec<u8>,
    root: Vec<u8>,
    proof: Vec<Vec<u8>>,
}

struct Consistency {
    size1: u64,
    size2: u64,
    root1: Vec<u8>,
    root2: Vec<u8>,
    proof: Vec<Vec<u8>>,
}

fn vector_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("the vectors folder is readable") {
        let path = entry.expect("a readable folder entry").path();
        if path.is_dir() {
            vector_files(&path, found);
        } else if path
            .extension()
            .is_some_and(|extension| extension == "json")
        {
            found.push(path);
        }
    }
}

fn bytes(value: &Value) -> Vec<u8> {
    BASE64
        .decode(value.as_str().expect("hashes are strings"))
        .expect("hashes are base64")
}

fn proof(value: &Value) -> Vec<Vec<u8>> {
    value
        .as_array()
        .map(|hashes| hashes.iter().map(bytes).collect())
        .unwrap_or_default()
}

fn typed(bytes: &[u8]) -> Option<Hash> {
    bytes.try_into().ok()
}

fn typed_proof(proof: &[Vec<u8>]) -> Option<Vec<Hash>> {
    proof.iter().map(|hash| typed(hash)).collect()
}

/// Verifies with the wire form, and with the typed form when every hash is 32 bytes; both must
/// agree. Returns whether the proof was accepted.
fn inclusion_accepted(case: &Inclusion) -> bool {
    let (index, size) = (LeafIndex(case.index), TreeSize(case.size));
    let wire = verify_inclusion_bytes(&case.leaf, index, size, &case.proof, &case.root);
    if let (Some(leaf), Some(root), Some(proof)) = (
        typed(&case.leaf),
        typed(&case.root),
        typed_proof(&case.proof),
    ) {
        let typed = verify_inclusion(&leaf, index, size, &proof, &root);
        assert_eq!(typed, wire, "typed and wire verification disagree");
    }
    wire.is_ok()
}

fn consistency_accepted(case: &Consistency) -> bool {
    let (size1, size2) = (TreeSize(case.size1), TreeSize(case.size2));
    let wire = verify_consistency_bytes(size1, size2, &case.proof, &case.root1, &case.root2);
    if let (Some(root1), Some(root2), Some(proof)) = (
        typed(&case.root1),
        typed(&case.root2),
        typed_proof(&case.proof),
    ) {
        let typed = verify_consistency(size1, size2, &proof, &root1, &root2);
        assert_eq!(typed, wire, "typed and wire verification disagree");
    }
    wire.is_ok()
}

/// The upstream test tree, as far as `size`, built through this crate's append.
fn test_tree(size: u64) -> (MemNodeStore, TreeState) {
    let leaves: Vec<Hash> = TEST_TREE_LEAVES_HEX[..size as usize]
        .iter()
        .map(|leaf| leaf_hash(&hex::decode(leaf).expect("test leaves are hex")))
        .collect();
    let mut store = MemNodeStore::new();
    let (state, writes) = append(&store, &TreeState::empty(), &leaves).expect("append in memory");
    store.apply(writes);
    (store, state)
}

/// For a happy-path case from the upstream test tree, checks that this crate produces the very
/// same proof. Returns whether the case came from that tree.
fn inclusion_reproduced(case: &Inclusion) -> bool {
    if case.size == 0 || case.size > 8 {
        return false;
    }
    let (store, state) = test_tree(case.size);
    if state.root.as_slice() != case.root.as_slice() {
        return false;
    }
    let produced = inclusion_proof(&store, LeafIndex(case.index), TreeSize(case.size))
        .expect("proof from a stored tree");
    assert_eq!(
        Some(produced),
        typed_proof(&case.proof),
        "inclusion proof differs"
    );
    true
}

fn consistency_reproduced(case: &Consistency) -> bool {
    if case.size2 > 8 || case.size1 == case.size2 {
        return false;
    }
    let (store, state) = test_tree(case.size2);
    if state.root.as_slice() != case.root2.as_slice() {
        return false;
    }
    let produced = consistency_proof(&store, TreeSize(case.size1), TreeSize(case.size2))
        .expect("proof from a stored tree");
    assert_eq!(
        Some(produced),
        typed_proof(&case.proof),
        "consistency proof differs"
    );
    true
}

#[derive(Default)]
struct Tally {
    cases: usize,
    rejected: usize,
    reproduced: usize,
}

#[track_caller]
fn check(path: &Path, tally: &mut Tally) {
    let text = fs::read_to_string(path).expect("vector file is readable");
    let vector: Value = serde_json::from_str(&text).expect("vector file is JSON");
    let want_error = vector["wantErr"]
        .as_bool()
        .expect("every vector has wantErr");
    let (accepted, reproduced) = if vector.get("leafIdx").is_some() {
        let case = Inclusion {
            index: vector["leafIdx"].as_u64().expect("leafIdx is a u64"),
            size: vector["treeSize"].as_u64().expect("treeSize is a u64"),
            leaf: bytes(&vector["leafHash"]),
            root: bytes(&vector["root"]),
            proof: proof(&vector["proof"]),
        };
        let accepted = inclusion_accepted(&case);
        (accepted, accepted && inclusion_reproduced(&case))
    } else {
        let case = Consistency {
            size1: vector["size1"].as_u64().expect("size1 is a u64"),
            size2: vector["size2"].as_u64().expect("size2 is a u64"),
            root1: bytes(&vector["root1"]),
            root2: bytes(&vector["root2"]),
            proof: proof(&vector["proof"]),
        };
        let accepted = consistency_accepted(&case);
        (accepted, accepted && consistency_reproduced(&case))
    };
    assert_eq!(
        accepted,
        !want_error,
        "{}: {}",
        path.display(),
        vector["desc"]
    );
    tally.cases += 1;
    tally.rejected += usize::from(want_error);
    tally.reproduced += usize::from(reproduced);
}

#[test]
fn every_upstream_vector_passes() {
    let mut files = Vec::new();
    vector_files(Path::new(VECTORS_DIR), &mut files);
    files.sort();
    assert!(
        files.len() >= VECTOR_FILES_MIN,
        "found only {} vector files",
        files.len()
    );
    let mut tally = Tally::default();
    for path in &files {
        check(path, &mut tally);
    }
    println!(
        "{} vectors, {} rejected as expected, {} proofs reproduced",
        tally.cases, tally.rejected, tally.reproduced
    );
    assert!(
        tally.rejected > tally.cases / 2,
        "most vectors are corruptions"
    );
    // Happy paths from the upstream tree: 4 inclusion cases and 4 consistency cases.
    assert!(
        tally.reproduced >= 8,
        "only {} proofs reproduced",
        tally.reproduced
    );
}
