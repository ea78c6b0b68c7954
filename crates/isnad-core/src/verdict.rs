//! The verdict on a scan, derived from the unit's history alone, so that the server (to
//! answer) and the client (to re-check offline) reach the same one.
//!
//! The history is partial: genesis, the registry entries of the parties involved, and the
//! events of the unit, of its containers while it was inside, of its lot and product. The
//! full executor cannot replay it (a Ship of a pallet names units whose commission is not
//! there), so the replay runs the executor in a scope that follows the scanned unit and the
//! SSCCs around it and skips every other item. Everything it keeps is checked with the very
//! same rules: each signer's key is admitted and valid at that index, belongs to the actor,
//! the actor is not suspended, has the role, acts at its own site, and the custody chain holds
//! (who ships the unit holds it, who receives it is the addressee).
//!
//! `DUPLICATE_SIGHTING` weighs the unit's latest [`SIGHTINGS_JUDGED_MAX`] sightings: one of
//! them at a place its custody then does not explain (for an unknown serial: at two places).
//! Older sightings stay in the log, for auditors, but no longer make the verdict.

use std::collections::BTreeSet;

use crate::event::{
    DecommissionReason, Event, Genesis, LotId, Payload, PublicKey, ReasonCode, UnitId,
};
use crate::gs1::{Gln, Gs1Date, Lot, Sscc, year_of_unix_ms};
use crate::limits::SIGHTINGS_JUDGED_MAX;
use crate::queries;
use crate::rules::records::UnitRecord;
use crate::rules::{
    ApplyError, Context, Rejection, Scope, apply_genesis, apply_in_scope, keys, records::SsccRecord,
};
use crate::scan::{Scan, parse_scan};
use crate::state::{MemState, StorageError, Writes, read, scan_all};

/// What a history entry holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HistoryKind {
    /// Log entry 0, the trust root.
    Genesis(Genesis),
    /// A signed event.
    Event(Event),
}

/// One log entry of a history, read out of the entry bytes the verifier checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    /// Its log index.
    pub index: u64,
    /// The sequencer's recorded time.
    pub recorded_unix_ms: i64,
    /// The key that signed it; `None` for genesis.
    pub signer: Option<PublicKey>,
    /// Genesis or the event.
    pub kind: HistoryKind,
}

/// Where a unit stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnitStatus {
    /// In the circuit, at its holder.
    Active,
    /// Shipped, not yet received.
    InTransit,
    /// Out of the circuit for good.
    Decommissioned,
    /// Its lot is recalled.
    Recalled,
    /// Its lot's expiry has passed.
    Expired,
}

/// A unit's current state, resolved through its lot and containers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitView {
    /// The unit: GTIN and serial.
    pub unit: UnitId,
    /// Its lot number, as commissioned.
    pub lot: Lot,
    /// Its lot's expiry, as commissioned.
    pub expiry: Gs1Date,
    /// The most serious of: decommissioned, recalled, expired, in transit; else active.
    pub status: UnitStatus,
    /// The party that has it; the sender while it is in transit.
    pub holder: Gln,
    /// The holder's site; the sender's while it is in transit.
    pub site: Gln,
    /// The SSCC that holds it directly.
    pub container: Option<Sscc>,
    /// While in transit: the addressee party and site.
    pub destination: Option<(Gln, Gln)>,
    /// Why it left the circuit, if it did (its own, or its container's).
    pub decommission_reason: Option<DecommissionReason>,
}

/// The answer to a scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// `GENUINE`, or the first of `reasons`.
    pub verdict: ReasonCode,
    /// Every reason found, most serious first; empty when genuine.
    pub reasons: Vec<ReasonCode>,
    /// The unit's state, when the unit is known.
    pub state: Option<UnitView>,
}

impl Verdict {
    /// A verdict from the reasons found, ordered by [`SERIOUSNESS`].
    fn from_reasons(reasons: BTreeSet<ReasonCode>, state: Option<UnitView>) -> Self {
        let mut reasons: Vec<ReasonCode> = reasons.into_iter().collect();
        reasons.sort_by_key(|reason| SERIOUSNESS.iter().position(|known| known == reason));
        let verdict = reasons.first().copied().unwrap_or(ReasonCode::Genuine);
        Self {
            verdict,
            reasons,
            state,
        }
    }
}

/// Reason codes, most serious first. A unit nobody made, or one that does not match what was
/// made, comes before a clone, an untrustworthy history, and then the states a genuine unit
/// can be in that still make it unfit to use.
pub const SERIOUSNESS: [ReasonCode; 14] = [
    ReasonCode::MalformedScan,
    ReasonCode::UnknownProduct,
    ReasonCode::UnknownLot,
    ReasonCode::UnknownSerial,
    ReasonCode::LotMismatch,
    ReasonCode::ExpiryMismatch,
    ReasonCode::DuplicateSighting,
    ReasonCode::CompromisedSigner,
    ReasonCode::AlreadyDecommissioned,
    ReasonCode::Recalled,
    ReasonCode::Expired,
    ReasonCode::SuspendedHolder,
    ReasonCode::CustodyMismatch,
    ReasonCode::InTransit,
];

/// The history does not hold together: a verifier must not trust the answer it came with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HistoryError {
    /// The first entry is not genesis at index 0.
    #[error("the history does not start with genesis at index 0")]
    MissingGenesis,
    /// An entry's index is not after the previous one.
    #[error("entry {index} comes after entry {previous}: not in log order")]
    NotInLogOrder { index: u64, previous: u64 },
    /// An entry is not what its place says: a second genesis, or an event without a signer.
    #[error("entry {index}: {problem}")]
    Malformed { index: u64, problem: String },
    /// The rules refuse an event, given the registry entries and events before it.
    #[error("entry {index} is refused by the rules: {rejection}")]
    Refused { index: u64, rejection: Rejection },
    /// The replay's own state broke: a bug.
    #[error("entry {index}: {error}")]
    Replay { index: u64, error: StorageError },
}

/// The verdict for a scan that does not parse.
pub fn malformed_scan_verdict() -> Verdict {
    Verdict::from_reasons(BTreeSet::from([ReasonCode::MalformedScan]), None)
}

/// Replays `history` (authorizations and events merged in log order, as
/// [`queries::history_for_scan`] selects them) into an in-memory state with the executor's
/// rules, then judges the scanned unit at `now_unix_ms`, seen at `verifier_site` if given.
pub fn derive_verdict(
    scan: &Scan,
    verifier_site: Option<&Gln>,
    history: &[HistoryEntry],
    now_unix_ms: i64,
) -> Result<Verdict, HistoryError> {
    let followed = scan.unit();
    let replay = Replay::run(history, followed.as_ref())?;
    let state = &replay.state;
    let storage = |error| HistoryError::Replay {
        index: replay.last_index,
        error,
    };
    let mut reasons = replay.compromised_signers().map_err(storage)?;
    let Some(gtin) = scan.gtin else {
        reasons.insert(ReasonCode::UnknownProduct);
        return Ok(Verdict::from_reasons(reasons, None));
    };
    if queries::product(state, &gtin).map_err(storage)?.is_none() {
        reasons.insert(ReasonCode::UnknownProduct);
        return Ok(Verdict::from_reasons(reasons, None));
    }
    let found = match &followed {
        Some(unit) => queries::unit(state, unit, now_unix_ms).map_err(storage)?,
        None => None,
    };
    let sightings = judged_sightings(&replay.sightings);
    let Some(found) = found else {
        reasons.extend(unknown_unit_reasons(state, scan, &gtin, sightings).map_err(storage)?);
        return Ok(Verdict::from_reasons(reasons, None));
    };
    reasons.extend(
        known_unit_reasons(state, scan, verifier_site, &found, sightings, now_unix_ms)
            .map_err(storage)?,
    );
    Ok(Verdict::from_reasons(reasons, Some(found)))
}

/// The sightings a verdict weighs: the latest [`SIGHTINGS_JUDGED_MAX`] of those in the
/// history, in log order. The server sends exactly these (see
/// [`queries::history_for_scan`]); a history with more, from any source, is judged the same.
fn judged_sightings(sightings: &[Sighting]) -> &[Sighting] {
    &sightings[sightings.len().saturating_sub(SIGHTINGS_JUDGED_MAX)..]
}

/// Reasons for a serial the history never commissioned.
fn unknown_unit_reasons(
    state: &MemState,
    scan: &Scan,
    gtin: &crate::gs1::Gtin,
    sightings: &[Sighting],
) -> Result<BTreeSet<ReasonCode>, StorageError> {
    let mut reasons = BTreeSet::new();
    let lot_unknown = match &scan.lot {
        Some(lot) => queries::lot(
            state,
            &LotId {
                gtin: *gtin,
                lot: lot.clone(),
            },
        )?
        .is_none(),
        None => false,
    };
    reasons.insert(if lot_unknown {
        ReasonCode::UnknownLot
    } else {
        ReasonCode::UnknownSerial
    });
    // Nobody holds an unknown serial; seen in two places, it is copied.
    let sites: BTreeSet<Gln> = sightings.iter().map(|sighting| sighting.site).collect();
    if sites.len() > 1 {
        reasons.insert(ReasonCode::DuplicateSighting);
    }
    Ok(reasons)
}

/// Reasons for a unit the history knows.
fn known_unit_reasons(
    state: &MemState,
    scan: &Scan,
    verifier_site: Option<&Gln>,
    found: &UnitView,
    sightings: &[Sighting],
    now_unix_ms: i64,
) -> Result<BTreeSet<ReasonCode>, StorageError> {
    let mut reasons = BTreeSet::new();
    let lot_id = LotId {
        gtin: found.unit.gtin,
        lot: found.lot.clone(),
    };
    let lot = queries::lot(state, &lot_id)?
        .ok_or_else(|| StorageError(format!("unit {} has no lot", found.unit.serial)))?;
    let year = year_of_unix_ms(now_unix_ms);
    if scan
        .lot
        .as_ref()
        .is_some_and(|scanned| *scanned != found.lot)
    {
        reasons.insert(ReasonCode::LotMismatch);
    }
    if scan
        .expiry
        .is_some_and(|scanned| scanned.resolve(year) != found.expiry.resolve(year))
    {
        reasons.insert(ReasonCode::ExpiryMismatch);
    }
    if sightings.iter().any(|sighting| !sighting.explained) {
        reasons.insert(ReasonCode::DuplicateSighting);
    }
    if found.decommission_reason.is_some() {
        reasons.insert(ReasonCode::AlreadyDecommissioned);
    }
    if lot.recalled_at_index.is_some() {
        reasons.insert(ReasonCode::Recalled);
    }
    if crate::rules::lot_expired(&lot, now_unix_ms) {
        reasons.insert(ReasonCode::Expired);
    }
    if queries::participant(state, &found.holder)?.is_some_and(|holder| holder.suspended) {
        reasons.insert(ReasonCode::SuspendedHolder);
    }
    let in_transit = found.destination.is_some();
    if in_transit {
        reasons.insert(ReasonCode::InTransit);
    }
    if verifier_site.is_some_and(|site| !in_transit && *site != found.site) {
        reasons.insert(ReasonCode::CustodyMismatch);
    }
    Ok(reasons)
}

/// An inspection of the scanned unit, and whether its custody then explains the place.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Sighting {
    site: Gln,
    /// Held at that very site, or in transit (a unit on the road can be anywhere between).
    explained: bool,
}

/// The state a history replays into, and what the replay saw on the way.
#[derive(Debug)]
struct Replay {
    state: MemState,
    sightings: Vec<Sighting>,
    /// Every event's signer and recorded time.
    signed: Vec<(PublicKey, i64)>,
    last_index: u64,
}

impl Replay {
    fn run(history: &[HistoryEntry], followed: Option<&UnitId>) -> Result<Self, HistoryError> {
        let Some((first, rest)) = history.split_first() else {
            return Err(HistoryError::MissingGenesis);
        };
        let (0, HistoryKind::Genesis(genesis)) = (first.index, &first.kind) else {
            return Err(HistoryError::MissingGenesis);
        };
        let mut replay = Self {
            state: MemState::new(),
            sightings: Vec::new(),
            signed: Vec::new(),
            last_index: 0,
        };
        // Genesis is not signed: it is the trust root the verifier already holds.
        let ctx = Context {
            index: 0,
            recorded_unix_ms: first.recorded_unix_ms,
            signer: PublicKey([0; 32]),
        };
        replay.state.apply(&apply_genesis(genesis, &ctx));
        for entry in rest {
            if entry.index <= replay.last_index {
                return Err(HistoryError::NotInLogOrder {
                    index: entry.index,
                    previous: replay.last_index,
                });
            }
            replay.last_index = entry.index;
            replay.step(entry, followed)?;
        }
        Ok(replay)
    }

    fn step(
        &mut self,
        entry: &HistoryEntry,
        followed: Option<&UnitId>,
    ) -> Result<(), HistoryError> {
        let index = entry.index;
        let malformed = |problem: &str| HistoryError::Malformed {
            index,
            problem: problem.to_owned(),
        };
        let HistoryKind::Event(event) = &entry.kind else {
            return Err(malformed("a second genesis"));
        };
        let Some(signer) = entry.signer else {
            return Err(malformed("an event without a signer"));
        };
        let ctx = Context {
            index,
            recorded_unix_ms: entry.recorded_unix_ms,
            signer,
        };
        let writes = match apply_in_scope(&self.state, event, &ctx, Scope::Follow(followed)) {
            Ok(writes) => writes,
            Err(ApplyError::Rejected(rejection)) => {
                return Err(HistoryError::Refused { index, rejection });
            }
            Err(ApplyError::Storage(error)) => return Err(HistoryError::Replay { index, error }),
        };
        self.state.apply(&writes);
        self.signed.push((signer, entry.recorded_unix_ms));
        let replay_error = |error| HistoryError::Replay { index, error };
        if let Some(unit) = followed {
            self.see(event, unit, entry.recorded_unix_ms)
                .map_err(replay_error)?;
            let pruned = prune(&self.state, unit).map_err(replay_error)?;
            self.state.apply(&pruned);
        }
        Ok(())
    }

    /// Records an inspection of `unit`, with whether its custody then explains the place.
    fn see(
        &mut self,
        event: &Event,
        unit: &UnitId,
        recorded_unix_ms: i64,
    ) -> Result<(), StorageError> {
        let Payload::Inspect { scan, .. } = &event.payload else {
            return Ok(());
        };
        let seen = parse_scan(scan).ok().and_then(|scan| scan.unit());
        if seen.as_ref() != Some(unit) {
            return Ok(());
        }
        let explained = match queries::unit(&self.state, unit, recorded_unix_ms)? {
            Some(found) => found.destination.is_some() || found.site == event.site,
            None => false,
        };
        self.sightings.push(Sighting {
            site: event.site,
            explained,
        });
        Ok(())
    }

    /// `COMPROMISED_SIGNER` if a key signed an event at or after the time it is known
    /// compromised since.
    fn compromised_signers(&self) -> Result<BTreeSet<ReasonCode>, StorageError> {
        for (signer, recorded_unix_ms) in &self.signed {
            let key = queries::key(&self.state, signer)?;
            if key
                .and_then(|key| key.compromised_since_unix_ms)
                .is_some_and(|since| since <= *recorded_unix_ms)
            {
                return Ok(BTreeSet::from([ReasonCode::CompromisedSigner]));
            }
        }
        Ok(BTreeSet::new())
    }
}

/// Deletes the SSCCs the unit is no longer inside: the history does not follow them further,
/// and their stale state must not judge later events about them.
fn prune(state: &MemState, unit: &UnitId) -> Result<Writes, StorageError> {
    let mut chain = Vec::new();
    let mut next =
        read::<UnitRecord, _>(state, &keys::unit(unit))?.and_then(|record| record.container);
    while let Some(sscc) = next {
        if chain.contains(&sscc) {
            return Err(StorageError(format!("SSCC {sscc} contains itself")));
        }
        chain.push(sscc);
        next =
            read::<SsccRecord, _>(state, &keys::sscc(&sscc))?.and_then(|record| record.container);
    }
    let mut writes = Vec::new();
    for (key, _) in scan_all(state, &keys::sscc_prefix())? {
        let sscc = sscc_of_key(&key)?;
        if chain.contains(&sscc) {
            continue;
        }
        writes.push((key, None));
        for (content, _) in scan_all(state, &keys::contents_prefix(&sscc))? {
            writes.push((content, None));
        }
    }
    Ok(Writes(writes))
}

fn sscc_of_key(key: &[u8]) -> Result<Sscc, StorageError> {
    std::str::from_utf8(&key[1..])
        .ok()
        .and_then(|text| text.parse().ok())
        .ok_or_else(|| StorageError(format!("bad SSCC key {}", hex::encode(key))))
}
