//! User and session ids: what the API and the CLI accept.

/// Longest user or session id, in characters.
pub const MAX_ID_LEN: usize = 128;

/// Checks an id: 1 to 128 characters, none of them a control character.
pub fn check(what: &str, id: &str) -> Result<(), String> {
    if id.is_empty() || id.chars().count() > MAX_ID_LEN {
        return Err(format!("{what} must be 1 to {MAX_ID_LEN} characters"));
    }
    if id.chars().any(char::is_control) {
        return Err(format!("{what} must not contain control characters"));
    }
    Ok(())
}
