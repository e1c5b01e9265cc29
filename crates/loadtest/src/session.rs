//! One simulated browser session: batches at its rate and verify calls at their period,
//! side by side. With several nodes its requests go round them, as behind a load balancer
//! without sticky sessions: batch `k` to node `home + k`, verify call `k` to node
//! `home + k`, so a session is ingested on one node and verified on another.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use pointerprint_client::{Client, VerifyRequest};
use tokio::time::Instant;

use crate::config::Config;
use crate::measure::{Live, Tally};
use crate::plan::{UserLoad, batch_body, batch_prefix};

/// One simulated browser session.
pub(crate) struct Session {
    pub(crate) user: Arc<UserLoad>,
    pub(crate) session_id: String,
    /// Where in the user's pool this session starts, so a user's sessions differ.
    pub(crate) offset: usize,
    /// Where in its periods the session sends, in [0, 1).
    pub(crate) phase: f64,
}

/// When the `k`-th (from 1) of a session's periodic calls is due: `period` after the
/// previous one, the first after `period × (1 + phase)`. Sessions get phases spread over
/// [0, 1), as real browsers are not in step with each other.
fn paced(start: Instant, period: Duration, k: u64, phase: f64) -> Instant {
    start + period.mul_f64(k as f64 + phase)
}

/// When batch `seq` (from 0) of a session is due: once its events have been "collected";
/// at once with no rate.
fn batch_due(start: Instant, seq: u64, batch: usize, rate: Option<f64>, phase: f64) -> Instant {
    match rate {
        Some(rate) => paced(
            start,
            Duration::from_secs_f64(batch as f64 / rate),
            seq + 1,
            phase,
        ),
        None => start,
    }
}

async fn ingest_loop(
    nodes: &[Client],
    config: &Config,
    s: &Session,
    acked_batches: &AtomicU64,
    live: &Live,
    start: Instant,
    deadline: Instant,
) -> Tally {
    let mut tally = Tally::default();
    let prefix = batch_prefix(&s.user.id, &s.session_id);
    let pool = &s.user.pool;
    for seq in 0u64.. {
        let due = batch_due(start, seq, config.batch, config.rate, s.phase);
        if due >= deadline || Instant::now() >= deadline {
            break;
        }
        tokio::time::sleep_until(due).await;
        let chunk = &pool[(s.offset + seq as usize) % pool.len()];
        let body = batch_body(&prefix, seq, chunk);
        let node = (s.user.node + seq as usize) % config.nodes.len();
        let sent = Instant::now();
        let result = nodes[node].post_events_json(body).await;
        tally.ingest.record(sent.elapsed());
        match result {
            Ok(ack) if ack.duplicate => tally.duplicates += 1,
            Ok(ack) => {
                let accepted = ack.accepted;
                tally.batches += 1;
                tally.events += accepted;
                acked_batches.fetch_add(1, Ordering::Relaxed);
                live.events.fetch_add(accepted, Ordering::Relaxed);
            }
            Err(e) => {
                tally.error("ingest", &e);
                live.errors.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
    tally
}

async fn verify_loop(
    nodes: &[Client],
    config: &Config,
    s: &Session,
    acked_batches: &AtomicU64,
    live: &Live,
    start: Instant,
    deadline: Instant,
) -> Tally {
    let mut tally = Tally::default();
    let Some(every) = config.verify_every else {
        return tally;
    };
    let by_session = serde_json::to_string(&VerifyRequest {
        user_id: &s.user.id,
        session_id: Some(&s.session_id),
        events: None,
        screen: None,
    })
    .expect("a verify request serialises");
    for k in 1u64.. {
        let due = paced(start, every, k, s.phase);
        if due >= deadline {
            break;
        }
        tokio::time::sleep_until(due).await;
        let body = match &s.user.verify_inline {
            Some(inline) => inline.clone(),
            // Nothing stored yet to verify by session id.
            None if acked_batches.load(Ordering::Relaxed) == 0 => {
                tally.verify_skipped += 1;
                continue;
            }
            None => by_session.clone(),
        };
        let node = (s.user.node + k as usize) % config.nodes.len();
        let sent = Instant::now();
        let result = nodes[node].verify_json(body).await;
        tally.verify.record(sent.elapsed());
        match result {
            Ok(verdict) => {
                tally.verifies += 1;
                *tally.decisions.entry(verdict.decision).or_default() += 1;
            }
            Err(e) => {
                tally.error("verify", &e);
                live.errors.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
    tally
}

/// Runs one session until the deadline: batches and verify calls side by side. Requests in
/// flight at the deadline are waited for, so every acknowledgement is counted.
pub(crate) async fn drive_session(
    nodes: &[Client],
    config: &Config,
    s: Session,
    live: &Live,
    start: Instant,
) -> Tally {
    let deadline = start + config.duration;
    let acked = AtomicU64::new(0);
    let (mut tally, verify) = tokio::join!(
        ingest_loop(nodes, config, &s, &acked, live, start, deadline),
        verify_loop(nodes, config, &s, &acked, live, start, deadline),
    );
    tally.merge(verify);
    tally
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pacing_follows_the_wall_clock() {
        let start = Instant::now();
        // 100-event batches at 50 events/s: one every 2 s, the first after 2 s.
        assert_eq!(
            batch_due(start, 0, 100, Some(50.0), 0.0),
            start + Duration::from_secs(2)
        );
        assert_eq!(
            batch_due(start, 4, 100, Some(50.0), 0.0),
            start + Duration::from_secs(10)
        );
        // A session at phase 0.5 sends half a period later.
        assert_eq!(
            batch_due(start, 4, 100, Some(50.0), 0.5),
            start + Duration::from_secs(11)
        );
        assert_eq!(batch_due(start, 9, 100, None, 0.5), start);
        assert_eq!(
            paced(start, Duration::from_secs(2), 1, 0.25),
            start + Duration::from_millis(2_500)
        );
    }
}
