//! Backends of the store traits: [`memory`] for tests and single-process use, [`sql`] for
//! SQLite (the embedded default) and PostgreSQL, [`redis`] for the state instances share.
//! Their one error type, [`StoreError`], lives with the other errors in [`crate::error`].
//!
//! The traits live with their capability: [`UserStore`](crate::user::UserStore),
//! [`RevocationStore`](crate::token::revocation::RevocationStore),
//! [`RefreshTokenStore`](crate::token::refresh::RefreshTokenStore). Every backend passes the
//! same conformance suite.

pub mod memory;
pub mod redis;
pub mod sql;

pub use self::memory::MemoryStore;
pub use self::sql::SqlStore;
pub use crate::error::StoreError;
