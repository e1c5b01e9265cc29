//! What nodes sharing a database tell each other, and what a node does on hearing it.
//! One subscription per node (on PostgreSQL, one LISTEN connection) fans out here.

use std::time::Duration;

use pointerprint_storage::{Notification, StorageError, Store, Subscription};
use tokio::sync::watch;

use crate::settings::Settings;
use crate::state::AppState;

/// The channels of the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// A batch of the session (the payload) was stored (announced by the store itself):
    /// push the session's trust to its WebSockets.
    Sessions,
    /// The settings were replaced: reload them.
    Settings,
    /// The model of the user (the payload) changed or was erased: drop cached copies.
    Models,
    /// A training job was queued: wake the worker.
    Jobs,
    /// A decision or a lock-out (the payload, as JSON) for the dashboards' live feed.
    Live,
}

impl Channel {
    const ALL: [Channel; 5] = [
        Channel::Sessions,
        Channel::Settings,
        Channel::Models,
        Channel::Jobs,
        Channel::Live,
    ];

    /// The channel's name in the database (also what LISTEN sees).
    pub fn name(self) -> &'static str {
        match self {
            Channel::Sessions => pointerprint_storage::BATCH_CHANNEL,
            Channel::Settings => "pointerprint_settings",
            Channel::Models => "pointerprint_models",
            Channel::Jobs => "pointerprint_jobs",
            Channel::Live => "pointerprint_live",
        }
    }

    fn of(name: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.name() == name)
    }
}

/// Subscribes to every channel of the service.
pub async fn subscribe(store: &Store) -> Result<Subscription, StorageError> {
    let names: Vec<&str> = Channel::ALL.iter().map(|c| c.name()).collect();
    store.subscribe(&names).await
}

/// Acts on notifications until `stop` changes. A lost subscription is re-established,
/// and whatever may have been missed meanwhile is reloaded.
pub async fn run(state: AppState, mut subscription: Subscription, mut stop: watch::Receiver<bool>) {
    loop {
        let received = tokio::select! {
            received = subscription.recv() => received,
            _ = stop.changed() => return,
        };
        match received {
            Ok(Some(notification)) => handle(&state, notification).await,
            Ok(None) => resync(&state).await,
            Err(e) => {
                tracing::warn!(error = %e, "lost the notifications of the other nodes; retrying");
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    _ = stop.changed() => return,
                }
                if let Ok(again) = subscribe(&state.store).await {
                    subscription = again;
                    resync(&state).await;
                }
            }
        }
    }
}

async fn handle(state: &AppState, n: Notification) {
    match Channel::of(&n.channel) {
        Some(Channel::Sessions) if state.has_subscribers(&n.payload) => {
            let state = state.clone();
            tokio::spawn(async move { crate::routes::push_trust(&state, &n.payload).await });
        }
        Some(Channel::Sessions) => {}
        Some(Channel::Settings) => reload_settings(state).await,
        Some(Channel::Models) => state.drop_user(&n.payload).await,
        Some(Channel::Jobs) => state.jobs.notify_one(),
        Some(Channel::Live) => crate::live::deliver(state, &n.payload),
        None => {}
    }
}

/// After a gap in the notifications: everything they keep fresh is reloaded.
async fn resync(state: &AppState) {
    reload_settings(state).await;
    state.drop_all_users().await;
    state.jobs.notify_one();
}

async fn reload_settings(state: &AppState) {
    match state.store.settings().await {
        Ok(Some(json)) => match serde_json::from_str::<Settings>(&json) {
            Ok(settings) => *state.settings.write().await = settings,
            Err(e) => tracing::error!(error = %e, "stored settings are unreadable; keeping these"),
        },
        Ok(None) => *state.settings.write().await = Settings::default(),
        Err(e) => tracing::warn!(error = %e, "cannot reload the settings"),
    }
}
