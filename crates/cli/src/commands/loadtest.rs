//! `pointerprint loadtest`: simulated browser sessions stream events to running nodes and
//! ask for verification, then every acknowledged event is checked to be stored exactly once.
//!
//! Phases:
//! 1. **Plan**: synthetic people (`pointerprint_synth`), one pool of pre-serialised event
//!    batches per user and, with `--session-events`, one inline verify body per user, all
//!    built before the clock starts so the load generator spends its CPU on requests only.
//! 2. **Setup**: each load user that is not enrolled yet gets enrolment sessions and a
//!    trained model (`POST /v1/users/{user}/train?wait=true`); then every user's stored
//!    event count is read as the baseline.
//! 3. **Load**: one task per session posts batches at `--rate` events/s (paced by the wall
//!    clock; 0 = back to back) and, every `--verify-every` seconds, calls `/v1/verify`.
//!    With several nodes a session's requests go round them, as behind a load balancer
//!    without sticky sessions: batch `k` to node `home + k`, verify call `k` to node
//!    `home + k`, so a session is ingested on one node and verified on another.
//! 4. **Check**: every user's stored event count must equal its baseline plus the events
//!    acknowledged for it (non-duplicate 202s).
//!
//! A session's pool is cycled when the run outlasts it (times then jump back; the server
//! only requires order within a batch), so pre-generation stays bounded at `--rate 0`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Context, bail};
use futures_util::future::join_all;
use indicatif::{ProgressBar, ProgressStyle};
use pointerprint_core::Recording;
use pointerprint_formats::to_native;
use pointerprint_synth::{MotorStyle, population, session};
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::args::LoadtestArgs;

/// Most events pre-generated per user for the load pools (a bound on memory and start-up).
const POOL_MAX_EVENTS: usize = 50_000;
/// Events per batch when posting enrolment sessions.
const ENROL_BATCH: usize = 1_000;
/// Seed offsets, so enrolment, load and verify sessions of a person differ.
const ENROL_SEED: u64 = 1_000;
const POOL_SEED: u64 = 1_000_000;
const VERIFY_SEED: u64 = 2_000_000;

pub fn run(args: LoadtestArgs) -> anyhow::Result<()> {
    let config = Config::from_args(args)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let report = runtime.block_on(load_test(config))?;
    print!("{}", render(&report));
    let problems = report.problems();
    if problems.is_empty() {
        Ok(())
    } else {
        bail!("load test failed: {}", problems.join("; "))
    }
}

// ---------------------------------------------------------------------------------------
// Configuration

/// Validated arguments.
#[derive(Debug, Clone)]
struct Config {
    nodes: Vec<String>,
    /// One key per node.
    keys: Vec<String>,
    sessions: usize,
    /// Events per second per session; `None` = as fast as possible.
    rate: Option<f64>,
    duration: Duration,
    batch: usize,
    verify_every: Option<Duration>,
    session_events: Option<usize>,
    users: usize,
    enrol_sessions: usize,
    enrol_actions: usize,
    run_id: String,
    seed: u64,
    timeout: Duration,
}

fn seconds(what: &str, v: f64, zero_ok: bool) -> anyhow::Result<Option<Duration>> {
    if !v.is_finite() || v < 0.0 || (v == 0.0 && !zero_ok) || v > 1e9 {
        bail!(
            "--{what} must be a number of seconds {}",
            if zero_ok { ">= 0" } else { "> 0" }
        );
    }
    Ok((v > 0.0).then(|| Duration::from_secs_f64(v)))
}

impl Config {
    fn from_args(a: LoadtestArgs) -> anyhow::Result<Config> {
        let mut nodes = Vec::new();
        for node in &a.nodes {
            let node = node.trim().trim_end_matches('/');
            if !(node.starts_with("http://") || node.starts_with("https://")) {
                bail!("--nodes: {node:?} is not an http:// URL");
            }
            nodes.push(node.to_string());
        }
        let keys = match a.key.len() {
            1 => vec![a.key[0].clone(); nodes.len()],
            n if n == nodes.len() => a.key.clone(),
            n => bail!(
                "--key: {n} keys for {} nodes; give one, or one per node",
                nodes.len()
            ),
        };
        if !a.rate.is_finite() || a.rate < 0.0 {
            bail!("--rate must be a number of events per second >= 0");
        }
        let run_id = match a.run_id {
            Some(id) if !id.is_empty() && id.len() <= 64 && !id.contains('/') => id,
            Some(id) => bail!("--run-id {id:?}: 1 to 64 characters, no '/'"),
            None => new_run_id(),
        };
        // Other runs' load users are in a node's background population: the same people
        // again would be impostors indistinguishable from the users.
        let seed = a.seed ^ fnv1a(run_id.as_bytes());
        let sessions = a.sessions as usize;
        // Each user lives on one node: a multiple of the node count keeps i mod users and
        // i mod nodes consistent; no more users than sessions use.
        let n = nodes.len();
        let users = (a.users as usize).min(sessions).div_ceil(n) * n;
        Ok(Config {
            keys,
            sessions,
            rate: (a.rate > 0.0).then_some(a.rate),
            duration: seconds("duration", a.duration, false)?.unwrap_or_default(),
            batch: a.batch as usize,
            verify_every: seconds("verify-every", a.verify_every, true)?,
            session_events: a.session_events.map(|n| n as usize),
            users,
            enrol_sessions: a.enrol_sessions as usize,
            enrol_actions: a.enrol_actions as usize,
            run_id,
            seed,
            timeout: seconds("timeout", a.timeout, false)?.unwrap_or_default(),
            nodes,
        })
    }

    fn user_id(&self, u: usize) -> String {
        format!("load-{}-{u}", self.run_id)
    }

    /// The users sessions actually use.
    fn active_users(&self) -> usize {
        self.users.min(self.sessions)
    }

    fn node_of_user(&self, u: usize) -> usize {
        u % self.nodes.len()
    }
}

/// FNV-1a: a stable hash of the run id (std's hasher may change between releases).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A short id that differs between runs: the clock's nanoseconds and the process id.
fn new_run_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let mixed = (nanos ^ (u64::from(std::process::id()) << 40)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    format!("{:010x}", mixed >> 24)
}

fn now_epoch_ms() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

// ---------------------------------------------------------------------------------------
// Event generation

/// Consecutive synthetic sessions of one person, shifted to start at `start_ms` and to follow
/// each other after a one-second pause, until at least `min_events` events.
fn synth_events(style: &MotorStyle, seed: u64, min_events: usize, start_ms: f64) -> Recording {
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
fn json_batches(recording: &Recording, size: usize) -> Vec<Arc<str>> {
    let native = to_native(recording);
    native
        .events
        .chunks(size)
        .map(|chunk| Arc::from(serde_json::to_string(chunk).expect("events serialise")))
        .collect()
}

/// A `POST /v1/events` body from its pre-serialised parts.
fn batch_body(prefix: &str, seq: u64, events_json: &str) -> String {
    let mut body = String::with_capacity(prefix.len() + events_json.len() + 32);
    body.push_str(prefix);
    let _ = write!(body, "{seq},\"events\":{events_json}}}");
    body
}

/// `{"user_id":...,"session_id":...,"seq":` — the start of every batch body of a session.
fn batch_prefix(user_id: &str, session_id: &str) -> String {
    format!(
        "{{\"user_id\":{},\"session_id\":{},\"seq\":",
        Value::from(user_id),
        Value::from(session_id)
    )
}

/// What the load phase sends for one user.
struct UserLoad {
    id: String,
    node: usize,
    /// Pre-serialised event arrays of `--batch` events each.
    pool: Vec<Arc<str>>,
    /// A `/v1/verify` body with `--session-events` inline events, if asked for.
    verify_inline: Option<String>,
}

fn plan_users(config: &Config, styles: &[MotorStyle]) -> Vec<Arc<UserLoad>> {
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
                json!({"user_id": config.user_id(u), "events": events}).to_string()
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

// ---------------------------------------------------------------------------------------
// HTTP

/// A client for the nodes with the key.
struct Api {
    client: reqwest::Client,
    nodes: Vec<String>,
    keys: Vec<String>,
}

/// Why a request did not get the answer hoped for.
#[derive(Debug)]
enum CallError {
    Status(u16, String),
    Transport(&'static str, String),
}

impl CallError {
    /// The kind the summary counts errors by.
    fn kind(&self) -> String {
        match self {
            CallError::Status(status, _) => format!("HTTP {status}"),
            CallError::Transport(kind, _) => format!("transport ({kind})"),
        }
    }
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::Status(status, body) => write!(f, "HTTP {status}: {body}"),
            CallError::Transport(kind, message) => write!(f, "{kind}: {message}"),
        }
    }
}

fn transport(e: &reqwest::Error) -> CallError {
    let kind = if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connect"
    } else if e.is_body() || e.is_decode() {
        "body"
    } else {
        "request"
    };
    CallError::Transport(kind, format!("{e:#}"))
}

impl Api {
    fn new(config: &Config) -> anyhow::Result<Api> {
        let client = reqwest::Client::builder()
            .tcp_nodelay(true)
            .timeout(config.timeout)
            .connect_timeout(Duration::from_secs(10))
            .build()
            .context("building the HTTP client")?;
        Ok(Api {
            client,
            nodes: config.nodes.clone(),
            keys: config.keys.clone(),
        })
    }

    /// Sends a request and returns the status and the JSON body (`Null` if not JSON).
    async fn send(
        &self,
        node: usize,
        request: reqwest::RequestBuilder,
    ) -> Result<(u16, Value), CallError> {
        let response = request
            .bearer_auth(&self.keys[node])
            .send()
            .await
            .map_err(|e| transport(&e))?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await.map_err(|e| transport(&e))?;
        Ok((
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        ))
    }

    /// Posts a raw JSON body; `Ok` only for `expect`.
    async fn post_raw(
        &self,
        node: usize,
        path: &str,
        body: String,
        expect: u16,
    ) -> Result<Value, CallError> {
        let request = self
            .client
            .post(format!("{}{path}", self.nodes[node]))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
        match self.send(node, request).await? {
            (status, value) if status == expect => Ok(value),
            (status, value) => Err(CallError::Status(status, value.to_string())),
        }
    }

    /// The user's description, or `None` for an unknown user (404).
    async fn user(&self, node: usize, user_id: &str) -> Result<Option<Value>, CallError> {
        let request = self
            .client
            .get(format!("{}/v1/users/{user_id}", self.nodes[node]));
        match self.send(node, request).await? {
            (200, value) => Ok(Some(value)),
            (404, _) => Ok(None),
            (status, value) => Err(CallError::Status(status, value.to_string())),
        }
    }

    /// The number of events the node has stored for the user (0 for an unknown user).
    async fn stored_events(&self, node: usize, user_id: &str) -> Result<u64, CallError> {
        Ok(self
            .user(node, user_id)
            .await?
            .and_then(|v| v["events"].as_u64())
            .unwrap_or(0))
    }
}

// ---------------------------------------------------------------------------------------
// Setup: enrolment and training

/// Enrols and trains `user` unless the node says it is enrolled already.
async fn ensure_enrolled(
    api: &Api,
    config: &Config,
    u: usize,
    style: &MotorStyle,
) -> anyhow::Result<bool> {
    let node = config.node_of_user(u);
    let user_id = config.user_id(u);
    let describe = |e: CallError| anyhow::anyhow!("{user_id} on {}: {e}", api.nodes[node]);
    if let Some(user) = api.user(node, &user_id).await.map_err(describe)?
        && user["enrolled"] == true
    {
        return Ok(false);
    }
    for s in 0..config.enrol_sessions {
        let rec = session(
            style,
            ENROL_SEED + 100 * u as u64 + s as u64,
            config.enrol_actions,
        );
        let mut shifted = rec;
        let start = now_epoch_ms();
        for e in &mut shifted.events {
            e.t += start;
        }
        let session_id = format!("{user_id}-enrol-{s}");
        let prefix = batch_prefix(&user_id, &session_id);
        for (seq, chunk) in json_batches(&shifted, ENROL_BATCH).iter().enumerate() {
            api.post_raw(
                node,
                "/v1/events",
                batch_body(&prefix, seq as u64, chunk),
                202,
            )
            .await
            .map_err(describe)?;
        }
    }
    Ok(true)
}

/// Trains `user` and waits for the model.
async fn train(api: &Api, config: &Config, u: usize) -> anyhow::Result<()> {
    let node = config.node_of_user(u);
    let user_id = config.user_id(u);
    let describe = |e: CallError| anyhow::anyhow!("training {user_id}: {e}");
    let url = format!("{}/v1/users/{user_id}/train?wait=true", api.nodes[node]);
    // The server waits for the job (up to five minutes) and then answers 202 "running".
    let request = api.client.post(url).timeout(Duration::from_secs(3_600));
    let (status, reply) = api.send(node, request).await.map_err(describe)?;
    match status {
        200 => Ok(()),
        202 => loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let user = api.user(node, &user_id).await.map_err(describe)?;
            if user.is_some_and(|u| u["enrolled"] == true) {
                return Ok(());
            }
        },
        _ => bail!("training {user_id}: HTTP {status}: {reply}"),
    }
}

fn bar(len: u64, template: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template(template)
            .expect("the template is valid")
            .progress_chars("=> "),
    );
    bar
}

/// Enrols and trains every active user; returns how many were new.
async fn setup(api: &Api, config: &Config, styles: &[MotorStyle]) -> anyhow::Result<usize> {
    let users = config.active_users();
    let progress = bar(
        users as u64 * 2,
        "{msg:>12} [{bar:40}] {pos}/{len} {elapsed}",
    );
    progress.set_message("enrolling");
    let enrolled = join_all((0..users).map(|u| {
        let progress = progress.clone();
        async move {
            let fresh = ensure_enrolled(api, config, u, &styles[u]).await;
            progress.inc(1);
            fresh
        }
    }))
    .await;
    let mut fresh = Vec::new();
    for (u, result) in enrolled.into_iter().enumerate() {
        if result? {
            fresh.push(u);
        } else {
            progress.inc(1);
        }
    }
    progress.set_message("training");
    // All at once: each node's worker trains one at a time, every user with the others
    // already enrolled as its background.
    let trained = join_all(fresh.iter().map(|&u| {
        let progress = progress.clone();
        async move {
            let result = train(api, config, u).await;
            progress.inc(1);
            result
        }
    }))
    .await;
    progress.finish_and_clear();
    trained.into_iter().collect::<anyhow::Result<Vec<()>>>()?;
    Ok(fresh.len())
}

// ---------------------------------------------------------------------------------------
// Measurements

/// Latencies of one kind of request, in microseconds.
#[derive(Debug, Clone, Default)]
pub struct Latencies {
    micros: Vec<u64>,
}

/// Percentiles of a set of latencies.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LatencySummary {
    pub count: usize,
    pub p50: Duration,
    pub p90: Duration,
    pub p99: Duration,
    pub max: Duration,
}

/// The nearest-rank `p`-th percentile (0 < p <= 100) of sorted values: the smallest value
/// with at least p% of the values at or below it.
fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

impl Latencies {
    pub fn record(&mut self, d: Duration) {
        self.micros
            .push(u64::try_from(d.as_micros()).unwrap_or(u64::MAX));
    }

    pub fn merge(&mut self, other: Latencies) {
        self.micros.extend(other.micros);
    }

    /// `None` when nothing was recorded.
    pub fn summary(&self) -> Option<LatencySummary> {
        if self.micros.is_empty() {
            return None;
        }
        let mut sorted = self.micros.clone();
        sorted.sort_unstable();
        let at = |p| Duration::from_micros(percentile(&sorted, p));
        Some(LatencySummary {
            count: sorted.len(),
            p50: at(50.0),
            p90: at(90.0),
            p99: at(99.0),
            max: Duration::from_micros(*sorted.last().expect("not empty")),
        })
    }
}

/// What one session (or, merged, the whole run) did.
#[derive(Debug, Default)]
struct Tally {
    batches: u64,
    events: u64,
    duplicates: u64,
    verifies: u64,
    verify_skipped: u64,
    decisions: BTreeMap<String, u64>,
    ingest: Latencies,
    verify: Latencies,
    /// Errors by "endpoint: kind", with one example message each.
    errors: BTreeMap<String, (u64, String)>,
}

impl Tally {
    fn error(&mut self, endpoint: &str, e: &CallError) {
        let entry = self
            .errors
            .entry(format!("{endpoint}: {}", e.kind()))
            .or_insert_with(|| (0, e.to_string()));
        entry.0 += 1;
    }

    fn merge(&mut self, other: Tally) {
        self.batches += other.batches;
        self.events += other.events;
        self.duplicates += other.duplicates;
        self.verifies += other.verifies;
        self.verify_skipped += other.verify_skipped;
        for (k, n) in other.decisions {
            *self.decisions.entry(k).or_default() += n;
        }
        self.ingest.merge(other.ingest);
        self.verify.merge(other.verify);
        for (k, (n, example)) in other.errors {
            self.errors.entry(k).or_insert((0, example)).0 += n;
        }
    }
}

/// Counters the progress bar reads while sessions run.
#[derive(Default)]
struct Live {
    events: AtomicU64,
    errors: AtomicU64,
}

// ---------------------------------------------------------------------------------------
// The session driver

/// One simulated browser session.
struct Session {
    user: Arc<UserLoad>,
    session_id: String,
    /// Where in the user's pool this session starts, so a user's sessions differ.
    offset: usize,
    /// Where in its periods the session sends, in [0, 1).
    phase: f64,
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
    api: &Api,
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
        let result = api.post_raw(node, "/v1/events", body, 202).await;
        tally.ingest.record(sent.elapsed());
        match result {
            Ok(reply) if reply["duplicate"] == true => tally.duplicates += 1,
            Ok(reply) => {
                let accepted = reply["accepted"].as_u64().unwrap_or(0);
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
    api: &Api,
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
    let by_session = json!({"user_id": s.user.id, "session_id": s.session_id}).to_string();
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
        let result = api.post_raw(node, "/v1/verify", body, 200).await;
        tally.verify.record(sent.elapsed());
        match result {
            Ok(verdict) => {
                tally.verifies += 1;
                let decision = verdict["decision"]
                    .as_str()
                    .unwrap_or("unknown")
                    .to_string();
                *tally.decisions.entry(decision).or_default() += 1;
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
async fn drive_session(
    api: &Api,
    config: &Config,
    s: Session,
    live: &Live,
    start: Instant,
) -> Tally {
    let deadline = start + config.duration;
    let acked = AtomicU64::new(0);
    let (mut tally, verify) = tokio::join!(
        ingest_loop(api, config, &s, &acked, live, start, deadline),
        verify_loop(api, config, &s, &acked, live, start, deadline),
    );
    tally.merge(verify);
    tally
}

// ---------------------------------------------------------------------------------------
// The run

/// Stored against acknowledged events of one user.
#[derive(Debug, Clone, PartialEq)]
struct UserCheck {
    user_id: String,
    baseline: u64,
    acknowledged: u64,
    stored: u64,
}

impl UserCheck {
    fn missing(&self) -> u64 {
        (self.baseline + self.acknowledged).saturating_sub(self.stored)
    }

    fn extra(&self) -> u64 {
        self.stored
            .saturating_sub(self.baseline + self.acknowledged)
    }
}

/// Everything the summary shows.
#[derive(Debug)]
struct Report {
    nodes: usize,
    sessions: usize,
    users: usize,
    trained: usize,
    run_id: String,
    rate: Option<f64>,
    batch: usize,
    verify_mode: String,
    elapsed: Duration,
    tally: Tally,
    checks: Vec<UserCheck>,
    /// Users whose stored count could not be read, with why.
    unchecked: Vec<String>,
}

impl Report {
    fn missing(&self) -> u64 {
        self.checks.iter().map(UserCheck::missing).sum()
    }

    fn extra(&self) -> u64 {
        self.checks.iter().map(UserCheck::extra).sum()
    }

    fn error_count(&self) -> u64 {
        self.tally.errors.values().map(|(n, _)| n).sum()
    }

    /// Why the run failed; empty if it passed.
    fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.missing() > 0 {
            problems.push(format!(
                "{} acknowledged events are missing",
                self.missing()
            ));
        }
        if self.extra() > 0 {
            problems.push(format!(
                "{} events are stored that were not acknowledged",
                self.extra()
            ));
        }
        if self.error_count() > 0 {
            problems.push(format!("{} requests failed", self.error_count()));
        }
        if !self.unchecked.is_empty() {
            problems.push(format!(
                "{} users could not be checked",
                self.unchecked.len()
            ));
        }
        problems
    }
}

async fn load_test(config: Config) -> anyhow::Result<Report> {
    let api = Api::new(&config)?;
    let styles = population(config.active_users(), config.seed);
    eprintln!(
        "run {}: {} sessions of {} users on {} node(s); preparing events",
        config.run_id,
        config.sessions,
        config.active_users(),
        config.nodes.len()
    );
    let users = {
        let (config, styles) = (config.clone(), styles.clone());
        tokio::task::spawn_blocking(move || plan_users(&config, &styles))
            .await
            .context("generating events")?
    };
    let trained = setup(&api, &config, &styles).await?;

    let mut baselines = Vec::with_capacity(users.len());
    for user in &users {
        let events = api
            .stored_events(user.node, &user.id)
            .await
            .map_err(|e| anyhow::anyhow!("reading {} before the run: {e}", user.id))?;
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

    let live = Arc::new(Live::default());
    let progress = bar(
        config.duration.as_millis() as u64,
        "{spinner} [{bar:40}] {elapsed} {msg}",
    );
    let start = Instant::now();
    let ticker = {
        let (live, progress) = (live.clone(), progress.clone());
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(200)).await;
                let elapsed = start.elapsed();
                let events = live.events.load(Ordering::Relaxed);
                progress.set_position(elapsed.as_millis() as u64);
                progress.set_message(format!(
                    "{} events acknowledged ({:.0}/s), {} errors",
                    group(events),
                    events as f64 / elapsed.as_secs_f64(),
                    live.errors.load(Ordering::Relaxed)
                ));
            }
        })
    };
    let tallies = join_all(
        sessions
            .into_iter()
            .map(|s| drive_session(&api, &config, s, &live, start)),
    )
    .await;
    // Paced sessions stop at their last due batch; the run still lasted the full duration.
    let elapsed = start.elapsed().max(config.duration);
    ticker.abort();
    progress.finish_and_clear();

    let mut acknowledged = vec![0u64; users.len()];
    let mut tally = Tally::default();
    for (i, t) in tallies.into_iter().enumerate() {
        acknowledged[per_user_of_session[i]] += t.events;
        tally.merge(t);
    }

    let mut checks = Vec::new();
    let mut unchecked = Vec::new();
    for (u, user) in users.iter().enumerate() {
        match api.stored_events(user.node, &user.id).await {
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

// ---------------------------------------------------------------------------------------
// The summary

/// `1234567` as `1,234,567`.
fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

fn latency_row(out: &mut String, name: &str, latencies: &Latencies) {
    match latencies.summary() {
        Some(s) => {
            let _ = writeln!(
                out,
                "  {name:<8} {:>9} {:>9} {:>9} {:>9} {:>9}",
                ms(s.p50),
                ms(s.p90),
                ms(s.p99),
                ms(s.max),
                group(s.count as u64)
            );
        }
        None => {
            let _ = writeln!(out, "  {name:<8} {:>9}", "-");
        }
    }
}

fn render(r: &Report) -> String {
    let mut out = String::new();
    let t = &r.tally;
    let secs = r.elapsed.as_secs_f64().max(1e-9);
    let rate = match r.rate {
        Some(rate) => format!("{rate} events/s per session"),
        None => "as fast as possible".to_string(),
    };
    let _ = writeln!(out, "pointerprint load test, run {}", r.run_id);
    let _ = writeln!(
        out,
        "sessions      {} on {} node(s), {} users ({} enrolled and trained for this run)",
        r.sessions, r.nodes, r.users, r.trained
    );
    let _ = writeln!(
        out,
        "load          batches of {} events, {rate}; verify {}",
        r.batch, r.verify_mode
    );
    let _ = writeln!(out, "duration      {secs:.2} s");
    let _ = writeln!(
        out,
        "ingested      {} batches, {} events acknowledged ({} duplicates)",
        group(t.batches),
        group(t.events),
        group(t.duplicates)
    );
    let _ = writeln!(
        out,
        "throughput    {} events/s, {} batches/s",
        group((t.events as f64 / secs).round() as u64),
        group((t.batches as f64 / secs).round() as u64)
    );
    let decisions = if t.decisions.is_empty() {
        String::new()
    } else {
        let parts: Vec<String> = t
            .decisions
            .iter()
            .map(|(d, n)| format!("{d} {}", group(*n)))
            .collect();
        format!(" ({})", parts.join(", "))
    };
    let _ = writeln!(
        out,
        "verify calls  {}{decisions}, {} skipped before the session's first batch",
        group(t.verifies),
        group(t.verify_skipped)
    );
    let _ = writeln!(
        out,
        "latency (ms)  {:>9} {:>9} {:>9} {:>9} {:>9}",
        "p50", "p90", "p99", "max", "requests"
    );
    latency_row(&mut out, "ingest", &t.ingest);
    latency_row(&mut out, "verify", &t.verify);
    if t.errors.is_empty() {
        let _ = writeln!(out, "errors        none");
    } else {
        let _ = writeln!(out, "errors        {}", group(r.error_count()));
        for (kind, (n, example)) in &t.errors {
            let example: String = example.chars().take(160).collect();
            let _ = writeln!(out, "  {kind}: {} (e.g. {example})", group(*n));
        }
    }
    let acknowledged: u64 = r.checks.iter().map(|c| c.acknowledged).sum();
    let stored: u64 = r
        .checks
        .iter()
        .map(|c| c.stored.saturating_sub(c.baseline))
        .sum();
    let _ = writeln!(
        out,
        "stored check  {} users: {} acknowledged, {} stored, {} missing, {} extra",
        r.checks.len(),
        group(acknowledged),
        group(stored),
        group(r.missing()),
        group(r.extra())
    );
    for c in r.checks.iter().filter(|c| c.missing() > 0 || c.extra() > 0) {
        let _ = writeln!(
            out,
            "  {}: {} acknowledged, {} stored before the run, {} now",
            c.user_id,
            group(c.acknowledged),
            group(c.baseline),
            group(c.stored)
        );
    }
    for u in &r.unchecked {
        let _ = writeln!(out, "  not checked: {u}");
    }
    let problems = r.problems();
    let _ = writeln!(
        out,
        "result        {}",
        if problems.is_empty() {
            "OK: every acknowledged event is stored exactly once".to_string()
        } else {
            format!("FAILED: {}", problems.join("; "))
        }
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let sorted: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&sorted, 50.0), 50);
        assert_eq!(percentile(&sorted, 90.0), 90);
        assert_eq!(percentile(&sorted, 99.0), 99);
        assert_eq!(percentile(&sorted, 100.0), 100);
        assert_eq!(percentile(&[7], 50.0), 7);
        assert_eq!(percentile(&[7], 99.0), 7);
        assert_eq!(percentile(&[], 99.0), 0);
        // Ten values: p99 is the largest, p50 the fifth.
        let ten: Vec<u64> = (1..=10).map(|v| v * 10).collect();
        assert_eq!(percentile(&ten, 50.0), 50);
        assert_eq!(percentile(&ten, 99.0), 100);
        assert_eq!(percentile(&ten, 90.0), 90);
    }

    #[test]
    fn latencies_summarise_in_any_order_and_merge() {
        let mut a = Latencies::default();
        assert_eq!(a.summary(), None);
        for ms in [30u64, 10, 20] {
            a.record(Duration::from_millis(ms));
        }
        let mut b = Latencies::default();
        for ms in (40..=100u64).rev() {
            b.record(Duration::from_millis(ms));
        }
        a.merge(b);
        let s = a.summary().unwrap();
        assert_eq!(s.count, 64);
        assert_eq!(s.max, Duration::from_millis(100));
        // Ranks: ceil(0.5 * 64) = 32nd value = 10, 20, 30, then 40.. → 40 + 28 = 68.
        assert_eq!(s.p50, Duration::from_millis(68));
        assert_eq!(s.p99, Duration::from_millis(100));
        assert!(s.p50 <= s.p90 && s.p90 <= s.p99 && s.p99 <= s.max);
    }

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

    #[test]
    fn users_are_whole_per_node() {
        let args = |users, sessions, nodes: &[&str]| LoadtestArgs {
            nodes: nodes.iter().map(|s| s.to_string()).collect(),
            key: vec!["k".into()],
            sessions,
            rate: 60.0,
            duration: 1.0,
            batch: 100,
            verify_every: 2.0,
            session_events: None,
            users,
            enrol_sessions: 1,
            enrol_actions: 10,
            run_id: Some("r".into()),
            seed: 1,
            timeout: 5.0,
        };
        let c = Config::from_args(args(10, 50, &["http://a", "http://b/", "http://c"])).unwrap();
        assert_eq!(c.users, 12);
        assert_eq!(c.nodes[1], "http://b");
        // Session i's user lives on the node session i goes to.
        for i in 0..c.sessions {
            assert_eq!(c.node_of_user(i % c.users), i % c.nodes.len());
        }
        let c = Config::from_args(args(10, 2, &["http://a"])).unwrap();
        assert_eq!((c.users, c.active_users()), (2, 2));
        assert_eq!(c.keys, vec!["k".to_string()]);
        assert!(Config::from_args(args(1, 1, &["ftp://a"])).is_err());
        let mut two = args(2, 2, &["http://a", "http://b"]);
        two.key = vec!["k1".into(), "k2".into()];
        assert_eq!(Config::from_args(two).unwrap().keys, ["k1", "k2"]);
        let mut wrong = args(2, 2, &["http://a", "http://b", "http://c"]);
        wrong.key = vec!["k1".into(), "k2".into()];
        assert!(Config::from_args(wrong).is_err());
        let mut bad = args(1, 1, &["http://a"]);
        bad.rate = -1.0;
        assert!(Config::from_args(bad).is_err());
        let mut bad = args(1, 1, &["http://a"]);
        bad.duration = 0.0;
        assert!(Config::from_args(bad).is_err());
    }

    fn report(acknowledged: u64, stored: u64, errors: u64) -> Report {
        let mut tally = Tally {
            batches: 3,
            events: acknowledged,
            ..Tally::default()
        };
        tally.ingest.record(Duration::from_millis(2));
        if errors > 0 {
            tally
                .errors
                .insert("ingest: HTTP 500".into(), (errors, "internal".into()));
        }
        Report {
            nodes: 1,
            sessions: 2,
            users: 1,
            trained: 1,
            run_id: "r".into(),
            rate: None,
            batch: 100,
            verify_mode: "off".into(),
            elapsed: Duration::from_secs(2),
            tally,
            checks: vec![UserCheck {
                user_id: "load-r-0".into(),
                baseline: 1_000,
                acknowledged,
                stored,
            }],
            unchecked: vec![],
        }
    }

    #[test]
    fn the_summary_checks_exactly_once() {
        let ok = report(300, 1_300, 0);
        assert!(ok.problems().is_empty());
        let text = render(&ok);
        assert!(
            text.contains("300 acknowledged, 300 stored, 0 missing, 0 extra"),
            "{text}"
        );
        assert!(text.contains("150 events/s"), "{text}");
        assert!(text.contains("result        OK"), "{text}");

        let lost = report(300, 1_200, 0);
        assert_eq!(lost.missing(), 100);
        assert!(render(&lost).contains("100 missing"));
        assert!(!lost.problems().is_empty());

        let failed = report(300, 1_300, 2);
        assert_eq!(failed.problems(), vec!["2 requests failed".to_string()]);
        assert!(render(&failed).contains("ingest: HTTP 500: 2"));
    }

    #[test]
    fn numbers_are_grouped() {
        assert_eq!(group(0), "0");
        assert_eq!(group(999), "999");
        assert_eq!(group(1_000), "1,000");
        assert_eq!(group(1_234_567), "1,234,567");
    }
}
