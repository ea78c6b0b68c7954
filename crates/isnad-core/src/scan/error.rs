//! Why a scan was refused, which AI is at fault, and what the person scanning should do.

use std::fmt;

use crate::gs1::Gs1Error;

use super::SCAN_LEN_MAX;

/// A refused scan: what is wrong, the AI at fault when there is one, and a hint.
///
/// Its `Display` is one sentence for the problem and one for the hint, so that a handheld, the
/// CLI and the server's `scan_error` show the same words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanError {
    problem: Problem,
    ai: Option<String>,
    hint: Hint,
}

impl ScanError {
    /// A refusal of `problem`, with the hint that fits it.
    pub(super) fn new(problem: Problem) -> Self {
        let ai = problem.ai();
        let hint = problem.hint();
        Self { problem, ai, hint }
    }

    /// The same refusal with another hint (the form of the scan can tell more than the problem).
    pub(super) fn with_hint(mut self, hint: Hint) -> Self {
        self.hint = hint;
        self
    }

    /// What is wrong.
    pub fn problem(&self) -> &Problem {
        &self.problem
    }

    /// The AI at fault (`"17"`), or `None` when the fault is in no one element (an empty scan,
    /// a symbology identifier, a Digital Link's structure).
    pub fn ai(&self) -> Option<&str> {
        self.ai.as_deref()
    }

    /// What the person scanning should do about it.
    pub fn hint(&self) -> Hint {
        self.hint
    }
}

impl fmt::Display for ScanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let problem = self.problem.to_string();
        let stop = if problem.ends_with('?') { "" } else { "." };
        write!(f, "{problem}{stop} {}", self.hint)
    }
}

impl std::error::Error for ScanError {}

impl From<Problem> for ScanError {
    fn from(problem: Problem) -> Self {
        Self::new(problem)
    }
}

impl From<Gs1Error> for ScanError {
    fn from(error: Gs1Error) -> Self {
        Self::new(Problem::Value(error))
    }
}

/// What the person scanning should do about a refused scan.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Hint {
    /// The read itself went wrong, or the label is faulty: scan again, report a label that
    /// reads the same twice.
    Rescan,
    /// The scanner (or the keyboard it types through) is in Caps Lock: letters are flipped.
    CheckCapsLock,
    /// The scanner drops the GS (FNC1) separators between variable-length elements.
    EnableSeparators,
    /// The code scanned carries no GS1 data: another code on the pack was read.
    ScanGs1Symbol,
    /// A typed bracketed form has a wrong GTIN length or spaces: type it as printed.
    TypeAsPrinted,
}

impl Hint {
    /// A stable name for machines (`--json`, logs).
    pub fn code(self) -> &'static str {
        match self {
            Self::Rescan => "rescan",
            Self::CheckCapsLock => "check_caps_lock",
            Self::EnableSeparators => "enable_separators",
            Self::ScanGs1Symbol => "scan_gs1_symbol",
            Self::TypeAsPrinted => "type_as_printed",
        }
    }
}

impl fmt::Display for Hint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Rescan => {
                "Rescan the label; if it reads the same again, the label itself is faulty: report it"
            }
            Self::CheckCapsLock => {
                "Turn Caps Lock off on the scanner or its keyboard, then rescan: serials and lots \
                 read now have their letters flipped"
            }
            Self::EnableSeparators => {
                "Set the scanner to transmit GS (FNC1) separators, then rescan"
            }
            Self::ScanGs1Symbol => {
                "Scan the GS1 DataMatrix (or other GS1 symbol) of the pack, not another code"
            }
            Self::TypeAsPrinted => {
                "Type the bracketed form exactly as printed: no spaces, the GTIN with its 14 digits"
            }
        })
    }
}

/// What is wrong with a scan.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    /// Nothing but whitespace (and perhaps a symbology identifier) was scanned.
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
    Value(Gs1Error),
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
    /// An AI whose requisite AI is absent: a serial without the GTIN it qualifies.
    #[error("AI ({ai}) {name} needs {needs} in the same scan")]
    MissingRequisite {
        /// The AI that needs another.
        ai: &'static str,
        /// Its name.
        name: &'static str,
        /// The AIs of which one must be present, in words: `"a GTIN (01)"`.
        needs: &'static str,
    },
    /// Two AIs that exclude each other: the scan mixes two labels or the label is wrong.
    #[error("AI ({ai}) {name} cannot stand with AI ({other}) in one scan")]
    Exclusive {
        /// The AI that excludes the other.
        ai: &'static str,
        /// Its name.
        name: &'static str,
        /// The AI it excludes.
        other: &'static str,
    },
    /// Two GS separators in a row: an element with no AI and no value.
    #[error("two GS separators in a row at position {position}: an empty element")]
    EmptyElement {
        /// Character position of the second separator.
        position: usize,
    },
    /// A human-readable AI opened with `(` and not closed.
    #[error("the AI opened at position {position} is not closed with ')'")]
    Unclosed {
        /// Character position of the `(`.
        position: usize,
    },
    /// A space in the bracketed form, where GS1 has none.
    #[error("a space at position {position} of the bracketed form")]
    SpaceInBracketed {
        /// Character position of the space.
        position: usize,
    },
    /// A symbology identifier whose letter has the wrong case: `]D2` for `]d2`.
    #[error(
        "symbology identifier {found} is {expected} with its letter's case flipped: the scanner types in Caps Lock"
    )]
    SymbologyCase {
        /// The identifier received.
        found: String,
        /// The identifier it stands for.
        expected: &'static str,
    },
    /// A symbology identifier that does not announce the data that follows it.
    #[error("symbology identifier {found} ({symbol}) does not carry {carried}")]
    WrongSymbology {
        /// The identifier received.
        found: String,
        /// The symbol it names, in words.
        symbol: &'static str,
        /// What the rest of the scan is, in words.
        carried: &'static str,
    },
    /// A Digital Link whose path holds no `/01/{gtin}`, `/00/{sscc}` or `/414/{gln}` pair.
    #[error(
        "Digital Link: no primary key (/01/{{gtin}}, /00/{{sscc}} or /414/{{gln}}) in the path"
    )]
    NoPrimaryKey,
    /// A Digital Link scheme in mixed letter case (`hTTPS`): the case of the letters was flipped.
    #[error("Digital Link: scheme {scheme:?} mixes upper and lower case")]
    LinkSchemeCase {
        /// The scheme as received.
        scheme: String,
    },
    /// A Digital Link path that ends with `/`.
    #[error("Digital Link: the path ends with '/'")]
    LinkTrailingSlash,
    /// A key qualifier (lot, serial) in the query string instead of the path.
    #[error(
        "Digital Link: AI ({ai}) {name} is a key qualifier: it belongs in the path, not the query"
    )]
    LinkQualifierInQuery {
        /// The qualifier's AI.
        ai: &'static str,
        /// Its name.
        name: &'static str,
    },
    /// A key qualifier out of the standard's order, or one that does not qualify this key.
    #[error(
        "Digital Link: AI ({ai}) {name} cannot follow ({after}) in the path; the order is {order}"
    )]
    LinkQualifierOrder {
        /// The misplaced AI.
        ai: &'static str,
        /// Its name.
        name: &'static str,
        /// The path element it follows.
        after: &'static str,
        /// The qualifiers the primary key takes, in order.
        order: &'static str,
    },
    /// A data attribute (expiry, ...) in the path instead of the query string.
    #[error(
        "Digital Link: AI ({ai}) {name} is a data attribute: it belongs in the query, not the path"
    )]
    LinkAttributeInPath {
        /// The attribute's AI.
        ai: &'static str,
        /// Its name.
        name: &'static str,
    },
    /// An AI given twice in one Digital Link.
    #[error("Digital Link: AI ({ai}) {name} is given twice")]
    LinkRepeated {
        /// The repeated AI.
        ai: &'static str,
        /// Its name.
        name: &'static str,
    },
    /// A `+` in a query value, which a web server reads as a space.
    #[error(
        "Digital Link: AI ({ai}) value {value:?} has a '+', which a query reads as a space (a '+' is written %2B)"
    )]
    LinkPlusInQuery {
        /// The AI whose value holds the `+`.
        ai: &'static str,
        /// The value as found in the URI.
        value: String,
    },
    /// A Digital Link value with a `%` not followed by two hex digits, or not UTF-8 once decoded.
    #[error("Digital Link: AI ({ai}) value {value:?} is not valid percent-encoding")]
    PercentEncoding {
        /// The AI whose value is broken.
        ai: &'static str,
        /// The value as found in the URI.
        value: String,
    },
}

impl Problem {
    /// The AI at fault, when the problem concerns one element.
    fn ai(&self) -> Option<String> {
        let ai = match self {
            Self::Value(error) => error.ai(),
            Self::UnknownAi { ai } => return Some(ai.clone()),
            Self::MissingSeparator { ai, .. }
            | Self::Duplicate { ai, .. }
            | Self::MissingRequisite { ai, .. }
            | Self::Exclusive { ai, .. }
            | Self::LinkQualifierInQuery { ai, .. }
            | Self::LinkQualifierOrder { ai, .. }
            | Self::LinkAttributeInPath { ai, .. }
            | Self::LinkRepeated { ai, .. }
            | Self::LinkPlusInQuery { ai, .. }
            | Self::PercentEncoding { ai, .. } => ai,
            Self::Empty
            | Self::TooLong { .. }
            | Self::NotAnAi { .. }
            | Self::EmptyElement { .. }
            | Self::Unclosed { .. }
            | Self::SpaceInBracketed { .. }
            | Self::SymbologyCase { .. }
            | Self::WrongSymbology { .. }
            | Self::NoPrimaryKey
            | Self::LinkSchemeCase { .. }
            | Self::LinkTrailingSlash => return None,
        };
        Some(ai.to_owned())
    }

    /// The hint that fits the problem whatever form the scan came in.
    fn hint(&self) -> Hint {
        match self {
            Self::MissingSeparator { .. } | Self::EmptyElement { .. } => Hint::EnableSeparators,
            Self::SymbologyCase { .. } | Self::LinkSchemeCase { .. } => Hint::CheckCapsLock,
            Self::WrongSymbology { .. } => Hint::ScanGs1Symbol,
            Self::SpaceInBracketed { .. } => Hint::TypeAsPrinted,
            Self::Empty
            | Self::TooLong { .. }
            | Self::Value(_)
            | Self::UnknownAi { .. }
            | Self::NotAnAi { .. }
            | Self::Duplicate { .. }
            | Self::MissingRequisite { .. }
            | Self::Exclusive { .. }
            | Self::Unclosed { .. }
            | Self::NoPrimaryKey
            | Self::LinkTrailingSlash
            | Self::LinkQualifierInQuery { .. }
            | Self::LinkQualifierOrder { .. }
            | Self::LinkAttributeInPath { .. }
            | Self::LinkRepeated { .. }
            | Self::LinkPlusInQuery { .. }
            | Self::PercentEncoding { .. } => Hint::Rescan,
        }
    }
}
