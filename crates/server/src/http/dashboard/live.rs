//! `GET /dashboard/live`: the live feed as server-sent events, one `LiveEvent` as JSON per
//! message. The feed ends when the service shuts down or the session that opened it ends.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{broadcast, watch};

use super::auth::Admin;
use crate::app::AppState;
use crate::app::live::LiveEvent;

/// How often an open feed checks that its session is still signed in.
const SESSION_CHECK: Duration = Duration::from_secs(3);

/// What a feed holds between messages.
struct Feed {
    state: AppState,
    admin: Admin,
    events: broadcast::Receiver<LiveEvent>,
    closed: watch::Receiver<bool>,
    check: tokio::time::Interval,
}

impl Feed {
    /// The next message, or `None` when the feed ends.
    async fn next(&mut self) -> Option<Event> {
        loop {
            if *self.closed.borrow() {
                return None;
            }
            tokio::select! {
                event = self.events.recv() => match event {
                    Ok(event) => {
                        let data = serde_json::to_string(&event).unwrap_or_default();
                        return Some(Event::default().data(data));
                    }
                    // A slow browser misses what it could not keep up with.
                    Err(RecvError::Lagged(_)) => continue,
                    Err(RecvError::Closed) => return None,
                },
                changed = self.closed.changed() => {
                    if changed.is_err() {
                        return None;
                    }
                }
                _ = self.check.tick() => {
                    if !self.admin.still_signed_in(&self.state).await {
                        return None;
                    }
                }
            }
        }
    }
}

pub async fn events(
    State(state): State<AppState>,
    admin: Admin,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let (events, closed) = state.live.subscribe();
    let mut check = tokio::time::interval(SESSION_CHECK);
    check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let feed = Feed {
        state,
        admin,
        events,
        closed,
        check,
    };
    let stream = futures_util::stream::unfold(feed, |mut feed| async move {
        let event = feed.next().await?;
        Some((Ok(event), feed))
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}
