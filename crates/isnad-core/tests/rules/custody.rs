//! Custody rules: shipping and receiving.

use isnad_core::event::{DecommissionReason, Item, Payload};
use isnad_core::limits::ITEMS_PER_EVENT_MAX;
use isnad_core::rules::RejectCode;
use isnad_core::verdict::UnitStatus;
use isnad_testkit::{Who, sscc_number};

use crate::effects::{Effect, Goods, Site};
use crate::support::{
    Accepted, Refused, Row, at, by, check_table, newcomer, packed, recall_l1, suspend, two_units,
    unit_item, units_at_distributor,
};

/// Ship: what may leave, from whom, to whom.
pub fn ship_rows() -> Vec<Row> {
    vec![
        (
            "a unit",
            |s| {
                let (first, _) = two_units(s);
                by(
                    s,
                    Who::Manufacturer,
                    s.ship_payload(vec![first], Who::Distributor),
                )
            },
            Accepted(&[
                Effect::InTransitTo(Goods::Unit("SN1"), Site::First(Who::Distributor)),
                Effect::Status("SN1", UnitStatus::InTransit),
                Effect::Shipped {
                    to: Site::First(Who::Distributor),
                    items: 1,
                },
                Effect::Kept(&Effect::HeldAt(
                    Goods::Unit("SN2"),
                    Site::First(Who::Manufacturer),
                )),
            ]),
        ),
        (
            "a case",
            |s| {
                let case = packed(s);
                by(
                    s,
                    Who::Manufacturer,
                    s.ship_payload(vec![case], Who::Distributor),
                )
            },
            Accepted(&[
                Effect::InTransitTo(Goods::Sscc(1), Site::First(Who::Distributor)),
                Effect::Status("SN2", UnitStatus::InTransit),
                Effect::Kept(&Effect::Container(Goods::Unit("SN2"), Some(1))),
            ]),
        ),
        (
            "a lot quantity",
            |s| {
                s.accept(Who::Manufacturer, s.commission_quantity_payload("Q1", 10));
                let item = Item::LotQuantity {
                    lot: s.lot("Q1"),
                    quantity: 10,
                };
                by(
                    s,
                    Who::Manufacturer,
                    s.ship_payload(vec![item], Who::Distributor),
                )
            },
            Accepted(&[
                Effect::Balance {
                    lot: "Q1",
                    holder: Who::Manufacturer,
                    quantity: 0,
                },
                Effect::Shipped {
                    to: Site::First(Who::Distributor),
                    items: 1,
                },
            ]),
        ),
        (
            "between the actor's own sites",
            |s| {
                let (first, _) = two_units(s);
                let (party, site) = (s.manufacturer.party, s.manufacturer.other_site);
                let payload = Payload::Ship {
                    items: vec![first],
                    destination_party: party,
                    destination_site: site,
                };
                by(s, Who::Manufacturer, payload)
            },
            Accepted(&[Effect::InTransitTo(
                Goods::Unit("SN1"),
                Site::Second(Who::Manufacturer),
            )]),
        ),
        (
            "to the site the goods are at",
            |s| {
                let (first, _) = two_units(s);
                let (party, site) = (s.manufacturer.party, s.manufacturer.site);
                let payload = Payload::Ship {
                    items: vec![first],
                    destination_party: party,
                    destination_site: site,
                };
                by(s, Who::Manufacturer, payload)
            },
            Refused(RejectCode::InvalidField),
        ),
        (
            "an inspector ships",
            |s| {
                let (first, _) = two_units(s);
                by(
                    s,
                    Who::Inspector,
                    s.ship_payload(vec![first], Who::Distributor),
                )
            },
            Refused(RejectCode::WrongRole),
        ),
        (
            "from another party's site",
            |s| {
                let (first, _) = two_units(s);
                let site = s.hospital.site;
                at(
                    s,
                    Who::Manufacturer,
                    site,
                    s.ship_payload(vec![first], Who::Distributor),
                )
            },
            Refused(RejectCode::ForeignSite),
        ),
        (
            "someone else's unit",
            |s| {
                let (first, _) = two_units(s);
                by(
                    s,
                    Who::Distributor,
                    s.ship_payload(vec![first], Who::Hospital),
                )
            },
            Refused(RejectCode::NotHolder),
        ),
        (
            "a unit already shipped",
            |s| {
                let (first, _) = two_units(s);
                s.ship(Who::Manufacturer, vec![first.clone()], Who::Distributor);
                by(
                    s,
                    Who::Manufacturer,
                    s.ship_payload(vec![first], Who::Hospital),
                )
            },
            Refused(RejectCode::InTransit),
        ),
        (
            "a unit shipped on by its new holder",
            |s| {
                let (first, _) = units_at_distributor(s);
                by(
                    s,
                    Who::Distributor,
                    s.ship_payload(vec![first], Who::Hospital),
                )
            },
            Accepted(&[
                Effect::InTransitTo(Goods::Unit("SN1"), Site::First(Who::Hospital)),
                Effect::Kept(&Effect::HeldAt(
                    Goods::Unit("SN2"),
                    Site::First(Who::Distributor),
                )),
            ]),
        ),
        (
            "a unit by its former holder",
            |s| {
                let (first, _) = units_at_distributor(s);
                by(
                    s,
                    Who::Manufacturer,
                    s.ship_payload(vec![first], Who::Hospital),
                )
            },
            Refused(RejectCode::NotHolder),
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
                    s.ship_payload(vec![first], Who::Distributor),
                )
            },
            Refused(RejectCode::Decommissioned),
        ),
        (
            "a recalled unit",
            |s| {
                let (first, _) = two_units(s);
                recall_l1(s);
                by(
                    s,
                    Who::Manufacturer,
                    s.ship_payload(vec![first], Who::Distributor),
                )
            },
            Refused(RejectCode::Recalled),
        ),
        (
            "a case holding a recalled unit",
            |s| {
                let case = packed(s);
                recall_l1(s);
                by(
                    s,
                    Who::Manufacturer,
                    s.ship_payload(vec![case], Who::Distributor),
                )
            },
            Refused(RejectCode::Recalled),
        ),
        (
            "an expired unit",
            |s| {
                let (first, _) = two_units(s);
                s.advance_days(3 * 366);
                by(
                    s,
                    Who::Manufacturer,
                    s.ship_payload(vec![first], Who::Distributor),
                )
            },
            Refused(RejectCode::Expired),
        ),
        (
            "a unit inside a case",
            |s| {
                packed(s);
                let first = unit_item(s, "SN1");
                by(
                    s,
                    Who::Manufacturer,
                    s.ship_payload(vec![first], Who::Distributor),
                )
            },
            Refused(RejectCode::InContainer),
        ),
        (
            "a case inside a pallet",
            |s| {
                let case = packed(s);
                s.aggregate(Who::Manufacturer, sscc_number(2), vec![case.clone()]);
                by(
                    s,
                    Who::Manufacturer,
                    s.ship_payload(vec![case], Who::Distributor),
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
                    s.ship_payload(vec![ghost], Who::Distributor),
                )
            },
            Refused(RejectCode::UnknownUnit),
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
                    s.ship_payload(vec![item], Who::Distributor),
                )
            },
            Refused(RejectCode::InsufficientQuantity),
        ),
        (
            "a quantity of a lot never commissioned",
            |s| {
                let item = Item::LotQuantity {
                    lot: s.lot("Q9"),
                    quantity: 1,
                };
                by(
                    s,
                    Who::Manufacturer,
                    s.ship_payload(vec![item], Who::Distributor),
                )
            },
            Refused(RejectCode::UnknownLot),
        ),
        (
            "to a party never admitted",
            |s| {
                let (first, _) = two_units(s);
                let stranger = newcomer();
                let payload = Payload::Ship {
                    items: vec![first],
                    destination_party: stranger.party,
                    destination_site: stranger.site,
                };
                by(s, Who::Manufacturer, payload)
            },
            Refused(RejectCode::UnknownParticipant),
        ),
        (
            "to a site that is not the addressee's",
            |s| {
                let (first, _) = two_units(s);
                let (party, site) = (s.distributor.party, s.hospital.site);
                let payload = Payload::Ship {
                    items: vec![first],
                    destination_party: party,
                    destination_site: site,
                };
                by(s, Who::Manufacturer, payload)
            },
            Refused(RejectCode::UnknownSite),
        ),
        (
            "to a suspended party",
            |s| {
                let (first, _) = two_units(s);
                suspend(s, Who::Distributor);
                by(
                    s,
                    Who::Manufacturer,
                    s.ship_payload(vec![first], Who::Distributor),
                )
            },
            Refused(RejectCode::DestinationRefused),
        ),
        (
            "to an inspector",
            |s| {
                let (first, _) = two_units(s);
                by(
                    s,
                    Who::Manufacturer,
                    s.ship_payload(vec![first], Who::Inspector),
                )
            },
            Refused(RejectCode::DestinationRefused),
        ),
        (
            "exactly the item limit",
            |s| {
                let count = u32::try_from(ITEMS_PER_EVENT_MAX).expect("fits");
                s.accept(
                    Who::Manufacturer,
                    s.commission_range_payload("L1", "R", count),
                );
                let items = (1..=ITEMS_PER_EVENT_MAX)
                    .map(|n| unit_item(s, &format!("R{n:06}")))
                    .collect();
                by(
                    s,
                    Who::Manufacturer,
                    s.ship_payload(items, Who::Distributor),
                )
            },
            Accepted(&[
                Effect::Shipped {
                    to: Site::First(Who::Distributor),
                    items: ITEMS_PER_EVENT_MAX,
                },
                Effect::Status("R000001", UnitStatus::InTransit),
            ]),
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
                    s.ship_payload(items, Who::Distributor),
                )
            },
            Refused(RejectCode::TooManyItems),
        ),
    ]
}

/// Receive: the addressee takes a shipment, with what is missing.
pub fn receive_rows() -> Vec<Row> {
    vec![
        (
            "the whole shipment",
            |s| {
                let (first, second) = two_units(s);
                let shipment = s.ship(Who::Manufacturer, vec![first, second], Who::Distributor);
                by(
                    s,
                    Who::Distributor,
                    Payload::Receive {
                        shipment,
                        missing: Vec::new(),
                    },
                )
            },
            Accepted(&[
                Effect::HeldAt(Goods::Unit("SN1"), Site::First(Who::Distributor)),
                Effect::HeldAt(Goods::Unit("SN2"), Site::First(Who::Distributor)),
                Effect::Status("SN1", UnitStatus::Active),
                Effect::Received { missing: 0 },
            ]),
        ),
        (
            "with a unit missing",
            |s| {
                let (first, second) = two_units(s);
                let shipment = s.ship(
                    Who::Manufacturer,
                    vec![first, second.clone()],
                    Who::Distributor,
                );
                by(
                    s,
                    Who::Distributor,
                    Payload::Receive {
                        shipment,
                        missing: vec![second],
                    },
                )
            },
            Accepted(&[
                Effect::HeldAt(Goods::Unit("SN1"), Site::First(Who::Distributor)),
                Effect::Received { missing: 1 },
                Effect::Kept(&Effect::InTransitTo(
                    Goods::Unit("SN2"),
                    Site::First(Who::Distributor),
                )),
            ]),
        ),
        (
            "with part of a quantity missing",
            |s| {
                s.accept(Who::Manufacturer, s.commission_quantity_payload("Q1", 10));
                let lot = s.lot("Q1");
                let item = Item::LotQuantity {
                    lot: lot.clone(),
                    quantity: 10,
                };
                let shipment = s.ship(Who::Manufacturer, vec![item], Who::Distributor);
                by(
                    s,
                    Who::Distributor,
                    Payload::Receive {
                        shipment,
                        missing: vec![Item::LotQuantity { lot, quantity: 3 }],
                    },
                )
            },
            Accepted(&[
                Effect::Balance {
                    lot: "Q1",
                    holder: Who::Distributor,
                    quantity: 7,
                },
                Effect::Received { missing: 1 },
            ]),
        ),
        (
            "by a party it is not addressed to",
            |s| {
                let (first, _) = two_units(s);
                let shipment = s.ship(Who::Manufacturer, vec![first], Who::Distributor);
                by(
                    s,
                    Who::Hospital,
                    Payload::Receive {
                        shipment,
                        missing: Vec::new(),
                    },
                )
            },
            Refused(RejectCode::NotAddressee),
        ),
        (
            "by the addressee at another of its sites",
            |s| {
                let (first, _) = two_units(s);
                let shipment = s.ship(Who::Manufacturer, vec![first], Who::Distributor);
                let site = s.distributor.other_site;
                at(
                    s,
                    Who::Distributor,
                    site,
                    Payload::Receive {
                        shipment,
                        missing: Vec::new(),
                    },
                )
            },
            Refused(RejectCode::NotAddressee),
        ),
        (
            "a shipment already received",
            |s| {
                let (first, _) = two_units(s);
                let shipment = s.deliver(Who::Manufacturer, vec![first], Who::Distributor);
                by(
                    s,
                    Who::Distributor,
                    Payload::Receive {
                        shipment,
                        missing: Vec::new(),
                    },
                )
            },
            Refused(RejectCode::NotInTransit),
        ),
        (
            "an unknown shipment",
            |s| {
                let shipment = s.fresh_id();
                by(
                    s,
                    Who::Distributor,
                    Payload::Receive {
                        shipment,
                        missing: Vec::new(),
                    },
                )
            },
            Refused(RejectCode::UnknownShipment),
        ),
        (
            "a missing item that was not shipped",
            |s| {
                let (first, second) = two_units(s);
                let shipment = s.ship(Who::Manufacturer, vec![first], Who::Distributor);
                by(
                    s,
                    Who::Distributor,
                    Payload::Receive {
                        shipment,
                        missing: vec![second],
                    },
                )
            },
            Refused(RejectCode::InvalidField),
        ),
        (
            "an inspector receives",
            |s| {
                let (first, _) = two_units(s);
                let shipment = s.ship(Who::Manufacturer, vec![first], Who::Distributor);
                by(
                    s,
                    Who::Inspector,
                    Payload::Receive {
                        shipment,
                        missing: Vec::new(),
                    },
                )
            },
            Refused(RejectCode::WrongRole),
        ),
    ]
}

#[test]
fn ship() {
    check_table(&ship_rows());
}

#[test]
fn receive() {
    check_table(&receive_rows());
}
