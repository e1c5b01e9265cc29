//! Continuous sessions: the trust of each session someone listens to on this node, kept up
//! to date batch by batch. A batch costs what its own events cost: the session's features
//! are extracted incrementally and its trust moved by the new actions only. The state lives
//! while someone listens and is rebuilt once from the store when a listener arrives (on
//! this node or, after a node change, on another). Updates of one session are computed and
//! sent one at a time, so a listener never receives an older trust after a newer one.
//!
//! New actions move trust only while the session's recent input (the last
//! [`RECENT_MS`], not just the new batches: a collector may send a batch every half second)
//! is plausible pointer input (see `pointerprint_core::plausibility`). Input that is not
//! neither raises trust (a forgery must not) nor lowers it (an owner who scrolls, reads or
//! types without moving the mouse must not be locked out); its actions are counted, unscored.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use pointerprint_core::{IncrementalExtractor, Recording, plausibility};
use tokio::sync::broadcast;

use crate::app::App;
use crate::app::error::AppError;
use crate::app::live::LiveEvent;
use crate::domain::ids::{SessionId, UserId};
use crate::domain::trust::{Trust, TrustUpdate};

/// How far back the plausibility of a session's input is judged, in milliseconds.
const RECENT_MS: f64 = 10_000.0;

/// Updates buffered for a slow listener before it skips ahead.
const BUFFER: usize = 64;

/// The continuous sessions someone on this node listens to.
#[derive(Default)]
pub struct ContinuousSessions {
    watched: Arc<Mutex<HashMap<SessionId, Arc<Watched>>>>,
}

/// One listened-to session: its listeners and its trust.
struct Watched {
    updates: broadcast::Sender<TrustUpdate>,
    /// `None` until built from the store; the lock orders the session's updates.
    tracker: tokio::sync::Mutex<Option<Tracker>>,
}

/// The trust state of a session, and how much of it has been read.
struct Tracker {
    user_id: UserId,
    features: IncrementalExtractor,
    /// The session's input of the last [`RECENT_MS`], for the plausibility gate.
    recent: Recording,
    trust: Trust,
    /// Whether any action was scored by a model (else the session says nothing yet).
    scored: bool,
    /// Batches read so far, and the highest `seq` among them.
    batches: u64,
    last_seq: Option<i64>,
    last: Option<TrustUpdate>,
}

fn unpoison<G>(result: Result<G, PoisonError<G>>) -> G {
    result.unwrap_or_else(PoisonError::into_inner)
}

/// One listener of a session's updates. Dropping it leaves the session, and the session's
/// state goes with its last listener, however the listener ends: a closed socket, or an
/// upgrade that never completed (its handler never ran).
pub struct Listener {
    updates: Option<broadcast::Receiver<TrustUpdate>>,
    session_id: SessionId,
    watched: Arc<Mutex<HashMap<SessionId, Arc<Watched>>>>,
}

impl Listener {
    /// The next update; `Lagged` when this listener fell behind and skipped some.
    pub async fn recv(&mut self) -> Result<TrustUpdate, broadcast::error::RecvError> {
        match self.updates.as_mut() {
            Some(updates) => updates.recv().await,
            None => Err(broadcast::error::RecvError::Closed),
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let mut watched = unpoison(self.watched.lock());
        drop(self.updates.take());
        if watched
            .get(&self.session_id)
            .is_some_and(|w| w.updates.receiver_count() == 0)
        {
            watched.remove(&self.session_id);
        }
    }
}

impl ContinuousSessions {
    /// Starts listening to a session's updates, until the listener is dropped.
    pub fn listen(&self, session_id: &SessionId) -> Listener {
        let updates = unpoison(self.watched.lock())
            .entry(session_id.clone())
            .or_insert_with(|| {
                Arc::new(Watched {
                    updates: broadcast::channel(BUFFER).0,
                    tracker: tokio::sync::Mutex::new(None),
                })
            })
            .updates
            .subscribe();
        Listener {
            updates: Some(updates),
            session_id: session_id.clone(),
            watched: self.watched.clone(),
        }
    }

    /// Whether anyone on this node listens to the session, so trust nobody reads is not
    /// computed.
    pub fn is_watched(&self, session_id: &SessionId) -> bool {
        unpoison(self.watched.lock()).contains_key(session_id)
    }

    /// How many sessions someone on this node listens to.
    pub fn watched_count(&self) -> usize {
        unpoison(self.watched.lock()).len()
    }

    fn get(&self, session_id: &SessionId) -> Option<Arc<Watched>> {
        unpoison(self.watched.lock()).get(session_id).cloned()
    }
}

/// Reads the session's new batches, moves its trust and sends the update to its
/// listeners on this node; a lock-out also goes to the live feed. Returns the update sent,
/// `None` when there was nothing new (or nobody here listens to the session).
pub async fn advance(app: &App, session_id: &SessionId) -> Option<TrustUpdate> {
    let watched = app.sessions.get(session_id)?;
    let mut tracker = watched.tracker.lock().await;
    match read_new(app, session_id, &mut tracker).await {
        Ok(Some(update)) => {
            if let TrustUpdate::Lock { trust, .. } = update {
                let user_id = tracker.as_ref().map(|t| t.user_id.to_string());
                metrics::counter!("pointerprint_session_locks_total").increment(1);
                crate::app::live::announce(
                    app,
                    LiveEvent::Lock {
                        user_id: user_id.unwrap_or_default(),
                        session_id: session_id.to_string(),
                        trust,
                        created_ms: app.store.now_ms(),
                    },
                );
            }
            // Nobody listening any more is not an error.
            let _ = watched.updates.send(update.clone());
            Some(update)
        }
        Ok(None) => None,
        Err(e) => {
            tracing::warn!(session = %session_id, error = e.message, "cannot compute trust");
            None
        }
    }
}

/// The session's latest trust update, if any was computed.
pub async fn latest(app: &App, session_id: &SessionId) -> Option<TrustUpdate> {
    let watched = app.sessions.get(session_id)?;
    let tracker = watched.tracker.lock().await;
    tracker.as_ref().and_then(|t| t.last.clone())
}

/// Moves the tracker over the batches stored since it last read; `None` when there was
/// nothing new. A tracker that cannot be continued (a batch arrived late, below what was
/// read, or the session changed hands) is rebuilt from the start.
async fn read_new(
    app: &App,
    session_id: &SessionId,
    tracker: &mut Option<Tracker>,
) -> Result<Option<TrustUpdate>, AppError> {
    let after = tracker.as_ref().and_then(|t| t.last_seq);
    let Some(mut tail) = app
        .store
        .session_events_after(session_id.as_str(), after)
        .await?
    else {
        *tracker = None;
        return Ok(None);
    };
    let continues = tracker.as_ref().is_some_and(|t| {
        t.user_id.as_str() == tail.user_id && t.batches + tail.new_batches == tail.total_batches
    });
    if !continues {
        if after.is_some() {
            match app
                .store
                .session_events_after(session_id.as_str(), None)
                .await?
            {
                Some(whole) => tail = whole,
                None => {
                    *tracker = None;
                    return Ok(None);
                }
            }
        }
        *tracker = Some(Tracker {
            user_id: UserId::parse(tail.user_id.as_str()).map_err(AppError::internal)?,
            features: IncrementalExtractor::default(),
            recent: Recording::default(),
            trust: Trust::default(),
            scored: false,
            batches: 0,
            last_seq: None,
            last: None,
        });
    }
    let Some(t) = tracker.as_mut() else {
        return Ok(None);
    };
    if tail.new_batches == 0 && t.last.is_some() {
        return Ok(None);
    }
    t.batches += tail.new_batches;
    t.last_seq = tail.last_seq.or(t.last_seq);
    let actions = t.features.push(&tail.recording);
    t.recent.screen = tail.recording.screen.or(t.recent.screen);
    t.recent.events.extend_from_slice(&tail.recording.events);
    if let Some(last) = t.recent.events.last().map(|e| e.t) {
        t.recent.events.retain(|e| e.t >= last - RECENT_MS);
    }
    let plausible = plausibility::check(&t.recent).is_ok();
    match app.cache.model(&t.user_id).await? {
        Some(model) if plausible => {
            t.trust.score(&model, &model.action_scores(&actions));
            t.scored = true;
        }
        _ => t.trust.count_unscored(actions.len()),
    }
    let settings = app.cache.settings();
    let update = t
        .trust
        .update(t.scored, settings.min_actions, settings.lockout_trust);
    t.last = Some(update.clone());
    Ok(Some(update))
}
