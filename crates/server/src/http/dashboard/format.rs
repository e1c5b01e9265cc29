//! Times, numbers and links as the dashboard shows them: UTC, to the second; ids in paths
//! percent-encoded.

use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

/// Everything but unreserved characters is encoded, so an id is always one path segment.
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// `text` as one URL path segment (templates use askama's `urlencode_strict`, the same).
pub fn segment(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, SEGMENT).to_string()
}

/// The dashboard page of a user.
pub fn user_path(user_id: &str) -> String {
    format!("/dashboard/users/{}", segment(user_id))
}

const DATETIME: &[BorrowedFormatItem<'_>] =
    format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");

/// The UTC date and time of milliseconds since the epoch (clamped to what a calendar holds).
fn utc(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// Milliseconds since the epoch as `YYYY-MM-DD HH:MM:SS` (UTC).
pub fn datetime(ms: i64) -> String {
    utc(ms).format(DATETIME).unwrap_or_default()
}

/// `MM-DD HH:MM` (UTC), for axis labels.
pub fn short_datetime(ms: i64) -> String {
    datetime(ms)[5..16].to_string()
}

/// `HH:MM:SS` (UTC).
pub fn clock(ms: i64) -> String {
    datetime(ms)[11..].to_string()
}

/// An axis-label format that tells points `span_ms` apart: the clock within a few hours,
/// day and time within a few days, the date beyond.
pub fn label_for_span(span_ms: i64) -> fn(i64) -> String {
    if span_ms < 6 * 3_600_000 {
        clock
    } else if span_ms < 5 * 86_400_000 {
        short_datetime
    } else {
        |ms| datetime(ms)[..10].to_string()
    }
}

/// `HH:00` (UTC), for hourly buckets.
pub fn hour(ms: i64) -> String {
    format!("{}:00", &datetime(ms)[11..13])
}

/// `MM-DD` (UTC), for daily buckets.
pub fn day(ms: i64) -> String {
    datetime(ms)[5..10].to_string()
}

/// Parses `YYYY-MM-DDTHH:MM[:SS]` (or with a space) as UTC, years 1970 to 9999; `None` if
/// malformed.
pub fn parse_datetime(text: &str) -> Option<i64> {
    let text = text.trim().replacen('T', " ", 1);
    let formats: [&[BorrowedFormatItem<'_>]; 2] = [
        DATETIME,
        format_description!("[year]-[month]-[day] [hour]:[minute]"),
    ];
    let parsed = formats
        .iter()
        .find_map(|f| PrimitiveDateTime::parse(&text, f).ok())?
        .assume_utc();
    (1970..=9999)
        .contains(&parsed.year())
        .then(|| (parsed.unix_timestamp_nanos() / 1_000_000) as i64)
}

/// A fraction as a percentage with one decimal, or "–" when there is nothing to divide.
pub fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        "–".into()
    } else {
        format!("{:.1} %", part as f64 * 100.0 / whole as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_stay_one_path_segment() {
        assert_eq!(segment("a.b-c_d"), "a.b-c_d");
        assert_eq!(segment("%7Aed"), "%257Aed");
        assert_eq!(segment("x/../k?"), "x%2F..%2Fk%3F");
        assert_eq!(user_path("a@b:c"), "/dashboard/users/a%40b%3Ac");
    }

    #[test]
    fn dates_round_trip_through_the_calendar() {
        assert_eq!(datetime(0), "1970-01-01 00:00:00");
        // 2024-02-29 12:34:56 UTC
        let leap = 1_709_210_096_000;
        assert_eq!(datetime(leap), "2024-02-29 12:34:56");
        assert_eq!(parse_datetime("2024-02-29T12:34:56"), Some(leap));
        assert_eq!(parse_datetime("2024-02-29 12:34"), Some(leap - 56_000));
        assert_eq!(short_datetime(leap), "02-29 12:34");
        assert_eq!(label_for_span(60_000)(leap), "12:34:56");
        assert_eq!(label_for_span(86_400_000)(leap), "02-29 12:34");
        assert_eq!(label_for_span(30 * 86_400_000)(leap), "2024-02-29");
        assert_eq!((hour(leap), day(leap)), ("12:00".into(), "02-29".into()));
        for bad in [
            "",
            "2024-13-01T00:00",
            "2024-01-01",
            "x-y-zTa:b",
            "2024-01-01T25:00",
        ] {
            assert_eq!(parse_datetime(bad), None, "{bad}");
        }
    }

    #[test]
    fn percentages_say_when_there_is_nothing() {
        assert_eq!(percent(1, 4), "25.0 %");
        assert_eq!(percent(0, 0), "–");
    }
}
