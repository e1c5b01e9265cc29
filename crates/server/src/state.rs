//! What every request handler shares. Nothing here may be the only copy of anything:
//! several nodes can serve one database, so what is kept in memory is a cache of the
//! database, and a change on one node is published (see [`crate::notifications`]) so the
//! others drop or reload their copy.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use metrics_exporter_prometheus::PrometheusHandle;
use pointerprint_model::UserModel;
use pointerprint_storage::{Store, TrainingStatus};
use tokio::sync::{Notify, RwLock, broadcast};

use crate::config::Config;
use crate::error::ApiError;
use crate::notifications::Channel;
use crate::settings::Settings;
use crate::trust::TrustUpdate;

pub type AppState = Arc<Shared>;

/// Where a user without a model stands on the way to automatic training.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enrolment {
    /// `events` so far; training is queued at `target` (the configured number of events,
    /// doubled after each failed training; `u64::MAX` when automatic training is off).
    Collecting { events: u64, target: u64 },
    /// A training job is queued or running.
    Training,
}

pub struct Shared {
    pub store: Store,
    pub config: Config,
    /// The settings in force: the database's, reloaded when any node changes them.
    pub settings: RwLock<Settings>,
    /// Loaded models by user; dropped when a user is retrained or erased on any node.
    models: RwLock<HashMap<String, Arc<UserModel>>>,
    /// Trust updates of continuous sessions, for the WebSocket subscribers on this node.
    streams: std::sync::Mutex<HashMap<String, broadcast::Sender<TrustUpdate>>>,
    /// Wakes this node's training worker when a job is queued on any node.
    pub jobs: Notify,
    /// Users with nothing left to do for automatic training (they have a model), so
    /// ingest asks the database about them no more; dropped with their model.
    pub enrolled: std::sync::Mutex<HashSet<String>>,
    pub metrics: PrometheusHandle,
    /// Decisions and lock-outs for the dashboard's live feed.
    pub live: crate::live::LiveFeed,
}

impl Shared {
    pub fn new(
        store: Store,
        config: Config,
        settings: Settings,
        metrics: PrometheusHandle,
    ) -> Self {
        Self {
            store,
            config,
            settings: RwLock::new(settings),
            models: RwLock::default(),
            streams: std::sync::Mutex::default(),
            jobs: Notify::new(),
            enrolled: std::sync::Mutex::default(),
            metrics,
            live: crate::live::LiveFeed::default(),
        }
    }

    /// The user's model, loaded from the database on first use.
    pub async fn model(&self, user_id: &str) -> Result<Option<Arc<UserModel>>, ApiError> {
        if let Some(m) = self.models.read().await.get(user_id) {
            return Ok(Some(m.clone()));
        }
        let Some(stored) = self.store.model(user_id).await? else {
            return Ok(None);
        };
        let model = Arc::new(UserModel::from_bytes(&stored.bytes).map_err(ApiError::internal)?);
        self.models
            .write()
            .await
            .insert(user_id.to_string(), model.clone());
        Ok(Some(model))
    }

    /// The user's model changed (retrained) or is gone (erased): every node drops what it
    /// holds of the user.
    pub async fn forget_model(&self, user_id: &str) {
        self.drop_user(user_id).await;
        self.announce(Channel::Models, user_id).await;
    }

    /// Where the user stands on the way to automatic training, from the database (so
    /// the same on every node).
    pub async fn enrolment(&self, user_id: &str) -> Result<Enrolment, ApiError> {
        Ok(self.enrolment_of(&self.store.training_status(user_id).await?))
    }

    pub fn enrolment_of(&self, status: &TrainingStatus) -> Enrolment {
        if status.active_job {
            return Enrolment::Training;
        }
        let doublings = u32::try_from(status.failed_jobs)
            .unwrap_or(u32::MAX)
            .min(20);
        Enrolment::Collecting {
            events: status.events,
            target: self.config.auto_train_events.saturating_mul(1 << doublings),
        }
    }

    /// Drops this node's cached model and enrolment state of a user.
    pub(crate) async fn drop_user(&self, user_id: &str) {
        self.models.write().await.remove(user_id);
        self.enrolled
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(user_id);
    }

    /// Drops every cached model and enrolment state (after notifications were missed).
    pub(crate) async fn drop_all_users(&self) {
        self.models.write().await.clear();
        self.enrolled
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    /// A training job was queued: wake this node's worker and every other node's.
    pub async fn job_queued(&self) {
        self.jobs.notify_one();
        self.announce(Channel::Jobs, "").await;
    }

    /// Puts stored settings in force here and on every other node.
    pub async fn apply_settings(&self, settings: Settings) {
        *self.settings.write().await = settings;
        self.announce(Channel::Settings, "").await;
    }

    async fn announce(&self, channel: Channel, payload: &str) {
        if let Err(e) = self.store.publish(channel.name(), payload).await {
            tracing::warn!(channel = channel.name(), error = %e, "cannot notify the other nodes");
        }
    }

    /// A receiver of the session's trust updates.
    pub fn subscribe(&self, session_id: &str) -> broadcast::Receiver<TrustUpdate> {
        let mut streams = self.streams.lock().unwrap_or_else(|p| p.into_inner());
        streams
            .entry(session_id.to_string())
            .or_insert_with(|| broadcast::channel(64).0)
            .subscribe()
    }

    /// Whether anyone on this node listens to the session, so trust work nobody reads is
    /// skipped.
    pub fn has_subscribers(&self, session_id: &str) -> bool {
        let streams = self.streams.lock().unwrap_or_else(|p| p.into_inner());
        streams
            .get(session_id)
            .is_some_and(|s| s.receiver_count() > 0)
    }

    pub fn publish(&self, session_id: &str, update: TrustUpdate) {
        let mut streams = self.streams.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(sender) = streams.get(session_id)
            && sender.send(update).is_err()
        {
            streams.remove(session_id);
        }
    }
}
