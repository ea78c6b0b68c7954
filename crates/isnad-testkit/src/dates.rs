//! GS1 dates (`YYMMDD`) relative to today, for tests against a server that judges expiry by
//! its own clock: a fixed expiry would make every commission fail once its day has passed.

use std::time::{SystemTime, UNIX_EPOCH};

use isnad_core::gs1::{days_from_civil, days_in_month, year_of_unix_ms};

/// A day in milliseconds.
const DAY_MS: i64 = 86_400_000;

/// Years between today and [`expiry_ahead`]: far enough that no test run reaches it, near
/// enough that the GS1 century rule reads it as a future year.
pub const EXPIRY_AHEAD_YEARS: i32 = 4;

/// The wall clock now, in milliseconds since the Unix epoch: the clock the server uses.
pub fn now_unix_ms() -> i64 {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970");
    i64::try_from(since_epoch.as_millis()).expect("milliseconds since 1970 fit an i64")
}

/// The UTC calendar date (year, month, day) of a Unix time in milliseconds.
pub fn civil_date(unix_ms: i64) -> (i32, u8, u8) {
    let days = unix_ms.div_euclid(DAY_MS);
    let year = year_of_unix_ms(unix_ms);
    let month = (1..=12u8)
        .rev()
        .find(|month| days_from_civil(year, *month, 1) <= days)
        .expect("every day of a year falls on or after its January 1st");
    let day = days - days_from_civil(year, month, 1) + 1;
    let day = u8::try_from(day).expect("a day of the month fits a u8");
    assert!(day <= days_in_month(year, month), "a day of its month");
    (year, month, day)
}

/// `YYMMDD` of a Unix time in milliseconds (UTC).
pub fn yymmdd(unix_ms: i64) -> String {
    let (year, month, day) = civil_date(unix_ms);
    format!("{:02}{month:02}{day:02}", year.rem_euclid(100))
}

/// December 31st, [`EXPIRY_AHEAD_YEARS`] plus `later_years` years after this year: an expiry
/// the server's clock has not reached. With `later_years` = 1, another valid expiry.
pub fn expiry_ahead_by(later_years: i32) -> String {
    let year = year_of_unix_ms(now_unix_ms()) + EXPIRY_AHEAD_YEARS + later_years;
    format!("{:02}1231", year.rem_euclid(100))
}

/// December 31st, [`EXPIRY_AHEAD_YEARS`] after this year: the expiry of lots that must stay
/// valid for any test run.
pub fn expiry_ahead() -> String {
    expiry_ahead_by(0)
}

/// The same expiry as [`expiry_ahead`], written with day 00 (the month's last day).
pub fn expiry_ahead_as_day_00() -> String {
    let ahead = expiry_ahead();
    format!("{}00", &ahead[..4])
}

/// The last day of last month, written with day 00: an expiry that has passed.
pub fn expiry_passed() -> String {
    let (year, month, _) = civil_date(now_unix_ms());
    let (year, month) = if month == 1 {
        (year - 1, 12)
    } else {
        (year, month - 1)
    };
    format!("{:02}{month:02}00", year.rem_euclid(100))
}

/// The day `days` days from now, as `YYMMDD`: a short-dated expiry.
pub fn expiry_in_days(days: i64) -> String {
    yymmdd(now_unix_ms() + days * DAY_MS)
}

#[cfg(test)]
mod tests {
    use isnad_core::gs1::Gs1Date;

    use super::*;

    /// 2026-11-30T23:59:00Z.
    const NOV_30_2026_LATE: i64 = 1_796_083_140_000;

    #[test]
    fn civil_dates_of_known_instants() {
        assert_eq!(civil_date(0), (1970, 1, 1));
        assert_eq!(civil_date(NOV_30_2026_LATE), (2026, 11, 30));
        assert_eq!(civil_date(NOV_30_2026_LATE + 60_000), (2026, 12, 1));
        assert_eq!(yymmdd(NOV_30_2026_LATE), "261130");
        // 2028-02-29, a leap day.
        assert_eq!(yymmdd(1_835_395_200_000), "280229");
    }

    #[test]
    fn expiries_relative_to_today() {
        let now = now_unix_ms();
        let year = year_of_unix_ms(now);
        let end = |text: &str| {
            text.parse::<Gs1Date>()
                .expect("a valid GS1 date")
                .end_unix_ms(year)
        };
        assert!(end(&expiry_ahead()) > now + 3 * 365 * DAY_MS);
        assert!(end(&expiry_ahead_by(1)) > end(&expiry_ahead()));
        assert_eq!(end(&expiry_ahead_as_day_00()), end(&expiry_ahead()));
        assert!(end(&expiry_passed()) <= now);
        assert!(end(&expiry_passed()) > now - 32 * DAY_MS);
        let short = end(&expiry_in_days(20));
        assert!(short > now + 19 * DAY_MS && short <= now + 21 * DAY_MS);
    }
}
