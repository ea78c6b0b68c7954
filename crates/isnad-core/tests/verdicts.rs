//! Verdicts: every reason code from a scenario, derived the way a verifier does it, from the
//! history `history_for_scan` selects; and histories that do not hold together.

use isnad_core::event::{DecommissionReason, Item, Payload, PublicKey, ReasonCode};
use isnad_core::gs1::Gln;
use isnad_core::limits::SIGHTINGS_JUDGED_MAX;
use isnad_core::queries;
use isnad_core::rules::RejectCode;
use isnad_core::scan::parse_scan;
use isnad_core::verdict::{
    HistoryEntry, HistoryError, HistoryKind, UnitStatus, derive_verdict, malformed_scan_verdict,
};
use isnad_testkit::{DAY_MS, Scenario, Who, gtin, signing_key, sscc_number};

/// What a row's story leaves: the scenario, the scan to verify, and where the verifier is.
struct Scene {
    scenario: Scenario,
    scan: String,
    verifier_site: Option<Gln>,
}

type Row = (&'static str, fn() -> Scene, &'static [ReasonCode]);

#[track_caller]
fn check(name: &str, story: fn() -> Scene, expected: &[ReasonCode]) {
    let scene = story();
    let verdict = scene
        .scenario
        .verdict(&scene.scan, scene.verifier_site.as_ref())
        .unwrap_or_else(|error| panic!("{name}: the history does not hold together: {error}"));
    assert_eq!(verdict.reasons, expected, "{name}: reasons");
    let first = expected.first().copied().unwrap_or(ReasonCode::Genuine);
    assert_eq!(verdict.verdict, first, "{name}: verdict");
    // The replay of the partial history and the server's full state agree on the unit.
    let scan = parse_scan(&scene.scan).expect("scenario scans parse");
    let server_view = match scan.unit() {
        Some(unit) => queries::unit(&scene.scenario.state, &unit, scene.scenario.clock_unix_ms)
            .expect("memory"),
        None => None,
    };
    assert_eq!(verdict.state, server_view, "{name}: replayed state");
}

/// `SN1` (and `SN2`) of lot `L1` at the manufacturer; the scan is `SN1`'s label.
fn commissioned() -> Scene {
    let mut scenario = Scenario::new();
    let units = scenario.commission("L1", &["SN1", "SN2"]);
    let scan = scenario.label(&units[0], "L1");
    Scene {
        scenario,
        scan,
        verifier_site: None,
    }
}

fn sn1(scene: &Scene) -> Item {
    Item::Unit(scene.scenario.unit("SN1"))
}

/// `SN1` at the distributor.
fn at_distributor() -> Scene {
    let mut scene = commissioned();
    let unit = sn1(&scene);
    scene
        .scenario
        .deliver(Who::Manufacturer, vec![unit], Who::Distributor);
    scene
}

/// `SN1` at the hospital, verified at the hospital's site.
fn at_hospital() -> Scene {
    let mut scene = at_distributor();
    let unit = sn1(&scene);
    scene
        .scenario
        .deliver(Who::Distributor, vec![unit], Who::Hospital);
    scene.verifier_site = Some(scene.scenario.hospital.site);
    scene
}

/// `SN1` in a case on a pallet, the pallet delivered to the distributor and broken up, the case
/// delivered to the hospital.
fn through_a_pallet() -> Scene {
    let mut scene = commissioned();
    let (case, pallet) = (sscc_number(1), sscc_number(2));
    let scenario = &mut scene.scenario;
    let units = vec![
        Item::Unit(scenario.unit("SN1")),
        Item::Unit(scenario.unit("SN2")),
    ];
    scenario.aggregate(Who::Manufacturer, case, units);
    scenario.aggregate(Who::Manufacturer, pallet, vec![Item::Sscc(case)]);
    scenario.deliver(
        Who::Manufacturer,
        vec![Item::Sscc(pallet)],
        Who::Distributor,
    );
    scenario.accept(
        Who::Distributor,
        Payload::Disaggregate {
            sscc: pallet,
            items: Vec::new(),
        },
    );
    scenario.deliver(Who::Distributor, vec![Item::Sscc(case)], Who::Hospital);
    scene.verifier_site = Some(scene.scenario.hospital.site);
    scene
}

/// `SN1` taken out of its case at the manufacturer; the case, refilled, goes its own way
/// (to the hospital, then back to the distributor) while `SN1` goes to the distributor.
fn out_of_a_reused_case() -> Scene {
    let mut scene = commissioned();
    let case = sscc_number(1);
    let scenario = &mut scene.scenario;
    let (first, second) = (
        Item::Unit(scenario.unit("SN1")),
        Item::Unit(scenario.unit("SN2")),
    );
    scenario.aggregate(Who::Manufacturer, case, vec![first.clone(), second]);
    scenario.accept(
        Who::Manufacturer,
        Payload::Disaggregate {
            sscc: case,
            items: vec![first.clone()],
        },
    );
    scenario.deliver(Who::Manufacturer, vec![Item::Sscc(case)], Who::Hospital);
    scenario.deliver(Who::Hospital, vec![Item::Sscc(case)], Who::Distributor);
    scenario.deliver(Who::Manufacturer, vec![first.clone()], Who::Distributor);
    // The unit goes back into the same case, now at the distributor.
    scenario.aggregate(Who::Distributor, case, vec![first]);
    scene.verifier_site = Some(scene.scenario.distributor.site);
    scene
}

fn rows() -> Vec<Row> {
    vec![
        ("at the manufacturer", commissioned, &[]),
        ("received by the hospital, verified there", at_hospital, &[]),
        ("through a pallet and a case", through_a_pallet, &[]),
        ("out of a case that is reused", out_of_a_reused_case, &[]),
        (
            "commissioned in a range of serials",
            || {
                let mut scene = commissioned();
                let payload = scene.scenario.commission_range_payload("L3", "R", 500);
                scene.scenario.accept(Who::Manufacturer, payload);
                let unit = scene.scenario.unit("R000042");
                scene.scan = scene.scenario.label(&unit, "L3");
                scene
            },
            &[],
        ),
        (
            "a GTIN nobody registered",
            || {
                let mut scene = commissioned();
                scene.scan = format!("(01){}(10)L1(21)SN1", gtin("0611999900001"));
                scene
            },
            &[ReasonCode::UnknownProduct],
        ),
        (
            "a lot the GTIN never had",
            || {
                let mut scene = commissioned();
                let ghost = scene.scenario.unit("SN9");
                scene.scan = scene.scenario.label(&ghost, "LX");
                scene
            },
            &[ReasonCode::UnknownLot],
        ),
        (
            "a serial the lot never had",
            || {
                let mut scene = commissioned();
                let ghost = scene.scenario.unit("SN9");
                scene.scan = scene.scenario.label(&ghost, "L1");
                scene
            },
            &[ReasonCode::UnknownSerial],
        ),
        (
            "a serial without a lot on the label",
            || {
                let mut scene = commissioned();
                scene.scan = format!("(01){}(21)SN9", scene.scenario.gtin);
                scene
            },
            &[ReasonCode::UnknownSerial],
        ),
        (
            "a lot on the label that is not the unit's",
            || {
                let mut scene = commissioned();
                scene.scenario.commission("L2", &["SN7"]);
                let unit = scene.scenario.unit("SN1");
                scene.scan = scene.scenario.label(&unit, "L2");
                scene
            },
            &[ReasonCode::LotMismatch],
        ),
        (
            "an expiry on the label that is not the lot's",
            || {
                let mut scene = commissioned();
                scene.scan = scene.scan.replace("(17)281231", "(17)291231");
                scene
            },
            &[ReasonCode::ExpiryMismatch],
        ),
        (
            "the same expiry written as day 00",
            || {
                let mut scene = commissioned();
                scene.scan = scene.scan.replace("(17)281231", "(17)281200");
                scene
            },
            &[],
        ),
        (
            "used at the hospital",
            || {
                let mut scene = at_hospital();
                let unit = sn1(&scene);
                scene
                    .scenario
                    .decommission(Who::Hospital, vec![unit], DecommissionReason::Used);
                scene
            },
            &[ReasonCode::AlreadyDecommissioned],
        ),
        (
            "in a case that was destroyed",
            || {
                let mut scene = through_a_pallet();
                scene.scenario.decommission(
                    Who::Hospital,
                    vec![Item::Sscc(sscc_number(1))],
                    DecommissionReason::Destroyed,
                );
                scene
            },
            &[ReasonCode::AlreadyDecommissioned],
        ),
        (
            "its lot recalled",
            || {
                let mut scene = at_hospital();
                let lot = scene.scenario.lot("L1");
                scene.scenario.accept(
                    Who::Regulator,
                    Payload::Recall {
                        lot,
                        reason: "sterility".to_owned(),
                    },
                );
                scene
            },
            &[ReasonCode::Recalled],
        ),
        (
            "past its expiry",
            || {
                let mut scene = at_hospital();
                scene.scenario.advance_days(3 * 366);
                scene
            },
            &[ReasonCode::Expired],
        ),
        (
            "shipped, not yet received",
            || {
                let mut scene = at_distributor();
                let unit = sn1(&scene);
                scene
                    .scenario
                    .ship(Who::Distributor, vec![unit], Who::Hospital);
                scene.verifier_site = Some(scene.scenario.hospital.site);
                scene
            },
            &[ReasonCode::InTransit],
        ),
        (
            "its pallet shipped, not yet received",
            || {
                let mut scene = commissioned();
                let unit = sn1(&scene);
                scene
                    .scenario
                    .aggregate(Who::Manufacturer, sscc_number(1), vec![unit]);
                scene.scenario.ship(
                    Who::Manufacturer,
                    vec![Item::Sscc(sscc_number(1))],
                    Who::Distributor,
                );
                scene
            },
            &[ReasonCode::InTransit],
        ),
        (
            "found at a site that is not its holder's",
            || {
                let mut scene = at_distributor();
                scene.verifier_site = Some(scene.scenario.hospital.site);
                scene
            },
            &[ReasonCode::CustodyMismatch],
        ),
        (
            "its holder suspended",
            || {
                let mut scene = at_distributor();
                let party = scene.scenario.distributor.party;
                scene.scenario.accept(
                    Who::Regulator,
                    Payload::SuspendParticipant {
                        party,
                        reason: "audit".to_owned(),
                    },
                );
                scene
            },
            &[ReasonCode::SuspendedHolder],
        ),
        (
            "inspected where its custody cannot explain",
            || {
                let mut scene = at_distributor();
                let (site, scan) = (scene.scenario.hospital.site, scene.scan.clone());
                scene.scenario.inspect_at(site, &scan);
                scene
            },
            &[ReasonCode::DuplicateSighting],
        ),
        (
            "inspected where it is held",
            || {
                let mut scene = at_distributor();
                let (site, scan) = (scene.scenario.distributor.site, scene.scan.clone());
                scene.scenario.inspect_at(site, &scan);
                scene
            },
            &[],
        ),
        (
            "inspected on the road",
            || {
                let mut scene = at_distributor();
                let unit = sn1(&scene);
                scene
                    .scenario
                    .ship(Who::Distributor, vec![unit], Who::Hospital);
                let (site, scan) = (scene.scenario.inspector.site, scene.scan.clone());
                scene.scenario.inspect_at(site, &scan);
                scene
            },
            &[ReasonCode::InTransit],
        ),
        (
            "an unknown serial inspected at two sites",
            || {
                let mut scene = commissioned();
                let ghost = scene.scenario.unit("FAKE1");
                scene.scan = scene.scenario.label(&ghost, "L1");
                let (first, second, scan) = (
                    scene.scenario.hospital.site,
                    scene.scenario.distributor.site,
                    scene.scan.clone(),
                );
                scene.scenario.inspect_at(first, &scan);
                scene.scenario.inspect_at(second, &scan);
                scene
            },
            &[ReasonCode::UnknownSerial, ReasonCode::DuplicateSighting],
        ),
        (
            "shipped with a key later revoked as compromised since before",
            || {
                let mut scene = at_distributor();
                let unit = sn1(&scene);
                let since = scene.scenario.clock_unix_ms - DAY_MS;
                scene
                    .scenario
                    .deliver(Who::Distributor, vec![unit], Who::Hospital);
                revoke_compromised(&mut scene.scenario, Who::Distributor, since);
                scene.verifier_site = Some(scene.scenario.hospital.site);
                scene
            },
            &[ReasonCode::CompromisedSigner],
        ),
        (
            "signed before its key was compromised",
            || {
                let mut scene = at_distributor();
                let unit = sn1(&scene);
                scene
                    .scenario
                    .deliver(Who::Distributor, vec![unit], Who::Hospital);
                let since = scene.scenario.clock_unix_ms;
                revoke_compromised(&mut scene.scenario, Who::Distributor, since);
                scene.verifier_site = Some(scene.scenario.hospital.site);
                scene
            },
            &[],
        ),
        (
            "recalled while in transit",
            || {
                let mut scene = at_distributor();
                let unit = sn1(&scene);
                scene
                    .scenario
                    .ship(Who::Distributor, vec![unit], Who::Hospital);
                let lot = scene.scenario.lot("L1");
                scene.scenario.accept(
                    Who::Manufacturer,
                    Payload::Recall {
                        lot,
                        reason: "sterility".to_owned(),
                    },
                );
                scene
            },
            &[ReasonCode::Recalled, ReasonCode::InTransit],
        ),
        (
            "a clone with the wrong lot, seen twice, at the wrong site",
            || {
                let mut scene = at_distributor();
                scene.scenario.commission("L2", &["SN7"]);
                let unit = scene.scenario.unit("SN1");
                scene.scan = scene.scenario.label(&unit, "L2");
                let (site, scan) = (scene.scenario.hospital.site, scene.scan.clone());
                scene.scenario.inspect_at(site, &scan);
                scene.verifier_site = Some(site);
                scene
            },
            &[
                ReasonCode::LotMismatch,
                ReasonCode::DuplicateSighting,
                ReasonCode::CustodyMismatch,
            ],
        ),
        (
            "an unexplained sighting among the latest ones",
            || sighted_then_seen_at_home(SIGHTINGS_JUDGED_MAX - 1),
            &[ReasonCode::DuplicateSighting],
        ),
        (
            "an unexplained sighting older than the latest ones",
            || sighted_then_seen_at_home(SIGHTINGS_JUDGED_MAX),
            &[],
        ),
    ]
}

/// `SN1` at the distributor, inspected once at the hospital (which its custody does not
/// explain), then `times` more at the distributor's own site.
fn sighted_then_seen_at_home(times: usize) -> Scene {
    let mut scene = at_distributor();
    let (away, home, scan) = (
        scene.scenario.hospital.site,
        scene.scenario.distributor.site,
        scene.scan.clone(),
    );
    scene.scenario.inspect_at(away, &scan);
    for _ in 0..times {
        scene.scenario.inspect_at(home, &scan);
    }
    scene
}

/// The verdict weighs the latest sightings whatever history it is given: the whole log, with
/// every sighting, judges as the server's selection of the latest ones does.
#[test]
fn the_verdict_weighs_the_latest_sightings_of_any_history() {
    for (times, expected) in [
        (SIGHTINGS_JUDGED_MAX - 1, ReasonCode::DuplicateSighting),
        (SIGHTINGS_JUDGED_MAX, ReasonCode::Genuine),
    ] {
        let scene = sighted_then_seen_at_home(times);
        let selected = history_without(&scene, |_| false);
        let sightings = selected
            .iter()
            .filter(|entry| {
                matches!(&entry.kind, HistoryKind::Event(event)
                    if matches!(event.payload, Payload::Inspect { .. }))
            })
            .count();
        assert_eq!(sightings, SIGHTINGS_JUDGED_MAX, "the selection");
        assert_eq!(derive(&scene, &selected), Ok(expected), "{times}: selected");
        assert_eq!(
            derive(&scene, &scene.scenario.entries),
            Ok(expected),
            "{times}: the whole log"
        );
    }
}

/// The regulator adds a new key for `who` and revokes the old one as compromised since `since`.
fn revoke_compromised(scenario: &mut Scenario, who: Who, since: i64) {
    let party = scenario.actor(who).party;
    let old = scenario.actor(who).public_key();
    let new_key = signing_key(50);
    let public_key = PublicKey(new_key.verifying_key().to_bytes());
    scenario.accept(Who::Regulator, Payload::AddKey { party, public_key });
    scenario.accept(
        Who::Regulator,
        Payload::RevokeKey {
            party,
            public_key: old,
            compromised_since_unix_ms: Some(since),
        },
    );
    scenario.actor_mut(who).signing_key = new_key;
}

#[test]
fn verdicts_from_histories() {
    for (name, story, expected) in rows() {
        check(name, story, expected);
    }
}

#[test]
fn every_reason_code_is_produced() {
    let mut produced: Vec<ReasonCode> = rows()
        .iter()
        .flat_map(|(_, _, reasons)| reasons.iter().copied())
        .collect();
    produced.push(ReasonCode::Genuine);
    produced.push(malformed_scan_verdict().verdict);
    for code in ReasonCode::ALL {
        assert!(
            produced.contains(&code),
            "no scenario produces {}",
            code.as_str()
        );
    }
}

#[test]
fn malformed_scan_verdict_has_no_state() {
    let verdict = malformed_scan_verdict();
    assert_eq!(verdict.verdict, ReasonCode::MalformedScan);
    assert_eq!(verdict.reasons, vec![ReasonCode::MalformedScan]);
    assert_eq!(verdict.state, None);
}

#[test]
fn state_of_a_unit_at_the_hospital() {
    let scene = through_a_pallet();
    let verdict = scene
        .scenario
        .verdict(&scene.scan, scene.verifier_site.as_ref())
        .expect("consistent");
    let state = verdict.state.expect("a known unit has a state");
    assert_eq!(state.status, UnitStatus::Active);
    assert_eq!(state.holder, scene.scenario.hospital.party);
    assert_eq!(state.site, scene.scenario.hospital.site);
    assert_eq!(state.container, Some(sscc_number(1)));
    assert_eq!(state.destination, None);
}

/// The history of a scan, with the entries the test wants gone.
fn history_without(scene: &Scene, drop: impl Fn(&HistoryEntry) -> bool) -> Vec<HistoryEntry> {
    let scan = parse_scan(&scene.scan).expect("scenario scans parse");
    scene
        .scenario
        .history(&scan)
        .into_iter()
        .filter(|entry| !drop(entry))
        .collect()
}

#[track_caller]
fn derive(scene: &Scene, history: &[HistoryEntry]) -> Result<ReasonCode, HistoryError> {
    let scan = parse_scan(&scene.scan).expect("scenario scans parse");
    derive_verdict(&scan, None, history, scene.scenario.clock_unix_ms)
        .map(|verdict| verdict.verdict)
}

#[test]
fn a_history_out_of_log_order_is_refused() {
    let scene = at_hospital();
    let mut history = history_without(&scene, |_| false);
    let last = history.len() - 1;
    history.swap(last - 1, last);
    assert!(matches!(
        derive(&scene, &history),
        Err(HistoryError::NotInLogOrder { .. })
    ));
}

#[test]
fn a_history_without_genesis_is_refused() {
    let scene = at_hospital();
    let history = history_without(&scene, |entry| entry.index == 0);
    assert_eq!(derive(&scene, &history), Err(HistoryError::MissingGenesis));
    assert_eq!(derive(&scene, &[]), Err(HistoryError::MissingGenesis));
}

#[test]
fn an_addressee_the_registry_entries_do_not_admit_is_refused() {
    let scene = at_hospital();
    let distributor = scene.scenario.distributor.party;
    let admission = |entry: &HistoryEntry| {
        matches!(&entry.kind, HistoryKind::Event(event)
            if matches!(&event.payload, Payload::AdmitParticipant(admit) if admit.party == distributor))
    };
    let history = history_without(&scene, admission);
    // The manufacturer's Ship to the distributor is the first event that needs it.
    match derive(&scene, &history) {
        Err(HistoryError::Refused { rejection, .. }) => {
            assert_eq!(rejection.code, RejectCode::UnknownParticipant)
        }
        other => panic!("expected an unknown addressee, got {other:?}"),
    }
}

#[test]
fn a_signer_the_registry_entries_do_not_admit_is_refused() {
    let mut scene = at_distributor();
    let new_key = signing_key(50);
    let party = scene.scenario.distributor.party;
    let public_key = PublicKey(new_key.verifying_key().to_bytes());
    scene
        .scenario
        .accept(Who::Regulator, Payload::AddKey { party, public_key });
    scene.scenario.actor_mut(Who::Distributor).signing_key = new_key;
    let unit = sn1(&scene);
    scene
        .scenario
        .deliver(Who::Distributor, vec![unit], Who::Hospital);
    let history = history_without(
        &scene,
        |entry| matches!(&entry.kind, HistoryKind::Event(event) if matches!(event.payload, Payload::AddKey { .. })),
    );
    match derive(&scene, &history) {
        Err(HistoryError::Refused { rejection, .. }) => {
            assert_eq!(rejection.code, RejectCode::UnknownKey)
        }
        other => panic!("expected an unknown signer, got {other:?}"),
    }
}

#[test]
fn a_custody_chain_with_a_gap_is_refused() {
    let scene = at_hospital();
    // Without the distributor's Receive, its Ship of a unit still in transit is refused.
    let receive_by_distributor = |entry: &HistoryEntry| {
        matches!(&entry.kind, HistoryKind::Event(event)
            if matches!(event.payload, Payload::Receive { .. }) && event.actor == scene.scenario.distributor.party)
    };
    let history = history_without(&scene, receive_by_distributor);
    match derive(&scene, &history) {
        Err(HistoryError::Refused { rejection, .. }) => {
            assert_eq!(rejection.code, RejectCode::InTransit)
        }
        other => panic!("expected a broken custody chain, got {other:?}"),
    }
}

#[test]
fn an_event_signed_by_another_key_is_refused() {
    let scene = at_hospital();
    let mut history = history_without(&scene, |_| false);
    let last = history.last_mut().expect("a history");
    last.signer = Some(scene.scenario.manufacturer.public_key());
    match derive(&scene, &history) {
        Err(HistoryError::Refused { rejection, .. }) => {
            assert_eq!(rejection.code, RejectCode::KeyNotActor)
        }
        other => panic!("expected a refused signer, got {other:?}"),
    }
}

#[test]
fn history_of_an_unknown_serial_names_the_product_and_the_lot() {
    let scene = commissioned();
    let ghost = scene.scenario.unit("SN9");
    let scan = parse_scan(&scene.scenario.label(&ghost, "L1")).expect("parses");
    let indexes = queries::history_for_scan(&scene.scenario.state, &scan).expect("memory");
    let registration = 5;
    let commission = 6;
    assert_eq!(indexes.events, vec![registration, commission]);
    assert!(indexes.authorizations.contains(&0));
    assert!(
        indexes.authorizations.contains(&1),
        "the manufacturer's admission"
    );
    assert!(
        !indexes.authorizations.contains(&2),
        "not the distributor's admission"
    );
}

#[test]
fn an_event_without_a_signer_or_a_second_genesis_is_malformed() {
    let scene = at_hospital();
    let mut unsigned = history_without(&scene, |_| false);
    unsigned.last_mut().expect("a history").signer = None;
    assert!(matches!(
        derive(&scene, &unsigned),
        Err(HistoryError::Malformed { .. })
    ));
    let mut two_roots = history_without(&scene, |_| false);
    let genesis = two_roots[0].kind.clone();
    two_roots.last_mut().expect("a history").kind = genesis;
    assert!(matches!(
        derive(&scene, &two_roots),
        Err(HistoryError::Malformed { .. })
    ));
}
