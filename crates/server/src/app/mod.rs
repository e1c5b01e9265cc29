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
pub mod limits;
pub mod live;
pub mod notifications;
pub mod retention;
pub mod sessions;
pub mod users;
pub mod verify;
pub mod worker;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use metrics_exporter_prometheus::PrometheusHandle;
use pointerprint_storage::Store;
use tokio::sync::Notify;

use crate::domain::settings::Settings;
use cache::Cache;
use config::Config;
use continuous::ContinuousSessions;
use limits::{RateLimiter, VerifyLimits};
use live::LiveFeed;

/// Failed dashboard sign-ins a source address may make in [`SIGN_IN_PERIOD`], whatever
/// names it tries: a source, not an account, is slowed down, so nobody can lock an
/// administrator out by failing in their name.
pub const SIGN_INS_PER_SOURCE: u32 = 5;
pub const SIGN_IN_PERIOD: Duration = Duration::from_secs(15 * 60);

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
    /// How often verify may be called, per user and per key (on this node).
    pub verify_limits: VerifyLimits,
    /// Failed dashboard sign-ins per source address (on this node).
    pub sign_in_failures: RateLimiter<IpAddr>,
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
            sessions: ContinuousSessions::default(),
            jobs: Notify::new(),
            metrics,
            live: LiveFeed::default(),
            verify_limits: VerifyLimits::new(
                config.verify_per_user_per_minute,
                config.verify_per_key_per_minute,
            ),
            sign_in_failures: RateLimiter::new(SIGN_INS_PER_SOURCE, SIGN_IN_PERIOD),
            config,
        }
    }

    /// A training job was queued: wake this node's worker and every other node's.
    pub async fn job_queued(&self) {
        self.jobs.notify_one();
        notifications::announce(&self.store, notifications::Channel::Jobs, "").await;
    }
}
