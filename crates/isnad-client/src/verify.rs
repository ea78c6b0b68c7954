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
use isnad_proto::convert::{reason_code_to_wire, unit_view_to_wire};
use isnad_proto::pb;

use crate::trust::{GenesisMismatch, Trust, TrustError};

/// Entries (history and authorizations together) an answer may carry at most: the server
/// sends at most 10,000 history entries, and authorizations are a few per party involved.
pub const ANSWER_ENTRIES_MAX: usize = 20_000;

/// Hashes a proof may carry at most: a tree of up to 2^64 leaves needs at most 64 for an
/// inclusion proof and 128 for a consistency proof.
pub const PROOF_HASHES_MAX: usize = 128;

/// Why an answer is refused. Each variant says which part of the answer failed.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
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
mod tests {
    use isnad_core::event::{DecommissionReason, Item, ReasonCode};
    use isnad_core::testkit::{Scenario, Who};

    use super::*;
    use crate::testlog::TestLog;

    /// A unit commissioned, shipped to the distributor and received there; the other unit of
    /// its lot stays with the manufacturer. Returns the log and the first unit's label.
    fn delivered() -> (TestLog, String) {
        let mut scenario = Scenario::new();
        let units = scenario.commission("L1", &["S1", "S2"]);
        scenario.deliver(
            Who::Manufacturer,
            vec![Item::Unit(units[0].clone())],
            Who::Distributor,
        );
        let label = scenario.label(&units[0], "L1");
        (TestLog::new(scenario), label)
    }

    /// The distributor's site, where the delivered unit is.
    fn distributor_site(log: &TestLog) -> String {
        log.scenario.distributor.site.to_string()
    }

    /// Asks `log` about `scan` from `site` with trust pinned at `pinned`, and verifies.
    fn ask(
        log: &TestLog,
        scan: &str,
        site: Option<&str>,
        pinned: u64,
    ) -> Result<VerifiedAnswer, VerifyError> {
        let question = log.question(scan, site, pinned);
        let answer = log.answer(&question, log.scenario.clock_unix_ms);
        verify_answer(
            &question,
            &answer,
            &log.trust_at(pinned),
            log.scenario.clock_unix_ms,
        )
    }

    #[test]
    fn honest_answers_verify_with_the_servers_verdict() {
        let (mut log, label) = delivered();
        let site = distributor_site(&log);
        let verified = ask(&log, &label, Some(&site), 1).expect("an honest answer verifies");
        assert_eq!(verified.verdict.verdict, ReasonCode::Genuine);
        assert_eq!(verified.history[0].index, 0, "genesis comes first");
        assert_eq!(verified.checkpoint.size.0, log.size());
        assert!(
            verified.event_count >= 4,
            "register, commission, ship, receive"
        );

        let elsewhere = log.scenario.hospital.site.to_string();
        let verified = ask(&log, &label, Some(&elsewhere), log.size()).expect("verifies");
        assert_eq!(verified.verdict.verdict, ReasonCode::CustodyMismatch);

        let unit = log.scenario.unit("S1");
        log.scenario.decommission(
            Who::Distributor,
            vec![Item::Unit(unit)],
            DecommissionReason::Destroyed,
        );
        log.sync();
        let verified = ask(&log, &label, None, 3).expect("verifies");
        assert_eq!(verified.verdict.verdict, ReasonCode::AlreadyDecommissioned);
    }

    #[test]
    fn a_malformed_scan_is_answered_without_history() {
        let (log, _) = delivered();
        let verified = ask(&log, "(01)12345", None, log.size()).expect("verifies");
        assert_eq!(verified.verdict.verdict, ReasonCode::MalformedScan);
        assert!(verified.scan.is_none());
        assert!(verified.scan_error.is_some());
    }

    #[test]
    fn the_advanced_trust_pins_the_newer_checkpoint() {
        let (log, label) = delivered();
        let trust = log.trust_at(2);
        let verified = ask(&log, &label, None, 2).expect("verifies");
        let advanced = verified.advanced_trust(&trust).expect("signed by the log");
        assert_eq!(advanced.checkpoint().size.0, log.size());
        assert_eq!(advanced.regulator_keys(), trust.regulator_keys());
    }

    /// A way to alter an honest answer, and the error that must refuse it.
    type Tamper = (
        &'static str,
        fn(&mut pb::VerifyResponse),
        fn(&VerifyError) -> bool,
    );

    #[track_caller]
    fn check(name: &str, tamper: fn(&mut pb::VerifyResponse), expected: fn(&VerifyError) -> bool) {
        let (log, label) = delivered();
        let pinned = 3;
        let question = log.question(&label, Some(&distributor_site(&log)), pinned);
        let mut answer = log.answer(&question, log.scenario.clock_unix_ms);
        let honest = answer.clone();
        tamper(&mut answer);
        assert_ne!(answer, honest, "{name}: the tamper changed nothing");
        let trust = log.trust_at(pinned);
        match verify_answer(&question, &answer, &trust, log.scenario.clock_unix_ms) {
            Ok(_) => panic!("{name}: a tampered answer was accepted"),
            Err(error) => assert!(
                expected(&error),
                "{name}: refused for another reason: {error}"
            ),
        }
    }

    fn flip_entry(entry: &mut pb::ProvenEntry, position: usize) {
        entry.entry[position] ^= 0x01;
    }

    fn replace_char(text: &str, position: usize) -> String {
        text.chars()
            .enumerate()
            .map(|(index, c)| match (index == position, c) {
                (false, c) => c,
                (true, 'A') => 'B',
                (true, _) => 'A',
            })
            .collect()
    }

    fn is_inclusion(error: &VerifyError) -> bool {
        matches!(error, VerifyError::Inclusion { .. })
    }

    fn is_checkpoint(error: &VerifyError) -> bool {
        matches!(error, VerifyError::Checkpoint(_))
    }

    fn is_verdict(error: &VerifyError) -> bool {
        matches!(error, VerifyError::VerdictMismatch { .. })
    }

    #[test]
    fn tampered_answers_are_refused_with_the_reason() {
        let table: &[Tamper] = &[
            (
                "event body byte",
                |a| flip_entry(&mut a.history[1], 120),
                is_inclusion,
            ),
            (
                "event key byte",
                |a| flip_entry(&mut a.history[1], 12),
                is_inclusion,
            ),
            (
                "event signature byte",
                |a| flip_entry(&mut a.history[1], 50),
                is_inclusion,
            ),
            (
                "recorded time byte",
                |a| flip_entry(&mut a.history[2], 9),
                is_inclusion,
            ),
            (
                "genesis byte",
                |a| flip_entry(&mut a.authorizations[0], 30),
                is_inclusion,
            ),
            (
                "inclusion proof hash",
                |a| a.history[0].inclusion_proof[0][5] ^= 1,
                is_inclusion,
            ),
            (
                "inclusion proof cut",
                |a| drop(a.history[0].inclusion_proof.pop()),
                is_inclusion,
            ),
            (
                "entry moved to another index",
                |a| a.history[1].index += 1,
                is_inclusion,
            ),
            (
                "checkpoint body",
                |a| a.checkpoint = replace_char(&a.checkpoint, 20),
                is_checkpoint,
            ),
            (
                "checkpoint signature",
                |a| a.checkpoint = replace_char(&a.checkpoint, 70),
                is_checkpoint,
            ),
            (
                "consistency proof hash",
                |a| a.consistency_proof[0][0] ^= 1,
                |e| matches!(e, VerifyError::Inconsistent(_)),
            ),
            (
                "consistency from another size",
                |a| a.consistency_from = 2,
                |e| {
                    matches!(
                        e,
                        VerifyError::ConsistencyFrom {
                            asked: 3,
                            answered: 2
                        }
                    )
                },
            ),
            (
                "genesis withheld",
                |a| drop(a.authorizations.remove(0)),
                |e| matches!(e, VerifyError::MissingGenesis),
            ),
            (
                "a signer's admission withheld",
                |a| drop(a.authorizations.remove(1)),
                |e| matches!(e, VerifyError::History(_)),
            ),
            (
                "the receipt withheld",
                |a| drop(a.history.pop()),
                is_verdict,
            ),
            (
                "verdict changed",
                |a| a.verdict = pb::ReasonCode::Recalled as i32,
                is_verdict,
            ),
            (
                "reason added",
                |a| a.reasons.push(pb::ReasonCode::Expired as i32),
                is_verdict,
            ),
            (
                "state changed",
                |a| a.state.as_mut().expect("a known unit").holder = "6110000000011".into(),
                |e| matches!(e, VerifyError::StateMismatch { .. }),
            ),
        ];
        for (name, tamper, expected) in table {
            check(name, *tamper, *expected);
        }
    }

    /// The proven entries of an answer, history first, as (list, position) pairs.
    fn entry_positions(answer: &pb::VerifyResponse) -> Vec<(bool, usize)> {
        let history = (0..answer.history.len()).map(|position| (false, position));
        let authorizations = (0..answer.authorizations.len()).map(|position| (true, position));
        history.chain(authorizations).collect()
    }

    fn pick(
        answer: &mut pb::VerifyResponse,
        (authorization, position): (bool, usize),
    ) -> &mut pb::ProvenEntry {
        if authorization {
            &mut answer.authorizations[position]
        } else {
            &mut answer.history[position]
        }
    }

    /// One alteration of an answer.
    type Alteration = Box<dyn Fn(&mut pb::VerifyResponse)>;

    /// Applies every alteration to a copy of `honest` and checks each is refused as expected.
    /// Returns how many were tried.
    #[track_caller]
    fn refuse_all(
        log: &TestLog,
        question: &pb::VerifyRequest,
        honest: &pb::VerifyResponse,
        alterations: Vec<Alteration>,
        expected: fn(&VerifyError) -> bool,
    ) -> usize {
        let trust = log.trust_at(question.known_tree_size);
        for alter in &alterations {
            let mut answer = honest.clone();
            alter(&mut answer);
            let error = verify_answer(question, &answer, &trust, log.scenario.clock_unix_ms)
                .expect_err("an altered answer is refused");
            assert!(expected(&error), "refused for another reason: {error}");
        }
        alterations.len()
    }

    #[test]
    fn every_byte_of_every_entry_proof_and_checkpoint_is_covered() {
        let (log, label) = delivered();
        let question = log.question(&label, None, log.size());
        let honest = log.answer(&question, log.scenario.clock_unix_ms);
        let mut entry_flips: Vec<Alteration> = Vec::new();
        let mut proof_flips: Vec<Alteration> = Vec::new();
        for at in entry_positions(&honest) {
            let mut probe = honest.clone();
            let proven = pick(&mut probe, at);
            for byte in 0..proven.entry.len() {
                entry_flips.push(Box::new(move |a| flip_entry(pick(a, at), byte)));
            }
            for hash in 0..proven.inclusion_proof.len() {
                for byte in 0..isnad_log::HASH_LEN {
                    proof_flips.push(Box::new(move |a| {
                        pick(a, at).inclusion_proof[hash][byte] ^= 0x80
                    }));
                }
            }
        }
        let checkpoint_changes: Vec<Alteration> = (0..honest.checkpoint.chars().count())
            .map(|position| -> Alteration {
                Box::new(move |a| a.checkpoint = replace_char(&a.checkpoint, position))
            })
            .collect();
        let tried = refuse_all(&log, &question, &honest, entry_flips, is_inclusion)
            + refuse_all(&log, &question, &honest, proof_flips, is_inclusion)
            + refuse_all(&log, &question, &honest, checkpoint_changes, is_checkpoint);
        assert!(tried > 2_000, "only {tried} alterations tried");
    }

    #[test]
    fn a_log_that_accepted_a_bad_signature_is_caught() {
        // The log hashed an entry whose signature does not verify: the proofs hold, the
        // signature check does not.
        let (honest, label) = delivered();
        let log = TestLog::tampered(honest.scenario, Some((7, |entry| entry[60] ^= 1)));
        let error = ask(&log, &label, None, 1).expect_err("refused");
        assert!(
            matches!(error, VerifyError::EventSignature { index: 7, .. }),
            "{error}"
        );
    }

    #[test]
    fn events_signed_for_another_log_are_refused() {
        let (honest, label) = delivered();
        let log = TestLog::signed_for(honest.scenario, "isnad.sante.gov.ma/log");
        let error = ask(&log, &label, None, 1).expect_err("refused");
        assert!(
            matches!(
                error,
                VerifyError::EventSignature {
                    error: EnvelopeError::SignatureInvalid,
                    ..
                }
            ),
            "{error}"
        );
    }

    #[test]
    fn another_regulator_or_log_key_is_refused() {
        let (log, label) = delivered();
        let question = log.question(&label, None, 1);
        let answer = log.answer(&question, log.scenario.clock_unix_ms);
        let stranger = log.scenario.manufacturer.public_key();
        let trust = Trust::new(vec![stranger], &log.vkey(), &log.checkpoint_at(1))
            .expect("the checkpoint is signed by the log");
        let error = verify_answer(&question, &answer, &trust, log.scenario.clock_unix_ms)
            .expect_err("refused");
        assert!(
            matches!(
                error,
                VerifyError::Genesis(GenesisMismatch::RegulatorKeys { .. })
            ),
            "{error}"
        );
        let other_log = isnad_log::checkpoint::NoteSigner::new(
            &log.scenario.genesis.origin,
            isnad_core::testkit::signing_key(77),
        )
        .expect("valid name");
        let trust = Trust::new(
            vec![log.scenario.regulator.public_key()],
            &other_log.vkey(),
            &other_log
                .sign(&Checkpoint::from_note_unverified(&log.checkpoint_at(1)).expect("parses")),
        )
        .expect("signed by the other key");
        let error = verify_answer(&question, &answer, &trust, log.scenario.clock_unix_ms)
            .expect_err("refused");
        assert!(is_checkpoint(&error), "{error}");
    }

    #[test]
    fn a_diverging_log_is_reported_as_a_fork_with_both_checkpoints() {
        let (base, label) = delivered();
        let mut ours = base.scenario.clone();
        ours.commission("L2", &["A1"]);
        let ours = TestLog::new(ours);
        let mut theirs = base.scenario;
        theirs.commission("L3", &["B1"]);
        theirs.commission("L4", &["B2"]);
        let theirs = TestLog::new(theirs);
        let trust = ours.trust_at(ours.size());
        let question = theirs.question(&label, None, ours.size());
        let answer = theirs.answer(&question, theirs.scenario.clock_unix_ms);
        let error = verify_answer(&question, &answer, &trust, theirs.scenario.clock_unix_ms)
            .expect_err("a fork is refused");
        let VerifyError::Inconsistent(fork) = error else {
            panic!("expected a fork, got {error}");
        };
        assert_eq!(fork.pinned_note, ours.checkpoint_at(ours.size()));
        assert_eq!(fork.other_note, answer.checkpoint);
        assert_eq!(
            (fork.pinned_size, fork.other_size),
            (ours.size(), theirs.size())
        );
    }

    #[test]
    fn an_answer_of_a_smaller_tree_than_the_pinned_one_is_refused() {
        let (log, label) = delivered();
        let trust = log.trust_at(log.size());
        let mut question = log.question(&label, None, log.size());
        let mut answer = log.answer(&question, log.scenario.clock_unix_ms);
        answer.checkpoint = log.checkpoint_at(log.size() - 1);
        question.known_tree_size = log.size();
        let error = verify_answer(&question, &answer, &trust, log.scenario.clock_unix_ms)
            .expect_err("refused");
        assert!(matches!(error, VerifyError::Inconsistent(_)), "{error}");
    }
}
