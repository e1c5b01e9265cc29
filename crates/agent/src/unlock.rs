//! Waiting for the desktop to be unlocked after a lock, so the next session is the person
//! who unlocked it. systemd-logind knows (the `LockedHint` screen lockers set); without a
//! logind session the agent cannot tell and goes on at once.

use std::time::Duration;

/// How long the lock command gets to lock before the agent decides it did not.
const LOCK_GRACE: Duration = Duration::from_secs(5);
const POLL: Duration = Duration::from_secs(1);

/// logind's `LockedHint` for this session: `Some(true)` while locked, `None` when it
/// cannot be asked.
async fn locked_hint(session: &str) -> Option<bool> {
    let out = tokio::process::Command::new("loginctl")
        .args(["show-session", session, "--property=LockedHint", "--value"])
        .output()
        .await
        .ok()?;
    if !out.status.success() {
        return None;
    }
    match String::from_utf8_lossy(&out.stdout).trim() {
        "yes" => Some(true),
        "no" => Some(false),
        _ => None,
    }
}

/// Returns once the session is unlocked (or at once where logind cannot tell).
pub async fn wait() {
    let Ok(session) = std::env::var("XDG_SESSION_ID") else {
        tracing::info!("no logind session (XDG_SESSION_ID): cannot watch for the unlock");
        return;
    };
    let deadline = tokio::time::Instant::now() + LOCK_GRACE;
    loop {
        match locked_hint(&session).await {
            Some(true) => break,
            Some(false) if tokio::time::Instant::now() < deadline => tokio::time::sleep(POLL).await,
            Some(false) => {
                tracing::warn!("the screen did not report being locked; going on");
                return;
            }
            None => return,
        }
    }
    while locked_hint(&session).await == Some(true) {
        tokio::time::sleep(POLL).await;
    }
}
