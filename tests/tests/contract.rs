//! The guarantees and edge cases that docs/integration.md states in "Guarantees and edge
//! cases", each checked against the real server, so that the document stays true.

use isnad_client::sign::sign_event;
use isnad_core::event::{DecommissionReason, Event, Item, Payload, ReasonCode};
use isnad_proto::pb;
use isnad_testkit::{Scenario, Who, sscc_number};
use isnad_tests::{DataDir, Server, mirror, scenario_keys, tree_size};
use tonic::Code;

const DOC: &str = include_str!("../../docs/integration.md");

/// A circuit with two commissioned units, `S2` packed into an SSCC.
async fn serving() -> (DataDir, Server, Scenario) {
    let mut scenario = Scenario::today();
    let units = scenario.commission("L1", &["S1", "S2"]);
    scenario.aggregate(
        Who::Manufacturer,
        sscc_number(7),
        vec![Item::Unit(units[1].clone())],
    );
    let data = DataDir::init();
    let server = Server::start(&data.path());
    mirror(&server, &scenario, &scenario_keys(&scenario), 1).await;
    (data, server, scenario)
}

fn signed(scenario: &Scenario, who: Who, event: &Event) -> pb::SignedEvent {
    sign_event(&scenario.actor(who).signing_key, isnad_tests::ORIGIN, event)
}

fn reason(status: &tonic::Status) -> Option<&str> {
    status
        .metadata()
        .get("isnad-reason")
        .and_then(|v| v.to_str().ok())
}

fn event_index(status: &tonic::Status) -> Option<&str> {
    status
        .metadata()
        .get("isnad-event-index")
        .and_then(|v| v.to_str().ok())
}

#[track_caller]
fn check_refused(status: &tonic::Status, code: Code, expected_reason: &str) {
    assert_eq!(status.code(), code, "{status:?}");
    assert_eq!(reason(status), Some(expected_reason), "{status:?}");
}

/// Every claim this file checks is stated in the document.
#[test]
fn the_document_states_what_these_tests_check() {
    for claim in [
        "## 6. Guarantees and edge cases",
        "**Read after receipt.**",
        "`Capture` and `CaptureStream` accept every event",
        "`IN_CONTAINER`",
        "answers `LOT_MISMATCH`",
        "answers `UNKNOWN_LOT`",
        "Refusals of the whole request carry no `isnad-event-index` entry",
        "exactly 65,536 bytes (64 KiB) is accepted",
        "Pass `after_index = 0` for the first page",
    ] {
        assert!(DOC.contains(claim), "docs/integration.md lost: {claim}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capture_takes_registry_events_and_submit_takes_only_them() {
    let (_data, server, mut scenario) = serving().await;
    let size = tree_size(&server).await;
    let hospital = scenario.actor(Who::Hospital).party;
    let new_key = isnad_testkit::signing_key(77).verifying_key().to_bytes();
    let add_key = scenario.event(
        Who::Regulator,
        Payload::AddKey {
            party: hospital,
            public_key: isnad_core::event::PublicKey(new_key),
        },
    );
    server
        .capture()
        .await
        .capture(pb::CaptureRequest {
            events: vec![signed(&scenario, Who::Regulator, &add_key)],
        })
        .await
        .expect("Capture takes a registry event");
    assert_eq!(tree_size(&server).await, size + 1);

    let ship = scenario.event(
        Who::Manufacturer,
        scenario.ship_payload(vec![Item::Unit(scenario.unit("S1"))], Who::Distributor),
    );
    let status = server
        .registry()
        .await
        .submit(signed(&scenario, Who::Manufacturer, &ship))
        .await
        .expect_err("Submit refuses a goods event");
    check_refused(&status, Code::InvalidArgument, "NOT_A_REGISTRY_EVENT");
    assert_eq!(event_index(&status), Some("0"));
    assert_eq!(tree_size(&server).await, size + 1, "nothing was written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unit_inside_an_sscc_is_not_decommissioned_alone() {
    let (_data, server, mut scenario) = serving().await;
    let size = tree_size(&server).await;
    let used = scenario.event(
        Who::Manufacturer,
        Payload::Decommission {
            items: vec![Item::Unit(scenario.unit("S2"))],
            reason: DecommissionReason::Destroyed,
        },
    );
    let status = server
        .capture()
        .await
        .capture(pb::CaptureRequest {
            events: vec![signed(&scenario, Who::Manufacturer, &used)],
        })
        .await
        .expect_err("a packed unit stays with its SSCC");
    check_refused(&status, Code::FailedPrecondition, "IN_CONTAINER");
    assert_eq!(tree_size(&server).await, size, "nothing was written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scanned_lot_that_differs_is_a_mismatch_and_one_never_made_is_unknown() {
    let (_data, server, scenario) = serving().await;
    let gtin = scenario.gtin;
    let mut verification = server.verification().await;
    for (scan, expected) in [
        (format!("(01){gtin}(10)L9(21)S1"), ReasonCode::LotMismatch),
        (format!("(01){gtin}(10)L9(21)S99"), ReasonCode::UnknownLot),
        (
            format!("(01){gtin}(10)L1(21)S99"),
            ReasonCode::UnknownSerial,
        ),
    ] {
        let answer = verification
            .verify(pb::VerifyRequest {
                scan: scan.clone(),
                ..Default::default()
            })
            .await
            .expect("verification answers")
            .into_inner();
        let wire = isnad_proto::convert::reason_code_to_wire(expected) as i32;
        assert!(
            answer.reasons.contains(&wire),
            "{scan}: reasons {:?}, expected {expected:?}",
            answer.reasons
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_level_refusals_carry_no_event_index() {
    let (_data, server, mut scenario) = serving().await;
    let mut capture = server.capture().await;
    let empty = capture
        .capture(pb::CaptureRequest { events: Vec::new() })
        .await
        .expect_err("an empty request is refused");
    check_refused(&empty, Code::InvalidArgument, "EMPTY_REQUEST");
    assert_eq!(event_index(&empty), None, "{empty:?}");

    let too_many = capture
        .capture(pb::CaptureRequest {
            events: vec![pb::SignedEvent::default(); 1_001],
        })
        .await
        .expect_err("1,001 events are refused");
    check_refused(&too_many, Code::ResourceExhausted, "TOO_MANY_EVENTS");
    assert_eq!(event_index(&too_many), None, "{too_many:?}");

    // One event at fault: its position.
    let fine = scenario.event(
        Who::Manufacturer,
        scenario.ship_payload(vec![Item::Unit(scenario.unit("S1"))], Who::Distributor),
    );
    let mut bad = signed(&scenario, Who::Manufacturer, &fine);
    let mut signature = bad.signature.to_vec();
    signature[0] ^= 1;
    bad.signature = signature.into();
    let status = capture
        .capture(pb::CaptureRequest {
            events: vec![signed(&scenario, Who::Manufacturer, &fine), bad],
        })
        .await
        .expect_err("a bad signature is refused");
    check_refused(&status, Code::Unauthenticated, "BAD_SIGNATURE");
    assert_eq!(event_index(&status), Some("1"));
}

/// `body` followed by an unknown length-delimited field (number 2047) that makes it exactly
/// `len` bytes long: protobuf decoders skip unknown fields, and the server verifies and
/// stores the bytes as signed.
fn padded_to(mut body: Vec<u8>, len: usize) -> Vec<u8> {
    const TAG: [u8; 2] = [0xfa, 0x7f]; // (2047 << 3) | 2 as a varint
    let payload = len - body.len() - TAG.len() - 3;
    assert!((16_384..2_097_152).contains(&payload), "a 3-byte length");
    body.extend_from_slice(&TAG);
    body.extend_from_slice(&[
        (payload & 0x7f) as u8 | 0x80,
        ((payload >> 7) & 0x7f) as u8 | 0x80,
        (payload >> 14) as u8,
    ]);
    body.resize(len, b'x');
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_of_exactly_64_kib_is_accepted_and_one_byte_more_is_refused() {
    let (_data, server, mut scenario) = serving().await;
    let key = scenario.actor(Who::Inspector).signing_key.clone();
    let site = scenario.actor(Who::Inspector).site;
    let mut capture = server.capture().await;
    let mut inspection = |len: usize| {
        let event = scenario.event_at(
            Who::Inspector,
            site,
            Payload::Inspect {
                scan: format!("(01){}(10)L1(21)S1", scenario.gtin),
                verdict_seen: ReasonCode::Genuine,
            },
        );
        let body = padded_to(isnad_proto::encode_event_body(&event), len);
        assert_eq!(body.len(), len);
        pb::SignedEvent {
            signature: isnad_core::envelope::sign(&key, isnad_tests::ORIGIN, &body)
                .to_vec()
                .into(),
            public_key: key.verifying_key().to_bytes().to_vec().into(),
            body: body.into(),
        }
    };
    let at_limit = inspection(65_536);
    let over = inspection(65_537);
    let size = tree_size(&server).await;
    let status = capture
        .capture(pb::CaptureRequest { events: vec![over] })
        .await
        .expect_err("65,537 bytes are refused");
    check_refused(&status, Code::ResourceExhausted, "BODY_TOO_LARGE");
    assert_eq!(event_index(&status), Some("0"));
    assert_eq!(tree_size(&server).await, size, "nothing was written");

    let receipt = capture
        .capture(pb::CaptureRequest {
            events: vec![at_limit.clone()],
        })
        .await
        .expect("65,536 bytes are accepted")
        .into_inner()
        .receipts
        .remove(0);
    let entry = server
        .log()
        .await
        .get_entries(pb::GetEntriesRequest {
            start: receipt.leaf_index,
            end: receipt.leaf_index + 1,
        })
        .await
        .expect("the entry")
        .into_inner()
        .entries
        .remove(0);
    assert!(
        entry.ends_with(&at_limit.body),
        "the body is stored as signed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn party_events_from_after_index_zero_start_at_the_first_event() {
    let (_data, server, scenario) = serving().await;
    let party = scenario.actor(Who::Regulator).party;
    let page = server
        .verification()
        .await
        .party_events(pb::PartyEventsRequest {
            party: party.to_string(),
            after_index: 0,
            ..Default::default()
        })
        .await
        .expect("party events")
        .into_inner();
    let indexes: Vec<u64> = page.entries.iter().map(|e| e.index).collect();
    // The regulator admitted four participants: entries 1 to 4. Genesis (0) is no event.
    assert_eq!(indexes, vec![1, 2, 3, 4]);
    assert_eq!(page.next_after_index, 0, "one page holds them all");
}
