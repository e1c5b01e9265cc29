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
use tokio::sync::broadcast;

use crate::app::AppState;
use crate::app::continuous::{self, Listener};
use crate::domain::ids::SessionId;
use crate::domain::trust::TrustUpdate;
use crate::http::error::ApiError;
use crate::http::extract::caller_with_query_key;

#[derive(Deserialize)]
pub struct Params {
    key: Option<String>,
}

/// WebSocket of trust updates `{"type":"trust","trust","actions","decision"}` and
/// `{"type":"lock",...}` for a continuous session.
#[utoipa::path(get, path = "/v1/sessions/{session_id}/stream", tag = "verify",
    params(("session_id" = String, Path), ("key" = Option<String>, Query, description = "key, if no Authorization header")),
    responses((status = 101, description = "switching to WebSocket"), (status = 401, body = crate::http::error::ErrorBody)))]
pub async fn connect(
    State(state): State<AppState>,
    Path(session_id): Path<String>,
    Query(params): Query<Params>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    caller_with_query_key(&state, &headers, params.key.as_deref())
        .await?
        .require(Role::Ingest)?;
    let session_id = SessionId::parse(session_id)?;
    Ok(upgrade_to_trust(state, session_id, upgrade))
}

/// Answers the upgrade with the session's trust stream.
pub fn upgrade_to_trust(
    state: AppState,
    session_id: SessionId,
    upgrade: WebSocketUpgrade,
) -> Response {
    let updates = state.sessions.listen(&session_id);
    upgrade.on_upgrade(move |socket| async move {
        serve(socket, &state, &session_id, updates).await;
    })
}

/// Pushes the session's trust to the socket until either side closes it; the listener
/// leaves the session when it is dropped, on return.
async fn serve(
    mut socket: WebSocket,
    state: &AppState,
    session_id: &SessionId,
    mut updates: Listener,
) {
    // What is new arrives through `updates`; what was known already is sent here.
    if continuous::advance(state, session_id).await.is_none()
        && let Some(current) = continuous::latest(state, session_id).await
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
                Err(broadcast::error::RecvError::Lagged(_)) => {}
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
