//! Backends of the store traits: [`memory`] for tests and single-process use, [`sql`] for
//! SQLite (the embedded default, feature `sqlite`) and PostgreSQL (feature `postgres`), `redis`
//! (feature `redis`) for the state instances share. Their one error type, [`StoreError`], lives with the other errors in [`crate::error`].
//!
//! The traits live with their capability: [`UserStore`](crate::user::UserStore),
//! [`RevocationStore`](crate::token::revocation::RevocationStore),
//! [`RefreshTokenStore`](crate::token::refresh::RefreshTokenStore). Every backend passes the
//! same conformance suite.

pub mod memory;
#[cfg(feature = "redis")]
pub mod redis;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub mod sql;

pub use self::memory::MemoryStore;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub use self::sql::SqlStore;
pub use crate::error::StoreError;

/// A backend that can say whether it answers: readiness checks go through this, never through
/// a concrete backend type.
#[async_trait::async_trait]
pub trait Readiness: Send + Sync + std::fmt::Debug + 'static {
    /// `Ok` when the backend answers now.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    async fn ping(&self) -> Result<(), StoreError>;
}

#[cfg(any(feature = "sqlite", feature = "postgres"))]
#[async_trait::async_trait]
impl Readiness for SqlStore {
    async fn ping(&self) -> Result<(), StoreError> {
        SqlStore::ping(self).await
    }
}

#[cfg(feature = "redis")]
#[async_trait::async_trait]
impl Readiness for redis::RedisStore {
    async fn ping(&self) -> Result<(), StoreError> {
        redis::RedisStore::ping(self).await
    }
}
