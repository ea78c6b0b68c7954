//! Log benchmark: durable appends in batches of 1,000 entries of 300 bytes, and inclusion-proof
//! latency at 10^6 and 10^7 leaves, for `isnad-store` and, in the same run on the same entries,
//! for the in-memory `ct-merkle` crate (RFC 6962, no persistence), with our figures as ratios
//! to its figures.
//!
//! Run: `cargo bench -p isnad-store --bench log` (release build). `ISNAD_BENCH_LEAVES` sets the
//! largest tree (default 10^7; proofs are measured at 10^6 and at that size).

use std::path::Path;
use std::time::{Duration, Instant};

use ct_merkle::mem_backed_tree::MemoryBackedTree;
use ed25519_dalek::SigningKey;
use isnad_log::checkpoint::NoteSigner;
use isnad_log::{LeafIndex, TreeSize};
use isnad_store::Store;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sha2::Sha256;

/// Entries per durable append.
const BATCH_LEN: u64 = 1_000;

/// Bytes per entry, about a small signed event.
const ENTRY_LEN: usize = 300;

/// Inclusion proofs timed at each size.
const PROOF_SAMPLES: usize = 20_000;

/// The smaller size proofs are timed at.
const FIRST_CHECKPOINT: u64 = 1_000_000;

/// The default largest size.
const LEAVES_DEFAULT: u64 = 10_000_000;

fn entry(index: u64) -> Vec<u8> {
    let mut entry = format!("event {index} ").into_bytes();
    entry.resize(ENTRY_LEN, b'x');
    entry
}

/// Append throughput and proof latencies at one tree size.
#[derive(Debug, Default, Clone, Copy)]
struct Figures {
    leaves_per_second: f64,
    proof_p50: Duration,
    proof_p99: Duration,
}

/// Times `prove` at random indices below `size`; returns (p50, p99).
fn proof_latency(size: u64, seed: u64, mut prove: impl FnMut(u64)) -> (Duration, Duration) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut times: Vec<Duration> = (0..PROOF_SAMPLES)
        .map(|_| {
            let index = rng.random_range(0..size);
            let started = Instant::now();
            prove(index);
            started.elapsed()
        })
        .collect();
    times.sort();
    (times[PROOF_SAMPLES / 2], times[PROOF_SAMPLES * 99 / 100])
}

/// Appends to `store` until it holds `size` leaves; returns leaves per second.
fn grow_store(store: &Store, signer: &NoteSigner, size: u64) -> f64 {
    let start = store.tree_state().size.0;
    let started = Instant::now();
    let mut first = start;
    while first < size {
        let entries: Vec<Vec<u8>> = (first..(first + BATCH_LEN).min(size)).map(entry).collect();
        store
            .append(&entries, Vec::new(), signer)
            .expect("durable append");
        first += entries.len() as u64;
    }
    (size - start) as f64 / started.elapsed().as_secs_f64()
}

fn grow_ct_merkle(tree: &mut MemoryBackedTree<Sha256, Vec<u8>>, size: u64) -> f64 {
    let start = tree.len();
    let started = Instant::now();
    for index in start..size {
        tree.push(entry(index));
    }
    (size - start) as f64 / started.elapsed().as_secs_f64()
}

fn disk_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .expect("readable folder")
        .map(|entry| {
            let entry = entry.expect("readable entry");
            let metadata = entry.metadata().expect("metadata");
            if metadata.is_dir() {
                disk_bytes(&entry.path())
            } else {
                metadata.len()
            }
        })
        .sum()
}

fn print_figures(size: u64, ours: Figures, theirs: Figures, disk_per_leaf: f64) {
    let ratio = |a: f64, b: f64| a / b;
    println!(
        "size {size}: isnad-store append {:.0} leaves/s (durable), proof p50 {:?} p99 {:?}; \
         ct-merkle append {:.0} leaves/s (memory), proof p50 {:?} p99 {:?}; \
         ratios append {:.3}, proof p50 {:.1}, p99 {:.1}; disk {:.0} bytes/leaf",
        ours.leaves_per_second,
        ours.proof_p50,
        ours.proof_p99,
        theirs.leaves_per_second,
        theirs.proof_p50,
        theirs.proof_p99,
        ratio(ours.leaves_per_second, theirs.leaves_per_second),
        ratio(ours.proof_p50.as_secs_f64(), theirs.proof_p50.as_secs_f64()),
        ratio(ours.proof_p99.as_secs_f64(), theirs.proof_p99.as_secs_f64()),
        disk_per_leaf,
    );
    println!(
        "RESULT size={size} ours_append={:.0} ours_p50_us={:.1} ours_p99_us={:.1} \
         ct_append={:.0} ct_p50_us={:.2} ct_p99_us={:.2} disk_per_leaf={:.0}",
        ours.leaves_per_second,
        ours.proof_p50.as_secs_f64() * 1e6,
        ours.proof_p99.as_secs_f64() * 1e6,
        theirs.leaves_per_second,
        theirs.proof_p50.as_secs_f64() * 1e6,
        theirs.proof_p99.as_secs_f64() * 1e6,
        disk_per_leaf,
    );
}

fn main() {
    let leaves_max: u64 = std::env::var("ISNAD_BENCH_LEAVES")
        .map(|text| text.parse().expect("ISNAD_BENCH_LEAVES is a number"))
        .unwrap_or(LEAVES_DEFAULT);
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("temp dir");
    let store = Store::open(dir.path()).expect("open store");
    let signer =
        NoteSigner::new("bench.example/log", SigningKey::from_bytes(&[9; 32])).expect("valid name");
    let mut ct_tree = MemoryBackedTree::<Sha256, Vec<u8>>::new();
    let sizes: Vec<u64> = [FIRST_CHECKPOINT.min(leaves_max), leaves_max].into();
    let mut previous = 0;
    for (seed, &size) in sizes.iter().enumerate() {
        if size == previous {
            continue;
        }
        previous = size;
        let mut ours = Figures {
            leaves_per_second: grow_store(&store, &signer, size),
            ..Figures::default()
        };
        (ours.proof_p50, ours.proof_p99) = proof_latency(size, seed as u64, |index| {
            let proof = store
                .inclusion_proof(LeafIndex(index), TreeSize(size))
                .expect("proof");
            std::hint::black_box(proof);
        });
        let disk_per_leaf = disk_bytes(dir.path()) as f64 / size as f64;
        let mut theirs = Figures {
            leaves_per_second: grow_ct_merkle(&mut ct_tree, size),
            ..Figures::default()
        };
        (theirs.proof_p50, theirs.proof_p99) = proof_latency(size, seed as u64, |index| {
            std::hint::black_box(ct_tree.prove_inclusion(index as usize));
        });
        print_figures(size, ours, theirs, disk_per_leaf);
    }
}
