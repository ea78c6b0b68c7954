//! The demo: a whole circuit played against a real ledger, then the verdicts an inspector
//! would get for the cases that matter, printed for people.
//!
//! A regulator admits two manufacturers, a distributor, two hospitals and an inspector. The
//! manufacturers register products, commission lots, pack the units into cases and ship them
//! to the distributor, who repacks the cases into pallets and ships them to the hospitals.
//! The hospitals receive, unpack and use units; one pallet is still on the road; one lot is
//! recalled; an inspector finds a used serial on sale at a pharmacy nobody admitted. Then
//! every case is verified over gRPC, and every answer is re-checked offline.

use std::io::Write;

use anyhow::{Context as _, bail};
use isnad_client::{Client, Trust};
use isnad_core::event::{DecommissionReason, Item, ReasonCode};
use isnad_core::gs1::{Gln, Gs1Date, days_from_civil, year_of_unix_ms};

use crate::circuit::{Circuit, Unsigned, Who, now_unix_ms};
use crate::embedded::EmbeddedServer;
mod plan;

use plan::{Destination, Plan};

/// Serialized units the demo commissions unless told otherwise.
pub const DEMO_UNITS: u32 = 10_000;

/// The fewest units a demo needs: every lot must fill the cases the verdicts are read from.
pub const DEMO_UNITS_MIN: u32 = 100;

/// The most units a demo takes: its cases must fit one Ship event per manufacturer.
pub const DEMO_UNITS_MAX: u32 = 1_000_000;

/// Events per capture request in the demo (the ledger takes up to 1,000).
const REQUEST_EVENTS: usize = 500;

/// A millisecond count of one hour.
const HOUR_MS: i64 = 3_600_000;

/// A day in milliseconds.
const DAY_MS: i64 = 86_400_000;

/// What the demo plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoOptions {
    /// Serialized units commissioned in total, across every lot.
    pub units_total: u32,
}

impl Default for DemoOptions {
    fn default() -> Self {
        Self {
            units_total: DEMO_UNITS,
        }
    }
}

/// One verified case: the question, and the verdict proven offline.
#[derive(Debug, Clone)]
pub struct Finding {
    /// What the case is, in plain words.
    pub case: String,
    /// Where (and when, if not now) the unit was scanned.
    pub place: String,
    /// The scan as read.
    pub scan: String,
    /// The verdict the circuit should give.
    pub expected: ReasonCode,
    /// The verdict the inspector's device shows.
    pub verdict: ReasonCode,
    /// Every reason found, most serious first.
    pub reasons: Vec<ReasonCode>,
    /// Entries of the answer whose inclusion proofs verified offline.
    pub entries_proven: usize,
}

/// What a demo run did.
#[derive(Debug, Clone)]
pub struct DemoReport {
    /// The verified cases, in the order printed.
    pub findings: Vec<Finding>,
    /// Entries in the log at the end.
    pub tree_size: u64,
    /// Why the ledger refused to commission a lot that had expired already.
    pub expired_commission_refusal: String,
}

/// Plays the demo against a ledger started in this process, printing progress and the
/// verdicts to `out`.
pub async fn play(options: &DemoOptions, out: &mut dyn Write) -> anyhow::Result<DemoReport> {
    if !(DEMO_UNITS_MIN..=DEMO_UNITS_MAX).contains(&options.units_total) {
        bail!(
            "the demo needs {DEMO_UNITS_MIN} to {DEMO_UNITS_MAX} units, not {}",
            options.units_total
        );
    }
    writeln!(
        out,
        "Isnad demo: medical devices made in Morocco, traced through a real ledger.\n"
    )?;
    let circuit = Circuit::generate(crate::embedded::ORIGIN)?;
    let server = EmbeddedServer::start(&circuit).await?;
    let client = Client::connect(&crate::url(&server.address.to_string()))
        .await
        .context("cannot connect to the demo ledger")?;
    writeln!(
        out,
        "[1/9] A ledger is serving on {} from a temporary directory.",
        server.address
    )?;
    let plan = Plan::new(&circuit, options.units_total, now_unix_ms());
    let refusal = set_up(&circuit, &plan, &client, out).await?;
    let regulator_key = circuit.participant(Who::Regulator).public_key();
    let trust = client
        .establish_trust(vec![regulator_key], &server.log_vkey)
        .await
        .context("cannot establish trust in the demo ledger")?;
    // The inspector asks as itself, an admitted party (once admitted): the ledger shows the
    // proof of a verdict only to admitted parties.
    let inspector = circuit.participant(Who::Inspector);
    let inspector_client = client
        .clone()
        .with_credentials(isnad_client::Credentials::new(
            inspector.party,
            inspector.signing_key.clone(),
            crate::embedded::ORIGIN,
        ));
    let findings = verify_cases(&circuit, &plan, &inspector_client, trust).await?;
    let tree_size = crate::tree_size(&client).await?;
    print_findings(&findings, out)?;
    writeln!(
        out,
        "\nThe log holds {} entries. Every answer above carried its proofs, and each was \
         re-checked here with nothing but the log's key and the regulator's key.",
        thousands(tree_size)
    )?;
    server.stop().await?;
    Ok(DemoReport {
        findings,
        tree_size,
        expired_commission_refusal: refusal,
    })
}

/// Plays the circuit up to the point where the cases can be verified; returns the ledger's
/// refusal of an expired lot.
async fn set_up(
    circuit: &Circuit,
    plan: &Plan,
    client: &Client,
    out: &mut dyn Write,
) -> anyhow::Result<String> {
    let admissions: Vec<Unsigned> = Who::ALL[1..]
        .iter()
        .map(|who| circuit.admit(*who))
        .collect();
    submit(circuit, client, admissions).await?;
    writeln!(
        out,
        "[2/9] The regulator admits {} participants: two manufacturers, a distributor, two \
         hospitals, an inspector.",
        Who::ALL.len() - 1
    )?;
    let products: Vec<Unsigned> = circuit
        .products
        .iter()
        .map(|product| circuit.register_product(product))
        .collect();
    submit(circuit, client, products).await?;
    writeln!(
        out,
        "[3/9] The manufacturers register {} products.",
        circuit.products.len()
    )?;
    let refusal = commission(circuit, plan, client, out).await?;
    ship_to_distributor(circuit, plan, client, out).await?;
    ship_to_hospitals(circuit, plan, client, out).await?;
    use_and_inspect(circuit, plan, client, out).await?;
    Ok(refusal)
}

async fn commission(
    circuit: &Circuit,
    plan: &Plan,
    client: &Client,
    out: &mut dyn Write,
) -> anyhow::Result<String> {
    let events: Vec<Unsigned> = plan
        .lots
        .iter()
        .map(|lot| circuit.commission(lot))
        .collect();
    submit(circuit, client, events).await?;
    writeln!(
        out,
        "[4/9] They commission {} serialized units in {} lots.",
        thousands(plan.units_total.into()),
        plan.lots.len()
    )?;
    let expired = circuit.commission(&plan.expired_lot);
    let refusal = match client.capture(vec![circuit.sign(&expired)]).await {
        Ok(_) => bail!("the ledger commissioned a lot that had expired already"),
        Err(error) => error.to_string(),
    };
    writeln!(
        out,
        "      A lot that expired last month is refused, as it should be: {refusal}"
    )?;
    Ok(refusal)
}

async fn ship_to_distributor(
    circuit: &Circuit,
    plan: &Plan,
    client: &Client,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let mut packing = Vec::new();
    for case in &plan.cases {
        let lot = &plan.lots[case.lot];
        let items = (case.first..case.first + case.len)
            .map(|position| Item::Unit(lot.unit(position)))
            .collect();
        packing.push(circuit.aggregate(lot.manufacturer, case.sscc, items));
    }
    submit(circuit, client, packing).await?;
    let mut shipments = Vec::new();
    for manufacturer in Who::MANUFACTURERS {
        let items = plan
            .cases
            .iter()
            .filter(|case| plan.lots[case.lot].manufacturer == manufacturer)
            .map(|case| Item::Sscc(case.sscc))
            .collect();
        shipments.push(circuit.ship(manufacturer, items, Who::Distributor));
    }
    let receipts: Vec<Unsigned> = shipments
        .iter()
        .map(|ship| circuit.receive(Who::Distributor, ship.event.id))
        .collect();
    submit(circuit, client, shipments).await?;
    submit(circuit, client, receipts).await?;
    writeln!(
        out,
        "[5/9] They pack the units into {} cases and ship them; the distributor receives both \
         shipments.",
        thousands(plan.cases.len() as u64)
    )?;
    Ok(())
}

async fn ship_to_hospitals(
    circuit: &Circuit,
    plan: &Plan,
    client: &Client,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let packing: Vec<Unsigned> = plan
        .pallets
        .iter()
        .map(|pallet| {
            let items = pallet
                .cases
                .iter()
                .map(|case| Item::Sscc(plan.cases[*case].sscc));
            circuit.aggregate(Who::Distributor, pallet.sscc, items.collect())
        })
        .collect();
    submit(circuit, client, packing).await?;
    writeln!(
        out,
        "[6/9] The distributor repacks the cases into {} pallets.",
        thousands(plan.pallets.len() as u64)
    )?;
    let mut shipments = Vec::new();
    let mut receipts = Vec::new();
    for destination in [
        Destination::Hospital(Who::Hospital1),
        Destination::Hospital(Who::Hospital2),
        Destination::InTransit,
    ] {
        let items: Vec<Item> = plan
            .pallets
            .iter()
            .filter(|pallet| pallet.destination == destination)
            .map(|pallet| Item::Sscc(pallet.sscc))
            .collect();
        if items.is_empty() {
            continue;
        }
        let ship = circuit.ship(Who::Distributor, items, destination.hospital());
        if let Destination::Hospital(hospital) = destination {
            receipts.push(circuit.receive(hospital, ship.event.id));
        }
        shipments.push(ship);
    }
    submit(circuit, client, shipments).await?;
    submit(circuit, client, receipts).await?;
    writeln!(
        out,
        "[7/9] It ships pallets to both hospitals, which receive them; one more shipment to {} \
         is still on the road.",
        circuit.participant(Destination::InTransit.hospital()).name
    )?;
    Ok(())
}

async fn use_and_inspect(
    circuit: &Circuit,
    plan: &Plan,
    client: &Client,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let mut unpacking = Vec::new();
    let mut using = Vec::new();
    for pallet in &plan.pallets {
        let Destination::Hospital(hospital) = pallet.destination else {
            continue;
        };
        unpacking.push(circuit.disaggregate(hospital, pallet.sscc));
        for case in pallet.cases.iter().map(|case| &plan.cases[*case]) {
            unpacking.push(circuit.disaggregate(hospital, case.sscc));
            let lot = &plan.lots[case.lot];
            let used: Vec<Item> = (case.first..case.first + case.used())
                .map(|position| Item::Unit(lot.unit(position)))
                .collect();
            if !used.is_empty() {
                using.push(circuit.decommission(hospital, used, DecommissionReason::Used));
            }
        }
    }
    let used_total: u64 = plan.delivered_cases().map(|case| case.used()).sum();
    submit(circuit, client, unpacking).await?;
    submit(circuit, client, using).await?;
    writeln!(
        out,
        "[8/9] The hospitals unpack their pallets and cases, and use {} units.",
        thousands(used_total)
    )?;
    let recalled = &plan.lots[Plan::RECALLED_LOT];
    let recall = circuit.recall(recalled.manufacturer, recalled, "sterility not assured");
    let (sighted, _) = plan.used_unit(1);
    let inspect = circuit.inspect(circuit.pharmacy_site, &sighted, ReasonCode::Genuine);
    submit(circuit, client, vec![recall, inspect]).await?;
    writeln!(
        out,
        "[9/9] {} recalls lot {}; an inspector finds a used serial on sale at a pharmacy the \
         regulator never admitted.\n",
        circuit.participant(recalled.manufacturer).name,
        recalled.id.lot
    )?;
    Ok(())
}

/// A case to verify.
struct Question {
    case: &'static str,
    scan: String,
    site: Option<(Gln, String)>,
    expected: ReasonCode,
    /// A later day to ask on: the ledger's clock is moved forward to it for this question
    /// (a drill), and the answer is checked as of that day.
    as_of_unix_ms: Option<i64>,
}

fn questions(circuit: &Circuit, plan: &Plan) -> Vec<Question> {
    let at = |who: Who| {
        let participant = circuit.participant(who);
        Some((participant.site(), participant.name.clone()))
    };
    let pharmacy = Some((circuit.pharmacy_site, "an unlisted pharmacy".to_owned()));
    let (genuine, genuine_at) = plan.active_unit(Plan::MAIN_LOT, 0);
    let (diverted, _) = plan.active_unit(Plan::MAIN_LOT, 1);
    let (used, used_at) = plan.used_unit(0);
    let (sighted, _) = plan.used_unit(1);
    let (recalled, recalled_at) = plan.active_unit(Plan::RECALLED_LOT, 0);
    let (expiring, expiring_at) = plan.active_unit(Plan::SHORT_DATED_LOT, 0);
    let question = |case, scan: String, site, expected| Question {
        case,
        scan,
        site,
        expected,
        as_of_unix_ms: None,
    };
    let expiry = plan.lots[Plan::SHORT_DATED_LOT].expiry;
    let expired_on = expiry.end_unix_ms(year_of_unix_ms(plan.now_unix_ms)) + HOUR_MS;
    vec![
        question(
            "A genuine unit at its hospital",
            genuine,
            at(genuine_at),
            ReasonCode::Genuine,
        ),
        question(
            "A unit diverted to a pharmacy",
            diverted,
            pharmacy.clone(),
            ReasonCode::CustodyMismatch,
        ),
        question(
            "A used serial, scanned again",
            used,
            at(used_at),
            ReasonCode::AlreadyDecommissioned,
        ),
        question(
            "The used serial found on sale",
            sighted,
            pharmacy,
            ReasonCode::DuplicateSighting,
        ),
        question(
            "A unit of a recalled lot",
            recalled,
            at(recalled_at),
            ReasonCode::Recalled,
        ),
        question(
            "A serial never commissioned",
            plan.unknown_serial(),
            at(Who::Hospital1),
            ReasonCode::UnknownSerial,
        ),
        Question {
            as_of_unix_ms: Some(expired_on),
            ..question(
                "A unit whose lot has expired",
                expiring,
                at(expiring_at),
                ReasonCode::Expired,
            )
        },
        question(
            "A unit still in transit",
            plan.in_transit_unit(),
            at(Destination::InTransit.hospital()),
            ReasonCode::InTransit,
        ),
        question(
            "A label with a wrong check digit",
            plan.malformed_scan(),
            at(Who::Hospital1),
            ReasonCode::MalformedScan,
        ),
    ]
}

async fn verify_cases(
    circuit: &Circuit,
    plan: &Plan,
    client: &Client,
    mut trust: Trust,
) -> anyhow::Result<Vec<Finding>> {
    let mut findings = Vec::new();
    for question in questions(circuit, plan) {
        let skew_ms = question
            .as_of_unix_ms
            .map_or(0, |as_of| as_of - now_unix_ms());
        // A drill: the ledger's clock moves forward, as if the day had come.
        isnad_server::ledger::set_clock_skew_ms(skew_ms);
        let site = question.site.as_ref().map(|(gln, _)| gln.to_string());
        let checked = client
            .verify_checked(
                &trust,
                &question.scan,
                site.as_deref(),
                now_unix_ms() + skew_ms,
            )
            .await;
        isnad_server::ledger::set_clock_skew_ms(0);
        let checked = checked
            .with_context(|| format!("the answer about {:?} does not hold up", question.case))?;
        trust = checked.verified.advanced_trust(&trust)?;
        let mut place = question
            .site
            .map_or_else(|| "anywhere".to_owned(), |(_, name)| name);
        if let Some(as_of) = question.as_of_unix_ms {
            place = format!("{place}, on {}", iso_date(as_of));
        }
        findings.push(Finding {
            case: question.case.to_owned(),
            place,
            scan: question.scan,
            expected: question.expected,
            verdict: checked.verified.verdict.verdict,
            reasons: checked.verified.verdict.reasons,
            entries_proven: checked.verified.history.len(),
        });
    }
    Ok(findings)
}

/// Signs `events` and submits them in order, a request of at most [`REQUEST_EVENTS`] at a time.
async fn submit(circuit: &Circuit, client: &Client, events: Vec<Unsigned>) -> anyhow::Result<()> {
    for chunk in events.chunks(REQUEST_EVENTS) {
        let signed = circuit.sign_all(chunk);
        if let Err(error) = client.capture(signed).await {
            bail!("the ledger refused a demo request: {error}");
        }
    }
    Ok(())
}

fn print_findings(findings: &[Finding], out: &mut dyn Write) -> std::io::Result<()> {
    let proofs: Vec<String> = findings.iter().map(proof_note).collect();
    let case_width = column_width(findings.iter().map(|f| f.case.as_str()), "Case");
    let place_width = column_width(findings.iter().map(|f| f.place.as_str()), "Scanned at");
    let verdict_width = column_width(findings.iter().map(|f| f.verdict.as_str()), "Verdict");
    let proof_width = column_width(proofs.iter().map(String::as_str), "Proven offline");
    writeln!(
        out,
        "{:case_width$}  {:place_width$}  {:verdict_width$}  Proven offline",
        "Case", "Scanned at", "Verdict"
    )?;
    let rule_width = case_width + place_width + verdict_width + proof_width + 6;
    writeln!(out, "{}", "-".repeat(rule_width))?;
    for (finding, proof) in findings.iter().zip(&proofs) {
        let flag = if finding.verdict == finding.expected {
            ""
        } else {
            "  (unexpected!)"
        };
        writeln!(
            out,
            "{:case_width$}  {:place_width$}  {:verdict_width$}  {proof}{flag}",
            finding.case,
            finding.place,
            finding.verdict.as_str()
        )?;
    }
    if findings
        .iter()
        .any(|finding| finding.place.contains(", on "))
    {
        writeln!(
            out,
            "(A date after the place is a drill: the ledger's clock was moved forward to that day \
             for that one question.)"
        )?;
    }
    writeln!(out, "\nWhat the verdicts mean, and what to do")?;
    let mut seen: Vec<ReasonCode> = Vec::new();
    for finding in findings {
        if !seen.contains(&finding.verdict) {
            seen.push(finding.verdict);
            let (meaning, action) = explain(finding.verdict);
            writeln!(
                out,
                "  {:verdict_width$}  {meaning}",
                finding.verdict.as_str()
            )?;
            writeln!(out, "  {:verdict_width$}  -> {action}", "")?;
        }
    }
    Ok(())
}

/// What the offline check proved, in words.
fn proof_note(finding: &Finding) -> String {
    match finding.entries_proven {
        // A scan that does not parse needs no history: the device reads it the same way.
        0 => "yes, the label itself".to_owned(),
        entries => format!("yes, {entries} log entries"),
    }
}

/// `n` with a comma between thousands: 10,000.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (position, digit) in digits.chars().enumerate() {
        if position > 0 && (digits.len() - position).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}

fn column_width<'a>(values: impl Iterator<Item = &'a str>, title: &str) -> usize {
    values
        .map(|value| value.chars().count())
        .chain([title.len()])
        .max()
        .unwrap_or(0)
}

/// What a verdict means, and what the person holding the unit should do.
pub fn explain(code: ReasonCode) -> (&'static str, &'static str) {
    match code {
        ReasonCode::Genuine => (
            "Made by an admitted manufacturer, and held here by the ledger's records.",
            "Use it.",
        ),
        ReasonCode::CustodyMismatch => (
            "A real unit, but the ledger says another site holds it: it left the legal circuit.",
            "Do not use or sell it; set it aside and report the diversion to the regulator.",
        ),
        ReasonCode::AlreadyDecommissioned => (
            "This serial was already used, dispensed or destroyed: the package is re-used or copied.",
            "Do not use it; report a suspected counterfeit.",
        ),
        ReasonCode::DuplicateSighting => (
            "The same serial was seen where its custody cannot explain it: a cloned label.",
            "Quarantine it and report a suspected counterfeit.",
        ),
        ReasonCode::Recalled => (
            "Its manufacturer or the regulator recalled the whole lot.",
            "Do not use it; return it as the recall notice says.",
        ),
        ReasonCode::UnknownSerial => (
            "No admitted manufacturer ever commissioned this serial.",
            "Treat it as counterfeit: quarantine it and report it.",
        ),
        ReasonCode::UnknownProduct => (
            "No admitted manufacturer registered this product code.",
            "Treat it as counterfeit: quarantine it and report it.",
        ),
        ReasonCode::UnknownLot => (
            "The product is known, but this lot was never made.",
            "Treat it as counterfeit: quarantine it and report it.",
        ),
        ReasonCode::LotMismatch => (
            "The serial exists, but in another lot than the label says: the label was altered.",
            "Quarantine it and report it.",
        ),
        ReasonCode::ExpiryMismatch => (
            "The label's expiry date is not the one its lot was made with.",
            "Quarantine it and report it.",
        ),
        ReasonCode::Expired => (
            "The lot's expiry date has passed.",
            "Do not use it; return or destroy it.",
        ),
        ReasonCode::InTransit => (
            "It was shipped and nobody has recorded receiving it yet.",
            "If it has just arrived, record the receipt first; otherwise ask the sender.",
        ),
        ReasonCode::SuspendedHolder => (
            "The party holding it is suspended by the regulator.",
            "Do not use it until the regulator clears the holder.",
        ),
        ReasonCode::CompromisedSigner => (
            "Part of its history was signed with a key known to be stolen.",
            "Quarantine it and report it; its record cannot be trusted.",
        ),
        ReasonCode::MalformedScan => (
            "The code does not read as a GS1 code (check digit, length or field).",
            "Scan again; if it still fails, the label itself is suspect.",
        ),
    }
}

/// The year and month (1 to 12) of a Unix time, in UTC.
pub fn year_month(unix_ms: i64) -> (i32, u8) {
    let year = year_of_unix_ms(unix_ms);
    let days = unix_ms.div_euclid(DAY_MS);
    let month = (1..=12u8)
        .rev()
        .find(|month| days_from_civil(year, *month, 1) <= days)
        .expect("every day of a year falls on or after its January 1st");
    (year, month)
}

/// The last day of the month of `unix_ms`, as a GS1 date (day 00).
pub fn end_of_month(unix_ms: i64) -> Gs1Date {
    let (year, month) = year_month(unix_ms);
    format!("{:02}{month:02}00", year.rem_euclid(100))
        .parse()
        .expect("a year and a month make a GS1 date")
}

/// The last day of the month after the month of `unix_ms`, as a GS1 date (day 00): short-dated,
/// yet still valid for a run that crosses the end of this month.
pub fn end_of_next_month(unix_ms: i64) -> Gs1Date {
    let (year, month) = year_month(unix_ms);
    let (year, month) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    format!("{:02}{month:02}00", year.rem_euclid(100))
        .parse()
        .expect("a year and a month make a GS1 date")
}

/// The last day of the month before the month of `unix_ms`, as a GS1 date.
pub fn end_of_last_month(unix_ms: i64) -> Gs1Date {
    let (year, month) = year_month(unix_ms);
    let (year, month) = if month == 1 {
        (year - 1, 12)
    } else {
        (year, month - 1)
    };
    format!("{:02}{month:02}00", year.rem_euclid(100))
        .parse()
        .expect("a year and a month make a GS1 date")
}

/// `YYYY-MM-DD` of a Unix time, in UTC.
fn iso_date(unix_ms: i64) -> String {
    let (year, month) = year_month(unix_ms);
    let day = unix_ms.div_euclid(DAY_MS) - days_from_civil(year, month, 1) + 1;
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-11-29T12:00:00Z.
    const NOV_29_2026: i64 = 1_795_953_600_000;

    #[track_caller]
    fn check_month(unix_ms: i64, expected: (i32, u8), this_end: &str, last_end: &str, iso: &str) {
        assert_eq!(year_month(unix_ms), expected);
        assert_eq!(end_of_month(unix_ms).to_string(), this_end);
        assert_eq!(end_of_last_month(unix_ms).to_string(), last_end);
        assert_eq!(iso_date(unix_ms), iso);
    }

    #[test]
    fn months_and_month_ends() {
        check_month(NOV_29_2026, (2026, 11), "261100", "261000", "2026-11-29");
        check_month(
            1_767_225_600_000,
            (2026, 1),
            "260100",
            "251200",
            "2026-01-01",
        );
        check_month(
            1_767_225_599_999,
            (2025, 12),
            "251200",
            "251100",
            "2025-12-31",
        );
        check_month(
            1_709_164_800_000,
            (2024, 2),
            "240200",
            "240100",
            "2024-02-29",
        );
        assert_eq!(end_of_next_month(NOV_29_2026).to_string(), "261200");
        assert_eq!(end_of_next_month(1_767_225_599_999).to_string(), "260100");
    }

    #[track_caller]
    fn check_thousands(n: u64, expected: &str) {
        assert_eq!(thousands(n), expected);
    }

    #[test]
    fn thousands_are_grouped() {
        check_thousands(0, "0");
        check_thousands(999, "999");
        check_thousands(1_000, "1,000");
        check_thousands(10_000_000, "10,000,000");
    }

    #[test]
    fn every_verdict_is_explained_with_an_action() {
        for code in ReasonCode::ALL {
            let (meaning, action) = explain(code);
            assert!(meaning.ends_with('.') && action.ends_with('.'), "{code:?}");
        }
    }

    #[test]
    fn too_few_or_too_many_units_are_refused_before_anything_starts() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        for units_total in [0, DEMO_UNITS_MIN - 1, DEMO_UNITS_MAX + 1] {
            let mut out = Vec::new();
            let error = runtime
                .block_on(play(&DemoOptions { units_total }, &mut out))
                .expect_err("out of range");
            assert!(error.to_string().contains("the demo needs"), "{error}");
            assert!(out.is_empty(), "nothing is printed before the check");
        }
    }
}
