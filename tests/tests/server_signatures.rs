//! One definition of a valid signature, against the real server: what the server accepts into
//! its log is exactly what the client and the auditor accept from it, and only for its own log.

use isnad_client::sign::sign_event;
use isnad_core::envelope;
use isnad_core::event::Payload;
use isnad_core::event::{Event, Item};
use isnad_proto::pb;
use isnad_testkit::{Scenario, Who};
use isnad_tests::{DataDir, ORIGIN, Server, mirror, scenario_keys, tree_size};
use tonic::Code;

/// A server holding `scenario`'s log, and the scenario.
async fn serving() -> (DataDir, Server, Scenario) {
    let mut scenario = Scenario::new();
    scenario.commission("L1", &["SN1"]);
    let data = DataDir::init();
    let server = Server::start(&data.path());
    mirror(&server, &scenario, &scenario_keys(&scenario), 1).await;
    (data, server, scenario)
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

/// A ship of SN1 by the manufacturer, signed with a mixed-order `R` that ed25519-dalek's batch
/// equation accepts.
fn mixed_order_event(scenario: &mut Scenario) -> pb::SignedEvent {
    let key = scenario.manufacturer.signing_key.clone();
    let unit = Item::Unit(scenario.unit("SN1"));
    let (body, signature) =
        isnad_testkit::forgery::mixed_order_r_the_batch_accepts(&key, ORIGIN, || {
            let event: Event = scenario.event(
                Who::Manufacturer,
                scenario.ship_payload(vec![unit.clone()], Who::Distributor),
            );
            isnad_proto::encode_event_body(&event)
        });
    pb::SignedEvent {
        body: body.into(),
        public_key: key.verifying_key().to_bytes().to_vec().into(),
        signature: signature.to_vec().into(),
    }
}

/// Such an event once entered the log, where no client could verify it and every audit failed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signature_with_a_mixed_order_r_is_refused_by_server_and_client() {
    let (_data, server, mut scenario) = serving().await;
    let size = tree_size(&server).await;
    let forged = mixed_order_event(&mut scenario);
    let refused = envelope::verify(ORIGIN, &forged.public_key, &forged.signature, &forged.body);
    assert_eq!(refused, Err(envelope::EnvelopeError::SignatureInvalid));

    let err = server
        .capture()
        .await
        .capture(pb::CaptureRequest {
            events: vec![forged],
        })
        .await
        .expect_err("the server refuses what the client refuses");
    check(&err, Code::Unauthenticated, "BAD_SIGNATURE");
    assert_eq!(tree_size(&server).await, size, "nothing was written");
}

/// A production log and a test log trust the same regulator key; an event signed for the test
/// log must not replay into the production log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_signed_for_another_log_is_refused() {
    const PRODUCTION: &str = "isnad.sante.gov.ma/log";
    let data = DataDir::init_with_origin(PRODUCTION);
    let server = Server::start(&data.path());
    let mut scenario = Scenario::new();
    let admit = scenario.event(
        Who::Regulator,
        Payload::AdmitParticipant(scenario.manufacturer.admit()),
    );
    let size = tree_size(&server).await;
    let mut capture = server.capture().await;
    let for_the_test_log = sign_event(&data.regulator, ORIGIN, &admit);
    let err = capture
        .capture(pb::CaptureRequest {
            events: vec![for_the_test_log],
        })
        .await
        .expect_err("signed for another log");
    check(&err, Code::Unauthenticated, "BAD_SIGNATURE");
    assert_eq!(tree_size(&server).await, size, "nothing was written");

    let for_this_log = sign_event(&data.regulator, PRODUCTION, &admit);
    let receipts = capture
        .capture(pb::CaptureRequest {
            events: vec![for_this_log],
        })
        .await
        .expect("the same event signed for this log is accepted")
        .into_inner()
        .receipts;
    assert_eq!(receipts.len(), 1);
}
