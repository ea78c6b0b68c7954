//! State keys: one tag byte, then fixed-width identifiers; variable-width parts that are not
//! last carry a length byte, so one key family never swallows another's prefix.
//!
//! Index keys hold the log index big-endian last, so a prefix scan lists them in log order.

use crate::event::{EventId, LotId, PublicKey, UnitId};
use crate::gs1::{Gln, Gtin, Sscc};

/// Event id -> log index (idempotency and duplicate ids).
const EVENT: u8 = b'e';
/// Party GLN -> participant record.
const PARTICIPANT: u8 = b'p';
/// Public key -> key record.
const KEY: u8 = b'k';
/// GTIN -> product record.
const PRODUCT: u8 = b'g';
/// Lot -> lot record.
const LOT: u8 = b'l';
/// Unit -> unit record.
const UNIT: u8 = b'u';
/// SSCC -> logistic unit record.
const SSCC: u8 = b'c';
/// SSCC + child -> nothing: what an SSCC holds directly.
const CONTENT: u8 = b'C';
/// Shipment (its Ship event id) -> shipment record.
const SHIPMENT: u8 = b's';
/// Addressee + shipment id -> nothing: shipments in transit to a party.
const INBOUND: u8 = b'i';
/// Lot + holder -> quantity of a non-serialized lot the holder has.
const BALANCE: u8 = b'b';
/// Lot + serial -> nothing: a lot's units in serial order.
const LOT_UNITS: u8 = b'L';
/// Unit + index -> index note: the unit's events.
const UNIT_LOG: u8 = b'U';
/// Unit + index -> index note: the unit's sightings (Inspect events that scanned it), apart
/// from its other events so that a verifier reads only the most recent ones.
const UNIT_SIGHTINGS: u8 = b'I';
/// SSCC + index -> index note: the logistic unit's events.
const SSCC_LOG: u8 = b'S';
/// Lot + index -> index note: commissions, recall, quantity moves.
const LOT_LOG: u8 = b'T';
/// Party + recorded time + index -> nothing: the events a party signed, by time.
const PARTY_LOG: u8 = b'P';
/// Party + index -> index note: registry entries about a party.
const REGISTRY_LOG: u8 = b'R';

/// Child tag of a unit inside an SSCC.
const CHILD_UNIT: u8 = b'u';
/// Child tag of an SSCC inside an SSCC.
const CHILD_SSCC: u8 = b's';

fn key(tag: u8, parts: &[&[u8]]) -> Vec<u8> {
    let len = 1 + parts.iter().map(|part| part.len()).sum::<usize>();
    let mut key = Vec::with_capacity(len);
    key.push(tag);
    for part in parts {
        key.extend_from_slice(part);
    }
    key
}

/// A length byte then the text: serials and lots are at most 20 characters.
fn sized(text: &str) -> Vec<u8> {
    let len = u8::try_from(text.len()).expect("serials and lots are at most 20 bytes");
    let mut out = Vec::with_capacity(text.len() + 1);
    out.push(len);
    out.extend_from_slice(text.as_bytes());
    out
}

fn lot_part(lot: &LotId) -> Vec<u8> {
    let mut out = lot.gtin.as_bytes().to_vec();
    out.extend_from_slice(&sized(lot.lot.as_str()));
    out
}

fn unit_part(unit: &UnitId) -> Vec<u8> {
    let mut out = unit.gtin.as_bytes().to_vec();
    out.extend_from_slice(&sized(unit.serial.as_str()));
    out
}

/// A signed time as bytes that sort like the numbers.
fn time_part(unix_ms: i64) -> [u8; 8] {
    ((unix_ms as u64) ^ (1 << 63)).to_be_bytes()
}

/// The log index at the end of an index key.
pub(crate) fn index_suffix(key: &[u8]) -> u64 {
    let start = key
        .len()
        .checked_sub(8)
        .expect("index keys end with 8 index bytes");
    u64::from_be_bytes(key[start..].try_into().expect("8 bytes"))
}

pub(crate) fn event(id: &EventId) -> Vec<u8> {
    key(EVENT, &[&id.0])
}

pub(crate) fn participant(party: &Gln) -> Vec<u8> {
    key(PARTICIPANT, &[party.as_bytes()])
}

pub(crate) fn public_key(public_key: &PublicKey) -> Vec<u8> {
    key(KEY, &[&public_key.0])
}

pub(crate) fn product(gtin: &Gtin) -> Vec<u8> {
    key(PRODUCT, &[gtin.as_bytes()])
}

pub(crate) fn lot(lot: &LotId) -> Vec<u8> {
    key(LOT, &[&lot_part(lot)])
}

pub(crate) fn unit(unit: &UnitId) -> Vec<u8> {
    key(
        UNIT,
        &[unit.gtin.as_bytes(), unit.serial.as_str().as_bytes()],
    )
}

pub(crate) fn sscc(sscc: &Sscc) -> Vec<u8> {
    key(SSCC, &[sscc.as_bytes()])
}

/// The prefix of every SSCC record, to list the ones a replay follows.
pub(crate) fn sscc_prefix() -> Vec<u8> {
    vec![SSCC]
}

pub(crate) fn contents_prefix(sscc: &Sscc) -> Vec<u8> {
    key(CONTENT, &[sscc.as_bytes()])
}

pub(crate) fn child_ssccs_prefix(sscc: &Sscc) -> Vec<u8> {
    key(CONTENT, &[sscc.as_bytes(), &[CHILD_SSCC]])
}

pub(crate) fn content_unit(sscc: &Sscc, unit: &UnitId) -> Vec<u8> {
    key(CONTENT, &[sscc.as_bytes(), &[CHILD_UNIT], &unit_part(unit)])
}

pub(crate) fn content_sscc(sscc: &Sscc, child: &Sscc) -> Vec<u8> {
    key(CONTENT, &[sscc.as_bytes(), &[CHILD_SSCC], child.as_bytes()])
}

/// What a content key names: a child unit or a child SSCC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Child {
    Unit(UnitId),
    Sscc(Sscc),
}

/// Reads a content key back; `None` when it is not one this crate wrote.
pub(crate) fn parse_content(key: &[u8]) -> Option<Child> {
    let rest = key.strip_prefix(&[CONTENT])?.get(Sscc::LEN..)?;
    let (tag, rest) = rest.split_first()?;
    match *tag {
        CHILD_SSCC => std::str::from_utf8(rest)
            .ok()?
            .parse()
            .ok()
            .map(Child::Sscc),
        CHILD_UNIT => {
            let gtin = std::str::from_utf8(rest.get(..Gtin::LEN)?)
                .ok()?
                .parse()
                .ok()?;
            let (len, serial) = rest.get(Gtin::LEN..)?.split_first()?;
            if serial.len() != usize::from(*len) {
                return None;
            }
            let serial = std::str::from_utf8(serial).ok()?.parse().ok()?;
            Some(Child::Unit(UnitId { gtin, serial }))
        }
        _ => None,
    }
}

pub(crate) fn shipment(id: &EventId) -> Vec<u8> {
    key(SHIPMENT, &[&id.0])
}

pub(crate) fn inbound(party: &Gln, shipment: &EventId) -> Vec<u8> {
    key(INBOUND, &[party.as_bytes(), &shipment.0])
}

pub(crate) fn inbound_prefix(party: &Gln) -> Vec<u8> {
    key(INBOUND, &[party.as_bytes()])
}

/// The shipment id at the end of an inbound key.
pub(crate) fn inbound_shipment(key: &[u8]) -> Option<EventId> {
    let start = key.len().checked_sub(16)?;
    Some(EventId(key[start..].try_into().ok()?))
}

pub(crate) fn balance(lot: &LotId, holder: &Gln) -> Vec<u8> {
    key(BALANCE, &[&lot_part(lot), holder.as_bytes()])
}

pub(crate) fn lot_units_prefix(lot: &LotId) -> Vec<u8> {
    key(LOT_UNITS, &[&lot_part(lot)])
}

pub(crate) fn lot_unit(lot: &LotId, serial: &crate::gs1::Serial) -> Vec<u8> {
    key(LOT_UNITS, &[&lot_part(lot), serial.as_str().as_bytes()])
}

pub(crate) fn unit_log_prefix(unit: &UnitId) -> Vec<u8> {
    key(UNIT_LOG, &[&unit_part(unit)])
}

pub(crate) fn unit_log(unit: &UnitId, index: u64) -> Vec<u8> {
    key(UNIT_LOG, &[&unit_part(unit), &index.to_be_bytes()])
}

pub(crate) fn unit_sightings_prefix(unit: &UnitId) -> Vec<u8> {
    key(UNIT_SIGHTINGS, &[&unit_part(unit)])
}

pub(crate) fn unit_sighting(unit: &UnitId, index: u64) -> Vec<u8> {
    key(UNIT_SIGHTINGS, &[&unit_part(unit), &index.to_be_bytes()])
}

pub(crate) fn sscc_log_prefix(sscc: &Sscc) -> Vec<u8> {
    key(SSCC_LOG, &[sscc.as_bytes()])
}

pub(crate) fn sscc_log(sscc: &Sscc, index: u64) -> Vec<u8> {
    key(SSCC_LOG, &[sscc.as_bytes(), &index.to_be_bytes()])
}

pub(crate) fn lot_log_prefix(lot: &LotId) -> Vec<u8> {
    key(LOT_LOG, &[&lot_part(lot)])
}

pub(crate) fn lot_log(lot: &LotId, index: u64) -> Vec<u8> {
    key(LOT_LOG, &[&lot_part(lot), &index.to_be_bytes()])
}

pub(crate) fn party_log_prefix(party: &Gln) -> Vec<u8> {
    key(PARTY_LOG, &[party.as_bytes()])
}

pub(crate) fn party_log(party: &Gln, recorded_unix_ms: i64, index: u64) -> Vec<u8> {
    key(
        PARTY_LOG,
        &[
            party.as_bytes(),
            &time_part(recorded_unix_ms),
            &index.to_be_bytes(),
        ],
    )
}

/// The recorded time inside a party log key.
pub(crate) fn party_log_time(key: &[u8]) -> i64 {
    let start = key
        .len()
        .checked_sub(16)
        .expect("party log keys end with time and index");
    let bits = u64::from_be_bytes(key[start..start + 8].try_into().expect("8 bytes"));
    (bits ^ (1 << 63)) as i64
}

pub(crate) fn registry_log_prefix(party: &Gln) -> Vec<u8> {
    key(REGISTRY_LOG, &[party.as_bytes()])
}

pub(crate) fn registry_log(party: &Gln, index: u64) -> Vec<u8> {
    key(REGISTRY_LOG, &[party.as_bytes(), &index.to_be_bytes()])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit_id(serial: &str) -> UnitId {
        UnitId {
            gtin: "00614141000036".parse().expect("valid GTIN"),
            serial: serial.parse().expect("valid serial"),
        }
    }

    #[test]
    fn unit_logs_of_a_serial_and_its_extension_do_not_overlap() {
        let short = unit_log(&unit_id("A"), 5);
        let long_prefix = unit_log_prefix(&unit_id("AB"));
        assert!(!short.starts_with(&long_prefix));
        assert!(!unit_log(&unit_id("AB"), 5).starts_with(&unit_log_prefix(&unit_id("A"))));
        assert_eq!(index_suffix(&short), 5);
    }

    #[test]
    fn content_keys_read_back() {
        let sscc: Sscc = "106141411234567897".parse().expect("valid SSCC");
        let unit = unit_id("SN-1");
        assert_eq!(
            parse_content(&content_unit(&sscc, &unit)),
            Some(Child::Unit(unit))
        );
        assert_eq!(
            parse_content(&content_sscc(&sscc, &sscc)),
            Some(Child::Sscc(sscc))
        );
        assert!(content_sscc(&sscc, &sscc).starts_with(&child_ssccs_prefix(&sscc)));
    }

    #[test]
    fn party_log_orders_by_time_and_keeps_negative_times() {
        let party: Gln = "0614141000005".parse().expect("valid GLN");
        let early = party_log(&party, -5, 9);
        let late = party_log(&party, 7, 1);
        assert!(early < late);
        assert_eq!(party_log_time(&early), -5);
        assert_eq!(party_log_time(&late), 7);
        assert_eq!(index_suffix(&late), 1);
    }
}
