//! The live feed behind the dashboard: every new decision and every continuous-session
//! lock-out, as it happens.
//!
//! Events travel through the store's notifications (LISTEN/NOTIFY on PostgreSQL), so a
//! dashboard on any node sees what every node decides: [`announce`] announces an event,
//! the node's notification listener hands each announced one to [`deliver`], which puts it
//! on this node's in-process broadcast for its dashboards.

use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, watch};

use crate::app::App;
use crate::app::notifications::Channel;

/// Events buffered for a slow subscriber before it skips ahead.
const BUFFER: usize = 256;

/// Something an administrator watching the dashboard should see at once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

/// Announces an event to the feeds of every node, off the request path.
pub fn announce(app: &App, event: LiveEvent) {
    let store = app.store.clone();
    tokio::spawn(async move {
        let result = match serde_json::to_string(&event) {
            Ok(json) => store
                .publish(Channel::Live.name(), &json)
                .await
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        if let Err(e) = result {
            tracing::warn!(error = %e, "cannot announce a live event");
        }
    });
}

/// Puts an announced event on this node's feed. Nobody listening is not an error.
pub fn deliver(app: &App, payload: &str) {
    match serde_json::from_str::<LiveEvent>(payload) {
        Ok(event) => {
            let _ = app.live.sender.send(event);
        }
        Err(e) => tracing::warn!(error = %e, "an unreadable live event"),
    }
}
