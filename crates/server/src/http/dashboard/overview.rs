//! The overview: decisions per hour and per day, the outcome rates, enrolment, and the
//! live feed.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use pointerprint_plot::{BarSeries, stacked_bars_svg};
use pointerprint_storage::{DecisionCount, DecisionQuery};

use super::auth::Admin;
use super::format;
use super::log::Row;
use super::page::{Chrome, PageError, render};
use crate::app::AppState;

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

/// The three outcomes, their labels and colours in every chart.
pub const OUTCOMES: [(&str, &str, (u8, u8, u8)); 3] = [
    ("accept", "accepted", (44, 160, 44)),
    ("reject", "rejected", (214, 39, 40)),
    ("insufficient_data", "too few actions", (150, 150, 150)),
];

/// Outcome counts over a period.
pub struct Rates {
    pub total: u64,
    pub accept: String,
    pub reject: String,
    pub insufficient: String,
}

impl Rates {
    fn of(counts: &[DecisionCount]) -> Self {
        let of = |d: &str| {
            counts
                .iter()
                .filter(|c| c.decision == d)
                .map(|c| c.count)
                .sum()
        };
        let total = counts.iter().map(|c| c.count).sum();
        Rates {
            total,
            accept: format::percent(of("accept"), total),
            reject: format::percent(of("reject"), total),
            insufficient: format::percent(of("insufficient_data"), total),
        }
    }
}

#[derive(Template)]
#[template(path = "dashboard/overview.html")]
struct Overview {
    chrome: Chrome,
    day_rates: Rates,
    week_rates: Rates,
    enrolled: usize,
    pending: usize,
    hourly_svg: String,
    daily_svg: String,
    recent: Vec<Row>,
}

/// Stacked bars of `counts` in `buckets` buckets of `bucket_ms` from `from_ms`.
fn chart(
    title: &str,
    counts: &[DecisionCount],
    from_ms: i64,
    bucket_ms: i64,
    buckets: usize,
    label: fn(i64) -> String,
) -> String {
    let labels: Vec<String> = (0..buckets)
        .map(|i| label(from_ms + i as i64 * bucket_ms))
        .collect();
    let series: Vec<BarSeries> = OUTCOMES
        .iter()
        .map(|(decision, name, colour)| {
            let mut per_bucket = vec![0u64; buckets];
            for c in counts.iter().filter(|c| c.decision == *decision) {
                let i = (c.bucket_ms - from_ms).div_euclid(bucket_ms);
                if let Some(slot) = usize::try_from(i).ok().and_then(|i| per_bucket.get_mut(i)) {
                    *slot += c.count;
                }
            }
            BarSeries {
                label: (*name).to_string(),
                colour: *colour,
                counts: per_bucket,
            }
        })
        .collect();
    stacked_bars_svg(title, &labels, &series).unwrap_or_else(|e| {
        tracing::error!(error = %e, "cannot draw the decision chart");
        String::new()
    })
}

/// `GET /dashboard`.
pub async fn page(State(state): State<AppState>, admin: Admin) -> Result<Response, PageError> {
    let now = state.store.now_ms();
    // Whole hours and days, ending with the current one.
    let hour_start = now - now.rem_euclid(HOUR) - 23 * HOUR;
    let day_start = now - now.rem_euclid(DAY) - 13 * DAY;
    let hourly = state.store.decision_counts(hour_start, HOUR).await?;
    let daily = state.store.decision_counts(day_start, DAY).await?;
    let week: Vec<DecisionCount> = daily
        .iter()
        .filter(|c| c.bucket_ms >= now - now.rem_euclid(DAY) - 6 * DAY)
        .cloned()
        .collect();
    let users = state.store.users().await?;
    let enrolled = users
        .iter()
        .filter(|u| u.model_trained_at_ms.is_some())
        .count();
    let recent = state
        .store
        .decisions(&DecisionQuery {
            limit: 15,
            ..DecisionQuery::default()
        })
        .await?;
    let page = Overview {
        chrome: Chrome::new(&admin, "overview"),
        day_rates: Rates::of(&hourly),
        week_rates: Rates::of(&week),
        enrolled,
        pending: users.len() - enrolled,
        hourly_svg: chart(
            "Decisions per hour, last 24 hours (UTC)",
            &hourly,
            hour_start,
            HOUR,
            24,
            format::hour,
        ),
        daily_svg: chart(
            "Decisions per day, last 14 days (UTC)",
            &daily,
            day_start,
            DAY,
            14,
            format::day,
        ),
        recent: recent.iter().map(Row::from).collect(),
    };
    Ok(render(&page))
}
