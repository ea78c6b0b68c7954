//! GS1 identifiers as types that can only hold valid values.
//!
//! Numeric keys (GTIN-14, GLN-13, SSCC-18) carry a mod-10 check digit; serials (AI 21) and lots
//! (AI 10) are 1 to 20 characters of GS1 character set 82; dates (AI 17, AI 11) are `YYMMDD`
//! with `DD = 00` meaning the month's last day and the GS1 sliding century rule.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The longest serial (AI 21) or lot (AI 10) GS1 allows.
pub const ALPHANUMERIC_LEN_MAX: usize = 20;

/// Why a GS1 value was refused. Every variant names the application identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Gs1Error {
    /// The value has the wrong number of characters.
    #[error("AI ({ai}) {name}: expected {expected}, got {got} characters")]
    Length {
        ai: &'static str,
        name: &'static str,
        expected: &'static str,
        got: usize,
    },
    /// A character outside GS1 character set 82 in a serial or lot.
    #[error("AI ({ai}) {name}: character {found:?} at position {position} is not allowed")]
    Character {
        ai: &'static str,
        name: &'static str,
        found: char,
        position: usize,
    },
    /// A character other than a digit where the AI takes only digits (a key, a date).
    #[error("AI ({ai}) {name}: character {found:?} at position {position} where a digit belongs")]
    NotDigit {
        ai: &'static str,
        name: &'static str,
        found: char,
        position: usize,
    },
    /// The mod-10 check digit does not match.
    #[error("AI ({ai}) {name}: check digit is {found}, expected {expected}")]
    CheckDigit {
        ai: &'static str,
        name: &'static str,
        found: char,
        expected: char,
    },
    /// A date's month or day is out of range.
    #[error("AI ({ai}) {name}: {problem}")]
    Date {
        ai: &'static str,
        name: &'static str,
        problem: String,
    },
}

impl Gs1Error {
    /// The application identifier whose value was refused.
    pub fn ai(&self) -> &'static str {
        match self {
            Self::Length { ai, .. }
            | Self::Character { ai, .. }
            | Self::NotDigit { ai, .. }
            | Self::CheckDigit { ai, .. }
            | Self::Date { ai, .. } => ai,
        }
    }
}

/// The GS1 mod-10 check digit of `digits` (all ASCII digits, check digit excluded).
pub fn check_digit(digits: &[u8]) -> u8 {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| {
            let value = u32::from(d - b'0');
            if i % 2 == 0 { value * 3 } else { value }
        })
        .sum();
    b'0' + ((10 - sum % 10) % 10) as u8
}

fn parse_numeric_key<const N: usize>(
    s: &str,
    ai: &'static str,
    name: &'static str,
    expected: &'static str,
) -> Result<[u8; N], Gs1Error> {
    let bytes = s.as_bytes();
    if s.chars().count() != N {
        return Err(Gs1Error::Length {
            ai,
            name,
            expected,
            got: s.chars().count(),
        });
    }
    if let Some((position, found)) = s.chars().enumerate().find(|(_, c)| !c.is_ascii_digit()) {
        return Err(Gs1Error::NotDigit {
            ai,
            name,
            found,
            position,
        });
    }
    let expected_check = check_digit(&bytes[..N - 1]);
    if bytes[N - 1] != expected_check {
        return Err(Gs1Error::CheckDigit {
            ai,
            name,
            found: char::from(bytes[N - 1]),
            expected: char::from(expected_check),
        });
    }
    let mut out = [0u8; N];
    out.copy_from_slice(bytes);
    Ok(out)
}

macro_rules! numeric_key {
    ($(#[$doc:meta])* $type:ident, $len:literal, $ai:literal, $name:literal, $expected:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $type([u8; $len]);

        impl $type {
            /// The number of digits, check digit included.
            pub const LEN: usize = $len;
            /// The application identifier that carries this key.
            pub const AI: &'static str = $ai;

            /// The digits as text.
            pub fn as_str(&self) -> &str {
                std::str::from_utf8(&self.0).expect("only ASCII digits are ever stored")
            }

            /// The digits as bytes.
            pub fn as_bytes(&self) -> &[u8; $len] {
                &self.0
            }
        }

        impl FromStr for $type {
            type Err = Gs1Error;
            fn from_str(s: &str) -> Result<Self, Gs1Error> {
                parse_numeric_key::<$len>(s, $ai, $name, $expected).map(Self)
            }
        }

        impl TryFrom<String> for $type {
            type Error = Gs1Error;
            fn try_from(s: String) -> Result<Self, Gs1Error> {
                s.parse()
            }
        }

        impl From<$type> for String {
            fn from(v: $type) -> String {
                v.as_str().to_owned()
            }
        }

        impl fmt::Display for $type {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl fmt::Debug for $type {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($type), self.as_str())
            }
        }
    };
}

numeric_key!(
    /// A GTIN-14 (AI 01): the product (trade item) number.
    Gtin, 14, "01", "GTIN", "14 digits"
);
numeric_key!(
    /// A GLN-13 (AI 414 for a location, and party identifiers): a party or a site.
    Gln, 13, "414", "GLN", "13 digits"
);
numeric_key!(
    /// An SSCC-18 (AI 00): a logistic unit such as a case or a pallet.
    Sscc, 18, "00", "SSCC", "18 digits"
);

impl Gtin {
    /// Whether this GTIN falls under a GS1 company prefix (digits, 6 to 12). A GTIN-14 holds
    /// an indicator digit first, then the prefix.
    pub fn has_company_prefix(&self, prefix: &str) -> bool {
        !prefix.is_empty() && self.as_str()[1..].starts_with(prefix)
    }
}

/// Whether `c` belongs to GS1 character set 82 (GS1 General Specifications, figure 7.11-1).
pub fn is_charset82(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!\"%&'()*+,-./:;<=>?_".contains(c)
}

fn parse_alphanumeric(s: &str, ai: &'static str, name: &'static str) -> Result<String, Gs1Error> {
    let len = s.chars().count();
    if len == 0 || len > ALPHANUMERIC_LEN_MAX {
        return Err(Gs1Error::Length {
            ai,
            name,
            expected: "1 to 20",
            got: len,
        });
    }
    if let Some((position, found)) = s.chars().enumerate().find(|(_, c)| !is_charset82(*c)) {
        return Err(Gs1Error::Character {
            ai,
            name,
            found,
            position,
        });
    }
    Ok(s.to_owned())
}

macro_rules! alphanumeric {
    ($(#[$doc:meta])* $type:ident, $ai:literal, $name:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $type(String);

        impl $type {
            /// The application identifier that carries this value.
            pub const AI: &'static str = $ai;

            /// The value as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $type {
            type Err = Gs1Error;
            fn from_str(s: &str) -> Result<Self, Gs1Error> {
                parse_alphanumeric(s, $ai, $name).map(Self)
            }
        }

        impl TryFrom<String> for $type {
            type Error = Gs1Error;
            fn try_from(s: String) -> Result<Self, Gs1Error> {
                s.parse()
            }
        }

        impl From<$type> for String {
            fn from(v: $type) -> String {
                v.0
            }
        }

        impl fmt::Display for $type {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $type {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($type), self.0)
            }
        }
    };
}

alphanumeric!(
    /// A serial number (AI 21): with the GTIN, it names one unit.
    Serial, "21", "serial"
);
alphanumeric!(
    /// A batch or lot number (AI 10): with the GTIN, it names one lot.
    Lot, "10", "lot"
);

/// A GS1 date `YYMMDD` (AI 17 expiry, AI 11 production). `day == 0` means the month's last day.
///
/// The two-digit year is resolved with the GS1 sliding-century rule against a reference year
/// that the caller takes from its clock, so that parsing stays pure.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Gs1Date {
    yy: u8,
    month: u8,
    day: u8,
}

impl Gs1Date {
    /// Parses `YYMMDD` for the AI named by `ai` (17 expiry, 11 production).
    pub fn parse_for(s: &str, ai: &'static str) -> Result<Self, Gs1Error> {
        let name = if ai == "11" {
            "production date"
        } else {
            "expiry"
        };
        Self::parse_named(s, ai, name)
    }

    /// Parses `YYMMDD` for any GS1 date AI (11, 12, 13, 15, 16, 17), naming it in errors.
    pub fn parse_named(s: &str, ai: &'static str, name: &'static str) -> Result<Self, Gs1Error> {
        if s.chars().count() != 6 {
            return Err(Gs1Error::Length {
                ai,
                name,
                expected: "6 digits (YYMMDD)",
                got: s.chars().count(),
            });
        }
        if let Some((position, found)) = s.chars().enumerate().find(|(_, c)| !c.is_ascii_digit()) {
            return Err(Gs1Error::NotDigit {
                ai,
                name,
                found,
                position,
            });
        }
        let n = |i: usize| (s.as_bytes()[i] - b'0') * 10 + (s.as_bytes()[i + 1] - b'0');
        let (yy, month, day) = (n(0), n(2), n(4));
        if !(1..=12).contains(&month) {
            return Err(Gs1Error::Date {
                ai,
                name,
                problem: format!("month {month:02} is not 01 to 12"),
            });
        }
        // Day 00 is the month's end (GS1 General Specifications, section 3.4, and the Barcode
        // Syntax Dictionary's `yymmd0` linter; section 7.12 gives the century). Any other day must exist in that month of that
        // year: 29 February only in a leap year. A two-digit year divisible by 4 resolves to a
        // leap year under the sliding century, with one exception that parsing cannot see:
        // `00` read from 2050 on is 2100 (see `resolve`).
        if day > days_in_month(2000 + i32::from(yy), month) {
            let problem = if month == 2 && day == 29 {
                format!("29 February does not exist in year {yy:02}, not a leap year")
            } else {
                format!("day {day:02} does not exist in month {month:02}")
            };
            return Err(Gs1Error::Date { ai, name, problem });
        }
        Ok(Self { yy, month, day })
    }

    /// The two-digit year, month and day (0 = end of month) as written.
    pub fn parts(&self) -> (u8, u8, u8) {
        (self.yy, self.month, self.day)
    }

    /// The full year by the GS1 century rule: with `reference_year` the current year, a
    /// difference `yy - current` of 51..=99 means the previous century, -99..=-50 the next.
    pub fn year(&self, reference_year: i32) -> i32 {
        let century = reference_year.div_euclid(100) * 100;
        let diff = i32::from(self.yy) - reference_year.rem_euclid(100);
        if diff >= 51 {
            century - 100 + i32::from(self.yy)
        } else if diff <= -50 {
            century + 100 + i32::from(self.yy)
        } else {
            century + i32::from(self.yy)
        }
    }

    /// The calendar date (year, month, day), with day 00 resolved to the month's last day.
    pub fn resolve(&self, reference_year: i32) -> (i32, u8, u8) {
        let year = self.year(reference_year);
        let last = days_in_month(year, self.month);
        // Parsing refused every day that does not exist, save `000229` read from 2050 on,
        // when `00` is 2100, not a leap year: that one date ends with February.
        let day = if self.day == 0 {
            last
        } else {
            self.day.min(last)
        };
        (year, self.month, day)
    }

    /// `YYYY-MM-DD`.
    pub fn to_iso(&self, reference_year: i32) -> String {
        let (y, m, d) = self.resolve(reference_year);
        format!("{y:04}-{m:02}-{d:02}")
    }

    /// The first millisecond after the date's last day (UTC): a unit is expired at or after it.
    pub fn end_unix_ms(&self, reference_year: i32) -> i64 {
        let (y, m, d) = self.resolve(reference_year);
        (days_from_civil(y, m, d) + 1) * 86_400_000
    }
}

impl FromStr for Gs1Date {
    type Err = Gs1Error;
    fn from_str(s: &str) -> Result<Self, Gs1Error> {
        Self::parse_for(s, "17")
    }
}

impl TryFrom<String> for Gs1Date {
    type Error = Gs1Error;
    fn try_from(s: String) -> Result<Self, Gs1Error> {
        s.parse()
    }
}

impl From<Gs1Date> for String {
    fn from(v: Gs1Date) -> String {
        v.to_string()
    }
}

impl fmt::Display for Gs1Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}{:02}{:02}", self.yy, self.month, self.day)
    }
}

impl fmt::Debug for Gs1Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Gs1Date({self})")
    }
}

/// Days in `month` of `year` (proleptic Gregorian).
pub fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
pub fn days_from_civil(year: i32, month: u8, day: u8) -> i64 {
    let y = i64::from(if month <= 2 { year - 1 } else { year });
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The UTC calendar year of a Unix time in milliseconds: the reference year for
/// [`Gs1Date::year`].
pub fn year_of_unix_ms(unix_ms: i64) -> i32 {
    let days = unix_ms.div_euclid(86_400_000);
    // Inverse of days_from_civil, year part only.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2)) as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_digits_of_published_examples() {
        // GS1 General Specifications examples.
        assert!("00614141000036".parse::<Gtin>().is_ok());
        assert!("0614141000005".parse::<Gln>().is_ok());
        assert!("106141411234567897".parse::<Sscc>().is_ok());
        assert!(matches!(
            "00614141000037".parse::<Gtin>(),
            Err(Gs1Error::CheckDigit { .. })
        ));
    }

    #[test]
    fn century_rule_and_month_end() {
        let d: Gs1Date = "280200".parse().expect("valid date");
        assert_eq!(d.to_iso(2026), "2028-02-29");
        assert_eq!(
            "250229".parse::<Gs1Date>(),
            Err(Gs1Error::Date {
                ai: "17",
                name: "expiry",
                problem: "29 February does not exist in year 25, not a leap year".to_owned(),
            })
        );
        let leap: Gs1Date = "240229".parse().expect("2024 is a leap year");
        assert_eq!(leap.to_iso(2026), "2024-02-29");
        let old: Gs1Date = "991231".parse().expect("valid date");
        assert_eq!(old.year(2026), 1999);
        assert_eq!(year_of_unix_ms(1_795_000_000_000), 2026);
        assert_eq!(days_from_civil(1970, 1, 1), 0);
    }
}
