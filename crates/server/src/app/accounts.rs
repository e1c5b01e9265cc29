//! Password accounts (dashboard administrators, demo-site users) and their signed-in
//! browser sessions. Passwords are kept as Argon2id hashes; session cookies carry a random
//! token of which only the SHA-256 is stored, beside a CSRF token for the session's forms.

use std::sync::LazyLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use pointerprint_storage::{Account, AccountKind, StorageError, Store, WebSession};
use rand::RngCore;

use crate::app::keys::hash_token;

/// Failed sign-ins in a row that lock an account.
pub const MAX_FAILED_LOGINS: u32 = 5;
/// How long a locked account stays locked.
pub const LOCK_MS: i64 = 15 * 60 * 1000;
/// How long a sign-in lasts.
pub const SESSION_MS: i64 = 12 * 60 * 60 * 1000;
/// Shortest password accepted for a new account.
pub const MIN_PASSWORD_CHARS: usize = 8;

/// Why a sign-in was refused.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// Unknown username or wrong password (deliberately not told apart).
    #[error("wrong username or password")]
    Invalid,
    /// Too many failures: sign-in is refused until `until_ms`, even with the right password.
    #[error("too many failed sign-ins: the account is locked for a while")]
    Locked { until_ms: i64 },
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Refuses a password too short to be worth hashing.
pub fn check_password_rules(password: &str) -> Result<(), String> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(format!(
            "the password must have at least {MIN_PASSWORD_CHARS} characters"
        ));
    }
    Ok(())
}

/// The Argon2id hash (PHC string, random salt, the crate's recommended cost) of a password.
pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .unwrap_or_else(|e| unreachable!("Argon2id with default parameters cannot fail: {e}"))
}

fn password_matches(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|hash| {
        Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .is_ok()
    })
}

/// Argon2 computations running at once: half the cores (at least one), so a burst of
/// sign-ins leaves the other half to everything else.
static ARGON2_SLOTS: LazyLock<tokio::sync::Semaphore> = LazyLock::new(|| {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    tokio::sync::Semaphore::new(cores.div_ceil(2))
});

/// Runs an Argon2 computation (deliberately slow) on the blocking pool, at most
/// [`ARGON2_SLOTS`] at once: never on the async workers, which would stall every other
/// request meanwhile.
async fn argon2<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    // The semaphore is never closed.
    let _slot = ARGON2_SLOTS.acquire().await;
    match tokio::task::spawn_blocking(work).await {
        Ok(value) => value,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}

/// [`hash_password`] off the async workers.
pub async fn hash_password_async(password: String) -> String {
    argon2(move || hash_password(&password)).await
}

/// Whether `password` matches the PHC string `phc` (the decoy's when `None`, which costs
/// as much), off the async workers.
async fn password_matches_async(password: &str, phc: Option<&str>) -> bool {
    let (password, phc) = (password.to_string(), phc.map(str::to_string));
    argon2(move || password_matches(&password, phc.as_deref().unwrap_or(&DECOY_HASH))).await
}

/// Checked against when the username is unknown, so that an unknown name costs as much
/// time as a wrong password and response times do not tell which names exist.
static DECOY_HASH: LazyLock<String> = LazyLock::new(|| hash_password("decoy password"));

/// The account of `kind` and `username` if `password` is its password; no lock-out is
/// looked at or counted (the caller limits attempts another way).
pub async fn password_only(
    store: &Store,
    kind: AccountKind,
    username: &str,
    password: &str,
) -> Result<Option<Account>, StorageError> {
    let account = store.account(kind, username).await?;
    let phc = account.as_ref().map(|a| a.password_hash.as_str());
    let matches = password_matches_async(password, phc).await;
    Ok(account.filter(|_| matches))
}

/// Checks a username and password, counting failures: the [`MAX_FAILED_LOGINS`]-th failure
/// in a row locks the account for [`LOCK_MS`]. A locked account is refused whatever the
/// password, and the attempt does not extend the lock. A right password does not yet reset
/// the count: with a second factor, only passing both does ([`Store::record_login_success`]),
/// so that someone who has the password cannot keep trying the second factor.
pub async fn check_password(
    store: &Store,
    kind: AccountKind,
    username: &str,
    password: &str,
    now_ms: i64,
) -> Result<Account, SignInError> {
    let Some(account) = store.account(kind, username).await? else {
        password_matches_async(password, None).await;
        return Err(SignInError::Invalid);
    };
    if account.locked_until_ms > now_ms {
        return Err(SignInError::Locked {
            until_ms: account.locked_until_ms,
        });
    }
    if password_matches_async(password, Some(&account.password_hash)).await {
        return Ok(account);
    }
    match count_failed_sign_in(store, &account, now_ms).await? {
        Some(until_ms) => Err(SignInError::Locked { until_ms }),
        None => Err(SignInError::Invalid),
    }
}

/// Counts a failed sign-in of `account` (a wrong password, or a second factor that said
/// no) towards its lock-out; returns the end of the lock if this failure locked it.
pub async fn count_failed_sign_in(
    store: &Store,
    account: &Account,
    now_ms: i64,
) -> Result<Option<i64>, StorageError> {
    let after = store
        .record_login_failure(account.id, now_ms, MAX_FAILED_LOGINS, LOCK_MS)
        .await?;
    Ok(after
        .map(|a| a.locked_until_ms)
        .filter(|&until| until > now_ms))
}

fn random_hex<const N: usize>() -> String {
    let mut bytes = [0u8; N];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// A random token (256 bits, as 64 hex digits): session cookies and CSRF tokens.
pub fn random_token() -> String {
    random_hex::<32>()
}

/// A random password (96 bits, as 24 hex digits) for an account the service makes itself.
pub fn random_password() -> String {
    random_hex::<12>()
}

/// A new signed-in session for `account`, lasting [`SESSION_MS`]: returns the cookie's
/// token (stored only as a hash) and the session's CSRF token.
pub async fn start_web_session(
    store: &Store,
    account: &Account,
    now_ms: i64,
) -> Result<(String, String), StorageError> {
    let (token, csrf) = (random_token(), random_token());
    store
        .create_web_session(
            &hash_token(&token),
            account.id,
            &csrf,
            now_ms,
            now_ms + SESSION_MS,
        )
        .await?;
    Ok((token, csrf))
}

/// The live session of a cookie's token.
pub async fn web_session(
    store: &Store,
    token: &str,
    now_ms: i64,
) -> Result<Option<WebSession>, StorageError> {
    store.web_session(&hash_token(token), now_ms).await
}

/// Signs the session of a cookie's token out.
pub async fn end_web_session(store: &Store, token: &str) -> Result<(), StorageError> {
    store.delete_web_session(&hash_token(token)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_salted_argon2id_and_verify() {
        let a = hash_password("correct horse");
        let b = hash_password("correct horse");
        assert!(a.starts_with("$argon2id$"), "{a}");
        assert_ne!(a, b);
        assert!(password_matches("correct horse", &a));
        assert!(!password_matches("correct hors", &a));
        assert!(!password_matches("correct horse", "not a phc string"));
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(check_password_rules("1234567").is_err());
        assert!(check_password_rules("12345678").is_ok());
    }
}
