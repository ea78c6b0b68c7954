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
    let serials = expand_serials(serials, serial_ranges)?;
    let kept: Vec<&Serial> = match scope {
        Scope::All => serials.iter().collect(),
        Scope::Follow(unit) => serials
            .iter()
            .filter(|serial| {
                unit.is_some_and(|unit| unit.gtin == lot.gtin && unit.serial == **serial)
            })
            .collect(),
    };
    for serial in &kept {
        let unit = UnitId {
            gtin: lot.gtin,
            serial: (*serial).clone(),
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
    record.quantity_commissioned += quantity;
    out.put(keys::lot(lot), &record);
    out.note(|index| keys::lot_log(lot, index), Link::None);
    if quantity > 0 {
        super::custody::add_balance(view, lot, &event.actor, quantity, out)?;
    }
    for serial in kept {
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
            format!("serial_ranges: {text:?}: {error}"),
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
        out.note(|index| keys::unit_log(&unit, index), Link::None);
    } else if let (Some(gtin), Some(lot)) = (parsed.gtin, parsed.lot) {
        out.note(
            |index| keys::lot_log(&LotId { gtin, lot }, index),
            Link::None,
        );
    }
    Ok(())
}
