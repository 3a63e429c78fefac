//! Where second factors are kept: each user's TOTP authenticator (its secret sealed, the last
//! time step accepted) and backup codes (keyed tags, each usable once).
//!
//! Every backend decides the single-use rules in one atomic step, so that of two instances
//! given the same code at once exactly one accepts it: [`MfaStore::advance_totp_step`] and
//! [`MfaStore::use_backup_code`].

use async_trait::async_trait;

use crate::error::StoreError;
use crate::user::UserId;

/// A user's TOTP authenticator as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TotpRecord {
    /// Whose it is.
    pub user_id: UserId,
    /// The secret, sealed ([`MfaKeys::seal`](super::MfaKeys::seal)); never the secret itself.
    pub sealed_secret: String,
    /// When enrolment started.
    pub created_at: i64,
    /// When a first code confirmed it; until then it is pending and guards nothing.
    pub confirmed_at: Option<i64>,
    /// The last time step a code was accepted for; codes of this step and earlier are refused.
    pub last_step: Option<u64>,
}

impl TotpRecord {
    /// A pending (unconfirmed) authenticator.
    #[must_use]
    pub fn pending(user_id: UserId, sealed_secret: String, created_at: i64) -> Self {
        Self {
            user_id,
            sealed_secret,
            created_at,
            confirmed_at: None,
            last_step: None,
        }
    }

    /// Whether a code confirmed it.
    #[must_use]
    pub fn is_confirmed(&self) -> bool {
        self.confirmed_at.is_some()
    }
}

/// Persistence of second factors; one conformance suite
/// ([`testing::conformance::mfa`](crate::testing)) holds every backend to the same behaviour.
#[async_trait]
pub trait MfaStore: Send + Sync + std::fmt::Debug + 'static {
    /// Stores a pending authenticator for its user, replacing a pending one; a confirmed one
    /// is kept and `false` returned.
    async fn start_totp(&self, record: &TotpRecord) -> Result<bool, StoreError>;

    /// The user's authenticator, pending or confirmed.
    async fn totp(&self, user_id: &UserId) -> Result<Option<TotpRecord>, StoreError>;

    /// Confirms the user's pending authenticator at `at` with the code of `step`, and makes
    /// `code_tags` the user's backup codes, in one step. `false` when there is no pending
    /// authenticator (none, or confirmed already by a concurrent request).
    async fn confirm_totp(
        &self,
        user_id: &UserId,
        at: i64,
        step: u64,
        code_tags: &[String],
    ) -> Result<bool, StoreError>;

    /// Records `step` as the last accepted one, only if it is later than the stored one:
    /// `false` means a code of this step (or a later one) was accepted already (a replay).
    async fn advance_totp_step(&self, user_id: &UserId, step: u64) -> Result<bool, StoreError>;

    /// Removes the user's authenticator and backup codes; whether there was an authenticator.
    async fn delete_totp(&self, user_id: &UserId) -> Result<bool, StoreError>;

    /// Makes `code_tags` the user's backup codes (the old ones stop working).
    async fn replace_backup_codes(
        &self,
        user_id: &UserId,
        code_tags: &[String],
        at: i64,
    ) -> Result<(), StoreError>;

    /// Spends the unused backup code with this tag at `at`; `false` when the user has no such
    /// unused code.
    async fn use_backup_code(
        &self,
        user_id: &UserId,
        code_tag: &str,
        at: i64,
    ) -> Result<bool, StoreError>;

    /// How many unused backup codes the user has.
    async fn backup_codes_left(&self, user_id: &UserId) -> Result<u32, StoreError>;
}
