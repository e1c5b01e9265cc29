//! The application layer: the service's operations over the store and the caches, used
//! alike by the JSON API, the dashboard and the demo. No HTTP here: errors are
//! [`error::AppError`]s, and the HTTP layer maps them to status codes.
//!
//! Layer rule (checked by `tests/layers.rs`): modules here import from `domain` and `app`,
//! never from `http`.
//!
//! Nothing here may be the only copy of anything: several nodes can serve one database, so
//! what is kept in memory is a cache of the database ([`cache::Cache`], the one owner of it),
//! and a change on one node is announced (see [`notifications`]) so the others drop or
//! reload their copy.

pub mod accounts;
pub mod cache;
pub mod config;
pub mod continuous;
pub mod demo;
pub mod error;
pub mod ingest;
pub mod keys;
pub mod live;
pub mod notifications;
pub mod retention;
pub mod sessions;
pub mod users;
pub mod verify;
pub mod worker;

use std::sync::Arc;

use metrics_exporter_prometheus::PrometheusHandle;
use pointerprint_storage::Store;
use tokio::sync::Notify;

use crate::domain::settings::Settings;
use cache::Cache;
use config::Config;
use continuous::ContinuousSessions;
use live::LiveFeed;

pub type AppState = Arc<App>;

/// What every operation shares.
pub struct App {
    pub store: Store,
    pub config: Config,
    /// Loaded models, enrolment state and the settings in force: the one owner of them.
    pub cache: Cache,
    /// Continuous sessions someone on this node listens to, and their trust.
    pub sessions: ContinuousSessions,
    /// Wakes this node's training worker when a job is queued on any node.
    pub jobs: Notify,
    pub metrics: PrometheusHandle,
    /// Decisions and lock-outs for the dashboard's live feed.
    pub live: LiveFeed,
}

impl App {
    pub fn new(
        store: Store,
        config: Config,
        settings: Settings,
        metrics: PrometheusHandle,
    ) -> Self {
        Self {
            cache: Cache::new(store.clone(), settings),
            store,
            config,
            sessions: ContinuousSessions::default(),
            jobs: Notify::new(),
            metrics,
            live: LiveFeed::default(),
        }
    }

    /// A training job was queued: wake this node's worker and every other node's.
    pub async fn job_queued(&self) {
        self.jobs.notify_one();
        notifications::announce(&self.store, notifications::Channel::Jobs, "").await;
    }
}
