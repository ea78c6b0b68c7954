//! GS1 Digital Link URIs: `https://{host}/{prefix}/01/{gtin}/10/{lot}/21/{serial}?17=YYMMDD`.
//!
//! The rules are those of the GS1 Digital Link URI Syntax standard (its URI structure and
//! ABNF grammar): a primary key and its key qualifiers in the path, the qualifiers in the order
//! the standard gives for that key, and data attributes in the query string. The GS1 Barcode
//! Syntax Dictionary states the same orders as `dlpkey=22,10,21|235` on AI (01).

use super::Scan;
use super::ai::{AiSpec, Collector, Form, spec_of};
use super::error::{Problem, ScanError};

/// The AIs that can start a Digital Link's GS1 path.
pub(super) const PRIMARY_KEYS: [&str; 3] = ["01", "00", "414"];

/// The key qualifiers of a primary key: alternative sequences, each in path order.
struct Qualifiers {
    sequences: &'static [&'static [&'static str]],
    /// The sequences in words, for error messages.
    words: &'static str,
}

/// The qualifiers of `primary` (dictionary: `dlpkey=22,10,21|235` on 01, `dlpkey=254|7040` on
/// 414, plain `dlpkey` on 00). AI (7040) is not among the AIs this parser knows.
fn qualifiers(primary: &str) -> Qualifiers {
    match primary {
        "01" => Qualifiers {
            sequences: &[&["22", "10", "21"], &["235"]],
            words: "(22), (10), (21), or (235) alone",
        },
        "414" => Qualifiers {
            sequences: &[&["254"]],
            words: "(254)",
        },
        _ => Qualifiers {
            sequences: &[],
            words: "none: this key takes no qualifier",
        },
    }
}

impl Qualifiers {
    /// Where `ai` stands among the qualifiers: (sequence, position in it).
    fn place(&self, ai: &str) -> Option<(usize, usize)> {
        self.sequences
            .iter()
            .enumerate()
            .find_map(|(sequence, ais)| Some((sequence, ais.iter().position(|q| *q == ai)?)))
    }
}

/// Whether `text` is written as an http(s) URI, in any letter case.
pub(super) fn is_digital_link(text: &str) -> bool {
    let starts_with = |prefix: &str| {
        text.get(..prefix.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
    };
    starts_with("https://") || starts_with("http://")
}

/// Parses a Digital Link. The host is not checked (any resolver may serve one, and RFC 3986
/// makes its case irrelevant); the scheme may be all lower or all upper case, as a QR code in
/// alphanumeric mode writes it, but not mixed.
pub(super) fn parse_digital_link(text: &str) -> Result<Scan, ScanError> {
    let (scheme, after_scheme) = text.split_once("://").unwrap_or(("", text));
    let is_one_case =
        scheme == scheme.to_ascii_lowercase() || scheme == scheme.to_ascii_uppercase();
    if !is_one_case {
        return Err(Problem::LinkSchemeCase {
            scheme: scheme.to_owned(),
        }
        .into());
    }
    let without_fragment = after_scheme.split('#').next().unwrap_or_default();
    let (location, query) = without_fragment
        .split_once('?')
        .unwrap_or((without_fragment, ""));
    let path = location.split_once('/').map_or("", |(_, path)| path);
    if !path.is_empty() && path.ends_with('/') {
        return Err(Problem::LinkTrailingSlash.into());
    }
    let segments: Vec<&str> = path.split('/').collect();
    let start = primary_key_start(&segments).ok_or(Problem::NoPrimaryKey)?;
    let mut collector = Collector::default();
    read_path(&mut collector, &segments[start..])?;
    read_query(&mut collector, segments[start], query)?;
    collector.finish()
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
                .all(|ai| !ai.is_empty() && ai.bytes().all(|b| b.is_ascii_digit()))
    })
}

/// The primary key and its qualifiers, in the standard's order.
fn read_path(collector: &mut Collector, pairs: &[&str]) -> Result<(), ScanError> {
    let primary = known(pairs[0])?.ai;
    let qualifiers = qualifiers(primary);
    let mut previous: Option<(&'static str, (usize, usize))> = None;
    for pair in pairs.chunks(2) {
        let spec = known(pair[0])?;
        if collector.seen.is_empty() {
            apply_once(collector, spec, pair[1])?;
            continue;
        }
        let Some(place) = qualifiers.place(spec.ai) else {
            let is_key = PRIMARY_KEYS.contains(&spec.ai);
            return Err(if is_key {
                misplaced(spec, previous.map_or(primary, |(ai, _)| ai), &qualifiers)
            } else {
                Problem::LinkAttributeInPath {
                    ai: spec.ai,
                    name: spec.name,
                }
            }
            .into());
        };
        if let Some((after, (sequence, position))) = previous
            && (place.0 != sequence || place.1 <= position)
        {
            return Err(misplaced(spec, after, &qualifiers).into());
        }
        apply_once(collector, spec, pair[1])?;
        previous = Some((spec.ai, place));
    }
    Ok(())
}

fn misplaced(spec: &AiSpec, after: &'static str, qualifiers: &Qualifiers) -> Problem {
    Problem::LinkQualifierOrder {
        ai: spec.ai,
        name: spec.name,
        after,
        order: qualifiers.words,
    }
}

/// The data attributes of the query string. Parameters whose name is not all digits
/// (`linkType`, `context`) are not GS1 data and are left alone.
fn read_query(collector: &mut Collector, primary: &str, query: &str) -> Result<(), ScanError> {
    let qualifiers = qualifiers(primary);
    for parameter in query.split('&').filter(|p| !p.is_empty()) {
        let (key, raw) = parameter.split_once('=').unwrap_or((parameter, ""));
        if key.is_empty() || !key.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let spec = known(key)?;
        if qualifiers.place(spec.ai).is_some() {
            return Err(Problem::LinkQualifierInQuery {
                ai: spec.ai,
                name: spec.name,
            }
            .into());
        }
        // application/x-www-form-urlencoded, which web servers apply to a query, reads '+' as
        // a space: a GS1 '+' in a query value is written %2B.
        if raw.contains('+') {
            return Err(Problem::LinkPlusInQuery {
                ai: spec.ai,
                value: raw.to_owned(),
            }
            .into());
        }
        apply_once(collector, spec, raw)?;
    }
    Ok(())
}

fn known(ai: &str) -> Result<&'static AiSpec, ScanError> {
    spec_of(ai).ok_or_else(|| Problem::UnknownAi { ai: ai.to_owned() }.into())
}

/// Decodes and keeps one value; an AI given twice is refused even with the same value.
fn apply_once(
    collector: &mut Collector,
    spec: &'static AiSpec,
    raw: &str,
) -> Result<(), ScanError> {
    if collector.has(spec.ai) {
        return Err(Problem::LinkRepeated {
            ai: spec.ai,
            name: spec.name,
        }
        .into());
    }
    let value = percent_decode(raw).ok_or_else(|| Problem::PercentEncoding {
        ai: spec.ai,
        value: raw.to_owned(),
    })?;
    collector.apply(spec, &value, Form::DigitalLink)
}

/// Decodes `%XX` escapes; `None` when an escape is broken or the result is not UTF-8.
pub(super) fn percent_decode(raw: &str) -> Option<String> {
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
pub(super) fn percent_encode(value: &str) -> String {
    use std::fmt::Write as _;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gs1::is_charset82;

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
