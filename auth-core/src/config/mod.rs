//! Typed configuration: one [`AuthConfig`] tree with safe defaults.
//!
//! Sources, later ones overriding earlier ones:
//!
//! 1. the defaults below (those of the lexigram seed: access tokens 30 minutes, refresh tokens
//!    7 days, HS256, key-rotation grace 3600 s, passwords 8 to 128 characters, Argon2id);
//! 2. an optional `auth.toml`, then an optional `auth.yaml`, in the working directory;
//! 3. environment variables `AUTH__SECTION__KEY`, double underscores separating the levels
//!    (`AUTH__JWT__SECRET_KEY` sets `jwt.secret_key`).
//!
//! The result is validated once, at load time: a weak or default secret, or a missing one in
//! production, is an error naming the variable to set. Every problem is reported at once
//! ([`ConfigError::Several`]), and a misspelt setting names the variable and the nearest real
//! one ([`ConfigError::UnknownKey`]).
//!
//! One module per section: `server` (`[server]`, `[database]`), `jwt`, `password`
//! (`[password]`, `[lockout]`), `rate_limit`, `audit`, `maintenance`, `metrics`, `session`, `redis`, `users`, `authz`, `account` (`[account]`,
//! `[mail]`); `secrets` refuses weak
//! secrets, `validate` checks the whole, `load` explains loading errors, `lifetimes` gives
//! the flows their [`Lifetimes`] as `Duration`s.
//!
//! ```
//! use auth_core::config::{AuthConfig, JwtAlgorithm};
//!
//! let config = AuthConfig::default();
//! assert_eq!(config.jwt.algorithm, JwtAlgorithm::HS256);
//! assert_eq!(config.jwt.access_token_ttl().as_secs(), 30 * 60);
//! ```

mod account;
mod audit;
mod authz;
mod bootstrap;
mod jwt;
mod ldap;
mod lifetimes;
mod load;
mod maintenance;
mod metrics;
mod mfa;
mod oidc;
mod passkeys;
mod password;
mod provider;
mod rate_limit;
mod redis;
mod remote;
mod saml;
mod secrets;
mod server;
mod session;
mod users;
mod validate;

use std::fmt;

use figment::providers::{Env, Format, Serialized, Toml, Yaml};
use figment::Figment;
use serde::{Deserialize, Serialize};

pub use self::account::{AccountConfig, MailConfig, SmtpTls};
pub use self::audit::AuditConfig;
pub use self::authz::{AuthzConfig, RoleConfig, TenantConfig, TenantFrom};
pub use self::bootstrap::BootstrapConfig;
pub use self::jwt::{JwtAlgorithm, JwtConfig, PreviousKeyConfig};
pub use self::ldap::LdapConfig;
pub use self::lifetimes::{seconds, Lifetimes, MAX_LIFETIME};
pub use self::maintenance::MaintenanceConfig;
pub use self::metrics::MetricsConfig;
pub use self::mfa::MfaConfig;
pub use self::oidc::{OidcConfig, OidcPreset, OidcProviderConfig};
pub use self::passkeys::PasskeyConfig;
pub use self::password::{LockoutConfig, PasswordConfig};
pub use self::provider::ProviderConfig;
pub use self::rate_limit::{RateLimitConfig, RouteLimits};
pub use self::redis::RedisConfig;
pub use self::remote::{RemoteConfig, RemoteMode};
pub use self::saml::{SamlConfig, SamlProviderConfig};
pub use self::server::{DatabaseConfig, ServerConfig};
pub use self::session::SessionConfig;
pub use self::users::UsersConfig;

/// Why a configuration was refused. Its `Debug` is its message, so that `main` returning
/// it prints something a person can act on.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A source could not be read or a value has the wrong type.
    #[error("could not load the configuration: {0}")]
    Load(#[from] Box<figment::Error>),
    /// A setting that does not exist (a misspelt variable or key).
    #[error("{key} is not a setting{}", suggestion.as_ref().map(|s| format!("; did you mean {s}?")).unwrap_or_default())]
    UnknownKey {
        /// The variable (`AUTH__JWT__SECRT_KEY`) or file key (`jwt.secrt_key in auth.toml`).
        key: String,
        /// The nearest setting, written the same way.
        suggestion: Option<String>,
    },
    /// More than one problem; each is reported on a line of its own.
    #[error("{} problems:\n{}", .0.len(), .0.iter().map(|e| format!("- {e}")).collect::<Vec<_>>().join("\n"))]
    Several(Vec<ConfigError>),
    /// A secret required in this environment is not set.
    #[error("{var} must be set: {reason}")]
    MissingSecret {
        /// The environment variable to set.
        var: &'static str,
        /// Why it is needed.
        reason: &'static str,
    },
    /// A secret is set but is a known default, too short, or guessable.
    #[error("{var} is too weak: {reason}; set it to at least {min_bytes} random bytes (for example `openssl rand -base64 {min_bytes}`)")]
    WeakSecret {
        /// The environment variable to change.
        var: &'static str,
        /// What is wrong with it (never the secret or a part of it).
        reason: String,
        /// The minimum length in bytes.
        min_bytes: usize,
    },
    /// A value is out of range or inconsistent with another.
    #[error("{var} is invalid: {reason}")]
    Invalid {
        /// The environment variable (or key) at fault.
        var: &'static str,
        /// What is wrong, and what to write instead.
        reason: String,
    },
}

impl fmt::Debug for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// The deployment environment. `production` refuses to start without configured secrets.
///
/// Unset (the default), missing keys are generated for a local start, and only while the
/// service listens on a loopback address: a deployment that forgot `AUTH__ENV` refuses to
/// start rather than sign with generated keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    /// Local development, chosen explicitly: missing signing keys are generated and kept in a
    /// file, whatever address the service listens on.
    Development,
    /// Automated tests; behaves like development.
    Test,
    /// Production: every secret must be configured.
    Production,
}

/// The whole configuration tree.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct AuthConfig {
    /// `AUTH__ENV`: `development`, `test` or `production`; unset by default (see
    /// [`Environment`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub env: Option<Environment>,
    /// HTTP server settings (`AUTH__SERVER__*`).
    pub server: ServerConfig,
    /// Database settings (`AUTH__DATABASE__*`).
    pub database: DatabaseConfig,
    /// Token settings (`AUTH__JWT__*`).
    pub jwt: JwtConfig,
    /// Password hashing and policy (`AUTH__PASSWORD__*`).
    pub password: PasswordConfig,
    /// Session settings (`AUTH__SESSION__*`).
    pub session: SessionConfig,
    /// Account lockout (`AUTH__LOCKOUT__*`).
    pub lockout: LockoutConfig,
    /// Rate limits of the auth routes (`AUTH__RATE_LIMIT__*`).
    pub rate_limit: RateLimitConfig,
    /// The audit log (`AUTH__AUDIT__*`).
    pub audit: AuditConfig,
    /// The scheduled purge of ended state (`AUTH__MAINTENANCE__*`).
    pub maintenance: MaintenanceConfig,
    /// The Prometheus endpoint (`AUTH__METRICS__*`).
    pub metrics: MetricsConfig,
    /// Second factors (`AUTH__MFA__*`).
    pub mfa: MfaConfig,
    /// Passkeys (`AUTH__PASSKEYS__*`).
    pub passkeys: PasskeyConfig,
    /// The authorization server (`AUTH__PROVIDER__*`, feature `provider`).
    pub provider: ProviderConfig,
    /// The remote auth service a resource server trusts (`AUTH__REMOTE__*`, feature
    /// `remote`).
    pub remote: RemoteConfig,
    /// Signing in with other providers (`AUTH__OIDC__*`, feature `oidc`).
    pub oidc: OidcConfig,
    /// Signing in with a directory account (`AUTH__LDAP__*`, feature `ldap`).
    pub ldap: LdapConfig,
    /// Signing in through SAML 2.0 identity providers (`AUTH__SAML__*`, feature `saml`).
    pub saml: SamlConfig,
    /// Redis, for state shared between instances (`AUTH__REDIS__*`).
    pub redis: RedisConfig,
    /// Defaults for new users (`AUTH__USERS__*`).
    pub users: UsersConfig,
    /// Roles defined in configuration (`[authz.roles.<name>]` in `auth.toml`).
    pub authz: AuthzConfig,
    /// Account recovery (`AUTH__ACCOUNT__*`).
    pub account: AccountConfig,
    /// Where mail goes (`AUTH__MAIL__*`).
    pub mail: MailConfig,
    /// The first admin (`AUTH__BOOTSTRAP__*`).
    pub bootstrap: BootstrapConfig,
}

impl AuthConfig {
    /// The sources in order: defaults, `auth.toml`, `auth.yaml`, `AUTH__*` variables.
    #[must_use]
    pub fn figment() -> Figment {
        Figment::from(Serialized::defaults(Self::default()))
            .merge(Toml::file("auth.toml"))
            .merge(Yaml::file("auth.yaml"))
            .merge(Env::prefixed("AUTH__").split("__"))
    }

    /// Loads from the default sources and validates.
    pub fn load() -> Result<Self, ConfigError> {
        Self::from_figment(Self::figment())
    }

    /// Extracts from any figment (tests, embedding) and validates.
    ///
    /// # Errors
    /// [`ConfigError`]: an unknown setting names the variable and the nearest real one;
    /// otherwise as [`validate`](Self::validate).
    pub fn from_figment(figment: Figment) -> Result<Self, ConfigError> {
        let config: Self = figment.extract().map_err(load::load_error)?;
        config.validate()?;
        Ok(config)
    }

    /// Whether `AUTH__ENV` is `production`.
    #[must_use]
    pub fn is_production(&self) -> bool {
        self.env == Some(Environment::Production)
    }
}
