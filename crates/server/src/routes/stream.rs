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
    let Some(session) = state.store.session_events(session_id).await? else {
        return Ok(None);
    };
    let actions = features(session.recording).await?;
    let settings = state.settings.read().await.clone();
    let Some(model) = state.model(&session.user_id).await? else {
        return Ok(Some(TrustUpdate::Trust {
            trust: trust::FULL,
            actions: actions.len(),
            decision: "insufficient_data",
        }));
    };
    if actions.len() < settings.min_actions {
        return Ok(Some(TrustUpdate::Trust {
            trust: trust::FULL,
            actions: actions.len(),
            decision: "insufficient_data",
        }));
    }
    let level = trust::trust_after(&model, &model.action_scores(&actions));
    Ok(Some(trust::update(
        level,
        actions.len(),
        settings.lockout_trust,
    )))
}

/// Work after a new batch is stored: push trust to listeners, queue training when due.
pub async fn after_ingest(state: &AppState, user_id: &str, session_id: &str, new_events: u64) {
    if state.has_subscribers(session_id) {
        match session_trust(state, session_id).await {
            Ok(Some(update)) => {
                if let TrustUpdate::Lock { trust, .. } = update {
                    metrics::counter!("pointerprint_session_locks_total").increment(1);
                    live::publish(
                        state,
                        LiveEvent::Lock {
                            user_id: user_id.to_string(),
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
    if let Err(e) = queue_training_when_due(state, user_id, new_events).await {
        tracing::warn!(user = %user_id, error = e.message, "cannot check enrolment");
    }
}

/// Queues a user without a model for training once they have sent enough events. Event
/// counts are kept in memory after one look at the database, so ingest pays no query.
async fn queue_training_when_due(
    state: &AppState,
    user_id: &str,
    new_events: u64,
) -> Result<(), ApiError> {
    let known = state
        .enrolment
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(user_id)
        .copied();
    let first_target = state.config.auto_train_events;
    let (events, target) = match known {
        Some(Enrolment::Done) => return Ok(()),
        Some(Enrolment::Collecting { events, target }) => (events + new_events, target),
        None => match state.store.user(user_id).await? {
            Some(stats) if stats.model_trained_at_ms.is_some() => {
                state.set_enrolment(user_id, Enrolment::Done);
                return Ok(());
            }
            Some(stats) => (stats.events, first_target),
            None => (new_events, first_target),
        },
    };
    if events >= target {
        state.store.enqueue_training(user_id).await?;
        state.jobs.notify_one();
        state.set_enrolment(user_id, Enrolment::Done);
    } else {
        state.set_enrolment(user_id, Enrolment::Collecting { events, target });
    }
    Ok(())
}
