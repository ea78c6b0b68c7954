//! The application identifiers the parser knows, and how one value is checked and kept.
//!
//! Lengths, character sets and requisite AIs follow the GS1 Barcode Syntax Dictionary
//! (`gs1-syntax-dictionary.txt`, which restates the GS1 General Specifications, section 3.2, in
//! machine-readable form): `req=` there is [`AiSpec::requires`] here, `ex=` is
//! [`AiSpec::excludes`].

use crate::gs1::{Gs1Date, Gs1Error, Gtin, is_charset82};

use super::Scan;
use super::error::{Problem, ScanError};

/// How long an AI's value is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum ValueLength {
    /// Exactly this many characters: a predefined-length AI, never padded or cut.
    Fixed(usize),
    /// One to this many characters, ended by GS or the end of the scan.
    Variable(usize),
}

/// Where a parsed value goes, or how an AI that [`Scan`] does not keep is checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Field {
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
pub(super) struct AiSpec {
    pub(super) ai: &'static str,
    pub(super) name: &'static str,
    pub(super) length: ValueLength,
    /// The length in words, for error messages.
    expected: &'static str,
    pub(super) field: Field,
    /// Groups of AIs: the scan must hold one AI of every group (the dictionary's `req=`).
    requires: &'static [&'static [&'static str]],
    /// The requisite in words, for the error message.
    needs: &'static str,
    /// AIs that must not stand in the same scan (the dictionary's `ex=`).
    excludes: &'static [&'static str],
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
        requires: &[],
        needs: "",
        excludes: &[],
    }
}

impl AiSpec {
    const fn needs(
        self,
        requires: &'static [&'static [&'static str]],
        needs: &'static str,
    ) -> AiSpec {
        AiSpec {
            requires,
            needs,
            ..self
        }
    }

    const fn excludes(self, excludes: &'static [&'static str]) -> AiSpec {
        AiSpec { excludes, ..self }
    }
}

/// A trade item: a GTIN (01), or the GTIN of the contents (02) of a logistic unit.
const TRADE_ITEM: &[&[&str]] = &[&["01", "02"]];
const TRADE_ITEM_WORDS: &str = "a GTIN (01) or a content GTIN (02)";
/// The GTIN (01) itself.
const GTIN_ONLY: &[&[&str]] = &[&["01"]];
const GTIN_WORDS: &str = "a GTIN (01)";

/// The AIs a medical device or medicine label carries (GS1 General Specifications, section 3.2;
/// lengths and requisites as in the GS1 Barcode Syntax Dictionary). NHRN is a national
/// healthcare reimbursement number. The table is prefix-free, as GS1 designs it, so the first
/// match is the only one.
// One line per AI reads as the table it is.
#[rustfmt::skip]
pub(super) const AIS: &[AiSpec] = {
    use Field::*;
    use ValueLength::{Fixed, Variable};
    &[
        spec("00", "SSCC", Fixed(18), "18 digits", Sscc),
        spec("01", "GTIN", Fixed(14), "14 digits", Gtin).excludes(&["02", "37"]),
        spec("02", "content GTIN", Fixed(14), "14 digits", OtherDigits).needs(&[&["37"]], "a count (37)"),
        spec("10", "lot", Variable(20), "1 to 20 characters", Lot).needs(TRADE_ITEM, TRADE_ITEM_WORDS),
        spec("11", "production date", Fixed(6), "6 digits", ProductionDate).needs(TRADE_ITEM, TRADE_ITEM_WORDS),
        spec("12", "due date", Fixed(6), "6 digits", OtherDate).needs(&[&["8020"]], "a payment slip reference (8020)"),
        spec("13", "packaging date", Fixed(6), "6 digits", OtherDate).needs(TRADE_ITEM, TRADE_ITEM_WORDS),
        spec("15", "best before date", Fixed(6), "6 digits", OtherDate).needs(TRADE_ITEM, TRADE_ITEM_WORDS),
        spec("16", "sell by date", Fixed(6), "6 digits", OtherDate).needs(TRADE_ITEM, TRADE_ITEM_WORDS),
        spec("17", "expiry", Fixed(6), "6 digits", Expiry).needs(TRADE_ITEM, TRADE_ITEM_WORDS),
        spec("20", "variant", Fixed(2), "2 digits", OtherDigits).needs(TRADE_ITEM, TRADE_ITEM_WORDS),
        spec("21", "serial", Variable(20), "1 to 20 characters", Serial).needs(GTIN_ONLY, GTIN_WORDS).excludes(&["235"]),
        spec("22", "consumer product variant", Variable(20), "1 to 20 characters", OtherText).needs(GTIN_ONLY, GTIN_WORDS),
        spec("30", "variable count", Variable(8), "1 to 8 digits", OtherDigits).needs(TRADE_ITEM, TRADE_ITEM_WORDS),
        spec("37", "count", Variable(8), "1 to 8 digits", OtherDigits).needs(&[&["00"], &["02"]], "an SSCC (00) and a content GTIN (02)"),
        spec("235", "third-party serial", Variable(28), "1 to 28 characters", OtherText).needs(GTIN_ONLY, GTIN_WORDS),
        spec("240", "additional product id", Variable(30), "1 to 30 characters", OtherText).needs(TRADE_ITEM, TRADE_ITEM_WORDS),
        spec("241", "customer part number", Variable(30), "1 to 30 characters", OtherText).needs(TRADE_ITEM, TRADE_ITEM_WORDS),
        spec("250", "secondary serial", Variable(30), "1 to 30 characters", OtherText).needs(&[&["01"], &["21"]], "a GTIN (01) and a serial (21)"),
        spec("254", "GLN extension", Variable(20), "1 to 20 characters", OtherText).needs(&[&["414"]], "a GLN (414)"),
        spec("400", "order number", Variable(30), "1 to 30 characters", OtherText),
        spec("414", "GLN", Fixed(13), "13 digits", Gln),
        spec("7003", "expiry date and time", Fixed(10), "10 digits", OtherDigits).needs(TRADE_ITEM, TRADE_ITEM_WORDS),
        spec("710", "NHRN (DE)", Variable(20), "1 to 20 characters", OtherText).needs(GTIN_ONLY, GTIN_WORDS),
        spec("711", "NHRN (FR)", Variable(20), "1 to 20 characters", OtherText).needs(GTIN_ONLY, GTIN_WORDS),
        spec("712", "NHRN (ES)", Variable(20), "1 to 20 characters", OtherText).needs(GTIN_ONLY, GTIN_WORDS),
        spec("713", "NHRN (BR)", Variable(20), "1 to 20 characters", OtherText).needs(GTIN_ONLY, GTIN_WORDS),
        spec("714", "NHRN (PT)", Variable(20), "1 to 20 characters", OtherText).needs(GTIN_ONLY, GTIN_WORDS),
        spec("715", "NHRN (US)", Variable(20), "1 to 20 characters", OtherText).needs(GTIN_ONLY, GTIN_WORDS),
    ]
};

/// The spec of exactly `ai`.
pub(super) fn spec_of(ai: &str) -> Option<&'static AiSpec> {
    AIS.iter().find(|spec| spec.ai == ai)
}

/// The form a value came in, which decides the GTIN lengths allowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Form {
    /// Element string or bracketed form: a GTIN under (01) has its 14 digits.
    Element,
    /// Digital Link: the GTIN-8, -12 and -13 forms are allowed too.
    DigitalLink,
}

/// A scan being read: the fields kept, and every AI met (for requisites and repeats).
#[derive(Debug, Default)]
pub(super) struct Collector {
    pub(super) scan: Scan,
    pub(super) seen: Vec<&'static AiSpec>,
}

impl Collector {
    /// Checks `raw` against its AI and keeps it.
    pub(super) fn apply(
        &mut self,
        spec: &'static AiSpec,
        raw: &str,
        form: Form,
    ) -> Result<(), ScanError> {
        apply(&mut self.scan, spec, raw, form)?;
        if !self.seen.iter().any(|seen| seen.ai == spec.ai) {
            self.seen.push(spec);
        }
        Ok(())
    }

    /// Whether `ai` was met already.
    pub(super) fn has(&self, ai: &str) -> bool {
        self.seen.iter().any(|seen| seen.ai == ai)
    }

    /// The scan, once every AI met has its requisites (a serial its GTIN) and none of the AIs
    /// it excludes (a serial and a third-party serial).
    pub(super) fn finish(self) -> Result<Scan, ScanError> {
        for spec in &self.seen {
            if let Some(other) = spec.excludes.iter().find(|ai| self.has(ai)) {
                return Err(Problem::Exclusive {
                    ai: spec.ai,
                    name: spec.name,
                    other,
                }
                .into());
            }
            let satisfied = spec
                .requires
                .iter()
                .all(|group| group.iter().any(|ai| self.has(ai)));
            if !satisfied {
                return Err(Problem::MissingRequisite {
                    ai: spec.ai,
                    name: spec.name,
                    needs: spec.needs,
                }
                .into());
            }
        }
        Ok(self.scan)
    }
}

/// Checks `raw` against its AI and stores it in `scan`.
pub(super) fn apply(
    scan: &mut Scan,
    spec: &'static AiSpec,
    raw: &str,
    form: Form,
) -> Result<(), ScanError> {
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

/// Parses a GTIN. Only a Digital Link may carry the GTIN-8, -12 or -13 form (the GS1 Digital
/// Link URI Syntax grammar takes a GTIN of 8, 12, 13 or 14 digits), padded here to 14 digits
/// before the check digit is checked. An element string or bracketed (01) has exactly 14
/// (General Specifications, section 3.2: AI (01) is N14).
fn parse_gtin(raw: &str, form: Form) -> Result<Gtin, Gs1Error> {
    let is_short = form == Form::DigitalLink
        && [8, 12, 13].contains(&raw.len())
        && raw.bytes().all(|b| b.is_ascii_digit());
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
        Some(first) if *first != value => Err(Problem::Duplicate {
            ai,
            first: first.to_string(),
            second: value.to_string(),
        }
        .into()),
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
    fn every_requisite_is_described() {
        for spec in AIS {
            assert_eq!(
                spec.requires.is_empty(),
                spec.needs.is_empty(),
                "AI ({})",
                spec.ai
            );
        }
    }
}
