//! The worked signing example of docs/integration.md is a test vector: this test reads the
//! document and checks that its body bytes decode to the event it describes, that its
//! signature verifies for its origin (and for no other), and that signing with its seed for
//! that origin gives exactly its signature.

use ed25519_dalek::SigningKey;
use isnad_core::envelope;
use isnad_core::event::{DeviceClass, Event, EventId, Payload};

const DOC: &str = include_str!("../../docs/integration.md");

/// The value of a `name: hex` line of the worked example.
fn field(name: &str) -> Vec<u8> {
    let prefix = format!("{name}: ");
    let hex_text: String = DOC
        .lines()
        .skip_while(|l| !l.starts_with(&prefix))
        .enumerate()
        .take_while(|(i, l)| *i == 0 || l.starts_with("    "))
        .map(|(_, l)| l.trim_start_matches(&prefix).trim().to_owned())
        .collect();
    hex::decode(&hex_text)
        .unwrap_or_else(|e| panic!("{name} in docs/integration.md is not hex: {e}"))
}

/// The origin of the worked example's log.
fn origin() -> &'static str {
    DOC.lines()
        .find_map(|l| l.strip_prefix("origin: "))
        .expect("the worked example names its origin")
        .trim()
}

fn described_event() -> Event {
    Event {
        id: EventId(*b"isnad-example-01"),
        event_time_unix_ms: 1_790_000_000_000,
        actor: "6111234000002".parse().expect("valid GLN"),
        site: "6111234000002".parse().expect("valid GLN"),
        payload: Payload::RegisterProduct {
            gtin: "06111234000019".parse().expect("valid GTIN"),
            name: "Sterile syringe 5 ml".into(),
            device_class: DeviceClass::ClassIIa,
            made_in_morocco: true,
        },
    }
}

#[test]
fn worked_example_matches_the_document() {
    let seed: [u8; 32] = field("seed").try_into().expect("32-byte seed");
    let key = SigningKey::from_bytes(&seed);
    let body = isnad_proto::encode_event_body(&described_event());
    let signature = envelope::sign(&key, origin(), &body);
    let expected = format!(
        "public_key: {}\nbody: {}\nsignature: {}",
        hex::encode(key.verifying_key().to_bytes()),
        hex::encode(&body),
        hex::encode(signature)
    );
    println!("the worked example's values:\n{expected}");
    assert_eq!(
        field("public_key"),
        key.verifying_key().to_bytes(),
        "{expected}"
    );
    assert_eq!(field("body"), body, "{expected}");
    assert_eq!(field("signature"), signature, "{expected}");
    envelope::verify(
        origin(),
        &field("public_key"),
        &field("signature"),
        &field("body"),
    )
    .expect("the documented signature verifies");
    let mut documented_prefix = b"isnad/v1/event\x00".to_vec();
    documented_prefix.extend_from_slice(origin().as_bytes());
    documented_prefix.push(0);
    assert!(envelope::signing_bytes(origin(), &body).starts_with(&documented_prefix));
    assert_eq!(
        isnad_proto::decode_event_body(&field("body")).expect("decodes"),
        described_event()
    );
}

#[test]
fn a_flipped_body_byte_breaks_the_documented_signature() {
    let mut body = field("body");
    body[10] ^= 1;
    assert!(envelope::verify(origin(), &field("public_key"), &field("signature"), &body).is_err());
}

#[test]
fn the_documented_signature_is_refused_for_another_origin() {
    let verify_for = |origin: &str| {
        envelope::verify(
            origin,
            &field("public_key"),
            &field("signature"),
            &field("body"),
        )
    };
    assert_eq!(verify_for(origin()), Ok(()));
    assert!(verify_for("isnad.sante.gov.ma/log").is_err());
}

/// The text value of a `name: value` line of the request example.
fn text(name: &str) -> &'static str {
    let prefix = format!("{name}: ");
    DOC.lines()
        .find_map(|l| l.strip_prefix(prefix.as_str()))
        .unwrap_or_else(|| panic!("docs/integration.md has no {name}"))
        .trim()
}

/// The worked request-signing example is a test vector: its message is the encoding of the
/// request it describes, its digest that message's SHA-256, and signing with the event
/// example's seed gives exactly its signature, which the one verification accepts, and which
/// fails for another method, time or message.
#[test]
fn worked_request_example_matches_the_document() {
    use isnad_core::envelope::request::{
        RequestClaim, request_digest, request_signing_bytes, sign_request, verify_request,
    };
    use prost::Message;
    let key = SigningKey::from_bytes(&field("seed").try_into().expect("32-byte seed"));
    let message = isnad_proto::pb::PartyEventsRequest {
        party: text("request_party").to_owned(),
        ..Default::default()
    }
    .encode_to_vec();
    assert_eq!(field("request_message"), message);
    let digest = request_digest(&message);
    assert_eq!(field("request_digest"), digest);
    let claim = RequestClaim {
        method: text("request_method"),
        party: text("request_party"),
        time: text("request_time"),
        digest: &digest,
    };
    let origin = text("request_origin");
    let signature = sign_request(&key, origin, &claim);
    assert_eq!(
        field("request_signature"),
        signature,
        "signature: {}\nsigned bytes: {}",
        hex::encode(signature),
        hex::encode(request_signing_bytes(origin, &claim))
    );
    let public_key = key.verifying_key().to_bytes();
    assert_eq!(
        verify_request(origin, &public_key, &signature, &claim),
        Ok(())
    );
    let other_digest = request_digest(b"");
    for other in [
        RequestClaim {
            method: "/isnad.v1.Verification/InboundShipments",
            ..claim
        },
        RequestClaim {
            time: "1790000000001",
            ..claim
        },
        RequestClaim {
            digest: &other_digest,
            ..claim
        },
    ] {
        assert!(verify_request(origin, &public_key, &signature, &other).is_err());
    }
}
