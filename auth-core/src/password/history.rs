//! Password history: the hashes of an account's past passwords, so that a change or reset
//! can refuse one of the last N (`AUTH__PASSWORD__HISTORY`, the current password included).
//! Only hashes are kept, as they were stored, and only the newest N - 1 of them.

use std::fmt;

use async_trait::async_trait;

use crate::error::StoreError;
use crate::user::UserId;

/// Persistence of past password hashes.
#[async_trait]
pub trait PasswordHistoryStore: Send + Sync + fmt::Debug + 'static {
    /// Records `hash` as a past password of the user, set aside at `at` (seconds since the
    /// Unix epoch), and forgets all but the newest `keep` of them (`keep` 0 forgets all).
    async fn remember(
        &self,
        user_id: &UserId,
        hash: &str,
        at: i64,
        keep: usize,
    ) -> Result<(), StoreError>;

    /// The newest `limit` past hashes of the user, newest first.
    async fn recent(&self, user_id: &UserId, limit: usize) -> Result<Vec<String>, StoreError>;
}
