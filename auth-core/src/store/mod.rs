//! Backends of the store traits: [`memory`] for tests and single-process use, [`sql`] for
//! SQLite (the embedded default) and PostgreSQL.
//!
//! The traits live with their capability: [`UserStore`](crate::user::UserStore),
//! [`RevocationStore`](crate::token::revocation::RevocationStore),
//! [`RefreshTokenStore`](crate::token::refresh::RefreshTokenStore). Every backend passes the
//! same conformance suite.

pub mod memory;
pub mod redis;
pub mod sql;

use std::error::Error as StdError;

pub use self::memory::MemoryStore;
pub use self::sql::SqlStore;

/// A store operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The backend could not be reached or timed out. Requests that need it must fail (503),
    /// never pass.
    #[error("store unavailable: {0}")]
    Unavailable(#[source] Box<dyn StdError + Send + Sync>),
    /// A unique value is taken.
    #[error("{field} is already taken")]
    Conflict {
        /// The field.
        field: &'static str,
    },
    /// The record does not exist.
    #[error("record not found")]
    NotFound,
    /// Stored data could not be read back (a bug or manual tampering).
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The schema could not be migrated.
    #[error("database migration failed: {0}")]
    Migration(String),
}
