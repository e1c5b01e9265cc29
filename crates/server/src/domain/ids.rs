//! User and session ids: what the API and the CLI accept. An id is parsed once, where it
//! enters the service, and travels as a [`UserId`] or [`SessionId`] from then on.
//!
//! Ids go into URLs, file names, logs and pages, so they are kept to a safe alphabet:
//! ASCII letters and digits and `-`, `_`, `.`, `@`, `:`, 1 to 128 of them, not dots alone.
//! No `/`, `%`, `?`, `#`, spaces or look-alike characters (zero-width, bidirectional
//! controls, line separators) can then turn an id into another path or another name.

use std::fmt;

use serde::{Deserialize, Serialize};

/// How the ids of the demo site's users begin (`demo-NAME`).
pub const DEMO_USER_PREFIX: &str = "demo-";

/// Longest user or session id, in characters.
pub const MAX_ID_LEN: usize = 128;

/// Why a string is not an id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} {problem}")]
pub struct IdError {
    /// `user_id` or `session_id`.
    pub what: &'static str,
    pub problem: String,
}

/// Whether `c` may be part of an id.
fn allowed(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@' | ':')
}

/// Checks an id: 1 to 128 characters of the safe alphabet, not dots alone (`.` and `..`
/// are path steps).
fn check(what: &'static str, id: &str) -> Result<(), IdError> {
    let problem = if id.is_empty() || id.chars().count() > MAX_ID_LEN {
        format!("must be 1 to {MAX_ID_LEN} characters")
    } else if let Some(c) = id.chars().find(|&c| !allowed(c)) {
        format!(
            "must be ASCII letters, digits, '-', '_', '.', '@' or ':' (found {:?})",
            c.escape_unicode().to_string()
        )
    } else if id.chars().all(|c| c == '.') {
        "must not be dots alone".to_string()
    } else {
        return Ok(());
    };
    Err(IdError { what, problem })
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// The id, if `id` is one.
            pub fn parse(id: impl Into<String>) -> Result<Self, IdError> {
                let id = id.into();
                check($what, &id)?;
                Ok(Self(id))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(id: String) -> Result<Self, IdError> {
                Self::parse(id)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

id_type!(
    /// The id of a user: an API user, or a demo account's `demo-NAME`.
    UserId,
    "user_id"
);
id_type!(
    /// The id of a recorded session: the batches a collector sends under one id.
    SessionId,
    "session_id"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_one_to_128_characters_of_the_safe_alphabet() {
        for good in [
            "alice",
            "demo-bob-x1",
            "user_2",
            "a.b@example.com",
            "urn:x:1",
            "..a",
        ] {
            assert!(UserId::parse(good).is_ok(), "{good}");
        }
        assert!(UserId::parse("a".repeat(128)).is_ok());
        assert_eq!(
            UserId::parse("").unwrap_err().to_string(),
            "user_id must be 1 to 128 characters"
        );
        assert!(UserId::parse("a".repeat(129)).is_err());
        assert!(
            SessionId::parse("a\nb")
                .unwrap_err()
                .to_string()
                .starts_with("session_id must be ASCII letters")
        );
        for bad in [
            "%7Aed",
            "x/../../keys/9/revoke?",
            "a b",
            "   ",
            "a?b",
            "a#b",
            "\u{2028}",
            "bob\u{202E}",
            "bo\u{200B}b",
            "zéd",
            ".",
            "..",
        ] {
            assert!(UserId::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn ids_deserialize_only_when_valid() {
        let id: UserId = serde_json::from_str("\"bob\"").unwrap();
        assert_eq!(id.as_str(), "bob");
        assert!(serde_json::from_str::<UserId>("\"\"").is_err());
    }
}
