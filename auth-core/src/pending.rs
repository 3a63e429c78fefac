//! Pending state of multi-step flows: what a server keeps between the start and the finish of
//! a ceremony (a WebAuthn challenge today; an OAuth `state` and PKCE verifier tomorrow),
//! under a random id the client carries, for a few minutes, taken once.
//!
//! Kept in a [`PendingStore`]: the memory store for one instance, SQL (a table) or Redis (a key
//! with a time to live) when instances share the work, so a ceremony started on one instance
//! finishes on another. [`PendingStore::take`] removes what it returns in the same step: of
//! two finishes of one ceremony, one gets the state.
//!
//! ```
//! use auth_core::pending::PendingStore;
//! use auth_core::store::MemoryStore;
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), auth_core::StoreError> {
//! let store = MemoryStore::new();
//! store.put("c1", "passkey_login", "{...}", 1_300).await?;
//! assert_eq!(store.take("c1", "passkey_register", 1_000).await?, None); // another kind
//! assert_eq!(store.take("c1", "passkey_login", 1_000).await?.as_deref(), Some("{...}"));
//! assert_eq!(store.take("c1", "passkey_login", 1_000).await?, None); // once
//! # Ok(()) }
//! ```

use async_trait::async_trait;

use crate::error::StoreError;

/// Short-lived, single-use server-side state, by id and kind.
#[async_trait]
pub trait PendingStore: Send + Sync + std::fmt::Debug + 'static {
    /// Keeps `state` under `id` (a random id no one else holds) for `kind` until
    /// `expires_at` (seconds since the Unix epoch).
    async fn put(
        &self,
        id: &str,
        kind: &str,
        state: &str,
        expires_at: i64,
    ) -> Result<(), StoreError>;

    /// Removes and returns the state under `id`, if it is of `kind` and unexpired at `now`;
    /// `None` otherwise, whatever the reason.
    async fn take(&self, id: &str, kind: &str, now: i64) -> Result<Option<String>, StoreError>;

    /// Removes at most `limit` states expired at `now`; returns how many (fewer than `limit`
    /// once none is left).
    async fn purge_expired(&self, now: i64, limit: u64) -> Result<u64, StoreError>;
}
