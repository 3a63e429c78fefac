//! [`AuthService`]: the framework-agnostic flows (jwtlib's `register_user`, `login_user`,
//! `logout_user`, `get_logged_in_user`, `introspect_token`, `authenticate_request`, plus
//! refresh-token rotation and "log out everywhere").
//!
//! Every flow returns [`PublicUser`] or tokens, never the stored [`crate::User`].

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::authz::services::ServicePermissionStore;
use crate::authz::RoleStore;
use crate::clock::{Clock, SystemClock};
use crate::config::{AuthConfig, ConfigError};
use crate::error::{AuthError, Result, ValidationErrors};
use crate::events::{AuthEvent, EventSink, TracingEventSink};
use crate::invalidation::ChangeBus;
use crate::password::{PasswordError, PasswordHasher, Verification};
use crate::principal::{CredentialKind, Principal};
use crate::random::{OsRandom, Random};
use crate::session::cookie;
use crate::session::{Device, Session, SessionManager, SessionSettings, SessionStore};
use crate::store::redis::RedisStore;
use crate::store::sql::{SqlOptions, SqlStore};
use crate::store::{MemoryStore, StoreError};
use crate::throttle::CounterStore;
use crate::token::refresh::{
    RefreshFamily, RefreshTokenCodec, RefreshTokenRecord, RefreshTokenStore, RotateOutcome,
};
use crate::token::revocation::{RevocationCheck, RevocationStore, UserCutoff};
use crate::token::setup::{load_keys, KeySetupError, KeySource};
use crate::token::RevocationView;
use crate::token::{Claims, KeySet, TokenError, TokenManager, TokenSubject, TokenType};
use crate::user::{
    validate_email, validate_username, AuthUser, PublicUser, User, UserId, UserStore,
};

/// Why an [`AuthService`] could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SetupError {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The keys could not be loaded or generated.
    #[error(transparent)]
    Keys(#[from] KeySetupError),
    /// The database could not be reached or migrated.
    #[error("database: {0}")]
    Store(#[from] StoreError),
    /// The password parameters are invalid.
    #[error("password hashing: {0}")]
    Password(#[from] PasswordError),
    /// The stored roles could not be loaded or do not compose with the typed and configured
    /// ones.
    #[error("roles: {0}")]
    Roles(#[from] crate::authz::LoadRolesError),
    /// The casbin model or its policies could not be loaded.
    #[error(transparent)]
    Policy(#[from] crate::authz::engine::PolicyError),
    /// The change bus (Redis pub/sub) could not be joined.
    #[error(transparent)]
    Bus(#[from] crate::invalidation::BusError),
}

/// The stores a service runs on.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Stores {
    /// Users.
    pub users: Arc<dyn UserStore>,
    /// Token revocation.
    pub revocations: Arc<dyn RevocationStore>,
    /// Refresh tokens.
    pub refresh_tokens: Arc<dyn RefreshTokenStore>,
    /// Role definitions.
    pub roles: Arc<dyn RoleStore>,
    /// Service-scoped permission schemas and values.
    pub services: Arc<dyn ServicePermissionStore>,
    /// Login sessions.
    pub sessions: Arc<dyn SessionStore>,
    /// Rate-limit and lockout counters.
    pub counters: Arc<dyn CounterStore>,
    /// The SQL store behind them, if any, for readiness checks.
    pub sql: Option<SqlStore>,
    /// The Redis store, if sessions live there, for readiness checks.
    pub redis: Option<RedisStore>,
    /// The bus instances announce changes on, when there are several.
    pub bus: Option<ChangeBus>,
    /// The local revocation view, when revocation checks answer from memory.
    pub revocation_view: Option<Arc<RevocationView>>,
}

impl Stores {
    /// Everything in one in-memory store.
    #[must_use]
    pub fn memory() -> Self {
        let store = Arc::new(MemoryStore::new());
        Self {
            users: store.clone(),
            revocations: store.clone(),
            refresh_tokens: store.clone(),
            roles: store.clone(),
            sessions: store.clone(),
            counters: store.clone(),
            services: store,
            sql: None,
            redis: None,
            bus: None,
            revocation_view: None,
        }
    }

    /// Everything in one SQL store.
    #[must_use]
    pub fn sql(store: SqlStore) -> Self {
        let shared = Arc::new(store.clone());
        Self {
            users: shared.clone(),
            revocations: shared.clone(),
            refresh_tokens: shared.clone(),
            roles: shared.clone(),
            sessions: shared.clone(),
            counters: shared.clone(),
            services: shared,
            sql: Some(store),
            redis: None,
            bus: None,
            revocation_view: None,
        }
    }

    /// The same stores with sessions, revocations, refresh-token families and counters in
    /// Redis.
    #[must_use]
    pub fn with_redis(mut self, redis: RedisStore) -> Self {
        let shared = Arc::new(redis.clone());
        self.sessions = shared.clone();
        self.revocations = shared.clone();
        self.refresh_tokens = shared.clone();
        self.counters = shared;
        self.redis = Some(redis);
        self
    }

    /// The same stores for one of several instances sharing `bus`: revocation checks answer
    /// from a local [`RevocationView`] kept complete through the bus (no round trip per
    /// request), and the bus is there for the auth module to join. Spawns the view's task, so
    /// call it within a Tokio runtime.
    #[must_use]
    pub fn shared_through(mut self, bus: ChangeBus, clock: Arc<dyn Clock>) -> Self {
        let view = Arc::new(RevocationView::new(self.revocations, bus.clone(), clock));
        // The task lives as long as the view.
        drop(view.follow());
        self.revocations = view.clone();
        self.revocation_view = Some(view);
        self.bus = Some(bus);
        self
    }
}

/// Registration input.
#[derive(Clone, Deserialize)]
#[non_exhaustive]
pub struct RegisterRequest {
    /// Username.
    pub username: String,
    /// Email.
    pub email: String,
    /// Password in clear; hashed before storage, never logged.
    pub password: String,
}

impl RegisterRequest {
    /// A registration.
    #[must_use]
    pub fn new(
        username: impl Into<String>,
        email: impl Into<String>,
        password: impl Into<String>,
    ) -> Self {
        Self {
            username: username.into(),
            email: email.into(),
            password: password.into(),
        }
    }
}

impl fmt::Debug for RegisterRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegisterRequest")
            .field("username", &self.username)
            .field("email", &self.email)
            .field("password", &"[redacted]")
            .finish()
    }
}

/// Login input: a username or an email, and a password.
#[derive(Clone)]
#[non_exhaustive]
pub struct LoginRequest {
    /// Username, or email when it contains `@`.
    pub login: String,
    /// Password in clear.
    pub password: SecretString,
    /// The device logging in, recorded with the session.
    pub device: Device,
}

impl LoginRequest {
    /// A login.
    #[must_use]
    pub fn new(login: impl Into<String>, password: impl Into<String>) -> Self {
        Self {
            login: login.into(),
            password: SecretString::from(password.into()),
            device: Device::default(),
        }
    }

    /// The same login from `device`.
    #[must_use]
    pub fn from_device(mut self, device: Device) -> Self {
        self.device = device;
        self
    }
}

impl fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginRequest")
            .field("login", &self.login)
            .finish_non_exhaustive()
    }
}

/// Tokens issued by login and refresh (an OAuth2 token response, RFC 6749 section 5.1, plus the
/// public user).
#[derive(Clone, Serialize)]
#[non_exhaustive]
pub struct LoginResponse {
    /// The access token (JWT).
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// The opaque refresh token.
    pub refresh_token: String,
    /// Seconds until the refresh token expires unused.
    pub refresh_expires_in: u64,
    /// The session (refresh family) id.
    pub session_id: String,
    /// The user.
    pub user: PublicUser,
}

impl fmt::Debug for LoginResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginResponse")
            .field("access_token", &"[redacted]")
            .field("refresh_token", &"[redacted]")
            .field("expires_in", &self.expires_in)
            .field("session_id", &self.session_id)
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

/// Result of [`AuthService::introspect`].
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Introspection {
    /// Whether the token is valid, unrevoked, and its user exists and is active.
    pub active: bool,
    /// The user, when active.
    pub user: Option<PublicUser>,
}

#[derive(Debug)]
struct Settings {
    refresh_ttl: i64,
    family_ttl: i64,
    reuse_grace: i64,
    default_roles: Vec<String>,
    /// Idle timeout of browser (cookie) sessions.
    cookie_idle: i64,
}

/// How long a verified session cookie is answered from memory before the session is read
/// again (revocations still apply at once: they are checked on every request).
const COOKIE_CACHE_SECONDS: i64 = 30;
/// Most cookies remembered; the cache starts over beyond.
const COOKIE_CACHE_CAPACITY: usize = 100_000;

/// Sessions recently verified by cookie: secret hash to claims and when they were read.
type CookieCache = std::sync::Mutex<HashMap<String, (Arc<Claims>, i64)>>;

/// The token id of the claims a cookie stands for: `cookie:` and 128 bits of its hash.
fn cookie_jti(secret_hash: &str) -> String {
    format!("cookie:{}", secret_hash.get(..32).unwrap_or(secret_hash))
}

/// A browser login: the cookie secret to set and the CSRF token that goes with it.
#[derive(Clone)]
#[non_exhaustive]
pub struct CookieLogin {
    /// The session cookie's value. Secret: set it in an HttpOnly cookie, never in a body.
    pub secret: SecretString,
    /// The CSRF token for `X-CSRF-Token` (and the readable CSRF cookie).
    pub csrf_token: String,
    /// The session id.
    pub session_id: String,
    /// Seconds the cookie may live (the session's absolute lifetime).
    pub max_age: i64,
    /// The user.
    pub user: PublicUser,
}

impl fmt::Debug for CookieLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CookieLogin")
            .field("session_id", &self.session_id)
            .field("max_age", &self.max_age)
            .finish_non_exhaustive()
    }
}

struct Inner {
    random: Arc<dyn Random>,
    roles: Arc<dyn RoleStore>,
    services: Arc<dyn ServicePermissionStore>,
    users: Arc<dyn UserStore>,
    revocations: Arc<dyn RevocationStore>,
    refresh: Arc<dyn RefreshTokenStore>,
    counters: Arc<dyn CounterStore>,
    cookies: CookieCache,
    bus: Option<ChangeBus>,
    revocation_view: Option<Arc<RevocationView>>,
    sessions: SessionManager,
    sql: Option<SqlStore>,
    redis: Option<RedisStore>,
    tokens: TokenManager,
    passwords: PasswordHasher,
    codec: RefreshTokenCodec,
    clock: Arc<dyn Clock>,
    events: Arc<dyn EventSink>,
    settings: Settings,
}

/// The authentication flows over a set of stores. Cheap to clone.
#[derive(Clone)]
pub struct AuthService {
    inner: Arc<Inner>,
}

impl fmt::Debug for AuthService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthService")
            .field("tokens", &self.inner.tokens)
            .field("passwords", &self.inner.passwords)
            .field("settings", &self.inner.settings)
            .finish_non_exhaustive()
    }
}

/// Builds an [`AuthService`]; see [`AuthService::builder`].
#[must_use]
pub struct AuthServiceBuilder {
    config: AuthConfig,
    stores: Option<Stores>,
    keys: Option<(KeySet, SecretString)>,
    clock: Arc<dyn Clock>,
    random: Arc<dyn Random>,
    events: Arc<dyn EventSink>,
}

impl fmt::Debug for AuthServiceBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthServiceBuilder").finish_non_exhaustive()
    }
}

impl AuthServiceBuilder {
    /// Uses these stores (default: in memory).
    pub fn with_stores(mut self, stores: Stores) -> Self {
        self.stores = Some(stores);
        self
    }

    /// Uses these keys and refresh-token secret (default: from configuration, see
    /// [`load_keys`]).
    ///
    /// # Warning
    /// The refresh secret must be at least 32 random bytes and the same on every instance.
    pub fn with_keys(mut self, keys: KeySet, refresh_secret: SecretString) -> Self {
        self.keys = Some((keys, refresh_secret));
        self
    }

    /// Reads time from this clock (default: the system clock).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Draws token ids, session ids and refresh tokens from `random` (default: the operating
    /// system's CSPRNG).
    ///
    /// # Warning
    /// Only tests should replace it, with a [`SeededRandom`](crate::random::SeededRandom).
    pub fn with_random(mut self, random: Arc<dyn Random>) -> Self {
        self.random = random;
        self
    }

    /// Sends events here (default: `tracing`).
    pub fn with_events(mut self, events: Arc<dyn EventSink>) -> Self {
        self.events = events;
        self
    }

    /// Builds the service.
    ///
    /// # Errors
    /// [`SetupError`] when the configuration, keys or password parameters are invalid.
    pub fn build(self) -> Result<AuthService, SetupError> {
        self.config.validate()?;
        let (key_set, refresh_secret) = match self.keys {
            Some(keys) => keys,
            None => {
                let loaded = load_keys(&self.config)?;
                log_key_source(&loaded.source, &self.config);
                (loaded.key_set, loaded.refresh_secret)
            }
        };
        let stores = self.stores.unwrap_or_else(Stores::memory);
        let jwt = &self.config.jwt;
        let secs = |d: std::time::Duration| i64::try_from(d.as_secs()).unwrap_or(i64::MAX / 4);
        let refresh_ttl = secs(jwt.refresh_token_ttl());
        let family_ttl = secs(jwt.refresh_family_ttl()).max(refresh_ttl);
        // A bearer session lives as long as its refresh tokens do: idle for at most the
        // refresh-token lifetime, and never past the family's absolute lifetime.
        let sessions = SessionManager::new(
            stores.sessions,
            Arc::clone(&self.clock),
            SessionSettings::new(
                refresh_ttl,
                family_ttl,
                self.config.session.max_sessions_per_user,
            ),
        );
        Ok(AuthService {
            inner: Arc::new(Inner {
                sessions,
                bus: stores.bus,
                cookies: CookieCache::default(),
                counters: stores.counters,
                revocation_view: stores.revocation_view,
                redis: stores.redis,
                roles: stores.roles,
                services: stores.services,
                users: stores.users,
                revocations: stores.revocations,
                refresh: stores.refresh_tokens,
                sql: stores.sql,
                tokens: TokenManager::new(key_set, jwt, Arc::clone(&self.clock))
                    .with_random(Arc::clone(&self.random)),
                passwords: PasswordHasher::new(&self.config.password)?,
                codec: RefreshTokenCodec::with_random(
                    refresh_secret.expose_secret().as_bytes(),
                    Arc::clone(&self.random),
                ),
                random: self.random,
                clock: self.clock,
                events: self.events,
                settings: Settings {
                    refresh_ttl,
                    family_ttl,
                    cookie_idle: i64::try_from(self.config.session.timeout_minutes)
                        .unwrap_or(i64::MAX / 120)
                        .saturating_mul(60),
                    reuse_grace: i64::try_from(jwt.refresh_reuse_grace_seconds).unwrap_or(0),
                    default_roles: self.config.users.default_roles.clone(),
                },
            }),
        })
    }
}

fn log_key_source(source: &KeySource, config: &AuthConfig) {
    let var = config.jwt.algorithm.key_variable();
    match source {
        KeySource::Configured => {
            tracing::info!(algorithm = %config.jwt.algorithm, "using configured signing key")
        }
        KeySource::DevelopmentFile(path) => tracing::warn!(
            path = %path.display(),
            algorithm = %config.jwt.algorithm,
            "using development signing keys kept in {}; set {var} and AUTH__JWT__REFRESH_TOKEN_SECRET in production",
            path.display()
        ),
        KeySource::GeneratedDevelopmentFile(path) => tracing::warn!(
            path = %path.display(),
            algorithm = %config.jwt.algorithm,
            "generated development signing keys and saved them to {}; set {var} and AUTH__JWT__REFRESH_TOKEN_SECRET in production",
            path.display()
        ),
    }
}

fn password_error(err: PasswordError) -> AuthError {
    match err {
        PasswordError::TooShort { .. } | PasswordError::TooLong { .. } => {
            AuthError::invalid("password", err.to_string())
        }
        PasswordError::Busy => AuthError::Overloaded,
        other => AuthError::Internal(other.to_string()),
    }
}

/// The amount of time after which no access token issued now is still valid, leeway included.
const LEEWAY_MARGIN: i64 = 60;

impl AuthService {
    /// A builder over `config`.
    pub fn builder(config: AuthConfig) -> AuthServiceBuilder {
        AuthServiceBuilder {
            config,
            stores: None,
            keys: None,
            clock: Arc::new(SystemClock),
            random: Arc::new(OsRandom),
            events: Arc::new(TracingEventSink),
        }
    }

    /// The whole stack from configuration: connects to `database.url` (SQLite file created and
    /// migrated on first start, or PostgreSQL), loads or generates keys, and builds the service.
    ///
    /// # Errors
    /// [`SetupError`] naming what to fix.
    pub async fn from_config(config: &AuthConfig) -> Result<Self, SetupError> {
        // Validated before connecting, so a bad configuration never creates or migrates a
        // database; `build` validates again for callers that use the builder directly.
        config.validate()?;
        let options = SqlOptions::default()
            .with_max_connections(config.database.max_connections)
            .with_acquire_timeout(std::time::Duration::from_secs(
                config.database.acquire_timeout_seconds,
            ));
        let store = SqlStore::connect(&config.database.url, options).await?;
        let mut stores = Stores::sql(store);
        if let Some(url) = &config.redis.url {
            let bus = ChangeBus::redis(url, &config.redis.changes_channel()).await?;
            stores = stores
                .with_redis(RedisStore::connect(url, &config.redis.prefix).await?)
                .shared_through(bus, Arc::new(SystemClock));
        }
        let service = Self::builder(config.clone()).with_stores(stores).build()?;
        service.warm_up().await?;
        Ok(service)
    }

    /// Prepares the dummy password hash now, so the first login for an unknown user costs the
    /// same as every later one (no timing hint on the first request).
    ///
    /// # Errors
    /// [`SetupError::Password`] when hashing fails.
    pub async fn warm_up(&self) -> Result<(), SetupError> {
        self.inner.passwords.verify_dummy("").await?;
        Ok(())
    }

    /// The token manager (for key rotation and tooling).
    #[must_use]
    pub fn tokens(&self) -> &TokenManager {
        &self.inner.tokens
    }

    /// The user store (for administration).
    #[must_use]
    pub fn users(&self) -> &Arc<dyn UserStore> {
        &self.inner.users
    }

    /// The bus this instance shares changes with others on, when configured
    /// (`AUTH__REDIS__URL`).
    #[must_use]
    pub fn bus(&self) -> Option<&ChangeBus> {
        self.inner.bus.as_ref()
    }

    /// Whether revocation checks answer from the local view right now (no store round trip);
    /// false without a view, and while the change bus is down or the view reloads.
    #[must_use]
    pub fn revocations_in_memory(&self) -> bool {
        self.inner
            .revocation_view
            .as_ref()
            .is_some_and(|view| view.is_complete())
    }

    /// The SQL store, when the service runs on one (for casbin's adapter and health checks).
    #[must_use]
    pub fn sql_store(&self) -> Option<&SqlStore> {
        self.inner.sql.as_ref()
    }

    /// Rate-limit and lockout counters (Redis when configured, so instances count together).
    #[must_use]
    pub fn counters(&self) -> &Arc<dyn CounterStore> {
        &self.inner.counters
    }

    /// Role definitions managed at run time.
    #[must_use]
    pub fn role_store(&self) -> &Arc<dyn RoleStore> {
        &self.inner.roles
    }

    /// Service-scoped permission schemas, user values and service admins (seed 004); see
    /// [`authz::services`](crate::authz::services).
    #[must_use]
    pub fn service_permissions(&self) -> &Arc<dyn ServicePermissionStore> {
        &self.inner.services
    }

    /// Gives a user a role (idempotent). It appears in tokens from the next login or refresh;
    /// tokens already issued keep their roles until they expire.
    ///
    /// # Errors
    /// [`AuthError::UserNotFound`], or [`AuthError::ServiceUnavailable`].
    pub async fn assign_role(&self, user_id: &UserId, role: &str) -> Result<PublicUser> {
        self.change_roles(user_id, |roles| {
            if !roles.iter().any(|r| r == role) {
                roles.push(role.to_owned());
            }
        })
        .await
    }

    /// Takes a role from a user. Like [`assign_role`](Self::assign_role) it applies to new
    /// tokens; call [`logout_all`](Self::logout_all) as well to end the user's current
    /// sessions at once.
    ///
    /// # Errors
    /// [`AuthError::UserNotFound`], or [`AuthError::ServiceUnavailable`].
    pub async fn revoke_role(&self, user_id: &UserId, role: &str) -> Result<PublicUser> {
        self.change_roles(user_id, |roles| roles.retain(|r| r != role))
            .await
    }

    /// Applies `change` to the user's roles and writes back the roles only, compare-and-set:
    /// a deactivation or an epoch bump that lands meanwhile is kept, and a concurrent role
    /// change makes this one start again from the new roles.
    async fn change_roles(
        &self,
        user_id: &UserId,
        change: impl Fn(&mut Vec<String>),
    ) -> Result<PublicUser> {
        const ATTEMPTS: usize = 8;
        for _ in 0..ATTEMPTS {
            let mut user = self
                .inner
                .users
                .get_by_id(user_id)
                .await?
                .ok_or(AuthError::UserNotFound)?;
            let mut roles = user.roles.clone();
            change(&mut roles);
            let replaced = match self
                .inner
                .users
                .replace_roles(user_id, &user.roles, &roles)
                .await
            {
                Err(StoreError::NotFound) => return Err(AuthError::UserNotFound),
                other => other?,
            };
            if replaced {
                user.roles = roles;
                return Ok(user.to_public());
            }
        }
        Err(AuthError::Internal(format!(
            "the roles of user {user_id} changed under {ATTEMPTS} attempts to update them"
        )))
    }

    /// Deactivates a user: new logins and refreshes are refused, and every session, refresh
    /// family and access token the user holds ends at once, on every instance (the security
    /// epoch moves and a user cut-off is revoked, which every guard checks). Idempotent.
    ///
    /// # Errors
    /// [`AuthError::UserNotFound`], or [`AuthError::ServiceUnavailable`].
    pub async fn deactivate_user(&self, user_id: &UserId) -> Result<()> {
        match self.inner.users.deactivate(user_id).await {
            Err(StoreError::NotFound) => return Err(AuthError::UserNotFound),
            other => other?,
        }
        self.revoke_everything(user_id, "deactivated").await?;
        self.emit(AuthEvent::UserDeactivated {
            user_id: user_id.to_string(),
        });
        Ok(())
    }

    /// Lets a deactivated user log in again. Tokens and sessions ended by the deactivation
    /// stay ended.
    ///
    /// # Errors
    /// [`AuthError::UserNotFound`], or [`AuthError::ServiceUnavailable`].
    pub async fn reactivate_user(&self, user_id: &UserId) -> Result<()> {
        match self.inner.users.activate(user_id).await {
            Err(StoreError::NotFound) => Err(AuthError::UserNotFound),
            other => Ok(other?),
        }
    }

    /// The password hasher.
    #[must_use]
    pub fn passwords(&self) -> &PasswordHasher {
        &self.inner.passwords
    }

    /// The clock.
    #[must_use]
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }

    /// Checks every store the service needs answers (readiness).
    ///
    /// # Errors
    /// [`AuthError::ServiceUnavailable`].
    pub async fn check_ready(&self) -> Result<()> {
        if let Some(sql) = &self.inner.sql {
            sql.ping().await.map_err(AuthError::ServiceUnavailable)?;
        }
        if let Some(redis) = &self.inner.redis {
            redis.ping().await.map_err(AuthError::ServiceUnavailable)?;
        }
        Ok(())
    }

    /// The principal's live sessions, most recently used first.
    ///
    /// # Errors
    /// [`AuthError::ServiceUnavailable`] when the session store is down.
    pub async fn sessions(&self, principal: &Principal) -> Result<Vec<Session>> {
        Ok(self.inner.sessions.list(principal.user_id.as_str()).await?)
    }

    /// Ends one of the principal's sessions (a device logged out remotely): its refresh
    /// tokens and access tokens stop working. Returns whether the principal had it.
    ///
    /// # Errors
    /// [`AuthError::ServiceUnavailable`] when a store is down.
    pub async fn revoke_session(&self, principal: &Principal, session_id: &str) -> Result<bool> {
        let Some(session) = self
            .inner
            .sessions
            .revoke(principal.user_id.as_str(), session_id)
            .await?
        else {
            return Ok(false);
        };
        self.end_session(&session.id, "revoked").await?;
        self.emit(AuthEvent::LoggedOut {
            user_id: principal.user_id.to_string(),
            session_id: Some(session.id),
        });
        Ok(true)
    }

    /// Ends every session of the principal except the one it is using; returns how many.
    ///
    /// # Errors
    /// [`AuthError::ServiceUnavailable`] when a store is down.
    pub async fn revoke_other_sessions(&self, principal: &Principal) -> Result<usize> {
        let ended = self
            .inner
            .sessions
            .revoke_all(principal.user_id.as_str(), principal.session_id.as_deref())
            .await?;
        for id in &ended {
            self.end_session(id, "revoked").await?;
        }
        Ok(ended.len())
    }

    fn emit(&self, event: AuthEvent) {
        self.inner.events.emit(&event);
    }

    /// Registers a user with the configured default roles (jwtlib `register_user`).
    ///
    /// # Errors
    /// [`AuthError::Validation`] for a bad username, email or password;
    /// [`AuthError::Conflict`] when the username or email is taken.
    pub async fn register(&self, request: RegisterRequest) -> Result<PublicUser> {
        let username = request.username.trim();
        let email = request.email.trim();
        let mut errors = ValidationErrors::default();
        validate_username(username, &mut errors);
        validate_email(email, &mut errors);
        if let Err(e) = self.inner.passwords.check_policy(&request.password) {
            errors.push("password", e.to_string());
        }
        errors.into_result()?;
        let hash = self
            .inner
            .passwords
            .hash(&request.password)
            .await
            .map_err(password_error)?;
        let mut user = User::new(username, email, Some(hash), self.inner.clock.now_datetime());
        user.roles.clone_from(&self.inner.settings.default_roles);
        self.inner.users.insert(&user).await?;
        self.emit(AuthEvent::UserRegistered {
            user_id: user.id.to_string(),
        });
        Ok(user.to_public())
    }

    /// Checks credentials and starts a session (jwtlib `login_user`). Unknown users, wrong
    /// passwords and disabled accounts give the same error after the same work.
    ///
    /// # Errors
    /// [`AuthError::InvalidCredentials`], or [`AuthError::Validation`] for an over-long password.
    pub async fn login(&self, request: LoginRequest) -> Result<LoginResponse> {
        let user = self.check_credentials(&request).await?;
        self.start_session(&user, request.device).await
    }

    /// Checks a login's credentials (same work for every kind of failure); the user on
    /// success, with an outdated hash upgraded.
    async fn check_credentials(&self, request: &LoginRequest) -> Result<User> {
        let password = request.password.expose_secret();
        let passwords = &self.inner.passwords;
        // Refuse over-long input before any hashing (OWASP); says nothing about the account.
        passwords.check_max(password).map_err(password_error)?;
        // In a login storm, refuse before the database lookup.
        passwords.check_capacity().map_err(password_error)?;
        let user = self.inner.users.get_by_login(request.login.trim()).await?;
        // The same work for every kind of account: no user, no password, an unusable stored
        // hash and a wrong password all cost one verification.
        let verification = passwords
            .verify_login(
                password,
                user.as_ref().and_then(|u| u.password_hash.as_deref()),
            )
            .await
            .map_err(password_error)?;
        let (user, needs_rehash) = match (user, verification) {
            (Some(user), Verification::Valid { needs_rehash }) => (user, needs_rehash),
            (user, _) => {
                self.emit(AuthEvent::LoginFailed {
                    user_id: user.map(|u| u.id.to_string()),
                });
                return Err(AuthError::InvalidCredentials);
            }
        };
        if !user.is_active {
            self.emit(AuthEvent::LoginFailed {
                user_id: Some(user.id.to_string()),
            });
            return Err(AuthError::InvalidCredentials);
        }
        let user = if needs_rehash {
            self.rehash(user, password).await
        } else {
            user
        };
        Ok(user)
    }

    /// Checks credentials and starts a browser session authenticated by a cookie instead of
    /// tokens. The session is new, so a cookie planted before login is never upgraded
    /// (fixation); its idle timeout is `session.timeout_minutes`.
    ///
    /// # Errors
    /// As [`login`](Self::login).
    pub async fn login_with_cookie(&self, request: LoginRequest) -> Result<CookieLogin> {
        let user = self.check_credentials(&request).await?;
        let session_id = self.inner.random.uuid().to_string();
        let secret = cookie::new_secret(self.inner.random.as_ref());
        let session = self
            .open_session(
                &session_id,
                &user,
                request.device,
                self.inner.settings.cookie_idle,
                Some(cookie::secret_hash(&secret)),
            )
            .await?;
        self.emit(AuthEvent::LoginSucceeded {
            user_id: user.id.to_string(),
            session_id: session.id.clone(),
        });
        Ok(CookieLogin {
            csrf_token: cookie::csrf_token(&secret),
            secret: SecretString::from(secret),
            max_age: session.expires_at - session.created_at,
            session_id: session.id,
            user: user.to_public(),
        })
    }

    /// Records session `session_id` for a login; logins over `max_sessions_per_user` end the
    /// least recently used sessions, tokens too.
    async fn open_session(
        &self,
        session_id: &str,
        user: &User,
        device: Device,
        idle_timeout: i64,
        secret_hash: Option<String>,
    ) -> Result<Session> {
        let (session, evicted) = self
            .inner
            .sessions
            .create_with(
                session_id,
                user.id.as_str(),
                device,
                idle_timeout,
                secret_hash,
            )
            .await?;
        for old in evicted {
            self.end_session(&old, "evicted").await?;
        }
        Ok(session)
    }

    /// Gives the principal's cookie session a new secret (call it when the session's
    /// privileges change, e.g. after a step-up): the old cookie stops working at once.
    ///
    /// Only a principal that authenticated with the session cookie may rotate it: a bearer
    /// token names its session too, and must not become a cookie that outlives it.
    ///
    /// # Errors
    /// [`AuthError::InvalidSession`] when the principal did not present a session cookie, has
    /// no live session, or its user is gone or deactivated.
    pub async fn rotate_cookie(&self, principal: &Principal) -> Result<CookieLogin> {
        if principal.credential != CredentialKind::Cookie {
            return Err(AuthError::InvalidSession);
        }
        let session_id = principal
            .session_id
            .as_deref()
            .ok_or(AuthError::InvalidSession)?;
        let session = self
            .inner
            .sessions
            .use_session(session_id)
            .await?
            // A bearer login's session has no cookie secret: it never becomes a cookie one.
            .filter(|session| session.secret_hash.is_some())
            .ok_or(AuthError::InvalidSession)?;
        let user = match self
            .inner
            .users
            .get_by_id(&UserId(session.user_id.clone()))
            .await?
        {
            Some(user) if user.is_active && user.id == principal.user_id => user,
            _ => return Err(AuthError::InvalidSession),
        };
        let secret = cookie::new_secret(self.inner.random.as_ref());
        if !self
            .inner
            .sessions
            .store()
            .set_session_secret(session_id, &cookie::secret_hash(&secret))
            .await?
        {
            return Err(AuthError::InvalidSession);
        }
        if let Some(old) = &session.secret_hash {
            self.cookie_cache().remove(old);
            // Instances that verified the old cookie recently hold it in their cache; revoking
            // its id reaches them through the revocation check every request makes.
            self.inner
                .revocations
                .revoke_token(&cookie_jti(old), session.expires_at)
                .await?;
        }
        Ok(CookieLogin {
            csrf_token: cookie::csrf_token(&secret),
            secret: SecretString::from(secret),
            max_age: session.expires_at - self.inner.clock.now(),
            session_id: session.id,
            user: user.to_public(),
        })
    }

    fn cookie_cache(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Arc<Claims>, i64)>> {
        self.inner
            .cookies
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Verifies a session cookie: the claims of its session, as an access token would carry
    /// them (`sid` the session, `jti` `cookie:` and a prefix of the cookie's hash, so that one
    /// cookie of a session can be revoked on its own). Sessions read in the last 30 s are
    /// answered from memory; revocation is checked on every call.
    ///
    /// # Errors
    /// [`AuthError::InvalidSession`] for an unknown, ended or revoked session;
    /// [`AuthError::ServiceUnavailable`] when a store is down.
    pub async fn verify_cookie(&self, secret: &str) -> Result<Arc<Claims>> {
        if secret.is_empty() || secret.len() > cookie::MAX_SECRET_LEN {
            return Err(AuthError::InvalidSession);
        }
        let hash = cookie::secret_hash(secret);
        let now = self.inner.clock.now();
        let cached = self
            .cookie_cache()
            .get(&hash)
            .filter(|(_, at)| now - at < COOKIE_CACHE_SECONDS)
            .map(|(claims, _)| Arc::clone(claims));
        let claims = match cached {
            Some(claims) => claims,
            None => {
                let claims = Arc::new(self.read_cookie_session(&hash).await?);
                let mut cache = self.cookie_cache();
                if cache.len() >= COOKIE_CACHE_CAPACITY {
                    cache.clear();
                }
                cache.insert(hash.clone(), (Arc::clone(&claims), now));
                claims
            }
        };
        if self.is_revoked(&claims).await? || claims.exp <= now {
            self.cookie_cache().remove(&hash);
            return Err(AuthError::InvalidSession);
        }
        Ok(claims)
    }

    /// Reads the session a cookie secret hash names, and its user, into claims.
    async fn read_cookie_session(&self, hash: &str) -> Result<Claims> {
        let session = self
            .inner
            .sessions
            .use_cookie(hash)
            .await?
            .ok_or(AuthError::InvalidSession)?;
        let user = match self
            .inner
            .users
            .get_by_id(&UserId(session.user_id.clone()))
            .await?
        {
            Some(user) if user.is_active => user,
            _ => return Err(AuthError::InvalidSession),
        };
        Ok(Claims {
            sub: user.id.to_string(),
            exp: session.ends_at(),
            iat: session.created_at,
            nbf: session.created_at,
            jti: cookie_jti(hash),
            iss: None,
            aud: None,
            sid: Some(session.id),
            typ: TokenType::Access,
            epc: user.security_epoch,
            auth_time: Some(session.created_at),
            amr: vec!["pwd".to_owned()],
            roles: user.roles,
            permissions: user.permissions,
            tenant: user.tenant,
        })
    }

    /// Upgrades an outdated hash; a failure is logged and does not fail the login.
    /// Writes the hash column only, and only over the hash that was just verified: a
    /// password change or deactivation that lands meanwhile is kept.
    async fn rehash(&self, mut user: User, password: &str) -> User {
        let Some(current) = user.password_hash.clone() else {
            return user;
        };
        let hash = match self.inner.passwords.hash(password).await {
            Ok(hash) => hash,
            Err(e) => {
                tracing::warn!(user_id = %user.id, error = %e, "could not upgrade password hash");
                return user;
            }
        };
        match self
            .inner
            .users
            .replace_password_hash(&user.id, &current, &hash)
            .await
        {
            Ok(true) => {
                user.password_hash = Some(hash);
                self.emit(AuthEvent::PasswordRehashed {
                    user_id: user.id.to_string(),
                });
            }
            Ok(false) => {
                tracing::info!(user_id = %user.id, "password changed during login; upgraded hash not stored");
            }
            Err(e) => {
                tracing::warn!(user_id = %user.id, error = %e, "could not store upgraded password hash")
            }
        }
        user
    }

    /// Starts a session for an already authenticated user: a refresh family and an access token.
    async fn start_session(&self, user: &User, device: Device) -> Result<LoginResponse> {
        let now = self.inner.clock.now();
        let s = &self.inner.settings;
        let idle = self.inner.sessions.settings().idle_timeout;
        let session_id = self.inner.random.uuid().to_string();
        self.open_session(&session_id, user, device, idle, None)
            .await?;
        let refresh_token = self.inner.codec.generate();
        let family = RefreshFamily::new(
            session_id.clone(),
            user.id.to_string(),
            now,
            now + s.family_ttl,
        );
        let record = RefreshTokenRecord::new(
            RefreshTokenCodec::hash(&refresh_token),
            session_id.clone(),
            now,
            (now + s.refresh_ttl).min(family.expires_at),
        );
        self.inner.refresh.create_family(&family, &record).await?;
        self.emit(AuthEvent::LoginSucceeded {
            user_id: user.id.to_string(),
            session_id: session_id.clone(),
        });
        self.token_response(user, &family, refresh_token, record.expires_at - now)
    }

    fn token_response(
        &self,
        user: &User,
        family: &RefreshFamily,
        refresh_token: String,
        refresh_expires_in: i64,
    ) -> Result<LoginResponse> {
        let mut subject = TokenSubject::access(user.id.as_str())
            .with_session(family.id.clone())
            .with_roles(user.roles.clone())
            .with_permissions(user.permissions.clone())
            .with_epoch(user.security_epoch);
        subject.tenant.clone_from(&user.tenant);
        subject.auth_time = Some(family.created_at);
        subject.amr = vec!["pwd".to_owned()];
        let issued = self.inner.tokens.issue(&subject)?;
        Ok(LoginResponse {
            access_token: issued.token,
            token_type: "Bearer",
            expires_in: issued.expires_in,
            refresh_token,
            refresh_expires_in: u64::try_from(refresh_expires_in).unwrap_or(0),
            session_id: family.id.clone(),
            user: user.to_public(),
        })
    }

    /// Rotates a refresh token: returns a new access token and the successor refresh token.
    ///
    /// Concurrent uses of one token within `jwt.refresh_reuse_grace_seconds` get the same
    /// successor; a use after that revokes the whole family (reuse detection).
    ///
    /// # Errors
    /// [`AuthError::InvalidRefreshToken`] for unknown, expired, revoked or reused tokens.
    pub async fn refresh(&self, refresh_token: &str) -> Result<LoginResponse> {
        let now = self.inner.clock.now();
        if refresh_token.is_empty() || refresh_token.len() > 256 {
            return Err(AuthError::InvalidRefreshToken);
        }
        let hash = RefreshTokenCodec::hash(refresh_token);
        let Some((record, family)) = self.inner.refresh.find_token(&hash).await? else {
            return Err(AuthError::InvalidRefreshToken);
        };
        if family.revoked_at.is_some() || family.expires_at <= now || record.expires_at <= now {
            return Err(AuthError::InvalidRefreshToken);
        }
        let user = match self
            .inner
            .users
            .get_by_id(&UserId(family.user_id.clone()))
            .await?
        {
            Some(user) if user.is_active => user,
            _ => return Err(AuthError::InvalidRefreshToken),
        };
        // The session must still be there (not revoked, evicted or idle too long); a refresh
        // counts as a use of it.
        if self.inner.sessions.use_session(&family.id).await?.is_none() {
            self.end_session(&family.id, "session_ended").await?;
            return Err(AuthError::InvalidRefreshToken);
        }
        let successor = self.inner.codec.successor(refresh_token);
        let successor_record = RefreshTokenRecord::new(
            RefreshTokenCodec::hash(&successor),
            family.id.clone(),
            now,
            (now + self.inner.settings.refresh_ttl).min(family.expires_at),
        );
        let outcome = match record.used_at {
            Some(used_at) => RotateOutcome::AlreadyUsed { used_at },
            None => {
                self.inner
                    .refresh
                    .rotate(&hash, now, &successor_record)
                    .await?
            }
        };
        match outcome {
            RotateOutcome::Rotated => {
                self.emit(AuthEvent::TokenRefreshed {
                    user_id: user.id.to_string(),
                    session_id: family.id.clone(),
                });
                self.token_response(&user, &family, successor, successor_record.expires_at - now)
            }
            RotateOutcome::NotFound => Err(AuthError::InvalidRefreshToken),
            RotateOutcome::AlreadyUsed { used_at } => {
                if now - used_at <= self.inner.settings.reuse_grace {
                    // A racing request (another tab, a retry): hand out the same successor if
                    // it is still unused.
                    if let Some((next, _)) = self
                        .inner
                        .refresh
                        .find_token(&successor_record.token_hash)
                        .await?
                    {
                        if next.used_at.is_none() && next.family_id == family.id {
                            return self.token_response(
                                &user,
                                &family,
                                successor,
                                next.expires_at - now,
                            );
                        }
                    }
                }
                self.end_session(&family.id, "reuse_detected").await?;
                self.emit(AuthEvent::RefreshTokenReuseDetected {
                    user_id: user.id.to_string(),
                    session_id: family.id.clone(),
                });
                Err(AuthError::InvalidRefreshToken)
            }
        }
    }

    /// When a revocation entry may be purged: no access token issued up to `now` is valid
    /// after it, leeway included.
    fn revocation_horizon(&self, now: i64) -> i64 {
        now + self.inner.tokens.access_ttl() + LEEWAY_MARGIN
    }

    /// Ends a session: its record, its refresh family (if it has one) and every access token
    /// of it.
    async fn end_session(&self, session_id: &str, reason: &str) -> Result<()> {
        let now = self.inner.clock.now();
        self.inner
            .sessions
            .store()
            .delete_session(session_id)
            .await?;
        self.inner
            .refresh
            .revoke_family(session_id, now, reason)
            .await?;
        self.inner
            .revocations
            .revoke_session(session_id, self.revocation_horizon(now))
            .await?;
        Ok(())
    }

    /// Ends the principal's session: its refresh family and every access token of it
    /// (jwtlib `logout_user`, but enforced server-side). When `refresh_token` names another
    /// session of the same user, that one ends too.
    ///
    /// # Errors
    /// [`AuthError::ServiceUnavailable`] when a store is down.
    pub async fn logout(&self, principal: &Principal, refresh_token: Option<&str>) -> Result<()> {
        let now = self.inner.clock.now();
        if let Some(jti) = &principal.token_id {
            let expires = principal
                .expires_at
                .map_or_else(|| self.revocation_horizon(now), |exp| exp + LEEWAY_MARGIN);
            self.inner.revocations.revoke_token(jti, expires).await?;
        }
        if let Some(session_id) = &principal.session_id {
            self.end_session(session_id, "logout").await?;
        }
        if let Some(token) = refresh_token {
            if let Some((_, family)) = self
                .inner
                .refresh
                .find_token(&RefreshTokenCodec::hash(token))
                .await?
            {
                if family.user_id == principal.user_id.as_str() {
                    self.end_session(&family.id, "logout").await?;
                }
            }
        }
        self.emit(AuthEvent::LoggedOut {
            user_id: principal.user_id.to_string(),
            session_id: principal.session_id.clone(),
        });
        Ok(())
    }

    /// Revokes every session and token of a user ("log out everywhere", password change):
    /// bumps the security epoch so every older token dies at once.
    ///
    /// # Errors
    /// [`AuthError::UserNotFound`], or [`AuthError::ServiceUnavailable`].
    pub async fn logout_all(&self, user_id: &UserId) -> Result<()> {
        self.revoke_everything(user_id, "logout_all").await?;
        self.emit(AuthEvent::AllSessionsRevoked {
            user_id: user_id.to_string(),
        });
        Ok(())
    }

    /// Ends every session, refresh family and access token of a user: the security epoch
    /// moves and a user cut-off is revoked (in force on every instance through the revocation
    /// check), then the families and sessions end.
    async fn revoke_everything(&self, user_id: &UserId, reason: &str) -> Result<()> {
        let now = self.inner.clock.now();
        let epoch = match self.inner.users.bump_security_epoch(user_id).await {
            Err(StoreError::NotFound) => return Err(AuthError::UserNotFound),
            other => other?,
        };
        let cutoff = UserCutoff {
            issued_before: now,
            epoch_below: epoch,
            expires_at: self.revocation_horizon(now),
        };
        self.inner
            .revocations
            .revoke_user(user_id.as_str(), cutoff)
            .await?;
        self.inner
            .refresh
            .revoke_user_families(user_id.as_str(), now, reason)
            .await?;
        self.inner
            .sessions
            .revoke_all(user_id.as_str(), None)
            .await?;
        Ok(())
    }

    /// Verifies an access token: signature, claims, and revocation.
    ///
    /// # Errors
    /// [`AuthError::InvalidToken`], or [`AuthError::ServiceUnavailable`] when the revocation
    /// store cannot be asked (the request must not pass).
    pub async fn verify_access(&self, token: &str) -> Result<Claims> {
        self.verify_access_shared(token)
            .await
            .map(Arc::unwrap_or_clone)
    }

    /// As [`verify_access`](Self::verify_access), with the claims shared: a token presented
    /// again comes from the verification cache (`jwt.verify_cache_entries`); revocation is
    /// checked every time.
    ///
    /// # Errors
    /// As [`verify_access`](Self::verify_access).
    pub async fn verify_access_shared(&self, token: &str) -> Result<Arc<Claims>> {
        let claims = self.inner.tokens.verify_shared(token, TokenType::Access)?;
        if self.is_revoked(&claims).await? {
            return Err(AuthError::InvalidToken(TokenError::Revoked));
        }
        Ok(claims)
    }

    /// Whether verified claims are revoked by token, session or user cut-off.
    async fn is_revoked(&self, claims: &Claims) -> Result<bool> {
        let check = RevocationCheck {
            jti: &claims.jti,
            session_id: claims.sid.as_deref(),
            user_id: &claims.sub,
            issued_at: claims.iat,
            epoch: claims.epc,
        };
        self.inner
            .revocations
            .is_revoked(&check)
            .await
            .map_err(AuthError::ServiceUnavailable)
    }

    /// The principal an access token stands for (verified, unrevoked). No user lookup.
    ///
    /// # Errors
    /// As [`verify_access`](Self::verify_access).
    pub async fn authenticate(&self, token: &str) -> Result<Principal> {
        self.verify_access(token)
            .await
            .map(|claims| Principal::from_claims(&claims))
    }

    /// The user an access token belongs to (jwtlib `get_logged_in_user`).
    ///
    /// # Errors
    /// [`AuthError::InvalidToken`]; [`AuthError::UserNotFound`] when the user is gone or
    /// disabled.
    pub async fn current_user(&self, token: &str) -> Result<PublicUser> {
        let claims = self.verify_access(token).await?;
        self.user_for_claims(&claims).await
    }

    /// The user of verified claims, checking the account is still active and the token's
    /// security epoch is current.
    ///
    /// # Errors
    /// As [`current_user`](Self::current_user).
    pub async fn user_for_claims(&self, claims: &Claims) -> Result<PublicUser> {
        let user = self
            .inner
            .users
            .get_by_id(&UserId(claims.sub.clone()))
            .await?;
        match user {
            Some(user) if user.is_active => {
                if claims.epc < user.security_epoch {
                    return Err(AuthError::InvalidToken(TokenError::Revoked));
                }
                Ok(user.to_public())
            }
            _ => Err(AuthError::UserNotFound),
        }
    }

    /// Token introspection for other services (jwtlib `introspect_token`). Never fails:
    /// anything but a valid token of an existing, active user is `active: false`. (jwtlib
    /// reports "valid token, no user" as active; we do not, because RFC 7662 section 2.2 says
    /// a token that cannot be used is not active.)
    pub async fn introspect(&self, token: &str) -> Introspection {
        match self.current_user(token).await {
            Ok(user) => Introspection {
                active: true,
                user: Some(user),
            },
            Err(_) => Introspection {
                active: false,
                user: None,
            },
        }
    }

    /// jwtlib's `authenticate_request`: `Ok(None)` when `should_skip(method, path)` says the
    /// route is public, otherwise the user of `token`.
    ///
    /// # Errors
    /// [`AuthError::NotAuthenticated`] without a token, otherwise as
    /// [`current_user`](Self::current_user).
    pub async fn authenticate_request(
        &self,
        should_skip: impl FnOnce(&str, &str) -> bool,
        method: &str,
        path: &str,
        token: Option<&str>,
    ) -> Result<Option<PublicUser>> {
        if should_skip(method, path) {
            return Ok(None);
        }
        let token = token.ok_or(AuthError::NotAuthenticated)?;
        self.current_user(token).await.map(Some)
    }
}
