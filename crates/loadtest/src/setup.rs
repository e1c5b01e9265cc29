//! Before the load: each load user that is not enrolled yet gets enrolment sessions and a
//! trained model.

use std::time::Duration;

use futures_util::future::join_all;
use pointerprint_client::{Client, ClientError, Purpose, TrainingState};
use pointerprint_synth::{MotorStyle, session};

use crate::config::Config;
use crate::plan::{ENROL_SEED, now_epoch_ms};
use crate::{LoadtestError, Progress};

/// Events per batch when posting enrolment sessions.
const ENROL_BATCH: usize = 1_000;

fn failed(what: String) -> impl FnOnce(ClientError) -> LoadtestError {
    move |error| LoadtestError::Call { what, error }
}

/// Enrols `user` unless the node says it is enrolled already; `true` if it was enrolled now.
async fn ensure_enrolled(
    node: &Client,
    config: &Config,
    u: usize,
    style: &MotorStyle,
) -> Result<bool, LoadtestError> {
    let user_id = config.user_id(u);
    let what = || format!("enrolling {user_id} on {}", node.base());
    if let Some(user) = node.user(&user_id).await.map_err(failed(what()))?
        && user.enrolled
    {
        return Ok(false);
    }
    for s in 0..config.enrol_sessions {
        let mut rec = session(
            style,
            ENROL_SEED + 100 * u as u64 + s as u64,
            config.enrol_actions,
        );
        let start = now_epoch_ms();
        for e in &mut rec.events {
            e.t += start;
        }
        // As a site's backend: an enrolment session, sent with its token.
        let opened = node
            .open_session(&user_id, Purpose::Enrol, None)
            .await
            .map_err(failed(what()))?;
        node.with_key(&opened.token)
            .post_recording(&user_id, &opened.session_id, &rec, ENROL_BATCH)
            .await
            .map_err(failed(what()))?;
    }
    Ok(true)
}

/// Trains `user` and waits for the model.
async fn train(node: &Client, config: &Config, u: usize) -> Result<(), LoadtestError> {
    let user_id = config.user_id(u);
    let what = || format!("training {user_id}");
    let training = node.train(&user_id, true).await.map_err(failed(what()))?;
    if training.state == TrainingState::Done {
        return Ok(());
    }
    // The server stopped waiting (after five minutes): the job is still running.
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let user = node.user(&user_id).await.map_err(failed(what()))?;
        if user.is_some_and(|u| u.enrolled) {
            return Ok(());
        }
    }
}

/// Enrols and trains every active user; returns how many were new.
pub(crate) async fn setup(
    nodes: &[Client],
    config: &Config,
    styles: &[MotorStyle],
    progress: &dyn Progress,
) -> Result<usize, LoadtestError> {
    let users = config.active_users();
    progress.count("enrolling", users as u64 * 2);
    let enrolled = join_all((0..users).map(|u| async move {
        let node = &nodes[config.node_of_user(u)];
        let fresh = ensure_enrolled(node, config, u, &styles[u]).await;
        progress.advance(1);
        fresh
    }))
    .await;
    let mut fresh = Vec::new();
    for (u, result) in enrolled.into_iter().enumerate() {
        if result? {
            fresh.push(u);
        } else {
            progress.advance(1);
        }
    }
    progress.rename("training");
    // All at once: each node's worker trains one at a time, every user with the others
    // already enrolled as its background.
    let trained = join_all(fresh.iter().map(|&u| async move {
        let result = train(&nodes[config.node_of_user(u)], config, u).await;
        progress.advance(1);
        result
    }))
    .await;
    progress.finish();
    trained.into_iter().collect::<Result<Vec<()>, _>>()?;
    Ok(fresh.len())
}
