//! Refresh tokens: opaque random values, stored hashed, grouped in families.
//!
//! A family is one login (its id is the session id carried by the access tokens). Each use of
//! a refresh token rotates it: the store marks it used and records its successor in one atomic
//! step ([`RefreshTokenStore::rotate`]), so two concurrent refreshes cannot both mint
//! successors. The successor is derived from the presented token with a server-side HMAC key,
//! so a request racing the winner within the grace window can be handed the *same* successor
//! without the store ever holding a usable token. A use after the window is reuse: the family
//! is revoked (RFC 9700 section 4.14.2).

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretBox};
use sha2::{Digest, Sha256};

use crate::error::StoreError;
use crate::random::{OsRandom, Random};

/// One login's chain of refresh tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RefreshFamily {
    /// Family id, also the session id (`sid`) of its access tokens.
    pub id: String,
    /// The user.
    pub user_id: String,
    /// When the login happened.
    pub created_at: i64,
    /// Absolute end of the family, however often it is refreshed.
    pub expires_at: i64,
    /// When it was revoked, if it was.
    pub revoked_at: Option<i64>,
    /// Why (`logout`, `reuse_detected`, `logout_all`...).
    pub revoked_reason: Option<String>,
}

impl RefreshFamily {
    /// A new, live family.
    #[must_use]
    pub fn new(id: String, user_id: String, created_at: i64, expires_at: i64) -> Self {
        Self {
            id,
            user_id,
            created_at,
            expires_at,
            revoked_at: None,
            revoked_reason: None,
        }
    }
}

/// One refresh token, by hash.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RefreshTokenRecord {
    /// SHA-256 of the token, hex.
    pub token_hash: String,
    /// The family.
    pub family_id: String,
    /// When it was issued.
    pub issued_at: i64,
    /// When it expires unused.
    pub expires_at: i64,
    /// When it was used (rotated), if it was.
    pub used_at: Option<i64>,
}

impl RefreshTokenRecord {
    /// A new, unused record.
    #[must_use]
    pub fn new(token_hash: String, family_id: String, issued_at: i64, expires_at: i64) -> Self {
        Self {
            token_hash,
            family_id,
            issued_at,
            expires_at,
            used_at: None,
        }
    }
}

/// Newest first, ties by id descending: the order `list_user_families` answers in.
pub(crate) fn newest_first(families: &mut [RefreshFamily]) {
    families.sort_by(|a, b| {
        b.created_at
            .cmp(&a.created_at)
            .then_with(|| b.id.cmp(&a.id))
    });
}

/// The result of an attempted rotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RotateOutcome {
    /// This call won: the token is now used and the successor stored.
    Rotated,
    /// Someone used the token first, at `used_at`.
    AlreadyUsed {
        /// When it was used.
        used_at: i64,
    },
    /// No such token.
    NotFound,
}

/// Storage of refresh families and tokens.
#[async_trait]
pub trait RefreshTokenStore: Send + Sync + fmt::Debug + 'static {
    /// Stores a new family with its first token.
    async fn create_family(
        &self,
        family: &RefreshFamily,
        first: &RefreshTokenRecord,
    ) -> Result<(), StoreError>;

    /// The token with this hash and its family.
    async fn find_token(
        &self,
        token_hash: &str,
    ) -> Result<Option<(RefreshTokenRecord, RefreshFamily)>, StoreError>;

    /// Atomically: if the token `used_hash` is unused, mark it used at `used_at` and store
    /// `successor`; otherwise change nothing.
    async fn rotate(
        &self,
        used_hash: &str,
        used_at: i64,
        successor: &RefreshTokenRecord,
    ) -> Result<RotateOutcome, StoreError>;

    /// The family with this id.
    async fn get_family(&self, family_id: &str) -> Result<Option<RefreshFamily>, StoreError>;

    /// Revokes a family; returns whether it was live.
    async fn revoke_family(
        &self,
        family_id: &str,
        at: i64,
        reason: &str,
    ) -> Result<bool, StoreError>;

    /// Revokes all live families of a user; returns their ids.
    async fn revoke_user_families(
        &self,
        user_id: &str,
        at: i64,
        reason: &str,
    ) -> Result<Vec<String>, StoreError>;

    /// The live families of a user, newest first.
    async fn list_user_families(
        &self,
        user_id: &str,
        now: i64,
    ) -> Result<Vec<RefreshFamily>, StoreError>;

    /// Deletes at most `limit` families that ended before `now`, with their tokens, and at
    /// most `limit` expired tokens of live families; returns how many rows went (fewer than
    /// `limit` once none is left).
    async fn purge_expired_families(&self, now: i64, limit: u64) -> Result<u64, StoreError>;
}

/// Makes, hashes and chains opaque refresh tokens.
pub struct RefreshTokenCodec {
    successor_key: SecretBox<[u8]>,
    random: Arc<dyn Random>,
}

impl fmt::Debug for RefreshTokenCodec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RefreshTokenCodec").finish_non_exhaustive()
    }
}

impl RefreshTokenCodec {
    /// A codec chaining tokens with `successor_key` (the refresh-token secret).
    #[must_use]
    pub fn new(successor_key: &[u8]) -> Self {
        Self::with_random(successor_key, Arc::new(OsRandom))
    }

    /// A codec drawing new tokens from `random` (tests).
    #[must_use]
    pub fn with_random(successor_key: &[u8], random: Arc<dyn Random>) -> Self {
        Self {
            successor_key: SecretBox::new(successor_key.to_vec().into_boxed_slice()),
            random,
        }
    }

    /// A fresh token: 256 random bits, base64url.
    #[must_use]
    pub fn generate(&self) -> String {
        self.random.token()
    }

    /// The successor of `token`: HMAC-SHA256 under the server key. Deterministic, so racing
    /// requests agree on it; unpredictable without the key.
    #[must_use]
    pub fn successor(&self, token: &str) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.successor_key.expose_secret())
            .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
        mac.update(b"refresh-token-successor:");
        mac.update(token.as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    /// What the store keeps: SHA-256 of the token, hex. A 256-bit random token needs no salt.
    #[must_use]
    pub fn hash(token: &str) -> String {
        let digest = Sha256::digest(token.as_bytes());
        let mut hex = String::with_capacity(64);
        for b in digest {
            hex.push_str(&format!("{b:02x}"));
        }
        hex
    }
}
