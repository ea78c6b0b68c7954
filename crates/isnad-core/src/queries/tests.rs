//! The history searches stop at their limits: a subject with more entries than an answer may
//! carry costs a search of the limit, not of everything it has; a unit inspected thousands of
//! times costs a read of its latest sightings.

use std::cell::Cell;

use super::*;
use crate::rules::records::{IndexNote, Link};
use crate::state::{Entry, MemState, Writes, encode};

/// A view that counts the keys its scans hand out.
struct Counting<'a> {
    inner: &'a MemState,
    read: Cell<usize>,
}

impl Counting<'_> {
    fn count(&self, page: Vec<Entry>) -> Vec<Entry> {
        self.read.set(self.read.get() + page.len());
        page
    }
}

impl StateView for Counting<'_> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        self.inner.get(key)
    }

    fn scan(
        &self,
        prefix: &[u8],
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<Entry>, StorageError> {
        Ok(self.count(self.inner.scan(prefix, after, limit)?))
    }

    fn scan_last(&self, prefix: &[u8], limit: usize) -> Result<Vec<Entry>, StorageError> {
        Ok(self.count(self.inner.scan_last(prefix, limit)?))
    }
}

/// A state holding an index note under each of `keys`, signed by one inspector.
fn notes(keys: impl Iterator<Item = Vec<u8>>) -> MemState {
    let note = encode(&IndexNote {
        actor: "6110000000031".parse().expect("a GLN"),
        link: Link::None,
    });
    let mut state = MemState::new();
    state.apply(&Writes(keys.map(|key| (key, Some(note.clone()))).collect()));
    state
}

fn unit() -> UnitId {
    UnitId {
        gtin: "06111234000019".parse().expect("a GTIN"),
        serial: "SN1".parse().expect("a serial"),
    }
}

/// Twice as many entries as an answer may carry, at log indexes 1, 2, ...
fn twice_the_limit() -> impl Iterator<Item = u64> {
    1..=2 * HISTORY_ENTRIES_MAX as u64
}

/// Before the limit reached the scan, this read all 20,000 index entries and returned them.
#[test]
fn a_lot_history_search_stops_one_past_the_limit() {
    let lot = LotId {
        gtin: unit().gtin,
        lot: "L1".parse().expect("a lot"),
    };
    let state = notes(twice_the_limit().map(|index| keys::lot_log(&lot, index)));
    let view = Counting {
        inner: &state,
        read: Cell::new(0),
    };
    let found = history_for_lot(&view, &lot).expect("memory");
    assert_eq!(found.len(), HISTORY_ENTRIES_MAX + 1);
    assert_eq!(view.read.get(), HISTORY_ENTRIES_MAX + 1);
}

/// Before the limit reached the scan, this read all 20,000 index entries and returned them.
#[test]
fn a_unit_history_search_stops_one_past_the_limit() {
    let state = notes(twice_the_limit().map(|index| keys::unit_log(&unit(), index)));
    let view = Counting {
        inner: &state,
        read: Cell::new(0),
    };
    let scan = Scan {
        gtin: Some(unit().gtin),
        serial: Some(unit().serial),
        ..Default::default()
    };
    let found = history_for_scan(&view, &scan).expect("memory");
    assert_eq!(found.events.len(), HISTORY_ENTRIES_MAX + 1);
    assert_eq!(view.read.get(), HISTORY_ENTRIES_MAX + 1);
}

/// Before sightings had keys of their own, a unit's 20,000 sightings were all read and all
/// listed, and its verification answer refused as too long.
#[test]
fn a_unit_history_lists_its_latest_sightings_only() {
    let state = notes(twice_the_limit().map(|index| keys::unit_sighting(&unit(), index)));
    let view = Counting {
        inner: &state,
        read: Cell::new(0),
    };
    let scan = Scan {
        gtin: Some(unit().gtin),
        serial: Some(unit().serial),
        ..Default::default()
    };
    let found = history_for_scan(&view, &scan).expect("memory");
    let last = 2 * HISTORY_ENTRIES_MAX as u64;
    let latest: Vec<u64> = (last + 1 - SIGHTINGS_JUDGED_MAX as u64..=last).collect();
    assert_eq!(found.events, latest);
    assert_eq!(view.read.get(), SIGHTINGS_JUDGED_MAX);
}
