//! Identifiers: session ids and the owner token that ties a session to one browser.

use std::fmt;

use sha2::{Digest, Sha256};

/// A session id: 32 lowercase hex digits (a v4 UUID without dashes).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SessionId(String);

impl SessionId {
    pub fn new() -> Self {
        Self(uuid::Uuid::new_v4().simple().to_string())
    }

    /// Accepts only the exact shape `new` produces, so ids from URLs are safe in names and logs.
    pub fn parse(text: &str) -> Option<Self> {
        let valid = text.len() == 32
            && text
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        valid.then(|| Self(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for SessionId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The secret a browser holds (in a cookie) to prove it created a session.
/// Only its hash is kept, in memory and in the database.
#[derive(Clone, PartialEq, Eq)]
pub struct OwnerToken(String);

impl OwnerToken {
    pub fn generate() -> Self {
        Self(format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        ))
    }

    /// Accepts a token read from a cookie if it has the generated shape.
    pub fn parse(text: &str) -> Option<Self> {
        (text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| Self(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn hash(&self) -> String {
        format!("{:x}", Sha256::digest(self.0.as_bytes()))
    }
}

impl fmt::Debug for OwnerToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OwnerToken(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_ids_round_trip_and_reject_anything_else() {
        let id = SessionId::new();
        assert_eq!(SessionId::parse(id.as_str()), Some(id));
        for bad in [
            "",
            "../etc/passwd",
            "ABCDEF0123456789ABCDEF0123456789",
            "g".repeat(32).as_str(),
        ] {
            assert_eq!(SessionId::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn owner_tokens_hash_differently() {
        let a = OwnerToken::generate();
        let b = OwnerToken::generate();
        assert_ne!(a.hash(), b.hash());
        assert_eq!(OwnerToken::parse(a.as_str()).unwrap().hash(), a.hash());
        assert!(OwnerToken::parse("short").is_none());
    }
}
