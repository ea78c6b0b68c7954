//! Replays the fuzz corpus: every file under `tests/fuzz/corpus/<target>/`, and every seed the
//! testkit generates, through the very functions the cargo-fuzz targets run
//! (`isnad_testkit::fuzz`), so an input that once crashed a parser is tried again on every
//! `cargo test`. The fuzzing itself needs nightly and runs by hand (see `tests/fuzz/README.md`).

use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::path::{Path, PathBuf};

use isnad_testkit::fuzz::{TARGETS, Target, seeds};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// Runs `target` on `data`; a panic is re-raised naming the input.
fn replay(target: &Target, what: &str, data: &[u8]) {
    let (name, run) = target;
    if let Err(panic) = catch_unwind(AssertUnwindSafe(|| run(data))) {
        eprintln!("fuzz target {name} panicked on {what}");
        resume_unwind(panic);
    }
}

#[test]
fn every_corpus_file_replays_without_a_panic() {
    for target in TARGETS {
        let dir = fuzz_dir().join("corpus").join(target.0);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|error| panic!("{}: {error}", dir.display()))
            .map(|entry| entry.expect("a corpus directory entry").path())
            .collect();
        files.sort();
        assert!(!files.is_empty(), "{}: no corpus", dir.display());
        for file in files {
            let data = std::fs::read(&file).expect("a corpus file reads");
            replay(target, &file.display().to_string(), &data);
        }
    }
}

#[test]
fn every_seed_replays_without_a_panic() {
    let seeds = seeds();
    for target in TARGETS {
        let count = seeds.iter().filter(|(name, _)| *name == target.0).count();
        assert!(count > 0, "no seed for target {}", target.0);
    }
    for (position, (name, data)) in seeds.iter().enumerate() {
        let target = TARGETS
            .iter()
            .find(|target| target.0 == *name)
            .expect("every seed names a target");
        replay(target, &format!("seed {position}"), data);
    }
}

/// Each target of the cargo-fuzz project is the one line that calls its testkit function, so
/// what the fuzzer ran is what this test replays.
#[test]
fn every_target_is_a_fuzz_binary_calling_the_testkit() {
    let manifest = std::fs::read_to_string(fuzz_dir().join("Cargo.toml")).expect("manifest");
    for (name, _) in TARGETS {
        assert!(
            manifest.contains(&format!(
                "name = \"{name}\"\npath = \"fuzz_targets/{name}.rs\""
            )),
            "no [[bin]] {name} in tests/fuzz/Cargo.toml"
        );
        let file = fuzz_dir().join("fuzz_targets").join(format!("{name}.rs"));
        let source = std::fs::read_to_string(&file).expect("target source");
        assert!(
            source.contains(&format!("isnad_testkit::fuzz::{name}(data)")),
            "{} does not call isnad_testkit::fuzz::{name}",
            file.display()
        );
    }
}
