//! The authentication log: every decision, filtered by user, outcome and time, a page at a
//! time, and as CSV.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use pointerprint_storage::{DecisionQuery, DecisionRecord};
use serde::Deserialize;

use super::auth::Admin;
use super::format;
use super::page::{Chrome, PageError, render};
use crate::app::AppState;
use crate::domain::ids::UserId;
use crate::http::error::ApiError;

const PAGE_SIZE: u32 = 50;
/// Most rows in one CSV export.
const EXPORT_MAX: u64 = 100_000;
const EXPORT_CHUNK: u32 = 1_000;

/// One decision as the tables show it.
pub struct Row {
    pub id: i64,
    pub time: String,
    pub user_id: String,
    pub session_id: String,
    pub decision: String,
    pub decision_label: &'static str,
    pub score: String,
    pub threshold: String,
    pub actions: i64,
    pub reasons: String,
}

/// How an outcome reads in a table.
pub fn decision_label(decision: &str) -> &'static str {
    match decision {
        "accept" => "accepted",
        "reject" => "rejected",
        "insufficient_data" => "too few actions",
        _ => "unknown",
    }
}

fn reasons(d: &DecisionRecord) -> Vec<String> {
    serde_json::from_str(&d.reasons_json).unwrap_or_default()
}

impl From<&DecisionRecord> for Row {
    fn from(d: &DecisionRecord) -> Self {
        Row {
            id: d.id,
            time: format::datetime(d.created_ms),
            user_id: d.user_id.clone(),
            session_id: d.session_id.clone().unwrap_or_default(),
            decision: d.decision.clone(),
            decision_label: decision_label(&d.decision),
            score: format!("{:.3}", d.score),
            threshold: format!("{:.3}", d.threshold),
            actions: d.actions,
            reasons: reasons(d).join("; "),
        }
    }
}

/// The log's filters as they come in the query string; empty fields mean "any".
#[derive(Deserialize, Default)]
pub struct Filter {
    #[serde(default)]
    user: String,
    #[serde(default)]
    decision: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    page: u64,
}

/// The filters checked and turned into a store query (without paging).
struct Checked<'a> {
    user: Option<&'a str>,
    decision: Option<&'a str>,
    from_ms: Option<i64>,
    to_ms: Option<i64>,
}

impl Filter {
    fn check(&self) -> Result<Checked<'_>, ApiError> {
        let user = Some(self.user.trim()).filter(|u| !u.is_empty());
        if let Some(u) = user {
            UserId::parse(u)?;
        }
        let decision = Some(self.decision.as_str()).filter(|d| !d.is_empty());
        if let Some(d) = decision
            && decision_label(d) == "unknown"
        {
            return Err(ApiError::bad_request(
                "invalid_filter",
                format!("no decision {d:?}: accept, reject or insufficient_data"),
            ));
        }
        let time = |what: &str, text: &str| -> Result<Option<i64>, ApiError> {
            if text.trim().is_empty() {
                return Ok(None);
            }
            format::parse_datetime(text).map(Some).ok_or_else(|| {
                ApiError::bad_request(
                    "invalid_filter",
                    format!("{what} {text:?} is not a date and time like 2026-01-31T14:00"),
                )
            })
        };
        Ok(Checked {
            user,
            decision,
            from_ms: time("from", &self.from)?,
            to_ms: time("to", &self.to)?,
        })
    }

    /// The query string of these filters on another page (or `None` for the CSV).
    fn link(&self, page: Option<u64>) -> String {
        let mut pairs = vec![
            ("user", self.user.clone()),
            ("decision", self.decision.clone()),
            ("from", self.from.clone()),
            ("to", self.to.clone()),
        ];
        if let Some(p) = page {
            pairs.push(("page", p.to_string()));
        }
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    }
}

impl Checked<'_> {
    fn query(&self, offset: u64, limit: u32) -> DecisionQuery<'_> {
        DecisionQuery {
            user_id: self.user,
            decision: self.decision,
            from_ms: self.from_ms,
            to_ms: self.to_ms,
            offset,
            limit,
        }
    }
}

#[derive(Template)]
#[template(path = "dashboard/log.html")]
struct LogPage<'a> {
    chrome: Chrome,
    filter: &'a Filter,
    rows: Vec<Row>,
    total: u64,
    first: u64,
    last: u64,
    prev: Option<String>,
    next: Option<String>,
    csv: String,
}

/// `GET /dashboard/log`.
pub async fn page(
    State(state): State<AppState>,
    admin: Admin,
    Query(filter): Query<Filter>,
) -> Result<Response, PageError> {
    let checked = filter.check()?;
    let total = state.store.count_decisions(&checked.query(0, 1)).await?;
    // A page past the last (however large its number) shows the last.
    let number = filter
        .page
        .min(total.saturating_sub(1) / u64::from(PAGE_SIZE));
    let offset = number * u64::from(PAGE_SIZE);
    let records = state
        .store
        .decisions(&checked.query(offset, PAGE_SIZE))
        .await?;
    let shown = records.len() as u64;
    let page = LogPage {
        chrome: Chrome::new(&admin, "log"),
        filter: &filter,
        rows: records.iter().map(Row::from).collect(),
        total,
        first: if shown == 0 { 0 } else { offset + 1 },
        last: offset + shown,
        prev: (number > 0).then(|| filter.link(Some(number - 1))),
        next: (offset + shown < total).then(|| filter.link(Some(number + 1))),
        csv: filter.link(None),
    };
    Ok(render(&page))
}

/// A CSV field: quoted when needed, and never starting like a spreadsheet formula.
fn csv_field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@']) {
        format!("'{text}")
    } else {
        text.to_string()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

/// `GET /dashboard/log.csv`: every decision the filters select (up to 100,000), newest first.
pub async fn csv(
    State(state): State<AppState>,
    _admin: Admin,
    Query(filter): Query<Filter>,
) -> Result<Response, PageError> {
    let checked = filter.check()?;
    let mut out =
        String::from("time_utc,id,user_id,session_id,decision,score,threshold,actions,reasons\n");
    let mut offset = 0;
    while offset < EXPORT_MAX {
        let chunk = state
            .store
            .decisions(&checked.query(offset, EXPORT_CHUNK))
            .await?;
        for d in &chunk {
            let fields = [
                format::datetime(d.created_ms),
                d.id.to_string(),
                csv_field(&d.user_id),
                csv_field(d.session_id.as_deref().unwrap_or("")),
                d.decision.clone(),
                d.score.to_string(),
                d.threshold.to_string(),
                d.actions.to_string(),
                csv_field(&reasons(d).join("; ")),
            ];
            out.push_str(&fields.join(","));
            out.push('\n');
        }
        if chunk.len() < EXPORT_CHUNK as usize {
            break;
        }
        offset += u64::from(EXPORT_CHUNK);
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"decisions.csv\"",
            ),
        ],
        out,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_defused() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=1+1"), "'=1+1");
    }

    #[test]
    fn filters_are_checked() {
        let bad = Filter {
            decision: "maybe".into(),
            ..Filter::default()
        };
        assert!(bad.check().is_err());
        let bad = Filter {
            from: "yesterday".into(),
            ..Filter::default()
        };
        assert!(bad.check().is_err());
        let good = Filter {
            user: "u1".into(),
            decision: "accept".into(),
            from: "2026-01-01T00:00".into(),
            ..Filter::default()
        };
        let checked = good.check().unwrap();
        assert_eq!(checked.user, Some("u1"));
        assert_eq!(checked.from_ms, Some(1_767_225_600_000));
    }
}
