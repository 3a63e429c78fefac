//! Redis backend for the state several instances share: sessions, token revocations,
//! refresh-token families and rate-limit/lockout counters. One [`RedisStore`] is a
//! multiplexed, self-reconnecting connection to one Redis or to a Redis Cluster
//! ([`RedisTarget`]); every key starts with the configured prefix (`AUTH__REDIS__PREFIX`,
//! default `auth:`).
//!
//! Every key a script touches shares one hash tag (`{...}`), so that on a cluster each script
//! runs on the one node holding its slot: per user (`{u:<user>}`: sessions and their index,
//! the user's refresh families), per refresh family (`{f:<family>}`), per login name
//! (`{l:<login>}`: lockout), and one tag for the revocations (`{revoked}`, read whole by every
//! instance). Lookups by something other than the owner (a session by id or by cookie, a
//! refresh token by hash) go through a pointer in a slot of its own, written before what it
//! points at and deleted after, so that a pointer left by a failure points at nothing. On a
//! single Redis, where a script may touch any key, the hot look-ups follow the pointer inside
//! one script (one round trip); on a cluster they take two.
//!
//! One module per store trait, like the SQL backend:
//!
//! - `session`: hashes `<prefix>{u:<user>}:session:<id>` expiring at the session's absolute
//!   end (as a time to live, so the Redis server's clock does not matter), indexed per user by
//!   a sorted set scored by last use. Creation with eviction, touch and deletion are Lua
//!   scripts, so each is atomic across instances.
//! - `revocation`: three hashes, `<prefix>{revoked}:tokens`, `:sessions` and `:users`, whose
//!   entries carry their own expiry (purged by `purge_expired`); merging keeps the later
//!   expiry and cut-off, like the SQL store. `<prefix>{revoked}:sequence` counts them (the
//!   revocation sequence, taken in the same script as the write).
//! - `refresh`: families `<prefix>{f:<id>}:family` with their tokens, indexed per user and by
//!   expiry for purging; rotation is one compare-and-set script, so exactly one of many
//!   concurrent rotations wins.
//! - `throttle`: counters `<prefix>counter:<key>` in fixed windows.
//! - `rate_limit`: GCRA quotas `<prefix>rate:<quota>:<key>`, one script per check, on
//!   Redis's clock.
//! - `lockout`: failed logins per login name and per login name and client
//!   (`<prefix>{l:<login>}:lockout:*`), counted by one script for both.
//! - `pending`: ceremonies between start and finish, `<prefix>pending:<id>`, taken by a
//!   script that checks kind and expiry and deletes.
//!
//! Each Lua script is built (and hashed) once per process and sent by its hash.

mod conn;
mod lockout;
mod pending;
mod rate_limit;
mod refresh;
mod revocation;
mod session;
mod throttle;

use std::collections::HashMap;

pub(crate) use self::conn::RedisConnection;
pub use self::conn::RedisTarget;
use super::StoreError;

/// A Lua script, hashed once and sent by hash (`EVALSHA`, loaded on first use).
type Lua = std::sync::LazyLock<redis::Script>;

/// A Redis-backed store.
#[derive(Clone)]
pub struct RedisStore {
    conn: RedisConnection,
    prefix: String,
    cluster: bool,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .field("cluster", &self.cluster)
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
        Self::connect_to(&RedisTarget::Single(url.to_owned()), prefix).await
    }

    /// Connects to one Redis or to a Redis Cluster; keys start with `prefix`.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), auth_core::store::StoreError> {
    /// use auth_core::store::redis::{RedisStore, RedisTarget};
    ///
    /// let nodes = "redis://10.0.0.1:6379,redis://10.0.0.2:6379";
    /// let store = RedisStore::connect_to(&RedisTarget::from_url(nodes, true), "auth:").await?;
    /// store.ping().await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when Redis cannot be reached.
    pub async fn connect_to(target: &RedisTarget, prefix: &str) -> Result<Self, StoreError> {
        let conn = RedisConnection::connect(target, 1)
            .await
            .map_err(unavailable)?;
        let store = Self {
            conn,
            prefix: prefix.to_owned(),
            cluster: target.is_cluster(),
        };
        if !store.cluster {
            store.move_revocations().await?;
        }
        Ok(store)
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

    /// The key of `what` in the slot of `tag` (a Redis Cluster hash tag, `{tag}`): every key
    /// a script touches shares one, so the script runs on the one node that holds them.
    fn tagged(&self, tag: &str, what: &str) -> String {
        format!("{}{{{tag}}}:{what}", self.prefix)
    }

    /// The key [`tagged`](Self::tagged) makes for tag `<kind>:<id>` and `what`, in the two
    /// halves around the id: for a script on a single Redis that reads the id from a pointer
    /// (on a single Redis a script may touch keys of other slots).
    fn tagged_around(&self, kind: &str, what: &str) -> [String; 2] {
        [format!("{}{{{kind}:", self.prefix), format!("}}:{what}")]
    }

    /// Session `id` of `user_id` (or, with an empty id, the prefix of the user's sessions).
    fn session_key(&self, user_id: &str, id: &str) -> String {
        self.tagged(&format!("u:{user_id}"), &format!("session:{id}"))
    }

    /// The user's sessions by last use.
    fn user_key(&self, user_id: &str) -> String {
        self.tagged(&format!("u:{user_id}"), "sessions")
    }

    /// The pointer from a session id to its user.
    fn session_user_key(&self, id: &str) -> String {
        format!("{}session-user:{id}", self.prefix)
    }

    /// The pointer from a cookie secret's hash to its session and user.
    fn secret_key(&self, hash: &str) -> String {
        format!("{}session-secret:{hash}", self.prefix)
    }

    /// The revocation hashes and the sequence, one slot for the four.
    fn revoked_key(&self, what: &str) -> String {
        self.tagged("revoked", what)
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
