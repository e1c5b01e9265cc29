//! `GET /v1/sessions/{session_id}/stream`: a WebSocket on which the server pushes the
//! session's trust as its events arrive, and a `lock` message when trust falls below the
//! lock-out level. Browsers cannot set headers on a WebSocket, so the key may come as the
//! `key` query parameter.

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use pointerprint_storage::Role;
use serde::Deserialize;

use crate::auth::authenticate;
use crate::error::ApiError;
use crate::ingest::check_id;
use crate::live::{self, LiveEvent};
use crate::state::{AppState, Enrolment};
use crate::trust::{self, TrustUpdate};
use crate::verify::features;

#[derive(Deserialize)]
pub struct Params {
    key: Option<String>,
}

/// WebSocket of trust updates `{"type":"trust","trust","actions","decision"}` and
/// `{"type":"lock",...}` for a continuous session.
#[utoipa::path(get, path = "/v1/sessions/{session_id}/stream", tag = "verify",
    params(("session_id" = String, Path), ("key" = Option<String>, Query, description = "key, if no Authorization header")),
    responses((status = 101, description = "switching to WebSocket"), (status = 401, body = crate::error::ErrorBody)))]
pub async fn connect(
    State(state): State<AppState>,
    Path(session_id): Path<String>,
    Query(params): Query<Params>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    let bearer = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    authenticate(&state, bearer.or(params.key.as_deref()))
        .await?
        .require(Role::Ingest)?;
    check_id("session_id", &session_id)?;
    let updates = state.subscribe(&session_id);
    Ok(upgrade.on_upgrade(move |socket| serve(socket, state, session_id, updates)))
}

/// Pushes the session's trust to the socket until either side closes it.
pub(crate) async fn serve(
    mut socket: WebSocket,
    state: AppState,
    session_id: String,
    mut updates: tokio::sync::broadcast::Receiver<TrustUpdate>,
) {
    if let Ok(Some(current)) = session_trust(&state, &session_id).await
        && send(&mut socket, &current).await.is_err()
    {
        return;
    }
    loop {
        tokio::select! {
            update = updates.recv() => match update {
                Ok(update) => {
                    if send(&mut socket, &update).await.is_err() {
                        return;
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(_) => return,
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            },
        }
    }
}

async fn send(socket: &mut WebSocket, update: &TrustUpdate) -> Result<(), axum::Error> {
    let text = serde_json::to_string(update).unwrap_or_default();
    socket.send(Message::Text(text.into())).await
}

/// The session's current trust, from everything it has sent; `None` for an unknown session.
async fn session_trust(
    state: &AppState,
    session_id: &str,
) -> Result<Option<TrustUpdate>, ApiError> {
    Ok(session_trust_of(state, session_id)
        .await?
        .map(|(_, update)| update))
}

/// The session's user and current trust.
async fn session_trust_of(
    state: &AppState,
    session_id: &str,
) -> Result<Option<(String, TrustUpdate)>, ApiError> {
    let Some(session) = state.store.session_events(session_id).await? else {
        return Ok(None);
    };
    let user_id = session.user_id.clone();
    let actions = features(session.recording).await?;
    let settings = state.settings.read().await.clone();
    let insufficient = TrustUpdate::Trust {
        trust: trust::FULL,
        actions: actions.len(),
        decision: "insufficient_data",
    };
    let Some(model) = state.model(&user_id).await? else {
        return Ok(Some((user_id, insufficient)));
    };
    if actions.len() < settings.min_actions {
        return Ok(Some((user_id, insufficient)));
    }
    let level = trust::trust_after(&model, &model.action_scores(&actions));
    let update = trust::update(level, actions.len(), settings.lockout_trust);
    Ok(Some((user_id, update)))
}

/// Computes the session's trust and pushes it to this node's WebSockets of the session;
/// a lock-out also goes to the live feed.
pub async fn push_trust(state: &AppState, session_id: &str) {
    match session_trust_of(state, session_id).await {
        Ok(Some((user_id, update))) => {
            if let TrustUpdate::Lock { trust, .. } = update {
                metrics::counter!("pointerprint_session_locks_total").increment(1);
                live::publish(
                    state,
                    LiveEvent::Lock {
                        user_id,
                        session_id: session_id.to_string(),
                        trust,
                        created_ms: crate::ingest::now_ms(),
                    },
                );
            }
            state.publish(session_id, update);
        }
        Ok(None) => {}
        Err(e) => {
            tracing::warn!(session = %session_id, error = e.message, "cannot compute trust")
        }
    }
}

/// Work after a new batch is stored: training queued when due. (The store announces the
/// batch; whichever node holds the session's WebSockets pushes its trust, see
/// [`push_trust`].)
pub async fn after_ingest(state: &AppState, user_id: &str) {
    if let Err(e) = queue_training_when_due(state, user_id).await {
        tracing::warn!(user = %user_id, error = e.message, "cannot check enrolment");
    }
}

/// Queues a user without a model for training once they have sent enough events: the
/// configured number, doubled after each failed training. Everything is read from the
/// database, so it works whichever node the events arrive at; users with a model are
/// remembered, so their ingest pays no query.
async fn queue_training_when_due(state: &AppState, user_id: &str) -> Result<(), ApiError> {
    let enrolled = state
        .enrolled
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .contains(user_id);
    if enrolled {
        return Ok(());
    }
    let status = state.store.training_status(user_id).await?;
    if status.has_model {
        state
            .enrolled
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(user_id.to_string());
        return Ok(());
    }
    if let Enrolment::Collecting { events, target } = state.enrolment_of(&status)
        && events >= target
    {
        state.store.enqueue_training(user_id).await?;
        state.job_queued().await;
    }
    Ok(())
}
