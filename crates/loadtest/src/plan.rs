//! What the load sends, built before the clock starts so the generator spends its CPU on
//! requests only: synthetic people's event batches, pre-serialised.

use std::fmt::Write as _;
use std::sync::Arc;

use pointerprint_client::VerifyRequest;
use pointerprint_core::Recording;
use pointerprint_formats::to_native;
use pointerprint_synth::{MotorStyle, session};
use serde_json::Value;

use crate::config::Config;

/// Most events pre-generated per user for the load pools (a bound on memory and start-up).
const POOL_MAX_EVENTS: usize = 50_000;
/// Seed offsets, so enrolment, load and verify sessions of a person differ.
pub(crate) const ENROL_SEED: u64 = 1_000;
const POOL_SEED: u64 = 1_000_000;
const VERIFY_SEED: u64 = 2_000_000;

pub(crate) fn now_epoch_ms() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

/// Consecutive synthetic sessions of one person, shifted to start at `start_ms` and to follow
/// each other after a one-second pause, until at least `min_events` events.
pub(crate) fn synth_events(
    style: &MotorStyle,
    seed: u64,
    min_events: usize,
    start_ms: f64,
) -> Recording {
    let mut out = Recording::default();
    let mut offset = start_ms;
    let mut k = 0;
    while out.events.len() < min_events {
        let mut rec = session(style, seed + k, 150);
        k += 1;
        for e in &mut rec.events {
            e.t += offset;
        }
        offset = rec.events.last().map_or(offset, |e| e.t) + 1_000.0;
        out.screen = rec.screen;
        out.events.append(&mut rec.events);
    }
    out
}

/// The events of a recording as JSON arrays of `size` events each.
pub(crate) fn json_batches(recording: &Recording, size: usize) -> Vec<Arc<str>> {
    let native = to_native(recording);
    native
        .events
        .chunks(size)
        .map(|chunk| Arc::from(serde_json::to_string(chunk).expect("events serialise")))
        .collect()
}

/// A `POST /v1/events` body from its pre-serialised parts.
pub(crate) fn batch_body(prefix: &str, seq: u64, events_json: &str) -> String {
    let mut body = String::with_capacity(prefix.len() + events_json.len() + 32);
    body.push_str(prefix);
    let _ = write!(body, "{seq},\"events\":{events_json}}}");
    body
}

/// `{"user_id":...,"session_id":...,"seq":` — the start of every batch body of a session.
pub(crate) fn batch_prefix(user_id: &str, session_id: &str) -> String {
    format!(
        "{{\"user_id\":{},\"session_id\":{},\"seq\":",
        Value::from(user_id),
        Value::from(session_id)
    )
}

/// What the load phase sends for one user.
pub(crate) struct UserLoad {
    pub(crate) id: String,
    pub(crate) node: usize,
    /// Pre-serialised event arrays of `--batch` events each.
    pub(crate) pool: Vec<Arc<str>>,
    /// A `/v1/verify` body with `--session-events` inline events, if asked for.
    pub(crate) verify_inline: Option<String>,
}

pub(crate) fn plan_users(config: &Config, styles: &[MotorStyle]) -> Vec<Arc<UserLoad>> {
    let start_ms = now_epoch_ms();
    let per_session = match config.rate {
        Some(rate) => (rate * config.duration.as_secs_f64()).ceil() as usize + config.batch,
        None => POOL_MAX_EVENTS,
    };
    let sessions_per_user = config.sessions.div_ceil(config.users.max(1));
    let pool_events = per_session
        .saturating_mul(sessions_per_user)
        .clamp(config.batch, POOL_MAX_EVENTS.max(config.batch));
    (0..config.active_users())
        .map(|u| {
            let style = &styles[u];
            let load = synth_events(style, POOL_SEED + 1_000 * u as u64, pool_events, start_ms);
            let verify_inline = config.session_events.map(|n| {
                let mut rec = synth_events(style, VERIFY_SEED + 1_000 * u as u64, n, start_ms);
                rec.events.truncate(n);
                let events = to_native(&rec).events;
                let request = VerifyRequest {
                    user_id: &config.user_id(u),
                    session_id: None,
                    events: Some(&events),
                    screen: None,
                };
                serde_json::to_string(&request).expect("a verify request serialises")
            });
            Arc::new(UserLoad {
                id: config.user_id(u),
                node: config.node_of_user(u),
                pool: json_batches(&load, config.batch),
                verify_inline,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_bodies_are_the_api_json() {
        let rec = synth_events(&MotorStyle::from_seed(3), 5, 250, 1.7e12);
        let chunks = json_batches(&rec, 100);
        assert_eq!(chunks.len(), rec.events.len().div_ceil(100));
        let body = batch_body(&batch_prefix("u \"1\"", "s-1"), 7, &chunks[1]);
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["user_id"], "u \"1\"");
        assert_eq!(v["session_id"], "s-1");
        assert_eq!(v["seq"], 7);
        assert_eq!(v["events"].as_array().unwrap().len(), 100);
        assert!(v["events"][0]["t"].as_f64().unwrap() >= 1.7e12);
        // Times never go back within the pool (sessions follow each other).
        assert!(rec.events.windows(2).all(|w| w[0].t <= w[1].t));
    }
}
