//! The append-only segment files that hold the entries.
//!
//! Entries live outside sled because sled's log-structured writes cost two thirds of an
//! append and double the entries' size on disk, and because gigabytes of entries in sled push
//! the tiles out of its cache. A segment file starts with [`MAGIC`] and a version byte, then
//! holds one frame per entry: its length (u32 big-endian) and its bytes. Segment `n` holds the
//! entries from `n * entries_per_segment` on; sled keeps, per bundle of 256 entries, where they
//! lie (see [`EntrySpan`]), and sled's tree size says how many of the framed entries count.
//! An append writes and syncs its frames here before it writes sled's batch, so a crash leaves
//! at most frames beyond the tree size, which [`Segments::recover`] cuts off.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::StoreError;
use crate::keys::{BUNDLE_WIDTH, EntrySpan, FRAME_PREFIX_LEN, corrupt};

/// The folder of the segment files, inside the store's folder.
pub(crate) const ENTRIES_DIR: &str = "entries";

/// Entries per segment file: about 300 MiB of 300-byte entries. A multiple of
/// [`BUNDLE_WIDTH`], so a bundle never spans two files.
pub(crate) const SEGMENT_ENTRIES: u64 = 1 << 20;

/// The first bytes of every segment file.
const MAGIC: &[u8; 8] = b"isnadseg";

/// Format version of segment files, the byte after [`MAGIC`].
const SEGMENT_VERSION: u8 = 1;

/// Bytes of the header, [`MAGIC`] and the version, before the first frame.
const HEADER_LEN: u64 = MAGIC.len() as u64 + 1;

/// The end of a segment file name, after the segment number.
const SEGMENT_SUFFIX: &str = ".seg";

/// Bytes to write at `offset` of segment file `segment`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct SegmentWrite {
    segment: u64,
    offset: u64,
    bytes: Vec<u8>,
}

/// Where appending entries puts them: the bytes to write, and the spans of the bundles they
/// fill, for sled.
#[derive(Debug, Default)]
pub(crate) struct Placement {
    /// Writes in order; the first one of a new segment file starts at offset 0, with the header.
    pub(crate) writes: Vec<SegmentWrite>,
    /// Bundle index and its span, for every bundle the entries go into.
    pub(crate) spans: Vec<(u64, EntrySpan)>,
}

/// The segment files of one store, with a handle kept open per file read or written.
#[derive(Debug)]
pub(crate) struct Segments {
    dir: PathBuf,
    entries_per_segment: u64,
    files: Mutex<HashMap<u64, Arc<File>>>,
}

impl Segments {
    /// Opens the segment folder inside `store_dir`, creating it (durably) when missing.
    pub(crate) fn open(store_dir: &Path, entries_per_segment: u64) -> io::Result<Segments> {
        assert!(
            entries_per_segment > 0 && entries_per_segment.is_multiple_of(BUNDLE_WIDTH),
            "a bundle never spans two segment files"
        );
        let dir = store_dir.join(ENTRIES_DIR);
        if !dir.exists() {
            std::fs::create_dir(&dir)?;
            sync_dir(store_dir)?;
        }
        Ok(Segments {
            dir,
            entries_per_segment,
            files: Mutex::new(HashMap::new()),
        })
    }

    /// Where appending `entries` to a tree of `size` leaves puts them. `previous` is the span of
    /// the bundle holding entry `size - 1`, when `size > 0`.
    pub(crate) fn place(
        &self,
        size: u64,
        previous: Option<EntrySpan>,
        entries: &[Vec<u8>],
    ) -> Placement {
        let mut placement = Placement::default();
        let mut write = match (size % self.entries_per_segment, &previous) {
            (0, _) | (_, None) => None,
            (_, Some(previous)) => Some(SegmentWrite {
                segment: size / self.entries_per_segment,
                offset: previous.end(),
                bytes: Vec::new(),
            }),
        };
        let mut span = previous.filter(|_| !size.is_multiple_of(BUNDLE_WIDTH));
        for (index, entry) in (size..).zip(entries) {
            if index % self.entries_per_segment == 0 {
                placement.writes.extend(write.take());
                write = Some(SegmentWrite {
                    segment: index / self.entries_per_segment,
                    offset: 0,
                    bytes: header(),
                });
            }
            let write = write.as_mut().expect("a write is open from here on");
            if index % BUNDLE_WIDTH == 0 {
                let ended = span.take().map(|span| (index / BUNDLE_WIDTH - 1, span));
                placement.spans.extend(ended);
                span = Some(EntrySpan {
                    start: write.offset + write.bytes.len() as u64,
                    lens: Vec::new(),
                });
            }
            let len = u32::try_from(entry.len()).expect("entries are far below 4 GiB");
            write.bytes.extend_from_slice(&len.to_be_bytes());
            write.bytes.extend_from_slice(entry);
            span.as_mut()
                .expect("a span is open from here on")
                .lens
                .push(len);
        }
        placement.writes.extend(write);
        let last_bundle = (size + entries.len() as u64 - 1) / BUNDLE_WIDTH;
        placement.spans.extend(span.map(|span| (last_bundle, span)));
        placement
    }

    /// Writes `writes` and waits until they are on the device, new files' names included.
    pub(crate) fn write_durably(&self, writes: &[SegmentWrite]) -> Result<(), StoreError> {
        let mut created = false;
        let mut written = Vec::new();
        for write in writes {
            let file = self.file(write.segment, write.offset == 0)?;
            file.write_all_at(&write.bytes, write.offset)?;
            created |= write.offset == 0;
            written.push(file);
        }
        for file in written {
            file.sync_data()?;
        }
        if created {
            sync_dir(&self.dir)?;
        }
        Ok(())
    }

    /// Reads the entries at `positions` of the bundle `bundle`, which lies at `span`.
    pub(crate) fn read(
        &self,
        bundle: u64,
        span: &EntrySpan,
        positions: std::ops::Range<usize>,
    ) -> Result<Vec<Vec<u8>>, StoreError> {
        let segment = bundle * BUNDLE_WIDTH / self.entries_per_segment;
        let file = self.file(segment, false)?;
        let start = span.frame_offset(positions.start);
        let len = span.frame_offset(positions.end) - start;
        let mut bytes = vec![0; usize::try_from(len).expect("a bundle fits in memory")];
        file.read_exact_at(&mut bytes, start)
            .map_err(|error| match error.kind() {
                io::ErrorKind::UnexpectedEof => {
                    corrupt("entry segment", "shorter than its entry spans")
                }
                _ => error.into(),
            })?;
        split_frames(&bytes, &span.lens[positions])
    }

    /// Makes the segment files hold exactly the `size` entries sled counts, `last` being the
    /// span of the bundle holding entry `size - 1`: frames beyond it (written by an append
    /// that crashed before its sled batch was durable) are cut off, and later files removed.
    /// Files shorter than that are refused: entries sled counts as durable are missing.
    pub(crate) fn recover(&self, size: u64, last: Option<&EntrySpan>) -> Result<(), StoreError> {
        let kept = match last {
            Some(last) => {
                let segment = (size - 1) / self.entries_per_segment;
                self.cut_after(segment, last.end())?;
                Some(segment)
            }
            None => None,
        };
        let found = self.segment_paths()?;
        let below = |segment: u64| found.iter().any(|(number, _)| *number == segment);
        if kept.is_some_and(|kept| !(0..kept).all(below)) {
            return Err(corrupt("entry segment", "missing below the tree size"));
        }
        let mut removed = false;
        for (segment, path) in found {
            if kept.is_none_or(|kept| segment > kept) {
                self.files
                    .lock()
                    .expect("no thread panics holding the segment files")
                    .remove(&segment);
                std::fs::remove_file(path)?;
                removed = true;
            }
        }
        if removed {
            sync_dir(&self.dir)?;
        }
        Ok(())
    }

    /// Truncates segment `segment` to `end` bytes and syncs it, refusing a shorter file.
    fn cut_after(&self, segment: u64, end: u64) -> Result<(), StoreError> {
        let file = self.file(segment, false)?;
        let len = file.metadata()?.len();
        if len < end {
            return Err(corrupt("entry segment", "shorter than the tree size"));
        }
        if len > end {
            tracing::warn!(
                segment,
                cut = len - end,
                "cutting entries beyond the tree size off the segment file"
            );
            file.set_len(end)?;
            file.sync_all()?;
        }
        Ok(())
    }

    /// The segment files in the folder, by number.
    fn segment_paths(&self) -> io::Result<Vec<(u64, PathBuf)>> {
        let mut found = Vec::new();
        for entry in std::fs::read_dir(&self.dir)? {
            let entry = entry?;
            let name = entry.file_name();
            let number = name
                .to_str()
                .and_then(|name| name.strip_suffix(SEGMENT_SUFFIX))
                .and_then(|number| number.parse().ok());
            if let Some(number) = number {
                found.push((number, entry.path()));
            }
        }
        Ok(found)
    }

    /// The open handle of segment `segment`, opening it first if needed: created empty when
    /// `create`, else checked to start with the header.
    fn file(&self, segment: u64, create: bool) -> Result<Arc<File>, StoreError> {
        let mut files = self
            .files
            .lock()
            .expect("no thread panics holding the segment files");
        if let Some(file) = files.get(&segment) {
            return Ok(Arc::clone(file));
        }
        let path = self.dir.join(format!("{segment:08}{SEGMENT_SUFFIX}"));
        let file = match OpenOptions::new()
            .read(true)
            .write(true)
            .create(create)
            .truncate(create)
            .open(path)
        {
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                return Err(corrupt("entry segment", "missing below the tree size"));
            }
            opened => opened?,
        };
        if !create {
            check_header(&file)?;
        }
        let file = Arc::new(file);
        files.insert(segment, Arc::clone(&file));
        Ok(file)
    }
}

/// The header every segment file starts with.
fn header() -> Vec<u8> {
    let mut header = MAGIC.to_vec();
    header.push(SEGMENT_VERSION);
    header
}

fn check_header(file: &File) -> Result<(), StoreError> {
    let mut found = [0; HEADER_LEN as usize];
    match file.read_exact_at(&mut found, 0) {
        Err(error) if error.kind() == io::ErrorKind::UnexpectedEof => {
            Err(corrupt("entry segment", "cut header"))
        }
        Err(error) => Err(error.into()),
        Ok(()) if found[..MAGIC.len()] != MAGIC[..] => {
            Err(corrupt("entry segment", "not a segment file"))
        }
        Ok(()) if found[MAGIC.len()] != SEGMENT_VERSION => {
            Err(corrupt("entry segment", "unknown format version"))
        }
        Ok(()) => Ok(()),
    }
}

/// Splits consecutive frames, checking each length against the one sled recorded.
fn split_frames(mut bytes: &[u8], lens: &[u32]) -> Result<Vec<Vec<u8>>, StoreError> {
    let mut entries = Vec::with_capacity(lens.len());
    for &len in lens {
        let (prefix, rest) = bytes.split_at(FRAME_PREFIX_LEN as usize);
        if u32::from_be_bytes(prefix.try_into().expect("split at 4")) != len {
            return Err(corrupt(
                "entry segment",
                "frame length differs from its span",
            ));
        }
        let (entry, rest) = rest.split_at(len as usize);
        entries.push(entry.to_vec());
        bytes = rest;
    }
    Ok(entries)
}

/// Syncs a folder, which makes the creation or removal of the files in it durable.
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}
