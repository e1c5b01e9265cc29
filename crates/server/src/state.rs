//! What every request handler shares.

use std::collections::HashMap;
use std::sync::Arc;

use metrics_exporter_prometheus::PrometheusHandle;
use pointerprint_model::UserModel;
use pointerprint_storage::Store;
use tokio::sync::{Notify, RwLock, broadcast};

use crate::config::Config;
use crate::error::ApiError;
use crate::settings::Settings;
use crate::trust::TrustUpdate;

pub type AppState = Arc<Shared>;

/// A user's way to automatic training.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enrolment {
    /// No model yet: `events` so far, training queued at `target`.
    Collecting { events: u64, target: u64 },
    /// Trained, or a training job queued: nothing more to do.
    Done,
}

pub struct Shared {
    pub store: Store,
    pub config: Config,
    pub settings: RwLock<Settings>,
    /// Loaded models by user; dropped when a user is retrained or erased.
    models: RwLock<HashMap<String, Arc<UserModel>>>,
    /// Trust updates of continuous sessions, for their WebSocket subscribers.
    streams: std::sync::Mutex<HashMap<String, broadcast::Sender<TrustUpdate>>>,
    /// Wakes the training worker when a job is queued.
    pub jobs: Notify,
    /// Where each user seen since start stands on the way to automatic training.
    pub enrolment: std::sync::Mutex<HashMap<String, Enrolment>>,
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
            enrolment: std::sync::Mutex::default(),
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

    pub async fn forget_model(&self, user_id: &str) {
        self.models.write().await.remove(user_id);
    }

    pub fn set_enrolment(&self, user_id: &str, enrolment: Enrolment) {
        self.enrolment
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(user_id.to_string(), enrolment);
    }

    /// A receiver of the session's trust updates.
    pub fn subscribe(&self, session_id: &str) -> broadcast::Receiver<TrustUpdate> {
        let mut streams = self.streams.lock().unwrap_or_else(|p| p.into_inner());
        streams
            .entry(session_id.to_string())
            .or_insert_with(|| broadcast::channel(64).0)
            .subscribe()
    }

    /// Whether anyone listens to the session, so ingest skips trust work nobody reads.
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
