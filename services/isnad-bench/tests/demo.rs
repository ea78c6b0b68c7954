//! The demo, played on a small circuit against a ledger started in this process: every case
//! gets the verdict it is there to show, proven offline, and the printed table names it.

use isnad_bench::demo::{DEMO_UNITS_MIN, DemoOptions, play};
use isnad_core::event::ReasonCode;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_expected_verdict_appears_and_is_proven() {
    let mut out = Vec::new();
    let report = play(
        &DemoOptions {
            units_total: 3 * DEMO_UNITS_MIN,
        },
        &mut out,
    )
    .await
    .expect("the demo plays to the end");
    let printed = String::from_utf8(out).expect("the demo prints text");
    let expected = [
        ReasonCode::Genuine,
        ReasonCode::CustodyMismatch,
        ReasonCode::AlreadyDecommissioned,
        ReasonCode::DuplicateSighting,
        ReasonCode::Recalled,
        ReasonCode::UnknownSerial,
        ReasonCode::Expired,
        ReasonCode::InTransit,
        ReasonCode::MalformedScan,
    ];
    let verdicts: Vec<ReasonCode> = report.findings.iter().map(|f| f.verdict).collect();
    assert_eq!(verdicts, expected, "{printed}");
    for finding in &report.findings {
        assert_eq!(finding.verdict, finding.expected, "{}", finding.case);
        assert!(printed.contains(finding.verdict.as_str()), "{printed}");
        let needs_history = finding.verdict != ReasonCode::MalformedScan;
        assert_eq!(
            finding.entries_proven > 0,
            needs_history,
            "{}",
            finding.case
        );
    }
    let sighted = &report.findings[3];
    assert!(
        sighted.reasons.contains(&ReasonCode::AlreadyDecommissioned),
        "{sighted:?}"
    );
    assert!(
        report.expired_commission_refusal.contains("EXPIRED"),
        "{}",
        report.expired_commission_refusal
    );
    assert!(
        report.tree_size > 20,
        "the circuit wrote its events: {}",
        report.tree_size
    );
    assert!(!printed.contains("unexpected"), "{printed}");
}
