//! Counters for rate limits and account lockout: how many times something happened (failed
//! logins of an account, requests from an address) in the current fixed window.
//!
//! Backends: [`MemoryStore`](crate::store::MemoryStore), [`SqlStore`](crate::store::SqlStore)
//! and `RedisStore` (feature `redis`) (with `AUTH__REDIS__URL`, so every
//! instance counts together). Each [`hit`](CounterStore::hit) is one atomic step.
//!
//! ```
//! use auth_core::store::MemoryStore;
//! use auth_core::throttle::CounterStore;
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), auth_core::StoreError> {
//! let store = MemoryStore::new();
//! // Failed logins of one account in 15-minute windows.
//! assert_eq!(store.hit("login:ada", 1_000, 900).await?, 1);
//! assert_eq!(store.hit("login:ada", 1_010, 900).await?, 2);
//! assert_eq!(store.count("login:ada", 1_010, 900).await?, 2);
//! store.reset("login:ada").await?;
//! assert_eq!(store.count("login:ada", 1_010, 900).await?, 0);
//! # Ok(()) }
//! ```

use async_trait::async_trait;

use crate::error::StoreError;

/// The start of the fixed window of `window` seconds that contains `now`.
#[must_use]
pub fn window_start(now: i64, window: i64) -> i64 {
    let window = window.max(1);
    now - now.rem_euclid(window)
}

/// Counts per key in fixed time windows.
#[async_trait]
pub trait CounterStore: Send + Sync + std::fmt::Debug + 'static {
    /// Counts one more for `key` in the window of `window` seconds containing `now`; returns
    /// the count in that window, this hit included. A new window starts again at 1.
    async fn hit(&self, key: &str, now: i64, window: i64) -> Result<u64, StoreError>;

    /// The count for `key` in the window containing `now`.
    async fn count(&self, key: &str, now: i64, window: i64) -> Result<u64, StoreError>;

    /// Forgets `key` (a successful login clears its failures).
    async fn reset(&self, key: &str) -> Result<(), StoreError>;

    /// Deletes at most `limit` counters whose window started before `before`; returns how
    /// many (fewer than `limit` once none is left). A backend whose entries expire by
    /// themselves may return 0.
    async fn purge_stale(&self, before: i64, limit: u64) -> Result<u64, StoreError>;
}
