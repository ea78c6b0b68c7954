//! Events: the domain form of every signed `EventBody`, validated on the way in.
//!
//! These are not the wire types (those are generated in `isnad-proto`, which converts into
//! these) and not the storage encoding: the log stores the signed bytes exactly as received.

use serde::{Deserialize, Serialize};

use crate::gs1::{Gln, Gs1Date, Gtin, Lot, Serial, Sscc};

/// 16 random bytes, unique forever.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
pub struct EventId(pub [u8; 16]);

/// An Ed25519 public key (32 bytes, not yet checked to be a valid point).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
pub struct PublicKey(pub [u8; 32]);

/// What a participant may do.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
pub enum Role {
    /// Admits participants, manages keys and suspensions, recalls lots.
    Regulator,
    /// Registers products under its company prefixes, commissions and recalls its lots.
    Manufacturer,
    /// Holds and moves goods between parties.
    Distributor,
    /// A hospital or pharmacy: holds goods, and the only one that uses or dispenses them.
    HealthFacility,
    /// Records sightings anywhere.
    Inspector,
    /// Reads the whole log and every party's events to check the circuit; signs no goods or
    /// registry events (the rules refuse them with `WRONG_ROLE`).
    Auditor,
}

/// Medical device class (EU MDR / IVDR style) or a medicinal product.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub enum DeviceClass {
    ClassI,
    ClassIIa,
    ClassIIb,
    ClassIII,
    InVitroDiagnostic,
    MedicinalProduct,
}

/// Why a unit left the circuit. Terminal.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub enum DecommissionReason {
    /// Used on a patient (health facilities only).
    Used,
    /// Dispensed to a patient (health facilities only).
    Dispensed,
    /// Destroyed, for instance after a recall or expiry.
    Destroyed,
    /// Left the country.
    Exported,
    /// Reported stolen by its holder.
    Stolen,
    /// Taken as a sample.
    Sample,
}

/// Verification reason codes, in the order and with the names of the proto enum.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
pub enum ReasonCode {
    Genuine,
    UnknownProduct,
    UnknownSerial,
    UnknownLot,
    LotMismatch,
    ExpiryMismatch,
    AlreadyDecommissioned,
    Recalled,
    Expired,
    InTransit,
    CustodyMismatch,
    SuspendedHolder,
    DuplicateSighting,
    CompromisedSigner,
    MalformedScan,
}

impl ReasonCode {
    /// Every code, in proto order (proto value = position + 1).
    pub const ALL: [ReasonCode; 15] = [
        Self::Genuine,
        Self::UnknownProduct,
        Self::UnknownSerial,
        Self::UnknownLot,
        Self::LotMismatch,
        Self::ExpiryMismatch,
        Self::AlreadyDecommissioned,
        Self::Recalled,
        Self::Expired,
        Self::InTransit,
        Self::CustodyMismatch,
        Self::SuspendedHolder,
        Self::DuplicateSighting,
        Self::CompromisedSigner,
        Self::MalformedScan,
    ];

    /// The stable name, as in the proto enum: `GENUINE`, `UNKNOWN_PRODUCT`, ...
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Genuine => "GENUINE",
            Self::UnknownProduct => "UNKNOWN_PRODUCT",
            Self::UnknownSerial => "UNKNOWN_SERIAL",
            Self::UnknownLot => "UNKNOWN_LOT",
            Self::LotMismatch => "LOT_MISMATCH",
            Self::ExpiryMismatch => "EXPIRY_MISMATCH",
            Self::AlreadyDecommissioned => "ALREADY_DECOMMISSIONED",
            Self::Recalled => "RECALLED",
            Self::Expired => "EXPIRED",
            Self::InTransit => "IN_TRANSIT",
            Self::CustodyMismatch => "CUSTODY_MISMATCH",
            Self::SuspendedHolder => "SUSPENDED_HOLDER",
            Self::DuplicateSighting => "DUPLICATE_SIGHTING",
            Self::CompromisedSigner => "COMPROMISED_SIGNER",
            Self::MalformedScan => "MALFORMED_SCAN",
        }
    }
}

/// One unit: GTIN + serial.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
pub struct UnitId {
    /// The product.
    pub gtin: Gtin,
    /// The unit's serial within the product.
    pub serial: Serial,
}

/// One lot: GTIN + lot number.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
pub struct LotId {
    /// The product.
    pub gtin: Gtin,
    /// The lot number within the product.
    pub lot: Lot,
}

/// Something a handler moves.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub enum Item {
    /// A serialized unit.
    Unit(UnitId),
    /// A logistic unit with everything inside it.
    Sscc(Sscc),
    /// A quantity of a lot that is not serialized.
    LotQuantity { lot: LotId, quantity: u64 },
}

/// Serials `prefix + zero-padded decimal(first + i, width)` for `i in 0..count`.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct SerialRange {
    /// Text before the number.
    pub prefix: String,
    /// The first number.
    pub first: u64,
    /// How many serials.
    pub count: u32,
    /// Digits of the number part, zero-padded; 0 means no padding.
    pub width: u32,
}

/// A participant as the regulator admits it.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Admit {
    /// Its identity, the party GLN.
    pub party: Gln,
    /// Its name, as the regulator admits it.
    pub name: String,
    /// What it may do.
    pub roles: Vec<Role>,
    /// Location GLNs it acts from.
    pub sites: Vec<Gln>,
    /// GS1 company prefixes (6 to 12 digits) for a manufacturer's GTINs.
    pub company_prefixes: Vec<String>,
    /// Ed25519 keys, valid from this entry's log index.
    pub public_keys: Vec<PublicKey>,
}

/// The type-specific part of an event.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum Payload {
    AdmitParticipant(Admit),
    SuspendParticipant {
        party: Gln,
        reason: String,
    },
    ReinstateParticipant {
        party: Gln,
    },
    AddKey {
        party: Gln,
        public_key: PublicKey,
    },
    RevokeKey {
        party: Gln,
        public_key: PublicKey,
        /// Known compromised since this recorded time: events it signed since are suspect.
        compromised_since_unix_ms: Option<i64>,
    },
    RegisterProduct {
        gtin: Gtin,
        name: String,
        device_class: DeviceClass,
        made_in_morocco: bool,
    },
    Commission {
        lot: LotId,
        expiry: Gs1Date,
        production_date: Option<Gs1Date>,
        serials: Vec<Serial>,
        serial_ranges: Vec<SerialRange>,
        /// Units not serialized.
        quantity: u64,
    },
    Aggregate {
        sscc: Sscc,
        items: Vec<Item>,
    },
    Disaggregate {
        sscc: Sscc,
        /// Empty means everything inside.
        items: Vec<Item>,
    },
    Ship {
        items: Vec<Item>,
        destination_party: Gln,
        destination_site: Gln,
    },
    Receive {
        /// The shipment is named by the id of its Ship event.
        shipment: EventId,
        /// Items that did not arrive: they stay in transit, reported as a discrepancy.
        missing: Vec<Item>,
    },
    Decommission {
        items: Vec<Item>,
        reason: DecommissionReason,
    },
    Recall {
        lot: LotId,
        reason: String,
    },
    Inspect {
        /// The scan as read, in any of the three forms.
        scan: String,
        verdict_seen: ReasonCode,
    },
}

/// A validated event body.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Event {
    /// Unique forever: a resubmission with the same id is the same event.
    pub id: EventId,
    /// The client's clock: recorded, never trusted for rules.
    pub event_time_unix_ms: i64,
    /// The acting party.
    pub actor: Gln,
    /// Where it happened.
    pub site: Gln,
    /// The type-specific part.
    pub payload: Payload,
}

/// Log entry 0: the trust root.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Genesis {
    /// The checkpoint origin line.
    pub origin: String,
    /// The key that signs checkpoints.
    pub log_public_key: PublicKey,
    /// The regulator, admitted with its keys.
    pub regulator: Admit,
    /// When the log was created.
    pub created_unix_ms: i64,
}
