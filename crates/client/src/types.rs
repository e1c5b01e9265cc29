//! The API's requests and answers as Rust types. Answers ignore fields they do not know, so
//! a newer server with more to say still talks to this client.

use pointerprint_formats::{NativeEvent, NativeScreen};
use serde::{Deserialize, Serialize};

/// `POST /v1/events`: one batch of a session.
#[derive(Debug, Clone, Serialize)]
pub struct Batch<'a> {
    pub user_id: &'a str,
    pub session_id: &'a str,
    /// The batch's number in the session; a repeated number is acknowledged, not stored.
    pub seq: u64,
    pub events: &'a [NativeEvent],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub screen: Option<NativeScreen>,
}

/// The answer to a batch: how many events were accepted, and whether it was a repeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct Ack {
    pub accepted: u64,
    pub duplicate: bool,
}

/// `POST /v1/verify` by stored session or with events inline.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyRequest<'a> {
    pub user_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events: Option<&'a [NativeEvent]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub screen: Option<NativeScreen>,
}

/// A decision: `accept`, `reject` or `insufficient_data`, with the score against the
/// threshold (higher means more likely the genuine user).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Verdict {
    pub decision: String,
    /// Why, for machines: `score_at_or_above_threshold`, `score_below_threshold`,
    /// `too_few_actions` or `implausible_input`.
    pub code: String,
    pub score: f64,
    pub threshold: f64,
    pub actions: u64,
    pub reasons: Vec<String>,
}

/// A user's stored data and model.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct User {
    pub user_id: String,
    pub events: u64,
    pub batches: u64,
    pub sessions: u64,
    pub enrolled: bool,
    pub model: Option<ModelSummary>,
    /// Counted only when one user is asked for (it takes extracting their sessions).
    #[serde(default)]
    pub actions: Option<u64>,
}

/// What a user's model was trained on.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ModelSummary {
    pub trained_at_ms: i64,
    /// `boosted`, `forest` or `one-class`.
    pub learner: String,
    pub genuine_actions: u64,
    pub background_users: u64,
    /// Predicted EER on 1, 5, 10 and 20 actions (two-class models only).
    pub expected_eer: Option<Vec<f64>>,
    pub bytes: u64,
}

/// Where a training job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrainingState {
    Queued,
    /// Still training when the server stopped waiting.
    Running,
    Done,
}

/// The answer to `POST /v1/users/{id}/train`; `user` once the job is done.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Training {
    pub job: i64,
    pub state: TrainingState,
    #[serde(default)]
    pub user: Option<User>,
}

/// What an erasure or a reset removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub struct Erased {
    pub batches: u64,
    pub events: u64,
    pub models: u64,
    pub decisions: u64,
}

/// One entry of the audit log.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct DecisionRecord {
    pub id: i64,
    pub user_id: String,
    pub session_id: Option<String>,
    pub decision: String,
    pub score: f64,
    pub threshold: f64,
    pub actions: u64,
    pub reasons: Vec<String>,
    pub created_ms: i64,
}

/// What an API key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Ingest,
    Secret,
    Admin,
}

/// An API key as the node lists it (never the key itself).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct KeyRecord {
    pub id: i64,
    pub name: String,
    pub role: Role,
    pub created_ms: i64,
    pub revoked: bool,
}

/// A key just made: the key, shown this once, and its record.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct NewKey {
    pub key: String,
    pub record: KeyRecord,
}

/// `GET /healthz`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Health {
    pub status: String,
    pub version: String,
    /// Sessions whose trust streams this node follows (0 from servers that do not say).
    #[serde(default)]
    pub trust_streams: u64,
}

/// What the trust stream of a continuous session pushes.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TrustUpdate {
    /// Trust (0 to 100) after `actions` actions, and the decision it amounts to.
    Trust {
        trust: f64,
        actions: u64,
        decision: String,
    },
    /// Trust fell below the lock-out level.
    Lock {
        trust: f64,
        actions: u64,
        reason: String,
    },
}

impl TrustUpdate {
    pub fn trust(&self) -> f64 {
        match self {
            TrustUpdate::Trust { trust, .. } | TrustUpdate::Lock { trust, .. } => *trust,
        }
    }

    pub fn actions(&self) -> u64 {
        match self {
            TrustUpdate::Trust { actions, .. } | TrustUpdate::Lock { actions, .. } => *actions,
        }
    }
}

/// Why a site's backend opens a collection session: only `Enrol` sessions (and sessions
/// labelled genuine afterwards) train the user's model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Purpose {
    Enrol,
    Verify,
    Continuous,
}

/// `POST /v1/sessions`: a session to open for a user.
#[derive(Debug, Clone, Serialize)]
pub struct OpenSession<'a> {
    pub user_id: &'a str,
    pub purpose: Purpose,
    /// The token's lifetime in seconds (60 to 86,400; the server's default, an hour, if
    /// `None`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttl_s: Option<u64>,
}

/// An opened collection session: the id the server chose and its token (shown once).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct OpenedSession {
    pub session_id: String,
    pub user_id: String,
    pub purpose: Purpose,
    /// `pp_session_...`: the collector's credential for this session only.
    pub token: String,
    pub expires_ms: i64,
}

/// The backend's word on a session afterwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Label {
    /// The user's own: it may train their model.
    Genuine,
    /// Someone else's: it never trains a model.
    Fraud,
}

/// A session as labelled by `POST /v1/sessions/{id}/feedback`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct LabelledSession {
    pub session_id: String,
    pub user_id: String,
    /// `None` for a session sent with an API key rather than opened.
    pub purpose: Option<Purpose>,
    pub label: Option<Label>,
    /// Whether its events train the user's model.
    pub trains: bool,
}
