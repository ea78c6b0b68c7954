//! The sequencer against a real store: a request whose rules panic is refused alone, rolled
//! back, and the writer goes on.

use isnad_core::envelope;
use isnad_core::event::{Event, Payload, PublicKey};
use isnad_core::verdict::HistoryKind;
use isnad_proto::contract::Reason;
use isnad_proto::pb;
use isnad_server::error::LedgerError;
use isnad_server::init::{InitOptions, init, open};
use isnad_server::ledger::{CheckedEvent, Ledger};
use isnad_testkit::{Scenario, Who};

/// The origin of the test log.
const ORIGIN: &str = "test.isnad.ma/log";

/// A ledger on a new data directory holding `scenario`'s log (genesis, admissions, product).
async fn started(scenario: &Scenario) -> (tempfile::TempDir, Ledger) {
    let dir = tempfile::tempdir().expect("temp dir");
    let regulator = scenario.regulator.admit();
    init(&InitOptions {
        data_dir: dir.path().join("data"),
        origin: ORIGIN.into(),
        regulator_party: regulator.party,
        regulator_name: regulator.name,
        regulator_sites: regulator.sites,
        regulator_keys: regulator.public_keys,
    })
    .expect("init");
    let opened = open(&dir.path().join("data")).expect("open");
    let ledger = Ledger::start(opened.store, opened.signer).expect("start");
    for entry in &scenario.entries[1..] {
        let HistoryKind::Event(event) = &entry.kind else {
            continue;
        };
        let signer = entry.signer.expect("events have signers");
        let receipts = ledger
            .capture(vec![signed(scenario, event, signer)])
            .await
            .expect("the scenario's entries are accepted");
        assert_eq!(receipts[0].leaf_index, entry.index);
    }
    (dir, ledger)
}

/// `event` signed by the scenario participant holding `signer`.
fn signed(scenario: &Scenario, event: &Event, signer: PublicKey) -> pb::SignedEvent {
    let key = [Who::Regulator, Who::Manufacturer, Who::Distributor]
        .iter()
        .map(|who| &scenario.actor(*who).signing_key)
        .find(|key| key.verifying_key().to_bytes() == signer.0)
        .expect("a scenario signer");
    let body = isnad_proto::encode_event_body(event);
    pb::SignedEvent {
        signature: envelope::sign(key, ORIGIN, &body).to_vec().into(),
        public_key: signer.0.to_vec().into(),
        body: body.into(),
    }
}

/// `event` as it is after the stateless checks, signed by the manufacturer.
fn checked(scenario: &Scenario, event: &Event) -> CheckedEvent {
    let signed = signed(scenario, event, scenario.manufacturer.public_key());
    CheckedEvent {
        event: event.clone(),
        public_key: signed.public_key[..].try_into().expect("32 bytes"),
        signature: signed.signature[..].try_into().expect("64 bytes"),
        body: signed.body,
    }
}

/// A commission whose serial range is 70,000 digits wide: formatting its serials panics. The
/// wire conversion refuses it; here it is given to the sequencer as if it had passed, the one
/// way left to make the rules panic.
fn panicking_commission(scenario: &mut Scenario) -> Event {
    let mut payload = scenario.commission_range_payload("L9", "R", 1);
    if let Payload::Commission { serial_ranges, .. } = &mut payload {
        serial_ranges[0].width = 70_000;
    }
    scenario.event(Who::Manufacturer, payload)
}

#[tokio::test]
async fn a_panic_in_the_rules_refuses_only_its_request() {
    let mut scenario = Scenario::today();
    let (_dir, ledger) = started(&scenario).await;
    let size = ledger.published().tree.size.0;
    let bad = panicking_commission(&mut scenario);
    let good = scenario.event(
        Who::Manufacturer,
        scenario.commission_payload("L1", &["SN1"]),
    );

    // Over the wire the width is refused before any rule runs, naming the field.
    let error = ledger
        .capture(vec![signed(
            &scenario,
            &bad,
            scenario.manufacturer.public_key(),
        )])
        .await
        .expect_err("a width of 70,000 is refused");
    let status = tonic::Status::from(error);
    assert_eq!(status.code(), tonic::Code::InvalidArgument, "{status:?}");
    assert!(
        status
            .message()
            .contains("commission.serial_ranges[0].width"),
        "{status:?}"
    );

    // Past the conversion, the rules panic: the request is refused with INTERNAL, and the
    // valid event before it in the same request is rolled back with it.
    let error = ledger
        .sequence(vec![checked(&scenario, &good), checked(&scenario, &bad)])
        .await
        .expect_err("a panicking request is refused");
    assert!(matches!(error, LedgerError::Internal(_)), "{error:?}");
    let status = tonic::Status::from(error);
    assert_eq!(status.code(), tonic::Code::Internal);
    assert_eq!(
        status
            .metadata()
            .get("isnad-reason")
            .and_then(|v| v.to_str().ok()),
        Some(Reason::Internal.as_str())
    );
    assert_eq!(ledger.published().tree.size.0, size, "nothing was appended");

    // The writer goes on: the valid event alone is accepted, at the next index.
    let receipts = ledger
        .sequence(vec![checked(&scenario, &good)])
        .await
        .expect("the sequencer still runs");
    assert_eq!(receipts[0].leaf_index, size);
    assert_eq!(ledger.published().tree.size.0, size + 1);
}

/// A request that goes over what one commit holds is refused at the event that goes over: the
/// sequencer applies nothing after it. Four commissions of 10,000 serials write over 120,000
/// state records, past `STATE_WRITES_MAX` (100,000); a fifth event names a product nobody
/// registered. The old sequencer applied every event of a request before it compared the total
/// (40 such commissions held it 22.5 s and +305 MiB in a debug build); with the comparison
/// moved back after the whole request, this test failed: the request was refused for the fifth
/// event's own reason (UNKNOWN_PRODUCT, event 4) instead of REQUEST_TOO_LARGE.
#[tokio::test]
async fn the_sequencer_stops_at_the_event_that_goes_over_a_commit() {
    let mut scenario = Scenario::today();
    let (_dir, ledger) = started(&scenario).await;
    let size = ledger.published().tree.size.0;
    let mut events: Vec<Event> = (0..4)
        .map(|n| {
            let payload =
                scenario.commission_range_payload(&format!("R{n}"), &format!("R{n}-"), 10_000);
            scenario.event(Who::Manufacturer, payload)
        })
        .collect();
    let mut unknown = scenario.commission_payload("U1", &["SN1"]);
    if let Payload::Commission { lot, .. } = &mut unknown {
        lot.gtin = isnad_testkit::gtin("0611123400002");
    }
    events.push(scenario.event(Who::Manufacturer, unknown));
    let error = ledger
        .sequence(
            events
                .iter()
                .map(|event| checked(&scenario, event))
                .collect(),
        )
        .await
        .expect_err("over one commit");
    assert!(
        matches!(
            error,
            LedgerError::ResourceExhausted {
                reason: Reason::RequestTooLarge,
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(ledger.published().tree.size.0, size, "nothing was appended");
}
