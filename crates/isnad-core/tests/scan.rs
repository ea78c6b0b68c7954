//! The scan parser seen from outside: one table of inputs in the three forms, the errors a
//! user sees, and round trips between the forms.

use isnad_core::gs1::{Gs1Date, Gtin, check_digit};
use isnad_core::scan::{SCAN_LEN_MAX, Scan, ScanError, parse_scan};
use proptest::prelude::*;

const GTIN: &str = "09506000134352";
const SSCC: &str = "106141411234567897";
const GLN: &str = "0614141000005";
const BASE: &str = "https://id.isnad.ma";
const GS: char = '\u{1d}';

/// A scan built from `(AI, value)` pairs with the gs1 types' own parsers, not the scan parser.
fn scan(pairs: &[(&str, &str)]) -> Scan {
    let mut scan = Scan::default();
    for (ai, value) in pairs {
        match *ai {
            "00" => scan.sscc = Some(value.parse().expect("test SSCC is valid")),
            "01" => scan.gtin = Some(value.parse().expect("test GTIN is valid")),
            "10" => scan.lot = Some(value.parse().expect("test lot is valid")),
            "11" => scan.production_date = Some(Gs1Date::parse_for(value, "11").expect("date")),
            "17" => scan.expiry = Some(value.parse().expect("test expiry is valid")),
            "21" => scan.serial = Some(value.parse().expect("test serial is valid")),
            "414" => scan.gln = Some(value.parse().expect("test GLN is valid")),
            other => panic!("the test helper does not know AI {other}"),
        }
    }
    scan
}

/// The unit used across the table: GTIN, expiry, lot and serial.
fn full() -> Scan {
    scan(&[("01", GTIN), ("17", "201225"), ("10", "ABC"), ("21", "123")])
}

#[track_caller]
fn check(input: &str, expected: Result<Scan, &str>) {
    let actual = parse_scan(input).map_err(|error| error.to_string());
    assert_eq!(actual, expected.map_err(str::to_owned), "input {input:?}");
}

#[test]
fn element_strings() {
    let element = format!("01{GTIN}1720122510ABC{GS}21123");
    check(&element, Ok(full()));
    for prefix in ["]d2", "]C1", "]Q3", "]e0", "\u{1d}", "]d2\u{1d}"] {
        check(&format!("{prefix}{element}"), Ok(full()));
    }
    // Fixed-length values need no separator, but a superfluous one is harmless.
    check(
        &format!("01{GTIN}{GS}17201225{GS}10ABC{GS}21123"),
        Ok(full()),
    );
    check(&format!("00{SSCC}"), Ok(scan(&[("00", SSCC)])));
    check(&format!("414{GLN}"), Ok(scan(&[("414", GLN)])));
    check(
        &format!("01{GTIN}11250101"),
        Ok(scan(&[("01", GTIN), ("11", "250101")])),
    );
    // Serials and lots are case-sensitive: a scanner in Caps Lock must not be "corrected".
    check(
        &format!("01{GTIN}21abcXYZ"),
        Ok(scan(&[("01", GTIN), ("21", "abcXYZ")])),
    );
    // AIs the scan does not keep are checked, then dropped.
    check(
        &format!("01{GTIN}3012{GS}21123"),
        Ok(scan(&[("01", GTIN), ("21", "123")])),
    );
    check(
        &format!("01{GTIN}711ABC123{GS}21123"),
        Ok(scan(&[("01", GTIN), ("21", "123")])),
    );
    // The same AI twice with the same value adds nothing and is not an error.
    check(&format!("01{GTIN}01{GTIN}"), Ok(scan(&[("01", GTIN)])));
}

#[test]
fn keyboard_wedge_repairs() {
    let element = format!("01{GTIN}1720122510ABC{GS}21123");
    check(&format!("{element}\r\n"), Ok(full()));
    check(&format!("  {element}\n"), Ok(full()));
    check(&format!("\t]d2{element}\r"), Ok(full()));
    let substitutes = [
        "<GS>", "<gs>", "{GS}", "[GS]", "<FNC1>", "^]", "\\x1d", "\\X1D", "\\u001d", "␝",
    ];
    for substitute in substitutes {
        check(
            &format!("01{GTIN}1720122510ABC{substitute}21123"),
            Ok(full()),
        );
    }
    check(
        &format!("<GS>01{GTIN}17201225"),
        Ok(scan(&[("01", GTIN), ("17", "201225")])),
    );
}

#[test]
fn element_string_errors() {
    check("", Err("the scan is empty"));
    check(" \r\n", Err("the scan is empty"));
    check("]d2", Err("the scan is empty"));
    check(
        "01095060001343",
        Err("AI (01) GTIN: expected 14 digits, got 12 characters"),
    );
    check(
        "0109506000134353",
        Err("AI (01) GTIN: check digit is 3, expected 2"),
    );
    check(
        "010950600013435a",
        Err("AI (01) GTIN: character 'a' at position 13 where a digit belongs"),
    );
    check(
        &format!("01{GTIN}x"),
        Err("expected an AI (digits) at position 16, found 'x'"),
    );
    check(&format!("01{GTIN}99ABC"), Err("unknown AI (99)"));
    check(
        &format!("01{GTIN}17201325"),
        Err("AI (17) expiry: month 13 is not 01 to 12"),
    );
    check(
        &format!("01{GTIN}172012"),
        Err("AI (17) expiry: expected 6 digits (YYMMDD), got 4 characters"),
    );
    check(
        &format!("01{GTIN}10{GS}21123"),
        Err("AI (10) lot: expected 1 to 20, got 0 characters"),
    );
    check(
        &format!("01{GTIN}10AB#C"),
        Err("AI (10) lot: character '#' at position 2 is not allowed"),
    );
    check(
        &format!("01{GTIN}10ABCDEFGHIJKLMNOPQRSTU"),
        Err("AI (10) lot: expected 1 to 20, got 21 characters"),
    );
    check(
        &format!("01{GTIN}30123456789"),
        Err("AI (30) variable count: expected 1 to 8 digits, got 9 characters"),
    );
    check(
        &format!("01{GTIN}00106141411234567897{GS}01{GTIN}21A{GS}21B"),
        Err("AI (21) appears twice with different values: \"A\" and \"B\""),
    );
    check(
        &format!("01{GTIN}0100614141000036"),
        Err(
            "AI (01) appears twice with different values: \"09506000134352\" and \"00614141000036\"",
        ),
    );
}

#[test]
fn missing_separator_is_named_when_the_value_is_too_long() {
    // The lot swallowed the serial: 6 + 2 + 16 = 24 characters.
    check(
        &format!("01{GTIN}10ABCDEF211234567890123456"),
        Err("AI (10) lot: 24 characters, at most 20: is a GS separator missing before (21)?"),
    );
    // The lot swallowed an expiry and a serial.
    check(
        &format!("01{GTIN}10LOT-2026-0001717201225211234"),
        Err("AI (10) lot: 28 characters, at most 20: is a GS separator missing before (17)?"),
    );
    // A serial that swallows a lot after a real separator further on.
    check(
        &format!("01{GTIN}21SERIAL000000001234510LOT{GS}17201225"),
        Err("AI (21) serial: 24 characters, at most 20: is a GS separator missing before (10)?"),
    );
    // Twenty characters or fewer: a valid lot, indistinguishable from a swallowed serial.
    check(
        &format!("01{GTIN}10ABC21123"),
        Ok(scan(&[("01", GTIN), ("10", "ABC21123")])),
    );
}

#[test]
fn scan_length_limit() {
    let element = format!("01{GTIN}17201225");
    let padded = format!("{element:<SCAN_LEN_MAX$}");
    assert_eq!(padded.len(), SCAN_LEN_MAX);
    check(&padded, Ok(scan(&[("01", GTIN), ("17", "201225")])));
    check(
        &format!("{padded} "),
        Err("the scan is 513 bytes, at most 512"),
    );
    let error = parse_scan(&"0".repeat(10_000)).expect_err("far over the limit");
    assert_eq!(error, ScanError::TooLong { len: 10_000 });
}

#[test]
fn human_readable() {
    check("(01)09506000134352(17)201225(10)ABC(21)123", Ok(full()));
    check(
        "(01) 09506000134352 (17) 201225 (10) ABC (21) 123\r\n",
        Ok(full()),
    );
    check("(01)09506000134352(17)201225(10)ABC<GS>(21)123", Ok(full()));
    // A GTIN-14 that lost its leading zero.
    check("(01)9506000134352(17)201225(10)ABC(21)123", Ok(full()));
    check(
        "(01)9506000134353",
        Err("AI (01) GTIN: check digit is 3, expected 2"),
    );
    check(
        "(01)950600013435",
        Err("AI (01) GTIN: expected 14 digits, got 12 characters"),
    );
    check("(00)106141411234567897", Ok(scan(&[("00", SSCC)])));
    check(
        "(414)0614141000005(01)09506000134352",
        Ok(scan(&[("01", GTIN), ("414", GLN)])),
    );
    // Brackets that do not enclose digits belong to the value.
    check(
        "(01)09506000134352(10)A(B)",
        Ok(scan(&[("01", GTIN), ("10", "A(B)")])),
    );
    check("(99)123", Err("unknown AI (99)"));
    check(
        "(01",
        Err("the AI opened at position 0 is not closed with ')'"),
    );
    check(
        "(O1)09506000134352",
        Err("expected an AI (digits) at position 1, found 'O'"),
    );
    check(
        "(01)09506000134352(17)201232",
        Err("AI (17) expiry: day 32 does not exist in month 12"),
    );
    check(
        "(01)09506000134352(21)",
        Err("AI (21) serial: expected 1 to 20, got 0 characters"),
    );
    check(
        "(01)09506000134352(21)1(21)2",
        Err("AI (21) appears twice with different values: \"1\" and \"2\""),
    );
}

#[test]
fn digital_links() {
    let link = format!("{BASE}/01/{GTIN}/10/ABC/21/123?17=201225");
    check(&link, Ok(full()));
    check(&format!("{link}\r\n"), Ok(full()));
    check(&format!("]Q1{link}"), Ok(full()));
    check(
        "HTTPS://ID.ISNAD.MA/01/09506000134352/10/ABC/21/123?17=201225",
        Ok(full()),
    );
    // A case-inverting scanner: the scheme and host change case, the serial keeps what it sent.
    check(
        "hTTPS://iD.ISNAD.MA/01/09506000134352/21/aBc",
        Ok(scan(&[("01", GTIN), ("21", "aBc")])),
    );
    check(
        "http://example.com/products/gs1/01/09506000134352/21/123/10/ABC?linkType=all&17=201225",
        Ok(full()),
    );
    // A path prefix that itself contains "01" is skipped.
    check(
        "https://example.com/2026/01/01/09506000134352/21/123",
        Ok(scan(&[("01", GTIN), ("21", "123")])),
    );
    // GTIN-13, -12 and -8 are padded to 14 digits.
    check(
        "https://x.example/01/9506000134352",
        Ok(scan(&[("01", GTIN)])),
    );
    check(
        "https://x.example/01/614141000036",
        Ok(scan(&[("01", "00614141000036")])),
    );
    check(
        "https://x.example/01/96385074",
        Ok(scan(&[("01", "00000096385074")])),
    );
    check(
        "https://x.example/01/09506000134352/21/a%2Fb%25c?11=250101#top",
        Ok(scan(&[("01", GTIN), ("21", "a/b%c"), ("11", "250101")])),
    );
    check(&format!("{BASE}/00/{SSCC}"), Ok(scan(&[("00", SSCC)])));
    // A '+' is a GS1 character, not a space, in a Digital Link query.
    check(
        &format!("{BASE}/01/{GTIN}?10=A+B"),
        Ok(scan(&[("01", GTIN), ("10", "A+B")])),
    );
    // Data attributes in the path instead of the query: lenient.
    check(
        &format!("{BASE}/01/{GTIN}/17/201225"),
        Ok(scan(&[("01", GTIN), ("17", "201225")])),
    );
    check(
        &format!("{BASE}/414/{GLN}/254/7"),
        Ok(scan(&[("414", GLN)])),
    );
}

#[test]
fn digital_link_errors() {
    check(
        "https://id.isnad.ma/products/123",
        Err("Digital Link: no primary key (/01/{gtin}, /00/{sscc} or /414/{gln}) in the path"),
    );
    check(
        "https://id.isnad.ma/01",
        Err("Digital Link: no primary key (/01/{gtin}, /00/{sscc} or /414/{gln}) in the path"),
    );
    check(
        "https://id.isnad.ma/01/09506000134353",
        Err("AI (01) GTIN: check digit is 3, expected 2"),
    );
    check(
        "https://id.isnad.ma/01/9506000134353",
        Err("AI (01) GTIN: check digit is 3, expected 2"),
    );
    check(
        "https://id.isnad.ma/01/950600013",
        Err("AI (01) GTIN: expected 14 digits, got 9 characters"),
    );
    check(
        "https://id.isnad.ma/01/09506000134352/21/A%2",
        Err("Digital Link: AI (21) value \"A%2\" is not valid percent-encoding"),
    );
    check(
        "https://id.isnad.ma/01/09506000134352/21/A%ZZ",
        Err("Digital Link: AI (21) value \"A%ZZ\" is not valid percent-encoding"),
    );
    check(
        "https://id.isnad.ma/01/09506000134352?99=1",
        Err("unknown AI (99)"),
    );
    check(
        "https://id.isnad.ma/01/09506000134352?17=2012",
        Err("AI (17) expiry: expected 6 digits (YYMMDD), got 4 characters"),
    );
    check(
        "https://id.isnad.ma/01/09506000134352/21/1?21=2",
        Err("AI (21) appears twice with different values: \"1\" and \"2\""),
    );
}

#[test]
fn unit_needs_gtin_and_serial() {
    let unit = full().unit().expect("GTIN and serial name a unit");
    assert_eq!((unit.gtin.as_str(), unit.serial.as_str()), (GTIN, "123"));
    assert_eq!(scan(&[("01", GTIN), ("10", "ABC")]).unit(), None);
    assert_eq!(scan(&[("21", "123")]).unit(), None);
}

#[test]
fn rendering() {
    let unit = full();
    assert_eq!(
        unit.to_element_string(),
        format!("01{GTIN}1720122510ABC{GS}21123")
    );
    assert_eq!(
        unit.to_human_readable(),
        format!("(01){GTIN}(17)201225(10)ABC(21)123")
    );
    assert_eq!(
        unit.to_digital_link(BASE),
        format!("{BASE}/01/{GTIN}/10/ABC/21/123?17=201225")
    );
    assert_eq!(
        unit.to_digital_link("https://id.isnad.ma/"),
        unit.to_digital_link(BASE)
    );
    let case = scan(&[("00", SSCC), ("10", "L/1")]);
    assert_eq!(case.to_element_string(), format!("00{SSCC}10L/1"));
    assert_eq!(
        case.to_digital_link(BASE),
        format!("{BASE}/00/{SSCC}?10=L%2F1")
    );
}

#[test]
fn digital_link_and_element_string_of_one_unit_agree() {
    let link = format!("{BASE}/01/{GTIN}/10/ABC/21/123?17=201225");
    let element = format!("]d2{GS}01{GTIN}17201225{GS}10ABC{GS}21123\r\n");
    let from_link = parse_scan(&link).expect("valid link");
    let from_element = parse_scan(&element).expect("valid element string");
    assert_eq!(from_link, from_element);
    assert_eq!(
        parse_scan(&from_link.to_element_string()),
        Ok(from_element.clone())
    );
    assert_eq!(from_element.to_digital_link(BASE), link);
}

fn digits(len: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(0u8..10, len)
        .prop_map(|digits| digits.iter().map(|d| char::from(b'0' + d)).collect())
}

fn with_check_digit(body: String) -> String {
    let check = check_digit(body.as_bytes());
    format!("{body}{}", char::from(check))
}

fn charset82_text() -> impl Strategy<Value = String> {
    "[A-Za-z0-9!\"%&'()*+,\\-./:;<=>?_]{1,20}"
}

fn date() -> impl Strategy<Value = Gs1Date> {
    (0u8..100, 1u8..13, 0u8..29).prop_map(|(yy, mm, dd)| {
        format!("{yy:02}{mm:02}{dd:02}")
            .parse()
            .expect("valid date")
    })
}

prop_compose! {
    fn any_scan()(
        gtin in proptest::option::of(digits(13).prop_map(with_check_digit)),
        sscc in proptest::option::of(digits(17).prop_map(with_check_digit)),
        gln in proptest::option::of(digits(12).prop_map(with_check_digit)),
        lot in proptest::option::of(charset82_text()),
        serial in proptest::option::of(charset82_text()),
        expiry in proptest::option::of(date()),
        production_date in proptest::option::of(date()),
    ) -> Scan {
        Scan {
            gtin: gtin.map(|v| v.parse().expect("check digit computed")),
            sscc: sscc.map(|v| v.parse().expect("check digit computed")),
            gln: gln.map(|v| v.parse().expect("check digit computed")),
            lot: lot.map(|v| v.parse().expect("charset 82")),
            serial: serial.map(|v| v.parse().expect("charset 82")),
            expiry,
            production_date,
        }
    }
}

/// Whether `text` holds something the human-readable form reads as an AI in brackets.
fn has_bracketed_digits(text: &str) -> bool {
    text.split('(').skip(1).any(|after| {
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        (2..=4).contains(&digits) && after[digits..].starts_with(')')
    })
}

proptest! {
    #[test]
    fn element_string_round_trip(scan in any_scan()) {
        prop_assume!(scan != Scan::default());
        let values = [scan.lot.as_ref().map(|v| v.as_str()), scan.serial.as_ref().map(|v| v.as_str())];
        prop_assume!(values.iter().flatten().all(|v| !v.to_ascii_uppercase().contains("<GS>") && !v.to_ascii_uppercase().contains("<FNC1>")));
        prop_assert_eq!(parse_scan(&scan.to_element_string()), Ok(scan));
    }

    #[test]
    fn human_readable_round_trip(scan in any_scan()) {
        prop_assume!(scan != Scan::default());
        let values = [scan.lot.as_ref().map(|v| v.as_str()), scan.serial.as_ref().map(|v| v.as_str())];
        prop_assume!(values.iter().flatten().all(|v| !has_bracketed_digits(v) && !v.to_ascii_uppercase().contains("<GS>") && !v.to_ascii_uppercase().contains("<FNC1>")));
        prop_assert_eq!(parse_scan(&scan.to_human_readable()), Ok(scan));
    }

    #[test]
    fn digital_link_round_trip(scan in any_scan()) {
        prop_assume!(scan.gtin.is_some() || scan.sscc.is_some() || scan.gln.is_some());
        let link = scan.to_digital_link("https://id.isnad.ma/p/01");
        let parsed = parse_scan(&link);
        prop_assert_eq!(&parsed, &Ok(scan.clone()));
        let element = parsed.expect("checked above").to_element_string();
        prop_assert_eq!(parse_scan(&element).map(|s| s.to_digital_link("https://id.isnad.ma/p/01")), Ok(link));
    }

    #[test]
    fn no_input_panics(input in "\\PC{0,600}") {
        let _ = parse_scan(&input);
    }

    /// Random text built from the pieces the three forms are made of reaches deeper than
    /// arbitrary Unicode does.
    #[test]
    fn no_structured_input_panics(
        input in "(]d2|https://h/|HTTP://H/p/)?([0-9]{1,4}|[()%/?=&#+]|[a-zA-Z]{1,3}|\u{1d}|<GS>|\\^\\]|%[0-9A-Fa-f]{2}){0,60}",
    ) {
        let _ = parse_scan(&input);
    }

    #[test]
    fn thirteen_digit_gtin_is_padded_only_when_its_check_digit_holds(body in digits(12)) {
        let gtin13 = with_check_digit(body);
        let expected = Gtin::try_from(format!("0{gtin13}")).expect("same check digit");
        prop_assert_eq!(parse_scan(&format!("(01){gtin13}")).map(|s| s.gtin), Ok(Some(expected)));
    }
}
