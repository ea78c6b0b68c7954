//! State as a key-value view, and the storage encoding of records.
//!
//! The executor reads state through [`StateView`] and answers with [`Writes`]; it never writes
//! itself. The server backs the view with sled, tests and the offline client with [`MemState`].
//! [`Overlay`] lets a group of events see each other's effects before the group is committed.
//!
//! Keys are built in `keys` below (one leading tag byte, then fixed-width identifiers, so every
//! key family scans in a useful order). Records are postcard behind a one-byte version, so a
//! later encoding can be told apart from this one.

use std::collections::BTreeMap;
use std::ops::Bound;

use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

/// A storage backend failed, or a stored record could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("storage: {0}")]
pub struct StorageError(pub String);

/// One stored key and its value.
pub type Entry = (Vec<u8>, Vec<u8>);

/// A pending write: the new value, or `None` for a delete.
type PendingValue = Option<Vec<u8>>;

/// Read access to state.
pub trait StateView {
    /// The value stored under `key`, if any.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError>;

    /// Keys with `prefix`, strictly after `after` when given, in key order, at most `limit`.
    fn scan(
        &self,
        prefix: &[u8],
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<Entry>, StorageError>;

    /// The last `limit` keys with `prefix`, in key order. This default reads every key with
    /// the prefix, keeping only the last `limit`; a view that can read backwards (the store)
    /// answers in time proportional to `limit`.
    fn scan_last(&self, prefix: &[u8], limit: usize) -> Result<Vec<Entry>, StorageError> {
        const PAGE_LEN: usize = 1024;
        let mut last: std::collections::VecDeque<Entry> = std::collections::VecDeque::new();
        let mut after: Option<Vec<u8>> = None;
        loop {
            let page = self.scan(prefix, after.as_deref(), PAGE_LEN)?;
            let done = page.len() < PAGE_LEN;
            after = page.last().map(|(key, _)| key.clone());
            for entry in page {
                if last.len() == limit {
                    last.pop_front();
                }
                if limit > 0 {
                    last.push_back(entry);
                }
            }
            if done {
                return Ok(last.into());
            }
        }
    }
}

impl<V: StateView + ?Sized> StateView for &V {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        (**self).get(key)
    }

    fn scan(
        &self,
        prefix: &[u8],
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<Entry>, StorageError> {
        (**self).scan(prefix, after, limit)
    }

    fn scan_last(&self, prefix: &[u8], limit: usize) -> Result<Vec<Entry>, StorageError> {
        (**self).scan_last(prefix, limit)
    }
}

/// Ordered writes produced by the executor; `None` deletes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Writes(pub Vec<(Vec<u8>, Option<Vec<u8>>)>);

impl Writes {
    /// Whether there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The number of writes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Bytes written: keys plus values, for size budgets and measurements.
    pub fn bytes_len(&self) -> usize {
        self.0
            .iter()
            .map(|(key, value)| key.len() + value.as_ref().map_or(0, Vec::len))
            .sum()
    }
}

/// The start bound of a scan: the prefix itself, or strictly after `after` when that is later.
fn scan_start<'k>(prefix: &'k [u8], after: Option<&'k [u8]>) -> Bound<&'k [u8]> {
    match after {
        Some(after) if after >= prefix => Bound::Excluded(after),
        _ => Bound::Included(prefix),
    }
}

/// An in-memory state: a `BTreeMap`, for tests and for the client's offline replay.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemState {
    entries: BTreeMap<Vec<u8>, Vec<u8>>,
}

impl MemState {
    /// An empty state.
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies writes in order.
    pub fn apply(&mut self, writes: &Writes) {
        for (key, value) in &writes.0 {
            match value {
                Some(value) => self.entries.insert(key.clone(), value.clone()),
                None => self.entries.remove(key),
            };
        }
    }

    /// SHA-256 over every key and value in key order, each length-prefixed, so two states have
    /// the same digest exactly when they hold the same entries.
    pub fn digest(&self) -> [u8; 32] {
        let mut hasher = Sha256::new();
        for (key, value) in &self.entries {
            hasher.update((key.len() as u64).to_be_bytes());
            hasher.update(key);
            hasher.update((value.len() as u64).to_be_bytes());
            hasher.update(value);
        }
        hasher.finalize().into()
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the state holds nothing.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Every entry in key order, for measurements and debugging.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.entries
            .iter()
            .map(|(key, value)| (key.as_slice(), value.as_slice()))
    }
}

impl StateView for MemState {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self.entries.get(key).cloned())
    }

    fn scan(
        &self,
        prefix: &[u8],
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<Entry>, StorageError> {
        let range = (scan_start(prefix, after), Bound::Unbounded);
        Ok(self
            .entries
            .range::<[u8], _>(range)
            .take_while(|(key, _)| key.starts_with(prefix))
            .take(limit)
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect())
    }

    fn scan_last(&self, prefix: &[u8], limit: usize) -> Result<Vec<Entry>, StorageError> {
        let end = match prefix_end(prefix) {
            Some(end) => Bound::Excluded(end),
            None => Bound::Unbounded,
        };
        let mut last: Vec<Entry> = self
            .entries
            .range::<[u8], _>((Bound::Included(prefix), end.as_ref().map(Vec::as_slice)))
            .rev()
            .take(limit)
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect();
        last.reverse();
        Ok(last)
    }
}

/// The first key after every key that starts with `prefix`; `None` when there is none (the
/// prefix is empty or all 0xff).
fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// A point to roll an [`Overlay`] back to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OverlayMark(usize);

/// Reads through pending writes; lets a group of events see each other's effects before commit.
#[derive(Debug)]
pub struct Overlay<'a, V: StateView + ?Sized> {
    base: &'a V,
    /// The latest pending value of every key written; `None` is a pending delete.
    pending: BTreeMap<Vec<u8>, PendingValue>,
    /// For each write in order, the key and what `pending` held for it before, to roll back.
    undo: Vec<(Vec<u8>, Option<PendingValue>)>,
}

impl<'a, V: StateView + ?Sized> Overlay<'a, V> {
    /// An overlay with no pending writes over `base`.
    pub fn new(base: &'a V) -> Self {
        Self {
            base,
            pending: BTreeMap::new(),
            undo: Vec::new(),
        }
    }

    /// Adds writes on top of what is pending.
    pub fn apply(&mut self, writes: Writes) {
        for (key, value) in writes.0 {
            let previous = self.pending.insert(key.clone(), value);
            self.undo.push((key, previous));
        }
    }

    /// The current point, to roll back to if a later event of the group is refused.
    pub fn mark(&self) -> OverlayMark {
        OverlayMark(self.undo.len())
    }

    /// Forgets every write applied since `mark`.
    pub fn rollback(&mut self, mark: OverlayMark) {
        assert!(
            mark.0 <= self.undo.len(),
            "an overlay mark is only rolled back once"
        );
        while self.undo.len() > mark.0 {
            let (key, previous) = self.undo.pop().expect("the loop condition holds an entry");
            match previous {
                Some(value) => self.pending.insert(key, value),
                None => self.pending.remove(&key),
            };
        }
    }

    /// How many keys have a pending write: the size of the commit [`Overlay::into_writes`]
    /// would make.
    pub fn pending_len(&self) -> usize {
        self.pending.len()
    }

    /// The net writes, one per key in key order, to commit on the base.
    pub fn into_writes(self) -> Writes {
        Writes(self.pending.into_iter().collect())
    }

    /// Pending entries with `prefix` from the scan's start on.
    fn pending_range<'s>(
        &'s self,
        prefix: &'s [u8],
        after: Option<&'s [u8]>,
    ) -> impl Iterator<Item = (&'s Vec<u8>, &'s Option<Vec<u8>>)> + 's {
        let range = (scan_start(prefix, after), Bound::Unbounded);
        self.pending
            .range::<[u8], _>(range)
            .take_while(move |(key, _)| key.starts_with(prefix))
    }
}

impl<V: StateView + ?Sized> StateView for Overlay<'_, V> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        match self.pending.get(key) {
            Some(value) => Ok(value.clone()),
            None => self.base.get(key),
        }
    }

    fn scan(
        &self,
        prefix: &[u8],
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<Entry>, StorageError> {
        let mut pending = self.pending_range(prefix, after).peekable();
        let mut base = BasePages::new(self.base, prefix, after, limit);
        let mut out = Vec::new();
        while out.len() < limit {
            let base_next = base.peek()?;
            let take_pending = match (pending.peek(), base_next) {
                (None, None) => break,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (Some((pending_key, _)), Some((base_key, _))) => *pending_key <= base_key,
            };
            if take_pending {
                let (key, value) = pending.next().expect("peeked just above");
                if base.peek()?.is_some_and(|(base_key, _)| base_key == key) {
                    // The pending write shadows the base value of the same key.
                    base.next();
                }
                if let Some(value) = value {
                    out.push((key.clone(), value.clone()));
                }
            } else {
                out.push(base.next().expect("peeked just above"));
            }
        }
        Ok(out)
    }
}

/// Reads a base scan page by page, so an overlay scan that skips deleted keys still fills its
/// page.
struct BasePages<'a, V: StateView + ?Sized> {
    base: &'a V,
    prefix: &'a [u8],
    page_len: usize,
    page: std::vec::IntoIter<Entry>,
    peeked: Option<Entry>,
    cursor: Option<Vec<u8>>,
    exhausted: bool,
}

impl<'a, V: StateView + ?Sized> BasePages<'a, V> {
    fn new(base: &'a V, prefix: &'a [u8], after: Option<&[u8]>, limit: usize) -> Self {
        Self {
            base,
            prefix,
            page_len: limit.clamp(1, 1024),
            page: Vec::new().into_iter(),
            peeked: None,
            cursor: after.map(<[u8]>::to_vec),
            exhausted: false,
        }
    }

    fn peek(&mut self) -> Result<Option<&Entry>, StorageError> {
        if self.peeked.is_none() {
            self.peeked = self.pull()?;
        }
        Ok(self.peeked.as_ref())
    }

    fn next(&mut self) -> Option<Entry> {
        self.peeked.take()
    }

    fn pull(&mut self) -> Result<Option<Entry>, StorageError> {
        if let Some(entry) = self.page.next() {
            return Ok(Some(entry));
        }
        if self.exhausted {
            return Ok(None);
        }
        let page = self
            .base
            .scan(self.prefix, self.cursor.as_deref(), self.page_len)?;
        self.exhausted = page.len() < self.page_len;
        self.cursor = page.last().map(|(key, _)| key.clone());
        self.page = page.into_iter();
        Ok(self.page.next())
    }
}

impl<V: StateView + ?Sized> std::fmt::Debug for BasePages<'_, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BasePages")
            .field("cursor", &self.cursor)
            .finish_non_exhaustive()
    }
}

/// Every entry with `prefix`, page by page. For key families that are small by construction
/// (an SSCC's child SSCCs, a party's registry entries); never for a lot's units.
pub(crate) fn scan_all<V: StateView + ?Sized>(
    view: &V,
    prefix: &[u8],
) -> Result<Vec<Entry>, StorageError> {
    const PAGE_LEN: usize = 1024;
    let mut out: Vec<Entry> = Vec::new();
    loop {
        let after = out.last().map(|(key, _)| key.clone());
        let page = view.scan(prefix, after.as_deref(), PAGE_LEN)?;
        let done = page.len() < PAGE_LEN;
        out.extend(page);
        if done {
            return Ok(out);
        }
    }
}

/// The version byte in front of every record this crate stores.
pub const RECORD_VERSION: u8 = 1;

/// Encodes a record: [`RECORD_VERSION`], then postcard.
pub(crate) fn encode<T: Serialize>(record: &T) -> Vec<u8> {
    let mut bytes = vec![RECORD_VERSION];
    let body = postcard::to_allocvec(record).expect("records hold no type postcard refuses");
    bytes.extend_from_slice(&body);
    bytes
}

/// Decodes a record stored under `key`; a wrong version or a bad body is a storage error.
pub(crate) fn decode<T: DeserializeOwned>(key: &[u8], bytes: &[u8]) -> Result<T, StorageError> {
    match bytes.split_first() {
        Some((&RECORD_VERSION, body)) => postcard::from_bytes(body).map_err(|error| {
            StorageError(format!(
                "record under key {} does not decode: {error}",
                hex::encode(key)
            ))
        }),
        Some((version, _)) => Err(StorageError(format!(
            "record under key {} has version {version}, expected {RECORD_VERSION}",
            hex::encode(key)
        ))),
        None => Err(StorageError(format!(
            "record under key {} is empty",
            hex::encode(key)
        ))),
    }
}

/// Reads and decodes the record under `key`.
pub(crate) fn read<T: DeserializeOwned, V: StateView + ?Sized>(
    view: &V,
    key: &[u8],
) -> Result<Option<T>, StorageError> {
    view.get(key)?.map(|bytes| decode(key, &bytes)).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn writes(entries: &[(&str, Option<&str>)]) -> Writes {
        Writes(
            entries
                .iter()
                .map(|(key, value)| {
                    (
                        key.as_bytes().to_vec(),
                        value.map(|v| v.as_bytes().to_vec()),
                    )
                })
                .collect(),
        )
    }

    fn keys(entries: Vec<(Vec<u8>, Vec<u8>)>) -> Vec<String> {
        entries
            .into_iter()
            .map(|(key, _)| String::from_utf8(key).expect("ascii keys"))
            .collect()
    }

    fn base() -> MemState {
        let mut state = MemState::new();
        state.apply(&writes(&[
            ("a1", Some("x")),
            ("b1", Some("x")),
            ("b3", Some("x")),
            ("b5", Some("x")),
            ("c1", Some("x")),
        ]));
        state
    }

    #[track_caller]
    fn check_scan(
        view: &dyn StateView,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
        expected: &[&str],
    ) {
        let found = view
            .scan(prefix.as_bytes(), after.map(str::as_bytes), limit)
            .expect("in-memory scans do not fail");
        assert_eq!(keys(found), expected);
    }

    #[test]
    fn mem_state_scans_by_prefix_after_and_limit() {
        let state = base();
        check_scan(&state, "b", None, 10, &["b1", "b3", "b5"]);
        check_scan(&state, "b", Some("b1"), 10, &["b3", "b5"]);
        check_scan(&state, "b", Some("b2"), 1, &["b3"]);
        check_scan(&state, "b", Some("a9"), 10, &["b1", "b3", "b5"]);
        check_scan(&state, "b", Some("b5"), 10, &[]);
        check_scan(&state, "d", None, 10, &[]);
    }

    #[test]
    fn the_last_keys_of_a_prefix_come_in_key_order() {
        let state = base();
        // The in-memory state reads backwards; the overlay has the default, forward, reading
        // over many pages.
        let mut many = MemState::new();
        let keys_of_many: Vec<String> = (0..3000).map(|i| format!("k{i:05}")).collect();
        let entries: Vec<(&str, Option<&str>)> = keys_of_many
            .iter()
            .map(|k| (k.as_str(), Some("v")))
            .collect();
        many.apply(&writes(&entries));
        let overlay = Overlay::new(&many);
        for (view, prefix, limit, expected) in [
            (&state as &dyn StateView, "b", 2, &["b3", "b5"][..]),
            (&state, "b", 10, &["b1", "b3", "b5"]),
            (&state, "b", 0, &[]),
            (&state, "d", 3, &[]),
            (&state, "", 2, &["b5", "c1"]),
            (&overlay, "k", 2, &["k02998", "k02999"]),
            (&many, "k", 2, &["k02998", "k02999"]),
        ] {
            let found = view.scan_last(prefix.as_bytes(), limit).expect("memory");
            assert_eq!(keys(found), expected, "{prefix:?} {limit}");
        }
        // The end of a prefix that ends in 0xff bytes, or of one that has no end.
        assert_eq!(prefix_end(b"a\xff\xff"), Some(b"b".to_vec()));
        assert_eq!(prefix_end(b"ab"), Some(b"ac".to_vec()));
        assert_eq!(prefix_end(b"\xff"), None);
        assert_eq!(prefix_end(b""), None);
        let mut high = MemState::new();
        high.apply(&Writes(vec![
            (b"\xff\x01".to_vec(), Some(Vec::new())),
            (b"\xff\xff".to_vec(), Some(Vec::new())),
        ]));
        let found = high.scan_last(b"\xff", 1).expect("memory");
        assert_eq!(found, vec![(b"\xff\xff".to_vec(), Vec::new())]);
    }

    #[test]
    fn overlay_scan_merges_pending_inserts_and_deletes() {
        let state = base();
        let mut overlay = Overlay::new(&state);
        overlay.apply(writes(&[
            ("b2", Some("y")),
            ("b3", None),
            ("b6", Some("y")),
        ]));
        check_scan(&overlay, "b", None, 10, &["b1", "b2", "b5", "b6"]);
        check_scan(&overlay, "b", Some("b2"), 2, &["b5", "b6"]);
        check_scan(&overlay, "b", None, 2, &["b1", "b2"]);
        assert_eq!(overlay.get(b"b3").expect("memory"), None);
        assert_eq!(overlay.get(b"b2").expect("memory"), Some(b"y".to_vec()));
        assert_eq!(overlay.get(b"b1").expect("memory"), Some(b"x".to_vec()));
    }

    #[test]
    fn overlay_scan_fills_its_page_past_many_deletes() {
        let mut state = MemState::new();
        let many: Vec<(String, Option<&str>)> =
            (0..3000).map(|i| (format!("k{i:05}"), Some("v"))).collect();
        let many: Vec<(&str, Option<&str>)> = many.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        state.apply(&writes(&many));
        let mut overlay = Overlay::new(&state);
        let deletes: Vec<(&str, Option<&str>)> =
            many[..2500].iter().map(|(k, _)| (*k, None)).collect();
        overlay.apply(writes(&deletes));
        check_scan(&overlay, "k", None, 2, &["k02500", "k02501"]);
    }

    #[test]
    fn overlay_rollback_restores_the_mark() {
        let state = base();
        let mut overlay = Overlay::new(&state);
        overlay.apply(writes(&[("b2", Some("first"))]));
        let mark = overlay.mark();
        overlay.apply(writes(&[
            ("b2", Some("second")),
            ("b1", None),
            ("z", Some("new")),
        ]));
        overlay.rollback(mark);
        assert_eq!(overlay.get(b"b2").expect("memory"), Some(b"first".to_vec()));
        assert_eq!(overlay.get(b"b1").expect("memory"), Some(b"x".to_vec()));
        assert_eq!(overlay.get(b"z").expect("memory"), None);
        assert_eq!(overlay.into_writes(), writes(&[("b2", Some("first"))]));
    }

    #[test]
    fn digest_depends_on_every_entry() {
        let state = base();
        let mut changed = base();
        changed.apply(&writes(&[("c1", Some("y"))]));
        let mut same = MemState::new();
        same.apply(&writes(&[
            ("c1", Some("x")),
            ("b5", Some("x")),
            ("b3", Some("x")),
        ]));
        same.apply(&writes(&[("b1", Some("x")), ("a1", Some("x"))]));
        assert_ne!(state.digest(), changed.digest());
        assert_eq!(state.digest(), same.digest());
    }

    #[test]
    fn records_carry_a_version_byte() {
        let bytes = encode(&(7u64, "lot".to_owned()));
        assert_eq!(bytes[0], RECORD_VERSION);
        let back: (u64, String) = decode(b"k", &bytes).expect("round trip");
        assert_eq!(back, (7, "lot".to_owned()));
        let mut wrong = bytes.clone();
        wrong[0] = 9;
        assert!(decode::<(u64, String)>(b"k", &wrong).is_err());
        assert!(decode::<(u64, String)>(b"k", &[]).is_err());
        assert!(decode::<(u64, String)>(b"k", &[RECORD_VERSION]).is_err());
    }
}
