//! Output for people (aligned, coloured on a terminal) and for scripts (`--json`).

use std::io::{IsTerminal, Write};

use isnad_core::event::{Payload, ReasonCode};
use isnad_core::gs1::days_from_civil;

/// A colour for text on a terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Colour {
    /// Success, a genuine unit.
    Green,
    /// A suspect unit, a failure.
    Red,
    /// A warning.
    Yellow,
    /// Labels and secondary text.
    Dim,
}

/// Where results go: text or JSON on stdout.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    /// Print JSON instead of text.
    pub json: bool,
    colour: bool,
}

impl Output {
    /// Text with colours when stdout is a terminal (and `NO_COLOR` is unset), or JSON.
    pub fn new(json: bool) -> Output {
        let colour =
            !json && std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        Output { json, colour }
    }

    /// `text` in `colour`, when colours are on.
    pub fn paint(&self, text: &str, colour: Colour) -> String {
        if !self.colour {
            return text.to_owned();
        }
        let code = match colour {
            Colour::Green => "1;32",
            Colour::Red => "1;31",
            Colour::Yellow => "1;33",
            Colour::Dim => "2",
        };
        format!("\u{1b}[{code}m{text}\u{1b}[0m")
    }

    /// A verdict's name, green when genuine and red otherwise.
    pub fn verdict(&self, verdict: ReasonCode) -> String {
        let colour = if verdict == ReasonCode::Genuine {
            Colour::Green
        } else {
            Colour::Red
        };
        self.paint(verdict.as_str(), colour)
    }

    /// Prints `label  value` lines with the values aligned.
    pub fn fields(&self, rows: &[(&str, String)]) {
        let width = rows.iter().map(|(label, _)| label.len()).max().unwrap_or(0);
        for (label, value) in rows {
            let padded = format!("{label:width$}");
            line(&format!("  {}  {value}", self.paint(&padded, Colour::Dim)));
        }
    }

    /// Prints one line of text.
    pub fn line(&self, text: &str) {
        line(text);
    }

    /// Prints a JSON value on one line.
    pub fn json_line(&self, value: &serde_json::Value) {
        line(&value.to_string());
    }
}

/// Prints a line and flushes, so that a script reading the output sees each line as it is
/// printed (a bulk capture reports each event as soon as it is captured).
fn line(text: &str) {
    let mut stdout = std::io::stdout().lock();
    // A closed pipe (`isnad ... | head`) is not worth a panic: the output is simply dropped.
    let _ = writeln!(stdout, "{text}");
    let _ = stdout.flush();
}

/// An event type's name, as the commands are named.
pub fn payload_name(payload: &Payload) -> &'static str {
    match payload {
        Payload::AdmitParticipant(_) => "admit",
        Payload::SuspendParticipant { .. } => "suspend",
        Payload::ReinstateParticipant { .. } => "reinstate",
        Payload::AddKey { .. } => "add-key",
        Payload::RevokeKey { .. } => "revoke-key",
        Payload::RegisterProduct { .. } => "register-product",
        Payload::Commission { .. } => "commission",
        Payload::Aggregate { .. } => "pack",
        Payload::Disaggregate { .. } => "unpack",
        Payload::Ship { .. } => "ship",
        Payload::Receive { .. } => "receive",
        Payload::Decommission { .. } => "decommission",
        Payload::Recall { .. } => "recall",
        Payload::Inspect { .. } => "inspect",
    }
}

/// A Unix time in milliseconds as `YYYY-MM-DDTHH:MM:SSZ` (UTC).
pub fn utc(unix_ms: i64) -> String {
    let days = unix_ms.div_euclid(86_400_000);
    let seconds = unix_ms.div_euclid(1_000).rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        seconds / 3_600,
        seconds / 60 % 60,
        seconds % 60
    )
}

/// The civil date of a day count since 1970-01-01 (Howard Hinnant's algorithm, the inverse of
/// `days_from_civil`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    debug_assert_eq!(
        days_from_civil(year as i32, month as u8, day as u8),
        days,
        "the inverse of days_from_civil"
    );
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(unix_ms: i64, expected: &str) {
        assert_eq!(utc(unix_ms), expected);
    }

    #[test]
    fn times_print_as_utc() {
        check(0, "1970-01-01T00:00:00Z");
        check(1_767_225_600_000, "2026-01-01T00:00:00Z");
        check(1_709_164_799_999, "2024-02-28T23:59:59Z");
        check(1_709_251_199_000, "2024-02-29T23:59:59Z");
        check(-1_000, "1969-12-31T23:59:59Z");
    }

    #[test]
    fn colours_only_when_asked() {
        let plain = Output {
            json: false,
            colour: false,
        };
        assert_eq!(plain.paint("GENUINE", Colour::Green), "GENUINE");
        let coloured = Output {
            json: false,
            colour: true,
        };
        assert_eq!(coloured.paint("X", Colour::Red), "\u{1b}[1;31mX\u{1b}[0m");
    }
}
