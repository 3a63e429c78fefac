//! `[oidc]`: signing in with an account of another provider (feature `oidc`): Google,
//! GitHub, Microsoft, or any OpenID Connect issuer by discovery.

use std::collections::BTreeMap;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

/// What a provider speaks, and where its endpoints are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum OidcPreset {
    /// Google: OpenID Connect at `https://accounts.google.com`.
    Google,
    /// GitHub: OAuth 2 and its user API (GitHub has no ID tokens); `api_url` and the two
    /// endpoint settings point it at a GitHub Enterprise Server.
    Github,
    /// Microsoft Entra ID: OpenID Connect at
    /// `https://login.microsoftonline.com/{tenant}/v2.0` (`tenant` required: a tenant's
    /// tokens name it in `iss`, so the multi-tenant `common` cannot be verified).
    Microsoft,
    /// Any OpenID Connect issuer, found by discovery at `{issuer}/.well-known/openid-configuration`.
    Oidc,
}

/// One provider (`[oidc.providers.<name>]`; `AUTH__OIDC__PROVIDERS__<NAME>__*`). Its name
/// is in its routes: `/auth/oauth/<name>/authorize` and `/auth/oauth/<name>/callback`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct OidcProviderConfig {
    /// `PRESET`: `google`, `github`, `microsoft` or `oidc`. Unset: the preset of the
    /// provider's name when it is one of the first three, else `oidc`.
    pub preset: Option<OidcPreset>,
    /// `ISSUER`: the issuer URL of an `oidc` provider (`https://idp.example.com/realms/x`);
    /// HTTPS, or HTTP on a loopback address for tests.
    pub issuer: Option<String>,
    /// `TENANT`: the Microsoft tenant (its id or a verified domain).
    pub tenant: Option<String>,
    /// `CLIENT_ID`: this service's client id at the provider.
    pub client_id: String,
    /// `CLIENT_SECRET`: its secret.
    #[serde(skip_serializing)]
    pub client_secret: Option<SecretString>,
    /// `SCOPES`: what to ask for. Default `openid email profile` (GitHub: `read:user
    /// user:email`).
    pub scopes: Option<Vec<String>>,
    /// `DISPLAY_NAME`: the name a sign-in page shows ("Sign in with ..."). Default: the
    /// preset's (`Google`, `GitHub`, `Microsoft`), else the provider's name.
    pub display_name: Option<String>,
    /// `TRUST_EMAIL`: whether an address this provider asserts as verified may sign in the
    /// existing account that has it (linking the provider account to it). Default false:
    /// the account's owner signs in and links explicitly. Turn it on only for a provider
    /// that owns the addresses it vouches for (Google for Gmail, a company's own IdP).
    pub trust_email: bool,
    /// `ALLOW_SIGNUP`: whether a provider account that matches no user creates one. Default
    /// true.
    pub allow_signup: bool,
    /// `AUTHORIZATION_URL`: GitHub Enterprise's authorization endpoint.
    pub authorization_url: Option<String>,
    /// `TOKEN_URL`: GitHub Enterprise's token endpoint.
    pub token_url: Option<String>,
    /// `API_URL`: GitHub Enterprise's API (`https://github.example.com/api/v3`).
    pub api_url: Option<String>,
}

impl Default for OidcProviderConfig {
    fn default() -> Self {
        Self {
            preset: None,
            issuer: None,
            tenant: None,
            client_id: String::new(),
            client_secret: None,
            scopes: None,
            display_name: None,
            trust_email: false,
            allow_signup: true,
            authorization_url: None,
            token_url: None,
            api_url: None,
        }
    }
}

impl OidcProviderConfig {
    /// The preset of the provider named `name`: the configured one, else the one of its name.
    #[must_use]
    pub fn preset_of(&self, name: &str) -> OidcPreset {
        self.preset.unwrap_or(match name {
            "google" => OidcPreset::Google,
            "github" => OidcPreset::Github,
            "microsoft" => OidcPreset::Microsoft,
            _ => OidcPreset::Oidc,
        })
    }
}

/// The providers, and how their sign-ins go.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct OidcConfig {
    /// `AUTH__OIDC__REDIRECT_BASE`: this service's public URL, which the providers redirect
    /// back to (`{base}/auth/oauth/<name>/callback`, registered at each provider). Default
    /// `AUTH__PROVIDER__ISSUER`, else `AUTH__JWT__ISSUER`, else `http://localhost:8080`.
    pub redirect_base: Option<String>,
    /// `AUTH__OIDC__STATE_MINUTES`: how long a sign-in may take at the provider. Default 10.
    pub state_minutes: u64,
    /// `AUTH__OIDC__DEFAULT_RETURN_TO`: where a browser goes after signing in when the
    /// sign-in named no `return_to`. Default `/`.
    pub default_return_to: String,
    /// `AUTH__OIDC__TIMEOUT_SECONDS`: how long a call to a provider may take. Default 10.
    pub timeout_seconds: u64,
    /// `AUTH__OIDC__REFRESH_COOLDOWN_SECONDS`: the least time between two fetches of a
    /// provider's key set for unknown key ids. Default 30.
    pub refresh_cooldown_seconds: u64,
    /// The providers by name (`[oidc.providers.google]`).
    pub providers: BTreeMap<String, OidcProviderConfig>,
}

impl Default for OidcConfig {
    fn default() -> Self {
        Self {
            redirect_base: None,
            state_minutes: 10,
            default_return_to: "/".to_owned(),
            timeout_seconds: 10,
            refresh_cooldown_seconds: 30,
            providers: BTreeMap::new(),
        }
    }
}
