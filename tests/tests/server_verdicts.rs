//! Every verification reason code over gRPC from the real server binary: each story is played
//! in the core's in-memory scenario and mirrored onto a fresh server, and the server's verdict
//! must be the expected one and the one the core derives from the same history.

use isnad_core::event::{DecommissionReason, Item, Payload, ReasonCode};
use isnad_core::gs1::Gln;
use isnad_core::scan::parse_scan;

use isnad_proto::convert::reason_code_from_wire;
use isnad_proto::pb;
use isnad_testkit::dates;
use isnad_testkit::{DAY_MS, Scenario, Who, date, gln, gtin, sscc_number};
use isnad_tests::{DataDir, Server, mirror, scenario_keys};

struct Scene {
    scenario: Scenario,
    scan: String,
    verifier_site: Option<Gln>,
    /// Days the server's clock moves forward (by a restart) before the verification.
    later_days: i64,
}

fn commissioned() -> Scene {
    let mut scenario = Scenario::today();
    let units = scenario.commission("L1", &["SN1", "SN2"]);
    let scan = scenario.label(&units[0], "L1");
    Scene {
        scenario,
        scan,
        verifier_site: None,
        later_days: 0,
    }
}

fn sn1(scene: &Scene) -> Item {
    Item::Unit(scene.scenario.unit("SN1"))
}

fn at_hospital() -> Scene {
    let mut scene = commissioned();
    let unit = sn1(&scene);
    // Through a pallet at the distributor, so that aggregation and disaggregation run too.
    let pallet = sscc_number(7);
    scene
        .scenario
        .deliver(Who::Manufacturer, vec![unit.clone()], Who::Distributor);
    scene
        .scenario
        .aggregate(Who::Distributor, pallet, vec![unit.clone()]);
    scene.scenario.accept(
        Who::Distributor,
        Payload::Disaggregate {
            sscc: pallet,
            items: vec![],
        },
    );
    scene
        .scenario
        .deliver(Who::Distributor, vec![unit], Who::Hospital);
    scene.verifier_site = Some(scene.scenario.hospital.site);
    scene
}

fn stories() -> Vec<(&'static str, Scene, ReasonCode)> {
    let mut out = Vec::new();
    out.push((
        "genuine at its hospital",
        at_hospital(),
        ReasonCode::Genuine,
    ));

    let mut s = commissioned();
    s.scan = format!("(01){}(21)SN1", gtin("0611999900001"));
    out.push(("product never registered", s, ReasonCode::UnknownProduct));

    let mut s = commissioned();
    s.scan = format!("(01){}(21)NEVER", s.scenario.gtin);
    out.push(("serial never commissioned", s, ReasonCode::UnknownSerial));

    let mut s = commissioned();
    s.scan = format!("(01){}(10)NOLOT(21)NEVER", s.scenario.gtin);
    out.push(("lot never commissioned", s, ReasonCode::UnknownLot));

    let mut s = commissioned();
    s.scenario.commission("L2", &["OTHER"]);
    s.scan = format!(
        "(01){}(17){}(10)L2(21)SN1",
        s.scenario.gtin, s.scenario.expiry
    );
    out.push(("label with another lot", s, ReasonCode::LotMismatch));

    let mut s = commissioned();
    s.scan = format!(
        "(01){}(17){}(10)L1(21)SN1",
        s.scenario.gtin,
        dates::expiry_ahead_by(1)
    );
    out.push(("label with another expiry", s, ReasonCode::ExpiryMismatch));

    let mut s = at_hospital();
    let unit = sn1(&s);
    s.scenario
        .decommission(Who::Hospital, vec![unit], DecommissionReason::Used);
    out.push((
        "used unit scanned again",
        s,
        ReasonCode::AlreadyDecommissioned,
    ));

    let mut s = commissioned();
    let lot = s.scenario.lot("L1");
    s.scenario.accept(
        Who::Manufacturer,
        Payload::Recall {
            lot,
            reason: "sterility".into(),
        },
    );
    out.push(("unit of a recalled lot", s, ReasonCode::Recalled));

    // A lot expiring in 20 days, verified 60 days later (the server restarts with its clock
    // moved on; the scenario's clock moves the same way).
    let mut s = commissioned();
    let now = dates::now_unix_ms();
    s.scenario.clock_unix_ms = now;
    let expiry = dates::yymmdd(now + 20 * DAY_MS);
    let Payload::Commission {
        lot,
        production_date,
        ..
    } = s.scenario.commission_payload("OLD", &["X1"])
    else {
        unreachable!("commission_payload builds a Commission")
    };
    let payload = Payload::Commission {
        lot,
        expiry: date(&expiry),
        production_date,
        serials: vec!["X1".parse().expect("valid serial")],
        serial_ranges: vec![],
        quantity: 0,
    };
    s.scenario.accept(Who::Manufacturer, payload);
    s.scenario.advance_days(60);
    s.later_days = 60;
    s.scan = format!("(01){}(17){expiry}(10)OLD(21)X1", s.scenario.gtin);
    out.push(("expired unit", s, ReasonCode::Expired));

    let mut s = commissioned();
    let unit = sn1(&s);
    s.scenario
        .ship(Who::Manufacturer, vec![unit], Who::Distributor);
    out.push(("unit still in transit", s, ReasonCode::InTransit));

    let mut s = at_hospital();
    s.verifier_site = Some(gln("611999900010"));
    out.push((
        "unit found at an unlisted pharmacy",
        s,
        ReasonCode::CustodyMismatch,
    ));

    let mut s = at_hospital();
    let party = s.scenario.hospital.party;
    s.scenario.accept(
        Who::Regulator,
        Payload::SuspendParticipant {
            party,
            reason: "audit".into(),
        },
    );
    out.push(("holder suspended", s, ReasonCode::SuspendedHolder));

    let mut s = at_hospital();
    let scan = s.scan.clone();
    s.scenario.inspect_at(gln("611999900020"), &scan);
    out.push((
        "seen where its custody cannot explain",
        s,
        ReasonCode::DuplicateSighting,
    ));

    let mut s = commissioned();
    let party = s.scenario.manufacturer.party;
    let public_key = s.scenario.manufacturer.public_key();
    s.scenario.accept(
        Who::Regulator,
        Payload::RevokeKey {
            party,
            public_key,
            compromised_since_unix_ms: Some(1),
        },
    );
    out.push((
        "signed by a key compromised since",
        s,
        ReasonCode::CompromisedSigner,
    ));

    let mut s = commissioned();
    s.scan = "(01)06111234000018(21)SN1".into();
    out.push(("malformed scan", s, ReasonCode::MalformedScan));

    let mut s = commissioned();
    // The genuine unit's GTIN and serial as a scanner in Caps Lock sends them.
    let gtin = parse_scan(&s.scan).ok().and_then(|scan| scan.gtin);
    s.scan = format!("]D201{}21sn1", gtin.expect("the label has a GTIN"));
    out.push(("scanner in Caps Lock", s, ReasonCode::MalformedScan));
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_reason_code_over_grpc_matches_the_core() {
    let mut seen = Vec::new();
    for (name, scene, expected) in stories() {
        let data = DataDir::init();
        let mut server = Server::start(&data.path());
        mirror(&server, &scene.scenario, &scenario_keys(&scene.scenario), 1).await;
        if scene.later_days > 0 {
            assert!(server.terminate().success(), "{name}: clean shutdown");
            server = Server::start_skewed(&data.path(), scene.later_days * DAY_MS);
        }
        let answer = server
            .verification()
            .await
            .verify(pb::VerifyRequest {
                scan: scene.scan.clone(),
                verifier_site: scene
                    .verifier_site
                    .map(|g| g.to_string())
                    .unwrap_or_default(),
                known_tree_size: 0,
            })
            .await
            .unwrap_or_else(|status| panic!("{name}: {status:?}"))
            .into_inner();
        let verdict = reason_code_from_wire(answer.verdict).expect("a known verdict");
        let reasons: Vec<ReasonCode> = answer
            .reasons
            .iter()
            .map(|r| reason_code_from_wire(*r).expect("known reason"))
            .collect();
        assert_eq!(verdict, expected, "{name}: verdict (reasons {reasons:?})");
        if expected != ReasonCode::MalformedScan {
            let local = scene
                .scenario
                .verdict(&scene.scan, scene.verifier_site.as_ref())
                .expect("history holds");
            assert_eq!(
                reasons, local.reasons,
                "{name}: the server and the core disagree"
            );
            assert!(
                !answer.checkpoint.is_empty(),
                "{name}: a checkpoint comes with every answer"
            );
        } else {
            let diagnostic = parse_scan(&scene.scan).expect_err("a malformed scan");
            assert_eq!(
                answer.scan_error,
                diagnostic.to_string(),
                "{name}: the diagnostic, AI and hint included, reaches the answer"
            );
        }
        seen.push(verdict);
        server.kill();
    }
    for code in ReasonCode::ALL {
        assert!(seen.contains(&code), "{code:?} is produced by no story");
    }
}
