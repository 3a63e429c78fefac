//! Device-aware sessions: one per login, recording the device (user agent, IP, a name the
//! client may give), when it started and when it was last used.
//!
//! - A session ends when it is revoked, when it has been idle longer than its idle timeout, or
//!   at its absolute expiry, whichever comes first.
//! - `max_sessions_per_user` evicts the least recently used sessions when a login goes over it.
//! - Every access token carries its session id (`sid`), and ending a session revokes its
//!   tokens, so revoking a session logs that device out everywhere.
//!
//! Stores: [`MemoryStore`](crate::store::MemoryStore), [`SqlStore`](crate::store::SqlStore)
//! and `RedisStore` (feature `redis`), with one conformance suite.
//!
//! ```
//! use std::sync::Arc;
//! use auth_core::session::{Device, SessionManager, SessionSettings};
//! use auth_core::{ManualClock, store::MemoryStore};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), auth_core::StoreError> {
//! let clock = Arc::new(ManualClock::new(1_000));
//! // Idle for at most 10 minutes, at most a day, at most two per user.
//! let settings = SessionSettings::new(600, 86_400, Some(2));
//! let sessions = SessionManager::new(Arc::new(MemoryStore::new()), clock.clone(), settings);
//! let (first, _) = sessions.create("s1", "u1", Device::named("laptop")).await?;
//! clock.advance(10);
//! sessions.create("s2", "u1", Device::default()).await?;
//! clock.advance(10);
//! // A third login evicts the least recently used session.
//! let (_, evicted) = sessions.create("s3", "u1", Device::default()).await?;
//! assert_eq!(evicted, vec![first.id]);
//! assert_eq!(sessions.list("u1").await?.len(), 2);
//! # Ok(()) }
//! ```

pub mod cookie;

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::clock::Clock;
use crate::error::StoreError;
use crate::mfa::{FactorKind, SatisfiedFactor};

/// Longest user agent or device name kept; longer ones are cut.
const MAX_DEVICE_FIELD: usize = 256;

/// The device a session was started from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Device {
    /// The `User-Agent` of the login request.
    pub user_agent: Option<String>,
    /// The client IP address of the login request.
    pub ip: Option<String>,
    /// A name the client gave the device ("Ada's phone").
    pub name: Option<String>,
}

fn bounded(value: Option<String>) -> Option<String> {
    value
        .map(|v| v.chars().take(MAX_DEVICE_FIELD).collect::<String>())
        .filter(|v| !v.trim().is_empty())
}

impl Device {
    /// A device with only a name.
    #[must_use]
    pub fn named(name: impl Into<String>) -> Self {
        Self {
            name: bounded(Some(name.into())),
            ..Self::default()
        }
    }

    /// A device from what a login request says about itself; over-long values are cut and
    /// blank ones dropped.
    #[must_use]
    pub fn new(user_agent: Option<String>, ip: Option<String>, name: Option<String>) -> Self {
        Self {
            user_agent: bounded(user_agent),
            ip: bounded(ip),
            name: bounded(name),
        }
    }
}

/// A login session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Session {
    /// The session id (also the refresh-token family id and the tokens' `sid`).
    pub id: String,
    /// The user.
    pub user_id: String,
    /// Where it was started.
    pub device: Device,
    /// Seconds since the Unix epoch.
    pub created_at: i64,
    /// Last use, seconds since the Unix epoch.
    pub last_seen: i64,
    /// Absolute end, seconds since the Unix epoch.
    pub expires_at: i64,
    /// Seconds of inactivity after which it ends.
    pub idle_timeout: i64,
    /// SHA-256 (hex) of the browser cookie that authenticates it, for cookie sessions. Never
    /// the cookie itself; not serialized.
    #[serde(skip)]
    pub secret_hash: Option<String>,
    /// The factors the session's user satisfied and when: the login's, and those a step-up
    /// added. Empty for a session stored before factors were kept (a password login).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub factors: Vec<SatisfiedFactor>,
    /// The OAuth client the session was started for (an authorization-code or password
    /// grant of `POST /oauth/token`), with the scopes granted; its refresh tokens serve that
    /// client only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<SessionClient>,
}

/// The OAuth client a session belongs to, and what it was granted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SessionClient {
    /// The client's id.
    pub client_id: String,
    /// The scopes granted, space-separated.
    pub scope: String,
}

impl SessionClient {
    /// A session of `client_id` granted `scope`.
    #[must_use]
    pub fn new(client_id: impl Into<String>, scope: impl Into<String>) -> Self {
        Self {
            client_id: client_id.into(),
            scope: scope.into(),
        }
    }
}

/// A session's client as stores keep it: JSON, or `None` for a session of no client.
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "redis"))]
pub(crate) fn client_json(client: Option<&SessionClient>) -> Option<String> {
    client.map(|c| serde_json::to_string(c).unwrap_or_default())
}

/// How a new session's user authenticated: the factors satisfied, and the OAuth client it is
/// for, if any. A list of factors converts into one without a client.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionAuth {
    /// The factors satisfied.
    pub factors: Vec<SatisfiedFactor>,
    /// The OAuth client.
    pub client: Option<SessionClient>,
}

impl SessionAuth {
    /// Factors satisfied for `client`.
    #[must_use]
    pub fn for_client(factors: Vec<SatisfiedFactor>, client: SessionClient) -> Self {
        Self {
            factors,
            client: Some(client),
        }
    }
}

impl From<Vec<SatisfiedFactor>> for SessionAuth {
    fn from(factors: Vec<SatisfiedFactor>) -> Self {
        Self {
            factors,
            client: None,
        }
    }
}

impl Session {
    /// Whether the session is still usable at `now`.
    #[must_use]
    pub fn is_live(&self, now: i64) -> bool {
        now < self.expires_at && now < self.last_seen.saturating_add(self.idle_timeout)
    }

    /// The factors satisfied, with a password at the start for a session stored before
    /// factors were kept.
    #[must_use]
    pub fn satisfied_factors(&self) -> Vec<SatisfiedFactor> {
        if self.factors.is_empty() {
            vec![SatisfiedFactor::new(FactorKind::Password, self.created_at)]
        } else {
            self.factors.clone()
        }
    }

    /// When it ends if unused from now on.
    #[must_use]
    pub fn ends_at(&self) -> i64 {
        self.expires_at
            .min(self.last_seen.saturating_add(self.idle_timeout))
    }
}

/// Where sessions are kept. Implementations must make
/// [`create_session`](Self::create_session) and its eviction one atomic step per user, so
/// concurrent logins on several instances never leave more than the limit.
#[async_trait]
pub trait SessionStore: Send + Sync + std::fmt::Debug + 'static {
    /// Stores `session` and, when `max_per_user` is set, deletes the user's least recently
    /// used sessions beyond it; returns the ids it deleted.
    async fn create_session(
        &self,
        session: &Session,
        max_per_user: Option<u32>,
    ) -> Result<Vec<String>, StoreError>;

    /// The session, live or not, if it exists.
    async fn get_session(&self, id: &str) -> Result<Option<Session>, StoreError>;

    /// Records a use at `now`; returns whether the session exists.
    async fn touch_session(&self, id: &str, now: i64) -> Result<bool, StoreError>;

    /// The user's sessions, most recently used first.
    async fn list_sessions(&self, user_id: &str) -> Result<Vec<Session>, StoreError>;

    /// Deletes one session; returns it if it existed.
    async fn delete_session(&self, id: &str) -> Result<Option<Session>, StoreError>;

    /// Deletes every session of the user except `keep`; returns the ids deleted.
    async fn delete_user_sessions(
        &self,
        user_id: &str,
        keep: Option<&str>,
    ) -> Result<Vec<String>, StoreError>;

    /// The session a cookie secret (by its hash) authenticates.
    async fn find_session_by_secret(
        &self,
        secret_hash: &str,
    ) -> Result<Option<Session>, StoreError>;

    /// Binds session `id` to a new cookie secret (by its hash); the old one stops working.
    /// Returns whether the session exists.
    async fn set_session_secret(&self, id: &str, secret_hash: &str) -> Result<bool, StoreError>;

    /// Replaces the factors of session `id` (a step-up added one). Returns whether the
    /// session exists.
    async fn set_session_factors(
        &self,
        id: &str,
        factors: &[SatisfiedFactor],
    ) -> Result<bool, StoreError>;

    /// Deletes at most `limit` sessions that ended by `now` (past their absolute lifetime or
    /// idle timeout: [`Session::is_live`] is false); returns how many (fewer than `limit`
    /// once none is left). A backend whose entries expire by themselves may return 0.
    async fn purge_ended_sessions(&self, now: i64, limit: u64) -> Result<u64, StoreError>;
}

/// Session lifetimes and limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionSettings {
    /// Seconds of inactivity after which a session ends.
    pub idle_timeout: i64,
    /// Seconds after its start at which a session ends, used or not.
    pub lifetime: i64,
    /// Most concurrent sessions per user; the least recently used go first.
    pub max_per_user: Option<u32>,
}

impl SessionSettings {
    /// Settings with an idle timeout, an absolute lifetime and an optional limit.
    #[must_use]
    pub fn new(idle_timeout: i64, lifetime: i64, max_per_user: Option<u32>) -> Self {
        Self {
            idle_timeout,
            lifetime,
            max_per_user,
        }
    }
}

/// Sessions over a [`SessionStore`]: creation with eviction, use, listing and revocation.
/// Ending the tokens of an ended session is the caller's part
/// ([`AuthService`](crate::AuthService) does it).
#[derive(Clone)]
pub struct SessionManager {
    store: Arc<dyn SessionStore>,
    clock: Arc<dyn Clock>,
    settings: SessionSettings,
}

impl std::fmt::Debug for SessionManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionManager")
            .field("store", &self.store)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// A use less than this many seconds after the last recorded one is not written again: a
/// busy session costs one write a minute, not one per request.
const TOUCH_EVERY: i64 = 60;

impl SessionManager {
    /// A manager over `store`.
    #[must_use]
    pub fn new(
        store: Arc<dyn SessionStore>,
        clock: Arc<dyn Clock>,
        settings: SessionSettings,
    ) -> Self {
        Self {
            store,
            clock,
            settings,
        }
    }

    /// The settings.
    #[must_use]
    pub fn settings(&self) -> SessionSettings {
        self.settings
    }

    /// The store.
    #[must_use]
    pub fn store(&self) -> &Arc<dyn SessionStore> {
        &self.store
    }

    /// Starts session `id` for `user_id`; returns it and the ids of the sessions evicted to
    /// stay within `max_per_user`.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    pub async fn create(
        &self,
        id: &str,
        user_id: &str,
        device: Device,
    ) -> Result<(Session, Vec<String>), StoreError> {
        self.create_with(
            id,
            user_id,
            device,
            self.settings.idle_timeout,
            None,
            Vec::new(),
        )
        .await
    }

    /// [`create`](Self::create) with its own idle timeout, bound to a cookie secret (by its
    /// hash) when given, recording the factors the login satisfied (and the OAuth client it
    /// is for: a [`SessionAuth`]).
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    pub async fn create_with(
        &self,
        id: &str,
        user_id: &str,
        device: Device,
        idle_timeout: i64,
        secret_hash: Option<String>,
        auth: impl Into<SessionAuth>,
    ) -> Result<(Session, Vec<String>), StoreError> {
        let SessionAuth { factors, client } = auth.into();
        let now = self.clock.now();
        let session = Session {
            id: id.to_owned(),
            user_id: user_id.to_owned(),
            device,
            created_at: now,
            last_seen: now,
            expires_at: now.saturating_add(self.settings.lifetime),
            idle_timeout,
            secret_hash,
            factors,
            client,
        };
        let evicted = self
            .store
            .create_session(&session, self.settings.max_per_user)
            .await?;
        Ok((session, evicted))
    }

    /// The live session `id`, recording the use; `None` when it is unknown, idle too long or
    /// past its lifetime.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    pub async fn use_session(&self, id: &str) -> Result<Option<Session>, StoreError> {
        let found = self.store.get_session(id).await?;
        self.used(found).await
    }

    /// The live session a cookie secret authenticates (by its hash), recording the use.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    pub async fn use_cookie(&self, secret_hash: &str) -> Result<Option<Session>, StoreError> {
        let found = self.store.find_session_by_secret(secret_hash).await?;
        self.used(found).await
    }

    async fn used(&self, found: Option<Session>) -> Result<Option<Session>, StoreError> {
        let now = self.clock.now();
        let Some(mut session) = found else {
            return Ok(None);
        };
        let id = session.id.clone();
        if !session.is_live(now) {
            return Ok(None);
        }
        if now - session.last_seen >= TOUCH_EVERY && self.store.touch_session(&id, now).await? {
            session.last_seen = now;
        }
        Ok(Some(session))
    }

    /// The user's live sessions, most recently used first.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    pub async fn list(&self, user_id: &str) -> Result<Vec<Session>, StoreError> {
        let now = self.clock.now();
        let mut sessions = self.store.list_sessions(user_id).await?;
        sessions.retain(|s| s.is_live(now));
        Ok(sessions)
    }

    /// Ends session `id` if it belongs to `user_id`; returns it. Another user's session is
    /// treated as unknown.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    pub async fn revoke(&self, user_id: &str, id: &str) -> Result<Option<Session>, StoreError> {
        match self.store.get_session(id).await? {
            Some(session) if session.user_id == user_id => self.store.delete_session(id).await,
            _ => Ok(None),
        }
    }

    /// Ends every session of the user except `keep`; returns the ids ended.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    pub async fn revoke_all(
        &self,
        user_id: &str,
        keep: Option<&str>,
    ) -> Result<Vec<String>, StoreError> {
        self.store.delete_user_sessions(user_id, keep).await
    }
}
