//! The background scrub: every so often, re-hash every entry in the segment files against its
//! leaf in the tree, so that damage to an entry nobody reads is found before a client needs it.
//!
//! Reads already refuse a damaged entry (with `DATA_LOSS` / `ENTRY_CORRUPT`); the scrub only
//! finds damage earlier. What it finds is logged at error level, each damaged entry by index,
//! and counted in [`Scrubs::damaged_found`]. It does not mark the server unhealthy: every other
//! entry is still served correctly, and the damaged ones are refused, never served; the
//! operator restores the segment file from a replica or a backup.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use isnad_log::LeafIndex;
use isnad_store::{Store, StoreError};

/// How often a scrub pass starts by default: a pass reads the whole log once, so it runs
/// rarely.
pub const SCRUB_INTERVAL_DEFAULT: Duration = Duration::from_secs(24 * 60 * 60);

/// Entries checked by one blocking read: one bundle, so a frame that cannot be read at all
/// makes only its own 256 entries unchecked.
const SCRUB_CHUNK_ENTRIES: u64 = 256;

/// Pause between two chunks: keeps the scrub a background task on a busy server (about 40 s
/// added to a pass over 10^7 entries).
const SCRUB_CHUNK_PAUSE: Duration = Duration::from_millis(1);

/// A progress line is logged every this many entries checked.
const SCRUB_PROGRESS_ENTRIES: u64 = 1 << 20;

/// What one scrub pass found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ScrubReport {
    /// Entries checked: the tree size when the pass started.
    pub checked: u64,
    /// Entries that do not hash to their leaf, by index.
    pub damaged: Vec<u64>,
    /// First indices of the chunks that could not be read at all (a damaged frame or span).
    pub unreadable_chunks: Vec<u64>,
}

/// The counters of the scrubs this server ran.
#[derive(Debug, Default)]
pub struct Scrubs {
    /// Completed passes, watched so that a caller can wait for the next one.
    passes: tokio::sync::watch::Sender<u64>,
    damaged: AtomicU64,
}

impl Scrubs {
    /// Completed passes.
    pub fn passes(&self) -> u64 {
        *self.passes.borrow()
    }

    /// The count of completed passes, to wait on.
    pub fn watch_passes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.passes.subscribe()
    }

    /// Damaged entries and unreadable chunks found, summed over all passes.
    pub fn damaged_found(&self) -> u64 {
        self.damaged.load(Ordering::Relaxed)
    }
}

/// Runs a scrub pass every `interval` (the first one after `interval`, not at start-up, which
/// already checks the last entry) until `stop` resolves.
pub async fn run(
    store: Arc<Store>,
    interval: Duration,
    scrubs: Arc<Scrubs>,
    stop: impl std::future::Future<Output = ()>,
) {
    let passes = async {
        loop {
            tokio::time::sleep(interval).await;
            let report = pass(&store).await;
            let found = report.damaged.len() + report.unreadable_chunks.len();
            scrubs.damaged.fetch_add(found as u64, Ordering::Relaxed);
            scrubs.passes.send_modify(|passes| *passes += 1);
        }
    };
    tokio::select! {
        () = passes => {}
        () = stop => {}
    }
}

/// One pass over the entries of the tree as it is when the pass starts, chunk by chunk off the
/// async threads; logs progress, every damaged entry, and a summary.
pub async fn pass(store: &Arc<Store>) -> ScrubReport {
    let size = store.tree_state().size.0;
    tracing::info!(size, "scrub: re-hashing every entry against the tree");
    let mut report = ScrubReport {
        checked: size,
        ..ScrubReport::default()
    };
    let mut start = 0;
    while start < size {
        let end = size.min(start + SCRUB_CHUNK_ENTRIES);
        let chunk_store = Arc::clone(store);
        let checked = tokio::task::spawn_blocking(move || {
            chunk_store.damaged_entries(LeafIndex(start), LeafIndex(end))
        })
        .await
        .unwrap_or_else(|error| Err(StoreError::Io(std::io::Error::other(error))));
        record(&mut report, start, end, checked);
        start = end;
        if start % SCRUB_PROGRESS_ENTRIES == 0 {
            tracing::info!(checked = start, size, "scrub: progress");
        }
        tokio::time::sleep(SCRUB_CHUNK_PAUSE).await;
    }
    if report.damaged.is_empty() && report.unreadable_chunks.is_empty() {
        tracing::info!(checked = size, "scrub: every entry matches the tree");
    } else {
        tracing::error!(
            checked = size,
            damaged = report.damaged.len(),
            unreadable_chunks = report.unreadable_chunks.len(),
            "scrub: damaged entries found; they are refused to clients; restore the segment \
             files from a replica or a backup"
        );
    }
    report
}

/// Adds what checking `start..end` gave to `report`, logging each finding.
fn record(
    report: &mut ScrubReport,
    start: u64,
    end: u64,
    checked: Result<Vec<LeafIndex>, StoreError>,
) {
    match checked {
        Ok(damaged) => {
            for LeafIndex(index) in damaged {
                tracing::error!(index, "scrub: entry does not hash to its leaf in the tree");
                report.damaged.push(index);
            }
        }
        Err(error) => {
            tracing::error!(start, end, %error, "scrub: entries cannot be read");
            report.unreadable_chunks.push(start);
        }
    }
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::SigningKey;
    use isnad_log::checkpoint::NoteSigner;

    use super::*;

    /// A store of 600 entries `entry 0`, `entry 1`, ... in `dir`.
    fn store_of_600(dir: &std::path::Path) {
        let store = Store::open(dir).expect("open");
        let signer = NoteSigner::new("isnad.example/log", SigningKey::from_bytes(&[3; 32]))
            .expect("valid log name");
        let entries: Vec<Vec<u8>> = (0..600)
            .map(|index| format!("entry {index}").into_bytes())
            .collect();
        store.append(&entries, Vec::new(), &signer).expect("append");
    }

    /// Flips the last byte of entry `index`, found by its text in the first segment file.
    fn flip_entry(dir: &std::path::Path, index: u64) {
        let path = dir.join("entries").join("00000000.seg");
        let mut bytes = std::fs::read(&path).expect("read");
        let text = format!("entry {index}");
        let at = bytes
            .windows(text.len() + 4)
            .position(|frame| {
                frame[4..] == *text.as_bytes() && frame[..4] == (text.len() as u32).to_be_bytes()
            })
            .expect("the entry is in the file");
        bytes[at + 4 + text.len() - 1] ^= 1;
        std::fs::write(&path, bytes).expect("write");
    }

    #[tokio::test]
    async fn a_pass_finds_every_damaged_entry_and_only_those() {
        let dir = tempfile::tempdir().expect("temp dir");
        store_of_600(dir.path());
        let store = Arc::new(Store::open(dir.path()).expect("reopen"));
        assert_eq!(
            pass(&store).await,
            ScrubReport {
                checked: 600,
                ..ScrubReport::default()
            }
        );
        drop(store);
        flip_entry(dir.path(), 3);
        flip_entry(dir.path(), 300);
        let store = Arc::new(Store::open(dir.path()).expect("reopen"));
        assert_eq!(
            pass(&store).await,
            ScrubReport {
                checked: 600,
                damaged: vec![3, 300],
                unreadable_chunks: Vec::new(),
            }
        );
    }

    /// The task started by the server runs passes on its interval and counts what they find,
    /// until it is stopped. The test waits on the pass counter, not on the clock.
    #[tokio::test]
    async fn the_background_task_counts_what_its_passes_find() {
        let dir = tempfile::tempdir().expect("temp dir");
        store_of_600(dir.path());
        flip_entry(dir.path(), 42);
        let store = Arc::new(Store::open(dir.path()).expect("reopen"));
        let scrubs = Arc::new(Scrubs::default());
        let mut passes = scrubs.watch_passes();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(run(
            store,
            Duration::from_millis(10),
            Arc::clone(&scrubs),
            async move {
                let _ = stopped.await;
            },
        ));
        passes
            .wait_for(|passes| *passes >= 1)
            .await
            .expect("the task runs");
        assert!(scrubs.damaged_found() >= 1, "the damaged entry is counted");
        stop.send(()).expect("the task runs");
        task.await.expect("the task ends");
        assert_eq!(scrubs.damaged_found(), scrubs.passes());
    }
}
