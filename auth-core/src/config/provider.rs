//! `[provider]`: the authorization server (feature `provider`).

use serde::{Deserialize, Serialize};

/// The authorization server: who it is, who registers clients, how long its codes live.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct ProviderConfig {
    /// `AUTH__PROVIDER__ISSUER`: the issuer identifier, the public URL of this service
    /// (`https://auth.example.com`), which discovery, ID tokens and clients agree on. Default
    /// `AUTH__JWT__ISSUER`, else `http://localhost:8080`.
    pub issuer: Option<String>,
    /// `AUTH__PROVIDER__ADMIN_ROLE`: the role whose holders may register clients
    /// (`POST /oauth/register`). Default `admin`.
    pub admin_role: String,
    /// `AUTH__PROVIDER__CODE_SECONDS`: how long an authorization code may wait for its
    /// exchange. Default 60 (RFC 6749 recommends at most ten minutes).
    pub code_seconds: u64,
    /// `AUTH__PROVIDER__AUTHORIZE_MINUTES`: how long the sign-in and consent page of an
    /// authorization request stays usable. Default 10.
    pub authorize_minutes: u64,
}

impl Default for ProviderConfig {
    fn default() -> Self {
        Self {
            issuer: None,
            admin_role: "admin".to_owned(),
            code_seconds: 60,
            authorize_minutes: 10,
        }
    }
}

impl ProviderConfig {
    /// The issuer: `issuer`, else `jwt_issuer`, else `http://localhost:8080`, without a
    /// trailing slash.
    #[must_use]
    pub fn issuer_or(&self, jwt_issuer: Option<&str>) -> String {
        self.issuer
            .as_deref()
            .or(jwt_issuer)
            .unwrap_or("http://localhost:8080")
            .trim_end_matches('/')
            .to_owned()
    }
}
