//! Users: enrolment progress, model status and quality, retraining and erasure; a user's
//! page with their score timeline and the replay of a session's trajectory.

use askama::Template;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use pointerprint_core::EventKind;
use pointerprint_model::{ModelSummary, SUMMARY_WINDOW};
use pointerprint_plot::{TimelineOutcome, TimelinePoint, score_histogram_svg, timeline_svg};
use pointerprint_storage::{DecisionQuery, UserStats};
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::{Admin, Posted};
use super::confirm::{Confirmation, Question, ask};
use super::format::{self, user_path};
use super::log::Row;
use super::page::{Chrome, PageError, render};
use crate::app::AppState;
use crate::app::ingest::enrolment;
use crate::app::users::{erase_user, queue_training, reset_user};
use crate::domain::decision;
use crate::domain::enrolment::Enrolment;
use crate::domain::ids::{SessionId, UserId};
use crate::http::error::ApiError;

/// Decisions drawn on a user's score timeline.
const TIMELINE_DECISIONS: u32 = 500;
/// Events sent to the trajectory replay at most.
const REPLAY_EVENTS: usize = 100_000;
/// Users on one page of the users table.
const USERS_PAGE: usize = 50;

/// A user as the users table shows them.
pub struct UserRow {
    pub user_id: String,
    pub events: u64,
    pub sessions: u64,
    /// `enrolled`, or how far enrolment is.
    pub status: String,
    /// Enrolment progress in percent (100 when enrolled).
    pub progress: u64,
    pub model: Option<ModelView>,
}

/// A stored model's summary, formatted.
pub struct ModelView {
    pub trained: String,
    pub learner: String,
    pub genuine_actions: usize,
    pub background_users: usize,
    /// Expected equal error rates at 1, 5, 10 and 20 actions, or "–" (one-class).
    pub eer: [String; 4],
    summary: ModelSummary,
}

async fn model_view(state: &AppState, user_id: &str) -> Result<Option<ModelView>, ApiError> {
    let Some(stored) = state.store.model(user_id).await? else {
        return Ok(None);
    };
    let summary: ModelSummary =
        serde_json::from_str(&stored.summary_json).map_err(ApiError::internal)?;
    let eer = summary.expected_eer.map_or_else(
        || std::array::from_fn(|_| "–".to_string()),
        |e| e.map(|v| format!("{:.1} %", v * 100.0)),
    );
    Ok(Some(ModelView {
        trained: format::datetime(stored.trained_at_ms),
        learner: format!("{:?}", summary.learner).to_lowercase(),
        genuine_actions: summary.genuine_actions,
        background_users: summary.background_users,
        eer,
        summary,
    }))
}

async fn user_row(state: &AppState, stats: &UserStats) -> Result<UserRow, ApiError> {
    let model = model_view(state, &stats.user_id).await?;
    let (status, progress) = match (&model, UserId::parse(stats.user_id.as_str())) {
        (Some(_), _) => ("enrolled".to_string(), 100),
        (None, Ok(user_id)) => match enrolment(state, &user_id).await? {
            Enrolment::Training => ("training queued".to_string(), 100),
            Enrolment::Collecting { events, target } => progress(events, target),
        },
        // Stored before ids were kept to their alphabet: shown, but no longer accepted.
        (None, Err(_)) => ("not a valid id".to_string(), 0),
    };
    Ok(UserRow {
        user_id: stats.user_id.clone(),
        events: stats.events,
        sessions: stats.sessions,
        status,
        progress,
        model,
    })
}

fn progress(events: u64, target: u64) -> (String, u64) {
    if target == u64::MAX {
        return (format!("{events} events; automatic training is off"), 0);
    }
    let percent = (events.saturating_mul(100) / target.max(1)).min(100);
    (format!("enrolling: {events} of {target} events"), percent)
}

#[derive(Template)]
#[template(path = "dashboard/users.html")]
struct UsersPage {
    chrome: Chrome,
    users: Vec<UserRow>,
    notice: Option<String>,
    /// "Users 51–100 of 5,000".
    shown: String,
    prev: Option<usize>,
    next: Option<usize>,
}

#[derive(Deserialize, Default)]
pub struct Notice {
    #[serde(default)]
    done: String,
}

/// The users table's query: a notice, and the page (past the last one shows the last).
#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    done: String,
    #[serde(default)]
    page: usize,
}

impl Notice {
    fn message(&self) -> Option<String> {
        match self.done.as_str() {
            "train" => Some("Training is queued; the model appears here when it is done.".into()),
            "erased" => Some("The user and everything stored about them were erased.".into()),
            "reset" => Some(
                "Enrolment starts over: events and model are gone, the decisions stay in the log."
                    .into(),
            ),
            _ => None,
        }
    }
}

/// `GET /dashboard/users?page=N`: [`USERS_PAGE`] users a page, by id. Only the page's
/// users are looked at further (model, enrolment).
pub async fn list(
    State(state): State<AppState>,
    admin: Admin,
    Query(query): Query<ListQuery>,
) -> Result<Response, PageError> {
    let all = state.store.users().await?;
    let last_page = all.len().saturating_sub(1) / USERS_PAGE;
    let page = query.page.min(last_page);
    let from = page * USERS_PAGE;
    let mut users = Vec::new();
    for stats in all.iter().skip(from).take(USERS_PAGE) {
        users.push(user_row(&state, stats).await?);
    }
    let shown = if users.is_empty() {
        String::new()
    } else {
        format!("Users {}–{} of {}", from + 1, from + users.len(), all.len())
    };
    let notice = Notice { done: query.done };
    Ok(render(&UsersPage {
        chrome: Chrome::new(&admin, "users"),
        users,
        notice: notice.message(),
        shown,
        prev: page.checked_sub(1),
        next: (page < last_page).then_some(page + 1),
    }))
}

/// A stored session, for the replay picker.
pub struct SessionRow {
    pub session_id: String,
    pub events: usize,
    pub seconds: String,
}

#[derive(Template)]
#[template(path = "dashboard/user.html")]
struct UserPage {
    chrome: Chrome,
    user: UserRow,
    notice: Option<String>,
    histogram_svg: String,
    histogram_note: String,
    timeline_svg: String,
    decisions: Vec<Row>,
    sessions: Vec<SessionRow>,
}

/// The model's out-of-fold score distributions with the threshold decisions on
/// [`SUMMARY_WINDOW`] actions would use now; action scores for older models.
async fn histogram(
    state: &AppState,
    user_id: &UserId,
    view: &ModelView,
) -> Result<(String, String), ApiError> {
    let s = &view.summary;
    let widen = |v: &[f32]| v.iter().map(|&x| f64::from(x)).collect::<Vec<f64>>();
    let (svg, note) = if s.genuine_window_scores.is_empty() {
        (
            score_histogram_svg(
                "Out-of-fold action scores",
                &widen(&s.genuine_scores),
                &widen(&s.impostor_scores),
                None,
            ),
            "Scores of single actions (the model predates session-score summaries; retrain to see them).".to_string(),
        )
    } else {
        let threshold = state.cache.model(user_id).await?.map(|model| {
            decision::threshold(
                &model,
                state.cache.settings().policy_for(user_id.as_str()),
                SUMMARY_WINDOW,
            )
        });
        (
            score_histogram_svg(
                &format!("Out-of-fold session scores, {SUMMARY_WINDOW} actions"),
                &widen(&s.genuine_window_scores),
                &widen(&s.impostor_window_scores),
                threshold,
            ),
            format!(
                "Sessions of {SUMMARY_WINDOW} actions the model did not train on: the user's own (genuine) and other people's (impostor), with the threshold the current policy sets for them."
            ),
        )
    };
    Ok((svg.unwrap_or_default(), note))
}

/// `GET /dashboard/users/{user_id}`.
pub async fn page(
    State(state): State<AppState>,
    admin: Admin,
    Path(user_id): Path<String>,
    Query(notice): Query<Notice>,
) -> Result<Response, PageError> {
    let user_id = UserId::parse(user_id)?;
    let stats = state
        .store
        .user(user_id.as_str())
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no user {user_id}")))?;
    let user = user_row(&state, &stats).await?;
    let (histogram_svg, histogram_note) = match &user.model {
        Some(view) => histogram(&state, &user_id, view).await?,
        None => (String::new(), String::new()),
    };
    let decisions = state
        .store
        .decisions(&DecisionQuery {
            user_id: Some(user_id.as_str()),
            limit: TIMELINE_DECISIONS,
            ..DecisionQuery::default()
        })
        .await?;
    let points: Vec<TimelinePoint> = decisions
        .iter()
        .map(|d| TimelinePoint {
            t: d.created_ms as f64,
            score: d.score,
            threshold: d.threshold,
            outcome: match d.decision.as_str() {
                "accept" => TimelineOutcome::Accept,
                "reject" => TimelineOutcome::Reject,
                _ => TimelineOutcome::Undecided,
            },
        })
        .collect();
    let timeline_svg = if points.is_empty() {
        String::new()
    } else {
        let times = decisions.iter().map(|d| d.created_ms);
        let span = times.clone().max().unwrap_or(0) - times.min().unwrap_or(0);
        let label = format::label_for_span(span);
        timeline_svg("Session scores over time (UTC)", &points, &|t| {
            label(t as i64)
        })
        .unwrap_or_default()
    };
    let sessions = state
        .store
        .user_sessions(user_id.as_str())
        .await?
        .iter()
        .map(|s| {
            let events = &s.recording.events;
            let span = match (events.first(), events.last()) {
                (Some(a), Some(b)) => (b.t - a.t) / 1000.0,
                _ => 0.0,
            };
            SessionRow {
                session_id: s.session_id.clone(),
                events: events.len(),
                seconds: format!("{span:.0}"),
            }
        })
        .collect();
    Ok(render(&UserPage {
        chrome: Chrome::new(&admin, "users"),
        user,
        notice: notice.message(),
        histogram_svg,
        histogram_note,
        timeline_svg,
        decisions: decisions.iter().take(20).map(Row::from).collect(),
        sessions,
    }))
}

#[derive(Deserialize)]
pub struct NoFields {}

/// `POST /dashboard/users/{user_id}/train`: queues retraining.
pub async fn train(
    State(state): State<AppState>,
    Path(user_id): Path<String>,
    _posted: Posted<NoFields>,
) -> Result<Response, PageError> {
    let user_id = UserId::parse(user_id)?;
    queue_training(&state, &user_id).await?;
    let to = format!("{}?done=train", user_path(user_id.as_str()));
    Ok(Redirect::to(&to).into_response())
}

/// `POST /dashboard/users/{user_id}/reset`: starts enrolment over, keeping the log, once
/// confirmed for this user.
pub async fn reset(
    State(state): State<AppState>,
    Path(user_id): Path<String>,
    posted: Posted<Confirmation>,
) -> Result<Response, PageError> {
    let user_id = UserId::parse(user_id)?;
    let page = user_path(user_id.as_str());
    if !posted.form.confirms(user_id.as_str()) {
        return Ok(ask(
            &posted.admin,
            "users",
            Question {
                title: "Reset enrolment",
                text: format!(
                    "Reset {user_id}: discard their events and model so enrolment starts over? Their decisions stay in the log."
                ),
                action: format!("{page}/reset"),
                target: user_id.to_string(),
                button: "Reset enrolment",
                cancel: page,
            },
        ));
    }
    reset_user(&state, &user_id).await?;
    tracing::info!(user = %user_id, by = %posted.admin.username(), "reset from the dashboard");
    Ok(Redirect::to(&format!("{page}?done=reset")).into_response())
}

/// `POST /dashboard/users/{user_id}/erase`: erases everything about the user, once
/// confirmed for this user.
pub async fn erase(
    State(state): State<AppState>,
    Path(user_id): Path<String>,
    posted: Posted<Confirmation>,
) -> Result<Response, PageError> {
    let user_id = UserId::parse(user_id)?;
    if !posted.form.confirms(user_id.as_str()) {
        let page = user_path(user_id.as_str());
        return Ok(ask(
            &posted.admin,
            "users",
            Question {
                title: "Erase user",
                text: format!(
                    "Erase {user_id}: every event, model and decision stored about them, and their demo account? This cannot be undone."
                ),
                action: format!("{page}/erase"),
                target: user_id.to_string(),
                button: "Erase user",
                cancel: page,
            },
        ));
    }
    erase_user(&state, &user_id).await?;
    tracing::info!(user = %user_id, by = %posted.admin.username(), "erased from the dashboard");
    Ok(Redirect::to("/dashboard/users?done=erased").into_response())
}

/// `GET /dashboard/sessions/{session_id}/trajectory`: a session's events for the replay,
/// as `{"screen": [w, h] | null, "events": [[t, x, y, kind, wheel_dy], ...]}` with kind
/// 0 move, 1 drag, 2 press, 3 release, 4 wheel.
pub async fn trajectory(
    State(state): State<AppState>,
    _admin: Admin,
    Path(session_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let session_id = SessionId::parse(session_id)?;
    let session = state
        .store
        .session_events(session_id.as_str())
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no events stored for session {session_id}")))?;
    let events: Vec<Value> = session
        .recording
        .events
        .iter()
        .take(REPLAY_EVENTS)
        .map(|e| {
            let (kind, dy) = match e.kind {
                EventKind::Move => (0, 0.0),
                EventKind::Drag => (1, 0.0),
                EventKind::Press => (2, 0.0),
                EventKind::Release => (3, 0.0),
                EventKind::Wheel { dy, .. } => (4, f64::from(dy)),
            };
            json!([e.t, e.x, e.y, kind, dy])
        })
        .collect();
    let screen = session.recording.screen.map(|s| json!([s.width, s.height]));
    Ok(Json(json!({
        "session_id": session_id,
        "user_id": session.user_id,
        "screen": screen,
        "events": events,
    })))
}
