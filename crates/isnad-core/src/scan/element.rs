//! Element strings (as a scanner sends them) and the bracketed form (as printed under a symbol).

use crate::gs1::Gs1Error;

use super::GROUP_SEPARATOR;
use super::ai::{AIS, AiSpec, Collector, Form, ValueLength, apply, spec_of};
use super::error::{Hint, Problem, ScanError};

/// Printable stand-ins for GS that scanners send when set up so, matched in any letter case.
const SEPARATOR_SUBSTITUTES: &[&str] = &[
    "<GS>", "{GS}", "[GS]", "<FNC1>", "{FNC1}", "^]", "\\x1d", "\\u001d", "\u{241d}",
];

/// Replaces every printable stand-in for GS by a real GS.
pub(super) fn replace_separator_substitutes(text: &str) -> String {
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
pub(super) enum Hints {
    On,
    Off,
}

/// Reads an element string whose leading FNC1 (if any) is already gone. Requisites are left
/// to the caller.
pub(super) fn parse_element_string(text: &str, hints: Hints) -> Result<Collector, ScanError> {
    let mut collector = Collector::default();
    let mut offset = 0;
    let mut after_separator = false;
    while offset < text.len() {
        let rest = &text[offset..];
        if let Some(after) = rest.strip_prefix(GROUP_SEPARATOR) {
            // A separator after a predefined-length value is superfluous but harmless (the
            // General Specifications' concatenation rules only require one after a
            // variable-length value); a second one in a row is an empty element.
            if after_separator {
                let position = text[..offset].chars().count();
                return Err(Problem::EmptyElement { position }.into());
            }
            after_separator = true;
            offset = text.len() - after.len();
            continue;
        }
        after_separator = false;
        let spec = element_ai(text, offset)?;
        let value_start = offset + spec.ai.len();
        let value = element_value(&text[value_start..], spec.length);
        if hints == Hints::On {
            check_swallowed(text, value_start, value, spec)?;
        }
        collector
            .apply(spec, value, Form::Element)
            .map_err(|error| separator_hint(error, spec))?;
        offset = value_start + value.len();
    }
    Ok(collector)
}

/// A variable-length value refused for its length in an element string most likely ran into
/// the next element because a GS was not sent.
fn separator_hint(error: ScanError, spec: &AiSpec) -> ScanError {
    let too_long = matches!(
        (error.problem(), spec.length),
        (Problem::Value(Gs1Error::Length { got, .. }), ValueLength::Variable(max)) if *got > max
    );
    if too_long {
        error.with_hint(Hint::EnableSeparators)
    } else {
        error
    }
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
        return Err(Problem::NotAnAi {
            found,
            position: position + index,
        }
        .into());
    }
    AIS.iter()
        .find(|spec| rest.starts_with(spec.ai))
        .ok_or_else(|| {
            Problem::UnknownAi {
                ai: rest.chars().take(2).collect(),
            }
            .into()
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

/// Fails with [`Problem::MissingSeparator`] when a too-long variable value has a valid head
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
            &mut Default::default(),
            spec,
            &value[..split],
            Form::Element,
        );
        if head_is_valid.is_ok() && parse_element_string(tail, Hints::Off).is_ok() {
            let next = element_ai(tail, 0).expect("a tail that parses starts with an AI");
            return Err(Problem::MissingSeparator {
                ai: spec.ai,
                name: spec.name,
                len,
                max,
                next_ai: next.ai,
            }
            .into());
        }
    }
    Ok(())
}

/// Reads the bracketed form `(01)09506000134352(17)201225(10)ABC`. Requisites are left to the
/// caller.
pub(super) fn parse_bracketed(text: &str) -> Result<Collector, ScanError> {
    if let Some(position) = text.chars().position(|c| c == ' ') {
        return Err(Problem::SpaceInBracketed { position }.into());
    }
    let mut collector = Collector::default();
    let mut offset = 0;
    while offset < text.len() {
        let (spec, value_start) = bracketed_ai(text, offset)?;
        let rest = &text[value_start..];
        let value_len = next_bracketed_ai(rest).unwrap_or(rest.len());
        let value = &rest[..value_len];
        collector
            .apply(spec, value, Form::Element)
            .map_err(|error| bracketed_hint(error, spec))?;
        offset = value_start + value_len;
    }
    Ok(collector)
}

/// A GTIN of the wrong length in the bracketed form was most likely typed as the GTIN-13 of
/// the EAN-13 symbol, without the leading 0 of its 14-digit form.
fn bracketed_hint(error: ScanError, spec: &AiSpec) -> ScanError {
    let is_gtin_length = spec.field == super::ai::Field::Gtin
        && matches!(error.problem(), Problem::Value(Gs1Error::Length { .. }));
    if is_gtin_length {
        error.with_hint(Hint::TypeAsPrinted)
    } else {
        error
    }
}

/// The `(AI)` at byte `offset` of a bracketed scan, and where its value starts.
fn bracketed_ai(text: &str, offset: usize) -> Result<(&'static AiSpec, usize), ScanError> {
    let position = text[..offset].chars().count();
    let inner = &text[offset + 1..];
    let close = inner.find(')').ok_or(Problem::Unclosed { position })?;
    let ai = &inner[..close];
    if let Some((index, found)) = ai.chars().enumerate().find(|(_, c)| !c.is_ascii_digit()) {
        return Err(Problem::NotAnAi {
            found,
            position: position + 1 + index,
        }
        .into());
    }
    let spec = spec_of(ai).ok_or_else(|| Problem::UnknownAi { ai: ai.to_owned() })?;
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
