//! The store's unit tests on real sled in a temporary directory: appends and reopening, entries,
//! proofs and checkpoints read back, the limits, and the damage reopening must detect or repair.

use ed25519_dalek::SigningKey;
use isnad_log::{verify_consistency, verify_inclusion};

use super::*;

const LOG_NAME: &str = "isnad.example/log";

fn signer() -> NoteSigner {
    NoteSigner::new(LOG_NAME, SigningKey::from_bytes(&[3; 32])).expect("valid log name")
}

fn entries(first: u64, count: u64) -> Vec<Vec<u8>> {
    (first..first + count)
        .map(|index| format!("entry {index}").into_bytes())
        .collect()
}

fn append_batches(store: &Store, batch_lens: &[u64]) -> Vec<AppendOutcome> {
    let mut outcomes = Vec::new();
    for &len in batch_lens {
        let first = store.tree_state().size.0;
        let outcome = store.append(&entries(first, len), Vec::new(), &signer());
        outcomes.push(outcome.expect("append succeeds"));
    }
    outcomes
}

#[test]
fn a_half_written_sled_snapshot_does_not_stop_the_store_from_opening() {
    let dir = tempfile::tempdir().expect("temp dir");
    let outcomes = append_batches(&Store::open(dir.path()).expect("open"), &[10, 20]);
    // What a process killed while sled wrote a snapshot leaves behind.
    let partial = dir.path().join("snap.FFFFFFFFFFFFFFFF.generating");
    std::fs::write(&partial, b"half a snapshot").expect("write");
    let store = Store::open(dir.path()).expect("reopens");
    assert_eq!(
        store.tree_state(),
        outcomes.last().expect("two appends").tree
    );
    assert!(!partial.exists(), "the partial snapshot is gone");
}

#[test]
fn appends_survive_reopen_and_serve_entries_proofs_and_checkpoints() {
    let dir = tempfile::tempdir().expect("temp dir");
    let outcomes = append_batches(&Store::open(dir.path()).expect("open"), &[1, 300, 255, 1]);
    let store = Store::open(dir.path()).expect("reopen");
    let tree = store.tree_state();
    assert_eq!(tree, outcomes.last().expect("four appends").tree);
    assert_eq!(tree.size, TreeSize(557));
    assert_eq!(
        outcomes.iter().map(|o| o.first_index.0).collect::<Vec<_>>(),
        [0, 1, 301, 556]
    );
    assert_eq!(
        store.entry(LeafIndex(300)).expect("read"),
        Some(b"entry 300".to_vec())
    );
    assert_eq!(store.entry(LeafIndex(557)).expect("read"), None);
    assert_eq!(
        store.entries(LeafIndex(555), LeafIndex(600)).expect("read"),
        entries(555, 2)
    );
    let verifier = NoteVerifier::from_vkey(&signer().vkey()).expect("vkey parses");
    for outcome in &outcomes {
        let note = store
            .checkpoint_at(outcome.tree.size)
            .expect("read")
            .expect("kept");
        assert_eq!(note, outcome.checkpoint);
        let checkpoint = verifier.verify(&note).expect("signed by the log");
        assert_eq!(
            (checkpoint.size, checkpoint.root),
            (outcome.tree.size, outcome.tree.root)
        );
        let proof = store
            .consistency_proof(checkpoint.size, tree.size)
            .expect("proof");
        assert_eq!(
            verify_consistency(
                checkpoint.size,
                tree.size,
                &proof,
                &checkpoint.root,
                &tree.root
            ),
            Ok(())
        );
    }
    assert_eq!(store.checkpoint_at(TreeSize(2)).expect("read"), None);
    for (index, batch) in [(0, 0), (1, 1), (300, 1), (301, 2), (555, 2), (556, 3)] {
        let covering = store.checkpoint_covering(LeafIndex(index)).expect("read");
        let expected = &outcomes[batch];
        assert_eq!(
            covering,
            Some((expected.tree.size, expected.checkpoint.clone()))
        );
    }
    assert_eq!(
        store.checkpoint_covering(LeafIndex(557)).expect("read"),
        None
    );
    assert_eq!(
        store.latest_checkpoint().expect("read"),
        Some(outcomes[3].checkpoint.clone())
    );
    for index in [0, 255, 256, 556] {
        let leaf = leaf_hash(format!("entry {index}").as_bytes());
        assert_eq!(
            store.index_of_leaf(&leaf).expect("lookup"),
            Some(LeafIndex(index))
        );
        let proof = store
            .inclusion_proof(LeafIndex(index), tree.size)
            .expect("proof");
        assert_eq!(
            verify_inclusion(&leaf, LeafIndex(index), tree.size, &proof, &tree.root),
            Ok(())
        );
    }
    assert_eq!(
        store
            .index_of_leaf(&leaf_hash(b"never appended"))
            .expect("lookup"),
        None
    );
}

#[test]
fn leaf_lookup_spans_index_segments_and_the_tail() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(dir.path()).expect("open");
    let size = 2 * crate::leaf_index::SEGMENT_LEAVES + 1_000;
    let entry = |index: u64| match index {
        // A repeat of entry 5 in the second segment, and one of entry 70,000 in the tail.
        70_000 => 5u64.to_be_bytes().to_vec(),
        131_500 => 70_001u64.to_be_bytes().to_vec(),
        _ => index.to_be_bytes().to_vec(),
    };
    let mut first = 0;
    while first < size {
        let end = (first + APPEND_ENTRIES_MAX as u64).min(size);
        let batch: Vec<Vec<u8>> = (first..end).map(entry).collect();
        store.append(&batch, Vec::new(), &signer()).expect("append");
        first = end;
    }
    for (entry_of, expected) in [
        (0, 0),
        (5, 5),
        (65_535, 65_535),
        (65_536, 65_536),
        (70_001, 70_001),
        (131_071, 131_071),
        (131_072, 131_072),
        (size - 1, size - 1),
    ] {
        let leaf = leaf_hash(&entry(entry_of));
        assert_eq!(
            store.index_of_leaf(&leaf).expect("lookup"),
            Some(LeafIndex(expected)),
            "entry {entry_of}"
        );
    }
    // Proofs through the cache of upper tiles (read twice: filled, then hit) match proofs
    // read straight from sled.
    let tree = store.tree_state();
    for _ in 0..2 {
        let cached = store
            .inclusion_proof(LeafIndex(7), tree.size)
            .expect("proof");
        let uncached =
            isnad_log::inclusion_proof(&SledTiles::uncached(&store.db), LeafIndex(7), tree.size);
        assert_eq!(cached, uncached.expect("proof"));
    }
    let absent = leaf_hash(&size.to_be_bytes());
    assert_eq!(store.index_of_leaf(&absent).expect("lookup"), None);
}

#[test]
fn a_repeated_entry_is_found_at_its_first_index() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(dir.path()).expect("open");
    let twice = vec![b"same".to_vec(), b"other".to_vec(), b"same".to_vec()];
    store.append(&twice, Vec::new(), &signer()).expect("append");
    assert_eq!(
        store.index_of_leaf(&leaf_hash(b"same")).expect("lookup"),
        Some(LeafIndex(0))
    );
}

#[test]
fn state_writes_commit_with_the_entries() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(dir.path()).expect("open");
    let writes = |pairs: &[(&str, Option<&str>)]| {
        pairs
            .iter()
            .map(|(k, v)| (k.as_bytes().to_vec(), v.map(|v| v.as_bytes().to_vec())))
            .collect()
    };
    store
        .append(
            &entries(0, 1),
            writes(&[
                ("u/1", Some("a")),
                ("u/2", Some("b")),
                ("u/3", Some("c")),
                ("v/1", Some("d")),
            ]),
            &signer(),
        )
        .expect("append");
    store
        .append(&entries(1, 1), writes(&[("u/2", None)]), &signer())
        .expect("append");
    assert_eq!(store.state_get(b"u/1").expect("get"), Some(b"a".to_vec()));
    assert_eq!(store.state_get(b"u/2").expect("get"), None);
    let pairs = |found: Vec<(Vec<u8>, Vec<u8>)>| {
        found
            .into_iter()
            .map(|(k, v)| {
                (
                    String::from_utf8(k).expect("utf-8"),
                    String::from_utf8(v).expect("utf-8"),
                )
            })
            .collect::<Vec<_>>()
    };
    let owned = |list: &[(&str, &str)]| {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        pairs(store.state_scan(b"u/", None, 10).expect("scan")),
        owned(&[("u/1", "a"), ("u/3", "c")])
    );
    assert_eq!(
        pairs(store.state_scan(b"u/", Some(b"u/1"), 10).expect("scan")),
        owned(&[("u/3", "c")])
    );
    assert_eq!(
        pairs(store.state_scan(b"u/", None, 1).expect("scan")),
        owned(&[("u/1", "a")])
    );
    assert_eq!(
        pairs(store.state_scan(b"u/", Some(b"a"), 10).expect("scan")),
        owned(&[("u/1", "a"), ("u/3", "c")])
    );
    assert_eq!(
        pairs(store.state_scan(b"u/", Some(b"z"), 10).expect("scan")),
        owned(&[])
    );
    assert_eq!(
        pairs(store.state_scan(b"", None, 10).expect("scan")).len(),
        3
    );
}

#[track_caller]
fn check_refused(
    store: &Store,
    entries: &[Vec<u8>],
    state_writes: Vec<(Vec<u8>, Option<Vec<u8>>)>,
    expected: &str,
) {
    let before = store.tree_state();
    let checkpoint = store.latest_checkpoint().expect("read");
    let error = store
        .append(entries, state_writes, &signer())
        .expect_err("refused");
    assert_eq!(
        format!("{error:?}").split(['(', ' ', '{']).next(),
        Some(expected),
        "{error}"
    );
    assert_eq!(store.tree_state(), before, "the tree did not change");
    assert_eq!(store.latest_checkpoint().expect("read"), checkpoint);
    assert_eq!(store.entry(LeafIndex(before.size.0)).expect("read"), None);
    assert_eq!(
        store.state_get(b"k").expect("read"),
        None,
        "no state was written"
    );
}

#[test]
fn appends_over_a_limit_change_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(dir.path()).expect("open");
    append_batches(&store, &[3]);
    let state =
        |key_len: usize, value_len: usize| vec![(vec![b'k'; key_len], Some(vec![0; value_len]))];
    let one = entries(3, 1);
    check_refused(&store, &[], state(1, 1), "EmptyAppend");
    check_refused(
        &store,
        &vec![vec![1]; APPEND_ENTRIES_MAX + 1],
        state(1, 1),
        "TooManyEntries",
    );
    // One byte past the longest entry the core frames: the store's bound is the core's.
    check_refused(
        &store,
        &[vec![1], vec![0; isnad_core::envelope::ENTRY_LEN_MAX + 1]],
        state(1, 1),
        "EntryTooLong",
    );
    check_refused(
        &store,
        &one,
        state(STATE_KEY_LEN_MAX + 1, 1),
        "StateWriteTooLong",
    );
    check_refused(
        &store,
        &one,
        state(1, STATE_VALUE_LEN_MAX + 1),
        "StateWriteTooLong",
    );
    let many = vec![(b"k".to_vec(), None); STATE_WRITES_MAX + 1];
    check_refused(&store, &one, many, "TooManyStateWrites");
    // Exactly at the limits is accepted.
    let largest = vec![vec![7; ENTRY_LEN_MAX]; 2];
    store
        .append(
            &largest,
            state(STATE_KEY_LEN_MAX, STATE_VALUE_LEN_MAX),
            &signer(),
        )
        .expect("at the limits");
}

#[test]
fn a_store_whose_append_was_not_made_durable_refuses_appends() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(dir.path()).expect("open");
    append_batches(&store, &[2]);
    // What a failed fdatasync leaves behind.
    store.broken.store(true, Ordering::SeqCst);
    check_refused(&store, &entries(2, 1), Vec::new(), "NeedsReopen");
    drop(store);
    let store = Store::open(dir.path()).expect("reopen");
    assert_eq!(append_batches(&store, &[1])[0].tree.size, TreeSize(3));
}

#[test]
fn a_tree_that_does_not_extend_the_last_checkpoint_is_not_signed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(dir.path()).expect("open");
    append_batches(&store, &[5]);
    // Damage the first leaf hash: the next tree would rewrite history.
    let key = keys::tile_key(isnad_log::TileId { level: 0, index: 0 });
    let mut hashes =
        keys::decode_tile(&store.db.get(key).expect("read").expect("tile")).expect("decodes");
    hashes[0][0] ^= 1;
    store
        .db
        .insert(key, keys::encode_tile(&hashes))
        .expect("write");
    check_refused(
        &store,
        &entries(5, 1),
        vec![(b"k".to_vec(), Some(b"v".to_vec()))],
        "InconsistentCheckpoint",
    );
}

#[track_caller]
fn check_reopen_fails(damage: impl FnOnce(&sled::Db), expected_problem: &str) {
    let dir = tempfile::tempdir().expect("temp dir");
    {
        let store = Store::open(dir.path()).expect("open");
        append_batches(&store, &[4, 300]);
        damage(&store.db);
        store.db.flush().expect("flush");
    }
    check_open_refused(dir.path(), SEGMENT_ENTRIES, expected_problem);
}

/// Opening `dir` fails with `expected_problem` and leaves the segment files as they were.
#[track_caller]
fn check_open_refused(dir: &Path, entries_per_segment: u64, expected_problem: &str) {
    let before = segment_files(dir);
    match Store::open_with(dir, entries_per_segment) {
        Err(StoreError::Corrupt { problem, .. }) => assert_eq!(problem, expected_problem),
        other => panic!("expected a corrupt store, got {other:?}"),
    }
    assert_eq!(
        segment_files(dir),
        before,
        "the refused open changed no file"
    );
}

/// Entries per segment file in tests, so that a few hundred entries cross files.
const TEST_SEGMENT_ENTRIES: u64 = 512;

fn segment_path(dir: &Path, segment: u64) -> std::path::PathBuf {
    dir.join(crate::segments::ENTRIES_DIR)
        .join(format!("{segment:08}.seg"))
}

/// Every segment file's name and bytes, by name.
fn segment_files(dir: &Path) -> Vec<(std::ffi::OsString, Vec<u8>)> {
    let folder = dir.join(crate::segments::ENTRIES_DIR);
    let mut files: Vec<_> = std::fs::read_dir(folder)
        .expect("segment folder")
        .map(|entry| {
            let entry = entry.expect("folder entry");
            let bytes = std::fs::read(entry.path()).expect("segment file");
            (entry.file_name(), bytes)
        })
        .collect();
    files.sort();
    files
}

/// Appends `batch_lens` to a store with small segment files, and returns its folder.
fn small_segments_store(batch_lens: &[u64]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open_with(dir.path(), TEST_SEGMENT_ENTRIES).expect("open");
    append_batches(&store, batch_lens);
    dir
}

/// Adds `bytes` at the end of segment file `segment`, creating it if needed.
fn append_to_segment(dir: &Path, segment: u64, bytes: &[u8]) {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(segment_path(dir, segment))
        .expect("segment file");
    file.write_all(bytes).expect("write");
}

/// A framed entry as an append writes it.
fn frame(entry: &[u8]) -> Vec<u8> {
    let mut frame = (entry.len() as u32).to_be_bytes().to_vec();
    frame.extend_from_slice(entry);
    frame
}

/// Entries beyond the tree size, as an append that crashed between syncing its segment
/// writes and making its sled batch durable leaves them, are cut off on reopen: the store
/// holds exactly its durable entries, its files are as before, and appends go on.
#[track_caller]
fn check_recovers(batch_lens: &[u64], damage: impl FnOnce(&Path)) {
    let dir = small_segments_store(batch_lens);
    let size: u64 = batch_lens.iter().sum();
    let before = segment_files(dir.path());
    damage(dir.path());
    let store = Store::open_with(dir.path(), TEST_SEGMENT_ENTRIES).expect("reopen");
    assert_eq!(store.tree_state().size, TreeSize(size));
    assert_eq!(segment_files(dir.path()), before, "only the torn tail went");
    append_batches(&store, &[600]);
    drop(store);
    let store = Store::open_with(dir.path(), TEST_SEGMENT_ENTRIES).expect("reopen");
    let end = LeafIndex(size + 600);
    assert_eq!(
        store.entries(LeafIndex(0), end).expect("read"),
        entries(0, size + 600)
    );
}

#[test]
fn reopening_cuts_entries_beyond_the_tree_size() {
    let extra = frame(b"never committed");
    check_recovers(&[4, 300, 300], |dir| append_to_segment(dir, 1, &extra));
    check_recovers(&[4, 300, 300], |dir| append_to_segment(dir, 1, &extra[..7]));
    check_recovers(&[4, 300, 300], |dir| append_to_segment(dir, 1, &extra[..2]));
    check_recovers(&[512], |dir| {
        append_to_segment(dir, 1, b"isnadseg\x01");
        append_to_segment(dir, 1, &extra);
    });
    check_recovers(&[], |dir| append_to_segment(dir, 0, b"isnadseg\x01"));
    check_recovers(&[100], |dir| {
        append_to_segment(dir, 0, &extra);
        append_to_segment(dir, 3, b"isnadseg");
    });
}

#[test]
fn appends_fill_bundles_and_segment_files_in_order() {
    // Batches that end inside a bundle, on a bundle edge, on a segment edge, and across.
    let batch_lens = [1, 255, 256, 100, 412, 1_000, 3];
    let dir = small_segments_store(&batch_lens);
    let size = batch_lens.iter().sum();
    let store = Store::open_with(dir.path(), TEST_SEGMENT_ENTRIES).expect("reopen");
    assert_eq!(
        store.entries(LeafIndex(0), LeafIndex(size)).expect("read"),
        entries(0, size)
    );
    for index in [0, 255, 256, 511, 512, 1_023, 1_024, size - 1] {
        let expected = format!("entry {index}").into_bytes();
        assert_eq!(store.entry(LeafIndex(index)).expect("read"), Some(expected));
    }
    let files: Vec<_> = segment_files(dir.path())
        .into_iter()
        .map(|(name, bytes)| (name.into_string().expect("UTF-8 name"), bytes.len()))
        .collect();
    let names: Vec<&str> = files.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(
        names,
        [
            "00000000.seg",
            "00000001.seg",
            "00000002.seg",
            "00000003.seg"
        ]
    );
    // 9 header bytes, then a 4-byte length and the entry per frame.
    let frames_len = |range: std::ops::Range<u64>| {
        range
            .map(|index| 4 + format!("entry {index}").len())
            .sum::<usize>()
    };
    assert_eq!(files[1].1, 9 + frames_len(512..1_024));
    assert_eq!(files[3].1, 9 + frames_len(1_536..size));
}

#[test]
fn reopening_refuses_missing_or_damaged_entries() {
    let refused = |damage: &dyn Fn(&Path), expected_problem: &str| {
        let dir = small_segments_store(&[4, 300, 300]);
        damage(dir.path());
        check_open_refused(dir.path(), TEST_SEGMENT_ENTRIES, expected_problem);
    };
    let rewrite = |dir: &Path, segment: u64, change: &dyn Fn(&mut Vec<u8>)| {
        let path = segment_path(dir, segment);
        let mut bytes = std::fs::read(&path).expect("read");
        change(&mut bytes);
        std::fs::write(&path, bytes).expect("write");
    };
    refused(
        &|dir| rewrite(dir, 1, &|bytes| bytes.truncate(bytes.len() - 1)),
        "shorter than the tree size",
    );
    refused(
        &|dir| rewrite(dir, 1, &|bytes| bytes.truncate(9)),
        "shorter than the tree size",
    );
    refused(
        &|dir| std::fs::remove_file(segment_path(dir, 0)).expect("remove"),
        "missing below the tree size",
    );
    refused(
        &|dir| std::fs::remove_file(segment_path(dir, 1)).expect("remove"),
        "missing below the tree size",
    );
    refused(
        &|dir| rewrite(dir, 1, &|bytes| *bytes.last_mut().expect("entry") ^= 1),
        "last entry differs from the last leaf",
    );
    let last_frame_len = 4 + "entry 603".len();
    refused(
        &|dir| {
            rewrite(dir, 1, &|bytes| {
                let frame_start = bytes.len() - last_frame_len;
                bytes[frame_start] ^= 1;
            })
        },
        "frame length differs from its span",
    );
    refused(
        &|dir| rewrite(dir, 1, &|bytes| bytes[0] ^= 1),
        "not a segment file",
    );
    refused(
        &|dir| rewrite(dir, 1, &|bytes| bytes[8] = 2),
        "unknown format version",
    );
    refused(
        &|dir| rewrite(dir, 1, &|bytes| bytes.truncate(5)),
        "cut header",
    );
}

#[test]
fn a_damaged_entry_below_the_last_is_reported_when_read() {
    let dir = small_segments_store(&[4, 300]);
    let path = segment_path(dir.path(), 0);
    let mut bytes = std::fs::read(&path).expect("read");
    // The length of entry 0's frame, just after the header.
    bytes[9] ^= 1;
    std::fs::write(&path, bytes).expect("write");
    let store = Store::open_with(dir.path(), TEST_SEGMENT_ENTRIES).expect("reopen");
    assert!(matches!(
        store.entry(LeafIndex(0)),
        Err(StoreError::Corrupt {
            problem: "frame length differs from its span",
            ..
        })
    ));
    assert_eq!(
        store.entry(LeafIndex(1)).expect("read"),
        Some(b"entry 1".to_vec())
    );
}

/// A bit flipped inside an older entry (its frame intact, so only its hash can tell) is found
/// when the entry is read: it is refused, never served, while its neighbours still read; the
/// scrub's check names exactly that entry.
#[test]
fn a_flipped_bit_in_an_older_entry_is_refused_and_found_by_the_check() {
    let dir = small_segments_store(&[4, 300]);
    let path = segment_path(dir.path(), 0);
    let mut bytes = std::fs::read(&path).expect("read");
    // The header (9 bytes), entry 0's frame (4 + 7 bytes), entry 1's length (4): the last
    // byte of "entry 1" is at 9 + 11 + 4 + 6.
    assert_eq!(bytes[30], b'1');
    bytes[30] ^= 1;
    std::fs::write(&path, bytes).expect("write");
    let store = Store::open_with(dir.path(), TEST_SEGMENT_ENTRIES).expect("reopen");
    fn refused<T: std::fmt::Debug>(result: Result<T, StoreError>) -> u64 {
        match result {
            Err(StoreError::EntryCorrupt { index }) => index,
            other => panic!("expected the damaged entry to be refused, got {other:?}"),
        }
    }
    assert_eq!(refused(store.entry(LeafIndex(1))), 1);
    assert_eq!(refused(store.entries(LeafIndex(0), LeafIndex(4))), 1);
    assert_eq!(
        store.entries(LeafIndex(2), LeafIndex(4)).expect("read"),
        entries(2, 2)
    );
    assert_eq!(
        store.entry(LeafIndex(0)).expect("read"),
        Some(b"entry 0".to_vec())
    );
    assert_eq!(
        store
            .damaged_entries(LeafIndex(0), LeafIndex(304))
            .expect("check"),
        vec![LeafIndex(1)]
    );
    assert_eq!(
        store
            .damaged_entries(LeafIndex(2), LeafIndex(304))
            .expect("check"),
        Vec::<LeafIndex>::new()
    );
}

#[test]
fn reopening_checks_size_root_and_checkpoint_agree() {
    let tree = |db: &sled::Db| {
        keys::decode_meta(&db.get(keys::META_KEY).expect("read").expect("meta")).expect("decodes")
    };
    check_reopen_fails(
        |db| {
            let mut state = tree(db);
            state.root[0] ^= 1;
            db.insert(keys::META_KEY, keys::encode_meta(&state))
                .expect("write");
        },
        "root differs from the root of the stored tiles",
    );
    check_reopen_fails(
        |db| {
            let mut state = tree(db);
            state.size = TreeSize(4);
            let root = isnad_log::root(&SledTiles::uncached(db), state.size).expect("root");
            state.root = root;
            db.insert(keys::META_KEY, keys::encode_meta(&state))
                .expect("write");
        },
        "does not end at the tree size",
    );
    check_reopen_fails(
        |db| {
            db.remove(keys::checkpoint_key(TreeSize(304)))
                .expect("remove");
        },
        "missing for the stored tree size",
    );
    check_reopen_fails(
        |db| {
            let older = db
                .get(keys::checkpoint_key(TreeSize(4)))
                .expect("read")
                .expect("kept");
            db.insert(keys::checkpoint_key(TreeSize(304)), older)
                .expect("write");
        },
        "differs from the stored tree",
    );
    check_reopen_fails(
        |db| {
            db.remove(keys::span_key(1)).expect("remove");
        },
        "missing below the tree size",
    );
    check_reopen_fails(
        |db| {
            db.remove(keys::META_KEY).expect("remove");
        },
        "missing from a non-empty database",
    );
    check_reopen_fails(
        |db| {
            db.insert(keys::META_KEY, vec![9]).expect("write");
        },
        "unknown format version",
    );
}

#[test]
fn requests_beyond_the_tree_are_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(dir.path()).expect("open");
    append_batches(&store, &[10]);
    let beyond = |result: Result<Vec<Hash>, StoreError>| {
        matches!(result, Err(StoreError::BeyondCurrentSize { .. }))
    };
    assert!(beyond(store.inclusion_proof(LeafIndex(0), TreeSize(11))));
    assert!(beyond(store.consistency_proof(TreeSize(1), TreeSize(11))));
    assert!(matches!(
        store.inclusion_proof(LeafIndex(10), TreeSize(10)),
        Err(StoreError::Log(LogError::IndexOutOfRange { .. }))
    ));
    assert!(matches!(
        store.consistency_proof(TreeSize(0), TreeSize(10)),
        Err(StoreError::Log(LogError::BadSizes { .. }))
    ));
    assert!(matches!(
        store.entries(LeafIndex(5), LeafIndex(4)),
        Err(StoreError::BadRange { .. })
    ));
    assert!(matches!(
        store.entries(LeafIndex(0), LeafIndex(ENTRIES_READ_MAX + 1)),
        Err(StoreError::BadRange { .. })
    ));
    assert_eq!(
        store
            .entries(LeafIndex(0), LeafIndex(ENTRIES_READ_MAX))
            .expect("read")
            .len(),
        10
    );
    assert_eq!(store.checkpoint_at(TreeSize(11)).expect("read"), None);
}
