//! Collection sessions. A site's backend (holding a secret key) opens a session for one of
//! its users with a purpose; the server chooses the session id and hands back a short-lived
//! token bound to that session. Collectors (the browser SDK, the extension, the desktop
//! agent) send with the token: it writes its own session only and opens its own trust
//! stream only. Only sessions opened for enrolment, or labelled genuine afterwards by the
//! backend, ever train a model; a fraud label excludes a session for good.
//!
//! A token is `pp_session_` and 64 hex digits (256 random bits). Only its SHA-256 is
//! stored, beside the session, so every node sharing the database knows it, and a lookup
//! by hash compares no secret in memory. It works until the session's expiry (`ttl_s`,
//! 1 hour by default, 60 s to 24 h) or until the session is labelled fraud.

use pointerprint_storage::{CollectionSession, Label, NewCollectionSession, Purpose, Role};
use rand::RngCore;

use crate::app::App;
use crate::app::error::{AppError, ErrorKind};
use crate::app::ingest::queue_training_when_due;
use crate::app::keys::{Caller, authenticate, hash_token};
use crate::domain::ids::{SessionId, UserId};

/// What a session token starts with; anything else is taken for an API key.
pub const TOKEN_PREFIX: &str = "pp_session_";
/// A token's lifetime when the backend does not say.
pub const DEFAULT_TTL_S: u64 = 3_600;
/// The shortest and longest lifetimes a backend may ask for.
pub const TTL_RANGE_S: std::ops::RangeInclusive<u64> = 60..=86_400;

/// Who sends a batch or listens to a trust stream.
#[derive(Debug, Clone)]
pub enum Collector {
    /// An API key: writes any session not opened for a token, as any user it names.
    Key(Caller),
    /// A session token: its own session only.
    Session(CollectionSession),
}

/// A session just opened, with its token (shown once).
#[derive(Debug, Clone)]
pub struct OpenedSession {
    pub session_id: SessionId,
    pub user_id: UserId,
    pub purpose: Purpose,
    pub token: String,
    pub expires_ms: i64,
}

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    hex::encode(buf)
}

/// Opens a collection session for `user_id`: a new session id of the server's choosing
/// and its token, valid for `ttl_s` seconds ([`DEFAULT_TTL_S`] if `None`).
pub async fn open(
    app: &App,
    user_id: &UserId,
    purpose: Purpose,
    ttl_s: Option<u64>,
) -> Result<OpenedSession, AppError> {
    let ttl_s = ttl_s.unwrap_or(DEFAULT_TTL_S);
    if !TTL_RANGE_S.contains(&ttl_s) {
        return Err(AppError::invalid(
            "invalid_ttl",
            format!(
                "ttl_s must be {} to {} seconds",
                TTL_RANGE_S.start(),
                TTL_RANGE_S.end()
            ),
        ));
    }
    let session_id = SessionId::parse(format!("ps_{}", random_hex(16)))?;
    let token = format!("{TOKEN_PREFIX}{}", random_hex(32));
    let created_ms = app.store.now_ms();
    let expires_ms = created_ms.saturating_add((ttl_s * 1000) as i64);
    app.store
        .open_session(&NewCollectionSession {
            session_id: session_id.as_str(),
            user_id: user_id.as_str(),
            purpose,
            token_hash: Some(&hash_token(&token)),
            created_ms,
            expires_ms,
        })
        .await?;
    Ok(OpenedSession {
        session_id,
        user_id: user_id.clone(),
        purpose,
        token,
        expires_ms,
    })
}

/// Opens a session for enrolment that trusted code writes itself, without a token (an
/// import from files, the demo's synthetic background).
pub async fn open_trusted_enrolment(
    store: &pointerprint_storage::Store,
    user_id: &str,
    session_id: &str,
) -> Result<(), pointerprint_storage::StorageError> {
    let now = store.now_ms();
    store
        .open_session(&NewCollectionSession {
            session_id,
            user_id,
            purpose: Purpose::Enrol,
            token_hash: None,
            created_ms: now,
            expires_ms: now,
        })
        .await
}

/// The backend's word on a session afterwards: `genuine` lets it train the user's model
/// (and may make the user due for training), `fraud` excludes it for good.
pub async fn label(
    app: &App,
    session_id: &SessionId,
    label: Label,
) -> Result<CollectionSession, AppError> {
    let session = app
        .store
        .label_session(session_id.as_str(), label)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no session {session_id}")))?;
    if session.trains()
        && let Ok(user_id) = UserId::parse(session.user_id.as_str())
        && let Err(e) = queue_training_when_due(app, &user_id).await
    {
        tracing::warn!(user = %user_id, error = e.message, "cannot check enrolment");
    }
    Ok(session)
}

/// Authenticates what a collector sent: a session token (unexpired, its session not
/// labelled fraud) or an API key (not revoked).
pub async fn authenticate_collector(
    app: &App,
    credential: Option<&str>,
) -> Result<Collector, AppError> {
    let Some(token) = credential.and_then(|c| c.strip_prefix(TOKEN_PREFIX)) else {
        return Ok(Collector::Key(authenticate(app, credential).await?));
    };
    let unauthorized = |m: &str| AppError::new(ErrorKind::Unauthenticated, "unauthorized", m);
    let session = app
        .store
        .session_by_token(&hash_token(&format!("{TOKEN_PREFIX}{token}")))
        .await?
        .ok_or_else(|| unauthorized("unknown session token"))?;
    if session.expires_ms <= app.store.now_ms() {
        return Err(unauthorized(
            "this session token has expired: the site's backend opens a new session",
        ));
    }
    if session.label == Some(Label::Fraud) {
        return Err(unauthorized("this session was labelled fraud"));
    }
    Ok(Collector::Session(session))
}

fn forbidden(code: &'static str, message: String) -> AppError {
    AppError::new(ErrorKind::Forbidden, code, message)
}

impl Collector {
    /// The user and session a batch goes to. A token's come from the token (ids sent
    /// beside it must be the same); a key's from the batch, and never a session opened
    /// for a token.
    pub async fn batch_target(
        &self,
        app: &App,
        user_id: Option<String>,
        session_id: Option<String>,
    ) -> Result<(UserId, SessionId), AppError> {
        match self {
            Collector::Session(session) => {
                let foreign = |given: &Option<String>, own: &str| {
                    given.as_deref().is_some_and(|given| given != own)
                };
                if foreign(&user_id, &session.user_id) || foreign(&session_id, &session.session_id)
                {
                    return Err(forbidden(
                        "foreign_session",
                        format!(
                            "this token writes session {} of user {} only",
                            session.session_id, session.user_id
                        ),
                    ));
                }
                Ok((
                    UserId::parse(session.user_id.as_str())?,
                    SessionId::parse(session.session_id.as_str())?,
                ))
            }
            Collector::Key(caller) => {
                caller.require(Role::Ingest)?;
                let missing = |field: &str| {
                    AppError::invalid(
                        "missing_field",
                        format!("{field} is needed with an API key (a session token names it)"),
                    )
                };
                let user_id = UserId::parse(user_id.ok_or_else(|| missing("user_id"))?)?;
                let session_id =
                    SessionId::parse(session_id.ok_or_else(|| missing("session_id"))?)?;
                if app
                    .store
                    .collection_session(session_id.as_str())
                    .await?
                    .is_some_and(|s| s.has_token)
                {
                    return Err(forbidden(
                        "token_session",
                        format!("session {session_id} takes its own token only"),
                    ));
                }
                Ok((user_id, session_id))
            }
        }
    }

    /// Whether this collector may listen to a session's trust: its own session's token, a
    /// secret (or admin) key (the site's backend's), or the ingest key of a trusted
    /// collector for a session sent with a key (never one opened for a token).
    pub async fn may_listen(&self, app: &App, session_id: &SessionId) -> Result<(), AppError> {
        match self {
            Collector::Session(session) if session.session_id == session_id.as_str() => Ok(()),
            Collector::Session(session) => Err(forbidden(
                "foreign_session",
                format!(
                    "this token opens session {}'s stream only",
                    session.session_id
                ),
            )),
            Collector::Key(caller) if caller.require(Role::Secret).is_ok() => Ok(()),
            Collector::Key(_) => {
                let opened = app.store.collection_session(session_id.as_str()).await?;
                if opened.is_some_and(|s| s.has_token) {
                    Err(forbidden(
                        "token_session",
                        format!("session {session_id}'s stream opens with its own token only"),
                    ))
                } else {
                    Ok(())
                }
            }
        }
    }

    /// Whether this is the plain ingest key (not a token, not a backend's key).
    pub fn is_ingest_key(&self) -> bool {
        matches!(self, Collector::Key(caller) if caller.0.role == Role::Ingest)
    }
}
