//! Rows of capture requests whose envelope or body is malformed.

use bytes::Bytes;
use isnad_client::sign::sign_body;
use isnad_core::event::{Item, Payload};
use isnad_proto::contract::{
    BODY_LEN_MAX, EVENTS_PER_REQUEST_MAX, Reason, SERIALS_PER_COMMISSION_MAX,
};
use isnad_proto::pb;
use isnad_proto::pb::event_body::Payload as Body;
use isnad_testkit::Who;
use isnad_tests::ORIGIN;
use tonic::Code;

use super::*;
use crate::fixture::*;

/// The rows about capture: envelope shape, body decoding, signatures, keys and rules.
pub(crate) fn capture_rows(fx: &mut Fixture) -> Vec<Row> {
    use Reason as R;
    let bad = Code::InvalidArgument;
    let too_much = Code::ResourceExhausted;
    let _unauthenticated = Code::Unauthenticated;
    let manufacturer = fx.key(Who::Manufacturer);
    let _distributor = fx.key(Who::Distributor);
    let _regulator = fx.key(Who::Regulator);
    vec![
        // The envelope.
        row(
            "capture: no events",
            capture(vec![]),
            Refused(bad, R::EmptyRequest),
        ),
        row(
            "capture: 1,001 events",
            capture(vec![fx.ship_sn1(); EVENTS_PER_REQUEST_MAX + 1]),
            Refused(too_much, R::TooManyEvents),
        ),
        row(
            "capture: a body one byte past 64 KiB",
            {
                let mut event = fx.ship_sn1();
                event.body = vec![0; BODY_LEN_MAX + 1].into();
                capture(vec![event])
            },
            Refused(too_much, R::BodyTooLarge),
        ),
        row(
            "capture: a ship of 10,001 units, signed (its body is past 64 KiB)",
            {
                let units = (0..10_001)
                    .map(|n| Item::Unit(fx.scenario.unit(&format!("S{n}"))))
                    .collect();
                let payload = fx.scenario.ship_payload(units, Who::Distributor);
                capture(vec![fx.signed(Who::Manufacturer, payload)])
            },
            Refused(too_much, R::BodyTooLarge),
        ),
        row(
            "capture: a public key of 31 bytes",
            {
                let mut event = fx.ship_sn1();
                event.public_key = event.public_key.slice(..31);
                capture(vec![event])
            },
            Refused(bad, R::MalformedKey),
        ),
        row(
            "capture: a public key of 33 bytes",
            {
                let mut event = fx.ship_sn1();
                event.public_key = [&event.public_key[..], &[0]].concat().into();
                capture(vec![event])
            },
            Refused(bad, R::MalformedKey),
        ),
        row(
            "capture: an empty signed event",
            capture(vec![pb::SignedEvent::default()]),
            Refused(bad, R::MalformedKey),
        ),
        row(
            "capture: a signature of 63 bytes",
            {
                let mut event = fx.ship_sn1();
                event.signature = event.signature.slice(..63);
                capture(vec![event])
            },
            Refused(bad, R::MalformedSignature),
        ),
        row(
            "capture: no signature",
            {
                let mut event = fx.ship_sn1();
                event.signature = Bytes::new();
                capture(vec![event])
            },
            Refused(bad, R::MalformedSignature),
        ),
        // The body: malformed protobuf, wrong types, bad identifiers, unknown enum values.
        row(
            "body: not protobuf",
            capture(vec![sign_body(
                &manufacturer,
                ORIGIN,
                vec![0xff, 0xff, 0xff],
            )]),
            Refused(bad, R::MalformedBody),
        ),
        row(
            "body: empty",
            capture(vec![sign_body(&manufacturer, ORIGIN, Vec::new())]),
            Refused(bad, R::MalformedBody),
        ),
        row(
            "body: event_id sent as a number",
            capture(vec![sign_body(&manufacturer, ORIGIN, vec![0x08, 0x01])]),
            Refused(bad, R::MalformedBody),
        ),
        row(
            "body: truncated",
            {
                let mut event = fx.ship_sn1();
                event.body = event.body.slice(..event.body.len() - 1);
                let body = event.body.to_vec();
                capture(vec![sign_body(&manufacturer, ORIGIN, body)])
            },
            Refused(bad, R::MalformedBody),
        ),
        row(
            "body: an event id of 15 bytes",
            {
                let payload = fx.scenario.ship_payload(vec![], Who::Distributor);
                capture(vec![fx.mutated(Who::Manufacturer, payload, |b| {
                    b.event_id.truncate(15)
                })])
            },
            Refused(bad, R::MalformedBody),
        ),
        row(
            "body: an event id of 17 bytes",
            {
                let payload = fx.scenario.ship_payload(vec![], Who::Distributor);
                capture(vec![
                    fx.mutated(Who::Manufacturer, payload, |b| b.event_id.push(0)),
                ])
            },
            Refused(bad, R::MalformedBody),
        ),
        row(
            "body: no payload",
            {
                let payload = fx.scenario.ship_payload(vec![], Who::Distributor);
                capture(vec![
                    fx.mutated(Who::Manufacturer, payload, |b| b.payload = None),
                ])
            },
            Refused(bad, R::MalformedBody),
        ),
        row(
            "body: an actor GLN with a wrong check digit",
            {
                let payload = fx.scenario.ship_payload(vec![], Who::Distributor);
                capture(vec![fx.mutated(Who::Manufacturer, payload, |b| {
                    b.actor = bad_check_digit(&b.actor)
                })])
            },
            Refused(bad, R::MalformedBody),
        ),
        row(
            "body: a site of 12 digits",
            {
                let payload = fx.scenario.ship_payload(vec![], Who::Distributor);
                capture(vec![fx.mutated(Who::Manufacturer, payload, |b| {
                    b.site.pop();
                })])
            },
            Refused(bad, R::MalformedBody),
        ),
        row(
            "body: an actor in full-width Unicode digits",
            {
                let payload = fx.scenario.ship_payload(vec![], Who::Distributor);
                capture(vec![fx.mutated(Who::Manufacturer, payload, |b| {
                    b.actor = b
                        .actor
                        .chars()
                        .map(|c| char::from_u32(c as u32 - '0' as u32 + 0xFF10).expect("a digit"))
                        .collect()
                })])
            },
            Refused(bad, R::MalformedBody),
        ),
        row(
            "body: a GTIN with a wrong check digit",
            capture(vec![
                fx.commission_with(|c| c.gtin = bad_check_digit(&c.gtin)),
            ]),
            Refused(bad, R::MalformedBody),
        ),
        row(
            "body: a serial with a GS control character",
            capture(vec![
                fx.commission_with(|c| c.serials = vec!["AB\u{1d}21CD".into()]),
            ]),
            Refused(bad, R::MalformedBody),
        ),
        row(
            "body: a serial with a NUL",
            capture(vec![
                fx.commission_with(|c| c.serials = vec!["AB\0".into()]),
            ]),
            Refused(bad, R::MalformedBody),
        ),
        row(
            "body: a serial of 21 characters",
            capture(vec![
                fx.commission_with(|c| c.serials = vec!["A".repeat(21)]),
            ]),
            Refused(bad, R::MalformedBody),
        ),
        row(
            "body: a serial of 60,000 characters (not echoed back)",
            capture(vec![
                fx.commission_with(|c| c.serials = vec!["A".repeat(60_000)]),
            ]),
            Refused(bad, R::MalformedBody),
        ),
        row(
            "body: a serial with an emoji",
            capture(vec![
                fx.commission_with(|c| c.serials = vec!["SN\u{1F600}".into()]),
            ]),
            Refused(bad, R::MalformedBody),
        ),
        row(
            "body: a lot with a right-to-left override",
            capture(vec![fx.commission_with(|c| c.lot = "L\u{202E}1".into())]),
            Refused(bad, R::MalformedBody),
        ),
        row(
            "body: an expiry in month 13",
            capture(vec![fx.commission_with(|c| c.expiry = "291301".into())]),
            Refused(bad, R::MalformedBody),
        ),
        row(
            "body: a production date of 7 digits",
            capture(vec![
                fx.commission_with(|c| c.production_date = "2601011".into()),
            ]),
            Refused(bad, R::MalformedBody),
        ),
        row(
            "body: a serial range of width 65,536 (once stopped every write)",
            capture(vec![fx.commission_with(|c| {
                c.serial_ranges = vec![pb::SerialRange {
                    prefix: "W".into(),
                    first: 1,
                    count: 1,
                    width: 65_536,
                }]
            })]),
            Refused(bad, R::MalformedBody),
        ),
        row(
            "body: a serial range of width u32::MAX",
            capture(vec![fx.commission_with(|c| {
                c.serial_ranges = vec![pb::SerialRange {
                    prefix: String::new(),
                    first: 1,
                    count: 1,
                    width: u32::MAX,
                }]
            })]),
            Refused(bad, R::MalformedBody),
        ),
        row(
            "body: a serial range of no serials",
            capture(vec![fx.commission_with(|c| {
                c.serial_ranges = vec![pb::SerialRange {
                    prefix: "Z".into(),
                    first: 1,
                    count: 0,
                    width: 3,
                }]
            })]),
            Refused(bad, R::MalformedBody),
        ),
        row(
            "body: a serial range past u64::MAX",
            capture(vec![fx.commission_with(|c| {
                c.serial_ranges = vec![pb::SerialRange {
                    prefix: String::new(),
                    first: u64::MAX,
                    count: 2,
                    width: 0,
                }]
            })]),
            Refused(bad, R::MalformedBody),
        ),
        row(
            "body: a serial range prefix outside GS1 character set 82",
            capture(vec![fx.commission_with(|c| {
                c.serial_ranges = vec![pb::SerialRange {
                    prefix: "é".into(),
                    first: 1,
                    count: 1,
                    width: 3,
                }]
            })]),
            Refused(bad, R::MalformedBody),
        ),
        row(
            "body: a serial range of 10,001 serials",
            capture(vec![fx.commission_with(|c| {
                c.serials.clear();
                let count = u32::try_from(SERIALS_PER_COMMISSION_MAX + 1).expect("fits");
                c.serial_ranges = vec![pb::SerialRange {
                    prefix: "R".into(),
                    first: 1,
                    count,
                    width: 6,
                }]
            })]),
            Refused(too_much, R::TooManySerials),
        ),
        row(
            "body: two serial ranges of 6,000 serials each",
            capture(vec![fx.commission_with(|c| {
                c.serials.clear();
                c.serial_ranges = vec![
                    pb::SerialRange {
                        prefix: "A".into(),
                        first: 1,
                        count: 6_000,
                        width: 6,
                    },
                    pb::SerialRange {
                        prefix: "B".into(),
                        first: 1,
                        count: 6_000,
                        width: 6,
                    },
                ]
            })]),
            Refused(too_much, R::TooManySerials),
        ),
        row(
            "body: an unknown decommission reason (99)",
            {
                let unit = Item::Unit(fx.scenario.unit("SN1"));
                let payload = Payload::Decommission {
                    items: vec![unit],
                    reason: isnad_core::event::DecommissionReason::Destroyed,
                };
                capture(vec![fx.mutated(Who::Manufacturer, payload, |b| {
                    if let Some(Body::Decommission(d)) = b.payload.as_mut() {
                        d.reason = 99;
                    }
                })])
            },
            Refused(bad, R::MalformedBody),
        ),
        row(
            "body: an unknown device class (-1)",
            {
                let product = isnad_testkit::gtin("0611123400009");
                let payload = fx.scenario.register_product_payload(product);
                capture(vec![fx.mutated(Who::Manufacturer, payload, |b| {
                    if let Some(Body::RegisterProduct(p)) = b.payload.as_mut() {
                        p.device_class = -1;
                    }
                })])
            },
            Refused(bad, R::MalformedBody),
        ),
        row(
            "body: a product with an empty name",
            {
                let product = isnad_testkit::gtin("0611123400009");
                let payload = fx.scenario.register_product_payload(product);
                capture(vec![fx.mutated(Who::Manufacturer, payload, |b| {
                    if let Some(Body::RegisterProduct(p)) = b.payload.as_mut() {
                        p.name.clear();
                    }
                })])
            },
            Refused(bad, R::MalformedBody),
        ),
        row(
            "body: an unknown role (42) in an admission",
            {
                let admit = fx.scenario.distributor.admit();
                capture(vec![fx.mutated(
                    Who::Regulator,
                    Payload::AdmitParticipant(admit),
                    |b| {
                        if let Some(Body::AdmitParticipant(a)) = b.payload.as_mut() {
                            a.roles = vec![42];
                        }
                    },
                )])
            },
            Refused(bad, R::MalformedBody),
        ),
        row(
            "body: a company prefix of 5 digits in an admission",
            {
                let admit = fx.scenario.manufacturer.admit();
                capture(vec![fx.mutated(
                    Who::Regulator,
                    Payload::AdmitParticipant(admit),
                    |b| {
                        if let Some(Body::AdmitParticipant(a)) = b.payload.as_mut() {
                            a.company_prefixes = vec!["61112".into()];
                        }
                    },
                )])
            },
            Refused(bad, R::MalformedBody),
        ),
        row(
            "body: an inspection whose verdict is unspecified",
            {
                let payload = Payload::Inspect {
                    scan: "(01)06111234000019(21)SN1".into(),
                    verdict_seen: isnad_core::event::ReasonCode::Genuine,
                };
                capture(vec![fx.mutated(Who::Inspector, payload, |b| {
                    if let Some(Body::Inspect(i)) = b.payload.as_mut() {
                        i.verdict_seen = 0;
                    }
                })])
            },
            Refused(bad, R::MalformedBody),
        ),
        row(
            "body: a lot quantity of zero",
            {
                let lot = fx.scenario.lot("L1");
                let item = Item::LotQuantity { lot, quantity: 1 };
                let payload = fx.scenario.ship_payload(vec![item], Who::Distributor);
                capture(vec![fx.mutated(Who::Manufacturer, payload, |b| {
                    if let Some(Body::Ship(s)) = b.payload.as_mut()
                        && let Some(pb::item_ref::Item::LotQuantity(q)) = s.items[0].item.as_mut()
                    {
                        q.quantity = 0;
                    }
                })])
            },
            Refused(bad, R::MalformedBody),
        ),
        row(
            "body: an empty item reference",
            {
                let unit = Item::Unit(fx.scenario.unit("SN1"));
                let payload = fx.scenario.ship_payload(vec![unit], Who::Distributor);
                capture(vec![fx.mutated(Who::Manufacturer, payload, |b| {
                    if let Some(Body::Ship(s)) = b.payload.as_mut() {
                        s.items[0].item = None;
                    }
                })])
            },
            Refused(bad, R::MalformedBody),
        ),
        row(
            "body: an SSCC with a wrong check digit",
            {
                let unit = Item::Unit(fx.scenario.unit("SN1"));
                let sscc = isnad_testkit::sscc_number(7);
                let payload = Payload::Aggregate {
                    sscc,
                    items: vec![unit],
                };
                capture(vec![fx.mutated(Who::Manufacturer, payload, |b| {
                    if let Some(Body::Aggregate(a)) = b.payload.as_mut() {
                        a.sscc = bad_check_digit(&a.sscc);
                    }
                })])
            },
            Refused(bad, R::MalformedBody),
        ),
        row(
            "body: a receipt of a 3-byte shipment id",
            {
                let payload = Payload::Receive {
                    shipment: fx.shipment,
                    missing: vec![],
                };
                capture(vec![fx.mutated(Who::Distributor, payload, |b| {
                    if let Some(Body::Receive(r)) = b.payload.as_mut() {
                        r.shipment_id.truncate(3);
                    }
                })])
            },
            Refused(bad, R::MalformedBody),
        ),
    ]
}
