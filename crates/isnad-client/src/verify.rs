//! Offline verification of a verification answer: nothing the server says is shown before it
//! is proven.
//!
//! [`verify_answer`] checks, with nothing but a [`Trust`]:
//!
//! 1. the checkpoint note's signature, by the pinned log key, for the pinned log;
//! 2. that the checkpoint extends the pinned one (consistency proof), or else reports a
//!    possible fork with both checkpoints;
//! 3. every entry's inclusion proof against the checkpoint's root, over the entry bytes exactly
//!    as served (leaf hash `SHA-256(0x00 || entry)`);
//! 4. every event's Ed25519 signature over its signed body;
//! 5. that genesis is entry 0 and names the pinned regulator root keys and log key;
//! 6. the verdict, re-derived from the history with the core's own rules, whose replay also
//!    checks each signer's key back to the regulator root; it must equal the server's verdict,
//!    reasons and unit state.

use std::collections::BTreeMap;

use isnad_core::envelope::{self, EntryKind, EnvelopeError};
use isnad_core::gs1::{Gln, Gs1Error};
use isnad_core::scan::{Scan, parse_scan};
use isnad_core::verdict::{
    HistoryEntry, HistoryError, HistoryKind, Verdict, derive_verdict, malformed_scan_verdict,
};
use isnad_log::checkpoint::Checkpoint;
use isnad_log::{LeafIndex, ProofError, TreeSize};
use isnad_proto::ConvertError;
use isnad_proto::contract::HISTORY_ENTRIES_MAX;
use isnad_proto::convert::{reason_code_to_wire, unit_view_to_wire};
use isnad_proto::pb;

use crate::trust::{GenesisMismatch, Trust, TrustError};

/// Entries (history and authorizations together) an answer may carry at most: the server
/// sends at most [`HISTORY_ENTRIES_MAX`] history entries, and authorizations are a few per
/// party involved.
pub const ANSWER_ENTRIES_MAX: usize = 2 * HISTORY_ENTRIES_MAX;

/// Hashes a proof may carry at most: a tree of up to 2^64 leaves needs at most 64 for an
/// inclusion proof and 128 for a consistency proof.
pub const PROOF_HASHES_MAX: usize = 128;

/// Why an answer is refused. Each variant says which part of the answer failed.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The server withheld the history (the request was not signed as an admitted party), so
    /// the verdict cannot be proven.
    #[error(
        "the server withheld the unit's history: sign requests as an admitted party to get the \
         proof"
    )]
    HistoryWithheld,
    /// The checkpoint is not signed by the pinned log key, or is of another log.
    #[error("the answer's checkpoint is refused: {0}")]
    Checkpoint(TrustError),
    /// The answer's consistency proof starts from another size than the one asked from.
    #[error("the consistency proof starts at tree size {answered}, but {asked} was asked for")]
    ConsistencyFrom {
        /// The pinned size the client asked from.
        asked: u64,
        /// The size the answer's proof starts at.
        answered: u64,
    },
    /// The new checkpoint does not extend the pinned one: a possible split view.
    #[error("possible split view (fork) of the log: {0}")]
    Inconsistent(Box<Inconsistency>),
    /// An entry's inclusion proof does not lead to the checkpoint's root.
    #[error("{list} entry {index}: inclusion proof refused: {error}")]
    Inclusion {
        /// `history` or `authorizations`.
        list: &'static str,
        /// The entry's log index.
        index: u64,
        /// What failed.
        error: ProofError,
    },
    /// A proof is longer than [`PROOF_HASHES_MAX`].
    #[error("{what} has {count} hashes, at most {PROOF_HASHES_MAX}")]
    ProofTooLong {
        /// Which proof.
        what: String,
        /// Its length.
        count: usize,
    },
    /// The answer carries more than [`ANSWER_ENTRIES_MAX`] entries.
    #[error("the answer carries {count} entries, at most {ANSWER_ENTRIES_MAX}")]
    TooManyEntries {
        /// The number of entries.
        count: usize,
    },
    /// Two entries claim the same log index with different bytes.
    #[error("entry {index} appears twice with different bytes")]
    DuplicateEntry {
        /// The log index.
        index: u64,
    },
    /// An entry's framing, event body or genesis does not decode.
    #[error("entry {index} does not decode: {error}")]
    Entry {
        /// The entry's log index.
        index: u64,
        /// What failed.
        error: ConvertError,
    },
    /// An event's signature does not verify over its body.
    #[error("entry {index}: the event signature is refused: {error}")]
    EventSignature {
        /// The entry's log index.
        index: u64,
        /// What failed.
        error: EnvelopeError,
    },
    /// The answer does not carry the genesis entry at index 0.
    #[error("the answer does not carry the genesis entry (log entry 0)")]
    MissingGenesis,
    /// Genesis names other keys than the pinned ones.
    #[error("the genesis entry is not the pinned trust root: {0}")]
    Genesis(GenesisMismatch),
    /// The history does not replay with the core's rules: some event should not have been
    /// accepted, or a signer's key does not chain back to the regulator root.
    #[error("the history does not hold: {0}")]
    History(HistoryError),
    /// The verifier site of the question is not a valid GLN.
    #[error("verifier site: {0}")]
    VerifierSite(Gs1Error),
    /// The scan parses on one side and not on the other, or a malformed scan came with a
    /// history.
    #[error("the answer disagrees about the scan: {0}")]
    Scan(String),
    /// The server's verdict or reasons are not what its own history proves.
    #[error("the server says {answered}, but its history proves {derived}")]
    VerdictMismatch {
        /// The server's verdict and reasons.
        answered: String,
        /// The re-derived verdict and reasons.
        derived: String,
    },
    /// The server's unit state is not what its own history proves.
    #[error("the server's unit state {answered} is not what its history proves: {derived}")]
    StateMismatch {
        /// The server's state, debug form.
        answered: String,
        /// The re-derived state, debug form.
        derived: String,
    },
}

/// Two checkpoints of the same log key that the answer does not show to be consistent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{problem} (pinned tree size {pinned_size}, answer's tree size {other_size})")]
pub struct Inconsistency {
    /// The pinned checkpoint's size.
    pub pinned_size: u64,
    /// The other checkpoint's size.
    pub other_size: u64,
    /// The pinned checkpoint, a signed note.
    pub pinned_note: String,
    /// The other checkpoint, a signed note by the same key.
    pub other_note: String,
    /// The consistency proof that failed.
    pub proof: Vec<Vec<u8>>,
    /// What failed, in words.
    pub problem: String,
}

/// An answer that passed every check.
#[derive(Debug, Clone)]
pub struct VerifiedAnswer {
    /// The verdict, re-derived from the history; equal to the server's.
    pub verdict: Verdict,
    /// The parsed scan; `None` when it is malformed.
    pub scan: Option<Scan>,
    /// Why the scan is malformed, as the client's parser says.
    pub scan_error: Option<String>,
    /// The answer's checkpoint, proven to extend the pinned one.
    pub checkpoint: Checkpoint,
    /// The same checkpoint as the signed note it came in.
    pub checkpoint_note: String,
    /// Authorizations and events merged, in log order, every one proven.
    pub history: Vec<HistoryEntry>,
    /// How many of `history` the server sent as the unit's events.
    pub event_count: usize,
}

impl VerifiedAnswer {
    /// The trust to keep after this answer: the same keys with the newer checkpoint pinned.
    pub fn advanced_trust(&self, trust: &Trust) -> Result<Trust, TrustError> {
        if self.checkpoint.size <= trust.checkpoint().size {
            return Ok(trust.clone());
        }
        trust.with_checkpoint(&self.checkpoint_note)
    }
}

/// Checks `answer` to `question` offline against `trust`, re-deriving the verdict at
/// `now_unix_ms` (the client's clock; evidence files use the time they were verified at).
///
/// `question.known_tree_size` must be the pinned checkpoint's size: the consistency proof is
/// checked from it.
pub fn verify_answer(
    question: &pb::VerifyRequest,
    answer: &pb::VerifyResponse,
    trust: &Trust,
    now_unix_ms: i64,
) -> Result<VerifiedAnswer, VerifyError> {
    if answer.history_withheld {
        return Err(VerifyError::HistoryWithheld);
    }
    let checkpoint = trust
        .verify_checkpoint(&answer.checkpoint)
        .map_err(VerifyError::Checkpoint)?;
    check_consistency(question, answer, trust, &checkpoint)?;
    let (history, event_count) = proven_history(answer, &checkpoint)?;
    let site = verifier_site(question)?;
    let (scan, scan_error, verdict) = match parse_scan(&question.scan) {
        Ok(scan) => {
            check_genesis(&history, trust)?;
            let verdict = derive_verdict(&scan, site.as_ref(), &history, now_unix_ms)
                .map_err(VerifyError::History)?;
            (Some(scan), None, verdict)
        }
        Err(error) => {
            if !history.is_empty() || answer.scan_error.is_empty() {
                return Err(VerifyError::Scan(format!(
                    "the scan does not parse ({error}), but the server answered as if it did"
                )));
            }
            (None, Some(error.to_string()), malformed_scan_verdict())
        }
    };
    compare(answer, &verdict)?;
    Ok(VerifiedAnswer {
        verdict,
        scan,
        scan_error,
        checkpoint,
        checkpoint_note: answer.checkpoint.clone(),
        history,
        event_count,
    })
}

/// Checks what an answer with its history withheld (an anonymous caller's) can show: its
/// checkpoint is signed by the log key and extends the pinned one, so a fork is detected by
/// anyone. The verdict itself stays the server's word. Returns the answer's checkpoint.
pub fn verify_withheld_answer(
    question: &pb::VerifyRequest,
    answer: &pb::VerifyResponse,
    trust: &Trust,
) -> Result<Checkpoint, VerifyError> {
    let checkpoint = trust
        .verify_checkpoint(&answer.checkpoint)
        .map_err(VerifyError::Checkpoint)?;
    check_consistency(question, answer, trust, &checkpoint)?;
    Ok(checkpoint)
}

/// Checks that the answer's checkpoint extends the pinned one.
fn check_consistency(
    question: &pb::VerifyRequest,
    answer: &pb::VerifyResponse,
    trust: &Trust,
    checkpoint: &Checkpoint,
) -> Result<(), VerifyError> {
    let pinned = trust.checkpoint();
    if question.known_tree_size != pinned.size.0 || answer.consistency_from != pinned.size.0 {
        return Err(VerifyError::ConsistencyFrom {
            asked: pinned.size.0,
            answered: answer.consistency_from,
        });
    }
    check_proof_len("the consistency proof", answer.consistency_proof.len())?;
    let inconsistent = |problem: String| {
        VerifyError::Inconsistent(Box::new(Inconsistency {
            pinned_size: pinned.size.0,
            other_size: checkpoint.size.0,
            pinned_note: trust.checkpoint_note().to_owned(),
            other_note: answer.checkpoint.clone(),
            proof: answer.consistency_proof.clone(),
            problem,
        }))
    };
    if checkpoint.size < pinned.size {
        return Err(inconsistent(
            "the log presents a smaller tree than one it signed before".into(),
        ));
    }
    isnad_log::verify_consistency_bytes(
        pinned.size,
        checkpoint.size,
        &answer.consistency_proof,
        &pinned.root,
        &checkpoint.root,
    )
    .map_err(|error| {
        inconsistent(format!(
            "the consistency proof from the pinned checkpoint does not verify: {error}"
        ))
    })
}

/// Checks every entry's inclusion proof and event signature, and decodes them into one history
/// in log order. Returns it with the number of entries sent as the unit's events.
fn proven_history(
    answer: &pb::VerifyResponse,
    checkpoint: &Checkpoint,
) -> Result<(Vec<HistoryEntry>, usize), VerifyError> {
    let count = answer.history.len() + answer.authorizations.len();
    if count > ANSWER_ENTRIES_MAX {
        return Err(VerifyError::TooManyEntries { count });
    }
    let mut merged: BTreeMap<u64, (&[u8], HistoryEntry)> = BTreeMap::new();
    let lists = [
        ("history", &answer.history),
        ("authorizations", &answer.authorizations),
    ];
    for (list, entries) in lists {
        for proven in entries {
            let entry = proven_entry(list, proven, checkpoint)?;
            match merged.get(&proven.index) {
                Some((bytes, _)) if *bytes != &proven.entry[..] => {
                    return Err(VerifyError::DuplicateEntry {
                        index: proven.index,
                    });
                }
                Some(_) => {}
                None => {
                    merged.insert(proven.index, (&proven.entry[..], entry));
                }
            }
        }
    }
    let history = merged.into_values().map(|(_, entry)| entry).collect();
    Ok((history, answer.history.len()))
}

/// Checks one entry's inclusion proof and signature, then decodes it.
fn proven_entry(
    list: &'static str,
    proven: &pb::ProvenEntry,
    checkpoint: &Checkpoint,
) -> Result<HistoryEntry, VerifyError> {
    let index = proven.index;
    check_proof_len(
        &format!("{list} entry {index}'s inclusion proof"),
        proven.inclusion_proof.len(),
    )?;
    isnad_log::verify_inclusion_bytes(
        &isnad_log::leaf_hash(&proven.entry),
        LeafIndex(index),
        TreeSize(checkpoint.size.0),
        &proven.inclusion_proof,
        &checkpoint.root,
    )
    .map_err(|error| VerifyError::Inclusion { list, index, error })?;
    check_event_signature(&checkpoint.origin, index, &proven.entry)?;
    isnad_proto::convert::decode_history_entry(index, &proven.entry)
        .map_err(|error| VerifyError::Entry { index, error })
}

/// Verifies the signature of an event entry for the log named `origin` (the pinned log's, which
/// the checkpoint was checked against); genesis carries none.
pub(crate) fn check_event_signature(
    origin: &str,
    index: u64,
    entry: &[u8],
) -> Result<(), VerifyError> {
    let decoded = envelope::decode_entry(entry).map_err(|error| VerifyError::Entry {
        index,
        error: ConvertError::Decode {
            message: "log entry",
            reason: error.to_string(),
        },
    })?;
    match decoded.kind {
        EntryKind::Genesis { .. } => Ok(()),
        EntryKind::Event {
            public_key,
            signature,
            body,
        } => envelope::verify(origin, &public_key, &signature, body)
            .map_err(|error| VerifyError::EventSignature { index, error }),
    }
}

fn check_proof_len(what: &str, count: usize) -> Result<(), VerifyError> {
    if count > PROOF_HASHES_MAX {
        return Err(VerifyError::ProofTooLong {
            what: what.to_owned(),
            count,
        });
    }
    Ok(())
}

/// Checks that the history starts with a genesis entry naming the pinned keys.
fn check_genesis(history: &[HistoryEntry], trust: &Trust) -> Result<(), VerifyError> {
    match history.first() {
        Some(HistoryEntry {
            index: 0,
            kind: HistoryKind::Genesis(genesis),
            ..
        }) => trust.check_genesis(genesis).map_err(VerifyError::Genesis),
        _ => Err(VerifyError::MissingGenesis),
    }
}

fn verifier_site(question: &pb::VerifyRequest) -> Result<Option<Gln>, VerifyError> {
    if question.verifier_site.is_empty() {
        return Ok(None);
    }
    question
        .verifier_site
        .parse()
        .map(Some)
        .map_err(VerifyError::VerifierSite)
}

/// Compares the server's verdict, reasons and unit state with the re-derived ones.
fn compare(answer: &pb::VerifyResponse, derived: &Verdict) -> Result<(), VerifyError> {
    let derived_verdict = reason_code_to_wire(derived.verdict) as i32;
    let derived_reasons: Vec<i32> = derived
        .reasons
        .iter()
        .map(|reason| reason_code_to_wire(*reason) as i32)
        .collect();
    if answer.verdict != derived_verdict || answer.reasons != derived_reasons {
        return Err(VerifyError::VerdictMismatch {
            answered: describe_codes(answer.verdict, &answer.reasons),
            derived: describe_codes(derived_verdict, &derived_reasons),
        });
    }
    let derived_state = derived.state.as_ref().map(unit_view_to_wire);
    if answer.state != derived_state {
        return Err(VerifyError::StateMismatch {
            answered: format!("{:?}", answer.state),
            derived: format!("{derived_state:?}"),
        });
    }
    Ok(())
}

/// `VERDICT [REASON, ...]` with the proto names, or the number of an unknown value.
fn describe_codes(verdict: i32, reasons: &[i32]) -> String {
    let name = |value: i32| match pb::ReasonCode::try_from(value) {
        Ok(code) => code.as_str_name().to_owned(),
        Err(_) => format!("unknown reason code {value}"),
    };
    let reasons: Vec<String> = reasons.iter().map(|reason| name(*reason)).collect();
    format!("{} [{}]", name(verdict), reasons.join(", "))
}

#[cfg(test)]
mod tests;
