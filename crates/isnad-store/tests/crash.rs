//! Crash safety: a child process appends batches and is killed with SIGKILL at random points;
//! after each kill the store reopens at the last batch the child reported durable (or the one
//! after it, if that committed before the report was printed), and its tree is consistent with
//! every checkpoint the child reported. Set `ISNAD_TEST_SEED` to replay a printed seed.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use ed25519_dalek::SigningKey;
use isnad_log::checkpoint::{NoteSigner, NoteVerifier};
use isnad_log::{Hash, TreeSize, verify_consistency};
use isnad_store::Store;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Set in the child: the database folder to append to.
const CHILD_DIR_VAR: &str = "ISNAD_CRASH_CHILD_DIR";

/// Set in the child: the seed of its batch sizes.
const CHILD_SEED_VAR: &str = "ISNAD_CRASH_CHILD_SEED";

/// Kills, each after a random delay.
const KILLS: usize = 24;

/// Longest delay before a kill.
const KILL_DELAY_MAX_MS: u64 = 400;

/// Most entries in one child batch.
const BATCH_LEN_MAX: u64 = 400;

/// Bytes per entry, about the size of a small signed event.
const ENTRY_LEN: usize = 300;

/// The line prefix of a durable batch in the child's output.
const COMMITTED: &str = "committed";

fn signer() -> NoteSigner {
    NoteSigner::new("crash.example/log", SigningKey::from_bytes(&[5; 32])).expect("valid name")
}

/// The lengths of a child's batches, in order: the parent replays them to know which batch
/// could have committed without being reported.
fn batch_lens(seed: u64) -> impl Iterator<Item = u64> {
    let mut rng = StdRng::seed_from_u64(seed);
    std::iter::repeat_with(move || rng.random_range(1..=BATCH_LEN_MAX))
}

/// The child: appends batches until killed, printing each one's size and root once durable.
fn run_child(dir: &Path, seed: u64) {
    let store = Store::open(dir).expect("child opens the store");
    let signer = signer();
    for len in batch_lens(seed) {
        let first = store.tree_state().size.0;
        let entries: Vec<Vec<u8>> = (first..first + len)
            .map(|index| {
                let mut entry = format!("entry {index} ").into_bytes();
                entry.resize(ENTRY_LEN, b'.');
                entry
            })
            .collect();
        let outcome = store.append(&entries, Vec::new(), &signer).expect("append");
        // Printed only after `append` returned, so only after the batch is durable.
        println!(
            "{COMMITTED} {} {}",
            outcome.tree.size.0,
            hex::encode(outcome.tree.root)
        );
    }
}

/// Starts a child, kills it after `delay`, and returns the (size, root) pairs it reported.
fn run_and_kill(dir: &Path, seed: u64, delay: Duration) -> Vec<(TreeSize, Hash)> {
    let test_binary = std::env::current_exe().expect("test binary path");
    let mut child = Command::new(test_binary)
        .args([
            "killed_appenders_recover_to_a_durable_batch",
            "--exact",
            "--nocapture",
        ])
        .env(CHILD_DIR_VAR, dir)
        .env(CHILD_SEED_VAR, seed.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("child starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let (sender, receiver) = mpsc::channel();
    let reader = thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    thread::sleep(delay);
    child.kill().expect("SIGKILL the child");
    child.wait().expect("reap the child");
    reader.join().expect("reader thread ends with the pipe");
    receiver
        .try_iter()
        .filter_map(|line| parse_committed(&line))
        .collect()
}

fn parse_committed(line: &str) -> Option<(TreeSize, Hash)> {
    let mut words = line.strip_prefix(COMMITTED)?.split_whitespace();
    let size = words.next()?.parse().ok()?;
    let root = hex::decode(words.next()?).ok()?.try_into().ok()?;
    Some((TreeSize(size), root))
}

#[test]
fn killed_appenders_recover_to_a_durable_batch() {
    if let Ok(dir) = std::env::var(CHILD_DIR_VAR) {
        let seed = std::env::var(CHILD_SEED_VAR)
            .expect("seed set")
            .parse()
            .expect("u64 seed");
        run_child(Path::new(&dir), seed);
        return;
    }
    let seed = std::env::var("ISNAD_TEST_SEED")
        .map(|text| text.parse().expect("ISNAD_TEST_SEED is a u64"))
        .unwrap_or_else(|_| rand::random());
    println!("seed {seed} (replay with ISNAD_TEST_SEED={seed})");
    let mut rng = StdRng::seed_from_u64(seed);
    let dir = tempfile::tempdir().expect("temp dir");
    let verifier = NoteVerifier::from_vkey(&signer().vkey()).expect("vkey parses");
    let mut reported: Vec<(TreeSize, Hash)> = Vec::new();
    let started = Instant::now();
    for kill in 0..KILLS {
        let before = reported.last().map_or(TreeSize(0), |(size, _)| *size);
        let delay = Duration::from_millis(rng.random_range(0..=KILL_DELAY_MAX_MS));
        let child_seed = rng.random();
        let child_reports = run_and_kill(dir.path(), child_seed, delay);
        let last_reported = child_reports.last().map_or(before, |(size, _)| *size);
        let unreported_len = batch_lens(child_seed)
            .nth(child_reports.len())
            .expect("endless");
        reported.extend(child_reports);

        let store = Store::open(dir.path()).expect("reopens after a kill");
        let tree = store.tree_state();
        // The batch after the last report may have committed before its line was printed.
        let unreported = tree.size.0.checked_sub(last_reported.0);
        assert!(
            unreported == Some(0) || unreported == Some(unreported_len),
            "kill {kill}: reopened at {}, last reported {last_reported}, next batch {unreported_len}",
            tree.size
        );
        if tree.size.0 > 0 {
            let note = store
                .latest_checkpoint()
                .expect("read")
                .expect("a checkpoint");
            let checkpoint = verifier
                .verify(&note)
                .expect("stored checkpoint is signed by the log");
            assert_eq!((checkpoint.size, checkpoint.root), (tree.size, tree.root));
        }
        for (size, root) in &reported {
            let proof = store.consistency_proof(*size, tree.size).expect("proof");
            let consistent = verify_consistency(*size, tree.size, &proof, root, &tree.root);
            assert_eq!(
                consistent,
                Ok(()),
                "kill {kill}: tree {} forks from {size}",
                tree.size
            );
        }
        if unreported != Some(0) {
            reported.push((tree.size, tree.root));
        }
        println!("kill {kill} after {delay:?}: reopened at {}", tree.size);
    }
    assert!(
        reported.len() > KILLS,
        "children committed too little to test anything"
    );
    println!(
        "{KILLS} kills, {} checkpoints checked, in {:?}",
        reported.len(),
        started.elapsed()
    );
}
