//! Wire to domain and back: round trips, and every refusal names its field.

use super::*;
use isnad_core::gs1::{Gtin, Lot, Sscc};

fn gln(s: &str) -> Gln {
    s.parse().expect("test GLN is valid")
}

fn sample_event(payload: Payload) -> Event {
    Event {
        id: EventId([7; 16]),
        event_time_unix_ms: 1_790_000_000_000,
        actor: gln("0614141000005"),
        site: gln("0614141000005"),
        payload,
    }
}

#[test]
fn every_payload_round_trips() {
    let gtin: Gtin = "00614141000036".parse().expect("valid");
    let lot: Lot = "L1".parse().expect("valid");
    let unit = UnitId {
        gtin,
        serial: "S1".parse().expect("valid"),
    };
    let lot_id = LotId { gtin, lot };
    let sscc: Sscc = "106141411234567897".parse().expect("valid");
    let items = vec![
        Item::Unit(unit.clone()),
        Item::Sscc(sscc),
        Item::LotQuantity {
            lot: lot_id.clone(),
            quantity: 5,
        },
    ];
    let payloads = vec![
        Payload::AdmitParticipant(Admit {
            party: gln("0614141000005"),
            name: "Pharma".into(),
            roles: vec![Role::Manufacturer, Role::Distributor],
            sites: vec![gln("0614141000005")],
            company_prefixes: vec!["0614141".into()],
            public_keys: vec![PublicKey([1; 32])],
        }),
        Payload::SuspendParticipant {
            party: gln("0614141000005"),
            reason: "audit".into(),
        },
        Payload::ReinstateParticipant {
            party: gln("0614141000005"),
        },
        Payload::AddKey {
            party: gln("0614141000005"),
            public_key: PublicKey([2; 32]),
        },
        Payload::RevokeKey {
            party: gln("0614141000005"),
            public_key: PublicKey([2; 32]),
            compromised_since_unix_ms: Some(5),
        },
        Payload::RegisterProduct {
            gtin,
            name: "Syringe".into(),
            device_class: DeviceClass::ClassIIa,
            made_in_morocco: true,
        },
        Payload::Commission {
            lot: lot_id.clone(),
            expiry: "281231".parse().expect("valid"),
            production_date: Some(Gs1Date::parse_for("260101", "11").expect("valid")),
            serials: vec!["S1".parse().expect("valid")],
            serial_ranges: vec![SerialRange {
                prefix: "A".into(),
                first: 1,
                count: 3,
                width: 4,
            }],
            quantity: 0,
        },
        Payload::Aggregate {
            sscc,
            items: items.clone(),
        },
        Payload::Disaggregate {
            sscc,
            items: vec![],
        },
        Payload::Ship {
            items: items.clone(),
            destination_party: gln("0614141000005"),
            destination_site: gln("0614141000005"),
        },
        Payload::Receive {
            shipment: EventId([3; 16]),
            missing: vec![Item::Unit(unit.clone())],
        },
        Payload::Decommission {
            items: items.clone(),
            reason: DecommissionReason::Used,
        },
        Payload::Recall {
            lot: lot_id,
            reason: "sterility".into(),
        },
        Payload::Inspect {
            scan: "(01)00614141000036(21)S1".into(),
            verdict_seen: ReasonCode::Genuine,
        },
    ];
    for payload in payloads {
        let event = sample_event(payload);
        let decoded = decode_event_body(&encode_event_body(&event)).expect("round trip");
        assert_eq!(decoded, event);
    }
}

#[track_caller]
fn check_refused(mutate: impl FnOnce(&mut pb::EventBody), field: &str) {
    let mut wire = event_to_wire(&sample_event(Payload::ReinstateParticipant {
        party: gln("0614141000005"),
    }));
    mutate(&mut wire);
    let err = decode_event_body(&wire.encode_to_vec()).expect_err("must be refused");
    assert_eq!(err.field_name(), Some(field), "{err}");
}

#[test]
fn bad_fields_are_named() {
    check_refused(|w| w.event_id = vec![1; 15], "event_id");
    check_refused(|w| w.actor = "0614141000006".into(), "actor");
    check_refused(|w| w.site.clear(), "site");
    check_refused(|w| w.payload = None, "payload");
    check_refused(
        |w| {
            w.payload = Some(PbPayload::AddKey(pb::AddKey {
                party: "0614141000005".into(),
                public_key: vec![0; 31],
            }))
        },
        "add_key.public_key",
    );
    check_refused(
        |w| {
            w.payload = Some(PbPayload::Decommission(pb::Decommission {
                items: vec![pb::ItemRef { item: None }],
                reason: 1,
            }))
        },
        "decommission.items[0]",
    );
    check_refused(
        |w| {
            w.payload = Some(PbPayload::Decommission(pb::Decommission {
                items: vec![],
                reason: 0,
            }))
        },
        "decommission.reason",
    );
}

#[test]
fn garbage_is_a_decode_error() {
    let err = decode_event_body(&[0xff, 0xff, 0xff]).expect_err("garbage");
    assert!(matches!(err, ConvertError::Decode { .. }), "{err}");
}

#[test]
fn genesis_round_trips() {
    let genesis = Genesis {
        origin: "isnad.ma/log/v1".into(),
        log_public_key: PublicKey([9; 32]),
        regulator: Admit {
            party: gln("0614141000005"),
            name: "Regulator".into(),
            roles: vec![Role::Regulator],
            sites: vec![],
            company_prefixes: vec![],
            public_keys: vec![PublicKey([4; 32])],
        },
        created_unix_ms: 42,
    };
    assert_eq!(
        decode_genesis(&encode_genesis(&genesis)).expect("round trip"),
        genesis
    );
}

/// A commission wire body of one serial range.
fn commission_of_range(range: pb::SerialRange) -> pb::EventBody {
    let mut wire = event_to_wire(&sample_event(Payload::ReinstateParticipant {
        party: gln("0614141000005"),
    }));
    wire.payload = Some(PbPayload::Commission(pb::Commission {
        gtin: "00614141000036".into(),
        lot: "L1".into(),
        expiry: "281231".into(),
        production_date: String::new(),
        serials: vec![],
        serial_ranges: vec![range],
        quantity: 0,
    }));
    wire
}

#[track_caller]
fn check_range(prefix: &str, first: u64, count: u32, width: u32, refused: Option<&str>) {
    let range = pb::SerialRange {
        prefix: prefix.into(),
        first,
        count,
        width,
    };
    let result = decode_event_body(&commission_of_range(range).encode_to_vec());
    match refused {
        None => {
            result.expect("a valid range");
        }
        Some(field) => {
            let err = result.expect_err("must be refused");
            assert_eq!(err.field_name(), Some(field), "{err}");
        }
    }
}

#[test]
fn serial_ranges_name_only_valid_serials() {
    let field = |name: &str| format!("commission.serial_ranges[0].{name}");
    // Formatting a width past 65,535 panics: it must be refused before anything formats it.
    check_range("R", 1, 10, 70_000, Some(&field("width")));
    check_range("R", 1, 10, u32::MAX, Some(&field("width")));
    // Prefix and number together fit a serial of 20 characters, and no more.
    check_range("R", 1, 10, 19, None);
    check_range("R", 1, 10, 20, Some(&field("width")));
    check_range("", 1, 10, 20, None);
    check_range(&"P".repeat(19), 1, 9, 0, None);
    check_range(&"P".repeat(19), 1, 10, 0, Some(&field("count")));
    check_range(&"P".repeat(20), 1, 1, 0, Some(&field("prefix")));
    check_range(&"P".repeat(65_535), 1, 1, 0, Some(&field("prefix")));
    check_range("", u64::MAX, 1, 0, None);
    check_range("A", u64::MAX, 1, 0, Some(&field("count")));
    check_range("", u64::MAX, 2, 0, Some(&field("count")));
    check_range("R", 1, 0, 6, Some(&field("count")));
    check_range("R#", 1, 1, 6, Some(&field("prefix")));
    check_range("Ré", 1, 1, 6, Some(&field("prefix")));
}
