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
//! production, is an error naming the variable to set.
//!
//! ```
//! use auth_core::config::{AuthConfig, JwtAlgorithm};
//!
//! let config = AuthConfig::default();
//! assert_eq!(config.jwt.algorithm, JwtAlgorithm::HS256);
//! assert_eq!(config.jwt.access_token_ttl().as_secs(), 30 * 60);
//! ```

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use figment::providers::{Env, Format, Serialized, Toml, Yaml};
use figment::Figment;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

/// Why a configuration was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A source could not be read or a value has the wrong type.
    #[error("could not load the configuration: {0}")]
    Load(#[from] Box<figment::Error>),
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
    /// Redis, for state shared between instances (`AUTH__REDIS__*`).
    pub redis: RedisConfig,
    /// Defaults for new users (`AUTH__USERS__*`).
    pub users: UsersConfig,
    /// Roles defined in configuration (`[authz.roles.<name>]` in `auth.toml`).
    pub authz: AuthzConfig,
}

/// HTTP server settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct ServerConfig {
    /// `AUTH__SERVER__BIND`: listen address. Default `127.0.0.1:8080`.
    pub bind: String,
    /// `AUTH__SERVER__BODY_LIMIT_BYTES`: largest accepted request body on auth routes. Default 16 KiB.
    pub body_limit_bytes: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:8080".to_owned(),
            body_limit_bytes: 16 * 1024,
        }
    }
}

impl ServerConfig {
    /// The parsed listen address.
    pub fn bind_addr(&self) -> Result<SocketAddr, ConfigError> {
        self.bind.parse().map_err(|_| ConfigError::Invalid {
            var: "AUTH__SERVER__BIND",
            reason: format!(
                "`{}` is not a socket address; write it as `127.0.0.1:8080`",
                self.bind
            ),
        })
    }
}

/// Database settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct DatabaseConfig {
    /// `AUTH__DATABASE__URL`: `sqlite://path.db` (created if missing) or `postgres://...`.
    /// Default `sqlite://auth.db`.
    pub url: String,
    /// `AUTH__DATABASE__MAX_CONNECTIONS`: pool size. Default 10.
    pub max_connections: u32,
    /// `AUTH__DATABASE__ACQUIRE_TIMEOUT_SECONDS`: how long a request waits for a connection
    /// before the store is reported unavailable. Default 5.
    pub acquire_timeout_seconds: u64,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            url: "sqlite://auth.db".to_owned(),
            max_connections: 10,
            acquire_timeout_seconds: 5,
        }
    }
}

/// Signature algorithms supported for access tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub enum JwtAlgorithm {
    /// HMAC with SHA-256 (shared secret).
    #[default]
    HS256,
    /// HMAC with SHA-384 (shared secret).
    HS384,
    /// HMAC with SHA-512 (shared secret).
    HS512,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RS256,
    /// ECDSA on P-256 with SHA-256.
    ES256,
    /// Ed25519.
    EdDSA,
}

impl JwtAlgorithm {
    /// Whether this is a shared-secret (HMAC) algorithm.
    #[must_use]
    pub fn is_hmac(self) -> bool {
        matches!(self, Self::HS256 | Self::HS384 | Self::HS512)
    }

    /// The variable that configures the signing key for this algorithm.
    #[must_use]
    pub fn key_variable(self) -> &'static str {
        if self.is_hmac() {
            "AUTH__JWT__SECRET_KEY"
        } else {
            "AUTH__JWT__PRIVATE_KEY_FILE"
        }
    }

    /// Minimum HMAC key length: the hash output size (RFC 7518 section 3.2).
    #[must_use]
    pub fn min_secret_bytes(self) -> usize {
        match self {
            Self::HS384 => 48,
            Self::HS512 => 64,
            _ => 32,
        }
    }

    /// The `alg` header value.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::HS256 => "HS256",
            Self::HS384 => "HS384",
            Self::HS512 => "HS512",
            Self::RS256 => "RS256",
            Self::ES256 => "ES256",
            Self::EdDSA => "EdDSA",
        }
    }
}

impl fmt::Display for JwtAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A key that no longer signs but is still accepted until its grace period ends.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct PreviousKeyConfig {
    /// The key's algorithm.
    pub algorithm: JwtAlgorithm,
    /// The key id the tokens carry; derived from the key when absent.
    #[serde(default)]
    pub key_id: Option<String>,
    /// The HMAC secret, for HS* keys.
    #[serde(default, skip_serializing)]
    pub secret_key: Option<SecretString>,
    /// The public key (PEM, SPKI) for asymmetric keys.
    #[serde(default)]
    pub public_key: Option<String>,
    /// When the key stopped signing (seconds since the Unix epoch). Tokens signed with it are
    /// accepted until `retired_at + key_rotation_grace_period_seconds`.
    pub retired_at: i64,
}

/// Token settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct JwtConfig {
    /// `AUTH__JWT__ALGORITHM`: `HS256` (default), `HS384`, `HS512`, `RS256`, `ES256` or `EdDSA`.
    pub algorithm: JwtAlgorithm,
    /// `AUTH__JWT__SECRET_KEY`: the HMAC secret for HS* algorithms (at least the hash size).
    #[serde(skip_serializing)]
    pub secret_key: Option<SecretString>,
    /// `AUTH__JWT__PRIVATE_KEY`: the signing key for RS256/ES256/EdDSA, as PKCS#8 PEM text.
    #[serde(skip_serializing)]
    pub private_key: Option<SecretString>,
    /// `AUTH__JWT__PRIVATE_KEY_FILE`: the same, read from a file.
    pub private_key_file: Option<PathBuf>,
    /// `AUTH__JWT__KEY_ID`: the `kid` of the signing key; derived from the key when absent.
    pub key_id: Option<String>,
    /// Keys that were rotated out and are still accepted for a grace period.
    pub previous_keys: Vec<PreviousKeyConfig>,
    /// `AUTH__JWT__KEYS_FILE`: where development keys are generated and kept. Default
    /// `auth-keys.json`. Never used in production.
    pub keys_file: PathBuf,
    /// `AUTH__JWT__REFRESH_TOKEN_SECRET`: server secret binding a refresh token to its successor
    /// (at least 32 bytes). Generated in development.
    #[serde(skip_serializing)]
    pub refresh_token_secret: Option<SecretString>,
    /// `AUTH__JWT__ACCESS_TOKEN_EXPIRE_MINUTES`: access-token lifetime. Default 30.
    pub access_token_expire_minutes: u64,
    /// `AUTH__JWT__REFRESH_TOKEN_EXPIRE_DAYS`: refresh-token lifetime since its last use. Default 7.
    pub refresh_token_expire_days: u64,
    /// `AUTH__JWT__REFRESH_TOKEN_MAX_LIFETIME_DAYS`: absolute lifetime of a login (refresh
    /// family), however often it is refreshed. Default 30.
    pub refresh_token_max_lifetime_days: u64,
    /// `AUTH__JWT__REFRESH_REUSE_GRACE_SECONDS`: window in which concurrent uses of the same
    /// refresh token get the same successor instead of counting as reuse. Default 10.
    pub refresh_reuse_grace_seconds: u64,
    /// `AUTH__JWT__ISSUER`: the `iss` claim; when set, tokens without it are refused.
    pub issuer: Option<String>,
    /// `AUTH__JWT__AUDIENCE`: the `aud` claim; when set, tokens without it are refused.
    pub audience: Option<String>,
    /// `AUTH__JWT__LEEWAY_SECONDS`: clock-skew allowance for `exp`/`nbf`/`iat`. Default 30, at most 60.
    pub leeway_seconds: u64,
    /// `AUTH__JWT__KEY_ROTATION_GRACE_PERIOD_SECONDS`: how long a retired key is still accepted.
    /// Default 3600.
    pub key_rotation_grace_period_seconds: u64,
    /// `AUTH__JWT__MAX_TOKEN_BYTES`: tokens longer than this are refused before parsing. Default 8192.
    pub max_token_bytes: usize,
    /// `AUTH__JWT__VERIFY_CACHE_ENTRIES`: how many verified access tokens are remembered, so
    /// that a token presented again is not verified again (its expiry still is, and
    /// revocation is checked on every request). Default 4096 (about 4 MiB); 0 turns it off.
    pub verify_cache_entries: usize,
    /// `AUTH__JWT__INCLUDE_ROLES`: put the user's roles in access tokens. Default true.
    pub include_roles: bool,
    /// `AUTH__JWT__INCLUDE_PERMISSIONS`: put the user's direct permissions in access tokens. Default true.
    pub include_permissions: bool,
}

impl Default for JwtConfig {
    fn default() -> Self {
        Self {
            algorithm: JwtAlgorithm::HS256,
            secret_key: None,
            private_key: None,
            private_key_file: None,
            key_id: None,
            previous_keys: Vec::new(),
            keys_file: PathBuf::from("auth-keys.json"),
            refresh_token_secret: None,
            access_token_expire_minutes: 30,
            refresh_token_expire_days: 7,
            refresh_token_max_lifetime_days: 30,
            refresh_reuse_grace_seconds: 10,
            issuer: None,
            audience: None,
            leeway_seconds: 30,
            key_rotation_grace_period_seconds: 3600,
            max_token_bytes: 8192,
            verify_cache_entries: 4096,
            include_roles: true,
            include_permissions: true,
        }
    }
}

impl JwtConfig {
    /// Access-token lifetime.
    #[must_use]
    pub fn access_token_ttl(&self) -> Duration {
        Duration::from_secs(self.access_token_expire_minutes * 60)
    }

    /// Refresh-token lifetime since last use.
    #[must_use]
    pub fn refresh_token_ttl(&self) -> Duration {
        Duration::from_secs(self.refresh_token_expire_days * 86_400)
    }

    /// Absolute lifetime of a refresh family.
    #[must_use]
    pub fn refresh_family_ttl(&self) -> Duration {
        Duration::from_secs(self.refresh_token_max_lifetime_days * 86_400)
    }
}

/// Password hashing (Argon2id) and policy.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct PasswordConfig {
    /// `AUTH__PASSWORD__MIN_LENGTH`: minimum length in characters. Default 8.
    pub min_length: usize,
    /// `AUTH__PASSWORD__MAX_LENGTH`: maximum length in characters, refused before hashing. Default 128.
    pub max_length: usize,
    /// `AUTH__PASSWORD__MEMORY_KIB`: Argon2id memory cost. Default 19456 (19 MiB, OWASP).
    pub memory_kib: u32,
    /// `AUTH__PASSWORD__ITERATIONS`: Argon2id time cost. Default 2 (OWASP).
    pub iterations: u32,
    /// `AUTH__PASSWORD__PARALLELISM`: Argon2id lanes. Default 1 (OWASP).
    pub parallelism: u32,
    /// `AUTH__PASSWORD__MAX_MEMORY_KIB`: the most memory a *stored* hash may ask for; a hash
    /// asking for more is refused instead of verified. Default 262144 (256 MiB).
    pub max_memory_kib: u32,
    /// `AUTH__PASSWORD__MAX_ITERATIONS`: the most iterations a stored hash may ask for. Default 16.
    pub max_iterations: u32,
    /// `AUTH__PASSWORD__MAX_PARALLELISM`: the most lanes a stored hash may ask for. Default 16.
    pub max_parallelism: u32,
    /// `AUTH__PASSWORD__MAX_CONCURRENT_HASHES`: hashes computed at once; default the CPU count.
    pub max_concurrent_hashes: Option<usize>,
    /// `AUTH__PASSWORD__MAX_QUEUED_HASHES`: hashes that may wait for one of those slots; any
    /// more are refused at once (503 `overloaded`) instead of queueing without bound. Default
    /// four per slot.
    pub max_queued_hashes: Option<usize>,
    /// `AUTH__PASSWORD__HASH_THREAD_NICE`: the nice value of the hashing threads on Linux
    /// (0 to 19). Default 10: cheap requests get the CPU before password hashing does. 0
    /// keeps the process's priority.
    pub hash_thread_nice: i32,
}

impl Default for PasswordConfig {
    fn default() -> Self {
        Self {
            min_length: 8,
            max_length: 128,
            memory_kib: 19_456,
            iterations: 2,
            parallelism: 1,
            max_memory_kib: 262_144,
            max_iterations: 16,
            max_parallelism: 16,
            max_concurrent_hashes: None,
            max_queued_hashes: None,
            hash_thread_nice: 10,
        }
    }
}

/// Session settings (used by the session layer).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct SessionConfig {
    /// `AUTH__SESSION__TIMEOUT_MINUTES`: inactivity timeout. Default 60.
    pub timeout_minutes: u64,
    /// `AUTH__SESSION__COOKIE_NAME`: cookie name. Default `session`.
    pub cookie_name: String,
    /// `AUTH__SESSION__COOKIE_SECURE`: `Secure` cookie attribute. Default true.
    pub cookie_secure: bool,
    /// `AUTH__SESSION__COOKIE_HTTPONLY`: `HttpOnly` cookie attribute. Default true.
    pub cookie_httponly: bool,
    /// `AUTH__SESSION__MAX_SESSIONS_PER_USER`: concurrent sessions per user; unlimited when unset.
    pub max_sessions_per_user: Option<u32>,
    /// `AUTH__SESSION__ALLOWED_ORIGINS`: origins (`https://app.example.com`) besides the
    /// service's own host that may send state-changing requests with the session cookie.
    pub allowed_origins: Vec<String>,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            timeout_minutes: 60,
            cookie_name: "session".to_owned(),
            cookie_secure: true,
            cookie_httponly: true,
            max_sessions_per_user: None,
            allowed_origins: Vec::new(),
        }
    }
}

impl SessionConfig {
    /// The session cookie's name: `__Host-<cookie_name>` when `Secure` (the prefix makes
    /// browsers refuse it from subdomains or without `Secure`, `Path=/`), the bare name
    /// otherwise (plain-HTTP development).
    #[must_use]
    pub fn session_cookie(&self) -> String {
        self.prefixed(&self.cookie_name)
    }

    /// The CSRF cookie's name (`__Host-csrf`, or `csrf` without `Secure`).
    #[must_use]
    pub fn csrf_cookie(&self) -> String {
        self.prefixed("csrf")
    }

    fn prefixed(&self, name: &str) -> String {
        if self.cookie_secure {
            format!("__Host-{name}")
        } else {
            name.to_owned()
        }
    }
}

/// Account lockout settings (used by the account-security layer).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct LockoutConfig {
    /// `AUTH__LOCKOUT__MAX_ATTEMPTS`: failed logins before a lockout. Default 5.
    pub max_attempts: u32,
    /// `AUTH__LOCKOUT__LOCKOUT_MINUTES`: lockout duration. Default 15.
    pub lockout_minutes: u64,
}

impl Default for LockoutConfig {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            lockout_minutes: 15,
        }
    }
}

/// Redis settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct RedisConfig {
    /// `AUTH__REDIS__URL`: `redis://127.0.0.1:6379`; shared state stays in SQL when unset.
    pub url: Option<String>,
    /// `AUTH__REDIS__PREFIX`: prefix of every key and channel this service uses, so several
    /// services can share one Redis. Default `auth:`.
    pub prefix: String,
}

impl Default for RedisConfig {
    fn default() -> Self {
        Self {
            url: None,
            prefix: "auth:".to_owned(),
        }
    }
}

impl RedisConfig {
    /// The pub/sub channel instances announce changes on: `<prefix>changes`.
    #[must_use]
    pub fn changes_channel(&self) -> String {
        format!("{}changes", self.prefix)
    }
}

/// Defaults for new users.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct UsersConfig {
    /// `AUTH__USERS__DEFAULT_ROLES`: roles given to a user at registration. Default `["user"]`.
    pub default_roles: Vec<String>,
}

impl Default for UsersConfig {
    fn default() -> Self {
        Self {
            default_roles: vec!["user".to_owned()],
        }
    }
}

/// Authorization settings.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct AuthzConfig {
    /// Roles by name, composed with the roles of a `#[derive(Roles)]` enum and of the store:
    ///
    /// ```toml
    /// [authz.roles.editor]
    /// inherits = ["viewer"]
    /// permissions = ["articles.write"]
    /// ```
    pub roles: std::collections::BTreeMap<String, RoleConfig>,
    /// Where tenant guards (`#[require_tenant_roles]`) find the request's tenant.
    pub tenant: TenantConfig,
    /// `AUTH__AUTHZ__MODEL`: a casbin model file for the policy engine. Default: RBAC with
    /// domains (`g, user, role, tenant`), which tenant guards read.
    pub model: Option<std::path::PathBuf>,
}

/// Where a request names its tenant.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TenantFrom {
    /// The access token's `tenant` claim (the default).
    #[default]
    Token,
    /// A request header.
    Header,
    /// A path parameter of the route.
    Path,
}

/// `[authz.tenant]`: where tenant guards find the request's tenant.
///
/// ```toml
/// [authz.tenant]
/// from = "header"      # token (default) | header | path
/// name = "x-tenant-id" # the header or path parameter; defaults `x-tenant-id` and `tenant`
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct TenantConfig {
    /// `AUTH__AUTHZ__TENANT__FROM`: `token`, `header` or `path`.
    pub from: TenantFrom,
    /// `AUTH__AUTHZ__TENANT__NAME`: the header or path parameter name.
    pub name: Option<String>,
}

impl TenantConfig {
    /// Tenants from the access token's `tenant` claim.
    #[must_use]
    pub fn token() -> Self {
        Self::default()
    }

    /// Tenants from the header `name`.
    #[must_use]
    pub fn header(name: impl Into<String>) -> Self {
        Self {
            from: TenantFrom::Header,
            name: Some(name.into()),
        }
    }

    /// Tenants from the path parameter `name`.
    #[must_use]
    pub fn path(name: impl Into<String>) -> Self {
        Self {
            from: TenantFrom::Path,
            name: Some(name.into()),
        }
    }

    /// The header or path parameter name, with its default.
    #[must_use]
    pub fn name(&self) -> &str {
        match (&self.name, self.from) {
            (Some(name), _) => name,
            (None, TenantFrom::Header) => "x-tenant-id",
            (None, _) => "tenant",
        }
    }
}

/// One role in configuration.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct RoleConfig {
    /// Roles it inherits from.
    pub inherits: Vec<String>,
    /// Permissions it grants (wildcards allowed).
    pub permissions: Vec<String>,
}

impl AuthzConfig {
    /// The configured roles as a hierarchy.
    ///
    /// # Errors
    /// [`RoleError`](crate::authz::RoleError) for a cycle or an unknown parent.
    pub fn hierarchy(&self) -> Result<crate::authz::RoleHierarchy, crate::authz::RoleError> {
        let mut builder = crate::authz::RoleHierarchy::builder();
        for (name, role) in &self.roles {
            let inherits: Vec<&str> = role.inherits.iter().map(String::as_str).collect();
            let permissions: Vec<&str> = role.permissions.iter().map(String::as_str).collect();
            builder = builder.role(name, &inherits, &permissions);
        }
        builder.build()
    }
}

/// Values that ship in tutorials and templates; never accepted as a secret.
const KNOWN_WEAK_SECRETS: &[&str] = &[
    "change-me",
    "changeme",
    "change_me",
    "secret",
    "your-secret-key",
    "your_secret_key",
    "supersecret",
    "password",
    "default",
    "development",
    "test",
    "jwt-secret",
];

/// The fewest guesses (as a power of ten) a secret's estimate must reach: 10^18, about 60
/// bits. zxcvbn counts at most 2^64 guesses, and every random secret of the required length
/// reaches that cap; a secret made of words, repeats, sequences or keyboard rows does not.
const MIN_SECRET_GUESSES_LOG10: f64 = 18.0;

/// Refuses known defaults, placeholders, short secrets, and secrets an attacker would guess:
/// the estimate is zxcvbn's (Dropbox's password-strength estimator, as NIST SP 800-63B
/// section 5.1.1.2 suggests checking against patterns and dictionaries), which finds
/// repeats (`passwordpassword...`), sequences (`0123456789abcdef...`), keyboard rows and
/// dictionary words. The error gives the estimate and the kinds of pattern found, never the
/// secret or a part of it.
pub(crate) fn check_secret(
    var: &'static str,
    secret: &str,
    min_bytes: usize,
) -> Result<(), ConfigError> {
    let normalized = secret.trim().to_ascii_lowercase();
    let weak = |reason: String| {
        Err(ConfigError::WeakSecret {
            var,
            reason,
            min_bytes,
        })
    };
    if KNOWN_WEAK_SECRETS.contains(&normalized.as_str())
        || normalized.contains("change-me")
        || normalized.contains("changeme")
        || normalized.contains("your-secret")
    {
        return weak("it is a well-known default or placeholder".to_owned());
    }
    if secret.len() < min_bytes {
        return weak("it is too short".to_owned());
    }
    let mut chars = secret.chars();
    if let Some(first) = chars.next() {
        if chars.all(|c| c == first) {
            return weak("it repeats a single character".to_owned());
        }
    }
    let estimate = zxcvbn::zxcvbn(secret, &[]);
    let guesses = estimate.guesses_log10();
    if guesses < MIN_SECRET_GUESSES_LOG10 {
        return weak(format!(
            "it follows a pattern ({}) and would fall to about 10^{guesses:.0} guesses \
             (about {bits:.0} bits; a random secret of this length is beyond 10^19)",
            patterns(&estimate),
            bits = guesses * std::f64::consts::LOG2_10,
        ));
    }
    Ok(())
}

/// The kinds of pattern zxcvbn found, for the error (no part of the secret).
fn patterns(estimate: &zxcvbn::Entropy) -> String {
    use zxcvbn::matching::patterns::MatchPattern;
    let mut kinds: Vec<&str> = Vec::new();
    for found in estimate.sequence() {
        let kind = match found.pattern {
            MatchPattern::Dictionary(_) => "words",
            MatchPattern::Spatial(_) => "keyboard rows",
            MatchPattern::Repeat(_) => "repetition",
            MatchPattern::Sequence(_) => "a sequence",
            MatchPattern::Regex(_) | MatchPattern::Date(_) => "dates or years",
            MatchPattern::BruteForce => continue,
        };
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    if kinds.is_empty() {
        "too little variety".to_owned()
    } else {
        kinds.join(", ")
    }
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
    pub fn from_figment(figment: Figment) -> Result<Self, ConfigError> {
        let config: Self = figment.extract().map_err(Box::new)?;
        config.validate()?;
        Ok(config)
    }

    /// Whether `AUTH__ENV` is `production`.
    #[must_use]
    pub fn is_production(&self) -> bool {
        self.env == Some(Environment::Production)
    }

    /// Checks ranges and secrets. In production every secret must be configured.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.server.bind_addr()?;
        let jwt = &self.jwt;
        let production = self.is_production();
        if jwt.algorithm.is_hmac() {
            match &jwt.secret_key {
                Some(secret) => check_secret(
                    "AUTH__JWT__SECRET_KEY",
                    secret.expose_secret(),
                    jwt.algorithm.min_secret_bytes(),
                )?,
                None if production => {
                    return Err(ConfigError::MissingSecret {
                        var: "AUTH__JWT__SECRET_KEY",
                        reason: "production needs a configured HMAC signing secret",
                    })
                }
                None => {}
            }
        } else if production && jwt.private_key.is_none() && jwt.private_key_file.is_none() {
            return Err(ConfigError::MissingSecret {
                var: "AUTH__JWT__PRIVATE_KEY_FILE",
                reason: "production needs a configured signing key (PKCS#8 PEM) for asymmetric algorithms",
            });
        }
        match &jwt.refresh_token_secret {
            Some(secret) => check_secret(
                "AUTH__JWT__REFRESH_TOKEN_SECRET",
                secret.expose_secret(),
                32,
            )?,
            None if production => {
                return Err(ConfigError::MissingSecret {
                    var: "AUTH__JWT__REFRESH_TOKEN_SECRET",
                    reason: "production needs a configured refresh-token secret",
                })
            }
            None => {}
        }
        for previous in &jwt.previous_keys {
            if let Some(secret) = &previous.secret_key {
                check_secret(
                    "jwt.previous_keys.secret_key",
                    secret.expose_secret(),
                    previous.algorithm.min_secret_bytes(),
                )?;
            }
        }
        let invalid = |var, reason: &str| {
            Err(ConfigError::Invalid {
                var,
                reason: reason.to_owned(),
            })
        };
        if jwt.leeway_seconds > 60 {
            return invalid("AUTH__JWT__LEEWAY_SECONDS", "must be at most 60");
        }
        // A longer window would let a stolen refresh token be replayed that long after its
        // owner used it without tripping reuse detection.
        if jwt.refresh_reuse_grace_seconds > 60 {
            return invalid(
                "AUTH__JWT__REFRESH_REUSE_GRACE_SECONDS",
                "must be at most 60",
            );
        }
        if jwt.access_token_expire_minutes == 0 {
            return invalid(
                "AUTH__JWT__ACCESS_TOKEN_EXPIRE_MINUTES",
                "must be at least 1",
            );
        }
        if jwt.refresh_token_expire_days == 0 {
            return invalid("AUTH__JWT__REFRESH_TOKEN_EXPIRE_DAYS", "must be at least 1");
        }
        if jwt.max_token_bytes < 256 {
            return invalid("AUTH__JWT__MAX_TOKEN_BYTES", "must be at least 256");
        }
        let pw = &self.password;
        if pw.min_length == 0 || pw.max_length < pw.min_length || pw.max_length > 4096 {
            return invalid(
                "AUTH__PASSWORD__MAX_LENGTH",
                "need 1 <= AUTH__PASSWORD__MIN_LENGTH <= AUTH__PASSWORD__MAX_LENGTH <= 4096",
            );
        }
        if pw.memory_kib > pw.max_memory_kib
            || pw.iterations > pw.max_iterations
            || pw.parallelism > pw.max_parallelism
        {
            return invalid("AUTH__PASSWORD__MEMORY_KIB", "the Argon2 parameters exceed the configured caps (max_memory_kib, max_iterations, max_parallelism)");
        }
        if !(0..=19).contains(&pw.hash_thread_nice) {
            return invalid(
                "AUTH__PASSWORD__HASH_THREAD_NICE",
                "must be between 0 and 19",
            );
        }
        if pw.max_concurrent_hashes == Some(0) {
            return invalid(
                "AUTH__PASSWORD__MAX_CONCURRENT_HASHES",
                "must be at least 1",
            );
        }
        if let Err(e) = self.authz.hierarchy() {
            return Err(ConfigError::Invalid {
                var: "authz.roles",
                reason: e.to_string(),
            });
        }
        if self.database.url.trim().is_empty() {
            return invalid(
                "AUTH__DATABASE__URL",
                "write `sqlite://auth.db` or `postgres://user@host/db`",
            );
        }
        Ok(())
    }
}
