//! Typed reads of the state the executor writes, for the server's answers and the client.
//!
//! A unit's status is resolved on read: a recall marks only its lot, a shipped pallet moves
//! only the pallet, and expiry depends on the caller's `now`.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::event::{
    DecommissionReason, DeviceClass, EventId, Item, LotId, PublicKey, Role, UnitId,
};
use crate::gs1::{Gln, Gs1Date, Gtin, Serial, Sscc};
use crate::limits::{HISTORY_ENTRIES_MAX, SIGHTINGS_JUDGED_MAX, SSCC_NESTING_MAX};
use crate::rules::keys;
use crate::rules::lot_expired;
use crate::rules::records::{Custody, IndexNote, Link, ParticipantRecord, SsccRecord, UnitRecord};
use crate::scan::Scan;
use crate::state::{StateView, StorageError, decode, read, scan_all};
use crate::verdict::{UnitStatus, UnitView};

/// A participant with its keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Participant {
    /// Its identity.
    pub party: Gln,
    /// The name the regulator admitted it under.
    pub name: String,
    /// What it may do.
    pub roles: Vec<Role>,
    /// The location GLNs it acts from.
    pub sites: Vec<Gln>,
    /// GS1 company prefixes under which it registers GTINs.
    pub company_prefixes: Vec<String>,
    /// A suspended participant's keys sign nothing.
    pub suspended: bool,
    /// The log index of its admission (0 for the genesis regulator).
    pub admitted_at_index: u64,
    /// Every key it ever had, revoked ones included, in the order they were added.
    pub keys: Vec<KeyRecord>,
}

/// A public key and its validity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRecord {
    /// The key itself.
    pub public_key: PublicKey,
    /// The participant it belongs to.
    pub party: Gln,
    /// Valid for events from this log index on.
    pub valid_from_index: u64,
    /// Signs nothing from this log index on.
    pub revoked_at_index: Option<u64>,
    /// Events it signed recorded at or after this time are suspect.
    pub compromised_since_unix_ms: Option<i64>,
}

/// A registered product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductRecord {
    /// The product's GTIN-14.
    pub gtin: Gtin,
    /// The party that registered it: the only one that commissions its lots.
    pub manufacturer: Gln,
    /// The product's name.
    pub name: String,
    /// Its regulatory class.
    pub device_class: DeviceClass,
    /// Whether it is made in Morocco, as registered.
    pub made_in_morocco: bool,
    /// The log index of its registration.
    pub registered_at_index: u64,
}

/// A lot: its dates, recall and counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LotRecord {
    /// The GTIN and lot number.
    pub lot: LotId,
    /// The product's manufacturer, who may recall the lot.
    pub manufacturer: Gln,
    /// AI 17, the same for every commission of the lot.
    pub expiry: Gs1Date,
    /// AI 11, the same for every commission of the lot.
    pub production_date: Option<Gs1Date>,
    /// The log index of its recall, if recalled.
    pub recalled_at_index: Option<u64>,
    /// Serialized units commissioned, over every commission of the lot.
    pub units_commissioned: u64,
    /// Non-serialized quantity commissioned, over every commission of the lot.
    pub quantity_commissioned: u64,
    /// The log index of its first commission.
    pub first_commission_index: u64,
}

/// A shipment, named by its Ship event's id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shipment {
    /// The Ship event's id.
    pub id: EventId,
    /// The sender.
    pub from_party: Gln,
    /// The sender's site.
    pub from_site: Gln,
    /// The addressee: the only party that may receive it.
    pub destination_party: Gln,
    /// The addressee's site where it must be received.
    pub destination_site: Gln,
    /// What was shipped, as listed.
    pub items: Vec<Item>,
    /// The log index of the Ship event.
    pub shipped_at_index: u64,
    /// The log index of its Receive, once received.
    pub received_at_index: Option<u64>,
    /// Items the addressee reported missing: they stay in transit.
    pub missing: Vec<Item>,
}

/// The log indexes a verifier needs to re-derive a verdict.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HistoryIndexes {
    /// The events about the unit, its containers while it was inside, its lot and product,
    /// and its latest [`SIGHTINGS_JUDGED_MAX`] sightings. At most [`HISTORY_ENTRIES_MAX`] + 1:
    /// the search stops one past the limit, and the caller refuses such a history.
    pub events: Vec<u64>,
    /// Genesis (0) and the registry entries of every party involved, and of their signers.
    pub authorizations: Vec<u64>,
}

/// The log index of the event with this id, if it was accepted: the idempotency check.
pub fn event_index<V: StateView + ?Sized>(
    view: &V,
    id: &EventId,
) -> Result<Option<u64>, StorageError> {
    read(view, &keys::event(id))
}

/// A participant and its keys.
pub fn participant<V: StateView + ?Sized>(
    view: &V,
    party: &Gln,
) -> Result<Option<Participant>, StorageError> {
    let Some(record) = read::<ParticipantRecord, _>(view, &keys::participant(party))? else {
        return Ok(None);
    };
    let mut key_records = Vec::with_capacity(record.keys.len());
    for public_key in &record.keys {
        let key_record = key(view, public_key)?.ok_or_else(|| {
            StorageError(format!(
                "participant {party} lists key {} without a record",
                hex::encode(public_key.0)
            ))
        })?;
        key_records.push(key_record);
    }
    Ok(Some(Participant {
        party: *party,
        name: record.name,
        roles: record.roles,
        sites: record.sites,
        company_prefixes: record.company_prefixes,
        suspended: record.suspended,
        admitted_at_index: record.admitted_at_index,
        keys: key_records,
    }))
}

/// A key and its validity.
pub fn key<V: StateView + ?Sized>(
    view: &V,
    public_key: &PublicKey,
) -> Result<Option<KeyRecord>, StorageError> {
    read(view, &keys::public_key(public_key))
}

/// A registered product.
pub fn product<V: StateView + ?Sized>(
    view: &V,
    gtin: &Gtin,
) -> Result<Option<ProductRecord>, StorageError> {
    read(view, &keys::product(gtin))
}

/// A lot.
pub fn lot<V: StateView + ?Sized>(
    view: &V,
    lot: &LotId,
) -> Result<Option<LotRecord>, StorageError> {
    read(view, &keys::lot(lot))
}

/// How much of a non-serialized lot `holder` has.
pub fn lot_balance<V: StateView + ?Sized>(
    view: &V,
    lot: &LotId,
    holder: &Gln,
) -> Result<u64, StorageError> {
    Ok(read(view, &keys::balance(lot, holder))?.unwrap_or(0))
}

/// A logistic unit's current state, resolved through its containers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsccView {
    /// The logistic unit.
    pub sscc: Sscc,
    /// The party that has it; the sender while it is in transit.
    pub holder: Gln,
    /// The holder's site; the sender's while it is in transit.
    pub site: Gln,
    /// The SSCC that holds it directly.
    pub container: Option<Sscc>,
    /// While in transit: the addressee party and site.
    pub destination: Option<(Gln, Gln)>,
    /// Its own decommissioning, or its nearest container's.
    pub decommission_reason: Option<DecommissionReason>,
    /// The log index of the Aggregate that created it.
    pub created_at_index: u64,
}

/// An SSCC's current state, if it was ever packed.
pub fn sscc<V: StateView + ?Sized>(
    view: &V,
    sscc: &Sscc,
) -> Result<Option<SsccView>, StorageError> {
    let Some(record) = read::<SsccRecord, _>(view, &keys::sscc(sscc))? else {
        return Ok(None);
    };
    let resolved = crate::rules::resolve(
        view,
        &record.custody,
        record.container,
        record.decommissioned,
    )?;
    let label = format!("SSCC {sscc}");
    let Whereabouts {
        holder,
        site,
        destination,
    } = whereabouts(view, &resolved.custody, &label)?;
    Ok(Some(SsccView {
        sscc: *sscc,
        holder,
        site,
        container: record.container,
        destination,
        decommission_reason: resolved.decommissioned,
        created_at_index: record.created_at_index,
    }))
}

/// Who has an item and where; in transit, the sender and the addressee.
struct Whereabouts {
    holder: Gln,
    site: Gln,
    destination: Option<(Gln, Gln)>,
}

/// The whereabouts of a resolved custody.
fn whereabouts<V: StateView + ?Sized>(
    view: &V,
    custody: &Custody,
    label: &str,
) -> Result<Whereabouts, StorageError> {
    match custody {
        Custody::Held { holder, site } => Ok(Whereabouts {
            holder: *holder,
            site: *site,
            destination: None,
        }),
        Custody::InTransit { shipment: id } => {
            let shipment = shipment(view, id)?.ok_or_else(|| {
                StorageError(format!(
                    "{label} is in unknown shipment {}",
                    hex::encode(id.0)
                ))
            })?;
            Ok(Whereabouts {
                holder: shipment.from_party,
                site: shipment.from_site,
                destination: Some((shipment.destination_party, shipment.destination_site)),
            })
        }
    }
}

/// What an SSCC holds directly: units and SSCCs, in key order. Empty for an SSCC never
/// packed.
pub fn sscc_contents<V: StateView + ?Sized>(
    view: &V,
    sscc: &Sscc,
) -> Result<Vec<Item>, StorageError> {
    let mut items = Vec::new();
    for (key, _) in scan_all(view, &keys::contents_prefix(sscc))? {
        match keys::parse_content(&key) {
            Some(keys::Child::Unit(unit)) => items.push(Item::Unit(unit)),
            Some(keys::Child::Sscc(child)) => items.push(Item::Sscc(child)),
            None => {
                return Err(StorageError(format!(
                    "bad content key {}",
                    hex::encode(&key)
                )));
            }
        }
    }
    Ok(items)
}

/// A shipment by its Ship event's id.
pub fn shipment<V: StateView + ?Sized>(
    view: &V,
    id: &EventId,
) -> Result<Option<Shipment>, StorageError> {
    read(view, &keys::shipment(id))
}

/// A unit as it stands at `now_unix_ms`: lot recall, container custody and expiry resolved.
pub fn unit<V: StateView + ?Sized>(
    view: &V,
    unit: &UnitId,
    now_unix_ms: i64,
) -> Result<Option<UnitView>, StorageError> {
    let Some(record) = read::<UnitRecord, _>(view, &keys::unit(unit))? else {
        return Ok(None);
    };
    unit_view(view, unit, record, now_unix_ms).map(Some)
}

fn unit_view<V: StateView + ?Sized>(
    view: &V,
    unit: &UnitId,
    record: UnitRecord,
    now_unix_ms: i64,
) -> Result<UnitView, StorageError> {
    let lot_id = LotId {
        gtin: unit.gtin,
        lot: record.lot.clone(),
    };
    let lot = lot(view, &lot_id)?.ok_or_else(|| {
        StorageError(format!(
            "unit {} {} has no lot record",
            unit.gtin, unit.serial
        ))
    })?;
    let resolved = crate::rules::resolve(
        view,
        &record.custody,
        record.container,
        record.decommissioned,
    )?;
    let label = format!("unit {} {}", unit.gtin, unit.serial);
    let Whereabouts {
        holder,
        site,
        destination,
    } = whereabouts(view, &resolved.custody, &label)?;
    let status = if resolved.decommissioned.is_some() {
        UnitStatus::Decommissioned
    } else if lot.recalled_at_index.is_some() {
        UnitStatus::Recalled
    } else if lot_expired(&lot, now_unix_ms) {
        UnitStatus::Expired
    } else if destination.is_some() {
        UnitStatus::InTransit
    } else {
        UnitStatus::Active
    };
    Ok(UnitView {
        unit: unit.clone(),
        lot: record.lot,
        expiry: lot.expiry,
        status,
        holder,
        site,
        container: record.container,
        destination,
        decommission_reason: resolved.decommissioned,
    })
}

/// A lot's units in serial order, strictly after `after`, at most `limit`.
pub fn lot_units<V: StateView + ?Sized>(
    view: &V,
    lot: &LotId,
    after: Option<&Serial>,
    limit: usize,
    now_unix_ms: i64,
) -> Result<Vec<UnitView>, StorageError> {
    let after_key = after.map(|serial| keys::lot_unit(lot, serial));
    let entries = view.scan(&keys::lot_units_prefix(lot), after_key.as_deref(), limit)?;
    let prefix_len = keys::lot_units_prefix(lot).len();
    let mut units = Vec::with_capacity(entries.len());
    for (key, _) in entries {
        let serial = std::str::from_utf8(&key[prefix_len..])
            .ok()
            .and_then(|text| text.parse().ok())
            .ok_or_else(|| StorageError(format!("bad lot unit key {}", hex::encode(&key))))?;
        let unit_id = UnitId {
            gtin: lot.gtin,
            serial,
        };
        let view_of_unit = unit(view, &unit_id, now_unix_ms)?.ok_or_else(|| {
            StorageError(format!(
                "lot lists unit {} without a record",
                unit_id.serial
            ))
        })?;
        units.push(view_of_unit);
    }
    Ok(units)
}

/// Shipments in transit to `party`, in shipment id order, strictly after the shipment `after`
/// (`None` for the first page), at most `limit`.
pub fn inbound_shipments<V: StateView + ?Sized>(
    view: &V,
    party: &Gln,
    after: Option<&EventId>,
    limit: usize,
) -> Result<Vec<Shipment>, StorageError> {
    let after_key = after.map(|id| keys::inbound(party, id));
    let mut shipments = Vec::new();
    for (key, _) in view.scan(&keys::inbound_prefix(party), after_key.as_deref(), limit)? {
        let id = keys::inbound_shipment(&key)
            .ok_or_else(|| StorageError(format!("bad inbound key {}", hex::encode(&key))))?;
        let found = shipment(view, &id)?.ok_or_else(|| {
            StorageError(format!(
                "inbound shipment {} has no record",
                hex::encode(id.0)
            ))
        })?;
        shipments.push(found);
    }
    Ok(shipments)
}

/// The log indexes of the events `party` signed, recorded in `[from_unix_ms, until_unix_ms)`
/// (pass `i64::MIN` and `i64::MAX` for no bound), after log index `after_index` (0 for the
/// first page), at most `limit`, in recorded-time order.
pub fn party_events<V: StateView + ?Sized>(
    view: &V,
    party: &Gln,
    from_unix_ms: i64,
    until_unix_ms: i64,
    after_index: u64,
    limit: usize,
) -> Result<Vec<u64>, StorageError> {
    const PAGE_LEN: usize = 1024;
    let prefix = keys::party_log_prefix(party);
    // Every key of time `from` is longer than this one with the same start: it sorts after.
    let mut cursor = prefix.clone();
    cursor.extend_from_slice(&((from_unix_ms as u64) ^ (1 << 63)).to_be_bytes());
    let mut indexes = Vec::new();
    loop {
        let page = view.scan(&prefix, Some(&cursor), PAGE_LEN)?;
        let done = page.len() < PAGE_LEN;
        for (key, _) in &page {
            if keys::party_log_time(key) >= until_unix_ms || indexes.len() == limit {
                return Ok(indexes);
            }
            let index = keys::index_suffix(key);
            if index > after_index {
                indexes.push(index);
            }
        }
        match page.last() {
            Some((key, _)) if !done => cursor = key.clone(),
            _ => return Ok(indexes),
        }
    }
}

/// Every log index a verifier needs to re-derive the verdict for a scan: the unit's events
/// (commission, aggregate/disaggregate, ship/receive of it and of every SSCC while it was
/// inside, decommission, inspections), its lot's recall, the product registration, and as
/// `authorizations`: genesis (0) plus the registry entries (admit, add/revoke key,
/// suspend/reinstate) of every party that signed one of those events, every addressee of its
/// shipments, the current holder, and, transitively, of the regulators that signed those
/// entries. Sorted, deduplicated. Of the unit's inspections, only the latest
/// [`SIGHTINGS_JUDGED_MAX`]: the verdict weighs no others, so a unit inspected thousands of
/// times keeps a small answer. The search stops once it has found more than
/// [`HISTORY_ENTRIES_MAX`] events.
///
/// For an unknown serial: the product registration, the scanned lot's first commission (if
/// the lot exists) and the serial's latest inspections, so `UNKNOWN_SERIAL` vs
/// `UNKNOWN_PRODUCT` vs `UNKNOWN_LOT` can be re-derived.
pub fn history_for_scan<V: StateView + ?Sized>(
    view: &V,
    scan: &Scan,
) -> Result<HistoryIndexes, StorageError> {
    let mut found = Found::default();
    let Some(gtin) = scan.gtin else {
        return found.finish(view);
    };
    if let Some(product) = product(view, &gtin)? {
        found.events.insert(product.registered_at_index);
        found.parties.insert(product.manufacturer);
    }
    let unit_id = scan.unit();
    let record = match &unit_id {
        Some(unit_id) => read::<UnitRecord, _>(view, &keys::unit(unit_id))?,
        None => None,
    };
    match (unit_id, record) {
        (Some(unit_id), Some(record)) => known_unit(view, &unit_id, record, &mut found)?,
        (unit_id, _) => {
            let scanned_lot = scan.lot.clone().map(|lot| LotId { gtin, lot });
            if let Some(scanned_lot) = scanned_lot
                && let Some(lot) = lot(view, &scanned_lot)?
            {
                found.events.insert(lot.first_commission_index);
                found.parties.insert(lot.manufacturer);
            }
            if let Some(unit_id) = unit_id {
                follow(
                    view,
                    &keys::unit_log_prefix(&unit_id),
                    0,
                    u64::MAX,
                    0,
                    &mut found,
                )?;
                latest_sightings(view, &unit_id, &mut found)?;
            }
        }
    }
    found.finish(view)
}

/// Adds the latest [`SIGHTINGS_JUDGED_MAX`] inspections of `unit`, read backwards: the cost
/// does not grow with how often the unit was inspected.
fn latest_sightings<V: StateView + ?Sized>(
    view: &V,
    unit: &UnitId,
    found: &mut Found,
) -> Result<(), StorageError> {
    let prefix = keys::unit_sightings_prefix(unit);
    for (key, value) in view.scan_last(&prefix, SIGHTINGS_JUDGED_MAX)? {
        let note: IndexNote = decode(&key, &value)?;
        found.events.insert(keys::index_suffix(&key));
        found.parties.insert(note.actor);
    }
    Ok(())
}

fn known_unit<V: StateView + ?Sized>(
    view: &V,
    unit_id: &UnitId,
    record: UnitRecord,
    found: &mut Found,
) -> Result<(), StorageError> {
    let lot_id = LotId {
        gtin: unit_id.gtin,
        lot: record.lot.clone(),
    };
    if let Some(lot) = lot(view, &lot_id)?
        && let Some(recalled) = lot.recalled_at_index
    {
        let note = index_note(view, &keys::lot_log(&lot_id, recalled))?;
        found.events.insert(recalled);
        found.parties.insert(note.actor);
    }
    let current = unit_view(view, unit_id, record, 0)?;
    found.parties.insert(current.holder);
    follow(view, &keys::unit_log_prefix(unit_id), 0, u64::MAX, 0, found)?;
    latest_sightings(view, unit_id, found)
}

fn index_note<V: StateView + ?Sized>(view: &V, key: &[u8]) -> Result<IndexNote, StorageError> {
    let bytes = view
        .get(key)?
        .ok_or_else(|| StorageError(format!("missing index entry {}", hex::encode(key))))?;
    decode(key, &bytes)
}

/// What a history search has found so far.
#[derive(Debug, Default)]
struct Found {
    events: BTreeSet<u64>,
    parties: BTreeSet<Gln>,
}

impl Found {
    /// How many more events the search may collect: it stops one past
    /// [`HISTORY_ENTRIES_MAX`], which is enough for the caller to refuse the history.
    fn room(&self) -> usize {
        (HISTORY_ENTRIES_MAX + 1).saturating_sub(self.events.len())
    }

    /// Adds the registry entries of every party found, and of the parties that signed them.
    fn finish<V: StateView + ?Sized>(self, view: &V) -> Result<HistoryIndexes, StorageError> {
        let mut authorizations = BTreeSet::from([0]);
        let mut done = BTreeSet::new();
        let mut queue: Vec<Gln> = self.parties.into_iter().collect();
        while let Some(party) = queue.pop() {
            if !done.insert(party) {
                continue;
            }
            for (key, value) in scan_all(view, &keys::registry_log_prefix(&party))? {
                let note: IndexNote = decode(&key, &value)?;
                authorizations.insert(keys::index_suffix(&key));
                queue.push(note.actor);
            }
        }
        Ok(HistoryIndexes {
            events: self.events.into_iter().collect(),
            authorizations: authorizations.into_iter().collect(),
        })
    }
}

/// Adds the index entries under `prefix` in `[from, until]`, and, for every stretch in which
/// the subject sat inside an SSCC, that SSCC's entries over the stretch.
fn follow<V: StateView + ?Sized>(
    view: &V,
    prefix: &[u8],
    from: u64,
    until: u64,
    depth: usize,
    found: &mut Found,
) -> Result<(), StorageError> {
    if depth > SSCC_NESTING_MAX {
        return Err(StorageError(format!(
            "containers nest deeper than {SSCC_NESTING_MAX}"
        )));
    }
    let mut open: Vec<(Sscc, u64)> = Vec::new();
    let mut stretches: Vec<(Sscc, u64, u64)> = Vec::new();
    for (index, note) in index_entries(view, prefix, from, until, found.room())? {
        found.events.insert(index);
        found.parties.insert(note.actor);
        match note.link {
            Link::None => {}
            Link::ShipTo(party) => {
                found.parties.insert(party);
            }
            Link::Into(sscc) => open.push((sscc, index)),
            Link::OutOf(sscc) => {
                if let Some(position) = open.iter().position(|(inside, _)| *inside == sscc) {
                    let (sscc, start) = open.remove(position);
                    stretches.push((sscc, start, index));
                }
            }
        }
    }
    stretches.extend(open.into_iter().map(|(sscc, start)| (sscc, start, until)));
    for (sscc, start, end) in stretches {
        if found.room() == 0 {
            return Ok(());
        }
        follow(
            view,
            &keys::sscc_log_prefix(&sscc),
            start,
            end,
            depth + 1,
            found,
        )?;
    }
    Ok(())
}

/// Index entries under `prefix` with log index in `[from, until]`, in log order, at most
/// `limit`: the scan stops there.
fn index_entries<V: StateView + ?Sized>(
    view: &V,
    prefix: &[u8],
    from: u64,
    until: u64,
    limit: usize,
) -> Result<Vec<(u64, IndexNote)>, StorageError> {
    const PAGE_LEN: usize = 1024;
    let mut cursor = from
        .checked_sub(1)
        .map(|before| [prefix, &before.to_be_bytes()].concat());
    let mut entries = Vec::new();
    loop {
        let page_len = PAGE_LEN.min(limit - entries.len());
        if page_len == 0 {
            return Ok(entries);
        }
        let page = view.scan(prefix, cursor.as_deref(), page_len)?;
        let done = page.len() < page_len;
        for (key, value) in &page {
            let index = keys::index_suffix(key);
            if index > until {
                return Ok(entries);
            }
            entries.push((index, decode(key, value)?));
        }
        match page.last() {
            Some((key, _)) if !done => cursor = Some(key.clone()),
            _ => return Ok(entries),
        }
    }
}

/// Every event about an SSCC: packing, unpacking, shipping, receiving, decommissioning. At
/// most [`HISTORY_ENTRIES_MAX`] + 1: the search stops one past the limit.
pub fn history_for_sscc<V: StateView + ?Sized>(
    view: &V,
    sscc: &Sscc,
) -> Result<Vec<u64>, StorageError> {
    let limit = HISTORY_ENTRIES_MAX + 1;
    Ok(
        index_entries(view, &keys::sscc_log_prefix(sscc), 0, u64::MAX, limit)?
            .into_iter()
            .map(|(index, _)| index)
            .collect(),
    )
}

/// Every event about a lot as a whole: commissions, recall, moves of non-serialized
/// quantities, inspections of scans without a serial. Not each unit's moves: see
/// [`lot_units`] and [`history_for_scan`]. At most [`HISTORY_ENTRIES_MAX`] + 1: the search
/// stops one past the limit.
pub fn history_for_lot<V: StateView + ?Sized>(
    view: &V,
    lot: &LotId,
) -> Result<Vec<u64>, StorageError> {
    let limit = HISTORY_ENTRIES_MAX + 1;
    Ok(
        index_entries(view, &keys::lot_log_prefix(lot), 0, u64::MAX, limit)?
            .into_iter()
            .map(|(index, _)| index)
            .collect(),
    )
}

#[cfg(test)]
mod tests;
