//! `isnad scan`: parse a scan and show its fields.

use anyhow::Context as _;
use isnad_core::gs1::year_of_unix_ms;
use isnad_core::scan::{Scan, parse_scan};
use serde_json::{Map, Value, json};

use crate::{Context, Exit, now_unix_ms};

/// Parses `text` and prints its fields; a scan that does not parse is an error naming the
/// field at fault.
pub(crate) fn run(text: &str, context: &Context) -> anyhow::Result<Exit> {
    let scan = parse_scan(text).context("the scan does not parse")?;
    let year = year_of_unix_ms(now_unix_ms());
    let output = &context.output;
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

#[cfg(test)]
mod tests {
    use super::*;

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
