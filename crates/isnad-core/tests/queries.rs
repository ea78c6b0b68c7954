//! Queries over the executor's state: look-ups, pages, indexes, and the size budget of the
//! writes of single-unit events.

use isnad_core::event::{DecommissionReason, Item, Payload, ReasonCode};
use isnad_core::queries::{self, HistoryIndexes};
use isnad_core::rules::{ApplyError, Context, RejectCode, apply};
use isnad_core::scan::parse_scan;
use isnad_core::state::{MemState, Overlay};
use isnad_core::verdict::UnitStatus;
use isnad_testkit::{Scenario, TICK_MS, Who, serial, sscc_number};

#[test]
fn event_index_finds_accepted_events_only() {
    let mut scenario = Scenario::new();
    let event = scenario.event(
        Who::Manufacturer,
        scenario.commission_payload("L1", &["SN1"]),
    );
    let id = event.id;
    assert_eq!(
        queries::event_index(&scenario.state, &id).expect("memory"),
        None
    );
    let index = scenario.accept_event(Who::Manufacturer, event);
    assert_eq!(
        queries::event_index(&scenario.state, &id).expect("memory"),
        Some(index)
    );
}

#[test]
fn participant_lists_every_key_with_its_validity() {
    let mut scenario = Scenario::new();
    let old = scenario.distributor.public_key();
    let party = scenario.distributor.party;
    let new_key =
        isnad_core::event::PublicKey(isnad_testkit::signing_key(70).verifying_key().to_bytes());
    let added = scenario.accept(
        Who::Regulator,
        Payload::AddKey {
            party,
            public_key: new_key,
        },
    );
    let since = scenario.clock_unix_ms - 5;
    let revoked = scenario.accept(
        Who::Regulator,
        Payload::RevokeKey {
            party,
            public_key: old,
            compromised_since_unix_ms: Some(since),
        },
    );
    let participant = queries::participant(&scenario.state, &party)
        .expect("memory")
        .expect("admitted");
    assert_eq!(participant.name, scenario.distributor.name);
    assert_eq!(participant.keys.len(), 2);
    assert_eq!(participant.keys[0].public_key, old);
    assert_eq!(participant.keys[0].revoked_at_index, Some(revoked));
    assert_eq!(participant.keys[0].compromised_since_unix_ms, Some(since));
    assert_eq!(participant.keys[1].valid_from_index, added);
    assert_eq!(participant.keys[1].revoked_at_index, None);
    let unknown = isnad_testkit::gln("611000000990");
    assert_eq!(
        queries::participant(&scenario.state, &unknown).expect("memory"),
        None
    );
}

#[test]
fn lot_units_pages_in_serial_order() {
    let mut scenario = Scenario::new();
    scenario.accept(
        Who::Manufacturer,
        scenario.commission_range_payload("L1", "R", 25),
    );
    let lot = scenario.lot("L1");
    let now = scenario.clock_unix_ms;
    let first = queries::lot_units(&scenario.state, &lot, None, 10, now).expect("memory");
    assert_eq!(first.len(), 10);
    assert_eq!(first[0].unit.serial, serial("R000001"));
    let last = first.last().expect("a page").unit.serial.clone();
    let second = queries::lot_units(&scenario.state, &lot, Some(&last), 100, now).expect("memory");
    assert_eq!(second.len(), 15);
    assert_eq!(second[0].unit.serial, serial("R000011"));
    assert!(second.iter().all(|unit| unit.status == UnitStatus::Active));
    let record = queries::lot(&scenario.state, &lot)
        .expect("memory")
        .expect("commissioned");
    assert_eq!(record.units_commissioned, 25);
    // Another lot's units never show in this lot's pages.
    scenario.commission("L10", &["X1"]);
    assert_eq!(
        queries::lot_units(&scenario.state, &lot, None, 100, now)
            .expect("memory")
            .len(),
        25
    );
}

#[test]
fn recall_marks_the_lot_and_units_resolve_it_on_read() {
    let mut scenario = Scenario::new();
    scenario.accept(
        Who::Manufacturer,
        scenario.commission_range_payload("L1", "R", 50),
    );
    let lot = scenario.lot("L1");
    let before = scenario.state.len();
    let reason = "sterility".to_owned();
    scenario.accept(
        Who::Manufacturer,
        Payload::Recall {
            lot: lot.clone(),
            reason,
        },
    );
    // O(1) writes: the lot record, its index entry, the event id and the party index.
    assert_eq!(scenario.state.len(), before + 3);
    let units = queries::lot_units(&scenario.state, &lot, None, 100, scenario.clock_unix_ms)
        .expect("memory");
    assert!(units.iter().all(|unit| unit.status == UnitStatus::Recalled));
    assert_eq!(units.len(), 50, "every unit of the lot is listed");
}

#[test]
fn a_pallet_ship_moves_its_contents_without_touching_them() {
    let mut scenario = Scenario::new();
    scenario.accept(
        Who::Manufacturer,
        scenario.commission_range_payload("L1", "R", 40),
    );
    let units: Vec<Item> = (1..=40)
        .map(|n| Item::Unit(scenario.unit(&format!("R{n:06}"))))
        .collect();
    scenario.aggregate(Who::Manufacturer, sscc_number(1), units);
    let shipment = scenario.fresh_id();
    let payload = scenario.ship_payload(vec![Item::Sscc(sscc_number(1))], Who::Distributor);
    let event = isnad_core::event::Event {
        id: shipment,
        ..scenario.event(Who::Manufacturer, payload)
    };
    let context = scenario.context(scenario.manufacturer.public_key());
    let writes = apply(&scenario.state, &event, &context).expect("accepted");
    assert!(
        writes.len() <= 6,
        "a pallet ship wrote {} keys",
        writes.len()
    );
    scenario.accept_event(Who::Manufacturer, event);
    let unit = queries::unit(
        &scenario.state,
        &scenario.unit("R000007"),
        scenario.clock_unix_ms,
    )
    .expect("memory")
    .expect("commissioned");
    assert_eq!(unit.status, UnitStatus::InTransit);
    assert_eq!(unit.holder, scenario.manufacturer.party);
    assert_eq!(
        unit.destination,
        Some((scenario.distributor.party, scenario.distributor.site))
    );
    assert_eq!(unit.container, Some(sscc_number(1)));
    let inbound =
        queries::inbound_shipments(&scenario.state, &scenario.distributor.party, None, 10)
            .expect("memory");
    assert_eq!(inbound.len(), 1);
    assert_eq!(inbound[0].id, shipment);
    scenario.receive(Who::Distributor, shipment);
    let inbound =
        queries::inbound_shipments(&scenario.state, &scenario.distributor.party, None, 10)
            .expect("memory");
    assert!(inbound.is_empty());
    let pallet = queries::sscc(&scenario.state, &sscc_number(1))
        .expect("memory")
        .expect("packed");
    assert_eq!(
        (pallet.holder, pallet.site),
        (scenario.distributor.party, scenario.distributor.site)
    );
    assert_eq!(
        queries::sscc_contents(&scenario.state, &sscc_number(1))
            .expect("memory")
            .len(),
        40
    );
}

#[test]
fn lot_quantities_move_between_balances() {
    let mut scenario = Scenario::new();
    scenario.accept(
        Who::Manufacturer,
        scenario.commission_quantity_payload("Q1", 100),
    );
    let lot = scenario.lot("Q1");
    let balance = |scenario: &Scenario, who: Who| {
        queries::lot_balance(&scenario.state, &lot, &scenario.actor(who).party).expect("memory")
    };
    let shipment = scenario.ship(
        Who::Manufacturer,
        vec![Item::LotQuantity {
            lot: lot.clone(),
            quantity: 60,
        }],
        Who::Distributor,
    );
    assert_eq!(
        (
            balance(&scenario, Who::Manufacturer),
            balance(&scenario, Who::Distributor)
        ),
        (40, 0)
    );
    let missing = vec![Item::LotQuantity {
        lot: lot.clone(),
        quantity: 10,
    }];
    scenario.accept(Who::Distributor, Payload::Receive { shipment, missing });
    assert_eq!(balance(&scenario, Who::Distributor), 50);
    let items = vec![Item::LotQuantity {
        lot: lot.clone(),
        quantity: 50,
    }];
    scenario.decommission(Who::Distributor, items, DecommissionReason::Destroyed);
    assert_eq!(balance(&scenario, Who::Distributor), 0);
    let record = queries::lot(&scenario.state, &lot)
        .expect("memory")
        .expect("commissioned");
    assert_eq!(record.quantity_commissioned, 100);
    assert_eq!(record.units_commissioned, 0);
}

#[test]
fn party_events_page_by_index_within_a_time_range() {
    let mut scenario = Scenario::new();
    let start = scenario.clock_unix_ms;
    let mut indexes = Vec::new();
    for n in 0..6 {
        let payload = scenario.commission_payload("L1", &[&format!("S{n}")]);
        indexes.push(scenario.accept(Who::Manufacturer, payload));
    }
    let party = scenario.manufacturer.party;
    let all =
        queries::party_events(&scenario.state, &party, i64::MIN, i64::MAX, 0, 100).expect("memory");
    assert_eq!(all.len(), 7, "the product registration and six commissions");
    assert_eq!(&all[1..], &indexes[..]);
    let page =
        queries::party_events(&scenario.state, &party, start, i64::MAX, 0, 2).expect("memory");
    assert_eq!(page, indexes[..2]);
    let next = queries::party_events(&scenario.state, &party, start, i64::MAX, page[1], 2)
        .expect("memory");
    assert_eq!(next, indexes[2..4]);
    let until = start + 3 * TICK_MS;
    let bounded =
        queries::party_events(&scenario.state, &party, start, until, 0, 100).expect("memory");
    assert_eq!(bounded, indexes[..3]);
    let distributor = queries::party_events(
        &scenario.state,
        &scenario.distributor.party,
        i64::MIN,
        i64::MAX,
        0,
        100,
    );
    assert_eq!(distributor.expect("memory"), Vec::<u64>::new());
}

#[test]
fn history_for_scan_follows_the_unit_through_its_containers_only_while_inside() {
    let mut scenario = Scenario::new();
    scenario.commission("L1", &["SN1", "SN2"]);
    let (first, second) = (
        Item::Unit(scenario.unit("SN1")),
        Item::Unit(scenario.unit("SN2")),
    );
    let packed = scenario.aggregate(
        Who::Manufacturer,
        sscc_number(1),
        vec![first.clone(), second],
    );
    let shipment = scenario.ship(
        Who::Manufacturer,
        vec![Item::Sscc(sscc_number(1))],
        Who::Distributor,
    );
    let shipped = queries::event_index(&scenario.state, &shipment)
        .expect("memory")
        .expect("accepted");
    let received = scenario.receive(Who::Distributor, shipment);
    let unpacked = scenario.accept(
        Who::Distributor,
        Payload::Disaggregate {
            sscc: sscc_number(1),
            items: vec![first.clone()],
        },
    );
    // The case goes on without the unit: none of this belongs to the unit's history.
    let later = scenario.ship(
        Who::Distributor,
        vec![Item::Sscc(sscc_number(1))],
        Who::Hospital,
    );
    let later = queries::event_index(&scenario.state, &later)
        .expect("memory")
        .expect("accepted");
    let scan = parse_scan(&scenario.label(&scenario.unit("SN1"), "L1")).expect("parses");
    let HistoryIndexes {
        events,
        authorizations,
    } = queries::history_for_scan(&scenario.state, &scan).expect("memory");
    for index in [packed, shipped, received, unpacked] {
        assert!(
            events.contains(&index),
            "{index} is missing from {events:?}"
        );
    }
    assert!(
        !events.contains(&later),
        "the case's later ship is not the unit's"
    );
    let hospital_admission = 4;
    assert!(
        !authorizations.contains(&hospital_admission),
        "the hospital never touched the unit"
    );
    assert!(
        authorizations.windows(2).all(|pair| pair[0] < pair[1]),
        "sorted and deduplicated"
    );
    let case_history = queries::history_for_sscc(&scenario.state, &sscc_number(1)).expect("memory");
    assert!(case_history.contains(&later) && case_history.contains(&packed));
    let lot_history =
        queries::history_for_lot(&scenario.state, &scenario.lot("L1")).expect("memory");
    assert_eq!(lot_history.len(), 1, "one commission: {lot_history:?}");
}

#[test]
fn an_overlay_lets_a_group_see_its_own_effects_and_roll_one_back() {
    let mut scenario = Scenario::new();
    let signer = scenario.manufacturer.public_key();
    let commission = scenario.event(
        Who::Manufacturer,
        scenario.commission_payload("L1", &["SN1"]),
    );
    let ship = scenario.event(
        Who::Manufacturer,
        scenario.ship_payload(vec![Item::Unit(scenario.unit("SN1"))], Who::Distributor),
    );
    let base: MemState = scenario.state.clone();
    let mut overlay = Overlay::new(&base);
    let index = scenario.entries.len() as u64;
    let context = |offset: u64| Context {
        index: index + offset,
        recorded_unix_ms: scenario.clock_unix_ms,
        signer,
    };
    let writes = apply(&overlay, &commission, &context(0)).expect("commission");
    overlay.apply(writes);
    let mark = overlay.mark();
    let writes = apply(&overlay, &ship, &context(1)).expect("the ship sees the commission");
    overlay.apply(writes);
    overlay.rollback(mark);
    let unit = queries::unit(&overlay, &scenario.unit("SN1"), scenario.clock_unix_ms)
        .expect("memory")
        .expect("commissioned");
    assert_eq!(unit.status, UnitStatus::Active);
    match apply(&overlay, &commission, &context(2)) {
        Err(ApplyError::Rejected(rejection)) => assert_eq!(
            rejection.code,
            RejectCode::DuplicateEventId,
            "the commission's id is taken within the group"
        ),
        other => panic!("a second commission with the same id: {other:?}"),
    }
    let mut committed = base.clone();
    committed.apply(&overlay.into_writes());
    let unit = queries::unit(&committed, &scenario.unit("SN1"), scenario.clock_unix_ms)
        .expect("memory")
        .expect("the commission is committed");
    assert_eq!(
        unit.status,
        UnitStatus::Active,
        "the rolled-back ship is gone"
    );
    assert_eq!(unit.holder, scenario.manufacturer.party);
    assert_eq!(
        queries::shipment(&committed, &ship.id).expect("memory"),
        None,
        "the rolled-back ship wrote nothing"
    );
}

/// Bytes of keys and values one accepted event writes, the log entry aside.
fn written_bytes(scenario: &mut Scenario, who: Who, payload: Payload) -> usize {
    let event = scenario.event(who, payload);
    let context = scenario.context(scenario.actor(who).public_key());
    let bytes = apply(&scenario.state, &event, &context)
        .expect("accepted")
        .bytes_len();
    scenario.accept_event(who, event);
    bytes
}

/// The disk target is about 600 bytes per single-unit event, about 250 of them the log entry:
/// the state's keys and values must stay well under the other 350 (sled adds its own overhead).
#[test]
fn single_unit_events_write_a_few_hundred_bytes() {
    const STATE_BYTES_PER_EVENT_MAX: usize = 350;
    let mut scenario = Scenario::new();
    let unit = Item::Unit(scenario.unit("SN000001"));
    let label = scenario.label(&scenario.unit("SN000001"), "LOT-2026-01");
    let commission = scenario.commission_payload("LOT-2026-01", &["SN000001"]);
    let ship = scenario.ship_payload(vec![unit.clone()], Who::Distributor);
    let mut sizes = vec![(
        "commission",
        written_bytes(&mut scenario, Who::Manufacturer, commission),
    )];
    sizes.push((
        "ship",
        written_bytes(&mut scenario, Who::Manufacturer, ship),
    ));
    let shipment = scenario.entries.last().map(|entry| match &entry.kind {
        isnad_core::verdict::HistoryKind::Event(event) => event.id,
        isnad_core::verdict::HistoryKind::Genesis(_) => unreachable!("an event was just accepted"),
    });
    let receive = Payload::Receive {
        shipment: shipment.expect("a ship"),
        missing: Vec::new(),
    };
    sizes.push((
        "receive",
        written_bytes(&mut scenario, Who::Distributor, receive),
    ));
    let inspect = Payload::Inspect {
        scan: label,
        verdict_seen: ReasonCode::Genuine,
    };
    sizes.push((
        "inspect",
        written_bytes(&mut scenario, Who::Inspector, inspect),
    ));
    let decommission = Payload::Decommission {
        items: vec![unit],
        reason: DecommissionReason::Destroyed,
    };
    sizes.push((
        "decommission",
        written_bytes(&mut scenario, Who::Distributor, decommission),
    ));
    for (name, bytes) in sizes {
        assert!(
            bytes <= STATE_BYTES_PER_EVENT_MAX,
            "{name} writes {bytes} bytes"
        );
    }
}
