//! The executor: a pure, deterministic function of (state, event) to writes or a rejection.
//!
//! Every replica applies the same events in the same order and gets the same writes. Nothing
//! here reads a clock: the log's recorded time and index come in [`Context`].
//!
//! An event first passes stateless field checks, then authorization (the signer's key is
//! registered and not revoked, belongs to the actor, the actor is not suspended, has a role
//! that may do this, and acts at one of its own sites), then the rules of its type. Any
//! refusal is a [`Rejection`] with a stable [`RejectCode`]; a refused event writes nothing.

mod custody;
mod goods;
pub(crate) mod keys;
pub(crate) mod records;
mod registry;

use std::fmt;

use serde::Serialize;

use crate::event::{
    DecommissionReason, Event, Genesis, Item, LotId, Payload, PublicKey, Role, UnitId,
};
use crate::gs1::{Gln, year_of_unix_ms};
use crate::limits::{
    COMPANY_PREFIX_DIGITS, ITEMS_PER_EVENT_MAX, NAME_LEN_MAX, PARTICIPANT_LIST_MAX, REASON_LEN_MAX,
    SERIALS_PER_COMMISSION_MAX,
};
use crate::queries::{KeyRecord, LotRecord, ProductRecord};
use crate::state::{StateView, StorageError, Writes, encode, read};
use records::{IndexNote, Link, ParticipantRecord};

pub(crate) use custody::resolve;

/// What the log decided about an event before the executor sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Context {
    /// The leaf index this event will get.
    pub index: u64,
    /// The sequencer's recorded time (milliseconds since the Unix epoch), the same on every
    /// replica: expiry and "compromised since" compare against it, never the client's clock.
    pub recorded_unix_ms: i64,
    /// The key whose signature over the body the service has verified.
    pub signer: PublicKey,
}

/// Why an event was not applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApplyError {
    /// The rules refuse the event; nothing was written.
    #[error("{0}")]
    Rejected(Rejection),
    /// State could not be read.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<Rejection> for ApplyError {
    fn from(rejection: Rejection) -> Self {
        Self::Rejected(rejection)
    }
}

/// A refusal: a stable code for machines, a message naming the field or item for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The machine-readable reason.
    pub code: RejectCode,
    /// What was wrong, naming the field or the item.
    pub message: String,
}

impl Rejection {
    /// A rejection with `code` and `message`.
    pub fn new(code: RejectCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

impl std::error::Error for Rejection {}

/// A shorthand for refusing with `code`.
pub(crate) fn refuse<T>(code: RejectCode, message: impl Into<String>) -> Result<T, ApplyError> {
    Err(ApplyError::Rejected(Rejection::new(code, message)))
}

/// The gRPC status class of a rejection (see the error contract in the design).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RejectClass {
    /// Malformed input.
    InvalidArgument,
    /// The signing key is unknown or revoked.
    Unauthenticated,
    /// Role, site or ownership rules.
    PermissionDenied,
    /// Custody and state rules.
    FailedPrecondition,
    /// Something that exists once exists already.
    AlreadyExists,
    /// A named thing does not exist.
    NotFound,
    /// Over a limit.
    ResourceExhausted,
}

macro_rules! reject_codes {
    ($($(#[$doc:meta])* $variant:ident => $name:literal, $class:ident;)*) => {
        /// Every reason the executor refuses an event; `as_str` is the stable wire name.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum RejectCode {
            $($(#[$doc])* $variant,)*
        }

        impl RejectCode {
            /// Every code, in declaration order.
            pub const ALL: &'static [RejectCode] = &[$(Self::$variant,)*];

            /// The stable name sent in the `isnad-reason` metadata, e.g. `NOT_HOLDER`.
            pub fn as_str(&self) -> &'static str {
                match self {
                    $(Self::$variant => $name,)*
                }
            }

            /// The gRPC status class.
            pub fn class(&self) -> RejectClass {
                match self {
                    $(Self::$variant => RejectClass::$class,)*
                }
            }
        }
    };
}

reject_codes! {
    /// A field is malformed, empty, too long, or contradicts another field.
    InvalidField => "INVALID_FIELD", InvalidArgument;
    /// An Inspect scan does not parse.
    MalformedScan => "MALFORMED_SCAN", InvalidArgument;
    /// The signing key is not registered.
    UnknownKey => "UNKNOWN_KEY", Unauthenticated;
    /// The signing key was revoked at or before this event's index.
    KeyRevoked => "KEY_REVOKED", Unauthenticated;
    /// The signing key belongs to another party than the actor.
    KeyNotActor => "KEY_NOT_ACTOR", PermissionDenied;
    /// The actor is suspended: its keys sign nothing.
    ParticipantSuspended => "PARTICIPANT_SUSPENDED", PermissionDenied;
    /// The actor has no role that may do this.
    WrongRole => "WRONG_ROLE", PermissionDenied;
    /// The event's site is not one of the actor's sites.
    ForeignSite => "FOREIGN_SITE", PermissionDenied;
    /// The GTIN is not under one of the manufacturer's company prefixes.
    PrefixNotOwned => "PREFIX_NOT_OWNED", PermissionDenied;
    /// The actor is not the product's or lot's manufacturer.
    NotManufacturer => "NOT_MANUFACTURER", PermissionDenied;
    /// The item is held by another party or at another site.
    NotHolder => "NOT_HOLDER", FailedPrecondition;
    /// The shipment is addressed to another party or site.
    NotAddressee => "NOT_ADDRESSEE", FailedPrecondition;
    /// The shipment is no longer in transit: it was received.
    NotInTransit => "NOT_IN_TRANSIT", FailedPrecondition;
    /// The item is in transit: nobody holds it until it is received.
    InTransit => "IN_TRANSIT", FailedPrecondition;
    /// The item is inside an SSCC: it moves only with it until disaggregated.
    InContainer => "IN_CONTAINER", FailedPrecondition;
    /// The item is not directly inside the SSCC named.
    NotInContainer => "NOT_IN_CONTAINER", FailedPrecondition;
    /// The lot is recalled.
    Recalled => "RECALLED", FailedPrecondition;
    /// The lot is already recalled.
    AlreadyRecalled => "ALREADY_RECALLED", FailedPrecondition;
    /// The item was decommissioned: that is terminal.
    Decommissioned => "DECOMMISSIONED", FailedPrecondition;
    /// The lot's expiry has passed at the recorded time.
    Expired => "EXPIRED", FailedPrecondition;
    /// A commission of an existing lot gives another expiry or production date.
    LotMismatch => "LOT_MISMATCH", FailedPrecondition;
    /// The holder has less of a non-serialized lot than the event moves.
    InsufficientQuantity => "INSUFFICIENT_QUANTITY", FailedPrecondition;
    /// The participant is already suspended.
    AlreadySuspended => "ALREADY_SUSPENDED", FailedPrecondition;
    /// The participant is not suspended.
    NotSuspended => "NOT_SUSPENDED", FailedPrecondition;
    /// The key is already revoked.
    KeyAlreadyRevoked => "KEY_ALREADY_REVOKED", FailedPrecondition;
    /// The shipment's addressee is suspended or cannot hold goods.
    DestinationRefused => "DESTINATION_REFUSED", FailedPrecondition;
    /// The serial was already commissioned, or is listed twice.
    DuplicateSerial => "DUPLICATE_SERIAL", AlreadyExists;
    /// The event id was already used.
    DuplicateEventId => "DUPLICATE_EVENT_ID", AlreadyExists;
    /// The GTIN is already registered.
    ProductExists => "PRODUCT_EXISTS", AlreadyExists;
    /// The party is already admitted.
    ParticipantExists => "PARTICIPANT_EXISTS", AlreadyExists;
    /// The public key is already registered.
    KeyExists => "KEY_EXISTS", AlreadyExists;
    /// No such participant.
    UnknownParticipant => "UNKNOWN_PARTICIPANT", NotFound;
    /// The site is not one of the named party's sites.
    UnknownSite => "UNKNOWN_SITE", NotFound;
    /// The GTIN is not registered.
    UnknownProduct => "UNKNOWN_PRODUCT", NotFound;
    /// The lot was never commissioned.
    UnknownLot => "UNKNOWN_LOT", NotFound;
    /// The unit was never commissioned.
    UnknownUnit => "UNKNOWN_UNIT", NotFound;
    /// The SSCC was never packed.
    UnknownSscc => "UNKNOWN_SSCC", NotFound;
    /// No Ship event has this id.
    UnknownShipment => "UNKNOWN_SHIPMENT", NotFound;
    /// The participant has no such key.
    KeyNotFound => "KEY_NOT_FOUND", NotFound;
    /// Too many items in one event.
    TooManyItems => "TOO_MANY_ITEMS", ResourceExhausted;
    /// Too many serials in one Commission.
    TooManySerials => "TOO_MANY_SERIALS", ResourceExhausted;
    /// Logistic units would nest deeper than allowed.
    NestingTooDeep => "NESTING_TOO_DEEP", ResourceExhausted;
}

impl fmt::Display for RejectCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Roles that hold and move goods.
pub const HANDLER_ROLES: &[Role] = &[Role::Manufacturer, Role::Distributor, Role::HealthFacility];

/// The roles of which the actor needs one to sign `payload`.
pub fn allowed_roles(payload: &Payload) -> &'static [Role] {
    match payload {
        Payload::AdmitParticipant(_)
        | Payload::SuspendParticipant { .. }
        | Payload::ReinstateParticipant { .. }
        | Payload::AddKey { .. }
        | Payload::RevokeKey { .. } => &[Role::Regulator],
        Payload::RegisterProduct { .. } | Payload::Commission { .. } => &[Role::Manufacturer],
        Payload::Decommission {
            reason: DecommissionReason::Used | DecommissionReason::Dispensed,
            ..
        } => &[Role::HealthFacility],
        Payload::Aggregate { .. }
        | Payload::Disaggregate { .. }
        | Payload::Ship { .. }
        | Payload::Receive { .. }
        | Payload::Decommission { .. } => HANDLER_ROLES,
        Payload::Recall { .. } => &[Role::Manufacturer, Role::Regulator],
        Payload::Inspect { .. } => &[Role::Inspector],
    }
}

/// How much of an event the executor applies. The server applies all of it; the verifier's
/// replay of a partial history follows one unit and the SSCCs around it, skipping the items
/// whose own history it was not given, while every check on what it keeps stays the same.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Scope<'a> {
    /// The whole event.
    All,
    /// Only this unit (none: no unit) and the SSCCs present in the state.
    Follow(Option<&'a UnitId>),
}

impl Scope<'_> {
    /// Whether `item` is applied in this scope.
    fn keeps<V: StateView + ?Sized>(&self, view: &V, item: &Item) -> Result<bool, StorageError> {
        match (self, item) {
            (Scope::All, _) => Ok(true),
            (Scope::Follow(unit), Item::Unit(other)) => Ok(*unit == Some(other)),
            (Scope::Follow(_), Item::Sscc(sscc)) => Ok(view.get(&keys::sscc(sscc))?.is_some()),
            (Scope::Follow(_), Item::LotQuantity { .. }) => Ok(false),
        }
    }

    /// The items of `items` applied in this scope.
    fn filter<'i, V: StateView + ?Sized>(
        &self,
        view: &V,
        items: &'i [Item],
    ) -> Result<Vec<&'i Item>, StorageError> {
        let mut kept = Vec::with_capacity(items.len());
        for item in items {
            if self.keeps(view, item)? {
                kept.push(item);
            }
        }
        Ok(kept)
    }
}

/// Writes under construction for one event.
#[derive(Debug)]
pub(crate) struct Out {
    writes: Vec<(Vec<u8>, Option<Vec<u8>>)>,
    index: u64,
    actor: Gln,
}

impl Out {
    fn new(ctx: &Context, actor: Gln) -> Self {
        Self {
            writes: Vec::new(),
            index: ctx.index,
            actor,
        }
    }

    /// Stores `record` under `key`.
    pub fn put<T: Serialize>(&mut self, key: Vec<u8>, record: &T) {
        self.writes.push((key, Some(encode(record))));
    }

    /// Stores an empty value: the key alone is the fact.
    pub fn mark(&mut self, key: Vec<u8>) {
        self.writes.push((key, Some(Vec::new())));
    }

    /// Deletes `key`.
    pub fn delete(&mut self, key: Vec<u8>) {
        self.writes.push((key, None));
    }

    /// An index entry for this event under `key_of(index)`, with how it links its subject.
    pub fn note(&mut self, key_of: impl FnOnce(u64) -> Vec<u8>, link: Link) {
        let note = IndexNote {
            actor: self.actor,
            link,
        };
        self.put(key_of(self.index), &note);
    }

    fn into_writes(self) -> Writes {
        Writes(self.writes)
    }
}

/// Log entry 0: admits the regulator with its keys, valid from index 0.
pub fn apply_genesis(genesis: &Genesis, ctx: &Context) -> Writes {
    let mut out = Out::new(ctx, genesis.regulator.party);
    registry::admit_writes(&genesis.regulator, ctx, &mut out);
    out.into_writes()
}

/// Applies one event to `view`: the writes to commit, or why it is refused.
pub fn apply<V: StateView + ?Sized>(
    view: &V,
    event: &Event,
    ctx: &Context,
) -> Result<Writes, ApplyError> {
    apply_in_scope(view, event, ctx, Scope::All)
}

/// [`apply`] limited to `scope`.
pub(crate) fn apply_in_scope<V: StateView + ?Sized>(
    view: &V,
    event: &Event,
    ctx: &Context,
    scope: Scope<'_>,
) -> Result<Writes, ApplyError> {
    check_fields(event)?;
    if view.get(&keys::event(&event.id))?.is_some() {
        return refuse(
            RejectCode::DuplicateEventId,
            format!("event id {} was already used", hex::encode(event.id.0)),
        );
    }
    let actor = authorize(view, event, ctx)?;
    let mut out = Out::new(ctx, event.actor);
    out.put(keys::event(&event.id), &ctx.index);
    out.mark(keys::party_log(
        &event.actor,
        ctx.recorded_unix_ms,
        ctx.index,
    ));
    apply_payload(view, event, ctx, &actor, scope, &mut out)?;
    Ok(out.into_writes())
}

fn apply_payload<V: StateView + ?Sized>(
    view: &V,
    event: &Event,
    ctx: &Context,
    actor: &ParticipantRecord,
    scope: Scope<'_>,
    out: &mut Out,
) -> Result<(), ApplyError> {
    match &event.payload {
        Payload::AdmitParticipant(admit) => registry::admit(view, admit, ctx, out),
        Payload::SuspendParticipant { party, .. } => registry::suspend(view, event, party, out),
        Payload::ReinstateParticipant { party } => registry::reinstate(view, party, out),
        Payload::AddKey { party, public_key } => {
            registry::add_key(view, party, public_key, ctx, out)
        }
        Payload::RevokeKey {
            party,
            public_key,
            compromised_since_unix_ms,
        } => registry::revoke_key(
            view,
            party,
            public_key,
            *compromised_since_unix_ms,
            ctx,
            out,
        ),
        Payload::RegisterProduct {
            gtin,
            name,
            device_class,
            made_in_morocco,
        } => {
            let product = ProductRecord {
                gtin: *gtin,
                manufacturer: event.actor,
                name: name.clone(),
                device_class: *device_class,
                made_in_morocco: *made_in_morocco,
                registered_at_index: ctx.index,
            };
            goods::register_product(view, &product, actor, out)
        }
        Payload::Commission {
            lot,
            expiry,
            production_date,
            serials,
            serial_ranges,
            quantity,
        } => {
            let new = goods::NewUnits {
                lot,
                expiry: *expiry,
                production_date: *production_date,
                serials,
                serial_ranges,
                quantity: *quantity,
            };
            goods::commission(view, event, new, ctx, scope, out)
        }
        Payload::Recall { lot, .. } => goods::recall(view, event, lot, actor, ctx, out),
        Payload::Inspect { scan, .. } => goods::inspect(scan, out),
        Payload::Aggregate { sscc, items } => {
            custody::aggregate(view, event, sscc, items, ctx, scope, out)
        }
        Payload::Disaggregate { sscc, items } => {
            custody::disaggregate(view, event, sscc, items, scope, out)
        }
        Payload::Ship {
            items,
            destination_party,
            destination_site,
        } => {
            let destination = (destination_party, destination_site);
            custody::ship(view, event, items, destination, ctx, scope, out)
        }
        Payload::Receive { shipment, missing } => {
            custody::receive(view, event, shipment, missing, ctx, scope, out)
        }
        Payload::Decommission { items, reason } => {
            custody::decommission(view, event, items, *reason, scope, out)
        }
    }
}

/// The signer may act for the actor, and the actor may sign this kind of event here.
fn authorize<V: StateView + ?Sized>(
    view: &V,
    event: &Event,
    ctx: &Context,
) -> Result<ParticipantRecord, ApplyError> {
    let signer = hex::encode(ctx.signer.0);
    let Some(key) = read::<KeyRecord, _>(view, &keys::public_key(&ctx.signer))? else {
        return refuse(
            RejectCode::UnknownKey,
            format!("signing key {signer} is not registered"),
        );
    };
    if let Some(revoked) = key.revoked_at_index.filter(|revoked| *revoked <= ctx.index) {
        return refuse(
            RejectCode::KeyRevoked,
            format!("signing key {signer} was revoked at index {revoked}"),
        );
    }
    if key.party != event.actor {
        return refuse(
            RejectCode::KeyNotActor,
            format!(
                "signing key {signer} belongs to {}, not to the actor {}",
                key.party, event.actor
            ),
        );
    }
    let Some(actor) = read::<ParticipantRecord, _>(view, &keys::participant(&event.actor))? else {
        return refuse(
            RejectCode::UnknownParticipant,
            format!("actor {} is not admitted", event.actor),
        );
    };
    if actor.suspended {
        return refuse(
            RejectCode::ParticipantSuspended,
            format!("actor {} is suspended", event.actor),
        );
    }
    let allowed = allowed_roles(&event.payload);
    if !actor.roles.iter().any(|role| allowed.contains(role)) {
        return refuse(
            RejectCode::WrongRole,
            format!(
                "actor {} has roles {:?}; this event needs one of {allowed:?}",
                event.actor, actor.roles
            ),
        );
    }
    // An inspector records sightings wherever it stands; everyone else acts at its own sites.
    let inspecting = matches!(event.payload, Payload::Inspect { .. });
    if !inspecting && !actor.sites.contains(&event.site) {
        return refuse(
            RejectCode::ForeignSite,
            format!("site {} is not a site of actor {}", event.site, event.actor),
        );
    }
    Ok(actor)
}

/// Checks that need no state: sizes, limits (serials per commission, counted without
/// expanding ranges; items per event), empty lists, duplicates. [`apply`] runs them first; the
/// server also runs them on a request before it reaches the sequencer, so that an event over a
/// limit costs no sequencer time.
pub fn check_fields(event: &Event) -> Result<(), ApplyError> {
    match &event.payload {
        Payload::AdmitParticipant(admit) => registry::check_admit(admit),
        Payload::SuspendParticipant { reason, .. } => {
            check_text("reason", reason, 0, REASON_LEN_MAX)
        }
        Payload::Recall { reason, .. } => check_text("reason", reason, 0, REASON_LEN_MAX),
        Payload::RegisterProduct { name, .. } => check_text("name", name, 1, NAME_LEN_MAX),
        Payload::Commission {
            serials,
            serial_ranges,
            quantity,
            ..
        } => {
            let ranged: u64 = serial_ranges
                .iter()
                .map(|range| u64::from(range.count))
                .sum();
            let total = serials.len() as u64 + ranged;
            if total > SERIALS_PER_COMMISSION_MAX as u64 {
                return refuse(
                    RejectCode::TooManySerials,
                    format!(
                        "commission names {total} serials, at most {SERIALS_PER_COMMISSION_MAX}"
                    ),
                );
            }
            if total == 0 && *quantity == 0 {
                return refuse(
                    RejectCode::InvalidField,
                    "commission has no serials and no quantity",
                );
            }
            Ok(())
        }
        Payload::Aggregate { items, .. } => {
            check_items("items", items, 1)?;
            match items
                .iter()
                .find(|item| matches!(item, Item::LotQuantity { .. }))
            {
                Some(item) => refuse(
                    RejectCode::InvalidField,
                    format!("items: {item:?} is a lot quantity; only units and SSCCs are packed"),
                ),
                None => Ok(()),
            }
        }
        Payload::Disaggregate { items, .. } => check_items("items", items, 0),
        Payload::Ship { items, .. } | Payload::Decommission { items, .. } => {
            check_items("items", items, 1)
        }
        Payload::Receive { missing, .. } => check_items("missing", missing, 0),
        Payload::AddKey { public_key, .. } => {
            registry::check_registered_key("public_key", public_key)
        }
        Payload::ReinstateParticipant { .. }
        | Payload::RevokeKey { .. }
        | Payload::Inspect { .. } => Ok(()),
    }
}

fn check_text(field: &str, text: &str, len_min: usize, len_max: usize) -> Result<(), ApplyError> {
    let len = text.chars().count();
    if len < len_min || len > len_max {
        return refuse(
            RejectCode::InvalidField,
            format!("{field}: {len} characters, expected {len_min} to {len_max}"),
        );
    }
    Ok(())
}

fn check_items(field: &str, items: &[Item], len_min: usize) -> Result<(), ApplyError> {
    if items.len() > ITEMS_PER_EVENT_MAX {
        return refuse(
            RejectCode::TooManyItems,
            format!(
                "{field}: {} items, at most {ITEMS_PER_EVENT_MAX}",
                items.len()
            ),
        );
    }
    if items.len() < len_min {
        return refuse(RejectCode::InvalidField, format!("{field}: no items"));
    }
    let mut seen = std::collections::HashSet::with_capacity(items.len());
    for item in items {
        let identity = match item {
            Item::LotQuantity { quantity: 0, lot } => {
                return refuse(
                    RejectCode::InvalidField,
                    format!("{field}: quantity 0 of lot {}", lot.lot),
                );
            }
            // Two quantities of one lot would be one move written twice.
            Item::LotQuantity { lot, .. } => Item::LotQuantity {
                lot: lot.clone(),
                quantity: 0,
            },
            other => other.clone(),
        };
        if !seen.insert(identity) {
            return refuse(
                RejectCode::InvalidField,
                format!("{field}: {item:?} is listed twice"),
            );
        }
    }
    Ok(())
}

/// Checks a company prefix: 6 to 12 digits.
pub(crate) fn check_company_prefix(prefix: &str) -> Result<(), ApplyError> {
    let digits = prefix.chars().all(|c| c.is_ascii_digit());
    if !digits || !COMPANY_PREFIX_DIGITS.contains(&prefix.len()) {
        return refuse(
            RejectCode::InvalidField,
            format!(
                "company_prefixes: {} is not 6 to 12 digits",
                crate::limits::excerpt(prefix)
            ),
        );
    }
    Ok(())
}

/// Checks a participant list's length against [`PARTICIPANT_LIST_MAX`] and for duplicates.
pub(crate) fn check_list<T: PartialEq + fmt::Debug>(
    field: &str,
    list: &[T],
    len_min: usize,
) -> Result<(), ApplyError> {
    if list.len() < len_min || list.len() > PARTICIPANT_LIST_MAX {
        return refuse(
            RejectCode::InvalidField,
            format!(
                "{field}: {} entries, expected {len_min} to {PARTICIPANT_LIST_MAX}",
                list.len()
            ),
        );
    }
    for (position, entry) in list.iter().enumerate() {
        if list[..position].contains(entry) {
            return refuse(
                RejectCode::InvalidField,
                format!("{field}: {entry:?} is listed twice"),
            );
        }
    }
    Ok(())
}

/// The lot record of `lot`, or `UNKNOWN_LOT`.
pub(crate) fn load_lot<V: StateView + ?Sized>(
    view: &V,
    lot: &LotId,
) -> Result<LotRecord, ApplyError> {
    match read::<LotRecord, _>(view, &keys::lot(lot))? {
        Some(record) => Ok(record),
        None => refuse(
            RejectCode::UnknownLot,
            format!(
                "lot {} of GTIN {} was never commissioned",
                lot.lot, lot.gtin
            ),
        ),
    }
}

/// A recalled or expired lot does not move.
pub(crate) fn check_lot_movable(
    lot: &LotRecord,
    ctx: &Context,
    what: &str,
) -> Result<(), ApplyError> {
    if let Some(index) = lot.recalled_at_index {
        return refuse(
            RejectCode::Recalled,
            format!("{what}: lot {} was recalled at index {index}", lot.lot.lot),
        );
    }
    if lot_expired(lot, ctx.recorded_unix_ms) {
        return refuse(
            RejectCode::Expired,
            format!(
                "{what}: lot {} expired ({})",
                lot.lot.lot,
                lot.expiry.to_iso(year_of_unix_ms(ctx.recorded_unix_ms))
            ),
        );
    }
    Ok(())
}

/// Whether the lot's expiry has passed at `unix_ms` (GS1 century rule, reference year taken
/// from `unix_ms`).
pub(crate) fn lot_expired(lot: &LotRecord, unix_ms: i64) -> bool {
    lot.expiry.end_unix_ms(year_of_unix_ms(unix_ms)) <= unix_ms
}
