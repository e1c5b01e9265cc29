//! The live feed behind the dashboard: every new decision and every continuous-session
//! lock-out, as it happens.
//!
//! Events go through an in-process broadcast, so a dashboard sees what its own node
//! decides. [`publish`] is the one place events enter the feed: switching it to the
//! store's cross-node notifications changes this module only.

use serde::Serialize;
use tokio::sync::{broadcast, watch};

use crate::state::AppState;

/// Events buffered for a slow subscriber before it skips ahead.
const BUFFER: usize = 256;

/// Something an administrator watching the dashboard should see at once.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LiveEvent {
    /// A decision written to the audit log.
    Decision {
        id: i64,
        user_id: String,
        session_id: Option<String>,
        decision: String,
        score: f64,
        threshold: f64,
        created_ms: i64,
    },
    /// A continuous session whose trust fell below the lock-out level.
    Lock {
        user_id: String,
        session_id: String,
        trust: f64,
        created_ms: i64,
    },
}

/// The sending side of the feed; subscribers get every event published after they joined.
pub struct LiveFeed {
    sender: broadcast::Sender<LiveEvent>,
    /// Set when the service shuts down, so open feeds end instead of holding it up.
    closed: watch::Sender<bool>,
}

impl Default for LiveFeed {
    fn default() -> Self {
        Self {
            sender: broadcast::channel(BUFFER).0,
            closed: watch::channel(false).0,
        }
    }
}

impl LiveFeed {
    /// The events to come, and a flag that turns true when the feed closes.
    pub fn subscribe(&self) -> (broadcast::Receiver<LiveEvent>, watch::Receiver<bool>) {
        (self.sender.subscribe(), self.closed.subscribe())
    }

    /// Ends every subscription: called when the service starts shutting down.
    pub fn close(&self) {
        self.closed.send_replace(true);
    }
}

/// Puts an event on the feed. Nobody listening is not an error.
pub fn publish(state: &AppState, event: LiveEvent) {
    let _ = state.live.sender.send(event);
}
