//! Making a committed sled batch durable. sled 0.34's `flush()` writes its log with
//! `sync_file_range`, which neither flushes the device's write cache nor the file's metadata,
//! so the store follows every flush with an `fdatasync` of sled's data file and of any blob
//! files sled created for large pages.

use std::collections::HashSet;
use std::ffi::OsString;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The file sled 0.34 keeps its log in, inside the database folder.
const DATA_FILE: &str = "db";

/// The folder where sled 0.34 writes pages too large for its log segments.
const BLOBS_DIR: &str = "blobs";

/// The file sled 0.34 keeps its storage parameters in.
const CONFIG_FILE: &str = "conf";

/// Syncs sled's files to the device.
#[derive(Debug)]
pub(crate) struct DiskSync {
    data_file: File,
    blobs_dir: PathBuf,
    /// Blob files already synced; sled never rewrites a blob in place.
    synced_blobs: Mutex<HashSet<OsString>>,
}

impl DiskSync {
    /// Opens the files of the database in `dir` and syncs what exists now, so that everything
    /// sled recovered or created is durable before the first append. On first creation the
    /// folder entries are synced too, so the database itself survives a power cut.
    pub(crate) fn open(dir: &Path, created: bool) -> io::Result<DiskSync> {
        let data_file = File::open(dir.join(DATA_FILE))?;
        data_file.sync_all()?;
        let sync = DiskSync {
            data_file,
            blobs_dir: dir.join(BLOBS_DIR),
            synced_blobs: Mutex::new(HashSet::new()),
        };
        sync.sync_new_blobs()?;
        if created {
            File::open(dir.join(CONFIG_FILE))?.sync_all()?;
            sync_dir(dir)?;
            if let Some(parent) = dir.parent().filter(|parent| !parent.as_os_str().is_empty()) {
                sync_dir(parent)?;
            }
        }
        Ok(sync)
    }

    /// Flushes sled and waits until its data is on the device.
    pub(crate) fn make_durable(&self, db: &sled::Db) -> Result<(), crate::StoreError> {
        db.flush()?;
        self.data_file.sync_data()?;
        self.sync_new_blobs()?;
        Ok(())
    }

    /// Syncs the blob files not synced yet, then their folder, and forgets deleted ones.
    fn sync_new_blobs(&self) -> io::Result<()> {
        let mut synced = self
            .synced_blobs
            .lock()
            .expect("no thread panics while syncing");
        let mut present = HashSet::new();
        let mut added = false;
        for entry in std::fs::read_dir(&self.blobs_dir)? {
            let entry = entry?;
            let name = entry.file_name();
            if !synced.contains(&name) {
                match File::open(entry.path()) {
                    Ok(file) => file.sync_data()?,
                    // sled removed a blob it no longer needs while we listed the folder.
                    Err(error) if error.kind() == io::ErrorKind::NotFound => continue,
                    Err(error) => return Err(error),
                }
                added = true;
            }
            present.insert(name);
        }
        if added {
            sync_dir(&self.blobs_dir)?;
        }
        *synced = present;
        Ok(())
    }
}

/// Syncs a folder, which makes the creation of the files in it durable.
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}
