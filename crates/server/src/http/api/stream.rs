//! `GET /v1/sessions/{session_id}/stream`: a WebSocket on which the server pushes the
//! session's trust as its events arrive, and a `lock` message when trust falls below the
//! lock-out level. A session opened for a token opens with that token (or the site's
//! backend's secret key) only; a session sent with a key, with a key; browsers cannot set headers on a WebSocket, so the token may come as the `token`
//! query parameter. The credential is checked again every `stream_recheck_ms`: a socket
//! whose token expired, whose session was labelled fraud or whose key was revoked is
//! closed.

use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade, close_code};
use axum::extract::{Path, State};
use axum::response::Response;
use tokio::sync::broadcast;

use crate::app::AppState;
use crate::app::continuous::{self, Listener};
use crate::app::sessions::authenticate_collector;
use crate::domain::ids::SessionId;
use crate::domain::trust::TrustUpdate;
use crate::http::error::ApiError;
use crate::http::extract::Authenticated;

/// WebSocket of trust updates `{"type":"trust","trust","actions","decision"}` and
/// `{"type":"lock",...}` for a continuous session.
#[utoipa::path(get, path = "/v1/sessions/{session_id}/stream", tag = "verify",
    params(("session_id" = String, Path), ("token" = Option<String>, Query, description = "the session's token, if no Authorization header"),
           ("key" = Option<String>, Query, description = "a secret key, if no Authorization header")),
    responses((status = 101, description = "switching to WebSocket"), (status = 401, body = crate::http::error::ErrorBody),
              (status = 403, description = "another session's token, or an ingest key", body = crate::http::error::ErrorBody)))]
pub async fn connect(
    State(state): State<AppState>,
    Path(session_id): Path<String>,
    auth: Authenticated,
    upgrade: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    let session_id = SessionId::parse(session_id)?;
    auth.collector.may_listen(&state, &session_id).await?;
    Ok(upgrade_to_trust(
        state,
        session_id,
        Some(auth.credential),
        upgrade,
    ))
}

/// Answers the upgrade with the session's trust stream; with a `credential`, the stream
/// lasts only as long as it authenticates.
pub fn upgrade_to_trust(
    state: AppState,
    session_id: SessionId,
    credential: Option<String>,
    upgrade: WebSocketUpgrade,
) -> Response {
    let updates = state.sessions.listen(&session_id);
    upgrade.on_upgrade(move |socket| async move {
        serve(socket, &state, &session_id, credential.as_deref(), updates).await;
    })
}

/// Pushes the session's trust to the socket until either side closes it, or its
/// credential no longer authenticates; the listener leaves the session when it is
/// dropped, on return.
async fn serve(
    mut socket: WebSocket,
    state: &AppState,
    session_id: &SessionId,
    credential: Option<&str>,
    mut updates: Listener,
) {
    let mut recheck =
        tokio::time::interval(Duration::from_millis(state.config.stream_recheck_ms.max(1)));
    recheck.tick().await; // the first tick is now: the credential was just checked
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
            _ = recheck.tick(), if credential.is_some() => {
                if let Err(e) = authenticate_collector(state, credential).await {
                    let frame = CloseFrame { code: close_code::POLICY, reason: e.message.into() };
                    let _ = socket.send(Message::Close(Some(frame))).await;
                    return;
                }
            }
        }
    }
}

async fn send(socket: &mut WebSocket, update: &TrustUpdate) -> Result<(), axum::Error> {
    let text = serde_json::to_string(update).unwrap_or_default();
    socket.send(Message::Text(text.into())).await
}
