//! `isnad.v1.Verification`: the inspector's question, and the views of the circuit.
//!
//! Every answer is read against one published tree: entries beyond it are left out, so each
//! proof in an answer verifies against the answer's checkpoint.

use isnad_core::gs1::Gln;
use isnad_core::queries::{self, HistoryIndexes};
use isnad_core::scan::parse_scan;
use isnad_core::verdict::{self, HistoryEntry};
use isnad_log::{LeafIndex, TreeSize};
use isnad_proto::contract::{
    ANSWER_ENTRY_BYTES_MAX, HISTORY_ENTRIES_MAX, INBOUND_SHIPMENTS_PAGE_BYTES_MAX,
    INBOUND_SHIPMENTS_PAGE_MAX, LOT_UNITS_PAGE_MAX, PARTY_EVENTS_PAGE_MAX, Reason, SCAN_LEN_MAX,
};
use isnad_proto::convert::{self as wire, decode_history_entry};
use isnad_proto::pb;
use isnad_store::Store;
use tonic::{Request, Response, Status};

use super::gate::{Gate, GateOptions};
use super::{blocking, hashes_to_wire, parse_field};
use crate::error::LedgerError;
use crate::ledger::{Ledger, Published, now_unix_ms};
use crate::policy::{self, Access, Caller, VerifyAnswer};

/// The verification service.
#[derive(Debug, Clone)]
pub struct VerificationService {
    ledger: Ledger,
    /// Where `Verify` answers are computed: off the async workers, bounded, shedding beyond.
    gate: Gate,
}

impl VerificationService {
    /// A verification service over the ledger, its `Verify` work bounded by `gate`.
    pub fn new(ledger: Ledger, gate: GateOptions) -> Self {
        Self {
            ledger,
            gate: Gate::new(gate),
        }
    }
}

#[tonic::async_trait]
impl pb::verification_server::Verification for VerificationService {
    async fn verify(
        &self,
        request: Request<pb::VerifyRequest>,
    ) -> Result<Response<pb::VerifyResponse>, Status> {
        let answer = policy::verify_answer(&Caller::of(&request));
        let request = request.into_inner();
        if request.scan.len() > SCAN_LEN_MAX {
            return Err(LedgerError::ResourceExhausted {
                reason: Reason::ScanTooLong,
                message: format!("scan: {} bytes; at most {SCAN_LEN_MAX}", request.scan.len()),
                event: None,
            }
            .into());
        }
        let verifier_site: Option<Gln> = if request.verifier_site.is_empty() {
            None
        } else {
            Some(parse_field("verifier_site", &request.verifier_site)?)
        };
        let published = self.ledger.published();
        let known = request.known_tree_size;
        if known > published.tree.size.0 {
            return Err(LedgerError::InvalidArgument {
                reason: Reason::KnownSizeAhead,
                message: format!(
                    "known_tree_size {known} is beyond this log's size {}: a different log, or a split view",
                    published.tree.size.0
                ),
                event: None,
            }
            .into());
        }
        // Answered off the async workers, through the gate (see `gate`): on the workers, a
        // flood of verifications kept health checks waiting behind every one of them.
        let store = self.ledger.store().clone();
        let response = self
            .gate
            .run(move || {
                answer_verify(
                    &store,
                    &published,
                    &request.scan,
                    verifier_site.as_ref(),
                    known,
                    answer,
                )
            })
            .await?;
        Ok(Response::new(response))
    }

    async fn history(
        &self,
        request: Request<pb::HistoryRequest>,
    ) -> Result<Response<pb::HistoryResponse>, Status> {
        use pb::history_request::Subject;
        let caller = Caller::of(&request);
        let subject = request.into_inner().subject.ok_or_else(|| {
            Status::from(LedgerError::InvalidArgument {
                reason: Reason::MalformedField,
                message: "subject: missing".into(),
                event: None,
            })
        })?;
        let store = self.ledger.store().clone();
        let published = self.ledger.published();
        let response = blocking(move || {
            let indexes = match subject {
                Subject::Unit(unit) => {
                    policy::authorize(&caller, Access::ItemHistory)?;
                    let unit = wire::unit_from_wire("unit", &unit).map_err(invalid)?;
                    let scan = isnad_core::scan::Scan {
                        gtin: Some(unit.gtin),
                        serial: Some(unit.serial),
                        ..Default::default()
                    };
                    let HistoryIndexes { events, .. } =
                        queries::history_for_scan(store.as_ref(), &scan)?;
                    events
                }
                Subject::Lot(lot) => {
                    let lot = isnad_core::event::LotId {
                        gtin: wire::gs1("lot.gtin", &lot.gtin).map_err(invalid)?,
                        lot: wire::gs1("lot.lot", &lot.lot).map_err(invalid)?,
                    };
                    authorize_lot(store.as_ref(), &caller, &lot)?;
                    queries::history_for_lot(store.as_ref(), &lot)?
                }
                Subject::Sscc(sscc) => {
                    policy::authorize(&caller, Access::ItemHistory)?;
                    let sscc = wire::gs1("sscc", &sscc).map_err(invalid)?;
                    queries::history_for_sscc(store.as_ref(), &sscc)?
                }
            };
            let indexes = within(indexes, published.tree.size.0);
            Ok(pb::HistoryResponse {
                history: proven_entries(&store, &indexes, published.tree.size.0)?,
                checkpoint: published.checkpoint,
            })
        })
        .await?;
        Ok(Response::new(response))
    }

    async fn lot_units(
        &self,
        request: Request<pb::LotUnitsRequest>,
    ) -> Result<Response<pb::LotUnitsResponse>, Status> {
        let caller = Caller::of(&request);
        let request = request.into_inner();
        let lot = isnad_core::event::LotId {
            gtin: parse_field("gtin", &request.gtin)?,
            lot: parse_field("lot", &request.lot)?,
        };
        let after: Option<isnad_core::gs1::Serial> = if request.after_serial.is_empty() {
            None
        } else {
            Some(parse_field("after_serial", &request.after_serial)?)
        };
        let limit = page_size(request.page_size, LOT_UNITS_PAGE_MAX);
        let store = self.ledger.store().clone();
        let response = blocking(move || {
            authorize_lot(store.as_ref(), &caller, &lot)?;
            let record =
                queries::lot(store.as_ref(), &lot)?.ok_or_else(|| LedgerError::NotFound {
                    reason: Reason::UnknownLot,
                    message: format!("no lot {} of GTIN {}", lot.lot, lot.gtin),
                })?;
            let now = now_unix_ms();
            let units = queries::lot_units(store.as_ref(), &lot, after.as_ref(), limit + 1, now)?;
            let more = units.len() > limit;
            let units: Vec<_> = units.into_iter().take(limit).collect();
            let next_after_serial = if more {
                units
                    .last()
                    .map(|u| u.unit.serial.to_string())
                    .unwrap_or_default()
            } else {
                String::new()
            };
            Ok(pb::LotUnitsResponse {
                units: units.iter().map(wire::unit_view_to_wire).collect(),
                next_after_serial,
                recalled: record.recalled_at_index.is_some(),
                quantity_not_serialized: record.quantity_commissioned,
            })
        })
        .await?;
        Ok(Response::new(response))
    }

    async fn party_events(
        &self,
        request: Request<pb::PartyEventsRequest>,
    ) -> Result<Response<pb::PartyEventsResponse>, Status> {
        let caller = Caller::of(&request);
        let request = request.into_inner();
        let party: Gln = parse_field("party", &request.party)?;
        policy::authorize(&caller, Access::Party(&party))?;
        let limit = page_size(request.page_size, PARTY_EVENTS_PAGE_MAX);
        let until = if request.until_unix_ms == 0 {
            i64::MAX
        } else {
            request.until_unix_ms
        };
        let store = self.ledger.store().clone();
        let published = self.ledger.published();
        let response = blocking(move || {
            let indexes = queries::party_events(
                store.as_ref(),
                &party,
                request.from_unix_ms,
                until,
                request.after_index,
                limit + 1,
            )?;
            let indexes = within(indexes, published.tree.size.0);
            let more = indexes.len() > limit;
            let indexes: Vec<u64> = indexes.into_iter().take(limit).collect();
            Ok(pb::PartyEventsResponse {
                entries: proven_entries(&store, &indexes, published.tree.size.0)?,
                checkpoint: published.checkpoint,
                next_after_index: if more {
                    indexes.last().copied().unwrap_or(0)
                } else {
                    0
                },
            })
        })
        .await?;
        Ok(Response::new(response))
    }

    async fn inbound_shipments(
        &self,
        request: Request<pb::InboundShipmentsRequest>,
    ) -> Result<Response<pb::InboundShipmentsResponse>, Status> {
        let caller = Caller::of(&request);
        let request = request.into_inner();
        let party: Gln = parse_field("party", &request.party)?;
        let after = if request.after_shipment_id.is_empty() {
            None
        } else {
            let id: [u8; 16] = request.after_shipment_id[..].try_into().map_err(|_| {
                Status::from(LedgerError::InvalidArgument {
                    reason: Reason::MalformedField,
                    message: format!(
                        "after_shipment_id: {} bytes, expected 16",
                        request.after_shipment_id.len()
                    ),
                    event: None,
                })
            })?;
            Some(isnad_core::event::EventId(id))
        };
        let limit = page_size(request.page_size, INBOUND_SHIPMENTS_PAGE_MAX);
        policy::authorize(&caller, Access::Party(&party))?;
        let store = self.ledger.store().clone();
        let shipments = blocking(move || {
            Ok(queries::inbound_shipments(
                store.as_ref(),
                &party,
                after.as_ref(),
                limit + 1,
            )?)
        })
        .await?;
        Ok(Response::new(inbound_page(&shipments, limit)))
    }
}

/// One page of inbound shipments out of `shipments` (up to `limit` + 1 read): at most `limit`,
/// ending early once they pass [`INBOUND_SHIPMENTS_PAGE_BYTES_MAX`] encoded; the next page
/// starts after the last one sent.
fn inbound_page(
    shipments: &[isnad_core::queries::Shipment],
    limit: usize,
) -> pb::InboundShipmentsResponse {
    use prost::Message;
    let mut page = Vec::new();
    let mut bytes = 0;
    for shipment in shipments.iter().take(limit) {
        if bytes >= INBOUND_SHIPMENTS_PAGE_BYTES_MAX {
            break;
        }
        let shipment = wire::shipment_to_wire(shipment);
        bytes += shipment.encoded_len();
        page.push(shipment);
    }
    let next_after_shipment_id = if page.len() < shipments.len() {
        page.last()
            .map(|s| s.shipment_id.clone())
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    pb::InboundShipmentsResponse {
        shipments: page,
        next_after_shipment_id,
    }
}

/// Asks the policy about a lot: its product's manufacturer may read it (the product is looked
/// up first; an unknown one has no manufacturer, so only those who read everything learn that
/// it is unknown).
fn authorize_lot(
    store: &Store,
    caller: &Caller,
    lot: &isnad_core::event::LotId,
) -> Result<(), LedgerError> {
    if matches!(caller, Caller::Anonymous) {
        return policy::authorize(caller, Access::Lot { manufacturer: None });
    }
    let product = queries::product(store, &lot.gtin)?;
    let manufacturer = product.as_ref().map(|p| &p.manufacturer);
    policy::authorize(caller, Access::Lot { manufacturer })
}

fn invalid(error: isnad_proto::ConvertError) -> LedgerError {
    LedgerError::InvalidArgument {
        reason: Reason::MalformedField,
        message: error.to_string(),
        event: None,
    }
}

fn page_size(asked: u32, max: usize) -> usize {
    match asked as usize {
        0 => max,
        n => n.min(max),
    }
}

/// Indexes that the published tree contains: later commits are not in its proofs.
fn within(indexes: Vec<u64>, size: u64) -> Vec<u64> {
    indexes.into_iter().filter(|&i| i < size).collect()
}

/// Entries with inclusion proofs against the tree of `size`, the proofs computed together.
fn proven_entries(
    store: &Store,
    indexes: &[u64],
    size: u64,
) -> Result<Vec<pb::ProvenEntry>, LedgerError> {
    let entries = read_answer_entries(store, indexes)?;
    prove(store, entries, size)
}

/// The entries at `indexes`, for one answer: refused once they are more than
/// [`HISTORY_ENTRIES_MAX`] or longer than [`ANSWER_ENTRY_BYTES_MAX`] bytes together, before
/// more is read, rather than built in memory and then refused by the transport.
fn read_answer_entries(store: &Store, indexes: &[u64]) -> Result<Vec<(u64, Vec<u8>)>, LedgerError> {
    if indexes.len() > HISTORY_ENTRIES_MAX {
        return Err(too_long(format!(
            "{} entries; at most {HISTORY_ENTRIES_MAX} per answer",
            indexes.len()
        )));
    }
    let mut bytes = 0;
    let mut entries = Vec::with_capacity(indexes.len());
    for &index in indexes {
        let entry = read_entry(store, index)?;
        bytes += entry.len();
        if bytes > ANSWER_ENTRY_BYTES_MAX {
            return Err(too_long(format!(
                "more than {ANSWER_ENTRY_BYTES_MAX} bytes of entries; at most that per answer"
            )));
        }
        entries.push((index, entry));
    }
    Ok(entries)
}

fn too_long(message: String) -> LedgerError {
    LedgerError::ResourceExhausted {
        reason: Reason::HistoryTooLong,
        message,
        event: None,
    }
}

fn read_entry(store: &Store, index: u64) -> Result<Vec<u8>, LedgerError> {
    store
        .entry(LeafIndex(index))?
        .ok_or_else(|| LedgerError::Storage(format!("entry {index} is missing")))
}

/// `entries` (index, bytes) with their inclusion proofs against the tree of `size`.
fn prove(
    store: &Store,
    entries: Vec<(u64, Vec<u8>)>,
    size: u64,
) -> Result<Vec<pb::ProvenEntry>, LedgerError> {
    let proofs = store.inclusion_proofs(entries.iter().map(|(index, _)| *index), TreeSize(size))?;
    Ok(entries
        .into_iter()
        .zip(proofs)
        .map(|((index, entry), proof)| pb::ProvenEntry {
            index,
            entry,
            inclusion_proof: hashes_to_wire(&proof),
        })
        .collect())
}

/// The whole verification answer, read against one published tree.
fn answer_verify(
    store: &Store,
    published: &Published,
    scan_text: &str,
    verifier_site: Option<&Gln>,
    known_tree_size: u64,
    answer: VerifyAnswer,
) -> Result<pb::VerifyResponse, LedgerError> {
    let size = published.tree.size.0;
    let consistency_proof = if known_tree_size > 0 && known_tree_size < size {
        hashes_to_wire(&store.consistency_proof(TreeSize(known_tree_size), TreeSize(size))?)
    } else {
        Vec::new()
    };
    let mut response = pb::VerifyResponse {
        checkpoint: published.checkpoint.clone(),
        consistency_from: known_tree_size,
        consistency_proof,
        history_withheld: answer == VerifyAnswer::HistoryWithheld,
        ..Default::default()
    };
    let scan = match parse_scan(scan_text) {
        Ok(scan) => scan,
        Err(error) => {
            let malformed = verdict::malformed_scan_verdict();
            response.verdict = wire::reason_code_to_wire(malformed.verdict) as i32;
            response.reasons = malformed
                .reasons
                .iter()
                .map(|r| wire::reason_code_to_wire(*r) as i32)
                .collect();
            response.scan_error = error.to_string();
            return Ok(response);
        }
    };
    let indexes = queries::history_for_scan(store, &scan)?;
    let events = within(indexes.events, size);
    let authorizations = within(indexes.authorizations, size);
    let mut all: Vec<u64> = events.iter().chain(&authorizations).copied().collect();
    all.sort_unstable();
    all.dedup();
    let entries: std::collections::BTreeMap<u64, Vec<u8>> =
        read_answer_entries(store, &all)?.into_iter().collect();
    let history = entries
        .iter()
        .map(|(&index, entry)| {
            decode_history_entry(index, entry)
                .map_err(|e| LedgerError::Storage(format!("entry {index}: {e}")))
        })
        .collect::<Result<Vec<HistoryEntry>, LedgerError>>()?;
    let verdict = verdict::derive_verdict(&scan, verifier_site, &history, now_unix_ms())
        .map_err(|e| LedgerError::Storage(format!("the stored history does not replay: {e}")))?;
    response.verdict = wire::reason_code_to_wire(verdict.verdict) as i32;
    response.reasons = verdict
        .reasons
        .iter()
        .map(|r| wire::reason_code_to_wire(*r) as i32)
        .collect();
    if response.history_withheld {
        return Ok(response);
    }
    response.state = verdict.state.as_ref().map(wire::unit_view_to_wire);
    let take = |indexes: &[u64]| -> Vec<(u64, Vec<u8>)> {
        indexes
            .iter()
            .map(|index| (*index, entries[index].clone()))
            .collect()
    };
    response.history = prove(store, take(&events), size)?;
    response.authorizations = prove(store, take(&authorizations), size)?;
    Ok(response)
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::SigningKey;
    use isnad_log::checkpoint::NoteSigner;

    use super::*;

    /// Entries of 60,000 bytes: 560 of them pass [`ANSWER_ENTRY_BYTES_MAX`].
    const ENTRY_LEN: usize = 60_000;

    fn store_of_large_entries(dir: &std::path::Path, count: usize) -> Store {
        let store = Store::open(dir).expect("open");
        let signer = NoteSigner::new("isnad.example/log", SigningKey::from_bytes(&[3; 32]))
            .expect("valid log name");
        let entries: Vec<Vec<u8>> = (0..count).map(|n| vec![n as u8; ENTRY_LEN]).collect();
        store.append(&entries, Vec::new(), &signer).expect("append");
        store
    }

    #[track_caller]
    fn check_refused(result: Result<Vec<(u64, Vec<u8>)>, LedgerError>) {
        match result {
            Err(LedgerError::ResourceExhausted {
                reason: Reason::HistoryTooLong,
                ..
            }) => {}
            other => panic!(
                "expected HISTORY_TOO_LONG, got {:?}",
                other.map(|e| e.len())
            ),
        }
    }

    #[test]
    fn an_answer_stops_at_its_entry_bytes_and_count() {
        let dir = tempfile::tempdir().expect("temp dir");
        let fitting = ANSWER_ENTRY_BYTES_MAX / ENTRY_LEN;
        let store = store_of_large_entries(dir.path(), fitting + 1);
        let indexes: Vec<u64> = (0..fitting as u64 + 1).collect();
        let read = read_answer_entries(&store, &indexes[..fitting]).expect("within the limit");
        assert_eq!(read.len(), fitting);
        check_refused(read_answer_entries(&store, &indexes));
        let small = vec![0; HISTORY_ENTRIES_MAX];
        assert_eq!(
            read_answer_entries(&store, &small[..10])
                .expect("read")
                .len(),
            10
        );
        let too_many = vec![0; HISTORY_ENTRIES_MAX + 1];
        check_refused(read_answer_entries(&store, &too_many));
    }
}
