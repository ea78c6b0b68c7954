//! Requests that cost the server far more than they weigh, against the real server binary:
//! each is refused before the work it would cost (the figures of the old code are in each
//! test's comment), and answers stay bounded however much the log holds about one subject.

use std::collections::BTreeSet;

use isnad_client::sign::sign_event;
use isnad_client::trust::Trust;
use isnad_client::verify_answer;
use isnad_core::event::{Item, Payload, ReasonCode};
use isnad_proto::contract::{
    BODY_LEN_MAX, HISTORY_ENTRIES_MAX, INBOUND_SHIPMENTS_PAGE_MAX, REQUEST_BYTES_MAX,
    SERIALS_PER_COMMISSION_MAX, SIGHTINGS_JUDGED_MAX, VALUES_PER_REQUEST_MAX,
};
use isnad_proto::pb;
use isnad_testkit::{Scenario, Who};
use isnad_tests::{DataDir, Server, mirror, scenario_keys, tree_size};
use prost::Message;
use tonic::Code;

/// How much a refused request may grow the server's peak resident memory: the request's own
/// bytes a few times over (tonic's buffers), far below what building its contents cost.
const REFUSAL_GROWTH_MAX_KIB: u64 = 64 * 1024;

/// A server holding `scenario`'s log (unit `SN1` of lot `L1` at the manufacturer), and the
/// scenario.
async fn serving(scenario: Scenario) -> (DataDir, Server, Scenario) {
    let data = DataDir::init();
    let server = Server::start(&data.path());
    mirror(&server, &scenario, &scenario_keys(&scenario), 1).await;
    (data, server, scenario)
}

fn with_sn1() -> Scenario {
    let mut scenario = Scenario::today();
    scenario.commission("L1", &["SN1"]);
    scenario
}

#[track_caller]
fn check(status: &tonic::Status, code: Code, reason: &str) {
    assert_eq!(status.code(), code, "{status:?}");
    let got = status
        .metadata()
        .get("isnad-reason")
        .and_then(|v| v.to_str().ok());
    assert_eq!(got, Some(reason), "{status:?}");
}

async fn capture(
    server: &Server,
    events: Vec<pb::SignedEvent>,
) -> Result<pb::CaptureResponse, tonic::Status> {
    server
        .capture()
        .await
        .capture(pb::CaptureRequest { events })
        .await
        .map(|r| r.into_inner())
}

/// Asserts that the server's peak memory grew by less than [`REFUSAL_GROWTH_MAX_KIB`] since
/// `before` (KiB), naming what was refused.
#[track_caller]
fn check_growth(server: &Server, before: u64, what: &str) {
    let grown = server.peak_rss_kib().saturating_sub(before);
    eprintln!("{what}: peak resident memory grew by {grown} KiB");
    assert!(
        grown < REFUSAL_GROWTH_MAX_KIB,
        "{what}: the server's peak memory grew by {grown} KiB"
    );
}

/// 2,000,000 empty events are 4,000,000 bytes on the wire, within the message limit. Before
/// the count moved ahead of decoding, prost built every one of them first: this test, run
/// against the old server binary, saw its peak memory grow by 206 MiB before the refusal
/// (TOO_MANY_EVENTS), and failed; now it grows by about 6 MiB (tonic's buffers).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn millions_of_empty_events_are_counted_before_they_are_decoded() {
    let (_data, server, _) = serving(with_sn1()).await;
    let size = tree_size(&server).await;
    let before = server.peak_rss_kib();
    let events = vec![pb::SignedEvent::default(); 2_000_000];
    let request = pb::CaptureRequest { events };
    assert!(request.encoded_len() <= REQUEST_BYTES_MAX);
    let status = server
        .capture()
        .await
        .capture(request)
        .await
        .expect_err("refused");
    check(&status, Code::ResourceExhausted, "TOO_MANY_EVENTS");
    assert!(status.metadata().get("isnad-event-index").is_none());
    check_growth(&server, before, "2,000,000 empty events");
    assert_eq!(tree_size(&server).await, size, "nothing was written");
}

/// A message past the limit is refused by its size, unread. Against the old server binary
/// (whose limit was 16 MiB) this request was decoded whole and refused with BODY_TOO_LARGE, and
/// this test failed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_past_four_mib_is_refused_by_its_size() {
    let (_data, server, _) = serving(with_sn1()).await;
    let size = tree_size(&server).await;
    let event = pb::SignedEvent {
        body: vec![0; REQUEST_BYTES_MAX].into(),
        public_key: vec![0; 32].into(),
        signature: vec![0; 64].into(),
    };
    let status = capture(&server, vec![event]).await.expect_err("refused");
    check(&status, Code::ResourceExhausted, "MESSAGE_TOO_LARGE");
    // Reads have the same limit.
    let status = server
        .verification()
        .await
        .verify(pb::VerifyRequest {
            scan: "0".repeat(REQUEST_BYTES_MAX),
            ..Default::default()
        })
        .await
        .expect_err("refused");
    check(&status, Code::ResourceExhausted, "MESSAGE_TOO_LARGE");
    assert_eq!(tree_size(&server).await, size, "nothing was written");
}

/// `Registry.Submit` checks sizes before it decodes. Against the old server binary this test
/// failed: the body was decoded first, so a body of 65,537 bytes answered INVALID_ARGUMENT /
/// MALFORMED_BODY instead of BODY_TOO_LARGE, and a 1 MiB body was decoded too, where the
/// message limit now refuses it unread.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registry_submit_checks_sizes_before_decoding() {
    let (_data, server, _) = serving(with_sn1()).await;
    let size = tree_size(&server).await;
    let mut registry = server.registry().await;
    let signed = |len: usize| pb::SignedEvent {
        body: vec![0; len].into(),
        public_key: vec![0; 32].into(),
        signature: vec![0; 64].into(),
    };
    let status = registry
        .submit(signed(BODY_LEN_MAX + 1))
        .await
        .expect_err("a body one past the limit");
    check(&status, Code::ResourceExhausted, "BODY_TOO_LARGE");
    assert_eq!(
        status
            .metadata()
            .get("isnad-event-index")
            .and_then(|v| v.to_str().ok()),
        Some("0")
    );
    let status = registry
        .submit(signed(1024 * 1024))
        .await
        .expect_err("a message past one signed event's size");
    check(&status, Code::ResourceExhausted, "MESSAGE_TOO_LARGE");
    assert_eq!(tree_size(&server).await, size, "nothing was written");
}

/// Commissions of `count` serials each, every one in its own lot and serial range.
fn ranged_commissions(scenario: &mut Scenario, counts: &[u32]) -> Vec<pb::SignedEvent> {
    let key = scenario.manufacturer.signing_key.clone();
    counts
        .iter()
        .enumerate()
        .map(|(n, &count)| {
            let payload =
                scenario.commission_range_payload(&format!("R{n}"), &format!("R{n}-"), count);
            let event = scenario.event(Who::Manufacturer, payload);
            sign_event(&key, isnad_tests::ORIGIN, &event)
        })
        .collect()
}

/// 40 ranged commissions of 10,000 serials each: a request of 4 KB naming 400,000 units.
/// Before the stateless count, the sequencer expanded and applied them all before it found the
/// request too large for one commit: against the old server binary (debug build) this test
/// saw the refusal (REQUEST_TOO_LARGE) come after 22.5 s, the peak memory grown by 305 MiB, and
/// failed (the issue measured 400 of them at 10 s and +2.4 GB in a release build); now the
/// refusal comes in milliseconds and the memory does not move. One past the limit is refused
/// the same way; at the limit the request is accepted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serials_per_request_are_counted_before_the_sequencer() {
    let (_data, server, mut scenario) = serving(with_sn1()).await;
    let size = tree_size(&server).await;
    let full = u32::try_from(SERIALS_PER_COMMISSION_MAX).expect("fits");
    let before = server.peak_rss_kib();
    let events = ranged_commissions(&mut scenario, &[full; 40]);
    let status = capture(&server, events).await.expect_err("refused");
    check(&status, Code::ResourceExhausted, "REQUEST_TOO_LARGE");
    assert!(status.metadata().get("isnad-event-index").is_none());
    check_growth(&server, before, "40 commissions of 10,000 serials");
    assert_eq!(tree_size(&server).await, size, "nothing was written");

    // The limit is three full commissions.
    let full_commissions =
        usize::try_from(VALUES_PER_REQUEST_MAX).expect("fits") / SERIALS_PER_COMMISSION_MAX;
    let mut counts = vec![full; full_commissions];
    counts.push(1);
    let one_past = ranged_commissions(&mut scenario, &counts);
    let status = capture(&server, one_past).await.expect_err("one past");
    check(&status, Code::ResourceExhausted, "REQUEST_TOO_LARGE");
    assert_eq!(tree_size(&server).await, size, "nothing was written");

    let at_limit = ranged_commissions(&mut scenario, &counts[..full_commissions]);
    let receipts = capture(&server, at_limit).await.expect("at the limit");
    assert_eq!(receipts.receipts.len(), full_commissions);
    assert_eq!(tree_size(&server).await, size + full_commissions as u64);
}

/// One commission of 10,001 serials is refused by the stateless check, with its position. The
/// old code refused it the same way, but from the sequencer, after its turn in the queue: this
/// test pins the contract of the check now made before the sequencer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serials_per_commission_are_counted_before_the_sequencer() {
    let (_data, server, mut scenario) = serving(with_sn1()).await;
    let size = tree_size(&server).await;
    let full = u32::try_from(SERIALS_PER_COMMISSION_MAX).expect("fits");
    let events = ranged_commissions(&mut scenario, &[1, full + 1]);
    let status = capture(&server, events).await.expect_err("refused");
    check(&status, Code::ResourceExhausted, "TOO_MANY_SERIALS");
    assert_eq!(
        status
            .metadata()
            .get("isnad-event-index")
            .and_then(|v| v.to_str().ok()),
        Some("1")
    );
    assert_eq!(tree_size(&server).await, size, "nothing was written");
}

/// The trust a verifier pins: the scenario's regulator, the log's key, its checkpoint now.
async fn pin(data: &DataDir, server: &Server, scenario: &Scenario) -> Trust {
    let checkpoint = server
        .log()
        .await
        .get_checkpoint(pb::GetCheckpointRequest {})
        .await
        .expect("checkpoint")
        .into_inner()
        .checkpoint;
    Trust::new(
        vec![scenario.regulator.public_key()],
        &data.log_vkey,
        &checkpoint,
    )
    .expect("the server's checkpoint")
}

/// Verifies `scan` on the server and checks the answer offline; returns the verdict and how
/// many sightings the history carries.
async fn verify(server: &Server, trust: &Trust, scan: &str) -> (ReasonCode, usize, usize) {
    let question = pb::VerifyRequest {
        scan: scan.to_owned(),
        verifier_site: String::new(),
        known_tree_size: trust.checkpoint().size.0,
    };
    let answer = server
        .verification()
        .await
        .verify(question.clone())
        .await
        .expect("the unit is verifiable")
        .into_inner();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_millis() as i64;
    let verified = verify_answer(&question, &answer, trust, now).expect("the answer checks");
    let sightings = verified
        .history
        .iter()
        .filter(|entry| {
            matches!(&entry.kind, isnad_core::verdict::HistoryKind::Event(event)
                if matches!(event.payload, Payload::Inspect { .. }))
        })
        .count();
    (verified.verdict.verdict, sightings, answer.encoded_len())
}

/// A unit inspected 10,050 times at its holder's site, then once elsewhere. Against the old
/// server binary this test failed at the first `Verify`: RESOURCE_EXHAUSTED / HISTORY_TOO_LONG
/// ("10055 entries; at most 10000 per answer"; the issue saw a 16 MiB answer at 21,000
/// sightings, which the client refused): the unit could no longer be verified at all. Now the
/// answer carries the latest 100 sightings (about 64 KB), the client re-derives the same
/// verdict from them, and a sighting its custody does not explain still flags the unit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unit_inspected_ten_thousand_times_stays_verifiable() {
    let (data, server, mut scenario) = serving(with_sn1()).await;
    let trust = pin(&data, &server, &scenario).await;
    let unit = scenario.unit("SN1");
    let scan = scenario.label(&unit, "L1");
    let inspector = scenario.inspector.signing_key.clone();
    let home = scenario.manufacturer.site;
    let inspect = |scenario: &mut Scenario, site| {
        let payload = Payload::Inspect {
            scan: scan.clone(),
            verdict_seen: ReasonCode::Genuine,
        };
        sign_event(
            &inspector,
            isnad_tests::ORIGIN,
            &scenario.event_at(Who::Inspector, site, payload),
        )
    };
    let sightings: Vec<pb::SignedEvent> = (0..HISTORY_ENTRIES_MAX + 50)
        .map(|_| inspect(&mut scenario, home))
        .collect();
    for request in sightings.chunks(1_000) {
        capture(&server, request.to_vec()).await.expect("sightings");
    }
    let (verdict, judged, bytes) = verify(&server, &trust, &scan).await;
    assert_eq!(verdict, ReasonCode::Genuine);
    assert_eq!(judged, SIGHTINGS_JUDGED_MAX);
    eprintln!("the answer holds {judged} sightings in {bytes} bytes");
    assert!(bytes < 1024 * 1024, "an answer of {bytes} bytes");

    let away = scenario.hospital.site;
    let elsewhere = inspect(&mut scenario, away);
    capture(&server, vec![elsewhere])
        .await
        .expect("a sighting elsewhere");
    let (verdict, judged, _) = verify(&server, &trust, &scan).await;
    assert_eq!(verdict, ReasonCode::DuplicateSighting);
    assert_eq!(judged, SIGHTINGS_JUDGED_MAX);
}

/// 150 shipments in transit to the distributor. Against the old server binary (which ignores
/// the paging fields) the first answer carried all 150 and this test failed: one answer held
/// every shipment in transit to a party, however many.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inbound_shipments_come_in_pages() {
    const SHIPMENTS: usize = 150;
    let mut scenario = Scenario::today();
    let serials: Vec<String> = (0..SHIPMENTS).map(|n| format!("S{n}")).collect();
    let texts: Vec<&str> = serials.iter().map(String::as_str).collect();
    let units = scenario.commission("L1", &texts);
    let shipped: BTreeSet<Vec<u8>> = units
        .into_iter()
        .map(|unit| {
            let id = scenario.ship(Who::Manufacturer, vec![Item::Unit(unit)], Who::Distributor);
            id.0.to_vec()
        })
        .collect();
    let (_data, server, scenario) = serving(scenario).await;
    let party = scenario.distributor.party.to_string();
    let first = inbound(&server, &party, Vec::new(), 0)
        .await
        .expect("the first page");
    assert_eq!(first.shipments.len(), INBOUND_SHIPMENTS_PAGE_MAX);
    let second = inbound(&server, &party, first.next_after_shipment_id.clone(), 0)
        .await
        .expect("the second page");
    assert_eq!(
        second.shipments.len(),
        SHIPMENTS - INBOUND_SHIPMENTS_PAGE_MAX
    );
    assert!(second.next_after_shipment_id.is_empty(), "no third page");
    let listed: BTreeSet<Vec<u8>> = first
        .shipments
        .iter()
        .chain(&second.shipments)
        .map(|shipment| shipment.shipment_id.clone())
        .collect();
    assert_eq!(listed, shipped, "every shipment once");

    // Smaller pages, as asked.
    let mut after = Vec::new();
    let mut seen = 0;
    loop {
        let answer = inbound(&server, &party, after, 64)
            .await
            .expect("a page of 64");
        assert!(answer.shipments.len() <= 64);
        seen += answer.shipments.len();
        if answer.next_after_shipment_id.is_empty() {
            break;
        }
        after = answer.next_after_shipment_id;
    }
    assert_eq!(seen, SHIPMENTS);

    let status = inbound(&server, &party, vec![1, 2, 3], 0)
        .await
        .expect_err("a bad cursor");
    check(&status, Code::InvalidArgument, "MALFORMED_FIELD");
}

/// One page of the shipments in transit to `party`.
async fn inbound(
    server: &Server,
    party: &str,
    after_shipment_id: Vec<u8>,
    page_size: u32,
) -> Result<pb::InboundShipmentsResponse, tonic::Status> {
    server
        .verification()
        .await
        .inbound_shipments(pb::InboundShipmentsRequest {
            party: party.to_owned(),
            after_shipment_id,
            page_size,
        })
        .await
        .map(|answer| answer.into_inner())
}
