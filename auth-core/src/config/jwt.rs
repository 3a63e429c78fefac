//! `[jwt]`: signing keys, algorithms, lifetimes and the verification cache.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

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
        Duration::from_secs(self.access_token_expire_minutes.saturating_mul(60))
    }

    /// Refresh-token lifetime since last use.
    #[must_use]
    pub fn refresh_token_ttl(&self) -> Duration {
        Duration::from_secs(self.refresh_token_expire_days.saturating_mul(86_400))
    }

    /// Absolute lifetime of a refresh family.
    #[must_use]
    pub fn refresh_family_ttl(&self) -> Duration {
        Duration::from_secs(self.refresh_token_max_lifetime_days.saturating_mul(86_400))
    }
}
