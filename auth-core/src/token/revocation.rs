//! Revocation of access tokens before they expire.
//!
//! Three granularities, all checked by one [`RevocationStore::is_revoked`] call:
//! one token (`jti`), one session (`sid`, so logout kills every token of that login), and every
//! token of a user issued before a cut-off (password change, "log out everywhere").
//!
//! Entries carry an expiry after which no token they could match is still valid, so stores can
//! purge them.
//!
//! Every revocation written gets the next number of a **revocation sequence** kept by the
//! store with it. Instances that answer checks from a local view
//! ([`RevocationView`](super::RevocationView)) learn of each other's revocations through
//! messages carrying that number, and compare the store's number with what they have seen:
//! a revocation whose message never came (the publish failed, the publisher died) shows as a
//! gap, and the view reloads. The number only grows; a store that was emptied starts again,
//! which views also notice.

use std::collections::HashMap;

use async_trait::async_trait;

use crate::error::StoreError;

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
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct UserCutoff {
    /// Tokens issued strictly before this time (seconds since the Unix epoch) are revoked.
    pub issued_before: i64,
    /// Tokens whose security epoch is below this are revoked; exact even within one second.
    pub epoch_below: i64,
    /// When the entry may be purged (no token it could match is still unexpired).
    pub expires_at: i64,
}

/// Persistent token revocation. Implemented by the in-memory, SQL and Redis stores.
///
/// Each `revoke_*` writes the entry and takes the next number of the store's revocation
/// sequence in one atomic step, and returns that number.
#[async_trait]
pub trait RevocationStore: Send + Sync + std::fmt::Debug + 'static {
    /// Revokes one token until `expires_at` (its own expiry); returns its sequence number.
    async fn revoke_token(&self, jti: &str, expires_at: i64) -> Result<u64, StoreError>;

    /// Revokes every token of a session until `expires_at`; returns its sequence number.
    async fn revoke_session(&self, session_id: &str, expires_at: i64) -> Result<u64, StoreError>;

    /// Revokes a user's tokens by cut-off. A later cut-off never moves an earlier one back.
    /// Returns its sequence number.
    async fn revoke_user(&self, user_id: &str, cutoff: UserCutoff) -> Result<u64, StoreError>;

    /// The number of the latest revocation written (0 before the first). Every revocation
    /// up to it is readable by [`active`](Self::active).
    async fn sequence(&self) -> Result<u64, StoreError>;

    /// Whether a token is revoked by any of the three rules.
    async fn is_revoked(&self, check: &RevocationCheck<'_>) -> Result<bool, StoreError>;

    /// Deletes at most `limit` entries that expired before `now`; returns how many (fewer
    /// than `limit` once none is left).
    async fn purge_expired(&self, now: i64, limit: u64) -> Result<u64, StoreError>;

    /// Every entry still in force at `now`, for a local view of the revocations, with the
    /// sequence number it is complete up to (at least).
    async fn active(&self, now: i64) -> Result<RevocationSnapshot, StoreError>;
}

/// Every revocation in force at one moment, and the sequence number up to which it is
/// complete: each revocation numbered up to `sequence` is in `set` (or expired).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RevocationSnapshot {
    /// The entries.
    pub set: RevocationSet,
    /// The revocation sequence number the entries are complete up to.
    pub sequence: u64,
}

impl RevocationSnapshot {
    /// A snapshot of `set`, complete up to `sequence`.
    #[must_use]
    pub fn new(set: RevocationSet, sequence: u64) -> Self {
        Self { set, sequence }
    }
}

/// One revocation, as stores record it and instances tell each other.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "of", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Revocation {
    /// One token.
    Token {
        /// Its id.
        jti: String,
        /// When the entry may go.
        expires_at: i64,
    },
    /// Every token of a session.
    Session {
        /// The session id.
        id: String,
        /// When the entry may go.
        expires_at: i64,
    },
    /// A user's tokens by cut-off.
    User {
        /// The user.
        user_id: String,
        /// The cut-off.
        cutoff: UserCutoff,
    },
}

/// Revocation entries in memory: the in-memory store's state, and the local view every
/// instance keeps ([`RevocationView`](super::RevocationView)). Merging is monotonic: an
/// entry only ever grows, so applying the same revocations in any order gives the same set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RevocationSet {
    tokens: HashMap<String, i64>,
    sessions: HashMap<String, i64>,
    users: HashMap<String, UserCutoff>,
}

impl RevocationSet {
    /// Adds one revocation (idempotent; later expiries and cut-offs win).
    pub fn insert(&mut self, revocation: Revocation) {
        match revocation {
            Revocation::Token { jti, expires_at } => {
                let entry = self.tokens.entry(jti).or_insert(expires_at);
                *entry = (*entry).max(expires_at);
            }
            Revocation::Session { id, expires_at } => {
                let entry = self.sessions.entry(id).or_insert(expires_at);
                *entry = (*entry).max(expires_at);
            }
            Revocation::User { user_id, cutoff } => {
                let entry = self.users.entry(user_id).or_insert(cutoff);
                entry.issued_before = entry.issued_before.max(cutoff.issued_before);
                entry.epoch_below = entry.epoch_below.max(cutoff.epoch_below);
                entry.expires_at = entry.expires_at.max(cutoff.expires_at);
            }
        }
    }

    /// Whether a token is revoked by any of the three rules.
    #[must_use]
    pub fn is_revoked(&self, check: &RevocationCheck<'_>) -> bool {
        self.tokens.contains_key(check.jti)
            || check
                .session_id
                .is_some_and(|sid| self.sessions.contains_key(sid))
            || self
                .users
                .get(check.user_id)
                .is_some_and(|c| check.issued_at < c.issued_before || check.epoch < c.epoch_below)
    }

    /// Drops entries that expired before `now`; returns how many.
    pub fn purge(&mut self, now: i64) -> u64 {
        self.purge_at_most(now, u64::MAX)
    }

    /// Drops at most `limit` entries that expired before `now`; returns how many.
    pub fn purge_at_most(&mut self, now: i64, limit: u64) -> u64 {
        use crate::store::memory::remove_at_most;
        let mut purged = remove_at_most(&mut self.tokens, limit, |exp| *exp < now);
        purged += remove_at_most(&mut self.sessions, limit - purged, |exp| *exp < now);
        purged + remove_at_most(&mut self.users, limit - purged, |c| c.expires_at < now)
    }

    /// How many entries.
    #[must_use]
    pub fn len(&self) -> usize {
        self.tokens.len() + self.sessions.len() + self.users.len()
    }

    /// Whether there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The entries, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = Revocation> + '_ {
        let tokens = self.tokens.iter().map(|(jti, exp)| Revocation::Token {
            jti: jti.clone(),
            expires_at: *exp,
        });
        let sessions = self.sessions.iter().map(|(id, exp)| Revocation::Session {
            id: id.clone(),
            expires_at: *exp,
        });
        let users = self.users.iter().map(|(user, cutoff)| Revocation::User {
            user_id: user.clone(),
            cutoff: *cutoff,
        });
        tokens.chain(sessions).chain(users)
    }
}
