//! Times and numbers as the dashboard shows them: UTC, to the second, no time-zone library.

/// Milliseconds since the epoch as `YYYY-MM-DD HH:MM:SS` (UTC).
pub fn datetime(ms: i64) -> String {
    let (date, secs) = split(ms);
    format!(
        "{date} {:02}:{:02}:{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// `MM-DD HH:MM` (UTC), for axis labels.
pub fn short_datetime(ms: i64) -> String {
    let (date, secs) = split(ms);
    format!("{} {:02}:{:02}", &date[5..], secs / 3600, secs / 60 % 60)
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
    format!("{:02}:00", split(ms).1 / 3600)
}

/// `MM-DD` (UTC), for daily buckets.
pub fn day(ms: i64) -> String {
    split(ms).0[5..].to_string()
}

/// Parses `YYYY-MM-DDTHH:MM[:SS]` (or with a space) as UTC; `None` if malformed.
pub fn parse_datetime(text: &str) -> Option<i64> {
    let text = text.trim();
    let (date, time) = text.split_once(['T', ' '])?;
    let mut d = date.splitn(3, '-').map(str::parse::<i64>);
    let (y, m, day) = (d.next()?.ok()?, d.next()?.ok()?, d.next()?.ok()?);
    let mut t = time.splitn(3, ':').map(str::parse::<i64>);
    let (h, min) = (t.next()?.ok()?, t.next()?.ok()?);
    let s = t.next().map(Result::ok).unwrap_or(Some(0))?;
    let valid = (1..=12).contains(&m)
        && (1..=31).contains(&day)
        && (0..24).contains(&h)
        && (0..60).contains(&min)
        && (0..60).contains(&s)
        && (1970..=9999).contains(&y);
    valid.then(|| ((days_from_civil(y, m, day) * 24 + h) * 60 + min) * 60_000 + s * 1000)
}

/// A fraction as a percentage with one decimal, or "–" when there is nothing to divide.
pub fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        "–".into()
    } else {
        format!("{:.1} %", part as f64 * 100.0 / whole as f64)
    }
}

fn split(ms: i64) -> (String, i64) {
    let days = ms.div_euclid(86_400_000);
    let secs = ms.rem_euclid(86_400_000) / 1000;
    let (y, m, d) = civil_from_days(days);
    (format!("{y:04}-{m:02}-{d:02}"), secs)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number from [`days_from_civil`].
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

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
