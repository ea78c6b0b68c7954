//! One definition of a valid signature, against the real server: what the server accepts into
//! its log is exactly what the client and the auditor accept from it, and only for its own log.

use curve25519_dalek::edwards::EdwardsPoint;
use curve25519_dalek::scalar::Scalar;
use ed25519_dalek::{Signature, SigningKey};
use isnad_client::sign::sign_event;
use isnad_core::envelope;
use isnad_core::event::Payload;
use isnad_core::event::{Event, Item};
use isnad_proto::pb;
use isnad_testkit::{Scenario, Who};
use isnad_tests::{DataDir, ORIGIN, Server, mirror, scenario_keys, tree_size};
use sha2::{Digest, Sha512};
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

/// Signs `body` with `key`'s secret scalar, but with `R' = [r]B + T`, `T` of order 8: the
/// single (cofactorless) equation fails, since `[S]B - [k]A = R' - T`.
fn sign_with_mixed_order_r(key: &SigningKey, body: &[u8]) -> [u8; 64] {
    let r = Scalar::from_bytes_mod_order([9; 32]);
    let r_point = EdwardsPoint::mul_base(&r) + curve25519_dalek::constants::EIGHT_TORSION[1];
    let r_bytes = r_point.compress().0;
    let mut hasher = Sha512::new();
    hasher.update(r_bytes);
    hasher.update(key.verifying_key().as_bytes());
    hasher.update(envelope::signing_bytes(ORIGIN, body));
    let k = Scalar::from_bytes_mod_order_wide(&hasher.finalize().into());
    let s = r + k * key.to_scalar();
    let mut signature = [0; 64];
    signature[..32].copy_from_slice(&r_bytes);
    signature[32..].copy_from_slice(s.as_bytes());
    signature
}

/// A ship of SN1 by the manufacturer, signed with a mixed-order `R` that ed25519-dalek's batch
/// equation accepts: its coefficient depends on the signed data, so trying event ids finds one
/// that is a multiple of 8 (one in 8 is).
fn mixed_order_event(scenario: &mut Scenario) -> pb::SignedEvent {
    let key = scenario.manufacturer.signing_key.clone();
    let unit = Item::Unit(scenario.unit("SN1"));
    for _ in 0..256 {
        let event: Event = scenario.event(
            Who::Manufacturer,
            scenario.ship_payload(vec![unit.clone()], Who::Distributor),
        );
        let body = isnad_proto::encode_event_body(&event);
        let signature = sign_with_mixed_order_r(&key, &body);
        let batch = ed25519_dalek::verify_batch(
            &[envelope::signing_bytes(ORIGIN, &body).as_slice()],
            &[Signature::from_bytes(&signature)],
            &[key.verifying_key()],
        );
        if batch.is_ok() {
            return pb::SignedEvent {
                body: body.into(),
                public_key: key.verifying_key().to_bytes().to_vec().into(),
                signature: signature.to_vec().into(),
            };
        }
    }
    panic!("no event id in 256 gave a batch coefficient that is a multiple of 8");
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
