//! Validating and storing event batches, whatever endpoint they came through.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use pointerprint_core::{EventKind, Recording};
use pointerprint_storage::{Inserted, NewBatch};
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::state::AppState;

/// Coordinates beyond this many pixels are not a screen position.
const MAX_COORDINATE: f64 = 1.0e6;

/// A JSON body, parsed with an error that says where it went wrong; too large a body is 413.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = Bytes::from_request(req, state).await.map_err(body_error)?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// A body that could not be read: too large (413, over the configured limit) or broken.
pub fn body_error(e: BytesRejection) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            "the request body is over the size limit",
        )
    } else {
        ApiError::bad_request("unreadable_body", e.body_text())
    }
}

pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| ApiError::bad_request("invalid_json", e.to_string()))
}

/// Checks a user or session id (see [`crate::ids::check`]).
pub fn check_id(what: &str, id: &str) -> Result<(), ApiError> {
    crate::ids::check(what, id).map_err(|m| ApiError::bad_request("invalid_id", m))
}

/// Checks a batch of events: not empty, within the size limit, finite plausible values,
/// times not going backwards.
pub fn check_events(recording: &Recording, max_events: usize) -> Result<(), ApiError> {
    let events = &recording.events;
    if events.len() > max_events {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_many_events",
            format!("{} events in one batch; at most {max_events}", events.len()),
        ));
    }
    for (i, e) in events.iter().enumerate() {
        let bad = |m: String| ApiError::bad_request("invalid_event", format!("events[{i}]: {m}"));
        if !e.t.is_finite() || e.t < 0.0 {
            return Err(bad(format!("time {} is not a non-negative number", e.t)));
        }
        if !(e.x.is_finite() && e.y.is_finite())
            || e.x.abs() > MAX_COORDINATE
            || e.y.abs() > MAX_COORDINATE
        {
            return Err(bad(format!(
                "position ({}, {}) is not on a screen",
                e.x, e.y
            )));
        }
        if let EventKind::Wheel { dx, dy } = e.kind
            && !(dx.is_finite() && dy.is_finite())
        {
            return Err(bad("wheel delta is not finite".into()));
        }
        if i > 0 && e.t < events[i - 1].t {
            return Err(bad(format!(
                "time {} is before the previous event's {}",
                e.t,
                events[i - 1].t
            )));
        }
    }
    Ok(())
}

/// Stores a checked batch and, if it was new, does what new events call for (trust updates,
/// automatic training); `true` if it was new.
pub async fn store_batch(
    state: &AppState,
    user_id: &str,
    session_id: &str,
    seq: i64,
    recording: &Recording,
) -> Result<bool, ApiError> {
    let batch = NewBatch {
        user_id,
        session_id,
        seq,
        received_ms: now_ms(),
        events: &recording.events,
        screen: recording.screen,
    };
    let stored = matches!(state.store.insert_batch(&batch).await?, Inserted::Stored);
    if stored {
        let events = recording.events.len() as u64;
        metrics::counter!("pointerprint_events_ingested_total").increment(events);
        crate::routes::after_ingest(state, user_id).await;
    }
    Ok(stored)
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
