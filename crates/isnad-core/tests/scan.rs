//! The scan parser seen from outside: one table of inputs in the three forms with what each
//! parses to or the AI at fault and the diagnostic, then round trips between the forms.

use isnad_core::gs1::{Gs1Date, Gtin, check_digit};
use isnad_core::scan::{Hint, Problem, SCAN_LEN_MAX, Scan, parse_scan};
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

/// What a row expects: the fields parsed, or the AI at fault and a fragment of the diagnostic
/// (the problem or the hint, as `Display` shows them).
type Expected<'a> = Result<Scan, (Option<&'a str>, &'a str)>;

fn ok(pairs: &[(&str, &str)]) -> Expected<'static> {
    Ok(scan(pairs))
}

fn refused<'a>(ai: Option<&'a str>, fragment: &'a str) -> Expected<'a> {
    Err((ai, fragment))
}

#[track_caller]
fn check(input: &str, expected: Expected<'_>) {
    match (parse_scan(input), expected) {
        (Ok(actual), Ok(expected)) => assert_eq!(actual, expected, "input {input:?}"),
        (Err(error), Err((ai, fragment))) => {
            let shown = error.to_string();
            assert_eq!(error.ai(), ai, "AI at fault for {input:?}: {shown}");
            assert!(
                shown.contains(fragment),
                "input {input:?}: {shown:?} does not say {fragment:?}"
            );
        }
        (actual, expected) => panic!("input {input:?}: got {actual:?}, expected {expected:?}"),
    }
}

#[test]
fn element_strings() {
    let element = format!("01{GTIN}1720122510ABC{GS}21123");
    check(&element, Ok(full()));
    for prefix in ["]d2", "]C1", "]Q3", "]e0", "]J1", "\u{1d}", "]d2\u{1d}"] {
        check(&format!("{prefix}{element}"), Ok(full()));
    }
    // A separator after a predefined-length value, or at the very end, changes nothing.
    check(
        &format!("01{GTIN}{GS}17201225{GS}10ABC{GS}21123{GS}"),
        Ok(full()),
    );
    check(&format!("{element}\r\n"), Ok(full()));
    check(&format!("\t]d2{element}\r"), Ok(full()));
    for substitute in [
        "<GS>", "<gs>", "{GS}", "[GS]", "<FNC1>", "^]", "\\x1d", "\\u001d", "␝",
    ] {
        check(
            &format!("01{GTIN}1720122510ABC{substitute}21123"),
            Ok(full()),
        );
    }
    check(&format!("00{SSCC}"), ok(&[("00", SSCC)]));
    check(&format!("414{GLN}"), ok(&[("414", GLN)]));
    check(&format!("414{GLN}2547"), ok(&[("414", GLN)]));
    check(&format!("00{SSCC}02{GTIN}3712"), ok(&[("00", SSCC)]));
    check(
        &format!("01{GTIN}11250101"),
        ok(&[("01", GTIN), ("11", "250101")]),
    );
    check(
        &format!("01{GTIN}17240229"),
        ok(&[("01", GTIN), ("17", "240229")]),
    );
    check(
        &format!("01{GTIN}17250200"),
        ok(&[("01", GTIN), ("17", "250200")]),
    );
    // Serials and lots are case-sensitive: nothing "corrects" them.
    check(
        &format!("01{GTIN}21abcXYZ"),
        ok(&[("01", GTIN), ("21", "abcXYZ")]),
    );
    check(
        &format!("01{GTIN}3012{GS}711ABC123{GS}21123"),
        ok(&[("01", GTIN), ("21", "123")]),
    );
    check(&format!("01{GTIN}01{GTIN}"), ok(&[("01", GTIN)]));
    // Twenty characters or fewer: a valid lot, indistinguishable from a swallowed serial.
    check(
        &format!("01{GTIN}10ABC21123"),
        ok(&[("01", GTIN), ("10", "ABC21123")]),
    );
}

#[test]
fn element_string_refusals() {
    let element = format!("01{GTIN}1720122510ABC{GS}21123");
    check("", refused(None, "the scan is empty"));
    check(" \r\n", refused(None, "the scan is empty"));
    check("]d2", refused(None, "the scan is empty"));
    check(
        &format!("{element:<SCAN_LEN_MAX$} "),
        refused(None, "the scan is 513 bytes, at most 512"),
    );
    // Dates that do not exist.
    check(
        &format!("01{GTIN}17250229"),
        refused(Some("17"), "29 February does not exist in year 25"),
    );
    check(
        &format!("01{GTIN}17250230"),
        refused(Some("17"), "day 30 does not exist in month 02"),
    );
    check(
        &format!("01{GTIN}17201325"),
        refused(Some("17"), "month 13 is not 01 to 12"),
    );
    check(
        &format!("01{GTIN}172012"),
        refused(Some("17"), "expected 6 digits (YYMMDD), got 4 characters"),
    );
    // Symbology identifiers: Caps Lock, and symbols that carry no GS1 element strings.
    check(
        &format!("]D2{element}"),
        refused(None, "]D2 is ]d2 with its letter's case flipped"),
    );
    check(
        &format!("]c1{element}"),
        refused(None, "Turn Caps Lock off"),
    );
    check(&format!("]q3{element}"), refused(None, "]q3 is ]Q3"));
    check(
        &format!("]d1{element}"),
        refused(
            None,
            "]d1 (plain Data Matrix) does not carry GS1 element strings",
        ),
    );
    check(&format!("]E0{element}"), refused(None, "(EAN-13 or UPC)"));
    check(
        &format!("]X9{element}"),
        refused(None, "Scan the GS1 DataMatrix"),
    );
    check("]d", refused(None, "not a symbology identifier"));
    // Empty elements: two GS in a row.
    check(
        &format!("01{GTIN}10ABC{GS}{GS}21123"),
        refused(None, "two GS separators in a row at position 22"),
    );
    check(
        &format!("{GS}{GS}{element}"),
        refused(None, "an empty element"),
    );
    // Requisite AIs: nothing without the key it qualifies.
    check(
        "21123",
        refused(Some("21"), "AI (21) serial needs a GTIN (01)"),
    );
    check(
        "10ABC",
        refused(Some("10"), "needs a GTIN (01) or a content GTIN (02)"),
    );
    check(&format!("00{SSCC}10ABC"), refused(Some("10"), "needs"));
    check("17201225", refused(Some("17"), "AI (17) expiry needs"));
    check(
        &format!("01{GTIN}250X"),
        refused(Some("250"), "needs a GTIN (01) and a serial (21)"),
    );
    check("2547", refused(Some("254"), "needs a GLN (414)"));
    // Exclusive AIs: a serial and a third-party serial, a GTIN and a content GTIN.
    check(
        &format!("01{GTIN}21A{GS}235B"),
        refused(
            Some("21"),
            "AI (21) serial cannot stand with AI (235) in one scan",
        ),
    );
    check(
        &format!("00{SSCC}01{GTIN}02{GTIN}3712"),
        refused(Some("01"), "cannot stand with AI (02)"),
    );
    check(
        &format!("00{SSCC}0200614141000036"),
        refused(Some("02"), "needs a count (37)"),
    );
    // Values.
    check(
        "01095060001343",
        refused(
            Some("01"),
            "AI (01) GTIN: expected 14 digits, got 12 characters",
        ),
    );
    check(
        "0109506000134353",
        refused(Some("01"), "AI (01) GTIN: check digit is 3, expected 2"),
    );
    check(
        "010950600013435a",
        refused(
            Some("01"),
            "character 'a' at position 13 where a digit belongs",
        ),
    );
    check(
        &format!("01{GTIN}x"),
        refused(None, "expected an AI (digits) at position 16, found 'x'"),
    );
    check(
        &format!("01{GTIN}99ABC"),
        refused(Some("99"), "unknown AI (99)"),
    );
    check(
        &format!("01{GTIN}10{GS}21123"),
        refused(
            Some("10"),
            "AI (10) lot: expected 1 to 20, got 0 characters",
        ),
    );
    check(
        &format!("01{GTIN}10AB#C"),
        refused(Some("10"), "character '#' at position 2 is not allowed"),
    );
    check(
        &format!("01{GTIN}10ABCDEFGHIJKLMNOPQRSTU"),
        refused(
            Some("10"),
            "got 21 characters. Set the scanner to transmit GS",
        ),
    );
    check(
        &format!("01{GTIN}30123456789"),
        refused(Some("30"), "expected 1 to 8 digits, got 9 characters"),
    );
    check(
        &format!("01{GTIN}21A{GS}21B"),
        refused(
            Some("21"),
            "appears twice with different values: \"A\" and \"B\"",
        ),
    );
    // A missing GS: the lot swallowed the serial, then an expiry and a serial.
    check(
        &format!("01{GTIN}10ABCDEF211234567890123456"),
        refused(
            Some("10"),
            "24 characters, at most 20: is a GS separator missing before (21)?",
        ),
    );
    check(
        &format!("01{GTIN}10LOT-2026-0001717201225211234"),
        refused(Some("10"), "is a GS separator missing before (17)?"),
    );
    check(
        &format!("01{GTIN}21SERIAL000000001234510LOT{GS}17201225"),
        refused(
            Some("21"),
            "missing before (10)? Set the scanner to transmit GS",
        ),
    );
}

#[test]
fn bracketed() {
    check("(01)09506000134352(17)201225(10)ABC(21)123", Ok(full()));
    check(
        "]d2(01)09506000134352(17)201225(10)ABC(21)123\r\n",
        Ok(full()),
    );
    check(&format!("(00){SSCC}"), ok(&[("00", SSCC)]));
    check(
        &format!("(414){GLN}(01){GTIN}"),
        ok(&[("01", GTIN), ("414", GLN)]),
    );
    // Brackets that do not enclose digits belong to the value.
    check(
        &format!("(01){GTIN}(10)A(B)"),
        ok(&[("01", GTIN), ("10", "A(B)")]),
    );
    check(
        &format!("(01){GTIN}(17)240229"),
        ok(&[("01", GTIN), ("17", "240229")]),
    );
    // A GTIN-13 under (01) is not a GTIN-14 missing its zero: refused, not padded.
    check(
        "(01)9506000134352(17)201225(10)ABC(21)123",
        refused(
            Some("01"),
            "expected 14 digits, got 13 characters. Type the bracketed form",
        ),
    );
    check(
        "(01) 09506000134352 (17) 201225",
        refused(None, "a space at position 4 of the bracketed form"),
    );
    check(
        &format!("(01){GTIN} (21)123"),
        refused(None, "no spaces, the GTIN with its 14 digits"),
    );
    check(
        &format!("(01){GTIN}(10)ABC<GS>(21)123"),
        refused(Some("10"), "AI (10) lot: character '\\u{1d}' at position 3"),
    );
    check(
        &format!("(01){GTIN}(17)250229"),
        refused(Some("17"), "29 February does not exist"),
    );
    check("(21)123", refused(Some("21"), "needs a GTIN (01)"));
    check("(99)123", refused(Some("99"), "unknown AI (99)"));
    check(
        "(01",
        refused(None, "the AI opened at position 0 is not closed"),
    );
    check(
        &format!("(O1){GTIN}"),
        refused(None, "expected an AI (digits) at position 1, found 'O'"),
    );
    check(
        &format!("(01){GTIN}(21)"),
        refused(Some("21"), "expected 1 to 20, got 0 characters"),
    );
    check(
        &format!("(01){GTIN}(21)1(21)2"),
        refused(Some("21"), "appears twice with different values"),
    );
}

#[test]
fn digital_links() {
    let link = format!("{BASE}/01/{GTIN}/10/ABC/21/123?17=201225");
    check(&link, Ok(full()));
    check(&format!("{link}\r\n"), Ok(full()));
    check(&format!("]Q1{link}"), Ok(full()));
    check(&format!("]d1{link}"), Ok(full()));
    // A QR code in alphanumeric mode writes the whole URI in upper case.
    check(
        "HTTPS://ID.ISNAD.MA/01/09506000134352/10/ABC/21/123?17=201225",
        Ok(full()),
    );
    check(
        &format!("https://example.com/2026/01/01/{GTIN}/21/123"),
        ok(&[("01", GTIN), ("21", "123")]),
    );
    // The standard lets a Digital Link carry GTIN-13, -12 and -8.
    check("https://x.example/01/9506000134352", ok(&[("01", GTIN)]));
    check(
        "https://x.example/01/614141000036",
        ok(&[("01", "00614141000036")]),
    );
    check(
        "https://x.example/01/96385074",
        ok(&[("01", "00000096385074")]),
    );
    check(
        &format!("{BASE}/01/{GTIN}/21/a%2Fb%25c?11=250101#top"),
        ok(&[("01", GTIN), ("21", "a/b%c"), ("11", "250101")]),
    );
    check(&format!("{BASE}/00/{SSCC}"), ok(&[("00", SSCC)]));
    check(
        &format!("{BASE}/00/{SSCC}?02={GTIN}&37=12"),
        ok(&[("00", SSCC)]),
    );
    check(
        &format!("{BASE}/01/{GTIN}/22/V1/10/ABC/21/123?linkType=all&17=201225"),
        Ok(full()),
    );
    check(&format!("{BASE}/01/{GTIN}/235/X1"), ok(&[("01", GTIN)]));
    check(&format!("{BASE}/414/{GLN}/254/7"), ok(&[("414", GLN)]));
    check(&format!("{BASE}/01/{GTIN}?240=A%2BB"), ok(&[("01", GTIN)]));
}

#[test]
fn digital_link_refusals() {
    let link = format!("{BASE}/01/{GTIN}/10/ABC/21/123?17=201225");
    check(
        "hTTPS://iD.ISNAD.MA/01/09506000134352/21/aBc",
        refused(
            None,
            "scheme \"hTTPS\" mixes upper and lower case. Turn Caps Lock off",
        ),
    );
    check(&format!("]D1{link}"), refused(None, "]D1 is ]d1"));
    check(
        &format!("]d2{link}"),
        refused(
            None,
            "]d2 (GS1 DataMatrix) does not carry a Digital Link URI",
        ),
    );
    check(
        &format!("]Q3{link}"),
        refused(None, "does not carry a Digital Link URI"),
    );
    check(
        &format!("{BASE}/01/{GTIN}/21/123/"),
        refused(None, "the path ends with '/'"),
    );
    // Key qualifiers in the path, in order, never in the query.
    check(
        &format!("{BASE}/01/{GTIN}?21=123"),
        refused(
            Some("21"),
            "AI (21) serial is a key qualifier: it belongs in the path",
        ),
    );
    check(
        &format!("{BASE}/01/{GTIN}?10=ABC"),
        refused(Some("10"), "not the query"),
    );
    check(
        &format!("{BASE}/01/{GTIN}/21/123/10/ABC"),
        refused(
            Some("10"),
            "AI (10) lot cannot follow (21) in the path; the order is (22), (10), (21)",
        ),
    );
    check(
        &format!("{BASE}/01/{GTIN}/10/ABC/22/V1"),
        refused(Some("22"), "cannot follow (10)"),
    );
    check(
        &format!("{BASE}/01/{GTIN}/21/123/235/X1"),
        refused(Some("235"), "cannot follow (21)"),
    );
    check(
        &format!("{BASE}/01/{GTIN}/01/{GTIN}"),
        refused(Some("01"), "cannot follow (01)"),
    );
    // Data attributes in the query, never in the path.
    check(
        &format!("{BASE}/01/{GTIN}/17/201225"),
        refused(
            Some("17"),
            "AI (17) expiry is a data attribute: it belongs in the query",
        ),
    );
    check(
        &format!("{BASE}/00/{SSCC}/10/ABC"),
        refused(Some("10"), "is a data attribute"),
    );
    check(
        &format!("{BASE}/01/{GTIN}?17=201225&17=201225"),
        refused(Some("17"), "AI (17) expiry is given twice"),
    );
    check(
        &format!("{BASE}/01/{GTIN}/21/1?21=2"),
        refused(Some("21"), "is a key qualifier"),
    );
    check(
        &format!("{BASE}/01/{GTIN}?240=A+B"),
        refused(Some("240"), "has a '+', which a query reads as a space"),
    );
    check(
        &format!("{BASE}/01/{GTIN}?17=250229"),
        refused(Some("17"), "29 February does not exist"),
    );
    check(
        &format!("{BASE}/00/{SSCC}?10=L1"),
        refused(Some("10"), "needs"),
    );
    check(
        "https://id.isnad.ma/products/123",
        refused(
            None,
            "no primary key (/01/{gtin}, /00/{sscc} or /414/{gln})",
        ),
    );
    check("https://id.isnad.ma/01", refused(None, "no primary key"));
    check(
        "https://id.isnad.ma/01/09506000134353",
        refused(Some("01"), "check digit is 3, expected 2"),
    );
    check(
        "https://id.isnad.ma/01/950600013",
        refused(Some("01"), "expected 14 digits, got 9 characters"),
    );
    check(
        &format!("{BASE}/01/{GTIN}/21/A%2"),
        refused(Some("21"), "value \"A%2\" is not valid percent-encoding"),
    );
    check(
        &format!("{BASE}/01/{GTIN}?99=1"),
        refused(Some("99"), "unknown AI (99)"),
    );
    check(
        &format!("{BASE}/01/{GTIN}?17=2012"),
        refused(Some("17"), "got 4 characters"),
    );
}

/// The diagnostic is one sentence for the problem and one for what to do, and carries the AI
/// and the hint as data for callers that show them apart.
#[test]
fn diagnostics_are_sentences_with_structure() {
    let error = parse_scan(&format!("]D201{GTIN}21abc")).expect_err("Caps Lock");
    assert_eq!(
        error.to_string(),
        "symbology identifier ]D2 is ]d2 with its letter's case flipped: the scanner types in \
         Caps Lock. Turn Caps Lock off on the scanner or its keyboard, then rescan: serials and \
         lots read now have their letters flipped"
    );
    assert_eq!((error.ai(), error.hint()), (None, Hint::CheckCapsLock));
    assert_eq!(error.hint().code(), "check_caps_lock");
    let error = parse_scan(&format!("01{GTIN}17250229")).expect_err("no 29 February in 2025");
    assert_eq!(
        error.to_string(),
        "AI (17) expiry: 29 February does not exist in year 25, not a leap year. Rescan the \
         label; if it reads the same again, the label itself is faulty: report it"
    );
    assert_eq!((error.ai(), error.hint()), (Some("17"), Hint::Rescan));
    let error = parse_scan(&"0".repeat(10_000)).expect_err("far over the limit");
    assert_eq!(error.problem(), &Problem::TooLong { len: 10_000 });
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
        // A lot, serial or date qualifies a GTIN: without one the scan is refused.
        let has_gtin = gtin.is_some();
        Scan {
            gtin: gtin.map(|v| v.parse().expect("check digit computed")),
            sscc: sscc.map(|v| v.parse().expect("check digit computed")),
            gln: gln.map(|v| v.parse().expect("check digit computed")),
            lot: lot.filter(|_| has_gtin).map(|v| v.parse().expect("charset 82")),
            serial: serial.filter(|_| has_gtin).map(|v| v.parse().expect("charset 82")),
            expiry: expiry.filter(|_| has_gtin),
            production_date: production_date.filter(|_| has_gtin),
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
    fn thirteen_digit_gtin_is_padded_only_in_a_digital_link(body in digits(12)) {
        let gtin13 = with_check_digit(body);
        let expected = Gtin::try_from(format!("0{gtin13}")).expect("same check digit");
        let link = format!("https://id.isnad.ma/01/{gtin13}");
        prop_assert_eq!(parse_scan(&link).map(|s| s.gtin), Ok(Some(expected)));
        let error = parse_scan(&format!("(01){gtin13}")).expect_err("(01) takes 14 digits");
        prop_assert_eq!(error.ai(), Some("01"));
    }
}
