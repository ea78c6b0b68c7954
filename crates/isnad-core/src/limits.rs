//! Limits the executor enforces, each a named constant. Over a limit an event is refused as a
//! whole with `RESOURCE_EXHAUSTED` (counts) or `INVALID_ARGUMENT` (field sizes): never a
//! partial write. The scan length limit lives with the parser (`scan::SCAN_LEN_MAX`).

/// Serials one Commission may create, listed and ranged together, after range expansion: keeps
/// one event's writes bounded (three keys per unit).
pub const SERIALS_PER_COMMISSION_MAX: usize = 10_000;

/// Items per Aggregate, Disaggregate, Ship, Decommission, and missing items per Receive.
pub const ITEMS_PER_EVENT_MAX: usize = 10_000;

/// Serials and items one capture request carries at most, over all its events: serials
/// (ranges counted by their `count`, never expanded), items, and missing items of a Receive,
/// as [`values_of`] counts them, each event counting at least 1. Three full commissions: the
/// writes these values make (about three state records per serial or item) stay within what
/// one atomic commit holds, so a request is refused before it reaches the sequencer rather
/// than after materialising millions of units.
pub const VALUES_PER_REQUEST_MAX: u64 = 3 * SERIALS_PER_COMMISSION_MAX as u64;

/// Entries (log indexes) one history answer lists at most. A search for a history stops
/// collecting one past it, so the refusal costs no more than the limit.
pub const HISTORY_ENTRIES_MAX: usize = 10_000;

/// Sightings (Inspect events) of one unit that its verdict weighs: the most recent ones. A
/// unit inspected 20,000 times keeps a verification answer of a few hundred entries, and the
/// server sends exactly these, so the client re-derives the same verdict from them.
pub const SIGHTINGS_JUDGED_MAX: usize = 100;

/// How deep logistic units nest (pallet > case > inner pack > bundle): bounds every walk up a
/// unit's container chain.
pub const SSCC_NESTING_MAX: usize = 4;

/// Characters in a participant's or a product's name.
pub const NAME_LEN_MAX: usize = 200;

/// Characters in a free-text reason (suspension, recall).
pub const REASON_LEN_MAX: usize = 1_000;

/// Roles, sites, company prefixes or keys in one admission: a participant record stays small.
pub const PARTICIPANT_LIST_MAX: usize = 64;

/// Digits of a GS1 company prefix, least and most.
pub const COMPANY_PREFIX_DIGITS: std::ops::RangeInclusive<usize> = 6..=12;

/// Characters of a refused value quoted back in an error message at most: a message names what
/// was wrong without echoing a megabyte of junk to the sender and into the logs.
pub const ECHO_CHARS_MAX: usize = 32;

/// `value` as an error message quotes it: whole when short, otherwise its first
/// [`ECHO_CHARS_MAX`] characters and its length.
pub fn excerpt(value: &str) -> String {
    let len = value.chars().count();
    if len <= ECHO_CHARS_MAX {
        return format!("{value:?}");
    }
    let head: String = value.chars().take(ECHO_CHARS_MAX).collect();
    format!("{head:?}… ({len} characters)")
}

/// The serials and items an event's payload carries, counted without expanding a serial
/// range (its `count` is the number of serials it names), at least 1: what
/// [`VALUES_PER_REQUEST_MAX`] bounds. Saturates rather than overflows.
pub fn values_of(payload: &crate::event::Payload) -> u64 {
    use crate::event::Payload;
    let count = match payload {
        Payload::Commission {
            serials,
            serial_ranges,
            ..
        } => serial_ranges
            .iter()
            .fold(serials.len() as u64, |total, range| {
                total.saturating_add(u64::from(range.count))
            }),
        Payload::Aggregate { items, .. }
        | Payload::Disaggregate { items, .. }
        | Payload::Ship { items, .. }
        | Payload::Decommission { items, .. } => items.len() as u64,
        Payload::Receive { missing, .. } => missing.len() as u64,
        _ => 1,
    };
    count.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_values_are_quoted_by_a_prefix_and_their_length() {
        assert_eq!(excerpt("SN1"), "\"SN1\"");
        let long = "S".repeat(65_535);
        let quoted = excerpt(&long);
        assert!(quoted.len() < 64, "{quoted}");
        assert!(quoted.ends_with("… (65535 characters)"), "{quoted}");
        assert!(quoted.starts_with(&format!("{:?}", &long[..ECHO_CHARS_MAX])[..ECHO_CHARS_MAX]));
    }
}
