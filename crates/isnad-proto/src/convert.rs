//! Conversions between `isnad.v1` wire messages and `isnad-core` domain types.
//!
//! Wire to domain validates everything (identifiers, enums, lengths) and names the field that
//! is wrong. Domain to wire never fails.

use isnad_core::envelope::{self, EntryKind};
use isnad_core::event::{
    Admit, DecommissionReason, DeviceClass, Event, EventId, Genesis, Item, LotId, Payload,
    PublicKey, ReasonCode, Role, SerialRange, UnitId,
};
use isnad_core::gs1::{ALPHANUMERIC_LEN_MAX, Gln, Gs1Date, Serial, is_charset82};
use isnad_core::queries::{Participant, Shipment};
use isnad_core::verdict::{HistoryEntry, HistoryKind, UnitStatus, UnitView};
use prost::Message;

use crate::pb;
use crate::pb::event_body::Payload as PbPayload;

/// Why a wire message could not become a domain value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConvertError {
    /// The bytes are not a valid protobuf encoding of the message.
    #[error("{message}: not a valid protobuf encoding: {reason}")]
    Decode {
        /// The message type that was expected.
        message: &'static str,
        /// What the protobuf decoder said.
        reason: String,
    },
    /// A field is missing or holds a value the domain refuses.
    #[error("{field}: {problem}")]
    Field {
        /// The field's path, such as `commission.serials[3]`.
        field: String,
        /// What is wrong with it.
        problem: String,
    },
}

impl ConvertError {
    fn field(field: impl Into<String>, problem: impl ToString) -> Self {
        Self::Field {
            field: field.into(),
            problem: problem.to_string(),
        }
    }

    /// The field this error names, when it names one.
    pub fn field_name(&self) -> Option<&str> {
        match self {
            Self::Decode { .. } => None,
            Self::Field { field, .. } => Some(field),
        }
    }
}

type Result<T> = std::result::Result<T, ConvertError>;

/// Decodes and validates signed `EventBody` bytes into a domain event.
pub fn decode_event_body(body: &[u8]) -> Result<Event> {
    let wire = pb::EventBody::decode(body).map_err(|e| ConvertError::Decode {
        message: "EventBody",
        reason: e.to_string(),
    })?;
    event_from_wire(&wire)
}

/// Encodes a domain event as `EventBody` bytes, ready to sign.
pub fn encode_event_body(event: &Event) -> Vec<u8> {
    event_to_wire(event).encode_to_vec()
}

/// Decodes and validates the genesis message carried by log entry 0.
pub fn decode_genesis(bytes: &[u8]) -> Result<Genesis> {
    let wire = pb::Genesis::decode(bytes).map_err(|e| ConvertError::Decode {
        message: "Genesis",
        reason: e.to_string(),
    })?;
    let regulator = wire
        .regulator
        .as_ref()
        .ok_or_else(|| ConvertError::field("genesis.regulator", "missing"))?;
    Ok(Genesis {
        origin: non_empty("genesis.origin", &wire.origin)?,
        log_public_key: public_key("genesis.log_public_key", &wire.log_public_key)?,
        regulator: admit_from_wire("genesis.regulator", regulator)?,
        created_unix_ms: wire.created_unix_ms,
    })
}

/// Encodes the genesis message for log entry 0.
pub fn encode_genesis(genesis: &Genesis) -> Vec<u8> {
    pb::Genesis {
        origin: genesis.origin.clone(),
        log_public_key: genesis.log_public_key.0.to_vec(),
        regulator: Some(admit_to_wire(&genesis.regulator)),
        created_unix_ms: genesis.created_unix_ms,
    }
    .encode_to_vec()
}

/// Converts a wire event body into a domain event.
pub fn event_from_wire(wire: &pb::EventBody) -> Result<Event> {
    let id: [u8; 16] = wire.event_id.as_slice().try_into().map_err(|_| {
        ConvertError::field(
            "event_id",
            format!("{} bytes, expected 16", wire.event_id.len()),
        )
    })?;
    let payload = wire
        .payload
        .as_ref()
        .ok_or_else(|| ConvertError::field("payload", "missing"))?;
    Ok(Event {
        id: EventId(id),
        event_time_unix_ms: wire.event_time_unix_ms,
        actor: gs1("actor", &wire.actor)?,
        site: gs1("site", &wire.site)?,
        payload: payload_from_wire(payload)?,
    })
}

fn payload_from_wire(payload: &PbPayload) -> Result<Payload> {
    Ok(match payload {
        PbPayload::AdmitParticipant(p) => {
            Payload::AdmitParticipant(admit_from_wire("admit_participant", p)?)
        }
        PbPayload::SuspendParticipant(p) => Payload::SuspendParticipant {
            party: gs1("suspend_participant.party", &p.party)?,
            reason: p.reason.clone(),
        },
        PbPayload::ReinstateParticipant(p) => Payload::ReinstateParticipant {
            party: gs1("reinstate_participant.party", &p.party)?,
        },
        PbPayload::AddKey(p) => Payload::AddKey {
            party: gs1("add_key.party", &p.party)?,
            public_key: public_key("add_key.public_key", &p.public_key)?,
        },
        PbPayload::RevokeKey(p) => Payload::RevokeKey {
            party: gs1("revoke_key.party", &p.party)?,
            public_key: public_key("revoke_key.public_key", &p.public_key)?,
            compromised_since_unix_ms: (p.compromised_since_unix_ms != 0)
                .then_some(p.compromised_since_unix_ms),
        },
        PbPayload::RegisterProduct(p) => Payload::RegisterProduct {
            gtin: gs1("register_product.gtin", &p.gtin)?,
            name: non_empty("register_product.name", &p.name)?,
            device_class: device_class_from_wire(p.device_class)?,
            made_in_morocco: p.made_in_morocco,
        },
        PbPayload::Commission(p) => commission_from_wire(p)?,
        PbPayload::Aggregate(p) => Payload::Aggregate {
            sscc: gs1("aggregate.sscc", &p.sscc)?,
            items: items_from_wire("aggregate.items", &p.items)?,
        },
        PbPayload::Disaggregate(p) => Payload::Disaggregate {
            sscc: gs1("disaggregate.sscc", &p.sscc)?,
            items: items_from_wire("disaggregate.items", &p.items)?,
        },
        PbPayload::Ship(p) => Payload::Ship {
            items: items_from_wire("ship.items", &p.items)?,
            destination_party: gs1("ship.destination_party", &p.destination_party)?,
            destination_site: gs1("ship.destination_site", &p.destination_site)?,
        },
        PbPayload::Receive(p) => Payload::Receive {
            shipment: EventId(p.shipment_id.as_slice().try_into().map_err(|_| {
                ConvertError::field(
                    "receive.shipment_id",
                    format!("{} bytes, expected 16", p.shipment_id.len()),
                )
            })?),
            missing: items_from_wire("receive.missing", &p.missing)?,
        },
        PbPayload::Decommission(p) => Payload::Decommission {
            items: items_from_wire("decommission.items", &p.items)?,
            reason: decommission_reason_from_wire(p.reason)?,
        },
        PbPayload::Recall(p) => Payload::Recall {
            lot: LotId {
                gtin: gs1("recall.gtin", &p.gtin)?,
                lot: gs1("recall.lot", &p.lot)?,
            },
            reason: p.reason.clone(),
        },
        PbPayload::Inspect(p) => Payload::Inspect {
            scan: non_empty("inspect.scan", &p.scan)?,
            verdict_seen: reason_code_from_wire(p.verdict_seen).ok_or_else(|| {
                ConvertError::field("inspect.verdict_seen", "unspecified or unknown")
            })?,
        },
    })
}

fn commission_from_wire(p: &pb::Commission) -> Result<Payload> {
    let serials = p
        .serials
        .iter()
        .enumerate()
        .map(|(i, s)| gs1(&format!("commission.serials[{i}]"), s))
        .collect::<Result<Vec<Serial>>>()?;
    let serial_ranges = p
        .serial_ranges
        .iter()
        .enumerate()
        .map(|(i, r)| serial_range_from_wire(&format!("commission.serial_ranges[{i}]"), r))
        .collect::<Result<Vec<SerialRange>>>()?;
    let production_date = if p.production_date.is_empty() {
        None
    } else {
        Some(
            Gs1Date::parse_for(&p.production_date, "11")
                .map_err(|e| ConvertError::field("commission.production_date", e))?,
        )
    };
    Ok(Payload::Commission {
        lot: LotId {
            gtin: gs1("commission.gtin", &p.gtin)?,
            lot: gs1("commission.lot", &p.lot)?,
        },
        expiry: gs1("commission.expiry", &p.expiry)?,
        production_date,
        serials,
        serial_ranges,
        quantity: p.quantity,
    })
}

/// Converts one serial range. Every serial it names must be a valid GS1 serial: the prefix
/// is of character set 82, the number part is no wider than a serial, and prefix plus number
/// fit [`ALPHANUMERIC_LEN_MAX`] characters for the range's first and last number (the longest
/// one). Checked here, before any serial is formatted, so that a width or a count from the
/// wire never reaches the executor unchecked.
fn serial_range_from_wire(field: &str, r: &pb::SerialRange) -> Result<SerialRange> {
    if r.count == 0 {
        return Err(ConvertError::field(
            format!("{field}.count"),
            "must be positive",
        ));
    }
    if let Some(c) = r.prefix.chars().find(|c| !is_charset82(*c)) {
        return Err(ConvertError::field(
            format!("{field}.prefix"),
            format!("{c:?} is not in GS1 character set 82"),
        ));
    }
    let prefix_len = r.prefix.chars().count();
    if prefix_len >= ALPHANUMERIC_LEN_MAX {
        return Err(ConvertError::field(
            format!("{field}.prefix"),
            format!(
                "{prefix_len} characters; a serial is at most {ALPHANUMERIC_LEN_MAX}, number included"
            ),
        ));
    }
    let width_max = ALPHANUMERIC_LEN_MAX - prefix_len;
    if r.width as usize > width_max {
        return Err(ConvertError::field(
            format!("{field}.width"),
            format!(
                "{} digits; with a prefix of {prefix_len} characters at most {width_max}",
                r.width
            ),
        ));
    }
    let last = r.first.checked_add(u64::from(r.count) - 1).ok_or_else(|| {
        ConvertError::field(
            format!("{field}.count"),
            format!("{} + {} overflows", r.first, r.count),
        )
    })?;
    let digits = last.to_string().len().max(r.width as usize);
    if prefix_len + digits > ALPHANUMERIC_LEN_MAX {
        return Err(ConvertError::field(
            format!("{field}.count"),
            format!(
                "the last serial has {} characters; at most {ALPHANUMERIC_LEN_MAX}",
                prefix_len + digits
            ),
        ));
    }
    Ok(SerialRange {
        prefix: r.prefix.clone(),
        first: r.first,
        count: r.count,
        width: r.width,
    })
}

fn admit_from_wire(field: &str, p: &pb::AdmitParticipant) -> Result<Admit> {
    let roles = p
        .roles
        .iter()
        .enumerate()
        .map(|(i, r)| {
            role_from_wire(*r).ok_or_else(|| {
                ConvertError::field(format!("{field}.roles[{i}]"), "unspecified or unknown role")
            })
        })
        .collect::<Result<Vec<Role>>>()?;
    if roles.is_empty() {
        return Err(ConvertError::field(
            format!("{field}.roles"),
            "at least one role is needed",
        ));
    }
    let sites = p
        .sites
        .iter()
        .enumerate()
        .map(|(i, s)| gs1(&format!("{field}.sites[{i}]"), s))
        .collect::<Result<Vec<Gln>>>()?;
    for (i, prefix) in p.company_prefixes.iter().enumerate() {
        if !(6..=12).contains(&prefix.len()) || !prefix.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ConvertError::field(
                format!("{field}.company_prefixes[{i}]"),
                "a GS1 company prefix is 6 to 12 digits",
            ));
        }
    }
    let public_keys = p
        .public_keys
        .iter()
        .enumerate()
        .map(|(i, k)| public_key(&format!("{field}.public_keys[{i}]"), k))
        .collect::<Result<Vec<PublicKey>>>()?;
    Ok(Admit {
        party: gs1(&format!("{field}.party"), &p.party)?,
        name: non_empty(&format!("{field}.name"), &p.name)?,
        roles,
        sites,
        company_prefixes: p.company_prefixes.clone(),
        public_keys,
    })
}

fn items_from_wire(field: &str, items: &[pb::ItemRef]) -> Result<Vec<Item>> {
    items
        .iter()
        .enumerate()
        .map(|(i, item)| item_from_wire(&format!("{field}[{i}]"), item))
        .collect()
}

/// Converts one wire item reference.
pub fn item_from_wire(field: &str, item: &pb::ItemRef) -> Result<Item> {
    use pb::item_ref::Item as PbItem;
    match item
        .item
        .as_ref()
        .ok_or_else(|| ConvertError::field(field, "empty item"))?
    {
        PbItem::Unit(u) => Ok(Item::Unit(unit_from_wire(field, u)?)),
        PbItem::Sscc(s) => Ok(Item::Sscc(gs1(&format!("{field}.sscc"), s)?)),
        PbItem::LotQuantity(q) => {
            if q.quantity == 0 {
                return Err(ConvertError::field(
                    format!("{field}.lot_quantity.quantity"),
                    "must be positive",
                ));
            }
            Ok(Item::LotQuantity {
                lot: LotId {
                    gtin: gs1(&format!("{field}.lot_quantity.gtin"), &q.gtin)?,
                    lot: gs1(&format!("{field}.lot_quantity.lot"), &q.lot)?,
                },
                quantity: q.quantity,
            })
        }
    }
}

/// Converts a wire unit reference.
pub fn unit_from_wire(field: &str, u: &pb::UnitRef) -> Result<UnitId> {
    Ok(UnitId {
        gtin: gs1(&format!("{field}.gtin"), &u.gtin)?,
        serial: gs1(&format!("{field}.serial"), &u.serial)?,
    })
}

/// Converts a domain event into its wire body.
pub fn event_to_wire(event: &Event) -> pb::EventBody {
    pb::EventBody {
        event_id: event.id.0.to_vec(),
        event_time_unix_ms: event.event_time_unix_ms,
        actor: event.actor.to_string(),
        site: event.site.to_string(),
        payload: Some(payload_to_wire(&event.payload)),
    }
}

fn payload_to_wire(payload: &Payload) -> PbPayload {
    match payload {
        Payload::AdmitParticipant(a) => PbPayload::AdmitParticipant(admit_to_wire(a)),
        Payload::SuspendParticipant { party, reason } => {
            PbPayload::SuspendParticipant(pb::SuspendParticipant {
                party: party.to_string(),
                reason: reason.clone(),
            })
        }
        Payload::ReinstateParticipant { party } => {
            PbPayload::ReinstateParticipant(pb::ReinstateParticipant {
                party: party.to_string(),
            })
        }
        Payload::AddKey { party, public_key } => PbPayload::AddKey(pb::AddKey {
            party: party.to_string(),
            public_key: public_key.0.to_vec(),
        }),
        Payload::RevokeKey {
            party,
            public_key,
            compromised_since_unix_ms,
        } => PbPayload::RevokeKey(pb::RevokeKey {
            party: party.to_string(),
            public_key: public_key.0.to_vec(),
            compromised_since_unix_ms: compromised_since_unix_ms.unwrap_or(0),
        }),
        Payload::RegisterProduct {
            gtin,
            name,
            device_class,
            made_in_morocco,
        } => PbPayload::RegisterProduct(pb::RegisterProduct {
            gtin: gtin.to_string(),
            name: name.clone(),
            device_class: device_class_to_wire(*device_class) as i32,
            made_in_morocco: *made_in_morocco,
        }),
        Payload::Commission {
            lot,
            expiry,
            production_date,
            serials,
            serial_ranges,
            quantity,
        } => PbPayload::Commission(pb::Commission {
            gtin: lot.gtin.to_string(),
            lot: lot.lot.to_string(),
            expiry: expiry.to_string(),
            production_date: production_date.map(|d| d.to_string()).unwrap_or_default(),
            serials: serials.iter().map(ToString::to_string).collect(),
            serial_ranges: serial_ranges
                .iter()
                .map(|r| pb::SerialRange {
                    prefix: r.prefix.clone(),
                    first: r.first,
                    count: r.count,
                    width: r.width,
                })
                .collect(),
            quantity: *quantity,
        }),
        Payload::Aggregate { sscc, items } => PbPayload::Aggregate(pb::Aggregate {
            sscc: sscc.to_string(),
            items: items_to_wire(items),
        }),
        Payload::Disaggregate { sscc, items } => PbPayload::Disaggregate(pb::Disaggregate {
            sscc: sscc.to_string(),
            items: items_to_wire(items),
        }),
        Payload::Ship {
            items,
            destination_party,
            destination_site,
        } => PbPayload::Ship(pb::Ship {
            items: items_to_wire(items),
            destination_party: destination_party.to_string(),
            destination_site: destination_site.to_string(),
        }),
        Payload::Receive { shipment, missing } => PbPayload::Receive(pb::Receive {
            shipment_id: shipment.0.to_vec(),
            missing: items_to_wire(missing),
        }),
        Payload::Decommission { items, reason } => PbPayload::Decommission(pb::Decommission {
            items: items_to_wire(items),
            reason: decommission_reason_to_wire(*reason) as i32,
        }),
        Payload::Recall { lot, reason } => PbPayload::Recall(pb::Recall {
            gtin: lot.gtin.to_string(),
            lot: lot.lot.to_string(),
            reason: reason.clone(),
        }),
        Payload::Inspect { scan, verdict_seen } => PbPayload::Inspect(pb::Inspect {
            scan: scan.clone(),
            verdict_seen: reason_code_to_wire(*verdict_seen) as i32,
        }),
    }
}

fn admit_to_wire(a: &Admit) -> pb::AdmitParticipant {
    pb::AdmitParticipant {
        party: a.party.to_string(),
        name: a.name.clone(),
        roles: a.roles.iter().map(|r| role_to_wire(*r) as i32).collect(),
        sites: a.sites.iter().map(ToString::to_string).collect(),
        company_prefixes: a.company_prefixes.clone(),
        public_keys: a.public_keys.iter().map(|k| k.0.to_vec()).collect(),
    }
}

/// Converts domain items into wire item references.
pub fn items_to_wire(items: &[Item]) -> Vec<pb::ItemRef> {
    items.iter().map(item_to_wire).collect()
}

/// Converts one domain item into a wire item reference.
pub fn item_to_wire(item: &Item) -> pb::ItemRef {
    use pb::item_ref::Item as PbItem;
    let inner = match item {
        Item::Unit(u) => PbItem::Unit(unit_to_wire(u)),
        Item::Sscc(s) => PbItem::Sscc(s.to_string()),
        Item::LotQuantity { lot, quantity } => PbItem::LotQuantity(pb::LotQuantity {
            gtin: lot.gtin.to_string(),
            lot: lot.lot.to_string(),
            quantity: *quantity,
        }),
    };
    pb::ItemRef { item: Some(inner) }
}

/// Converts a domain unit id into a wire unit reference.
pub fn unit_to_wire(u: &UnitId) -> pb::UnitRef {
    pb::UnitRef {
        gtin: u.gtin.to_string(),
        serial: u.serial.to_string(),
    }
}

/// Decodes a log entry into the history form the verdict replays: its recorded time, its
/// signer and its validated event (or genesis).
pub fn decode_history_entry(index: u64, entry: &[u8]) -> Result<HistoryEntry> {
    let decoded = envelope::decode_entry(entry).map_err(|e| ConvertError::Decode {
        message: "log entry",
        reason: e.to_string(),
    })?;
    let (signer, kind) = match decoded.kind {
        EntryKind::Genesis { genesis } => (None, HistoryKind::Genesis(decode_genesis(genesis)?)),
        EntryKind::Event {
            public_key, body, ..
        } => (
            Some(PublicKey(public_key)),
            HistoryKind::Event(decode_event_body(body)?),
        ),
    };
    Ok(HistoryEntry {
        index,
        recorded_unix_ms: decoded.recorded_unix_ms,
        signer,
        kind,
    })
}

/// A participant as the registry serves it.
pub fn participant_to_wire(p: &Participant) -> pb::Participant {
    pb::Participant {
        party: p.party.to_string(),
        name: p.name.clone(),
        roles: p.roles.iter().map(|r| role_to_wire(*r) as i32).collect(),
        sites: p.sites.iter().map(ToString::to_string).collect(),
        company_prefixes: p.company_prefixes.clone(),
        status: if p.suspended {
            pb::ParticipantStatus::Suspended
        } else {
            pb::ParticipantStatus::Active
        } as i32,
        keys: p
            .keys
            .iter()
            .map(|k| pb::KeyInfo {
                public_key: k.public_key.0.to_vec(),
                valid_from_index: k.valid_from_index,
                revoked_at_index: k.revoked_at_index.unwrap_or(0),
                compromised_since_unix_ms: k.compromised_since_unix_ms.unwrap_or(0),
            })
            .collect(),
    }
}

/// A unit's resolved state on the wire.
pub fn unit_view_to_wire(view: &UnitView) -> pb::UnitState {
    let status = match view.status {
        UnitStatus::Active => pb::UnitStatus::UnitActive,
        UnitStatus::InTransit => pb::UnitStatus::UnitInTransit,
        UnitStatus::Decommissioned => pb::UnitStatus::UnitDecommissioned,
        UnitStatus::Recalled => pb::UnitStatus::UnitRecalled,
        UnitStatus::Expired => pb::UnitStatus::UnitExpired,
    };
    let (destination_party, destination_site) = view
        .destination
        .map(|(party, site)| (party.to_string(), site.to_string()))
        .unwrap_or_default();
    pb::UnitState {
        gtin: view.unit.gtin.to_string(),
        serial: view.unit.serial.to_string(),
        lot: view.lot.to_string(),
        expiry: view.expiry.to_string(),
        status: status as i32,
        holder: view.holder.to_string(),
        site: view.site.to_string(),
        container: view.container.map(|c| c.to_string()).unwrap_or_default(),
        destination_party,
        destination_site,
        decommission_reason: view
            .decommission_reason
            .map(|r| decommission_reason_to_wire(r) as i32)
            .unwrap_or(0),
    }
}

/// A shipment on the wire.
pub fn shipment_to_wire(s: &Shipment) -> pb::Shipment {
    pb::Shipment {
        shipment_id: s.id.0.to_vec(),
        from_party: s.from_party.to_string(),
        from_site: s.from_site.to_string(),
        destination_party: s.destination_party.to_string(),
        destination_site: s.destination_site.to_string(),
        items: items_to_wire(&s.items),
        shipped_at_index: s.shipped_at_index,
    }
}

/// Parses a GS1 value of any identifier type, naming the field on failure.
pub fn gs1<T>(field: &str, value: &str) -> Result<T>
where
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    if value.is_empty() {
        return Err(ConvertError::field(field, "missing"));
    }
    value.parse().map_err(|e| ConvertError::field(field, e))
}

fn non_empty(field: &str, value: &str) -> Result<String> {
    if value.trim().is_empty() {
        return Err(ConvertError::field(field, "missing"));
    }
    Ok(value.to_owned())
}

fn public_key(field: &str, bytes: &[u8]) -> Result<PublicKey> {
    let key: [u8; 32] = bytes
        .try_into()
        .map_err(|_| ConvertError::field(field, format!("{} bytes, expected 32", bytes.len())))?;
    Ok(PublicKey(key))
}

macro_rules! enum_mapping {
    ($to:ident, $from:ident, $domain:ty, $wire:ty, [$($d:ident => $w:ident),* $(,)?]) => {
        /// Converts the domain value into its wire enum.
        pub fn $to(value: $domain) -> $wire {
            match value { $(<$domain>::$d => <$wire>::$w),* }
        }
        /// Converts a wire enum value; `None` for unspecified or unknown values.
        pub fn $from(value: i32) -> Option<$domain> {
            match <$wire>::try_from(value).ok()? { $(<$wire>::$w => Some(<$domain>::$d),)* #[allow(unreachable_patterns)] _ => None }
        }
    };
}

enum_mapping!(role_to_wire, role_from_wire, Role, pb::Role, [
    Regulator => Regulator,
    Manufacturer => Manufacturer,
    Distributor => Distributor,
    HealthFacility => HealthFacility,
    Inspector => Inspector,
    Auditor => Auditor,
]);

enum_mapping!(device_class_to_wire, device_class_from_wire_opt, DeviceClass, pb::DeviceClass, [
    ClassI => ClassI,
    ClassIIa => ClassIia,
    ClassIIb => ClassIib,
    ClassIII => ClassIii,
    InVitroDiagnostic => InVitroDiagnostic,
    MedicinalProduct => MedicinalProduct,
]);

enum_mapping!(decommission_reason_to_wire, decommission_reason_from_wire_opt, DecommissionReason, pb::DecommissionReason, [
    Used => Used,
    Dispensed => Dispensed,
    Destroyed => Destroyed,
    Exported => Exported,
    Stolen => Stolen,
    Sample => Sample,
]);

enum_mapping!(reason_code_to_wire, reason_code_from_wire, ReasonCode, pb::ReasonCode, [
    Genuine => Genuine,
    UnknownProduct => UnknownProduct,
    UnknownSerial => UnknownSerial,
    UnknownLot => UnknownLot,
    LotMismatch => LotMismatch,
    ExpiryMismatch => ExpiryMismatch,
    AlreadyDecommissioned => AlreadyDecommissioned,
    Recalled => Recalled,
    Expired => Expired,
    InTransit => InTransit,
    CustodyMismatch => CustodyMismatch,
    SuspendedHolder => SuspendedHolder,
    DuplicateSighting => DuplicateSighting,
    CompromisedSigner => CompromisedSigner,
    MalformedScan => MalformedScan,
]);

fn device_class_from_wire(value: i32) -> Result<DeviceClass> {
    device_class_from_wire_opt(value).ok_or_else(|| {
        ConvertError::field("register_product.device_class", "unspecified or unknown")
    })
}

fn decommission_reason_from_wire(value: i32) -> Result<DecommissionReason> {
    decommission_reason_from_wire_opt(value)
        .ok_or_else(|| ConvertError::field("decommission.reason", "unspecified or unknown"))
}

#[cfg(test)]
mod tests;
