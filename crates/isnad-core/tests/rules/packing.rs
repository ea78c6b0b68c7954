//! Packing rules: units and SSCCs into and out of SSCCs.

use isnad_core::event::{DecommissionReason, Item, Payload};
use isnad_core::limits::{ITEMS_PER_EVENT_MAX, SSCC_NESTING_MAX};
use isnad_core::rules::RejectCode;
use isnad_testkit::{Scenario, Who, sscc_number};

use crate::effects::{Effect, Goods, Site};
use crate::support::{
    Accepted, Refused, Row, at, by, check_table, packed, recall_l1, two_units, unit_item,
};

/// Aggregate: units and SSCCs packed into an SSCC.
pub fn aggregate_rows() -> Vec<Row> {
    vec![
        (
            "units into a new SSCC",
            |s| {
                let (first, second) = two_units(s);
                by(
                    s,
                    Who::Manufacturer,
                    Payload::Aggregate {
                        sscc: sscc_number(1),
                        items: vec![first, second],
                    },
                )
            },
            Accepted(&[
                Effect::Container(Goods::Unit("SN1"), Some(1)),
                Effect::Container(Goods::Unit("SN2"), Some(1)),
                Effect::HeldAt(Goods::Sscc(1), Site::First(Who::Manufacturer)),
            ]),
        ),
        (
            "a unit into an existing SSCC",
            |s| {
                let (first, second) = two_units(s);
                s.aggregate(Who::Manufacturer, sscc_number(1), vec![first]);
                by(
                    s,
                    Who::Manufacturer,
                    Payload::Aggregate {
                        sscc: sscc_number(1),
                        items: vec![second],
                    },
                )
            },
            Accepted(&[
                Effect::Container(Goods::Unit("SN2"), Some(1)),
                Effect::ContentsLen(1, 2),
            ]),
        ),
        (
            "a case onto a pallet",
            |s| {
                let case = packed(s);
                by(
                    s,
                    Who::Manufacturer,
                    Payload::Aggregate {
                        sscc: sscc_number(2),
                        items: vec![case],
                    },
                )
            },
            Accepted(&[
                Effect::Container(Goods::Sscc(1), Some(2)),
                Effect::HeldAt(Goods::Sscc(2), Site::First(Who::Manufacturer)),
            ]),
        ),
        (
            "an inspector packs",
            |s| {
                let (first, _) = two_units(s);
                by(
                    s,
                    Who::Inspector,
                    Payload::Aggregate {
                        sscc: sscc_number(1),
                        items: vec![first],
                    },
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
                    Payload::Aggregate {
                        sscc: sscc_number(1),
                        items: vec![first],
                    },
                )
            },
            Refused(RejectCode::NotHolder),
        ),
        (
            "a unit held at the actor's other site",
            |s| {
                let (first, _) = two_units(s);
                let site = s.manufacturer.other_site;
                at(
                    s,
                    Who::Manufacturer,
                    site,
                    Payload::Aggregate {
                        sscc: sscc_number(1),
                        items: vec![first],
                    },
                )
            },
            Refused(RejectCode::NotHolder),
        ),
        (
            "a unit in transit",
            |s| {
                let (first, _) = two_units(s);
                s.ship(Who::Manufacturer, vec![first.clone()], Who::Distributor);
                by(
                    s,
                    Who::Manufacturer,
                    Payload::Aggregate {
                        sscc: sscc_number(1),
                        items: vec![first],
                    },
                )
            },
            Refused(RejectCode::InTransit),
        ),
        (
            "a decommissioned unit",
            |s| {
                let (first, _) = two_units(s);
                s.decommission(
                    Who::Manufacturer,
                    vec![first.clone()],
                    DecommissionReason::Destroyed,
                );
                by(
                    s,
                    Who::Manufacturer,
                    Payload::Aggregate {
                        sscc: sscc_number(1),
                        items: vec![first],
                    },
                )
            },
            Refused(RejectCode::Decommissioned),
        ),
        (
            "a unit already packed",
            |s| {
                packed(s);
                let first = unit_item(s, "SN1");
                by(
                    s,
                    Who::Manufacturer,
                    Payload::Aggregate {
                        sscc: sscc_number(2),
                        items: vec![first],
                    },
                )
            },
            Refused(RejectCode::InContainer),
        ),
        (
            "a unit never commissioned",
            |s| {
                let ghost = unit_item(s, "GHOST");
                by(
                    s,
                    Who::Manufacturer,
                    Payload::Aggregate {
                        sscc: sscc_number(1),
                        items: vec![ghost],
                    },
                )
            },
            Refused(RejectCode::UnknownUnit),
        ),
        (
            "a recalled unit",
            |s| {
                let (first, _) = two_units(s);
                recall_l1(s);
                by(
                    s,
                    Who::Manufacturer,
                    Payload::Aggregate {
                        sscc: sscc_number(1),
                        items: vec![first],
                    },
                )
            },
            Refused(RejectCode::Recalled),
        ),
        (
            "a lot quantity",
            |s| {
                s.accept(Who::Manufacturer, s.commission_quantity_payload("Q1", 10));
                let item = Item::LotQuantity {
                    lot: s.lot("Q1"),
                    quantity: 5,
                };
                by(
                    s,
                    Who::Manufacturer,
                    Payload::Aggregate {
                        sscc: sscc_number(1),
                        items: vec![item],
                    },
                )
            },
            Refused(RejectCode::InvalidField),
        ),
        (
            "an SSCC into itself",
            |s| {
                let case = packed(s);
                by(
                    s,
                    Who::Manufacturer,
                    Payload::Aggregate {
                        sscc: sscc_number(1),
                        items: vec![case],
                    },
                )
            },
            Refused(RejectCode::InvalidField),
        ),
        (
            "into an SSCC that is inside another",
            |s| {
                let case = packed(s);
                s.aggregate(Who::Manufacturer, sscc_number(2), vec![case]);
                s.commission("L1", &["SN3"]);
                let third = unit_item(s, "SN3");
                by(
                    s,
                    Who::Manufacturer,
                    Payload::Aggregate {
                        sscc: sscc_number(1),
                        items: vec![third],
                    },
                )
            },
            Refused(RejectCode::InContainer),
        ),
        (
            "the same unit twice",
            |s| {
                let (first, _) = two_units(s);
                by(
                    s,
                    Who::Manufacturer,
                    Payload::Aggregate {
                        sscc: sscc_number(1),
                        items: vec![first.clone(), first],
                    },
                )
            },
            Refused(RejectCode::InvalidField),
        ),
        (
            "no items",
            |s| {
                by(
                    s,
                    Who::Manufacturer,
                    Payload::Aggregate {
                        sscc: sscc_number(1),
                        items: Vec::new(),
                    },
                )
            },
            Refused(RejectCode::InvalidField),
        ),
        (
            "one item past the limit",
            |s| {
                let items = (0..=ITEMS_PER_EVENT_MAX)
                    .map(|n| unit_item(s, &format!("N{n}")))
                    .collect();
                by(
                    s,
                    Who::Manufacturer,
                    Payload::Aggregate {
                        sscc: sscc_number(1),
                        items,
                    },
                )
            },
            Refused(RejectCode::TooManyItems),
        ),
        (
            "nesting at the limit",
            |s| {
                nest(s, SSCC_NESTING_MAX - 2);
                let top = Item::Sscc(sscc_number(SSCC_NESTING_MAX as u32 - 1));
                by(
                    s,
                    Who::Manufacturer,
                    Payload::Aggregate {
                        sscc: sscc_number(100),
                        items: vec![top],
                    },
                )
            },
            Accepted(&[Effect::Container(
                Goods::Sscc(SSCC_NESTING_MAX as u32 - 1),
                Some(100),
            )]),
        ),
        (
            "nesting one level past the limit",
            |s| {
                nest(s, SSCC_NESTING_MAX - 1);
                let top = Item::Sscc(sscc_number(SSCC_NESTING_MAX as u32));
                by(
                    s,
                    Who::Manufacturer,
                    Payload::Aggregate {
                        sscc: sscc_number(100),
                        items: vec![top],
                    },
                )
            },
            Refused(RejectCode::NestingTooDeep),
        ),
    ]
}

/// A unit in SSCC 1, SSCC 1 in SSCC 2, and so on: `levels + 1` levels of SSCCs whose top is
/// SSCC `levels + 1`.
fn nest(scenario: &mut Scenario, levels: usize) {
    let (first, _) = two_units(scenario);
    scenario.aggregate(Who::Manufacturer, sscc_number(1), vec![first]);
    for level in 1..=levels as u32 {
        scenario.aggregate(
            Who::Manufacturer,
            sscc_number(level + 1),
            vec![Item::Sscc(sscc_number(level))],
        );
    }
}

/// Disaggregate: items taken out of an SSCC.
pub fn disaggregate_rows() -> Vec<Row> {
    vec![
        (
            "everything out",
            |s| {
                packed(s);
                by(
                    s,
                    Who::Manufacturer,
                    Payload::Disaggregate {
                        sscc: sscc_number(1),
                        items: Vec::new(),
                    },
                )
            },
            Accepted(&[
                Effect::Container(Goods::Unit("SN1"), None),
                Effect::Container(Goods::Unit("SN2"), None),
                Effect::ContentsLen(1, 0),
            ]),
        ),
        (
            "one unit out",
            |s| {
                packed(s);
                let first = unit_item(s, "SN1");
                by(
                    s,
                    Who::Manufacturer,
                    Payload::Disaggregate {
                        sscc: sscc_number(1),
                        items: vec![first],
                    },
                )
            },
            Accepted(&[
                Effect::Container(Goods::Unit("SN1"), None),
                Effect::ContentsLen(1, 1),
                Effect::Kept(&Effect::Container(Goods::Unit("SN2"), Some(1))),
            ]),
        ),
        (
            "a received case, at the distributor",
            |s| {
                let case = packed(s);
                s.deliver(Who::Manufacturer, vec![case], Who::Distributor);
                by(
                    s,
                    Who::Distributor,
                    Payload::Disaggregate {
                        sscc: sscc_number(1),
                        items: Vec::new(),
                    },
                )
            },
            Accepted(&[
                Effect::Container(Goods::Unit("SN1"), None),
                Effect::Container(Goods::Unit("SN2"), None),
                Effect::Kept(&Effect::HeldAt(
                    Goods::Unit("SN1"),
                    Site::First(Who::Distributor),
                )),
            ]),
        ),
        (
            "an unknown SSCC",
            |s| {
                by(
                    s,
                    Who::Manufacturer,
                    Payload::Disaggregate {
                        sscc: sscc_number(9),
                        items: Vec::new(),
                    },
                )
            },
            Refused(RejectCode::UnknownSscc),
        ),
        (
            "someone else's SSCC",
            |s| {
                packed(s);
                by(
                    s,
                    Who::Distributor,
                    Payload::Disaggregate {
                        sscc: sscc_number(1),
                        items: Vec::new(),
                    },
                )
            },
            Refused(RejectCode::NotHolder),
        ),
        (
            "an SSCC in transit",
            |s| {
                let case = packed(s);
                s.ship(Who::Manufacturer, vec![case], Who::Distributor);
                by(
                    s,
                    Who::Manufacturer,
                    Payload::Disaggregate {
                        sscc: sscc_number(1),
                        items: Vec::new(),
                    },
                )
            },
            Refused(RejectCode::InTransit),
        ),
        (
            "a unit that is not inside",
            |s| {
                packed(s);
                s.commission("L1", &["SN3"]);
                let third = unit_item(s, "SN3");
                by(
                    s,
                    Who::Manufacturer,
                    Payload::Disaggregate {
                        sscc: sscc_number(1),
                        items: vec![third],
                    },
                )
            },
            Refused(RejectCode::NotInContainer),
        ),
    ]
}

#[test]
fn aggregate() {
    check_table(&aggregate_rows());
}

#[test]
fn disaggregate() {
    check_table(&disaggregate_rows());
}
