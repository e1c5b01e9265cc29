//! What nodes sharing a database tell each other, and what a node does on hearing it.
//! One subscription per node (on PostgreSQL, one LISTEN connection) fans out here.

use std::time::Duration;

use pointerprint_storage::{Notification, StorageError, Store, Subscription};
use tokio::sync::watch;

use crate::app::AppState;
use crate::domain::ids::{SessionId, UserId};

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

/// Tells every node (this one included) something on `channel`. A failure is logged, not
/// returned: the other nodes catch up when their subscription is re-established.
pub async fn announce(store: &Store, channel: Channel, payload: &str) {
    if let Err(e) = store.publish(channel.name(), payload).await {
        tracing::warn!(channel = channel.name(), error = %e, "cannot notify the other nodes");
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
        Some(Channel::Sessions) => {
            if let Ok(session_id) = SessionId::parse(n.payload)
                && state.sessions.is_watched(&session_id)
            {
                let state = state.clone();
                tokio::spawn(async move {
                    crate::app::continuous::advance(&state, &session_id).await;
                });
            }
        }
        Some(Channel::Settings) => state.cache.reload_settings().await,
        Some(Channel::Models) => {
            if let Ok(user_id) = UserId::parse(n.payload) {
                state.cache.forget_user(&user_id);
            }
        }
        Some(Channel::Jobs) => state.jobs.notify_one(),
        Some(Channel::Live) => crate::app::live::deliver(state, &n.payload),
        None => {}
    }
}

/// After a gap in the notifications: everything they keep fresh is reloaded.
async fn resync(state: &AppState) {
    state.cache.reload_settings().await;
    state.cache.forget_all_users();
    state.jobs.notify_one();
}
