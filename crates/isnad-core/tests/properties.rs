//! Properties over random event sequences: a unit is never in two places at once, a
//! decommissioned unit never comes back, the same sequence gives the same state digest, a
//! refused event changes nothing, and a verifier's replay of each unit's partial history
//! agrees with the full state.
//!
//! The universe is small on purpose (six serials, three SSCCs, three handlers) so that random
//! sequences collide often: most interesting refusals need two events about the same thing.

use std::collections::BTreeMap;

use isnad_core::event::{DecommissionReason, EventId, Item, Payload, ReasonCode, UnitId};
use isnad_core::gs1::{Gln, Sscc};
use isnad_core::queries;
use isnad_core::rules::ApplyError;
use isnad_core::verdict::UnitStatus;
use isnad_testkit::{Scenario, Who, sscc_number};
use proptest::prelude::*;

const SERIALS: [&str; 6] = ["S0", "S1", "S2", "S3", "S4", "S5"];
const SSCC_COUNT: u8 = 3;
const HANDLERS: [Who; 3] = [Who::Manufacturer, Who::Distributor, Who::Hospital];

/// Who signs a step: `None` lets the runner pick the party the rules expect (the holder of the
/// first item, the addressee of the shipment), so that most steps are accepted and the
/// sequence gets somewhere; `Some` names a handler at random, so that refusals happen too.
type Signer = Option<u8>;

/// One random step; indexes pick from the small universe above.
#[derive(Debug, Clone)]
enum Op {
    Commission {
        serials: Vec<u8>,
    },
    Aggregate {
        who: Signer,
        sscc: u8,
        units: Vec<u8>,
        ssccs: Vec<u8>,
    },
    Disaggregate {
        who: Signer,
        sscc: u8,
        unit: Option<u8>,
    },
    Ship {
        who: Signer,
        to: u8,
        units: Vec<u8>,
        ssccs: Vec<u8>,
    },
    Receive {
        who: Signer,
        shipment: u8,
        missing: Option<u8>,
    },
    Decommission {
        who: Signer,
        unit: u8,
    },
    Recall,
    Inspect {
        at: u8,
        unit: u8,
    },
    Suspend {
        who: u8,
    },
    Reinstate {
        who: u8,
    },
    AdvanceDays {
        days: u16,
    },
}

impl Op {
    /// The variant's name, to count what the generator reaches.
    fn kind(&self) -> &'static str {
        match self {
            Op::Commission { .. } => "Commission",
            Op::Aggregate { .. } => "Aggregate",
            Op::Disaggregate { .. } => "Disaggregate",
            Op::Ship { .. } => "Ship",
            Op::Receive { .. } => "Receive",
            Op::Decommission { .. } => "Decommission",
            Op::Recall => "Recall",
            Op::Inspect { .. } => "Inspect",
            Op::Suspend { .. } => "Suspend",
            Op::Reinstate { .. } => "Reinstate",
            Op::AdvanceDays { .. } => "AdvanceDays",
        }
    }
}

fn op() -> impl Strategy<Value = Op> {
    let index = || 0u8..6;
    let signer = || prop::option::weighted(0.25, 0u8..3);
    let ssccs = || {
        prop::option::weighted(0.2, 0..SSCC_COUNT)
            .prop_map(|sscc| sscc.into_iter().collect::<Vec<u8>>())
    };
    prop_oneof![
        8 => prop::collection::vec(index(), 1..4).prop_map(|serials| Op::Commission { serials }),
        8 => (signer(), 0..SSCC_COUNT, prop::collection::vec(index(), 0..3), ssccs())
            .prop_map(|(who, sscc, units, ssccs)| Op::Aggregate { who, sscc, units, ssccs }),
        4 => (signer(), 0..SSCC_COUNT, prop::option::of(index()))
            .prop_map(|(who, sscc, unit)| Op::Disaggregate { who, sscc, unit }),
        14 => (signer(), 0u8..3, prop::collection::vec(index(), 1..2), ssccs())
            .prop_map(|(who, to, units, ssccs)| Op::Ship { who, to, units, ssccs }),
        14 => (signer(), any::<u8>(), prop::option::weighted(0.2, index()))
            .prop_map(|(who, shipment, missing)| Op::Receive { who, shipment, missing }),
        3 => (signer(), index()).prop_map(|(who, unit)| Op::Decommission { who, unit }),
        1 => Just(Op::Recall),
        3 => (0u8..3, index()).prop_map(|(at, unit)| Op::Inspect { at, unit }),
        1 => (1u8..3).prop_map(|who| Op::Suspend { who }),
        2 => (1u8..3).prop_map(|who| Op::Reinstate { who }),
        1 => (0u16..400).prop_map(|days| Op::AdvanceDays { days }),
    ]
}

/// Runs operations on a fresh scenario, checking the invariants after every step.
struct Run {
    scenario: Scenario,
    shipments: Vec<EventId>,
    decommissioned: BTreeMap<UnitId, DecommissionReason>,
    /// Per operation: whether it was an event the executor accepted.
    accepted: Vec<bool>,
}

impl Run {
    fn new() -> Self {
        Self {
            scenario: Scenario::new(),
            shipments: Vec::new(),
            decommissioned: BTreeMap::new(),
            accepted: Vec::new(),
        }
    }

    fn unit_item(&self, index: u8) -> Item {
        Item::Unit(self.scenario.unit(SERIALS[usize::from(index)]))
    }

    fn step(&mut self, op: &Op) {
        let Some((who, payload)) = self.payload(op) else {
            self.accepted.push(false);
            return;
        };
        // An inspector stands at some handler's site; everyone else acts at its own.
        let site = match op {
            Op::Inspect { at, .. } => self.scenario.actor(HANDLERS[usize::from(*at)]).site,
            _ => self.scenario.actor(who).site,
        };
        let event = self.scenario.event_at(who, site, payload);
        if matches!(event.payload, Payload::Ship { .. }) {
            self.shipments.push(event.id);
        }
        let before = self.scenario.state.digest();
        let outcome = self.scenario.submit(who, event);
        match &outcome {
            Ok(_) => {}
            Err(ApplyError::Rejected(_)) => {
                assert_eq!(
                    before,
                    self.scenario.state.digest(),
                    "a refused {op:?} changed the state"
                );
            }
            Err(ApplyError::Storage(error)) => panic!("storage failed on {op:?}: {error}"),
        }
        self.accepted.push(outcome.is_ok());
        self.check_invariants();
    }

    /// Who signs what; `None` for a step that is not an event.
    fn payload(&mut self, op: &Op) -> Option<(Who, Payload)> {
        let payload = match op {
            Op::Commission { serials } => {
                let names: Vec<&str> = serials
                    .iter()
                    .map(|index| SERIALS[usize::from(*index)])
                    .collect();
                (
                    Who::Manufacturer,
                    self.scenario.commission_payload("L1", &names),
                )
            }
            Op::Aggregate {
                who,
                sscc: target,
                units,
                ssccs,
            } => {
                let mut items: Vec<Item> =
                    units.iter().map(|index| self.unit_item(*index)).collect();
                items.extend(ssccs.iter().map(|index| Item::Sscc(sscc(*index))));
                let who = self.signer(*who, items.first());
                (
                    who,
                    Payload::Aggregate {
                        sscc: sscc(*target),
                        items,
                    },
                )
            }
            Op::Disaggregate {
                who,
                sscc: target,
                unit,
            } => {
                let items = unit
                    .map(|index| vec![self.unit_item(index)])
                    .unwrap_or_default();
                let who = self.signer(*who, Some(&Item::Sscc(sscc(*target))));
                (
                    who,
                    Payload::Disaggregate {
                        sscc: sscc(*target),
                        items,
                    },
                )
            }
            Op::Ship {
                who,
                to,
                units,
                ssccs,
            } => self.ship(*who, *to, units, ssccs),
            Op::Receive {
                who,
                shipment,
                missing,
            } => {
                let shipment = *self
                    .shipments
                    .get(usize::from(*shipment) % self.shipments.len().max(1))?;
                let missing = missing
                    .map(|index| vec![self.unit_item(index)])
                    .unwrap_or_default();
                (
                    self.receiver(*who, &shipment),
                    Payload::Receive { shipment, missing },
                )
            }
            Op::Decommission { who, unit } => {
                let item = self.unit_item(*unit);
                let who = self.signer(*who, Some(&item));
                let reason = if who == Who::Hospital {
                    DecommissionReason::Used
                } else {
                    DecommissionReason::Destroyed
                };
                (
                    who,
                    Payload::Decommission {
                        items: vec![item],
                        reason,
                    },
                )
            }
            Op::Recall => {
                let lot = self.scenario.lot("L1");
                (
                    Who::Manufacturer,
                    Payload::Recall {
                        lot,
                        reason: "random".to_owned(),
                    },
                )
            }
            Op::Inspect { unit, .. } => {
                let scan = self
                    .scenario
                    .label(&self.scenario.unit(SERIALS[usize::from(*unit)]), "L1");
                (
                    Who::Inspector,
                    Payload::Inspect {
                        scan,
                        verdict_seen: ReasonCode::Genuine,
                    },
                )
            }
            Op::Suspend { who } => {
                let party = self.scenario.actor(HANDLERS[usize::from(*who)]).party;
                (
                    Who::Regulator,
                    Payload::SuspendParticipant {
                        party,
                        reason: "random".to_owned(),
                    },
                )
            }
            Op::Reinstate { who } => {
                let party = self.scenario.actor(HANDLERS[usize::from(*who)]).party;
                (Who::Regulator, Payload::ReinstateParticipant { party })
            }
            Op::AdvanceDays { days } => {
                self.scenario.advance_days(i64::from(*days));
                return None;
            }
        };
        Some(payload)
    }

    /// A Ship of the items or, for packed units, of their outermost SSCC.
    fn ship(&self, who: Signer, to: u8, units: &[u8], ssccs: &[u8]) -> (Who, Payload) {
        let mut items: Vec<Item> = Vec::new();
        let listed = units
            .iter()
            .map(|index| self.unit_item(*index))
            .chain(ssccs.iter().map(|index| Item::Sscc(sscc(*index))));
        for item in listed {
            let item = if who.is_none() {
                self.outermost(item)
            } else {
                item
            };
            if !items.contains(&item) {
                items.push(item);
            }
        }
        let from = self.signer(who, items.first());
        let mut to = HANDLERS[usize::from(to)];
        if to == from {
            let position = HANDLERS
                .iter()
                .position(|handler| *handler == from)
                .unwrap_or(0);
            to = HANDLERS[(position + 1) % HANDLERS.len()];
        }
        (from, self.scenario.ship_payload(items, to))
    }

    /// The SSCC an item is packed in at the top, or the item itself.
    fn outermost(&self, item: Item) -> Item {
        let state = &self.scenario.state;
        let mut container = match &item {
            Item::Unit(unit) => queries::unit(state, unit, 0)
                .expect("memory")
                .and_then(|view| view.container),
            Item::Sscc(inside) => queries::sscc(state, inside)
                .expect("memory")
                .and_then(|view| view.container),
            Item::LotQuantity { .. } => None,
        };
        let mut top = item;
        while let Some(sscc) = container {
            top = Item::Sscc(sscc);
            container = queries::sscc(state, &sscc)
                .expect("memory")
                .and_then(|view| view.container);
        }
        top
    }

    /// The handler named, or else the one holding `item` (the manufacturer when nobody does).
    fn signer(&self, who: Signer, item: Option<&Item>) -> Who {
        if let Some(who) = who {
            return HANDLERS[usize::from(who)];
        }
        let state = &self.scenario.state;
        let holder = match item {
            Some(Item::Unit(unit)) => queries::unit(state, unit, 0)
                .expect("memory")
                .map(|view| view.holder),
            Some(Item::Sscc(sscc)) => queries::sscc(state, sscc)
                .expect("memory")
                .map(|view| view.holder),
            _ => None,
        };
        self.handler_of(holder)
    }

    /// The handler named, or else the shipment's addressee.
    fn receiver(&self, who: Signer, shipment: &EventId) -> Who {
        if let Some(who) = who {
            return HANDLERS[usize::from(who)];
        }
        let found = queries::shipment(&self.scenario.state, shipment).expect("memory");
        self.handler_of(found.map(|shipment| shipment.destination_party))
    }

    fn handler_of(&self, party: Option<Gln>) -> Who {
        HANDLERS
            .into_iter()
            .find(|who| Some(self.scenario.actor(*who).party) == party)
            .unwrap_or(Who::Manufacturer)
    }

    /// No unit is in two places: inside two SSCCs, or listed in two open shipments, or held
    /// while an open shipment lists it or one of its containers. A decommissioned unit stays
    /// decommissioned, for the same reason.
    fn check_invariants(&mut self) {
        let state = &self.scenario.state;
        let now = self.scenario.clock_unix_ms;
        let open: Vec<Item> = HANDLERS
            .iter()
            .flat_map(|who| {
                queries::inbound_shipments(
                    state,
                    &self.scenario.actor(*who).party,
                    None,
                    usize::MAX,
                )
                .expect("memory")
            })
            .flat_map(|shipment| shipment.items)
            .collect();
        let packed: Vec<Item> = (0..SSCC_COUNT)
            .flat_map(|index| queries::sscc_contents(state, &sscc(index)).expect("memory"))
            .collect();
        for name in SERIALS {
            let unit = self.scenario.unit(name);
            let Some(view) = queries::unit(state, &unit, now).expect("memory") else {
                continue;
            };
            let item = Item::Unit(unit.clone());
            let places = open
                .iter()
                .chain(&packed)
                .filter(|listed| **listed == item)
                .count();
            assert!(places <= 1, "{name} is in {places} places: {view:?}");
            assert_eq!(
                view.container.is_some(),
                packed.contains(&item),
                "{name}: container and contents disagree"
            );
            if view.destination.is_none() && view.container.is_none() {
                assert!(
                    !open.contains(&item),
                    "{name} is held and in an open shipment"
                );
            }
            match (self.decommissioned.get(&unit), view.decommission_reason) {
                (Some(before), now) => {
                    assert_eq!(Some(*before), now, "{name} came back from decommissioning")
                }
                (None, Some(reason)) => {
                    assert_eq!(view.status, UnitStatus::Decommissioned);
                    self.decommissioned.insert(unit, reason);
                }
                (None, None) => {}
            }
        }
    }

    /// Every unit's verdict, derived from its partial history, has the full state's view.
    fn check_replays(&self) {
        let state = &self.scenario.state;
        for name in SERIALS {
            let unit = self.scenario.unit(name);
            let scan = self.scenario.label(&unit, "L1");
            let verdict = self
                .scenario
                .verdict(&scan, None)
                .unwrap_or_else(|error| panic!("{name}: history does not replay: {error}"));
            let expected =
                queries::unit(state, &unit, self.scenario.clock_unix_ms).expect("memory");
            assert_eq!(verdict.state, expected, "{name}: replayed state differs");
        }
    }
}

fn sscc(index: u8) -> Sscc {
    sscc_number(u32::from(index) + 1)
}

fn run(ops: &[Op]) -> Run {
    let mut run = Run::new();
    for op in ops {
        run.step(op);
    }
    run
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_sequences_keep_custody_consistent(ops in prop::collection::vec(op(), 1..60)) {
        let first = run(&ops);
        first.check_replays();
        let second = run(&ops);
        prop_assert_eq!(first.scenario.state.digest(), second.scenario.state.digest());
        prop_assert_eq!(first.accepted, second.accepted);
    }
}

/// The generator reaches the interesting states: some random sequences pack, ship, receive
/// and decommission. Without this, the property above could pass by refusing everything.
#[test]
fn random_sequences_are_mostly_not_refused_at_once() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = prop::collection::vec(op(), 40);
    let mut kinds = BTreeMap::<&str, usize>::new();
    for _ in 0..50 {
        let ops = strategy.new_tree(&mut runner).expect("a tree").current();
        let result = run(&ops);
        for (op, accepted) in ops.iter().zip(result.accepted.iter()) {
            if *accepted {
                *kinds.entry(op.kind()).or_default() += 1;
            }
        }
    }
    for kind in [
        "Commission",
        "Aggregate",
        "Disaggregate",
        "Ship",
        "Receive",
        "Decommission",
        "Recall",
    ] {
        assert!(
            kinds.get(kind).copied().unwrap_or(0) > 0,
            "no {kind} was ever accepted: {kinds:?}"
        );
    }
}
