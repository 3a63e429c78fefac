//! `[remote]`: a resource server trusting a remote auth service (feature `remote`).

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

/// How a resource server checks the remote auth service's tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum RemoteMode {
    /// Verifies signatures with the issuer's published keys (`/.well-known/jwks.json`),
    /// fetched once and again for an unknown key id: no call per request, but a revoked
    /// token passes until it expires.
    #[default]
    Jwks,
    /// Asks the issuer (`/oauth/introspect`, as a registered client) and keeps the answer a
    /// few seconds: revocations are seen within that time.
    Introspection,
}

/// The remote auth service a resource server trusts.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct RemoteConfig {
    /// `AUTH__REMOTE__ISSUER`: the auth service's issuer URL (its `AUTH__PROVIDER__ISSUER`).
    /// Unset: tokens are this service's own.
    pub issuer: Option<String>,
    /// `AUTH__REMOTE__MODE`: `jwks` (default) or `introspection`.
    pub mode: RemoteMode,
    /// `AUTH__REMOTE__CLIENT_ID`: this resource server's client id at the issuer
    /// (introspection).
    pub client_id: Option<String>,
    /// `AUTH__REMOTE__CLIENT_SECRET`: its secret.
    #[serde(skip_serializing)]
    pub client_secret: Option<SecretString>,
    /// `AUTH__REMOTE__AUDIENCE`: when set, tokens must name it in `aud`.
    pub audience: Option<String>,
    /// `AUTH__REMOTE__CACHE_SECONDS`: how long an introspection answer is reused. Default 10.
    pub cache_seconds: u64,
    /// `AUTH__REMOTE__REFRESH_COOLDOWN_SECONDS`: the least time between two fetches of the
    /// key set for unknown key ids (a flood of made-up `kid`s costs one fetch). Default 30.
    pub refresh_cooldown_seconds: u64,
    /// `AUTH__REMOTE__TIMEOUT_SECONDS`: how long a call to the issuer may take. Default 5.
    pub timeout_seconds: u64,
}

impl Default for RemoteConfig {
    fn default() -> Self {
        Self {
            issuer: None,
            mode: RemoteMode::Jwks,
            client_id: None,
            client_secret: None,
            audience: None,
            cache_seconds: 10,
            refresh_cooldown_seconds: 30,
            timeout_seconds: 5,
        }
    }
}
