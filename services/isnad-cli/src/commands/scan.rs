//! `isnad scan`: parse a scan and show its fields, or what is wrong with it.

use isnad_core::gs1::year_of_unix_ms;
use isnad_core::scan::{Scan, ScanError, parse_scan};
use serde_json::{Map, Value, json};

use crate::{Context, Exit, now_unix_ms};

/// Parses `text` and prints its fields. A scan that does not parse prints its diagnostic (the
/// problem, the AI at fault, what to do) on stderr, or as JSON on stdout with `--json`, and
/// ends in [`Exit::Failure`].
pub(crate) fn run(text: &str, context: &Context) -> anyhow::Result<Exit> {
    let output = &context.output;
    let scan = match parse_scan(text) {
        Ok(scan) => scan,
        Err(error) if output.json => {
            output.json_line(&diagnostic_json(&error));
            return Ok(Exit::Failure);
        }
        Err(error) => {
            for line in diagnostic_lines(&error) {
                eprintln!("{line}");
            }
            return Ok(Exit::Failure);
        }
    };
    let year = year_of_unix_ms(now_unix_ms());
    if output.json {
        output.json_line(&fields_json(&scan, year));
        return Ok(Exit::Success);
    }
    let rows: Vec<(&str, String)> = fields(&scan, year)
        .into_iter()
        .filter_map(|(label, value)| value.map(|value| (label, value)))
        .collect();
    output.fields(&rows);
    Ok(Exit::Success)
}

/// Every field of a scan, by label, with dates in ISO form (the century resolved against
/// `year`).
fn fields(scan: &Scan, year: i32) -> Vec<(&'static str, Option<String>)> {
    vec![
        ("gtin", scan.gtin.map(|v| v.to_string())),
        ("serial", scan.serial.as_ref().map(ToString::to_string)),
        ("lot", scan.lot.as_ref().map(ToString::to_string)),
        ("expiry", scan.expiry.map(|d| d.to_iso(year))),
        (
            "production_date",
            scan.production_date.map(|d| d.to_iso(year)),
        ),
        ("sscc", scan.sscc.map(|v| v.to_string())),
        ("gln", scan.gln.map(|v| v.to_string())),
    ]
}

/// The JSON form: `gtin`, `serial`, `lot`, `expiry`, `sscc`, `gln`, absent fields omitted.
fn fields_json(scan: &Scan, year: i32) -> Value {
    let object: Map<String, Value> = fields(scan, year)
        .into_iter()
        .filter(|(label, _)| *label != "production_date")
        .filter_map(|(label, value)| value.map(|value| (label.to_owned(), json!(value))))
        .collect();
    Value::Object(object)
}

/// The diagnostic for people: what is wrong, the AI at fault, what to do.
fn diagnostic_lines(error: &ScanError) -> Vec<String> {
    let ai = error
        .ai()
        .map_or_else(|| "none".to_owned(), |ai| format!("({ai})"));
    vec![
        "isnad: the scan does not parse".to_owned(),
        format!("  problem     {}", error.problem()),
        format!("  AI          {ai}"),
        format!("  what to do  {}", error.hint()),
    ]
}

/// The diagnostic for scripts: `error` (the whole sentence), `ai` (null when none),
/// `problem`, `hint` (a stable code) and `advice` (the hint in words).
fn diagnostic_json(error: &ScanError) -> Value {
    json!({
        "error": error.to_string(),
        "ai": error.ai(),
        "problem": error.problem().to_string(),
        "hint": error.hint().code(),
        "advice": error.hint().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_scan_shows_the_ai_at_fault_and_what_to_do() {
        let error = parse_scan("(01)09506000134352(17)250229(21)S1").expect_err("no 29 Feb 2025");
        assert_eq!(
            diagnostic_lines(&error),
            [
                "isnad: the scan does not parse",
                "  problem     AI (17) expiry: 29 February does not exist in year 25, not a leap year",
                "  AI          (17)",
                "  what to do  Rescan the label; if it reads the same again, the label itself is faulty: report it",
            ]
        );
        let error = parse_scan("]D20109506000134352").expect_err("Caps Lock");
        let json = diagnostic_json(&error);
        assert_eq!(json["ai"], Value::Null);
        assert_eq!(json["hint"], "check_caps_lock");
        assert_eq!(json["error"], error.to_string());
        assert!(
            json["problem"]
                .as_str()
                .is_some_and(|problem| problem.contains("]D2 is ]d2")),
            "{json}"
        );
        assert_eq!(diagnostic_lines(&error)[2], "  AI          none");
    }

    #[track_caller]
    fn check(text: &str, expected: Value) {
        let scan = parse_scan(text).expect("a valid scan");
        assert_eq!(fields_json(&scan, 2026), expected, "{text}");
    }

    #[test]
    fn the_json_form_omits_absent_fields_and_writes_iso_dates() {
        check(
            "(01)09506000134352(17)280200(10)ABC(21)S1",
            json!({"gtin": "09506000134352", "serial": "S1", "lot": "ABC", "expiry": "2028-02-29"}),
        );
        check(
            "(00)106141411234567897",
            json!({"sscc": "106141411234567897"}),
        );
        check(
            "https://id.example/01/09506000134352/21/X1?17=261231",
            json!({"gtin": "09506000134352", "serial": "X1", "expiry": "2026-12-31"}),
        );
    }
}
