//! The records the store takes and returns. No SQL here.

use std::fmt;
use std::str::FromStr;

use pointerprint_core::{Event, Recording, Screen};
use serde::{Deserialize, Serialize};

/// What an API key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Send event batches.
    Ingest,
    /// Ask for decisions and scores.
    Secret,
    /// Everything, including keys, settings and erasure.
    Admin,
}

impl Role {
    /// The lowercase name: `ingest`, `secret` or `admin`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Ingest => "ingest",
            Role::Secret => "secret",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A role name that is not `ingest`, `secret` or `admin`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role '{0}' (expected ingest, secret or admin)")]
pub struct ParseRoleError(pub String);

impl FromStr for Role {
    type Err = ParseRoleError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "ingest" => Ok(Role::Ingest),
            "secret" => Ok(Role::Secret),
            "admin" => Ok(Role::Admin),
            other => Err(ParseRoleError(other.to_string())),
        }
    }
}

/// An API key as stored: never the key itself, only its hash (kept out of this record).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRecord {
    pub id: i64,
    pub name: String,
    pub role: Role,
    pub created_ms: i64,
    pub revoked: bool,
}

/// One batch of events as a client sent it.
#[derive(Debug, Clone, Copy)]
pub struct NewBatch<'a> {
    pub user_id: &'a str,
    pub session_id: &'a str,
    /// Position of the batch in its session; `(session_id, seq)` identifies it.
    pub seq: i64,
    pub received_ms: i64,
    pub events: &'a [Event],
    pub screen: Option<Screen>,
}

/// What [`crate::Store::insert_batch`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Inserted {
    /// The batch is new and is now stored.
    Stored,
    /// A batch with this `(session_id, seq)` was already stored; nothing changed.
    Duplicate,
}

/// All events of one session.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionEvents {
    pub session_id: String,
    pub user_id: String,
    /// The batches' events concatenated in `seq` order; the screen of the last batch
    /// that had one.
    pub recording: Recording,
    pub batches: u64,
}

/// The batches of a session after a given `seq`, from
/// [`crate::Store::session_events_after`].
#[derive(Debug, Clone, PartialEq)]
pub struct SessionTail {
    pub user_id: String,
    /// The events of the batches after the given `seq`, concatenated in `seq` order; the
    /// screen of the last of them that had one.
    pub recording: Recording,
    /// The highest `seq` among them; `None` if there was none.
    pub last_seq: Option<i64>,
    /// How many batches that was.
    pub new_batches: u64,
    /// All batches of the session, so a caller can tell a late, lower `seq` arrived.
    pub total_batches: u64,
}

/// A user's current model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredModel {
    pub bytes: Vec<u8>,
    pub summary_json: String,
    pub trained_at_ms: i64,
}

/// What the store holds about a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserStats {
    pub user_id: String,
    pub events: u64,
    pub batches: u64,
    pub sessions: u64,
    pub model_trained_at_ms: Option<i64>,
}

/// What [`crate::Store::erase_user`] removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Erased {
    pub batches: u64,
    pub events: u64,
    pub models: u64,
    pub decisions: u64,
}

/// A decision to record in the audit log.
#[derive(Debug, Clone, Copy)]
pub struct NewDecision<'a> {
    pub user_id: &'a str,
    pub session_id: Option<&'a str>,
    pub decision: &'a str,
    pub score: f64,
    pub threshold: f64,
    pub actions: i64,
    pub reasons_json: &'a str,
    pub created_ms: i64,
}

/// A decision from the audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionRecord {
    pub id: i64,
    pub user_id: String,
    pub session_id: Option<String>,
    pub decision: String,
    pub score: f64,
    pub threshold: f64,
    pub actions: i64,
    pub reasons_json: String,
    pub created_ms: i64,
}

/// What automatic training needs to know about a user.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrainingStatus {
    /// Events of the user's sessions that may train a model (see
    /// [`CollectionSession::trains`]).
    pub events: u64,
    /// Whether the user has a model.
    pub has_model: bool,
    /// Whether a job of the user is queued or running.
    pub active_job: bool,
    /// The user's failed training jobs.
    pub failed_jobs: u64,
}

/// A training job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    pub id: i64,
    pub user_id: String,
    pub state: JobState,
    /// Why the job failed, for a failed job.
    pub error: Option<String>,
    pub queued_ms: i64,
}

/// Where a training job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    Queued,
    Running,
    Done,
    Failed,
}

impl JobState {
    /// The lowercase name: `queued`, `running`, `done` or `failed`.
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Failed => "failed",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<JobState> {
        match s {
            "queued" => Some(JobState::Queued),
            "running" => Some(JobState::Running),
            "done" => Some(JobState::Done),
            "failed" => Some(JobState::Failed),
            _ => None,
        }
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who an account signs in to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccountKind {
    /// The monitoring dashboard.
    Admin,
    /// The demo site; the username is the user id whose mouse behaviour is checked.
    Demo,
}

impl AccountKind {
    /// The lowercase name: `admin` or `demo`.
    pub fn as_str(self) -> &'static str {
        match self {
            AccountKind::Admin => "admin",
            AccountKind::Demo => "demo",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<AccountKind> {
        match s {
            "admin" => Some(AccountKind::Admin),
            "demo" => Some(AccountKind::Demo),
            _ => None,
        }
    }
}

impl fmt::Display for AccountKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A person who signs in with a password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: i64,
    pub kind: AccountKind,
    pub username: String,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// Failures since the last success or lock.
    pub failed_logins: u32,
    /// Sign-in is refused before this time (0: never locked).
    pub locked_until_ms: i64,
    pub created_ms: i64,
}

/// A signed-in browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebSession {
    pub account: Account,
    /// Every form of the session must carry this token.
    pub csrf_token: String,
    pub created_ms: i64,
    pub expires_ms: i64,
}

/// A filter and a page of the decision log, newest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecisionQuery<'a> {
    pub user_id: Option<&'a str>,
    /// `accept`, `reject`, `insufficient_data`…
    pub decision: Option<&'a str>,
    /// Inclusive.
    pub from_ms: Option<i64>,
    /// Exclusive.
    pub to_ms: Option<i64>,
    pub offset: u64,
    pub limit: u32,
}

impl Default for DecisionQuery<'_> {
    fn default() -> Self {
        Self {
            user_id: None,
            decision: None,
            from_ms: None,
            to_ms: None,
            offset: 0,
            limit: 100,
        }
    }
}

/// How many decisions of one kind fell into a time bucket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DecisionCount {
    /// Start of the bucket: a multiple of the bucket length, in ms since the epoch.
    pub bucket_ms: i64,
    pub decision: String,
    pub count: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names_round_trip() {
        for role in [Role::Ingest, Role::Secret, Role::Admin] {
            assert_eq!(role.to_string().parse::<Role>().unwrap(), role);
        }
        assert!("root".parse::<Role>().is_err());
        for kind in [AccountKind::Admin, AccountKind::Demo] {
            assert_eq!(AccountKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(AccountKind::parse("root"), None);
        for s in [
            JobState::Queued,
            JobState::Running,
            JobState::Done,
            JobState::Failed,
        ] {
            assert_eq!(JobState::parse(s.as_str()), Some(s));
        }
    }
}

/// Why a site's backend opened a collection session: its events train the user's model
/// only for [`Purpose::Enrol`] (or once labelled [`Label::Genuine`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Purpose {
    Enrol,
    Verify,
    Continuous,
}

impl Purpose {
    /// The lowercase name: `enrol`, `verify` or `continuous`.
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Enrol => "enrol",
            Purpose::Verify => "verify",
            Purpose::Continuous => "continuous",
        }
    }

    /// The purpose of this name, if it is one.
    pub fn parse(s: &str) -> Option<Self> {
        [Purpose::Enrol, Purpose::Verify, Purpose::Continuous]
            .into_iter()
            .find(|p| p.as_str() == s)
    }
}

/// What the site's backend learnt afterwards about who moved the mouse in a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Label {
    /// The user's own: the session may train their model.
    Genuine,
    /// Someone else's: the session never trains a model, whatever is said later.
    Fraud,
}

impl Label {
    /// The lowercase name: `genuine` or `fraud`.
    pub fn as_str(self) -> &'static str {
        match self {
            Label::Genuine => "genuine",
            Label::Fraud => "fraud",
        }
    }

    /// The label of this name, if it is one.
    pub fn parse(s: &str) -> Option<Self> {
        [Label::Genuine, Label::Fraud]
            .into_iter()
            .find(|l| l.as_str() == s)
    }
}

/// A collection session to open for a user (see [`crate::Store::open_session`]).
#[derive(Debug, Clone, Copy)]
pub struct NewCollectionSession<'a> {
    pub session_id: &'a str,
    pub user_id: &'a str,
    pub purpose: Purpose,
    /// The hex SHA-256 of the session's token; `None` for a session written by trusted
    /// code only (an import, the demo's synthetic background).
    pub token_hash: Option<&'a str>,
    pub created_ms: i64,
    pub expires_ms: i64,
}

/// A collection session as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CollectionSession {
    pub session_id: String,
    pub user_id: String,
    /// `None` for a session that arrived with a plain API key and was labelled afterwards.
    pub purpose: Option<Purpose>,
    /// Whether its batches come with a token (and only with it).
    pub has_token: bool,
    pub created_ms: i64,
    /// When its token stops working.
    pub expires_ms: i64,
    pub label: Option<Label>,
}

impl CollectionSession {
    /// Whether the session's events may train its user's model.
    pub fn trains(&self) -> bool {
        match self.label {
            Some(label) => label == Label::Genuine,
            None => self.purpose == Some(Purpose::Enrol),
        }
    }
}
