//! Rows of capture and registry requests that claim an authority they do not have.

use bytes::Bytes;
use ed25519_dalek::Signer;
use isnad_client::sign::{sign_body, sign_event};
use isnad_core::event::{EventId, Item, Payload};
use isnad_proto::contract::{BODY_LEN_MAX, EVENTS_PER_REQUEST_MAX, REQUEST_BYTES_MAX, Reason};
use isnad_proto::pb;
use isnad_testkit::{Who, forgery};
use isnad_tests::ORIGIN;
use isnad_tests::call::method;
use tonic::Code;

use super::*;
use crate::fixture::*;

/// The rows about who may write: signatures, keys, replays, the rules, the registry's own door
/// and the capture stream.
pub(crate) fn authority_rows(fx: &mut Fixture) -> Vec<Row> {
    use Reason as R;
    let bad = Code::InvalidArgument;
    let too_much = Code::ResourceExhausted;
    let unauthenticated = Code::Unauthenticated;
    let manufacturer = fx.key(Who::Manufacturer);
    let distributor = fx.key(Who::Distributor);
    let regulator = fx.key(Who::Regulator);
    vec![
        // Signatures.
        row(
            "signature: one bit flipped",
            {
                let mut event = fx.ship_sn1();
                event.signature = flip(&event.signature, 77);
                capture(vec![event])
            },
            Refused(unauthenticated, R::BadSignature),
        ),
        row(
            "signature: one bit of the body flipped after signing",
            {
                let mut event = fx.ship_sn1();
                // A bit of the event id, so the body still decodes.
                event.body = flip(&event.body, 2 * 8 + 3);
                capture(vec![event])
            },
            Refused(unauthenticated, R::BadSignature),
        ),
        row(
            "signature: by another admitted key than the one named",
            {
                let mut event = fx.ship_sn1();
                let body = event.body.to_vec();
                event.signature = sign_body(&distributor, ORIGIN, body).signature;
                capture(vec![event])
            },
            Refused(unauthenticated, R::BadSignature),
        ),
        row(
            "signature: a small-order key with R the identity and S = 0",
            {
                let mut event = fx.ship_sn1();
                event.public_key = forgery::IDENTITY_POINT.to_vec().into();
                event.signature = forgery::identity_signature().to_vec().into();
                capture(vec![event])
            },
            Refused(unauthenticated, R::BadSignature),
        ),
        row(
            "signature: S + L (not canonical)",
            {
                let mut event = fx.ship_sn1();
                let signature: [u8; 64] = event.signature[..].try_into().expect("64 bytes");
                event.signature = forgery::non_canonical_s(&signature).to_vec().into();
                capture(vec![event])
            },
            Refused(unauthenticated, R::BadSignature),
        ),
        row(
            "signature: a mixed-order R the batch equation accepts",
            {
                let (body, signature) =
                    forgery::mixed_order_r_the_batch_accepts(&manufacturer, ORIGIN, || {
                        fx.ship_sn1().body.to_vec()
                    });
                let mut event = sign_body(&manufacturer, ORIGIN, body);
                event.signature = signature.to_vec().into();
                capture(vec![event])
            },
            Refused(unauthenticated, R::BadSignature),
        ),
        row(
            "signature: for another log's origin",
            {
                let unit = Item::Unit(fx.scenario.unit("SN1"));
                let payload = fx.scenario.ship_payload(vec![unit], Who::Distributor);
                let event = fx.scenario.event(Who::Manufacturer, payload);
                capture(vec![sign_event(
                    &manufacturer,
                    "isnad.sante.gov.ma/log",
                    &event,
                )])
            },
            Refused(unauthenticated, R::BadSignature),
        ),
        row(
            "signature: over the body alone, without the context and origin",
            {
                let mut event = fx.ship_sn1();
                event.signature = manufacturer.sign(&event.body).to_bytes().to_vec().into();
                capture(vec![event])
            },
            Refused(unauthenticated, R::BadSignature),
        ),
        row(
            "signature: all zeros",
            {
                let mut event = fx.ship_sn1();
                event.signature = vec![0; 64].into();
                capture(vec![event])
            },
            Refused(unauthenticated, R::BadSignature),
        ),
        row(
            "signature: a forged event after a valid one in one request",
            {
                let good = fx.commission();
                let mut forged = fx.ship_sn1();
                forged.signature = flip(&forged.signature, 5);
                capture(vec![good, forged])
            },
            Refused(unauthenticated, R::BadSignature),
        ),
        // Keys and authority.
        row(
            "key: a key nobody admitted",
            {
                let unit = Item::Unit(fx.scenario.unit("SN1"));
                let payload = fx.scenario.ship_payload(vec![unit], Who::Distributor);
                let event = fx.scenario.event(Who::Manufacturer, payload);
                capture(vec![sign_event(
                    &isnad_testkit::signing_key(77),
                    ORIGIN,
                    &event,
                )])
            },
            Refused(unauthenticated, R::UnknownKey),
        ),
        row(
            "key: the distributor's key signing as the manufacturer",
            {
                let unit = Item::Unit(fx.scenario.unit("SN1"));
                let payload = fx.scenario.ship_payload(vec![unit], Who::Distributor);
                let event = fx.scenario.event(Who::Manufacturer, payload);
                capture(vec![sign_event(&distributor, ORIGIN, &event)])
            },
            Refused(Code::PermissionDenied, R::KeyNotActor),
        ),
        row(
            "forged registry: the manufacturer admits a participant",
            capture(vec![fx.admission(Who::Manufacturer, &manufacturer)]),
            Refused(Code::PermissionDenied, R::WrongRole),
        ),
        row(
            "forged registry: the manufacturer's key signing as the regulator",
            capture(vec![fx.admission(Who::Regulator, &manufacturer)]),
            Refused(Code::PermissionDenied, R::KeyNotActor),
        ),
        row(
            "forged registry: a stranger admits itself as the regulator",
            capture(vec![
                fx.admission(Who::Regulator, &isnad_testkit::signing_key(90)),
            ]),
            Refused(unauthenticated, R::UnknownKey),
        ),
        row(
            "forged registry: the distributor revokes the manufacturer's key",
            {
                let payload = Payload::RevokeKey {
                    party: fx.scenario.manufacturer.party,
                    public_key: fx.scenario.manufacturer.public_key(),
                    compromised_since_unix_ms: None,
                };
                capture(vec![fx.signed(Who::Distributor, payload)])
            },
            Refused(Code::PermissionDenied, R::WrongRole),
        ),
        row(
            "registry: the regulator adds a small-order key",
            {
                let payload = Payload::AddKey {
                    party: fx.scenario.manufacturer.party,
                    public_key: isnad_core::event::PublicKey(forgery::IDENTITY_POINT),
                };
                capture(vec![fx.signed(Who::Regulator, payload)])
            },
            Refused(bad, R::InvalidField),
        ),
        row(
            "registry: the regulator admits an admitted party again",
            {
                let admit = fx.scenario.manufacturer.admit();
                capture(vec![
                    fx.signed(Who::Regulator, Payload::AdmitParticipant(admit)),
                ])
            },
            Refused(Code::AlreadyExists, R::ParticipantExists),
        ),
        // Replays and the rules.
        row(
            "replay: an accepted event's id with other bytes",
            {
                let mut event = fx.accepted.clone();
                event.event_time_unix_ms += 1;
                capture(vec![sign_event(&manufacturer, ORIGIN, &event)])
            },
            Refused(Code::AlreadyExists, R::EventIdReused),
        ),
        row(
            "replay: an accepted event's id on another party's event",
            {
                let payload = Payload::Receive {
                    shipment: fx.shipment,
                    missing: vec![],
                };
                let mut event = fx.scenario.event(Who::Distributor, payload);
                event.id = fx.accepted.id;
                capture(vec![sign_event(&distributor, ORIGIN, &event)])
            },
            Refused(Code::AlreadyExists, R::EventIdReused),
        ),
        row(
            "rules: an event at another party's site",
            {
                let site = fx.scenario.distributor.site;
                let lot = fx.fresh_lot();
                let payload = fx.scenario.commission_payload(&lot, &["X1"]);
                let event = fx.scenario.event_at(Who::Manufacturer, site, payload);
                capture(vec![sign_event(&manufacturer, ORIGIN, &event)])
            },
            Refused(Code::PermissionDenied, R::ForeignSite),
        ),
        row(
            "rules: a product outside the manufacturer's company prefix",
            {
                let payload = fx
                    .scenario
                    .register_product_payload(isnad_testkit::gtin("0622000000001"));
                capture(vec![fx.signed(Who::Manufacturer, payload)])
            },
            Refused(Code::PermissionDenied, R::PrefixNotOwned),
        ),
        row(
            "rules: commissioning a product nobody registered",
            capture(vec![fx.commission_with(|c| {
                c.gtin = isnad_testkit::gtin("0611123400009").to_string()
            })]),
            Refused(Code::NotFound, R::UnknownProduct),
        ),
        row(
            "rules: commissioning a serial that exists",
            capture(vec![fx.commission_with(|c| {
                c.lot = "L1".into();
                c.serials = vec!["SN1".into()];
            })]),
            Refused(Code::AlreadyExists, R::DuplicateSerial),
        ),
        row(
            "rules: one serial listed twice",
            capture(vec![fx.commission_with(|c| {
                c.serials = vec!["D1".into(), "D1".into()]
            })]),
            Refused(Code::AlreadyExists, R::DuplicateSerial),
        ),
        row(
            "rules: a lot that expired",
            capture(vec![fx.commission_with(|c| {
                c.expiry = isnad_testkit::dates::expiry_passed();
                c.production_date.clear();
            })]),
            Refused(Code::FailedPrecondition, R::Expired),
        ),
        row(
            "rules: shipping a unit another party holds",
            {
                let unit = Item::Unit(fx.scenario.unit("SN1"));
                let payload = fx.scenario.ship_payload(vec![unit], Who::Hospital);
                capture(vec![fx.signed(Who::Distributor, payload)])
            },
            Refused(Code::FailedPrecondition, R::NotHolder),
        ),
        row(
            "rules: receiving another party's shipment",
            {
                let payload = Payload::Receive {
                    shipment: fx.shipment,
                    missing: vec![],
                };
                capture(vec![fx.signed(Who::Hospital, payload)])
            },
            Refused(Code::FailedPrecondition, R::NotAddressee),
        ),
        row(
            "rules: receiving a shipment that does not exist",
            {
                let payload = Payload::Receive {
                    shipment: EventId([0xEE; 16]),
                    missing: vec![],
                };
                capture(vec![fx.signed(Who::Distributor, payload)])
            },
            Refused(Code::NotFound, R::UnknownShipment),
        ),
        row(
            "rules: shipping to a party nobody admitted",
            {
                let unit = Item::Unit(fx.scenario.unit("SN1"));
                let payload = Payload::Ship {
                    items: vec![unit],
                    destination_party: isnad_testkit::gln("611000000900"),
                    destination_site: isnad_testkit::gln("611000000901"),
                };
                capture(vec![fx.signed(Who::Manufacturer, payload)])
            },
            Refused(Code::NotFound, R::UnknownParticipant),
        ),
        row(
            "atomic: a valid ship, then a refused one, writes neither",
            {
                let good = fx.ship_sn1();
                let unit = Item::Unit(fx.scenario.unit("SN1"));
                let payload = fx.scenario.ship_payload(vec![unit], Who::Hospital);
                let refused = fx.signed(Who::Distributor, payload);
                capture(vec![good, refused])
            },
            Refused(Code::FailedPrecondition, R::InTransit),
        ),
        // The registry's own door.
        row(
            "submit: a commission",
            submit(fx.commission()),
            Refused(bad, R::NotARegistryEvent),
        ),
        row(
            "submit: a body that is not protobuf",
            submit(sign_body(&regulator, ORIGIN, vec![0xff; 8])),
            Refused(bad, R::MalformedBody),
        ),
        // Submit runs Capture's stateless checks in their order, so one fault gets one answer
        // at either door.
        row(
            "submit: an empty signed event",
            submit(pb::SignedEvent::default()),
            Refused(bad, R::MalformedKey),
        ),
        // Before the fix Submit decoded the body before checking its size: this answered
        // INVALID_ARGUMENT MALFORMED_BODY, after decoding all of it.
        row(
            "submit: a body one byte past 64 KiB",
            {
                let mut event = fx.admission(Who::Regulator, &regulator);
                event.body = vec![0; BODY_LEN_MAX + 1].into();
                submit(event)
            },
            Refused(too_much, R::BodyTooLarge),
        ),
        row(
            "submit: an admission signed by the manufacturer",
            submit(fx.admission(Who::Manufacturer, &manufacturer)),
            Refused(Code::PermissionDenied, R::WrongRole),
        ),
        row(
            "submit: an admission with one signature bit flipped",
            {
                let mut event = fx.admission(Who::Regulator, &regulator);
                event.signature = flip(&event.signature, 300);
                submit(event)
            },
            Refused(unauthenticated, R::BadSignature),
        ),
        row(
            "submit: suspending a party nobody admitted",
            {
                let payload = Payload::SuspendParticipant {
                    party: isnad_testkit::gln("611000000900"),
                    reason: "\u{0}\u{7}\u{1b}[2J".into(),
                };
                submit(fx.signed(Who::Regulator, payload))
            },
            Refused(Code::NotFound, R::UnknownParticipant),
        ),
        // The capture stream.
        row(
            "capture stream: an empty batch",
            capture_stream(vec![vec![]]),
            Refused(bad, R::EmptyRequest),
        ),
        row(
            "capture stream: a forged batch",
            {
                let mut event = fx.ship_sn1();
                event.signature = flip(&event.signature, 1);
                capture_stream(vec![vec![event]])
            },
            Refused(unauthenticated, R::BadSignature),
        ),
        row(
            "capture stream: 1,001 events in one batch",
            capture_stream(vec![vec![fx.ship_sn1(); EVENTS_PER_REQUEST_MAX + 1]]),
            Refused(too_much, R::TooManyEvents),
        ),
        // Before the fix these two answered as tonic's codec does, without a reason code:
        // INTERNAL "failed to decode Protobuf message" and OUT_OF_RANGE "decoded message length
        // too large" (the unary rewrite sees only answers that fail before their headers).
        row(
            "capture stream: a message that is not a CaptureRequest",
            Call::Stream(
                method::CAPTURE_STREAM,
                vec![Bytes::from_static(&[0x08, 0x01])],
            ),
            Refused(bad, R::MalformedRequest),
        ),
        row(
            "capture stream: a message past the size limit",
            Call::Stream(
                method::CAPTURE_STREAM,
                vec![field(1, &field(1, &vec![0; REQUEST_BYTES_MAX])).into()],
            ),
            Refused(too_much, R::MessageTooLarge),
        ),
        row(
            "capture: only unknown fields",
            raw(method::CAPTURE, &field(15, b"junk")),
            Refused(bad, R::EmptyRequest),
        ),
        row(
            "capture: a signed event's body sent as a number",
            raw(method::CAPTURE, &[0x0a, 0x02, 0x08, 0x05]),
            Refused(bad, R::MalformedRequest),
        ),
    ]
}
