//! Storage records: what the executor writes under each key (see `keys`), encoded by
//! `state::encode` with a version byte. Records that queries hand out are public types of
//! [`crate::queries`]; the ones here stay inside the crate.

use serde::{Deserialize, Serialize};

use crate::event::{DecommissionReason, EventId, LotId, PublicKey, Role};
use crate::gs1::{Gln, Lot, Sscc};

/// A participant as stored; its keys are separate records, listed here by public key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ParticipantRecord {
    pub name: String,
    pub roles: Vec<Role>,
    pub sites: Vec<Gln>,
    pub company_prefixes: Vec<String>,
    pub suspended: bool,
    pub admitted_at_index: u64,
    pub keys: Vec<PublicKey>,
}

/// Who has a unit or an SSCC when it is not inside another SSCC. Inside one, the record's own
/// custody is stale: custody resolves through the container chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Custody {
    /// At a holder's site.
    Held { holder: Gln, site: Gln },
    /// On the way, in the shipment named by its Ship event id.
    InTransit { shipment: EventId },
}

/// A serialized unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct UnitRecord {
    pub lot: Lot,
    pub custody: Custody,
    /// The SSCC that holds it directly.
    pub container: Option<Sscc>,
    pub decommissioned: Option<DecommissionReason>,
    pub commissioned_at_index: u64,
}

/// A logistic unit (case, pallet).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SsccRecord {
    pub custody: Custody,
    /// The SSCC that holds it directly.
    pub container: Option<Sscc>,
    pub decommissioned: Option<DecommissionReason>,
    /// Units held directly, counted per lot: a Ship checks these lots for recall and expiry
    /// without reading every unit.
    pub lots: Vec<(LotId, u64)>,
    pub created_at_index: u64,
}

impl SsccRecord {
    /// Counts one more unit of `lot` inside.
    pub fn add_lot(&mut self, lot: &LotId) {
        match self.lots.iter_mut().find(|(known, _)| known == lot) {
            Some((_, count)) => *count += 1,
            None => self.lots.push((lot.clone(), 1)),
        }
    }

    /// Counts one unit of `lot` fewer inside.
    pub fn remove_lot(&mut self, lot: &LotId) {
        if let Some(position) = self.lots.iter().position(|(known, _)| known == lot) {
            self.lots[position].1 -= 1;
            if self.lots[position].1 == 0 {
                self.lots.remove(position);
            }
        }
    }
}

/// How an event relates to the subject of an index entry, so that the history of a unit can
/// follow it into and out of its containers from the indexes alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Link {
    /// Nothing to follow.
    None,
    /// The subject went into this SSCC.
    Into(Sscc),
    /// The subject came out of this SSCC.
    OutOf(Sscc),
    /// The subject was shipped to this party (whose registry entries a verifier needs).
    ShipTo(Gln),
}

/// The value of a unit, SSCC, lot or registry index entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct IndexNote {
    /// The party that signed the event.
    pub actor: Gln,
    pub link: Link,
}
