//! SQL backend of every store trait: SQLite (the embedded default) and PostgreSQL through one
//! implementation.
//!
//! The queries are portable SQL checked at run time (sqlx's `Any` driver), so building never
//! needs a database. The schema migrations are embedded in the crate and run on
//! [`SqlStore::connect`]; a SQLite file is created if missing.
//!
//! ```no_run
//! use auth_core::store::sql::{SqlOptions, SqlStore};
//!
//! # async fn run() -> Result<(), auth_core::StoreError> {
//! let store = SqlStore::connect("sqlite://auth.db", SqlOptions::default()).await?;
//! store.ping().await?;
//! # Ok(()) }
//! ```

mod account;
mod api_key;
mod audit;
#[cfg(feature = "casbin")]
mod casbin_adapter;
mod federation;
mod lease;
mod lockout;
mod mfa;
mod oauth;
mod passkey;
mod pending;
mod services;
mod session;
mod throttle;
mod token;
mod user;

use std::time::Duration;

use sqlx::any::AnyPoolOptions;
use sqlx::migrate::Migrator;
use sqlx::AnyPool;

#[cfg(feature = "casbin")]
pub use self::casbin_adapter::SqlCasbinAdapter;
pub use self::user::RecomputedKeys;

use super::StoreError;

static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Which database a [`SqlStore`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Backend {
    /// SQLite.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

impl Backend {
    /// `sqlite` or `postgres`, as metrics label it.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }

    /// The backend a URL names.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] for any other scheme.
    pub fn from_url(url: &str) -> Result<Self, StoreError> {
        let missing = |feature: &str| {
            StoreError::Unavailable(
                format!(
                    "this build has no {feature} support: enable the `{}` feature of auth-axum (or auth-core)",
                    feature.to_lowercase()
                )
                .into(),
            )
        };
        if url.starts_with("sqlite:") {
            if cfg!(feature = "sqlite") {
                Ok(Self::Sqlite)
            } else {
                Err(missing("SQLite"))
            }
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            if cfg!(feature = "postgres") {
                Ok(Self::Postgres)
            } else {
                Err(missing("Postgres"))
            }
        } else {
            Err(StoreError::Unavailable(
                "unsupported database URL: write `sqlite://file.db` or `postgres://user@host/db`"
                    .into(),
            ))
        }
    }
}

/// Pool settings.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SqlOptions {
    /// Most connections in the pool.
    pub max_connections: u32,
    /// How long to wait for a connection before reporting the store unavailable.
    pub acquire_timeout: Duration,
    /// Run the embedded migrations on connect.
    pub migrate: bool,
}

impl SqlOptions {
    /// Sets the pool size.
    #[must_use]
    pub fn with_max_connections(mut self, max_connections: u32) -> Self {
        self.max_connections = max_connections;
        self
    }

    /// Sets how long to wait for a connection.
    #[must_use]
    pub fn with_acquire_timeout(mut self, timeout: Duration) -> Self {
        self.acquire_timeout = timeout;
        self
    }
}

impl Default for SqlOptions {
    fn default() -> Self {
        Self {
            max_connections: 10,
            acquire_timeout: Duration::from_secs(5),
            migrate: true,
        }
    }
}

/// The SQL store. Cheap to clone (the pools are shared).
///
/// On a SQLite file, writes go through one connection of their own and reads through the
/// pool: SQLite lets one connection write at a time, and a second writer does not queue, it
/// sleeps in SQLite's busy handler (1, 2, 5, 10 ms ...) and tries again. One writer
/// connection queues writes in the pool instead, without the sleeps, and readers (WAL) never
/// wait for it.
#[derive(Debug, Clone)]
pub struct SqlStore {
    pool: AnyPool,
    /// The one writing connection of a SQLite file; `None` elsewhere (PostgreSQL, and an
    /// in-memory SQLite, whose pool is already one connection).
    writer: Option<AnyPool>,
    backend: Backend,
}

impl SqlStore {
    /// Connects, creating a SQLite file if missing, and migrates the schema.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the database cannot be reached,
    /// [`StoreError::Migration`] when the schema cannot be brought up to date.
    pub async fn connect(url: &str, options: SqlOptions) -> Result<Self, StoreError> {
        let backend = Backend::from_url(url)?;
        sqlx::any::install_default_drivers();
        let mut url = url.to_owned();
        let mut pool_options = AnyPoolOptions::new()
            .max_connections(options.max_connections.max(1))
            .acquire_timeout(options.acquire_timeout);
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        if backend == Backend::Sqlite {
            if in_memory {
                // Every connection to `:memory:` is a separate database: keep exactly one.
                pool_options = pool_options
                    .max_connections(1)
                    .min_connections(1)
                    .idle_timeout(None)
                    .max_lifetime(None);
            } else if !url.contains("mode=") {
                url.push(if url.contains('?') { '&' } else { '?' });
                url.push_str("mode=rwc");
            }
        }
        let pool = pool_options.connect(&url).await.map_err(map_err)?;
        let mut writer = None;
        if backend == Backend::Sqlite && !in_memory {
            // Write-ahead logging: readers (every token check) never wait for a writer (a
            // login storm's sessions). The mode is kept in the file; setting it again is a
            // no-op.
            sqlx::query("PRAGMA journal_mode = WAL")
                .execute(&pool)
                .await
                .map_err(map_err)?;
            writer = Some(
                AnyPoolOptions::new()
                    .max_connections(1)
                    .acquire_timeout(options.acquire_timeout)
                    .connect(&url)
                    .await
                    .map_err(map_err)?,
            );
        }
        let store = Self {
            pool,
            writer,
            backend,
        };
        if options.migrate {
            MIGRATOR
                .run(store.writes())
                .await
                .map_err(|e| StoreError::Migration(e.to_string()))?;
            let keys = store.recompute_identifier_keys().await?;
            if keys.updated > 0 {
                tracing::info!(
                    users = keys.updated,
                    "recomputed the compared forms of usernames and addresses"
                );
            }
            if keys.colliding > 0 {
                tracing::warn!(
                    users = keys.colliding,
                    "users whose usernames or addresses collide under the identifier rules kept \
                     their old keys; list them with `auth-service users collisions`"
                );
            }
        }
        Ok(store)
    }

    /// Which database this is.
    #[must_use]
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The connection pool, for services that keep their own tables beside ours. On a
    /// SQLite file, write through [`writes`](Self::writes) instead, so that your writes queue
    /// with ours rather than wait in SQLite's busy handler.
    #[must_use]
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// The pool to write through: on a SQLite file its one writing connection, elsewhere
    /// the same as [`pool`](Self::pool).
    #[must_use]
    pub fn writes(&self) -> &AnyPool {
        self.writer.as_ref().unwrap_or(&self.pool)
    }

    /// Checks the database answers (readiness probes).
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(map_err)
    }

    /// Deletes at most `limit` rows of `table` where `condition` holds (`$1`, `$2` ... in it
    /// bound to `times`), picked by `key` (a primary key, or a row of its columns); how many
    /// went. The bounded batches of the maintenance purge.
    async fn delete_at_most(
        &self,
        table: &str,
        key: &str,
        condition: &str,
        times: &[i64],
        limit: u64,
    ) -> Result<u64, StoreError> {
        let sql = format!(
            "DELETE FROM {table} WHERE ({key}) IN \
             (SELECT {key} FROM {table} WHERE {condition} LIMIT ${})",
            times.len() + 1
        );
        let mut query = sqlx::query(&sql);
        for time in times {
            query = query.bind(*time);
        }
        let done = query
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .execute(self.writes())
            .await
            .map_err(map_err)?;
        Ok(done.rows_affected())
    }

    /// Closes the pools.
    pub async fn close(&self) {
        if let Some(writer) = &self.writer {
            writer.close().await;
        }
        self.pool.close().await;
    }
}

/// Maps sqlx errors onto store errors: unique violations are conflicts, decoding problems are
/// corruption, everything else means the database is not usable right now.
pub(crate) fn map_err(err: sqlx::Error) -> StoreError {
    match err {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            let what = format!("{} {}", db.constraint().unwrap_or_default(), db.message());
            StoreError::Conflict {
                field: if what.contains("email") {
                    "email"
                } else {
                    "username"
                },
            }
        }
        sqlx::Error::RowNotFound => StoreError::NotFound,
        e @ (sqlx::Error::ColumnDecode { .. }
        | sqlx::Error::Decode(_)
        | sqlx::Error::ColumnNotFound(_)
        | sqlx::Error::ColumnIndexOutOfBounds { .. }
        | sqlx::Error::TypeNotFound { .. }) => StoreError::Corrupt(e.to_string()),
        other => StoreError::Unavailable(Box::new(other)),
    }
}
