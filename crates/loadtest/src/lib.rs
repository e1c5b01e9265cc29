//! The load generator: simulated browser sessions stream events to running nodes and ask
//! for verification, then every acknowledged event is checked to be stored exactly once.
//! It talks to the nodes only through [`pointerprint_client`].
//!
//! Phases:
//! 1. **Plan** ([`plan`]): synthetic people (`pointerprint_synth`), one pool of
//!    pre-serialised event batches per user and, with inline verification, one verify body
//!    per user, all built before the clock starts so the generator spends its CPU on
//!    requests only.
//! 2. **Setup** ([`setup`]): each load user that is not enrolled yet gets enrolment
//!    sessions and a trained model; then every user's stored event count is read as the
//!    baseline.
//! 3. **Load** ([`session`]): one task per session posts batches at the rate (paced by the
//!    wall clock; none = back to back) and periodically calls `/v1/verify`, going round the
//!    nodes.
//! 4. **Check** ([`report`]): every user's stored event count must equal its baseline plus
//!    the events acknowledged for it (non-duplicate 202s).
//!
//! A session's pool is cycled when the run outlasts it (times then jump back; the server
//! only requires order within a batch), so pre-generation stays bounded at full speed.

mod config;
mod measure;
mod plan;
mod report;
mod session;
mod setup;

use std::sync::atomic::Ordering;
use std::time::Duration;

use futures_util::future::join_all;
use pointerprint_client::{Client, ClientError};
use pointerprint_synth::population;
use tokio::time::Instant;

pub use config::{Config, Options};
pub use measure::{Latencies, LatencySummary};
pub use report::Report;

use crate::config::new_run_id;
use crate::measure::{Live, Tally};
use crate::plan::plan_users;
use crate::report::{UserCheck, group};
use crate::session::{Session, drive_session};

/// Why a load test could not run to its report. (A run that ran but lost or failed
/// requests is a [`Report`] with [`Report::problems`].)
#[derive(Debug, thiserror::Error)]
pub enum LoadtestError {
    #[error("--{option}: {message}")]
    Invalid {
        option: &'static str,
        message: String,
    },
    #[error("{what}: {error}")]
    Call { what: String, error: ClientError },
    #[error("generating events: {0}")]
    Plan(#[from] tokio::task::JoinError),
}

/// Where a run is, for a person watching (the CLI draws bars; tests watch nothing).
pub trait Progress: Sync {
    /// Something worth saying before the bars start.
    fn note(&self, text: &str);
    /// A phase of `total` steps begins.
    fn count(&self, name: &str, total: u64);
    /// The current phase goes on under another name.
    fn rename(&self, name: &str);
    fn advance(&self, steps: u64);
    /// The load phase begins; it lasts `duration`.
    fn timed(&self, duration: Duration);
    /// The load phase at `elapsed`, with a line of live figures.
    fn tick(&self, elapsed: Duration, status: &str);
    /// The current phase is over.
    fn finish(&self);
}

/// Progress that goes nowhere.
pub struct Silent;

impl Progress for Silent {
    fn note(&self, _: &str) {}
    fn count(&self, _: &str, _: u64) {}
    fn rename(&self, _: &str) {}
    fn advance(&self, _: u64) {}
    fn timed(&self, _: Duration) {}
    fn tick(&self, _: Duration, _: &str) {}
    fn finish(&self) {}
}

/// How often the live figures are refreshed during the load.
const TICK: Duration = Duration::from_millis(200);

/// Runs the load test: plan, setup, load, check.
pub async fn run(config: &Config, progress: &dyn Progress) -> Result<Report, LoadtestError> {
    let mut nodes = Vec::with_capacity(config.nodes.len());
    for (base, key) in config.nodes.iter().zip(&config.keys) {
        let client = Client::builder(base)
            .key(key)
            .timeout(config.timeout)
            .build()
            .map_err(|error| LoadtestError::Call {
                what: format!("connecting to {base}"),
                error,
            })?;
        nodes.push(client);
    }
    let styles = population(config.active_users(), config.seed);
    progress.note(&format!(
        "run {}: {} sessions of {} users on {} node(s); preparing events",
        config.run_id,
        config.sessions,
        config.active_users(),
        config.nodes.len()
    ));
    let users = {
        let (config, styles) = (config.clone(), styles.clone());
        tokio::task::spawn_blocking(move || plan_users(&config, &styles)).await?
    };
    let trained = setup::setup(&nodes, config, &styles, progress).await?;

    let stored_events = async |node: usize, user_id: &str| -> Result<u64, ClientError> {
        Ok(nodes[node].user(user_id).await?.map_or(0, |u| u.events))
    };
    let mut baselines = Vec::with_capacity(users.len());
    for user in &users {
        let events =
            stored_events(user.node, &user.id)
                .await
                .map_err(|error| LoadtestError::Call {
                    what: format!("reading {} before the run", user.id),
                    error,
                })?;
        baselines.push(events);
    }

    let attempt = new_run_id();
    let sessions: Vec<Session> = (0..config.sessions)
        .map(|i| {
            let user = users[i % config.users].clone();
            let nth = i / config.users;
            let per_user = config.sessions.div_ceil(config.users).max(1);
            let offset = nth * user.pool.len() / per_user;
            Session {
                user,
                // Fresh per invocation, also when a run id (and so its users) is reused.
                session_id: format!("load-{}-{attempt}-s{i}", config.run_id),
                offset,
                phase: i as f64 / config.sessions as f64,
            }
        })
        .collect();
    let per_user_of_session: Vec<usize> = (0..config.sessions).map(|i| i % config.users).collect();

    let live = Live::default();
    progress.timed(config.duration);
    let start = Instant::now();
    let driven = join_all(
        sessions
            .into_iter()
            .map(|s| drive_session(&nodes, config, s, &live, start)),
    );
    tokio::pin!(driven);
    let mut ticks = tokio::time::interval_at(start + TICK, TICK);
    let tallies = loop {
        tokio::select! {
            tallies = &mut driven => break tallies,
            _ = ticks.tick() => {
                let elapsed = start.elapsed();
                let events = live.events.load(Ordering::Relaxed);
                progress.tick(elapsed, &format!(
                    "{} events acknowledged ({:.0}/s), {} errors",
                    group(events),
                    events as f64 / elapsed.as_secs_f64(),
                    live.errors.load(Ordering::Relaxed)
                ));
            }
        }
    };
    // Paced sessions stop at their last due batch; the run still lasted the full duration.
    let elapsed = start.elapsed().max(config.duration);
    progress.finish();

    let mut acknowledged = vec![0u64; users.len()];
    let mut tally = Tally::default();
    for (i, t) in tallies.into_iter().enumerate() {
        acknowledged[per_user_of_session[i]] += t.events;
        tally.merge(t);
    }

    let mut checks = Vec::new();
    let mut unchecked = Vec::new();
    for (u, user) in users.iter().enumerate() {
        match stored_events(user.node, &user.id).await {
            Ok(stored) => checks.push(UserCheck {
                user_id: user.id.clone(),
                baseline: baselines[u],
                acknowledged: acknowledged[u],
                stored,
            }),
            Err(e) => unchecked.push(format!("{}: {e}", user.id)),
        }
    }
    let verify_mode = match (config.verify_every, config.session_events) {
        (None, _) => "off".to_string(),
        (Some(every), Some(n)) => format!(
            "every {} s per session, {n} events inline",
            every.as_secs_f64()
        ),
        (Some(every), None) => {
            format!("every {} s per session, by session id", every.as_secs_f64())
        }
    };
    Ok(Report {
        nodes: config.nodes.len(),
        sessions: config.sessions,
        users: users.len(),
        trained,
        run_id: config.run_id.clone(),
        rate: config.rate,
        batch: config.batch,
        verify_mode,
        elapsed,
        tally,
        checks,
        unchecked,
    })
}
