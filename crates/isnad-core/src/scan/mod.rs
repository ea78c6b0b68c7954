//! One parser for the three forms in which a handheld meets a GS1 identifier.
//!
//! - Element strings, as a barcode scanner sends them: application identifiers (AIs) and values
//!   run together, with a group separator (GS, ASCII 29, the FNC1 of the symbol) after each
//!   variable-length value that is not the last. An optional symbology identifier that announces
//!   GS1 data (`]d2`, `]C1`, `]e0`, `]Q3`, `]J1`) and one leading GS (a leading FNC1) are
//!   skipped.
//! - The bracketed form printed under a symbol: `(01)09506000134352(17)201225(10)ABC`.
//! - GS1 Digital Link URIs on any host, with any path prefix:
//!   `https://id.isnad.ma/01/09506000134352/10/ABC/21/123?17=201225`, optionally after the
//!   identifier of the plain QR Code or Data Matrix that carries them (`]Q1`, `]d1`).
//!
//! All three parse to one [`Scan`], and a `Scan` renders back to each form.
//!
//! Scanners make mistakes, and about half of the false alerts of EU FMD systems come from
//! them: a scanner in Caps Lock flips the case of every letter, one set up without GS
//! transmission runs a lot into the serial after it. The parser is strict where leniency would
//! hide such an error or change what the scan says, and every refusal is a [`ScanError`] that
//! names the AI at fault (when there is one) and says what to do ([`Hint`]):
//! - a symbology identifier in the wrong case (`]D2`) is Caps Lock; one that announces no GS1
//!   data (`]d1` before an element string, `]E0`) is another code than the GS1 symbol;
//! - predefined-length AIs have exactly their length: a 13-digit GTIN under (01) is refused;
//!   only a Digital Link may carry a GTIN-8, -12 or -13, as its standard allows;
//! - a date is a real date (`YYMMDD`, or `DD` = 00 for the month's end): 29 February only in a
//!   leap year;
//! - an AI without its requisite AI (GS1 Barcode Syntax Dictionary, `req=`) is refused: a serial
//!   or lot with no GTIN identifies nothing; so are two AIs that exclude each other (`ex=`: a
//!   GTIN with a content GTIN, a serial with a third-party serial);
//! - two GS in a row (an empty element) and spaces in the bracketed form are refused;
//! - in a Digital Link, the key qualifiers stand in the path in the standard's order and never
//!   in the query; a data attribute in the path, an AI given twice, a trailing `/`, a `+` in a
//!   query value (a space to a web server) and a scheme in mixed case (`hTTPS`) are refused.
//!
//! What is accepted as is, because it neither hides an error nor changes the meaning:
//! - whitespace (CR, LF, tab, space) that keyboard-wedge scanners add before or after a scan;
//! - printable stand-ins for GS that scanners are often set up to send: `<GS>`, `{GS}`, `[GS]`,
//!   `<FNC1>`, `^]`, the text `\x1d` or `\u001d`, and `␝` (U+241D), in any letter case;
//! - a GS after a predefined-length value, and one at the very end;
//! - a Digital Link scheme in upper case and a host in any case (a QR code in alphanumeric mode
//!   writes `HTTPS://ID.ISNAD.MA/...`; RFC 3986 makes both case-insensitive).
//!
//! A wrong check digit is never repaired, and serials and lots keep the case they came in.
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
//! Known ambiguities, by construction of the forms: in the bracketed form a value that
//! contains an AI in brackets such as `A(10)B` reads as two fields; in an element string a lot
//! containing the text `<GS>` reads as a separator (`<`, `>`, `G` and `S` are all legal in a lot,
//! but scanners send `<GS>` far more often than lots contain it).

mod ai;
mod digital_link;
mod element;
mod error;

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::event::UnitId;
use crate::gs1::{Gln, Gs1Date, Gtin, Lot, Serial, Sscc};

use ai::{AiSpec, ValueLength, spec_of};
use digital_link::{PRIMARY_KEYS, is_digital_link, parse_digital_link, percent_encode};
use element::{Hints, parse_bracketed, parse_element_string, replace_separator_substitutes};
pub use error::{Hint, Problem, ScanError};

/// The longest scan accepted, in bytes, whitespace included.
///
/// A GS1 DataMatrix or QR code carrying GS1 data holds a few hundred characters at most in
/// practice, and the design's limit for a scan string is 512 bytes. Checking the length first
/// bounds the work the parser does on hostile input.
pub const SCAN_LEN_MAX: usize = 512;

/// The group separator (ASCII 29) that ends a variable-length value in an element string.
pub const GROUP_SEPARATOR: char = '\u{1d}';

/// What a symbology identifier (ISO/IEC 15424: `]`, a letter, a modifier) says comes after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Carries {
    /// GS1 element strings: the symbol starts with FNC1.
    ElementStrings,
    /// Plain data, which for Isnad can only be a GS1 Digital Link URI.
    Uri,
    /// A GTIN without AIs (EAN/UPC, ITF-14), or nothing GS1.
    Other,
}

/// A symbology identifier the parser knows.
#[derive(Debug)]
struct Symbology {
    id: &'static str,
    /// The symbol, in words.
    symbol: &'static str,
    carries: Carries,
}

const fn symbology(id: &'static str, symbol: &'static str, carries: Carries) -> Symbology {
    Symbology {
        id,
        symbol,
        carries,
    }
}

/// The identifiers the parser knows (GS1 General Specifications, section 5: each GS1 data
/// carrier's symbology identifier; GS1 Digital Link URIs go in plain QR Code and Data Matrix,
/// without FNC1). The letter's case is part of the identifier: `]e0` is GS1 DataBar, `]E0`
/// EAN-13.
// One line per identifier reads as the table it is.
#[rustfmt::skip]
const SYMBOLOGIES: &[Symbology] = &[
    symbology("]C1", "GS1-128", Carries::ElementStrings),
    symbology("]e0", "GS1 DataBar", Carries::ElementStrings),
    symbology("]d2", "GS1 DataMatrix", Carries::ElementStrings),
    symbology("]Q3", "GS1 QR Code", Carries::ElementStrings),
    symbology("]J1", "GS1 DotCode", Carries::ElementStrings),
    symbology("]Q1", "plain QR Code", Carries::Uri),
    symbology("]d1", "plain Data Matrix", Carries::Uri),
    symbology("]E0", "EAN-13 or UPC", Carries::Other),
    symbology("]E4", "EAN-8", Carries::Other),
    symbology("]I1", "ITF-14", Carries::Other),
];

/// Parses a scan in any of the three forms. See the module documentation for what is refused.
pub fn parse_scan(input: &str) -> Result<Scan, ScanError> {
    if input.len() > SCAN_LEN_MAX {
        return Err(Problem::TooLong { len: input.len() }.into());
    }
    let text = input.trim_matches(|c| matches!(c, ' ' | '\t' | '\r' | '\n'));
    let (symbology, text) = split_symbology(text)?;
    if text.is_empty() {
        return Err(Problem::Empty.into());
    }
    let carried = if is_digital_link(text) {
        Carries::Uri
    } else {
        Carries::ElementStrings
    };
    if let Some(symbology) = symbology
        && symbology.carries != carried
    {
        let carried = match carried {
            Carries::Uri => "a Digital Link URI",
            Carries::ElementStrings | Carries::Other => "GS1 element strings",
        };
        return Err(Problem::WrongSymbology {
            found: symbology.id.to_owned(),
            symbol: symbology.symbol,
            carried,
        }
        .into());
    }
    if carried == Carries::Uri {
        return parse_digital_link(text);
    }
    let text = replace_separator_substitutes(text);
    let body = text.strip_prefix(GROUP_SEPARATOR).unwrap_or(&text);
    if body.is_empty() {
        return Err(Problem::Empty.into());
    }
    let collector = if body.starts_with('(') {
        parse_bracketed(body)?
    } else {
        parse_element_string(&text, Hints::On)?
    };
    collector.finish()
}

/// The symbology identifier at the start of `text`, if any, and the rest.
fn split_symbology(text: &str) -> Result<(Option<&'static Symbology>, &str), ScanError> {
    if !text.starts_with(']') {
        return Ok((None, text));
    }
    let Some(found) = text.get(..3) else {
        return Err(Problem::WrongSymbology {
            found: text.chars().take(3).collect(),
            symbol: "not a symbology identifier",
            carried: "GS1 data",
        }
        .into());
    };
    if let Some(symbology) = SYMBOLOGIES.iter().find(|s| s.id == found) {
        return Ok((Some(symbology), &text[3..]));
    }
    let flipped: String = found
        .chars()
        .map(|c| {
            if c.is_ascii_uppercase() {
                c.to_ascii_lowercase()
            } else {
                c.to_ascii_uppercase()
            }
        })
        .collect();
    if let Some(symbology) = SYMBOLOGIES
        .iter()
        .find(|s| s.id == flipped && s.carries != Carries::Other)
    {
        return Err(Problem::SymbologyCase {
            found: found.to_owned(),
            expected: symbology.id,
        }
        .into());
    }
    Err(Problem::WrongSymbology {
        found: found.to_owned(),
        symbol: "a symbology Isnad does not read",
        carried: "GS1 data",
    }
    .into())
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
