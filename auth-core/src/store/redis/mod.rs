//! Redis backend for the state several instances share: sessions, token revocations,
//! refresh-token families and rate-limit/lockout counters. One [`RedisStore`] is a
//! multiplexed, self-reconnecting connection ([`ConnectionManager`]); every key starts with the
//! configured prefix (`AUTH__REDIS__PREFIX`, default `auth:`).
//!
//! One module per store trait, like the SQL backend:
//!
//! - `session`: hashes `<prefix>session:<id>` expiring at the session's absolute end (as a
//!   time to live, so the Redis server's clock does not matter), indexed per user by a sorted
//!   set `<prefix>user-sessions:<user>` scored by last use. Creation with eviction, touch and
//!   deletion are Lua scripts, so each is atomic across instances.
//! - `revocation`: three hashes, `<prefix>revoked-tokens`, `-sessions` and `-users`, whose
//!   entries carry their own expiry (purged by `purge_expired`); merging keeps the later
//!   expiry and cut-off, like the SQL store. `<prefix>revoked-sequence` counts them (the
//!   revocation sequence, taken in the same script as the write).
//! - `refresh`: families `<prefix>family:<id>` and tokens `<prefix>refresh:<hash>`, indexed per
//!   user and per family and by expiry for purging; rotation is one compare-and-set script,
//!   so exactly one of many concurrent rotations wins.
//! - `throttle`: counters `<prefix>counter:<key>` in fixed windows.
//! - `rate_limit`: GCRA quotas `<prefix>rate:<quota>:<key>`, one script per check, on
//!   Redis's clock.
//! - `lockout`: failed logins per login name and per login name and client
//!   (`<prefix>lockout:*`), counted by one script for both.
//! - `pending`: ceremonies between start and finish, `<prefix>pending:<id>`, taken by a
//!   script that checks kind and expiry and deletes.
//!
//! Each Lua script is built (and hashed) once per process and sent by its hash. The scripts
//! touch keys they derive, so they assume a single Redis, not a cluster.

mod lockout;
mod pending;
mod rate_limit;
mod refresh;
mod revocation;
mod session;
mod throttle;

use std::collections::HashMap;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::StoreError;

/// A Lua script, hashed once and sent by hash (`EVALSHA`, loaded on first use).
type Lua = std::sync::LazyLock<redis::Script>;

/// A Redis-backed store.
#[derive(Clone)]
pub struct RedisStore {
    conn: ConnectionManager,
    prefix: String,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

fn unavailable(e: redis::RedisError) -> StoreError {
    StoreError::Unavailable(Box::new(e))
}

impl RedisStore {
    /// Connects to `url` (`redis://host:port/db`); keys start with `prefix`.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when Redis cannot be reached.
    pub async fn connect(url: &str, prefix: &str) -> Result<Self, StoreError> {
        let client = redis::Client::open(url).map_err(unavailable)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(2)))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_secs(1));
        let conn = client
            .get_connection_manager_with_config(config)
            .await
            .map_err(unavailable)?;
        Ok(Self {
            conn,
            prefix: prefix.to_owned(),
        })
    }

    /// Answers when Redis does.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    pub async fn ping(&self) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        redis::cmd("PING")
            .query_async::<String>(&mut conn)
            .await
            .map(|_| ())
            .map_err(unavailable)
    }

    fn session_key(&self, id: &str) -> String {
        format!("{}session:{id}", self.prefix)
    }

    fn user_key(&self, user_id: &str) -> String {
        format!("{}user-sessions:{user_id}", self.prefix)
    }

    fn secret_key(&self, hash: &str) -> String {
        format!("{}session-secret:{hash}", self.prefix)
    }

    fn revoked_key(&self, what: &str) -> String {
        format!("{}revoked-{what}", self.prefix)
    }
}

fn pairs(flat: Vec<String>) -> HashMap<String, String> {
    flat.chunks_exact(2)
        .map(|pair| (pair[0].clone(), pair[1].clone()))
        .collect()
}

fn number(fields: &HashMap<String, String>, name: &str, what: &str) -> Result<i64, StoreError> {
    fields
        .get(name)
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| StoreError::Corrupt(format!("{what} field `{name}`")))
}

fn optional_number(fields: &HashMap<String, String>, name: &str) -> Option<i64> {
    fields.get(name).and_then(|v| v.parse().ok())
}
