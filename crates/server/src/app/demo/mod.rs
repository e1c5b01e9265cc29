//! The demo site's accounts: sign-up, and sign-in with the password first and the mouse
//! as the second factor. Demo accounts are users of the service like any other, named
//! `demo-NAME`; the page's events of a sign-in are scored inline, not stored (they may be
//! someone else's).

pub mod seed;

use pointerprint_core::Recording;
use pointerprint_model::Decision;
use pointerprint_storage::{Account, AccountKind, StorageError};

use crate::app::App;
use crate::app::accounts::{
    SignInError, check_password, check_password_rules, count_failed_sign_in, hash_password_async,
    start_web_session,
};
use crate::app::error::{AppError, ErrorKind};
use crate::app::verify::verify_events;
use crate::domain::decision::Verdict;
use crate::domain::events::check_events;
use crate::domain::ids::{DEMO_USER_PREFIX, UserId};

/// The service's user id of a demo account: demo users live beside the API's users, and
/// are held to the settings' demo policy (`demo_threshold`).
pub fn user_id(username: &str) -> Result<UserId, AppError> {
    Ok(UserId::parse(format!("{DEMO_USER_PREFIX}{username}"))?)
}

/// Usernames: 3 to 32 letters, digits, `.`, `_` or `-` (they become part of a user id).
fn check_username(username: &str) -> Result<(), AppError> {
    let ok = (3..=32).contains(&username.len())
        && username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(AppError::invalid(
            "invalid_username",
            "the username must be 3 to 32 letters, digits, '.', '_' or '-'",
        ))
    }
}

/// A signed-in demo account: its cookie's token.
pub struct SignedIn {
    pub account: Account,
    pub user_id: UserId,
    pub token: String,
}

/// Creates a demo account and signs it in.
pub async fn register(app: &App, username: &str, password: String) -> Result<SignedIn, AppError> {
    check_username(username)?;
    check_password_rules(&password).map_err(|m| AppError::invalid("weak_password", m))?;
    let user_id = user_id(username)?;
    let hash = hash_password_async(password).await;
    let account = match app
        .store
        .create_account(AccountKind::Demo, username, &hash, app.store.now_ms())
        .await
    {
        Ok(account) => account,
        Err(StorageError::Conflict(_)) => {
            return Err(AppError::new(
                ErrorKind::Conflict,
                "username_taken",
                format!("the username {username} is taken"),
            ));
        }
        Err(e) => return Err(e.into()),
    };
    let (token, _csrf) = start_web_session(&app.store, &account, app.store.now_ms()).await?;
    Ok(SignedIn {
        account,
        user_id,
        token,
    })
}

/// The outcome of a sign-in whose password was right.
pub struct SignInOutcome {
    pub username: String,
    pub verdict: Verdict,
    /// The cookie's token, when both factors passed.
    pub token: Option<String>,
    /// When this attempt's failure locked the account, until when.
    pub locked_until_ms: Option<i64>,
}

/// Password first, then the mouse: the login page's events are scored against the
/// account's model. Signs in only when both pass.
pub async fn sign_in(
    app: &App,
    username: &str,
    password: &str,
    recording: Recording,
) -> Result<SignInOutcome, AppError> {
    check_events(&recording, app.config.max_verify_events)?;
    let account = check_password(
        &app.store,
        AccountKind::Demo,
        username,
        password,
        app.store.now_ms(),
    )
    .await
    .map_err(|e| sign_in_error(app, e))?;
    let user_id = user_id(&account.username)?;
    let verdict = match verify_events(app, &user_id, recording).await {
        Ok(verdict) => verdict,
        // Mouse input refused as such (e.g. implausible) is a failed second factor too.
        Err(e) if e.kind == ErrorKind::Invalid => {
            count_failed_sign_in(&app.store, &account, app.store.now_ms()).await?;
            return Err(e);
        }
        Err(e) => return Err(e),
    };
    let mut outcome = SignInOutcome {
        username: account.username.clone(),
        verdict,
        token: None,
        locked_until_ms: None,
    };
    match outcome.verdict.decision {
        Decision::Accept => {
            app.store.record_login_success(account.id).await?;
            let (token, _csrf) =
                start_web_session(&app.store, &account, app.store.now_ms()).await?;
            outcome.token = Some(token);
        }
        // A mouse that is not the owner's, or too few actions to tell, counts like a wrong
        // password: whoever has the password gets a few tries, not as many as it takes to
        // tune a forgery until it is let in.
        Decision::Reject | Decision::InsufficientData => {
            outcome.locked_until_ms =
                count_failed_sign_in(&app.store, &account, app.store.now_ms()).await?;
        }
    }
    Ok(outcome)
}

fn sign_in_error(app: &App, e: SignInError) -> AppError {
    match e {
        SignInError::Invalid => AppError::new(
            ErrorKind::Unauthenticated,
            "invalid_credentials",
            "wrong username or password",
        ),
        SignInError::Locked { until_ms } => AppError::new(
            ErrorKind::TooMany,
            "account_locked",
            format!(
                "too many failed sign-ins: try again in {} minutes",
                ((until_ms - app.store.now_ms()) / 60_000).max(1)
            ),
        ),
        SignInError::Storage(e) => e.into(),
    }
}
