//! Goods rules: commissioning, decommissioning, recalls and inspections.

use isnad_core::event::{DecommissionReason, Event, Item, Payload, ReasonCode, SerialRange};
use isnad_core::limits::SERIALS_PER_COMMISSION_MAX;
use isnad_core::rules::RejectCode;
use isnad_core::verdict::UnitStatus;
use isnad_testkit::{Scenario, Who, date, gtin};

use crate::effects::{Effect, Goods, Site};
use crate::support::{
    Accepted, Refused, Row, admit_rival, at, by, check_table, packed, recall_l1, rival, two_units,
    unit_item, units_at_distributor,
};

fn commission_with(scenario: &Scenario, change: impl FnOnce(&mut Payload)) -> Payload {
    let mut payload = scenario.commission_payload("L1", &["SN1"]);
    change(&mut payload);
    payload
}

/// Commission: serials, ranges, quantities and their limits.
pub fn commission_rows() -> Vec<Row> {
    vec![
        (
            "listed serials",
            |s| {
                by(
                    s,
                    Who::Manufacturer,
                    s.commission_payload("L1", &["SN1", "SN2"]),
                )
            },
            Accepted(&[
                Effect::LotCommissioned {
                    lot: "L1",
                    units: 2,
                    quantity: 0,
                },
                Effect::HeldAt(Goods::Unit("SN1"), Site::First(Who::Manufacturer)),
                Effect::HeldAt(Goods::Unit("SN2"), Site::First(Who::Manufacturer)),
            ]),
        ),
        (
            "a range of serials",
            |s| {
                by(
                    s,
                    Who::Manufacturer,
                    s.commission_range_payload("L1", "R", 100),
                )
            },
            Accepted(&[
                Effect::LotCommissioned {
                    lot: "L1",
                    units: 100,
                    quantity: 0,
                },
                Effect::HeldAt(Goods::Unit("R000001"), Site::First(Who::Manufacturer)),
                Effect::HeldAt(Goods::Unit("R000100"), Site::First(Who::Manufacturer)),
            ]),
        ),
        (
            "a non-serialized quantity",
            |s| {
                by(
                    s,
                    Who::Manufacturer,
                    s.commission_quantity_payload("Q1", 500),
                )
            },
            Accepted(&[
                Effect::LotCommissioned {
                    lot: "Q1",
                    units: 0,
                    quantity: 500,
                },
                Effect::Balance {
                    lot: "Q1",
                    holder: Who::Manufacturer,
                    quantity: 500,
                },
            ]),
        ),
        (
            "more serials of a lot, same dates",
            |s| {
                s.commission("L1", &["SN1"]);
                by(s, Who::Manufacturer, s.commission_payload("L1", &["SN2"]))
            },
            Accepted(&[
                Effect::LotCommissioned {
                    lot: "L1",
                    units: 2,
                    quantity: 0,
                },
                Effect::HeldAt(Goods::Unit("SN2"), Site::First(Who::Manufacturer)),
            ]),
        ),
        (
            "exactly the serial limit",
            |s| {
                let count = u32::try_from(SERIALS_PER_COMMISSION_MAX).expect("fits");
                by(
                    s,
                    Who::Manufacturer,
                    s.commission_range_payload("L1", "R", count),
                )
            },
            Accepted(&[Effect::LotCommissioned {
                lot: "L1",
                units: SERIALS_PER_COMMISSION_MAX as u64,
                quantity: 0,
            }]),
        ),
        (
            "one serial past the limit",
            |s| {
                let count = u32::try_from(SERIALS_PER_COMMISSION_MAX).expect("fits");
                let payload = commission_with(s, |payload| {
                    if let Payload::Commission { serial_ranges, .. } = payload {
                        serial_ranges.push(SerialRange {
                            prefix: "R".to_owned(),
                            first: 1,
                            count,
                            width: 6,
                        });
                    }
                });
                by(s, Who::Manufacturer, payload)
            },
            Refused(RejectCode::TooManySerials),
        ),
        (
            "a distributor commissions",
            |s| by(s, Who::Distributor, s.commission_payload("L1", &["SN1"])),
            Refused(RejectCode::WrongRole),
        ),
        (
            "at the distributor's site",
            |s| {
                let site = s.distributor.site;
                at(
                    s,
                    Who::Manufacturer,
                    site,
                    s.commission_payload("L1", &["SN1"]),
                )
            },
            Refused(RejectCode::ForeignSite),
        ),
        (
            "an unregistered GTIN",
            |s| {
                let payload = commission_with(s, |payload| {
                    if let Payload::Commission { lot, .. } = payload {
                        lot.gtin = gtin("0611123400002");
                    }
                });
                by(s, Who::Manufacturer, payload)
            },
            Refused(RejectCode::UnknownProduct),
        ),
        (
            "another manufacturer's product",
            |s| {
                admit_rival(s);
                let rival = rival();
                let event = s.event(Who::Manufacturer, s.commission_payload("L1", &["SN1"]));
                let event = Event {
                    actor: rival.party,
                    site: rival.site,
                    ..event
                };
                (rival.public_key(), event)
            },
            Refused(RejectCode::NotManufacturer),
        ),
        (
            "a serial already commissioned",
            |s| {
                s.commission("L1", &["SN1"]);
                by(s, Who::Manufacturer, s.commission_payload("L2", &["SN1"]))
            },
            Refused(RejectCode::DuplicateSerial),
        ),
        (
            "a serial listed twice",
            |s| {
                by(
                    s,
                    Who::Manufacturer,
                    s.commission_payload("L1", &["SN1", "SN1"]),
                )
            },
            Refused(RejectCode::DuplicateSerial),
        ),
        (
            "a serial both listed and in a range",
            |s| {
                let payload = commission_with(s, |payload| {
                    if let Payload::Commission {
                        serials,
                        serial_ranges,
                        ..
                    } = payload
                    {
                        *serials = vec!["R000002".parse().expect("valid serial")];
                        serial_ranges.push(SerialRange {
                            prefix: "R".to_owned(),
                            first: 1,
                            count: 3,
                            width: 6,
                        });
                    }
                });
                by(s, Who::Manufacturer, payload)
            },
            Refused(RejectCode::DuplicateSerial),
        ),
        (
            "a range whose serials are too long",
            |s| {
                let payload = commission_with(s, |payload| {
                    if let Payload::Commission { serial_ranges, .. } = payload {
                        serial_ranges.push(SerialRange {
                            prefix: "P".repeat(15),
                            first: 1,
                            count: 1,
                            width: 6,
                        });
                    }
                });
                by(s, Who::Manufacturer, payload)
            },
            Refused(RejectCode::InvalidField),
        ),
        (
            "a lot again with another expiry",
            |s| {
                s.commission("L1", &["SN1"]);
                let payload = commission_with(s, |payload| {
                    if let Payload::Commission {
                        expiry, serials, ..
                    } = payload
                    {
                        *expiry = date("291231");
                        *serials = vec!["SN2".parse().expect("valid serial")];
                    }
                });
                by(s, Who::Manufacturer, payload)
            },
            Refused(RejectCode::LotMismatch),
        ),
        (
            "an expired lot",
            |s| {
                let payload = commission_with(s, |payload| {
                    if let Payload::Commission {
                        expiry,
                        production_date,
                        ..
                    } = payload
                    {
                        *expiry = date("251231");
                        *production_date = None;
                    }
                });
                by(s, Who::Manufacturer, payload)
            },
            Refused(RejectCode::Expired),
        ),
        (
            "produced after it expires",
            |s| {
                let payload = commission_with(s, |payload| {
                    if let Payload::Commission {
                        production_date, ..
                    } = payload
                    {
                        *production_date = Some(date("290101"));
                    }
                });
                by(s, Who::Manufacturer, payload)
            },
            Refused(RejectCode::InvalidField),
        ),
        (
            "nothing to commission",
            |s| {
                let payload = commission_with(s, |payload| {
                    if let Payload::Commission { serials, .. } = payload {
                        serials.clear();
                    }
                });
                by(s, Who::Manufacturer, payload)
            },
            Refused(RejectCode::InvalidField),
        ),
        (
            "more units of a recalled lot",
            |s| {
                s.commission("L1", &["SN1"]);
                recall_l1(s);
                by(s, Who::Manufacturer, s.commission_payload("L1", &["SN2"]))
            },
            Refused(RejectCode::Recalled),
        ),
        (
            "more of a lot than a count can hold",
            |s| {
                s.accept(
                    Who::Manufacturer,
                    s.commission_quantity_payload("Q1", u64::MAX),
                );
                by(s, Who::Manufacturer, s.commission_quantity_payload("Q1", 1))
            },
            Refused(RejectCode::InvalidField),
        ),
    ]
}

fn decommission_payload(items: Vec<Item>, reason: DecommissionReason) -> Payload {
    Payload::Decommission { items, reason }
}

/// Decommission: units and SSCCs leaving the circuit.
pub fn decommission_rows() -> Vec<Row> {
    vec![
        (
            "a distributor destroys a unit",
            |s| {
                let (first, _) = units_at_distributor(s);
                by(
                    s,
                    Who::Distributor,
                    decommission_payload(vec![first], DecommissionReason::Destroyed),
                )
            },
            Accepted(&[
                Effect::Decommissioned(Goods::Unit("SN1"), DecommissionReason::Destroyed),
                Effect::Status("SN1", UnitStatus::Decommissioned),
                Effect::Kept(&Effect::Status("SN2", UnitStatus::Active)),
            ]),
        ),
        (
            "a hospital uses a unit",
            |s| {
                let (first, _) = units_at_distributor(s);
                s.deliver(Who::Distributor, vec![first.clone()], Who::Hospital);
                by(
                    s,
                    Who::Hospital,
                    decommission_payload(vec![first], DecommissionReason::Used),
                )
            },
            Accepted(&[
                Effect::Decommissioned(Goods::Unit("SN1"), DecommissionReason::Used),
                Effect::Status("SN1", UnitStatus::Decommissioned),
            ]),
        ),
        (
            "a manufacturer destroys a case",
            |s| {
                let case = packed(s);
                by(
                    s,
                    Who::Manufacturer,
                    decommission_payload(vec![case], DecommissionReason::Destroyed),
                )
            },
            Accepted(&[
                Effect::Decommissioned(Goods::Sscc(1), DecommissionReason::Destroyed),
                Effect::Decommissioned(Goods::Unit("SN2"), DecommissionReason::Destroyed),
                Effect::Status("SN2", UnitStatus::Decommissioned),
            ]),
        ),
        (
            "a recalled unit is destroyed",
            |s| {
                let (first, _) = two_units(s);
                recall_l1(s);
                by(
                    s,
                    Who::Manufacturer,
                    decommission_payload(vec![first], DecommissionReason::Destroyed),
                )
            },
            Accepted(&[
                Effect::Decommissioned(Goods::Unit("SN1"), DecommissionReason::Destroyed),
                Effect::Status("SN1", UnitStatus::Decommissioned),
                Effect::Kept(&Effect::Status("SN2", UnitStatus::Recalled)),
            ]),
        ),
        (
            "a distributor dispenses",
            |s| {
                let (first, _) = units_at_distributor(s);
                by(
                    s,
                    Who::Distributor,
                    decommission_payload(vec![first], DecommissionReason::Dispensed),
                )
            },
            Refused(RejectCode::WrongRole),
        ),
        (
            "someone else's unit",
            |s| {
                let (first, _) = two_units(s);
                by(
                    s,
                    Who::Distributor,
                    decommission_payload(vec![first], DecommissionReason::Stolen),
                )
            },
            Refused(RejectCode::NotHolder),
        ),
        (
            "a unit twice",
            |s| {
                let (first, _) = two_units(s);
                s.decommission(
                    Who::Manufacturer,
                    vec![first.clone()],
                    DecommissionReason::Sample,
                );
                by(
                    s,
                    Who::Manufacturer,
                    decommission_payload(vec![first], DecommissionReason::Destroyed),
                )
            },
            Refused(RejectCode::Decommissioned),
        ),
        (
            "a unit inside a destroyed case",
            |s| {
                let case = packed(s);
                s.decommission(Who::Manufacturer, vec![case], DecommissionReason::Destroyed);
                let first = unit_item(s, "SN1");
                by(
                    s,
                    Who::Manufacturer,
                    decommission_payload(vec![first], DecommissionReason::Destroyed),
                )
            },
            Refused(RejectCode::Decommissioned),
        ),
        (
            "a unit inside a case",
            |s| {
                packed(s);
                let first = unit_item(s, "SN1");
                by(
                    s,
                    Who::Manufacturer,
                    decommission_payload(vec![first], DecommissionReason::Destroyed),
                )
            },
            Refused(RejectCode::InContainer),
        ),
        (
            "a unit in transit",
            |s| {
                let (first, _) = two_units(s);
                s.ship(Who::Manufacturer, vec![first.clone()], Who::Distributor);
                by(
                    s,
                    Who::Manufacturer,
                    decommission_payload(vec![first], DecommissionReason::Stolen),
                )
            },
            Refused(RejectCode::InTransit),
        ),
        (
            "more of a lot than held",
            |s| {
                s.accept(Who::Manufacturer, s.commission_quantity_payload("Q1", 10));
                let item = Item::LotQuantity {
                    lot: s.lot("Q1"),
                    quantity: 11,
                };
                by(
                    s,
                    Who::Manufacturer,
                    decommission_payload(vec![item], DecommissionReason::Destroyed),
                )
            },
            Refused(RejectCode::InsufficientQuantity),
        ),
    ]
}

fn recall_payload(scenario: &Scenario, lot: &str) -> Payload {
    Payload::Recall {
        lot: scenario.lot(lot),
        reason: "sterility".to_owned(),
    }
}

/// Recall of a lot.
pub fn recall_rows() -> Vec<Row> {
    vec![
        (
            "the manufacturer recalls",
            |s| {
                two_units(s);
                by(s, Who::Manufacturer, recall_payload(s, "L1"))
            },
            Accepted(&[
                Effect::Recalled("L1"),
                Effect::Status("SN1", UnitStatus::Recalled),
                Effect::Status("SN2", UnitStatus::Recalled),
            ]),
        ),
        (
            "the regulator recalls",
            |s| {
                two_units(s);
                by(s, Who::Regulator, recall_payload(s, "L1"))
            },
            Accepted(&[
                Effect::Recalled("L1"),
                Effect::Status("SN1", UnitStatus::Recalled),
            ]),
        ),
        (
            "a distributor recalls",
            |s| {
                units_at_distributor(s);
                by(s, Who::Distributor, recall_payload(s, "L1"))
            },
            Refused(RejectCode::WrongRole),
        ),
        (
            "another manufacturer recalls",
            |s| {
                two_units(s);
                let rival = admit_rival(s);
                let event = s.event(Who::Manufacturer, recall_payload(s, "L1"));
                (
                    rival.public_key(),
                    Event {
                        actor: rival.party,
                        site: rival.site,
                        ..event
                    },
                )
            },
            Refused(RejectCode::NotManufacturer),
        ),
        (
            "a lot never commissioned",
            |s| by(s, Who::Manufacturer, recall_payload(s, "L9")),
            Refused(RejectCode::UnknownLot),
        ),
        (
            "a lot recalled twice",
            |s| {
                two_units(s);
                recall_l1(s);
                by(s, Who::Manufacturer, recall_payload(s, "L1"))
            },
            Refused(RejectCode::AlreadyRecalled),
        ),
    ]
}

fn inspect_payload(scan: &str) -> Payload {
    Payload::Inspect {
        scan: scan.to_owned(),
        verdict_seen: ReasonCode::Genuine,
    }
}

/// Inspect: an inspector's sighting.
pub fn inspect_rows() -> Vec<Row> {
    vec![
        (
            "a known unit, at a hospital's site",
            |s| {
                let (first, _) = units_at_distributor(s);
                let Item::Unit(unit) = first else {
                    unreachable!("a unit item")
                };
                let site = s.hospital.site;
                at(
                    s,
                    Who::Inspector,
                    site,
                    inspect_payload(&s.label(&unit, "L1")),
                )
            },
            Accepted(&[
                Effect::InHistory("SN1"),
                Effect::Kept(&Effect::Status("SN1", UnitStatus::Active)),
            ]),
        ),
        (
            "a serial nobody commissioned",
            |s| {
                let ghost = s.unit("FAKE1");
                by(s, Who::Inspector, inspect_payload(&s.label(&ghost, "L1")))
            },
            Accepted(&[Effect::InHistory("FAKE1")]),
        ),
        (
            "a scan that does not parse",
            |s| by(s, Who::Inspector, inspect_payload("(01)12345")),
            Refused(RejectCode::MalformedScan),
        ),
        (
            "a distributor inspects",
            |s| {
                let ghost = s.unit("FAKE1");
                by(s, Who::Distributor, inspect_payload(&s.label(&ghost, "L1")))
            },
            Refused(RejectCode::WrongRole),
        ),
    ]
}

#[test]
fn commission() {
    check_table(&commission_rows());
}

#[test]
fn decommission() {
    check_table(&decommission_rows());
}

#[test]
fn recall() {
    check_table(&recall_rows());
}

#[test]
fn inspect() {
    check_table(&inspect_rows());
}
