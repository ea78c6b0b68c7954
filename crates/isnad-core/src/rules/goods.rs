//! Products, lots and units coming into existence: RegisterProduct, Commission, Recall, and
//! the Inspect sighting.

use std::collections::HashSet;

use crate::event::{Event, LotId, Role, SerialRange, UnitId};
use crate::gs1::{Gs1Date, Serial, year_of_unix_ms};
use crate::queries::{LotRecord, ProductRecord};
use crate::scan::parse_scan;
use crate::state::{StateView, read};

use super::records::{Custody, Link, ParticipantRecord, UnitRecord};
use super::{ApplyError, Context, Out, RejectCode, Scope, keys, load_lot, refuse};

/// Registers `product`, whose manufacturer is the actor.
pub(super) fn register_product<V: StateView + ?Sized>(
    view: &V,
    product: &ProductRecord,
    actor: &ParticipantRecord,
    out: &mut Out,
) -> Result<(), ApplyError> {
    let gtin = &product.gtin;
    if view.get(&keys::product(gtin))?.is_some() {
        return refuse(
            RejectCode::ProductExists,
            format!("gtin: {gtin} is already registered"),
        );
    }
    if !actor
        .company_prefixes
        .iter()
        .any(|prefix| gtin.has_company_prefix(prefix))
    {
        return refuse(
            RejectCode::PrefixNotOwned,
            format!(
                "gtin: {gtin} is not under a company prefix of {} ({:?})",
                product.manufacturer, actor.company_prefixes
            ),
        );
    }
    out.put(keys::product(gtin), product);
    Ok(())
}

/// The fields of a Commission.
#[derive(Debug, Clone, Copy)]
pub(super) struct NewUnits<'a> {
    pub lot: &'a LotId,
    pub expiry: Gs1Date,
    pub production_date: Option<Gs1Date>,
    pub serials: &'a [Serial],
    pub serial_ranges: &'a [SerialRange],
    pub quantity: u64,
}

pub(super) fn commission<V: StateView + ?Sized>(
    view: &V,
    event: &Event,
    new: NewUnits<'_>,
    ctx: &Context,
    scope: Scope<'_>,
    out: &mut Out,
) -> Result<(), ApplyError> {
    let NewUnits {
        lot,
        expiry,
        production_date,
        serials,
        serial_ranges,
        quantity,
    } = new;
    check_product(view, event, lot)?;
    check_dates(expiry, production_date, ctx)?;
    let existing = read::<LotRecord, _>(view, &keys::lot(lot))?;
    if let Some(existing) = &existing {
        check_same_lot(existing, expiry, production_date)?;
    }
    let kept: Vec<Serial> = match scope {
        Scope::All => expand_serials(serials, serial_ranges)?,
        // A verifier follows one unit: it checks that one serial, not the lot's thousands.
        Scope::Follow(unit) => match unit.filter(|unit| unit.gtin == lot.gtin) {
            Some(unit) => names_serial(serials, serial_ranges, &unit.serial)?
                .then(|| unit.serial.clone())
                .into_iter()
                .collect(),
            None => Vec::new(),
        },
    };
    for serial in &kept {
        let unit = UnitId {
            gtin: lot.gtin,
            serial: serial.clone(),
        };
        if view.get(&keys::unit(&unit))?.is_some() {
            return refuse(
                RejectCode::DuplicateSerial,
                format!(
                    "serials: {serial} of GTIN {} was already commissioned",
                    lot.gtin
                ),
            );
        }
    }
    let mut record = existing.unwrap_or_else(|| LotRecord {
        lot: lot.clone(),
        manufacturer: event.actor,
        expiry,
        production_date,
        recalled_at_index: None,
        units_commissioned: 0,
        quantity_commissioned: 0,
        first_commission_index: ctx.index,
    });
    record.units_commissioned += kept.len() as u64;
    let Some(quantity_commissioned) = record.quantity_commissioned.checked_add(quantity) else {
        return refuse(
            RejectCode::InvalidField,
            format!(
                "quantity: {} + {quantity} commissioned in lot {} overflows",
                record.quantity_commissioned, lot.lot
            ),
        );
    };
    record.quantity_commissioned = quantity_commissioned;
    out.put(keys::lot(lot), &record);
    out.note(|index| keys::lot_log(lot, index), Link::None);
    if quantity > 0 {
        super::custody::add_balance(view, lot, &event.actor, quantity, out)?;
    }
    for serial in &kept {
        put_new_unit(event, lot, serial, ctx, out);
    }
    Ok(())
}

fn put_new_unit(event: &Event, lot: &LotId, serial: &Serial, ctx: &Context, out: &mut Out) {
    let unit = UnitId {
        gtin: lot.gtin,
        serial: serial.clone(),
    };
    let record = UnitRecord {
        lot: lot.lot.clone(),
        custody: Custody::Held {
            holder: event.actor,
            site: event.site,
        },
        container: None,
        decommissioned: None,
        commissioned_at_index: ctx.index,
    };
    out.put(keys::unit(&unit), &record);
    out.mark(keys::lot_unit(lot, serial));
    out.note(|index| keys::unit_log(&unit, index), Link::None);
}

/// The product exists and the actor is its manufacturer.
fn check_product<V: StateView + ?Sized>(
    view: &V,
    event: &Event,
    lot: &LotId,
) -> Result<(), ApplyError> {
    let Some(product) = read::<ProductRecord, _>(view, &keys::product(&lot.gtin))? else {
        return refuse(
            RejectCode::UnknownProduct,
            format!("gtin: {} is not registered", lot.gtin),
        );
    };
    if product.manufacturer != event.actor {
        return refuse(
            RejectCode::NotManufacturer,
            format!(
                "gtin: {} is registered by {}, not {}",
                lot.gtin, product.manufacturer, event.actor
            ),
        );
    }
    Ok(())
}

/// A lot is not commissioned expired, nor produced after it expires.
fn check_dates(
    expiry: Gs1Date,
    production_date: Option<Gs1Date>,
    ctx: &Context,
) -> Result<(), ApplyError> {
    let year = year_of_unix_ms(ctx.recorded_unix_ms);
    if expiry.end_unix_ms(year) <= ctx.recorded_unix_ms {
        return refuse(
            RejectCode::Expired,
            format!("expiry: {} has passed", expiry.to_iso(year)),
        );
    }
    if let Some(produced) = production_date
        && produced.resolve(year) > expiry.resolve(year)
    {
        return refuse(
            RejectCode::InvalidField,
            format!(
                "production_date: {} is after the expiry {}",
                produced.to_iso(year),
                expiry.to_iso(year)
            ),
        );
    }
    Ok(())
}

/// Later commissions of a lot repeat its dates.
fn check_same_lot(
    lot: &LotRecord,
    expiry: Gs1Date,
    production_date: Option<Gs1Date>,
) -> Result<(), ApplyError> {
    if lot.expiry != expiry || lot.production_date != production_date {
        return refuse(
            RejectCode::LotMismatch,
            format!(
                "lot {} was commissioned with expiry {} and production date {:?}, not {expiry} and {production_date:?}",
                lot.lot.lot, lot.expiry, lot.production_date
            ),
        );
    }
    if let Some(index) = lot.recalled_at_index {
        return refuse(
            RejectCode::Recalled,
            format!("lot {} was recalled at index {index}", lot.lot.lot),
        );
    }
    Ok(())
}

/// Listed serials then every range, expanded; a serial named twice is refused.
pub(crate) fn expand_serials(
    listed: &[Serial],
    ranges: &[SerialRange],
) -> Result<Vec<Serial>, ApplyError> {
    let mut serials = listed.to_vec();
    for range in ranges {
        for offset in 0..u64::from(range.count) {
            serials.push(range_serial(range, offset)?);
        }
    }
    let mut seen = HashSet::with_capacity(serials.len());
    if let Some(twice) = serials.iter().find(|serial| !seen.insert(*serial)) {
        return refuse(
            RejectCode::DuplicateSerial,
            format!("serials: {twice} is named twice"),
        );
    }
    Ok(serials)
}

/// Whether a Commission names `serial`, listed or in a range, without expanding the ranges.
/// Each range's first and last serials are still checked to be valid serials.
fn names_serial(
    listed: &[Serial],
    ranges: &[SerialRange],
    serial: &Serial,
) -> Result<bool, ApplyError> {
    let mut named = listed.contains(serial);
    for range in ranges.iter().filter(|range| range.count > 0) {
        range_serial(range, 0)?;
        range_serial(range, u64::from(range.count) - 1)?;
        named |= range_contains(range, serial);
    }
    Ok(named)
}

/// Whether `serial` is `prefix + zero-padded number` for a number of the range.
fn range_contains(range: &SerialRange, serial: &Serial) -> bool {
    let Some(digits) = serial.as_str().strip_prefix(range.prefix.as_str()) else {
        return false;
    };
    let Ok(number) = digits.parse::<u64>() else {
        return false;
    };
    let width = range.width as usize;
    let in_range = number >= range.first && number - range.first < u64::from(range.count);
    // The number must be written exactly as the range writes it (no extra zeros, no sign).
    in_range && format!("{number:0width$}") == digits
}

fn range_serial(range: &SerialRange, offset: u64) -> Result<Serial, ApplyError> {
    let Some(number) = range.first.checked_add(offset) else {
        return refuse(
            RejectCode::InvalidField,
            format!("serial_ranges: {} + {offset} overflows", range.first),
        );
    };
    let width = range.width as usize;
    let text = format!("{}{number:0width$}", range.prefix);
    match text.parse() {
        Ok(serial) => Ok(serial),
        Err(error) => refuse(
            RejectCode::InvalidField,
            format!("serial_ranges: {}: {error}", crate::limits::excerpt(&text)),
        ),
    }
}

pub(super) fn recall<V: StateView + ?Sized>(
    view: &V,
    event: &Event,
    lot: &LotId,
    actor: &ParticipantRecord,
    ctx: &Context,
    out: &mut Out,
) -> Result<(), ApplyError> {
    let mut record = load_lot(view, lot)?;
    let regulator = actor.roles.contains(&Role::Regulator);
    if !regulator && record.manufacturer != event.actor {
        return refuse(
            RejectCode::NotManufacturer,
            format!(
                "lot {} is made by {}; only it or a regulator recalls it",
                lot.lot, record.manufacturer
            ),
        );
    }
    if let Some(index) = record.recalled_at_index {
        return refuse(
            RejectCode::AlreadyRecalled,
            format!("lot {} was recalled at index {index}", lot.lot),
        );
    }
    record.recalled_at_index = Some(ctx.index);
    out.put(keys::lot(lot), &record);
    out.note(|index| keys::lot_log(lot, index), Link::None);
    Ok(())
}

/// A sighting is recorded even of a unit nobody commissioned: that is a counterfeit seen.
pub(super) fn inspect(scan: &str, out: &mut Out) -> Result<(), ApplyError> {
    let parsed = match parse_scan(scan) {
        Ok(parsed) => parsed,
        Err(error) => return refuse(RejectCode::MalformedScan, format!("scan: {error}")),
    };
    if let Some(unit) = parsed.unit() {
        // Apart from the unit's other events: a verifier reads only the latest sightings.
        out.note(|index| keys::unit_sighting(&unit, index), Link::None);
    } else if let (Some(gtin), Some(lot)) = (parsed.gtin, parsed.lot) {
        out.note(
            |index| keys::lot_log(&LotId { gtin, lot }, index),
            Link::None,
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(range: (&str, u64, u32, u32), serial: &str, expected: bool) {
        let (prefix, first, count, width) = range;
        let range = SerialRange {
            prefix: prefix.to_owned(),
            first,
            count,
            width,
        };
        let serial: Serial = serial.parse().expect("valid serial");
        assert_eq!(
            range_contains(&range, &serial),
            expected,
            "{serial} in {range:?}"
        );
        let expanded = expand_serials(&[], std::slice::from_ref(&range)).expect("valid range");
        assert_eq!(
            expanded.contains(&serial),
            expected,
            "{serial} in the expansion of {range:?}"
        );
        assert_eq!(
            names_serial(&[], &[range], &serial).expect("valid range"),
            expected
        );
    }

    #[test]
    fn range_membership_agrees_with_expansion() {
        check(("R", 1, 100, 6), "R000042", true);
        check(("R", 1, 100, 6), "R000001", true);
        check(("R", 1, 100, 6), "R000100", true);
        check(("R", 1, 100, 6), "R000000", false);
        check(("R", 1, 100, 6), "R000101", false);
        check(("R", 1, 100, 6), "R42", false);
        check(("R", 1, 100, 6), "R0000042", false);
        check(("R", 1, 100, 6), "X000042", false);
        check(("R", 1, 100, 6), "R+00042", false);
        check(("", 7, 5, 0), "9", true);
        check(("", 7, 5, 0), "09", false);
        check(("", 7, 5, 0), "12", false);
        check(("LOT-", 998, 5, 3), "LOT-1002", true);
    }

    #[test]
    fn a_listed_serial_is_named_and_bad_ranges_are_refused() {
        let listed: Vec<Serial> = vec!["A1".parse().expect("valid serial")];
        let found = names_serial(&listed, &[], &listed[0]).expect("no ranges");
        assert!(found);
        let too_long = SerialRange {
            prefix: "P".repeat(15),
            first: 1,
            count: 2,
            width: 6,
        };
        assert!(names_serial(&[], &[too_long], &listed[0]).is_err());
    }

    #[test]
    fn a_refused_range_is_not_echoed_whole() {
        let huge = SerialRange {
            prefix: "P".repeat(65_535),
            first: 1,
            count: 1,
            width: 0,
        };
        let Err(ApplyError::Rejected(rejection)) = range_serial(&huge, 0) else {
            panic!("a serial of 65,536 characters is refused");
        };
        assert!(rejection.message.len() < 200, "{}", rejection.message);
        assert!(
            rejection.message.contains("(65536 characters)"),
            "{}",
            rejection.message
        );
    }
}
