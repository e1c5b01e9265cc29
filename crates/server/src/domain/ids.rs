//! User and session ids: what the API and the CLI accept. An id is parsed once, where it
//! enters the service, and travels as a [`UserId`] or [`SessionId`] from then on.

use std::fmt;

use serde::{Deserialize, Serialize};

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

/// Checks an id: 1 to 128 characters, none of them a control character.
fn check(what: &'static str, id: &str) -> Result<(), IdError> {
    let problem = if id.is_empty() || id.chars().count() > MAX_ID_LEN {
        format!("must be 1 to {MAX_ID_LEN} characters")
    } else if id.chars().any(char::is_control) {
        "must not contain control characters".to_string()
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
    fn ids_are_one_to_128_printable_characters() {
        assert!(UserId::parse("alice").is_ok());
        assert!(UserId::parse("a".repeat(128)).is_ok());
        assert_eq!(
            UserId::parse("").unwrap_err().to_string(),
            "user_id must be 1 to 128 characters"
        );
        assert!(UserId::parse("a".repeat(129)).is_err());
        assert_eq!(
            SessionId::parse("a\nb").unwrap_err().to_string(),
            "session_id must not contain control characters"
        );
    }

    #[test]
    fn ids_deserialize_only_when_valid() {
        let id: UserId = serde_json::from_str("\"bob\"").unwrap();
        assert_eq!(id.as_str(), "bob");
        assert!(serde_json::from_str::<UserId>("\"\"").is_err());
    }
}
