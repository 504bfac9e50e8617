//! User handles: the one rule every path component derived from a user must pass.
//!
//! A handle names a folder in the data directory and a URL segment, so it is validated
//! everywhere it enters (CLI, API paths, queue requests): `^[a-z0-9][a-z0-9_-]{0,29}$`.
//! That rule alone excludes `.`, `..`, `/`, `%` and every other traversal trick.

use std::fmt;
use std::str::FromStr;

/// Why a handle was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandleError {
    #[error(
        "invalid handle {0:?}: use 1-30 lowercase letters, digits, '_' or '-', starting with a letter or digit"
    )]
    Invalid(String),
    #[error("handle {0:?} is reserved")]
    Reserved(String),
}

/// Names that would collide with site paths or data-directory folders.
pub const RESERVED: &[&str] = &[
    "api",
    "u",
    "static",
    "community",
    "about",
    "login",
    "register",
    "reset",
    "settings",
    "invites",
    "admin",
    "feedback",
    "index",
    "feed",
    "_queue",
    "_feedback",
    "assets",
    "vendor",
    "activities",
    "originals",
    "edits",
    "404",
];

/// A validated user handle.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Handle(String);

impl Handle {
    /// Validate a handle exactly as given (no trimming or lower-casing).
    pub fn new(s: &str) -> Result<Self, HandleError> {
        let bytes = s.as_bytes();
        let ok = !bytes.is_empty()
            && bytes.len() <= 30
            && bytes[0].is_ascii_lowercase() | bytes[0].is_ascii_digit()
            && bytes
                .iter()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_' || *b == b'-');
        if !ok {
            return Err(HandleError::Invalid(s.to_owned()));
        }
        Ok(Self(s.to_owned()))
    }

    /// Validate a handle for a new account: the shape rule plus the reserved names.
    pub fn new_account(s: &str) -> Result<Self, HandleError> {
        let h = Self::new(s)?;
        if RESERVED.contains(&s) {
            return Err(HandleError::Reserved(s.to_owned()));
        }
        Ok(h)
    }

    /// The handle as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Handle {
    type Err = HandleError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl fmt::Display for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Handle {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// True when `id` is a safe activity ID: `^[A-Za-z0-9][A-Za-z0-9-]{0,250}$`.
pub fn is_valid_activity_id(id: &str) -> bool {
    let b = id.as_bytes();
    !b.is_empty()
        && b.len() <= 251
        && b[0].is_ascii_alphanumeric()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_rejects() {
        assert!(Handle::new("dave").is_ok());
        assert!(Handle::new("a_b-9").is_ok());
        for bad in ["", "Dave", "..", ".", "a/b", "%2e", "-x", &"a".repeat(31), "é"] {
            assert!(Handle::new(bad).is_err(), "{bad}");
        }
        assert!(Handle::new_account("api").is_err());
        assert!(is_valid_activity_id("2024-06-01T073012Z-morning-ride"));
        assert!(!is_valid_activity_id("../x"));
        assert!(!is_valid_activity_id("a.json"));
    }
}
