//! Assembling an [`AuthService`]: the stores it runs on, the builder, and the whole stack
//! from configuration.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use secrecy::{ExposeSecret, SecretString};

use super::account::{Accounts, EmailVerification, NewPasswords, PasswordFlows};
use super::api_keys::ApiKeys;
use super::bearer::{Bearer, RefreshLifetimes};
use super::cookie::Cookies;
use super::lockout::LoginLockout;
use super::login::PasswordLogin;
use super::mfa::{MfaFlows, MfaParts};
use super::refresh::Refresh;
use super::sessions::Sessions;
use super::stores::Stores;
use super::verify::Verifier;
use super::{AuthService, Context, Inner};
use crate::clock::Clock;
#[cfg(feature = "redis")]
use crate::clock::SystemClock;
use crate::config::{seconds, AuthConfig, ConfigError};
use crate::error::StoreError;
use crate::events::{EventHub, EventSink};
#[cfg(feature = "redis")]
use crate::invalidation::ChangeBus;
use crate::lockout::LockoutPolicy;
use crate::mail::{Mailer, NoMailer, Outbox, Templates};
use crate::maintenance::Maintenance;
use crate::password::policy::PasswordPolicy;
use crate::password::{PasswordError, PasswordHasher};
use crate::random::Random;
use crate::rate_limit::RateLimits;
use crate::session::{SessionManager, SessionSettings};
#[cfg(feature = "redis")]
use crate::store::redis::RedisStore;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
use crate::store::sql::{SqlOptions, SqlStore};
use crate::token::refresh::RefreshTokenCodec;
use crate::token::setup::{load_keys, KeySetupError, KeySource};
use crate::token::{KeySet, TokenManager};
use crate::user::identifier::UsernameRules;
use crate::user::{ModelCodec, User};

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
    #[cfg(feature = "casbin")]
    #[error(transparent)]
    Policy(#[from] crate::authz::engine::PolicyError),
    /// The change bus (Redis pub/sub) could not be joined.
    #[error(transparent)]
    Bus(#[from] crate::invalidation::BusError),
}

/// The mailer of `config`: its SMTP server when one is set (feature `smtp`), otherwise the
/// outbox folder (`AUTH__MAIL__OUTBOX`) outside production and nothing (each message logged as
/// dropped) in production.
fn mailer_from_config(config: &AuthConfig) -> Result<Arc<dyn Mailer>, SetupError> {
    #[cfg(feature = "smtp")]
    if config.mail.smtp_host.is_some() {
        let mailer =
            crate::mail::SmtpMailer::new(&config.mail).map_err(|e| ConfigError::Invalid {
                var: "AUTH__MAIL__SMTP_HOST",
                reason: e.to_string(),
            })?;
        return Ok(Arc::new(mailer));
    }
    Ok(if config.is_production() {
        Arc::new(NoMailer)
    } else {
        Arc::new(Outbox::new(&config.mail.outbox, &config.mail.from))
    })
}

/// Builds an [`AuthService`]; see [`AuthService::builder`].
#[must_use]
pub struct AuthServiceBuilder {
    pub(super) config: AuthConfig,
    pub(super) stores: Option<Stores>,
    pub(super) keys: Option<(KeySet, SecretString)>,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) random: Arc<dyn Random>,
    pub(super) events: Arc<dyn EventSink>,
    /// Whether `config` was validated already (by [`connect`]), so `build` need not again.
    pub(super) validated: bool,
    pub(super) mailer: Option<Arc<dyn Mailer>>,
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

    /// Sends the flows' mail (password reset links) with `mailer` instead of what the
    /// configuration gives (the outbox folder outside production, nothing in production).
    pub fn with_mailer(mut self, mailer: Arc<dyn Mailer>) -> Self {
        self.mailer = Some(mailer);
        self
    }

    /// Builds the service. With `AUTH__REMOTE__ISSUER` set (feature `remote`) it is a
    /// resource server: the access tokens it accepts are that issuer's.
    ///
    /// # Errors
    /// [`SetupError`] when the configuration, keys or password parameters are invalid.
    pub fn build(self) -> Result<AuthService, SetupError> {
        if !self.validated {
            self.config.validate()?;
        }
        let (key_set, refresh_secret) = match self.keys {
            Some(keys) => keys,
            #[cfg(feature = "remote")]
            None if self.config.remote.issuer.is_some() => ephemeral_keys()?,
            None => {
                let loaded = load_keys(&self.config)?;
                log_key_source(&loaded.source, &self.config);
                (loaded.key_set, loaded.refresh_secret)
            }
        };
        let stores = self.stores.unwrap_or_else(Stores::memory);
        let jwt = &self.config.jwt;
        // Validated above: every lifetime is bounded, so its seconds are exact.
        let configured = self.config.lifetimes();
        let lifetimes = RefreshLifetimes {
            token: seconds(configured.refresh_token),
            family: seconds(configured.refresh_family),
        };
        let proxies = self.config.server.trusted_proxies().unwrap_or_else(|e| {
            // Validation refuses this first; a hand-built configuration trusts no proxy.
            tracing::error!(error = %e, "trusting no proxy");
            crate::client::TrustedProxies::none()
        });
        let ctx = Context {
            events: Arc::new(EventHub::new(
                self.events,
                Arc::clone(&self.clock),
                Arc::new(proxies),
            )),
            clock: self.clock,
            random: self.random,
            quotas: Arc::new(RateLimits::new(
                &self.config.rate_limit,
                Arc::clone(&stores.rate_limiter),
            )),
        };
        if self.config.audit.enabled {
            crate::audit::record(&ctx.events, Arc::clone(&stores.audit));
        }
        let maintenance = Maintenance::new(stores.clone(), &self.config, Arc::clone(&ctx.clock));
        let tokens = TokenManager::new(key_set, jwt, Arc::clone(&ctx.clock))
            .with_random(Arc::clone(&ctx.random));
        let passwords = PasswordHasher::new(&self.config.password)?;
        // A bearer session lives as long as its refresh tokens do: idle for at most the
        // refresh-token lifetime, and never past the family's absolute lifetime.
        let sessions = Sessions {
            manager: SessionManager::new(
                stores.sessions,
                Arc::clone(&ctx.clock),
                SessionSettings::new(
                    lifetimes.token,
                    lifetimes.family,
                    self.config.session.max_sessions_per_user,
                ),
            ),
            refresh: stores.refresh_tokens,
            revocations: Arc::clone(&stores.revocations),
            users: Arc::clone(&stores.users),
            access_ttl: tokens.access_ttl(),
            ctx: ctx.clone(),
        };
        let verifier = Verifier {
            tokens: tokens.clone(),
            revocations: stores.revocations,
            users: Arc::clone(&stores.users),
            #[cfg(feature = "remote")]
            remote: remote_issuer(&self.config)?,
        };
        let bearer = Bearer {
            sessions: sessions.clone(),
            tokens: tokens.clone(),
            codec: Arc::new(RefreshTokenCodec::with_random(
                refresh_secret.expose_secret().as_bytes(),
                Arc::clone(&ctx.random),
            )),
            lifetimes,
        };
        let cookie_idle = seconds(configured.cookie_idle);
        let mailer = match self.mailer {
            Some(mailer) => mailer,
            None => mailer_from_config(&self.config)?,
        };
        let link_base = self
            .config
            .mail
            .link_base_url
            .trim_end_matches('/')
            .to_owned();
        let templates = Arc::new(match &self.config.mail.templates {
            Some(dir) => Templates::with_overrides(dir).map_err(|e| ConfigError::Invalid {
                var: "AUTH__MAIL__TEMPLATES",
                reason: e.to_string(),
            })?,
            None => Templates::builtin(),
        });
        let new_passwords = NewPasswords {
            policy: Arc::new(PasswordPolicy::from_config(&self.config.password)),
            history: Arc::clone(&stores.password_history),
            hasher: passwords.clone(),
        };
        let password_flows = PasswordFlows {
            new_passwords: new_passwords.clone(),
            users: Arc::clone(&stores.users),
            tokens: Arc::clone(&stores.one_time_tokens),
            mailer: Arc::clone(&mailer),
            passwords: passwords.clone(),
            sessions: sessions.clone(),
            reset_lifetime: seconds(configured.reset_token),
            link_base: link_base.clone(),
            templates: Arc::clone(&templates),
        };
        let lockout = LockoutPolicy::from_config(&self.config.lockout).map(|policy| LoginLockout {
            store: Arc::clone(&stores.lockout),
            policy,
            ctx: ctx.clone(),
            notices: Arc::clone(&stores.counters),
            mailer: Arc::clone(&mailer),
            templates: Arc::clone(&templates),
        });
        let mfa = MfaFlows::new(
            &self.config,
            &refresh_secret,
            MfaParts {
                store: stores.mfa,
                challenges: Arc::clone(&stores.one_time_tokens),
                users: Arc::clone(&stores.users),
                passwords: passwords.clone(),
                lockout: lockout.clone(),
                passkeys: Arc::clone(&stores.passkeys),
                pending: Arc::clone(&stores.pending),
            },
            ctx.clone(),
        )?;
        #[cfg(any(feature = "oidc", feature = "ldap", feature = "saml"))]
        let federation = super::federation::FederationFlows::new(
            &self.config,
            super::federation::FederationParts {
                identities: stores.identities,
                users: Arc::clone(&stores.users),
                passkeys: Arc::clone(&stores.passkeys),
                pending: Arc::clone(&stores.pending),
            },
            ctx.clone(),
        )?;
        #[cfg(feature = "provider")]
        let oauth_pending = stores.pending;
        let verification = EmailVerification {
            users: Arc::clone(&stores.users),
            tokens: stores.one_time_tokens,
            mailer,
            ctx: ctx.clone(),
            passwords: passwords.clone(),
            lifetime: seconds(configured.verify_token),
            link_base,
            templates,
        };
        Ok(AuthService {
            inner: Arc::new(Inner {
                accounts: Accounts {
                    users: Arc::clone(&stores.users),
                    passwords: passwords.clone(),
                    new_passwords,
                    default_roles: self.config.users.default_roles.clone(),
                    username_rules: UsernameRules::allow_mixed_scripts(
                        self.config.users.allow_mixed_scripts,
                    ),
                    sessions: sessions.clone(),
                    verification: verification.clone(),
                },
                verification,
                password_flows,
                login: PasswordLogin {
                    users: Arc::clone(&stores.users),
                    passwords: passwords.clone(),
                    ctx: ctx.clone(),
                    require_verified_email: self.config.users.require_verified_email,
                    lockout,
                },
                refresh: Refresh {
                    bearer: bearer.clone(),
                    users: Arc::clone(&stores.users),
                    reuse_grace: seconds(configured.refresh_reuse_grace),
                },
                cookies: Cookies {
                    sessions: sessions.clone(),
                    verifier: verifier.clone(),
                    idle: cookie_idle,
                    cache: Arc::new(Mutex::new(HashMap::new())),
                },
                bearer,
                sessions,
                verifier,
                api_keys: ApiKeys::new(stores.api_keys, Arc::clone(&stores.users), ctx.clone()),
                mfa,
                #[cfg(feature = "provider")]
                oauth: super::oauth::OAuthFlows {
                    clients: stores.clients,
                    pending: oauth_pending,
                    issuer: self
                        .config
                        .provider
                        .issuer_or(self.config.jwt.issuer.as_deref()),
                    admin_role: self.config.provider.admin_role.clone(),
                    code_ttl: i64::try_from(self.config.provider.code_seconds).unwrap_or(60),
                    request_ttl: i64::try_from(
                        self.config.provider.authorize_minutes.saturating_mul(60),
                    )
                    .unwrap_or(600),
                    ctx: ctx.clone(),
                },
                #[cfg(any(feature = "oidc", feature = "ldap", feature = "saml"))]
                federation,
                users: stores.users,
                roles: stores.roles,
                services: stores.services,
                audit: stores.audit,
                counters: stores.counters,
                bus: stores.bus,
                revocation_view: stores.revocation_view,
                ready: stores.ready,
                maintenance,
                tokens,
                passwords,
                ctx,
            }),
            model: ModelCodec::of::<User>(),
        })
    }
}

impl AuthServiceBuilder {
    /// The builder over stores [`connect`] made, whose configuration it validated.
    pub(crate) fn connected(config: AuthConfig, stores: Stores) -> Self {
        let mut builder = AuthService::builder(config).with_stores(stores);
        builder.validated = true;
        builder
    }
}

/// The stores `config` names, connected, and what the composition root needs of them.
pub(crate) struct Connected {
    /// The stores.
    pub(crate) stores: Stores,
    /// The SQL store behind them (for the casbin adapter).
    #[cfg_attr(
        not(feature = "casbin"),
        allow(dead_code, reason = "only the casbin adapter reads it")
    )]
    pub(crate) sql: SqlHandle,
}

/// The SQL store, in builds that have one (none for a resource server, which keeps nothing).
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub(crate) type SqlHandle = Option<SqlStore>;
/// Nothing, in builds without a SQL store.
#[cfg(not(any(feature = "sqlite", feature = "postgres")))]
pub(crate) type SqlHandle = Option<()>;

/// The SQL database `config` names: a SQLite file created and migrated on first start, or
/// PostgreSQL.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
async fn sql_stores(config: &AuthConfig) -> Result<(Stores, SqlHandle), SetupError> {
    let options = SqlOptions::default()
        .with_max_connections(config.database.max_connections)
        .with_acquire_timeout(std::time::Duration::from_secs(
            config.database.acquire_timeout_seconds,
        ));
    let store = SqlStore::connect(&config.database.url, options).await?;
    let stores = Stores::sql(store.clone());
    let stores = if config.metrics.enabled {
        stores.timed(store.backend().label())
    } else {
        stores
    };
    Ok((stores, Some(store)))
}

/// A build without a SQL store cannot serve a configuration, which always names a database.
#[cfg(not(any(feature = "sqlite", feature = "postgres")))]
async fn sql_stores(_config: &AuthConfig) -> Result<(Stores, SqlHandle), SetupError> {
    Err(SetupError::Config(ConfigError::Invalid {
        var: "AUTH__DATABASE__URL",
        reason:
            "this build has no SQL store: enable the `sqlite` or `postgres` feature of auth-axum"
                .to_owned(),
    }))
}

/// Connects the stores `config` names: the SQL database, and Redis with the change bus when
/// `AUTH__REDIS__URL` is set. A backend this build was compiled without is an error naming
/// the feature.
pub(crate) async fn connect(config: &AuthConfig) -> Result<Connected, SetupError> {
    // Validated before connecting, so a bad configuration never creates or migrates a
    // database, and once: the builder made with `AuthServiceBuilder::connected` does not again.
    config.validate()?;
    // A resource server keeps nothing: its users, sessions and keys are the issuer's.
    #[cfg(feature = "remote")]
    if config.remote.issuer.is_some() {
        return Ok(Connected {
            stores: Stores::memory(),
            sql: None,
        });
    }
    let (stores, sql) = sql_stores(config).await?;
    let stores = shared_through_redis(stores, config).await?;
    Ok(Connected { stores, sql })
}

/// `stores` with the shared state in Redis and the change bus joined, when `AUTH__REDIS__URL`
/// names a Redis.
#[cfg(feature = "redis")]
async fn shared_through_redis(stores: Stores, config: &AuthConfig) -> Result<Stores, SetupError> {
    let Some(target) = config.redis.target() else {
        return Ok(stores);
    };
    let bus = ChangeBus::redis_to(&target, &config.redis.changes_channel()).await?;
    let stores = stores.with_redis(RedisStore::connect_to(&target, &config.redis.prefix).await?);
    let stores = if config.metrics.enabled {
        stores.timed_shared("redis")
    } else {
        stores
    };
    Ok(stores.shared_through(bus, Arc::new(SystemClock)))
}

/// A build without Redis refuses a configuration that names it.
#[cfg(not(feature = "redis"))]
async fn shared_through_redis(stores: Stores, config: &AuthConfig) -> Result<Stores, SetupError> {
    if config.redis.url.is_none() {
        return Ok(stores);
    }
    Err(SetupError::Config(ConfigError::Invalid {
        var: "AUTH__REDIS__URL",
        reason: "this build has no Redis support: enable the `redis` feature of auth-axum"
            .to_owned(),
    }))
}

/// The whole stack from configuration: see [`AuthService::from_config`].
pub(super) async fn from_config(config: &AuthConfig) -> Result<AuthService, SetupError> {
    let connected = connect(config).await?;
    let service = AuthServiceBuilder::connected(config.clone(), connected.stores).build()?;
    service.warm_up().await?;
    Ok(service)
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

/// The remote issuer `[remote]` names, for a resource server; `None` when none is set.
#[cfg(feature = "remote")]
fn remote_issuer(
    config: &AuthConfig,
) -> Result<Option<Arc<crate::remote::RemoteAuth>>, ConfigError> {
    if config.remote.issuer.is_none() {
        return Ok(None);
    }
    crate::remote::RemoteAuth::from_config(&config.remote)
        .map(|remote| Some(Arc::new(remote)))
        .map_err(|e| ConfigError::Invalid {
            var: "AUTH__REMOTE__ISSUER",
            reason: e.to_string(),
        })
}

/// Keys of a resource server, which signs nothing (the issuer does): generated for this
/// process only, never written anywhere.
#[cfg(feature = "remote")]
fn ephemeral_keys() -> Result<(KeySet, SecretString), SetupError> {
    let invalid = |e: crate::token::TokenError| ConfigError::Invalid {
        var: "AUTH__REMOTE__ISSUER",
        reason: e.to_string(),
    };
    let (key, _) =
        crate::token::JwtKey::generate(crate::config::JwtAlgorithm::HS256).map_err(invalid)?;
    let (_, refresh) =
        crate::token::JwtKey::generate(crate::config::JwtAlgorithm::HS256).map_err(invalid)?;
    Ok((KeySet::new(key).map_err(invalid)?, refresh))
}
