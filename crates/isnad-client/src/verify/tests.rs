//! The offline verification of answers, against an in-memory log and its tampered copies.

use isnad_core::event::{DecommissionReason, Item, ReasonCode};
use isnad_testkit::{Scenario, Who};

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
    let error =
        verify_answer(&question, &answer, &trust, log.scenario.clock_unix_ms).expect_err("refused");
    assert!(
        matches!(
            error,
            VerifyError::Genesis(GenesisMismatch::RegulatorKeys { .. })
        ),
        "{error}"
    );
    let other_log = isnad_log::checkpoint::NoteSigner::new(
        &log.scenario.genesis.origin,
        isnad_testkit::signing_key(77),
    )
    .expect("valid name");
    let trust = Trust::new(
        vec![log.scenario.regulator.public_key()],
        &other_log.vkey(),
        &other_log.sign(&Checkpoint::from_note_unverified(&log.checkpoint_at(1)).expect("parses")),
    )
    .expect("signed by the other key");
    let error =
        verify_answer(&question, &answer, &trust, log.scenario.clock_unix_ms).expect_err("refused");
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
    let error =
        verify_answer(&question, &answer, &trust, log.scenario.clock_unix_ms).expect_err("refused");
    assert!(matches!(error, VerifyError::Inconsistent(_)), "{error}");
}

/// An answer whose history was withheld (an anonymous caller's) is never taken as proven,
/// even with its history still in it; what it can show, its checkpoint extending the pinned
/// one, is checked by `verify_withheld_answer`, which refuses a checkpoint that does not.
#[test]
fn a_withheld_answer_is_unproven_and_its_checkpoint_still_checked() {
    let (log, label) = delivered();
    let question = log.question(&label, None, 1);
    let mut answer = log.answer(&question, log.scenario.clock_unix_ms);
    answer.history_withheld = true;
    let trust = log.trust_at(1);
    assert!(matches!(
        verify_answer(&question, &answer, &trust, log.scenario.clock_unix_ms),
        Err(VerifyError::HistoryWithheld)
    ));
    let checkpoint = verify_withheld_answer(&question, &answer, &trust).expect("consistent");
    assert_eq!(checkpoint.size.0, log.size());
    answer.consistency_proof[0][0] ^= 1;
    assert!(matches!(
        verify_withheld_answer(&question, &answer, &trust),
        Err(VerifyError::Inconsistent(_))
    ));
}
