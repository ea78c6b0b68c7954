//! What the demo circuit holds and where everything goes: lots, the cases they are packed
//! in, the pallets the distributor builds, and which units get used. The demo plays this plan
//! and then picks the units it verifies from it.

use isnad_core::gs1::{Gs1Date, Sscc, year_of_unix_ms};

use crate::circuit::{Circuit, Lot, Who};

use super::{end_of_last_month, end_of_next_month};

/// Units per case: what a manufacturer packs together.
const CASE_UNITS: u64 = 100;

/// Cases per pallet: what the distributor stacks together.
const PALLET_CASES: usize = 10;

/// One unit in this many of each delivered case gets used at its hospital.
const USED_ONE_IN: u64 = 5;

/// Lot shares of the units, in percent, in the order of [`Plan::lots`]; the last lot takes
/// what the rounding leaves.
const LOT_SHARES_PERCENT: [u64; 4] = [40, 20, 30, 9];

/// Where a case or a pallet goes after the distributor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination {
    /// Received by this hospital.
    Hospital(Who),
    /// Shipped to the second hospital, never received.
    InTransit,
}

impl Destination {
    /// The hospital it is addressed to.
    pub fn hospital(&self) -> Who {
        match self {
            Destination::Hospital(hospital) => *hospital,
            Destination::InTransit => Who::Hospital2,
        }
    }
}

/// A manufacturer's case of units of one lot.
#[derive(Debug, Clone)]
pub struct Case {
    /// Its logistic unit code.
    pub sscc: Sscc,
    /// Which of the plan's lots it holds.
    pub lot: usize,
    /// The position in the lot of its first unit.
    pub first: u64,
    /// How many units it holds.
    pub len: u64,
    /// Where it ends up.
    pub destination: Destination,
}

impl Case {
    /// Units of this case used at the hospital: the first ones.
    pub fn used(&self) -> u64 {
        match self.destination {
            Destination::Hospital(_) => self.len / USED_ONE_IN,
            Destination::InTransit => 0,
        }
    }
}

/// A distributor's pallet of cases going to one place.
#[derive(Debug, Clone)]
pub struct Pallet {
    /// Its logistic unit code.
    pub sscc: Sscc,
    /// Positions in [`Plan::cases`] of the cases on it.
    pub cases: Vec<usize>,
    /// Where it goes.
    pub destination: Destination,
}

/// Everything the demo commissions and moves.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The demo's clock when it planned.
    pub now_unix_ms: i64,
    /// Units in every lot together.
    pub units_total: u32,
    /// The lots: syringes, catheters, two lots of glucose tests (the second one recalled), and
    /// short-dated glucose tests; the `*_LOT` constants name the ones the verdicts read.
    pub lots: Vec<Lot>,
    /// A lot whose expiry passed last month: the ledger must refuse to commission it.
    pub expired_lot: Lot,
    /// Every case, lot by lot.
    pub cases: Vec<Case>,
    /// Every pallet.
    pub pallets: Vec<Pallet>,
}

impl Plan {
    /// Syringes: the lot most genuine, diverted and used units come from.
    pub const MAIN_LOT: usize = 0;
    /// Catheters: the lot whose last case is still on the road.
    pub const IN_TRANSIT_LOT: usize = 1;
    /// Glucose tests, recalled after delivery.
    pub const RECALLED_LOT: usize = 3;
    /// Glucose tests expiring at the end of next month: short-dated, and still valid when a
    /// run crosses the end of this month. The demo asks about them as of the day after.
    pub const SHORT_DATED_LOT: usize = 4;

    /// The plan for `units_total` units as of `now_unix_ms`.
    pub fn new(circuit: &Circuit, units_total: u32, now_unix_ms: i64) -> Plan {
        let lots = lots(circuit, units_total, now_unix_ms);
        let expired_lot = circuit.lot(
            &circuit.products[2],
            "GL2599",
            end_of_last_month(now_unix_ms),
            1,
            10,
        );
        let cases = cases(circuit, &lots);
        let pallets = pallets(circuit, &cases);
        Plan {
            now_unix_ms,
            units_total,
            lots,
            expired_lot,
            cases,
            pallets,
        }
    }

    /// Cases a hospital received.
    pub fn delivered_cases(&self) -> impl Iterator<Item = &Case> {
        self.cases
            .iter()
            .filter(|case| matches!(case.destination, Destination::Hospital(_)))
    }

    fn first_delivered_case(&self, lot: usize) -> &Case {
        self.delivered_cases()
            .find(|case| case.lot == lot)
            .expect("every lot's first case is delivered")
    }

    /// The label of the `nth` unit of `lot` that is at a hospital and not used, and that
    /// hospital.
    pub fn active_unit(&self, lot: usize, nth: u64) -> (String, Who) {
        let case = self.first_delivered_case(lot);
        assert!(
            case.used() + nth < case.len,
            "the case holds enough unused units"
        );
        let lot = &self.lots[case.lot];
        let label = lot.label(&lot.unit(case.first + case.used() + nth));
        (label, case.destination.hospital())
    }

    /// The label of the `nth` used unit of the main lot, and the hospital that used it.
    pub fn used_unit(&self, nth: u64) -> (String, Who) {
        let case = self.first_delivered_case(Self::MAIN_LOT);
        assert!(nth < case.used(), "the case has enough used units");
        let lot = &self.lots[case.lot];
        (
            lot.label(&lot.unit(case.first + nth)),
            case.destination.hospital(),
        )
    }

    /// A label of the main lot with a serial nobody commissioned.
    pub fn unknown_serial(&self) -> String {
        let lot = &self.lots[Self::MAIN_LOT];
        lot.label(&lot.unit(u64::from(lot.serials.count) + 1_000))
    }

    /// The label of a unit on the pallet still on the road.
    pub fn in_transit_unit(&self) -> String {
        let case = self
            .cases
            .iter()
            .find(|case| case.destination == Destination::InTransit)
            .expect("one case is always in transit");
        let lot = &self.lots[case.lot];
        lot.label(&lot.unit(case.first))
    }

    /// A genuine unit's label with the GTIN's check digit changed.
    pub fn malformed_scan(&self) -> String {
        let (label, _) = self.active_unit(Self::MAIN_LOT, 0);
        // "(01)" then 14 digits: the 14th is the check digit.
        let check = label.as_bytes()[17] - b'0';
        let wrong = char::from(b'0' + (check + 1) % 10);
        format!("{}{wrong}{}", &label[..17], &label[18..])
    }
}

fn lots(circuit: &Circuit, units_total: u32, now_unix_ms: i64) -> Vec<Lot> {
    let total = u64::from(units_total);
    let mut counts: Vec<u64> = LOT_SHARES_PERCENT
        .iter()
        .map(|share| total * share / 100)
        .collect();
    counts.push(total - counts.iter().sum::<u64>());
    let next_year = year_of_unix_ms(now_unix_ms) + 2;
    let long_dated: Gs1Date = format!("{:02}1231", next_year.rem_euclid(100))
        .parse()
        .expect("December 31st is a GS1 date");
    let specs = [
        (0, "SA2601", long_dated),
        (1, "CT2601", long_dated),
        (2, "GL2601", long_dated),
        (2, "GL2602", long_dated),
        (2, "GL2603", end_of_next_month(now_unix_ms)),
    ];
    specs
        .iter()
        .zip(counts)
        .map(|((product, number, expiry), count)| {
            let count = u32::try_from(count).expect("a share of a u32 fits a u32");
            circuit.lot(&circuit.products[*product], number, *expiry, 1, count)
        })
        .collect()
}

fn cases(circuit: &Circuit, lots: &[Lot]) -> Vec<Case> {
    let mut cases = Vec::new();
    for (index, lot) in lots.iter().enumerate() {
        let count = u64::from(lot.serials.count);
        let case_count = count.div_ceil(CASE_UNITS);
        for number in 0..case_count {
            let destination = if index == Plan::IN_TRANSIT_LOT && number + 1 == case_count {
                Destination::InTransit
            } else if number % 2 == 0 {
                Destination::Hospital(Who::Hospital1)
            } else {
                Destination::Hospital(Who::Hospital2)
            };
            let first = number * CASE_UNITS;
            cases.push(Case {
                sscc: circuit.sscc(lot.manufacturer, cases.len() as u64 + 1),
                lot: index,
                first,
                len: CASE_UNITS.min(count - first),
                destination,
            });
        }
    }
    cases
}

fn pallets(circuit: &Circuit, cases: &[Case]) -> Vec<Pallet> {
    let mut pallets = Vec::new();
    for destination in [
        Destination::Hospital(Who::Hospital1),
        Destination::Hospital(Who::Hospital2),
        Destination::InTransit,
    ] {
        let going: Vec<usize> = (0..cases.len())
            .filter(|index| cases[*index].destination == destination)
            .collect();
        for chunk in going.chunks(PALLET_CASES) {
            pallets.push(Pallet {
                sscc: circuit.sscc(Who::Distributor, pallets.len() as u64 + 1),
                cases: chunk.to_vec(),
                destination,
            });
        }
    }
    pallets
}

#[cfg(test)]
mod tests {
    use super::*;
    use isnad_core::scan::parse_scan;

    /// 2026-11-30T23:59:00Z: a minute before a month ends.
    const NOV_30_2026_LATE: i64 = 1_796_083_140_000;

    const DAY_MS: i64 = 86_400_000;

    fn plan(units_total: u32) -> Plan {
        plan_at(units_total, crate::circuit::now_unix_ms())
    }

    fn plan_at(units_total: u32, now_unix_ms: i64) -> Plan {
        let circuit = Circuit::generate(crate::embedded::ORIGIN).expect("randomness");
        Plan::new(&circuit, units_total, now_unix_ms)
    }

    #[track_caller]
    fn check_plan(units_total: u32, cases: usize, pallets: usize) {
        let plan = plan(units_total);
        let units: u64 = plan
            .lots
            .iter()
            .map(|lot| u64::from(lot.serials.count))
            .sum();
        assert_eq!(units, u64::from(units_total));
        let packed: u64 = plan.cases.iter().map(|case| case.len).sum();
        assert_eq!(packed, units, "every unit is packed once");
        assert_eq!(plan.cases.len(), cases);
        assert_eq!(plan.pallets.len(), pallets);
        let stacked: usize = plan.pallets.iter().map(|pallet| pallet.cases.len()).sum();
        assert_eq!(stacked, cases, "every case is on one pallet");
        for pallet in &plan.pallets {
            assert!(
                pallet
                    .cases
                    .iter()
                    .all(|c| plan.cases[*c].destination == pallet.destination)
            );
        }
        for label in [
            plan.active_unit(Plan::MAIN_LOT, 1).0,
            plan.used_unit(1).0,
            plan.active_unit(Plan::RECALLED_LOT, 0).0,
            plan.active_unit(Plan::SHORT_DATED_LOT, 0).0,
            plan.in_transit_unit(),
            plan.unknown_serial(),
        ] {
            parse_scan(&label).expect("planned labels parse");
        }
        assert!(parse_scan(&plan.malformed_scan()).is_err());
    }

    #[test]
    fn plans_pack_every_unit_once_and_stack_every_case_once() {
        // 100 units: lots of 40, 20, 30, 9 and 1 units, one case each; the catheters' only
        // case is on the road, the four others go to the first hospital on one pallet.
        check_plan(100, 5, 2);
        // 10,000 units: 40 + 20 + 30 + 9 + 1 cases; 51, 48 and 1 of them per destination.
        check_plan(10_000, 100, 6 + 5 + 1);
    }

    #[track_caller]
    fn check_expiries(plan: &Plan) {
        let year = year_of_unix_ms(plan.now_unix_ms);
        let short = plan.lots[Plan::SHORT_DATED_LOT].expiry.end_unix_ms(year);
        // Valid for a run of up to a day, whenever it starts; expired within two months.
        assert!(
            short > plan.now_unix_ms + DAY_MS,
            "the short-dated lot outlives the run"
        );
        assert!(
            short - plan.now_unix_ms <= 62 * DAY_MS,
            "and is short-dated"
        );
        assert!(plan.expired_lot.expiry.end_unix_ms(year) <= plan.now_unix_ms);
    }

    #[test]
    fn the_short_dated_lot_expires_next_month_and_the_expired_one_last_month() {
        check_expiries(&plan(1_000));
        // A run that starts a minute before the month ends: its short-dated lot must not
        // expire under it.
        check_expiries(&plan_at(100, NOV_30_2026_LATE));
        // At the turn of a year.
        check_expiries(&plan_at(100, NOV_30_2026_LATE + 31 * DAY_MS));
    }
}
