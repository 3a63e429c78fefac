//! Revocation of access tokens before they expire.
//!
//! Three granularities, all checked by one [`RevocationStore::is_revoked`] call:
//! one token (`jti`), one session (`sid`, so logout kills every token of that login), and every
//! token of a user issued before a cut-off (password change, "log out everywhere").
//!
//! Entries carry an expiry after which no token they could match is still valid, so stores can
//! purge them.

use async_trait::async_trait;

use crate::store::StoreError;

/// What a revocation check looks at, taken from verified claims.
#[derive(Debug, Clone, Copy)]
pub struct RevocationCheck<'a> {
    /// The token id.
    pub jti: &'a str,
    /// The session the token belongs to.
    pub session_id: Option<&'a str>,
    /// The user.
    pub user_id: &'a str,
    /// The token's `iat`.
    pub issued_at: i64,
    /// The token's security epoch.
    pub epoch: i64,
}

/// A cut-off for all of one user's tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserCutoff {
    /// Tokens issued strictly before this time (seconds since the Unix epoch) are revoked.
    pub issued_before: i64,
    /// Tokens whose security epoch is below this are revoked; exact even within one second.
    pub epoch_below: i64,
    /// When the entry may be purged (no token it could match is still unexpired).
    pub expires_at: i64,
}

/// Persistent token revocation. Implemented by the in-memory and SQL stores.
#[async_trait]
pub trait RevocationStore: Send + Sync + std::fmt::Debug + 'static {
    /// Revokes one token until `expires_at` (its own expiry).
    async fn revoke_token(&self, jti: &str, expires_at: i64) -> Result<(), StoreError>;

    /// Revokes every token of a session until `expires_at`.
    async fn revoke_session(&self, session_id: &str, expires_at: i64) -> Result<(), StoreError>;

    /// Revokes a user's tokens by cut-off. A later cut-off never moves an earlier one back.
    async fn revoke_user(&self, user_id: &str, cutoff: UserCutoff) -> Result<(), StoreError>;

    /// Whether a token is revoked by any of the three rules.
    async fn is_revoked(&self, check: &RevocationCheck<'_>) -> Result<bool, StoreError>;

    /// Deletes entries that expired before `now`; returns how many.
    async fn purge_expired(&self, now: i64) -> Result<u64, StoreError>;
}
