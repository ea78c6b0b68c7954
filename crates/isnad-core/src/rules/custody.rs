//! Custody: Aggregate, Disaggregate, Ship, Receive, Decommission.
//!
//! A unit or SSCC that is inside another SSCC resolves its custody through its container
//! chain, so moving a pallet writes the pallet's record only. An item inside an SSCC moves
//! only with it: shipping, packing or decommissioning it alone is refused until it is taken
//! out. Decommissioning is terminal.

use crate::event::{DecommissionReason, Event, EventId, Item, LotId, UnitId};
use crate::gs1::{Gln, Sscc};
use crate::limits::SSCC_NESTING_MAX;
use crate::queries::Shipment;
use crate::state::{StateView, StorageError, read, scan_all};

use super::keys::{self, Child};
use super::records::{Custody, Link, ParticipantRecord, SsccRecord, UnitRecord};
use super::{
    ApplyError, Context, HANDLER_ROLES, Out, RejectCode, Scope, check_lot_movable, load_lot, refuse,
};

/// Where an item really is: its own custody, or its outermost container's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Resolved {
    pub custody: Custody,
    /// Its own decommissioning, or the nearest container's.
    pub decommissioned: Option<DecommissionReason>,
}

/// Resolves custody and decommissioning through the container chain.
pub(crate) fn resolve<V: StateView + ?Sized>(
    view: &V,
    custody: &Custody,
    container: Option<Sscc>,
    decommissioned: Option<DecommissionReason>,
) -> Result<Resolved, StorageError> {
    let mut resolved = Resolved {
        custody: custody.clone(),
        decommissioned,
    };
    let mut next = container;
    let mut depth = 0;
    while let Some(sscc) = next {
        depth += 1;
        if depth > SSCC_NESTING_MAX {
            return Err(StorageError(format!(
                "SSCC {sscc}: container chain deeper than {SSCC_NESTING_MAX}"
            )));
        }
        let record = stored_sscc(view, &sscc)?;
        resolved.custody = record.custody;
        resolved.decommissioned = resolved.decommissioned.or(record.decommissioned);
        next = record.container;
    }
    Ok(resolved)
}

/// An SSCC that another record names: missing is a broken state, not a bad request.
pub(crate) fn stored_sscc<V: StateView + ?Sized>(
    view: &V,
    sscc: &Sscc,
) -> Result<SsccRecord, StorageError> {
    read::<SsccRecord, _>(view, &keys::sscc(sscc))?
        .ok_or_else(|| StorageError(format!("SSCC {sscc} is named in state but has no record")))
}

fn stored_unit<V: StateView + ?Sized>(view: &V, unit: &UnitId) -> Result<UnitRecord, StorageError> {
    read::<UnitRecord, _>(view, &keys::unit(unit))?.ok_or_else(|| {
        StorageError(format!(
            "unit {} {} is named in state but has no record",
            unit.gtin, unit.serial
        ))
    })
}

fn load_unit<V: StateView + ?Sized>(view: &V, unit: &UnitId) -> Result<UnitRecord, ApplyError> {
    match read::<UnitRecord, _>(view, &keys::unit(unit))? {
        Some(record) => Ok(record),
        None => refuse(
            RejectCode::UnknownUnit,
            format!("unit {} {} was never commissioned", unit.gtin, unit.serial),
        ),
    }
}

fn load_sscc<V: StateView + ?Sized>(view: &V, sscc: &Sscc) -> Result<SsccRecord, ApplyError> {
    match read::<SsccRecord, _>(view, &keys::sscc(sscc))? {
        Some(record) => Ok(record),
        None => refuse(
            RejectCode::UnknownSscc,
            format!("SSCC {sscc} was never packed"),
        ),
    }
}

fn unit_label(unit: &UnitId) -> String {
    format!("unit {} {}", unit.gtin, unit.serial)
}

/// The actor holds the item at the event's site, and it is still in the circuit.
fn check_holds(label: &str, resolved: &Resolved, event: &Event) -> Result<(), ApplyError> {
    if let Some(reason) = resolved.decommissioned {
        return refuse(
            RejectCode::Decommissioned,
            format!("{label} was decommissioned ({reason:?})"),
        );
    }
    match &resolved.custody {
        Custody::InTransit { shipment } => refuse(
            RejectCode::InTransit,
            format!(
                "{label} is in transit in shipment {}",
                hex::encode(shipment.0)
            ),
        ),
        Custody::Held { holder, site } if *holder == event.actor && *site == event.site => Ok(()),
        Custody::Held { holder, site } => refuse(
            RejectCode::NotHolder,
            format!("{label} is held by {holder} at site {site}"),
        ),
    }
}

/// [`check_holds`], and the item is not inside an SSCC: it moves alone.
fn check_movable(
    label: &str,
    resolved: &Resolved,
    container: Option<Sscc>,
    event: &Event,
) -> Result<(), ApplyError> {
    // A decommissioned item says so first: that is the more useful refusal.
    if resolved.decommissioned.is_none()
        && let Some(container) = container
    {
        return refuse(
            RejectCode::InContainer,
            format!("{label} is inside SSCC {container}: it moves with it until disaggregated"),
        );
    }
    check_holds(label, resolved, event)
}

/// A loaded unit, checked to move alone at the actor's hands.
fn movable_unit<V: StateView + ?Sized>(
    view: &V,
    unit: &UnitId,
    event: &Event,
) -> Result<UnitRecord, ApplyError> {
    let record = load_unit(view, unit)?;
    let resolved = resolve(
        view,
        &record.custody,
        record.container,
        record.decommissioned,
    )?;
    check_movable(&unit_label(unit), &resolved, record.container, event)?;
    Ok(record)
}

/// A loaded SSCC, checked to move alone at the actor's hands.
fn movable_sscc<V: StateView + ?Sized>(
    view: &V,
    sscc: &Sscc,
    event: &Event,
) -> Result<SsccRecord, ApplyError> {
    let record = load_sscc(view, sscc)?;
    let resolved = resolve(
        view,
        &record.custody,
        record.container,
        record.decommissioned,
    )?;
    check_movable(&format!("SSCC {sscc}"), &resolved, record.container, event)?;
    Ok(record)
}

fn unit_lot(unit: &UnitId, record: &UnitRecord) -> LotId {
    LotId {
        gtin: unit.gtin,
        lot: record.lot.clone(),
    }
}

/// The SSCCs directly inside `sscc`.
fn child_ssccs<V: StateView + ?Sized>(view: &V, sscc: &Sscc) -> Result<Vec<Sscc>, StorageError> {
    let entries = scan_all(view, &keys::child_ssccs_prefix(sscc))?;
    entries
        .iter()
        .map(|(key, _)| match keys::parse_content(key) {
            Some(Child::Sscc(child)) => Ok(child),
            _ => Err(StorageError(format!(
                "bad content key {}",
                hex::encode(key)
            ))),
        })
        .collect()
}

/// Levels of SSCCs from `sscc` down: 1 for an SSCC holding only units.
fn height<V: StateView + ?Sized>(
    view: &V,
    sscc: &Sscc,
    depth: usize,
) -> Result<usize, StorageError> {
    if depth > SSCC_NESTING_MAX {
        return Err(StorageError(format!(
            "SSCC {sscc}: contents nest deeper than {SSCC_NESTING_MAX}"
        )));
    }
    let mut below = 0;
    for child in child_ssccs(view, sscc)? {
        below = below.max(height(view, &child, depth + 1)?);
    }
    Ok(below + 1)
}

/// Every lot with a unit anywhere inside `sscc`.
fn lots_inside<V: StateView + ?Sized>(
    view: &V,
    sscc: &Sscc,
    record: &SsccRecord,
    depth: usize,
    lots: &mut Vec<LotId>,
) -> Result<(), StorageError> {
    if depth > SSCC_NESTING_MAX {
        return Err(StorageError(format!(
            "SSCC {sscc}: contents nest deeper than {SSCC_NESTING_MAX}"
        )));
    }
    for (lot, _) in &record.lots {
        if !lots.contains(lot) {
            lots.push(lot.clone());
        }
    }
    for child in child_ssccs(view, sscc)? {
        let child_record = stored_sscc(view, &child)?;
        lots_inside(view, &child, &child_record, depth + 1, lots)?;
    }
    Ok(())
}

/// Nothing recalled or expired is inside `sscc`.
fn check_contents_movable<V: StateView + ?Sized>(
    view: &V,
    sscc: &Sscc,
    record: &SsccRecord,
    ctx: &Context,
) -> Result<(), ApplyError> {
    let mut lots = Vec::new();
    lots_inside(view, sscc, record, 1, &mut lots)?;
    for lot in &lots {
        check_lot_movable(&load_lot(view, lot)?, ctx, &format!("SSCC {sscc}"))?;
    }
    Ok(())
}

pub(super) fn aggregate<V: StateView + ?Sized>(
    view: &V,
    event: &Event,
    sscc: &Sscc,
    items: &[Item],
    ctx: &Context,
    scope: Scope<'_>,
    out: &mut Out,
) -> Result<(), ApplyError> {
    let kept = scope.filter(view, items)?;
    if kept.is_empty() {
        return Ok(());
    }
    let (mut target, mut levels) = match read::<SsccRecord, _>(view, &keys::sscc(sscc))? {
        Some(record) => {
            let resolved = resolve(
                view,
                &record.custody,
                record.container,
                record.decommissioned,
            )?;
            check_movable(&format!("SSCC {sscc}"), &resolved, record.container, event)?;
            (record, height(view, sscc, 1)?)
        }
        None => (new_sscc(event, ctx), 1),
    };
    for item in kept {
        match item {
            Item::Unit(unit) => pack_unit(view, event, sscc, &mut target, unit, ctx, out)?,
            Item::Sscc(child) => {
                let child_levels = pack_sscc(view, event, sscc, child, ctx, out)?;
                levels = levels.max(child_levels + 1);
            }
            Item::LotQuantity { .. } => {
                return refuse(
                    RejectCode::InvalidField,
                    "items: lot quantities are not packed",
                );
            }
        }
    }
    if levels > SSCC_NESTING_MAX {
        return refuse(
            RejectCode::NestingTooDeep,
            format!("SSCC {sscc} would hold {levels} levels of SSCCs, at most {SSCC_NESTING_MAX}"),
        );
    }
    out.put(keys::sscc(sscc), &target);
    out.note(|index| keys::sscc_log(sscc, index), Link::None);
    Ok(())
}

fn new_sscc(event: &Event, ctx: &Context) -> SsccRecord {
    SsccRecord {
        custody: Custody::Held {
            holder: event.actor,
            site: event.site,
        },
        container: None,
        decommissioned: None,
        lots: Vec::new(),
        created_at_index: ctx.index,
    }
}

fn pack_unit<V: StateView + ?Sized>(
    view: &V,
    event: &Event,
    sscc: &Sscc,
    target: &mut SsccRecord,
    unit: &UnitId,
    ctx: &Context,
    out: &mut Out,
) -> Result<(), ApplyError> {
    let mut record = movable_unit(view, unit, event)?;
    let lot = unit_lot(unit, &record);
    check_lot_movable(&load_lot(view, &lot)?, ctx, &unit_label(unit))?;
    record.container = Some(*sscc);
    target.add_lot(&lot);
    out.put(keys::unit(unit), &record);
    out.mark(keys::content_unit(sscc, unit));
    out.note(|index| keys::unit_log(unit, index), Link::Into(*sscc));
    Ok(())
}

/// Packs `child` into `sscc`; returns the child's levels.
fn pack_sscc<V: StateView + ?Sized>(
    view: &V,
    event: &Event,
    sscc: &Sscc,
    child: &Sscc,
    ctx: &Context,
    out: &mut Out,
) -> Result<usize, ApplyError> {
    if child == sscc {
        return refuse(
            RejectCode::InvalidField,
            format!("items: SSCC {sscc} cannot go into itself"),
        );
    }
    let mut record = movable_sscc(view, child, event)?;
    check_contents_movable(view, child, &record, ctx)?;
    let levels = height(view, child, 1)?;
    record.container = Some(*sscc);
    out.put(keys::sscc(child), &record);
    out.mark(keys::content_sscc(sscc, child));
    out.note(|index| keys::sscc_log(child, index), Link::Into(*sscc));
    Ok(levels)
}

pub(super) fn disaggregate<V: StateView + ?Sized>(
    view: &V,
    event: &Event,
    sscc: &Sscc,
    items: &[Item],
    scope: Scope<'_>,
    out: &mut Out,
) -> Result<(), ApplyError> {
    let mut record = match (read::<SsccRecord, _>(view, &keys::sscc(sscc))?, scope) {
        (Some(record), _) => record,
        (None, Scope::Follow(_)) => return Ok(()),
        (None, Scope::All) => {
            return refuse(
                RejectCode::UnknownSscc,
                format!("SSCC {sscc} was never packed"),
            );
        }
    };
    let resolved = resolve(
        view,
        &record.custody,
        record.container,
        record.decommissioned,
    )?;
    check_holds(&format!("SSCC {sscc}"), &resolved, event)?;
    let children = if items.is_empty() {
        all_children(view, sscc)?
    } else {
        let kept = scope.filter(view, items)?;
        if kept.is_empty() {
            return Ok(());
        }
        listed_children(view, sscc, &kept)?
    };
    for child in children {
        unpack(view, event, sscc, &mut record, &child, out)?;
    }
    out.put(keys::sscc(sscc), &record);
    out.note(|index| keys::sscc_log(sscc, index), Link::None);
    Ok(())
}

fn all_children<V: StateView + ?Sized>(view: &V, sscc: &Sscc) -> Result<Vec<Child>, ApplyError> {
    let entries = scan_all(view, &keys::contents_prefix(sscc))?;
    let mut children = Vec::with_capacity(entries.len());
    for (key, _) in entries {
        match keys::parse_content(&key) {
            Some(child) => children.push(child),
            None => {
                return Err(StorageError(format!("bad content key {}", hex::encode(&key))).into());
            }
        }
    }
    Ok(children)
}

fn listed_children<V: StateView + ?Sized>(
    view: &V,
    sscc: &Sscc,
    items: &[&Item],
) -> Result<Vec<Child>, ApplyError> {
    let mut children = Vec::with_capacity(items.len());
    for item in items {
        let (child, key) = match item {
            Item::Unit(unit) => (Child::Unit(unit.clone()), keys::content_unit(sscc, unit)),
            Item::Sscc(child) => (Child::Sscc(*child), keys::content_sscc(sscc, child)),
            Item::LotQuantity { .. } => {
                return refuse(
                    RejectCode::InvalidField,
                    "items: lot quantities are not packed",
                );
            }
        };
        if view.get(&key)?.is_none() {
            return refuse(
                RejectCode::NotInContainer,
                format!("items: {item:?} is not directly inside SSCC {sscc}"),
            );
        }
        children.push(child);
    }
    Ok(children)
}

/// Takes `child` out of `sscc`: the actor now holds it at the event's site.
fn unpack<V: StateView + ?Sized>(
    view: &V,
    event: &Event,
    sscc: &Sscc,
    record: &mut SsccRecord,
    child: &Child,
    out: &mut Out,
) -> Result<(), ApplyError> {
    let custody = Custody::Held {
        holder: event.actor,
        site: event.site,
    };
    match child {
        Child::Unit(unit) => {
            let mut unit_record = stored_unit(view, unit)?;
            record.remove_lot(&unit_lot(unit, &unit_record));
            unit_record.container = None;
            unit_record.custody = custody;
            out.put(keys::unit(unit), &unit_record);
            out.delete(keys::content_unit(sscc, unit));
            out.note(|index| keys::unit_log(unit, index), Link::OutOf(*sscc));
        }
        Child::Sscc(inner) => {
            let mut inner_record = stored_sscc(view, inner)?;
            inner_record.container = None;
            inner_record.custody = custody;
            out.put(keys::sscc(inner), &inner_record);
            out.delete(keys::content_sscc(sscc, inner));
            out.note(|index| keys::sscc_log(inner, index), Link::OutOf(*sscc));
        }
    }
    Ok(())
}

/// Ships `items` to `destination` (party, site): the shipment is named by the event's id.
pub(super) fn ship<V: StateView + ?Sized>(
    view: &V,
    event: &Event,
    items: &[Item],
    (destination_party, destination_site): (&Gln, &Gln),
    ctx: &Context,
    scope: Scope<'_>,
    out: &mut Out,
) -> Result<(), ApplyError> {
    check_destination(view, event, destination_party, destination_site)?;
    let kept = scope.filter(view, items)?;
    if kept.is_empty() {
        return Ok(());
    }
    for item in &kept {
        ship_item(view, event, item, destination_party, ctx, out)?;
    }
    let shipment = Shipment {
        id: event.id,
        from_party: event.actor,
        from_site: event.site,
        destination_party: *destination_party,
        destination_site: *destination_site,
        items: kept.into_iter().cloned().collect(),
        shipped_at_index: ctx.index,
        received_at_index: None,
        missing: Vec::new(),
    };
    out.put(keys::shipment(&event.id), &shipment);
    out.mark(keys::inbound(destination_party, &event.id));
    Ok(())
}

fn ship_item<V: StateView + ?Sized>(
    view: &V,
    event: &Event,
    item: &Item,
    destination: &Gln,
    ctx: &Context,
    out: &mut Out,
) -> Result<(), ApplyError> {
    let in_transit = Custody::InTransit { shipment: event.id };
    let link = Link::ShipTo(*destination);
    match item {
        Item::Unit(unit) => {
            let mut record = movable_unit(view, unit, event)?;
            check_lot_movable(
                &load_lot(view, &unit_lot(unit, &record))?,
                ctx,
                &unit_label(unit),
            )?;
            record.custody = in_transit;
            out.put(keys::unit(unit), &record);
            out.note(|index| keys::unit_log(unit, index), link);
        }
        Item::Sscc(sscc) => {
            let mut record = movable_sscc(view, sscc, event)?;
            check_contents_movable(view, sscc, &record, ctx)?;
            record.custody = in_transit;
            out.put(keys::sscc(sscc), &record);
            out.note(|index| keys::sscc_log(sscc, index), link);
        }
        Item::LotQuantity { lot, quantity } => {
            check_lot_movable(&load_lot(view, lot)?, ctx, &format!("lot {}", lot.lot))?;
            take_balance(view, lot, &event.actor, *quantity, out)?;
            out.note(|index| keys::lot_log(lot, index), link);
        }
    }
    Ok(())
}

/// The addressee is admitted, active, holds goods, and the site is one of its own.
fn check_destination<V: StateView + ?Sized>(
    view: &V,
    event: &Event,
    party: &Gln,
    site: &Gln,
) -> Result<(), ApplyError> {
    let Some(record) = read::<ParticipantRecord, _>(view, &keys::participant(party))? else {
        return refuse(
            RejectCode::UnknownParticipant,
            format!("destination_party: {party} is not admitted"),
        );
    };
    if !record.sites.contains(site) {
        return refuse(
            RejectCode::UnknownSite,
            format!("destination_site: {site} is not a site of {party}"),
        );
    }
    if record.suspended {
        return refuse(
            RejectCode::DestinationRefused,
            format!("destination_party: {party} is suspended"),
        );
    }
    if !record.roles.iter().any(|role| HANDLER_ROLES.contains(role)) {
        return refuse(
            RejectCode::DestinationRefused,
            format!(
                "destination_party: {party} has roles {:?} and holds no goods",
                record.roles
            ),
        );
    }
    if *party == event.actor && *site == event.site {
        return refuse(
            RejectCode::InvalidField,
            format!("destination_site: {site} is where the goods are"),
        );
    }
    Ok(())
}

pub(super) fn receive<V: StateView + ?Sized>(
    view: &V,
    event: &Event,
    shipment_id: &EventId,
    missing: &[Item],
    ctx: &Context,
    scope: Scope<'_>,
    out: &mut Out,
) -> Result<(), ApplyError> {
    let shown = hex::encode(shipment_id.0);
    let mut shipment = match (
        read::<Shipment, _>(view, &keys::shipment(shipment_id))?,
        scope,
    ) {
        (Some(shipment), _) => shipment,
        (None, Scope::Follow(_)) => return Ok(()),
        (None, Scope::All) => {
            return refuse(
                RejectCode::UnknownShipment,
                format!("shipment {shown} does not exist"),
            );
        }
    };
    if let Some(index) = shipment.received_at_index {
        return refuse(
            RejectCode::NotInTransit,
            format!("shipment {shown} was received at index {index}"),
        );
    }
    if event.actor != shipment.destination_party || event.site != shipment.destination_site {
        return refuse(
            RejectCode::NotAddressee,
            format!(
                "shipment {shown} is addressed to {} at site {}",
                shipment.destination_party, shipment.destination_site
            ),
        );
    }
    let missing = missing_of(&shipment, missing, scope)?;
    for item in &shipment.items {
        receive_item(view, event, shipment_id, item, &missing, out)?;
    }
    shipment.received_at_index = Some(ctx.index);
    shipment.missing = missing;
    out.put(keys::shipment(shipment_id), &shipment);
    out.delete(keys::inbound(&shipment.destination_party, shipment_id));
    Ok(())
}

/// The missing items, each one of the shipment's (a quantity at most the one shipped). The
/// verifier's replay knows only the shipment's items it follows, and ignores the others.
fn missing_of(
    shipment: &Shipment,
    missing: &[Item],
    scope: Scope<'_>,
) -> Result<Vec<Item>, ApplyError> {
    let mut known = Vec::with_capacity(missing.len());
    for item in missing {
        let shipped = shipment.items.iter().any(|shipped| match (shipped, item) {
            (
                Item::LotQuantity { lot, quantity },
                Item::LotQuantity {
                    lot: gone,
                    quantity: count,
                },
            ) => lot == gone && count <= quantity,
            _ => shipped == item,
        });
        match (shipped, scope) {
            (true, _) => known.push(item.clone()),
            (false, Scope::Follow(_)) => {}
            (false, Scope::All) => {
                return refuse(
                    RejectCode::InvalidField,
                    format!("missing: {item:?} is not in the shipment"),
                );
            }
        }
    }
    Ok(known)
}

fn receive_item<V: StateView + ?Sized>(
    view: &V,
    event: &Event,
    shipment: &EventId,
    item: &Item,
    missing: &[Item],
    out: &mut Out,
) -> Result<(), ApplyError> {
    let arrived = Custody::Held {
        holder: event.actor,
        site: event.site,
    };
    let in_transit = Custody::InTransit {
        shipment: *shipment,
    };
    if missing.contains(item) {
        return Ok(());
    }
    match item {
        Item::Unit(unit) => {
            let mut record = stored_unit(view, unit)?;
            assert_in_transit(&record.custody, &in_transit, &unit_label(unit))?;
            record.custody = arrived;
            out.put(keys::unit(unit), &record);
            out.note(|index| keys::unit_log(unit, index), Link::None);
        }
        Item::Sscc(sscc) => {
            let mut record = stored_sscc(view, sscc)?;
            assert_in_transit(&record.custody, &in_transit, &format!("SSCC {sscc}"))?;
            record.custody = arrived;
            out.put(keys::sscc(sscc), &record);
            out.note(|index| keys::sscc_log(sscc, index), Link::None);
        }
        Item::LotQuantity { lot, quantity } => {
            let gone = missing.iter().find_map(|missing| match missing {
                Item::LotQuantity {
                    lot: gone,
                    quantity,
                } if gone == lot => Some(*quantity),
                _ => None,
            });
            let received = quantity - gone.unwrap_or(0);
            if received > 0 {
                add_balance(view, lot, &event.actor, received, out)?;
            }
            out.note(|index| keys::lot_log(lot, index), Link::None);
        }
    }
    Ok(())
}

/// Items of an open shipment are in transit in it: nothing else can move them meanwhile.
fn assert_in_transit(
    custody: &Custody,
    expected: &Custody,
    label: &str,
) -> Result<(), StorageError> {
    if custody != expected {
        return Err(StorageError(format!(
            "{label} is in an open shipment but its custody is {custody:?}"
        )));
    }
    Ok(())
}

pub(super) fn decommission<V: StateView + ?Sized>(
    view: &V,
    event: &Event,
    items: &[Item],
    reason: DecommissionReason,
    scope: Scope<'_>,
    out: &mut Out,
) -> Result<(), ApplyError> {
    for item in scope.filter(view, items)? {
        match item {
            Item::Unit(unit) => {
                let mut record = movable_unit(view, unit, event)?;
                record.decommissioned = Some(reason);
                out.put(keys::unit(unit), &record);
                out.note(|index| keys::unit_log(unit, index), Link::None);
            }
            Item::Sscc(sscc) => {
                let mut record = movable_sscc(view, sscc, event)?;
                record.decommissioned = Some(reason);
                out.put(keys::sscc(sscc), &record);
                out.note(|index| keys::sscc_log(sscc, index), Link::None);
            }
            Item::LotQuantity { lot, quantity } => {
                load_lot(view, lot)?;
                take_balance(view, lot, &event.actor, *quantity, out)?;
                out.note(|index| keys::lot_log(lot, index), Link::None);
            }
        }
    }
    Ok(())
}

/// Adds to what `holder` has of a non-serialized lot.
pub(super) fn add_balance<V: StateView + ?Sized>(
    view: &V,
    lot: &LotId,
    holder: &Gln,
    quantity: u64,
    out: &mut Out,
) -> Result<(), ApplyError> {
    let key = keys::balance(lot, holder);
    let held = read::<u64, _>(view, &key)?.unwrap_or(0);
    let Some(total) = held.checked_add(quantity) else {
        return refuse(
            RejectCode::InvalidField,
            format!("quantity: {held} + {quantity} of lot {} overflows", lot.lot),
        );
    };
    out.put(key, &total);
    Ok(())
}

/// Takes from what `holder` has of a non-serialized lot.
fn take_balance<V: StateView + ?Sized>(
    view: &V,
    lot: &LotId,
    holder: &Gln,
    quantity: u64,
    out: &mut Out,
) -> Result<(), ApplyError> {
    let key = keys::balance(lot, holder);
    let held = read::<u64, _>(view, &key)?.unwrap_or(0);
    match held.checked_sub(quantity) {
        None => refuse(
            RejectCode::InsufficientQuantity,
            format!(
                "items: {holder} has {held} of lot {}, not {quantity}",
                lot.lot
            ),
        ),
        Some(0) => {
            out.delete(key);
            Ok(())
        }
        Some(left) => {
            out.put(key, &left);
            Ok(())
        }
    }
}
