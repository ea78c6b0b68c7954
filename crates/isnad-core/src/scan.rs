//! One parser for the three forms in which a handheld meets a GS1 identifier.
//!
//! - Element strings, as a barcode scanner sends them: application identifiers (AIs) and values
//!   run together, with a group separator (GS, ASCII 29, the FNC1 of the symbol) after each
//!   variable-length value that is not the last. An optional symbology identifier (`]d2`, `]C1`,
//!   `]Q3`, `]e0`, ...) and a leading GS are skipped.
//! - The human-readable form printed under a symbol: `(01)09506000134352(17)201225(10)ABC`.
//! - GS1 Digital Link URIs on any host, with any path prefix:
//!   `https://id.isnad.ma/01/09506000134352/10/ABC/21/123?17=201225`.
//!
//! All three parse to one [`Scan`], and a `Scan` renders back to each form.
//!
//! Scanners make mistakes, and about one percent of EU FMD pharmacy scans raise false alerts
//! because of them. The parser repairs what it can repair without guessing:
//! - whitespace (CR, LF, tab, space) that keyboard-wedge scanners add before or after a scan;
//! - printable stand-ins for GS that scanners are often set up to send: `<GS>`, `{GS}`, `[GS]`,
//!   `<FNC1>`, `^]`, the text `\x1d` or `\u001d`, and `␝` (U+241D), in any letter case;
//! - a scheme and host in the wrong letter case (`HTTPS://ID.ISNAD.MA/...`), which a scanner in
//!   Caps Lock produces; serials and lots are case-sensitive, so their case is always kept;
//! - a GTIN that lost its leading zero (13 digits in a human-readable `(01)` field), and a
//!   GTIN-8, -12 or -13 in a Digital Link, which the standard allows: left-padded with zeros to
//!   14 digits, then the check digit is checked.
//!
//! Everything else is an error that names the AI and the problem. A wrong check digit is never
//! repaired.
//!
//! A missing GS after a lot or serial makes that value swallow the fields after it. When the
//! swallowed value is longer than 20 characters and what follows a 20-character-or-shorter
//! head of it parses as valid fields, the error says so: "AI (10) lot: 24 characters, at most
//! 20: is a GS separator missing before (21)?". When the merged value is 20 characters or
//! fewer it is itself a valid lot or serial, and nothing in the string tells the two readings
//! apart: such a scan parses, with the lot (or serial) holding the swallowed text and the
//! swallowed fields absent. Callers that require a field (a serial to name a unit) notice it
//! missing.
//!
//! Known ambiguities, by construction of the forms: in the human-readable form a value that
//! contains an AI in brackets such as `A(10)B` reads as two fields; in an element string a lot
//! containing the text `<GS>` reads as a separator (`<`, `>`, `G` and `S` are all legal in a lot,
//! but scanners send `<GS>` far more often than lots contain it).

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::event::UnitId;
use crate::gs1::{Gln, Gs1Date, Gs1Error, Gtin, Lot, Serial, Sscc, is_charset82};

/// The longest scan accepted, in bytes, whitespace included.
///
/// A GS1 DataMatrix or QR code carrying GS1 data holds a few hundred characters at most in
/// practice, and the design's limit for a scan string is 512 bytes. Checking the length first
/// bounds the work the parser does on hostile input.
pub const SCAN_LEN_MAX: usize = 512;

/// The group separator (ASCII 29) that ends a variable-length value in an element string.
pub const GROUP_SEPARATOR: char = '\u{1d}';

/// Printable stand-ins for GS that scanners send when set up so, matched in any letter case.
const SEPARATOR_SUBSTITUTES: &[&str] = &[
    "<GS>", "{GS}", "[GS]", "<FNC1>", "{FNC1}", "^]", "\\x1d", "\\u001d", "\u{241d}",
];

/// Why a scan was refused. Every variant that concerns one field names its AI.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScanError {
    /// Nothing but whitespace was scanned.
    #[error("the scan is empty")]
    Empty,
    /// The scan is longer than [`SCAN_LEN_MAX`] bytes.
    #[error("the scan is {len} bytes, at most {SCAN_LEN_MAX}")]
    TooLong {
        /// The scan's length in bytes.
        len: usize,
    },
    /// A value its AI does not allow: check digit, length, character or date.
    #[error(transparent)]
    Value(#[from] Gs1Error),
    /// Digits that begin no AI this parser knows.
    #[error("unknown AI ({ai})")]
    UnknownAi {
        /// The digits where an AI was expected (the first two, in an element string).
        ai: String,
    },
    /// Where an AI must start, something that is not a digit.
    #[error("expected an AI (digits) at position {position}, found {found:?}")]
    NotAnAi {
        /// The character found.
        found: char,
        /// Character position in the scan (after trimming).
        position: usize,
    },
    /// A variable-length value too long for its AI, with valid fields hidden in its tail.
    #[error(
        "AI ({ai}) {name}: {len} characters, at most {max}: is a GS separator missing before ({next_ai})?"
    )]
    MissingSeparator {
        /// The AI whose value swallowed the next fields.
        ai: &'static str,
        /// The field's name.
        name: &'static str,
        /// The swallowed value's length in characters.
        len: usize,
        /// The most characters the AI allows.
        max: usize,
        /// The AI that seems to start inside the value.
        next_ai: &'static str,
    },
    /// The same AI twice with different values.
    #[error("AI ({ai}) appears twice with different values: {first:?} and {second:?}")]
    Duplicate {
        /// The repeated AI.
        ai: &'static str,
        /// The first value.
        first: String,
        /// The second value.
        second: String,
    },
    /// A human-readable AI opened with `(` and not closed.
    #[error("the AI opened at position {position} is not closed with ')'")]
    Unclosed {
        /// Character position of the `(`.
        position: usize,
    },
    /// A Digital Link whose path holds no `/01/{gtin}`, `/00/{sscc}` or `/414/{gln}` pair.
    #[error(
        "Digital Link: no primary key (/01/{{gtin}}, /00/{{sscc}} or /414/{{gln}}) in the path"
    )]
    NoPrimaryKey,
    /// A Digital Link value with a `%` not followed by two hex digits, or not UTF-8 once decoded.
    #[error("Digital Link: AI ({ai}) value {value:?} is not valid percent-encoding")]
    PercentEncoding {
        /// The AI whose value is broken.
        ai: &'static str,
        /// The value as found in the URI.
        value: String,
    },
}

/// What one scan identifies. Every field is optional: a unit label carries a GTIN and a
/// serial, a case label an SSCC, a location label a GLN.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Scan {
    /// AI (01): the product.
    pub gtin: Option<Gtin>,
    /// AI (21): with the GTIN, names one unit.
    pub serial: Option<Serial>,
    /// AI (10): with the GTIN, names one lot.
    pub lot: Option<Lot>,
    /// AI (17): the expiry date.
    pub expiry: Option<Gs1Date>,
    /// AI (11): the production date.
    pub production_date: Option<Gs1Date>,
    /// AI (00): a logistic unit (case, pallet).
    pub sscc: Option<Sscc>,
    /// AI (414): a physical location.
    pub gln: Option<Gln>,
}

/// How long an AI's value is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ValueLength {
    /// Exactly this many characters.
    Fixed(usize),
    /// One to this many characters, ended by GS or the end of the scan.
    Variable(usize),
}

/// Where a parsed value goes, or how an AI that [`Scan`] does not keep is checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    Sscc,
    Gtin,
    Gln,
    Lot,
    Serial,
    Expiry,
    ProductionDate,
    /// Checked as digits, then dropped.
    OtherDigits,
    /// Checked as GS1 character set 82, then dropped.
    OtherText,
    /// Checked as a `YYMMDD` date, then dropped.
    OtherDate,
}

/// One application identifier this parser knows.
#[derive(Debug)]
struct AiSpec {
    ai: &'static str,
    name: &'static str,
    length: ValueLength,
    /// The length in words, for error messages.
    expected: &'static str,
    field: Field,
}

const fn spec(
    ai: &'static str,
    name: &'static str,
    length: ValueLength,
    expected: &'static str,
    field: Field,
) -> AiSpec {
    AiSpec {
        ai,
        name,
        length,
        expected,
        field,
    }
}

/// The AIs a medical device or medicine label carries (GS1 General Specifications, section 3).
/// NHRN is a national healthcare reimbursement number. The table is prefix-free, as GS1 designs
/// it, so the first match is the only one.
// One line per AI reads as the table it is.
#[rustfmt::skip]
const AIS: &[AiSpec] = {
    use Field::*;
    use ValueLength::{Fixed, Variable};
    &[
        spec("00", "SSCC", Fixed(18), "18 digits", Sscc),
        spec("01", "GTIN", Fixed(14), "14 digits", Gtin),
        spec("02", "content GTIN", Fixed(14), "14 digits", OtherDigits),
        spec("10", "lot", Variable(20), "1 to 20 characters", Lot),
        spec("11", "production date", Fixed(6), "6 digits", ProductionDate),
        spec("12", "due date", Fixed(6), "6 digits", OtherDate),
        spec("13", "packaging date", Fixed(6), "6 digits", OtherDate),
        spec("15", "best before date", Fixed(6), "6 digits", OtherDate),
        spec("16", "sell by date", Fixed(6), "6 digits", OtherDate),
        spec("17", "expiry", Fixed(6), "6 digits", Expiry),
        spec("20", "variant", Fixed(2), "2 digits", OtherDigits),
        spec("21", "serial", Variable(20), "1 to 20 characters", Serial),
        spec("22", "consumer product variant", Variable(20), "1 to 20 characters", OtherText),
        spec("30", "variable count", Variable(8), "1 to 8 digits", OtherDigits),
        spec("37", "count", Variable(8), "1 to 8 digits", OtherDigits),
        spec("235", "third-party serial", Variable(28), "1 to 28 characters", OtherText),
        spec("240", "additional product id", Variable(30), "1 to 30 characters", OtherText),
        spec("241", "customer part number", Variable(30), "1 to 30 characters", OtherText),
        spec("250", "secondary serial", Variable(30), "1 to 30 characters", OtherText),
        spec("254", "GLN extension", Variable(20), "1 to 20 characters", OtherText),
        spec("400", "order number", Variable(30), "1 to 30 characters", OtherText),
        spec("414", "GLN", Fixed(13), "13 digits", Gln),
        spec("7003", "expiry date and time", Fixed(10), "10 digits", OtherDigits),
        spec("710", "NHRN (DE)", Variable(20), "1 to 20 characters", OtherText),
        spec("711", "NHRN (FR)", Variable(20), "1 to 20 characters", OtherText),
        spec("712", "NHRN (ES)", Variable(20), "1 to 20 characters", OtherText),
        spec("713", "NHRN (BR)", Variable(20), "1 to 20 characters", OtherText),
        spec("714", "NHRN (PT)", Variable(20), "1 to 20 characters", OtherText),
        spec("715", "NHRN (US)", Variable(20), "1 to 20 characters", OtherText),
    ]
};

/// The AIs that can start a Digital Link's GS1 path.
const PRIMARY_KEYS: [&str; 3] = ["01", "00", "414"];

/// The form a value came in, which decides the GTIN repairs allowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Form {
    ElementString,
    HumanReadable,
    DigitalLink,
}

/// Parses a scan in any of the three forms. See the module documentation for what is repaired.
pub fn parse_scan(input: &str) -> Result<Scan, ScanError> {
    if input.len() > SCAN_LEN_MAX {
        return Err(ScanError::TooLong { len: input.len() });
    }
    let text = input.trim_matches(|c| matches!(c, ' ' | '\t' | '\r' | '\n'));
    let text = strip_symbology_identifier(text);
    if text.is_empty() {
        return Err(ScanError::Empty);
    }
    if is_digital_link(text) {
        return parse_digital_link(text);
    }
    let text = replace_separator_substitutes(text);
    let text = text.trim_start_matches(GROUP_SEPARATOR);
    if text.is_empty() {
        return Err(ScanError::Empty);
    }
    if text.starts_with('(') {
        parse_human_readable(text)
    } else {
        parse_element_string(text, Hints::On)
    }
}

impl Scan {
    /// The unit this scan names, when it carries both a GTIN and a serial.
    pub fn unit(&self) -> Option<UnitId> {
        Some(UnitId {
            gtin: self.gtin?,
            serial: self.serial.clone()?,
        })
    }

    /// The GS1 element string, fixed-length fields first, with a GS after each variable-length
    /// value except the last. No symbology identifier is added.
    pub fn to_element_string(&self) -> String {
        let fields = self.fields();
        let mut out = String::new();
        for (index, (spec, value)) in fields.iter().enumerate() {
            out.push_str(spec.ai);
            out.push_str(value);
            let is_last = index + 1 == fields.len();
            if matches!(spec.length, ValueLength::Variable(_)) && !is_last {
                out.push(GROUP_SEPARATOR);
            }
        }
        out
    }

    /// The human-readable form: `(01)09506000134352(17)201225(10)ABC(21)123`.
    pub fn to_human_readable(&self) -> String {
        let mut out = String::new();
        for (spec, value) in self.fields() {
            write!(out, "({}){value}", spec.ai).expect("writing to a String cannot fail");
        }
        out
    }

    /// The GS1 Digital Link URI under `base` (scheme, host and optional path prefix):
    /// `{base}/01/{gtin}/10/{lot}/21/{serial}?17=YYMMDD`.
    ///
    /// The primary key is the GTIN, else the SSCC, else the GLN; every other field goes in the
    /// query string, in AI order. A scan with none of the three has no Digital Link form: the
    /// result then holds only a query string, which [`parse_scan`] refuses.
    pub fn to_digital_link(&self, base: &str) -> String {
        let mut fields = self.fields();
        let mut out = base.trim_end_matches('/').to_owned();
        let primary = PRIMARY_KEYS
            .iter()
            .find_map(|key| fields.iter().position(|f| f.0.ai == *key));
        if let Some(primary) = primary {
            let (spec, value) = fields.remove(primary);
            write!(out, "/{}/{}", spec.ai, percent_encode(&value)).expect("writing to a String");
            if spec.ai == Gtin::AI {
                // Lot and serial qualify a GTIN in the path, in the standard's order.
                for qualifier in [Lot::AI, Serial::AI] {
                    if let Some(index) = fields.iter().position(|f| f.0.ai == qualifier) {
                        let (spec, value) = fields.remove(index);
                        write!(out, "/{}/{}", spec.ai, percent_encode(&value))
                            .expect("writing to a String");
                    }
                }
            }
        }
        fields.sort_by_key(|(spec, _)| spec.ai);
        for (index, (spec, value)) in fields.iter().enumerate() {
            let joiner = if index == 0 { '?' } else { '&' };
            write!(out, "{joiner}{}={}", spec.ai, percent_encode(value))
                .expect("writing to a String");
        }
        out
    }

    /// The fields present, in element-string order: fixed-length ones first.
    fn fields(&self) -> Vec<(&'static AiSpec, String)> {
        let all = [
            (Sscc::AI, self.sscc.map(|v| v.to_string())),
            (Gtin::AI, self.gtin.map(|v| v.to_string())),
            (Gln::AI, self.gln.map(|v| v.to_string())),
            ("11", self.production_date.map(|v| v.to_string())),
            ("17", self.expiry.map(|v| v.to_string())),
            (Lot::AI, self.lot.as_ref().map(|v| v.to_string())),
            (Serial::AI, self.serial.as_ref().map(|v| v.to_string())),
        ];
        all.into_iter()
            .filter_map(|(ai, value)| {
                Some((spec_of(ai).expect("every Scan field has an AI"), value?))
            })
            .collect()
    }
}

/// The spec of exactly `ai`.
fn spec_of(ai: &str) -> Option<&'static AiSpec> {
    AIS.iter().find(|spec| spec.ai == ai)
}

/// Skips a symbology identifier: `]`, a letter and a digit or letter (`]d2`, `]C1`, `]Q3`).
fn strip_symbology_identifier(text: &str) -> &str {
    let bytes = text.as_bytes();
    let is_identifier = bytes.len() >= 3
        && bytes[0] == b']'
        && bytes[1].is_ascii_alphabetic()
        && bytes[2].is_ascii_alphanumeric();
    if is_identifier { &text[3..] } else { text }
}

fn is_digital_link(text: &str) -> bool {
    let starts_with = |prefix: &str| {
        text.get(..prefix.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
    };
    starts_with("https://") || starts_with("http://")
}

/// Replaces every printable stand-in for GS by a real GS.
fn replace_separator_substitutes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        let substitute = SEPARATOR_SUBSTITUTES.iter().find(|substitute| {
            rest.get(..substitute.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(substitute))
        });
        match substitute {
            Some(substitute) => {
                out.push(GROUP_SEPARATOR);
                rest = &rest[substitute.len()..];
            }
            None => {
                out.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    out
}

/// Whether a too-long value is worth searching for swallowed fields (not when already inside
/// such a search, which keeps the work quadratic at worst).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Hints {
    On,
    Off,
}

fn parse_element_string(text: &str, hints: Hints) -> Result<Scan, ScanError> {
    let mut scan = Scan::default();
    let mut offset = 0;
    while offset < text.len() {
        let rest = &text[offset..];
        if let Some(after) = rest.strip_prefix(GROUP_SEPARATOR) {
            // A separator after a fixed-length value, or a doubled one, is harmless.
            offset = text.len() - after.len();
            continue;
        }
        let spec = element_ai(text, offset)?;
        let value_start = offset + spec.ai.len();
        let value = element_value(&text[value_start..], spec.length);
        if hints == Hints::On {
            check_swallowed(text, value_start, value, spec)?;
        }
        apply(&mut scan, spec, value, Form::ElementString)?;
        offset = value_start + value.len();
    }
    Ok(scan)
}

/// The AI that starts at byte `offset` of an element string.
fn element_ai(text: &str, offset: usize) -> Result<&'static AiSpec, ScanError> {
    let rest = &text[offset..];
    let position = text[..offset].chars().count();
    if let Some((index, found)) = rest
        .chars()
        .take(2)
        .enumerate()
        .find(|(_, c)| !c.is_ascii_digit())
    {
        return Err(ScanError::NotAnAi {
            found,
            position: position + index,
        });
    }
    AIS.iter()
        .find(|spec| rest.starts_with(spec.ai))
        .ok_or_else(|| ScanError::UnknownAi {
            ai: rest.chars().take(2).collect(),
        })
}

/// The value at the start of `rest`: a fixed number of characters, or up to the next GS.
fn element_value(rest: &str, length: ValueLength) -> &str {
    let until_separator = rest.split(GROUP_SEPARATOR).next().unwrap_or_default();
    match length {
        ValueLength::Fixed(len) => prefix_chars(until_separator, len),
        ValueLength::Variable(_) => until_separator,
    }
}

/// The first `count` characters of `text` (all of it when shorter).
fn prefix_chars(text: &str, count: usize) -> &str {
    match text.char_indices().nth(count) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

/// Fails with [`ScanError::MissingSeparator`] when a too-long variable value has a valid head
/// followed by text that parses as valid fields: most likely a GS the scanner did not send.
fn check_swallowed(
    text: &str,
    value_start: usize,
    value: &str,
    spec: &'static AiSpec,
) -> Result<(), ScanError> {
    let ValueLength::Variable(max) = spec.length else {
        return Ok(());
    };
    let len = value.chars().count();
    if len <= max {
        return Ok(());
    }
    for (split, _) in value.char_indices().skip(1).take(max) {
        let tail = &text[value_start + split..];
        let head_is_valid = apply(
            &mut Scan::default(),
            spec,
            &value[..split],
            Form::ElementString,
        );
        if head_is_valid.is_ok() && parse_element_string(tail, Hints::Off).is_ok() {
            let next = element_ai(tail, 0).expect("a tail that parses starts with an AI");
            return Err(ScanError::MissingSeparator {
                ai: spec.ai,
                name: spec.name,
                len,
                max,
                next_ai: next.ai,
            });
        }
    }
    Ok(())
}

fn parse_human_readable(text: &str) -> Result<Scan, ScanError> {
    let mut scan = Scan::default();
    let mut offset = 0;
    while offset < text.len() {
        let (spec, value_start) = bracketed_ai(text, offset)?;
        let rest = &text[value_start..];
        let value_len = next_bracketed_ai(rest).unwrap_or(rest.len());
        // Spaces and separators are not GS1 characters, so trimming them loses nothing.
        let value = rest[..value_len].trim_matches(|c| c == ' ' || c == GROUP_SEPARATOR);
        apply(&mut scan, spec, value, Form::HumanReadable)?;
        offset = value_start + value_len;
    }
    Ok(scan)
}

/// The `(AI)` at byte `offset` of a human-readable scan, and where its value starts.
fn bracketed_ai(text: &str, offset: usize) -> Result<(&'static AiSpec, usize), ScanError> {
    let position = text[..offset].chars().count();
    let inner = &text[offset + 1..];
    let close = inner.find(')').ok_or(ScanError::Unclosed { position })?;
    let ai = &inner[..close];
    if let Some((index, found)) = ai.chars().enumerate().find(|(_, c)| !c.is_ascii_digit()) {
        return Err(ScanError::NotAnAi {
            found,
            position: position + 1 + index,
        });
    }
    let spec = spec_of(ai).ok_or_else(|| ScanError::UnknownAi { ai: ai.to_owned() })?;
    Ok((spec, offset + 1 + close + 1))
}

/// The byte offset in `rest` of the next `(` followed by two to four digits and `)`.
fn next_bracketed_ai(rest: &str) -> Option<usize> {
    rest.match_indices('(')
        .map(|(index, _)| index)
        .find(|&index| {
            let after = &rest[index + 1..];
            let digits = after.bytes().take_while(u8::is_ascii_digit).count();
            (2..=4).contains(&digits) && after[digits..].starts_with(')')
        })
}

fn parse_digital_link(text: &str) -> Result<Scan, ScanError> {
    let without_fragment = text.split('#').next().unwrap_or_default();
    let (location, query) = without_fragment
        .split_once('?')
        .unwrap_or((without_fragment, ""));
    let after_scheme = location
        .split_once("://")
        .map_or(location, |(_, rest)| rest);
    // The host is ignored: any resolver may serve a Digital Link.
    let path = after_scheme.split_once('/').map_or("", |(_, path)| path);
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let start = primary_key_start(&segments).ok_or(ScanError::NoPrimaryKey)?;
    let mut scan = Scan::default();
    for pair in segments[start..].chunks(2) {
        apply_link_pair(&mut scan, pair[0], pair[1])?;
    }
    for parameter in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = parameter.split_once('=').unwrap_or((parameter, ""));
        // Other parameters (linkType, context, tracking) are not GS1 data.
        if !key.is_empty() && key.bytes().all(|b| b.is_ascii_digit()) {
            apply_link_pair(&mut scan, key, value)?;
        }
    }
    Ok(scan)
}

/// Where the GS1 part of a Digital Link path starts: the first primary key after which the
/// segments pair up as `AI/value`, so that a path prefix such as `/2026/01/` is skipped.
fn primary_key_start(segments: &[&str]) -> Option<usize> {
    (0..segments.len()).find(|&start| {
        let pairs = &segments[start..];
        PRIMARY_KEYS.contains(&pairs[0])
            && pairs.len().is_multiple_of(2)
            && pairs
                .iter()
                .step_by(2)
                .all(|ai| ai.bytes().all(|b| b.is_ascii_digit()))
    })
}

fn apply_link_pair(scan: &mut Scan, ai: &str, raw: &str) -> Result<(), ScanError> {
    let spec = spec_of(ai).ok_or_else(|| ScanError::UnknownAi { ai: ai.to_owned() })?;
    let value = percent_decode(raw).ok_or_else(|| ScanError::PercentEncoding {
        ai: spec.ai,
        value: raw.to_owned(),
    })?;
    apply(scan, spec, &value, Form::DigitalLink)
}

/// Decodes `%XX` escapes; `None` when an escape is broken or the result is not UTF-8.
fn percent_decode(raw: &str) -> Option<String> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%' {
            let hex = std::str::from_utf8(bytes.get(index + 1..index + 3)?).ok()?;
            if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return None;
            }
            out.push(u8::from_str_radix(hex, 16).ok()?);
            index += 3;
        } else {
            out.push(bytes[index]);
            index += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Escapes every byte but the URI unreserved characters (letters, digits, `-._~`).
fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            write!(out, "%{byte:02X}").expect("writing to a String cannot fail");
        }
    }
    out
}

/// Checks `raw` against its AI and stores it in `scan`.
fn apply(scan: &mut Scan, spec: &'static AiSpec, raw: &str, form: Form) -> Result<(), ScanError> {
    match spec.field {
        Field::Sscc => store(&mut scan.sscc, raw.parse()?, spec.ai),
        Field::Gtin => store(&mut scan.gtin, parse_gtin(raw, form)?, spec.ai),
        Field::Gln => store(&mut scan.gln, raw.parse()?, spec.ai),
        Field::Lot => store(&mut scan.lot, raw.parse()?, spec.ai),
        Field::Serial => store(&mut scan.serial, raw.parse()?, spec.ai),
        Field::Expiry => store(&mut scan.expiry, Gs1Date::parse_for(raw, spec.ai)?, spec.ai),
        Field::ProductionDate => store(
            &mut scan.production_date,
            Gs1Date::parse_for(raw, spec.ai)?,
            spec.ai,
        ),
        Field::OtherDate => Ok(Gs1Date::parse_named(raw, spec.ai, spec.name).map(drop)?),
        Field::OtherDigits | Field::OtherText => Ok(check_other(spec, raw)?),
    }
}

/// Parses a GTIN, left-padding the shorter forms that `form` allows.
fn parse_gtin(raw: &str, form: Form) -> Result<Gtin, Gs1Error> {
    let allowed: &[usize] = match form {
        Form::ElementString => &[],
        // A human-readable GTIN-13 under (01) has lost the leading zero of its GTIN-14 form.
        Form::HumanReadable => &[13],
        Form::DigitalLink => &[8, 12, 13],
    };
    let is_short = allowed.contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_digit());
    if is_short {
        format!("{raw:0>14}").parse()
    } else {
        raw.parse()
    }
}

/// Keeps `value` in `slot`, refusing a second, different value for the same AI.
fn store<T: PartialEq + ToString>(
    slot: &mut Option<T>,
    value: T,
    ai: &'static str,
) -> Result<(), ScanError> {
    match slot {
        Some(first) if *first != value => Err(ScanError::Duplicate {
            ai,
            first: first.to_string(),
            second: value.to_string(),
        }),
        _ => {
            *slot = Some(value);
            Ok(())
        }
    }
}

/// Checks the length and characters of a value that [`Scan`] does not keep.
fn check_other(spec: &AiSpec, raw: &str) -> Result<(), Gs1Error> {
    let (ai, name) = (spec.ai, spec.name);
    let len = raw.chars().count();
    let fits = match spec.length {
        ValueLength::Fixed(n) => len == n,
        ValueLength::Variable(max) => (1..=max).contains(&len),
    };
    if !fits {
        return Err(Gs1Error::Length {
            ai,
            name,
            expected: spec.expected,
            got: len,
        });
    }
    let digits_only = spec.field == Field::OtherDigits;
    let allowed = |c: char| {
        if digits_only {
            c.is_ascii_digit()
        } else {
            is_charset82(c)
        }
    };
    match raw.chars().enumerate().find(|(_, c)| !allowed(*c)) {
        Some((position, found)) if digits_only => Err(Gs1Error::NotDigit {
            ai,
            name,
            found,
            position,
        }),
        Some((position, found)) => Err(Gs1Error::Character {
            ai,
            name,
            found,
            position,
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ai_table_is_prefix_free() {
        for first in AIS {
            for second in AIS {
                let is_prefix = first.ai != second.ai && second.ai.starts_with(first.ai);
                assert!(
                    !is_prefix,
                    "AI ({}) is a prefix of AI ({})",
                    first.ai, second.ai
                );
            }
        }
    }

    #[test]
    fn every_scan_field_has_a_spec_of_its_kind() {
        let expected = [
            ("00", Field::Sscc),
            ("01", Field::Gtin),
            ("414", Field::Gln),
            ("10", Field::Lot),
            ("21", Field::Serial),
            ("17", Field::Expiry),
            ("11", Field::ProductionDate),
        ];
        for (ai, field) in expected {
            assert_eq!(spec_of(ai).map(|spec| spec.field), Some(field), "AI ({ai})");
        }
    }

    #[test]
    fn percent_encoding_round_trips_every_charset82_character() {
        let all: String = (' '..='~').filter(|c| is_charset82(*c)).collect();
        assert_eq!(all.len(), 82);
        let encoded = percent_encode(&all);
        assert!(
            encoded
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~%".contains(&b))
        );
        assert_eq!(percent_decode(&encoded), Some(all));
        assert_eq!(percent_decode("%e2%90%9d"), Some("\u{241d}".to_owned()));
        assert_eq!(percent_decode("%ff"), None);
    }
}
