//! `GET /dashboard/live`: the live feed as server-sent events, one `LiveEvent` as JSON per
//! message.

use std::convert::Infallible;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use tokio::sync::broadcast::error::RecvError;

use super::auth::Admin;
use crate::state::AppState;

pub async fn events(
    State(state): State<AppState>,
    _admin: Admin,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let subscription = state.live.subscribe();
    let stream =
        futures_util::stream::unfold(subscription, |(mut events, mut closed)| async move {
            loop {
                if *closed.borrow() {
                    return None;
                }
                tokio::select! {
                    event = events.recv() => match event {
                        Ok(event) => {
                            let data = serde_json::to_string(&event).unwrap_or_default();
                            return Some((Ok(Event::default().data(data)), (events, closed)));
                        }
                        // A slow browser misses what it could not keep up with.
                        Err(RecvError::Lagged(_)) => continue,
                        Err(RecvError::Closed) => return None,
                    },
                    changed = closed.changed() => {
                        if changed.is_err() {
                            return None;
                        }
                    }
                }
            }
        });
    Sse::new(stream).keep_alive(KeepAlive::default())
}
