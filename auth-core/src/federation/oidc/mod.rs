//! Signing in with an OpenID Connect or OAuth 2 provider (feature `oidc`): the providers of
//! `[oidc]` ([`OidcConfig`]), the authorization request each one is sent to, and the
//! account each one vouches for at the callback, as an [`ExternalProfile`].
//!
//! The protocol is the authorization code flow with every protection the field agrees on:
//! a `state` (the key of the sign-in's server-side record, bound to the browser by a cookie
//! in the HTTP layer), PKCE `S256`, and for OpenID Connect a `nonce` the ID token must
//! carry. ID tokens are verified by the `openidconnect` crate, never by this crate's own
//! token reader: signature by the issuer's published key set (fetched again, at most once
//! per cooldown, when a token names an unknown key), `iss`, `aud` (this client alone, or
//! `azp`), `exp` against the service's clock, `iat` not in the future, and the nonce.
//! Symmetric (`HS*`) and `none` algorithms are never accepted.
//!
//! | preset | protocol | account |
//! |---|---|---|
//! | `google` | OpenID Connect at `https://accounts.google.com` | the ID token's claims |
//! | `microsoft` | OpenID Connect at `https://login.microsoftonline.com/{tenant}/v2.0` | the ID token's claims (addresses never verified) |
//! | `github` | OAuth 2 | `GET /user` and `GET /user/emails` of GitHub's API |
//! | `oidc` | OpenID Connect at any issuer, by discovery | the ID token's claims |
//!
//! The service's `federation` flow keeps the sign-in's record, links the account to a user
//! and ends the sign-in like a password login.

mod github;
mod issuer;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

use self::github::GithubApi;
use self::issuer::Issuer;
use super::{ExternalProfile, FederationError};
use crate::config::{AuthConfig, ConfigError, OidcConfig, OidcPreset, OidcProviderConfig};
use crate::error::{AuthError, Result};

/// What the callback needs of the authorization request it answers: kept server-side under
/// the `state`, never sent to the browser except as the request's own parameters.
#[derive(Clone)]
#[non_exhaustive]
pub struct Secrets {
    /// The `state` parameter (256 bits).
    pub state: String,
    /// The PKCE verifier whose `S256` challenge the request carries (43 characters).
    pub pkce_verifier: String,
    /// The `nonce` the ID token must carry.
    pub nonce: String,
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secrets(..)")
    }
}

/// A configured provider, as a sign-in page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ProviderInfo {
    /// Its name in the routes (`google`).
    pub name: String,
    /// What to show ("Google").
    pub display_name: String,
    /// Where a browser starts signing in with it (`/auth/oauth/google/authorize`).
    pub authorize_path: String,
}

enum Protocol {
    Oidc(Issuer),
    Github(GithubApi),
}

/// One provider of `[oidc.providers]`.
pub struct Provider {
    name: String,
    display_name: String,
    /// Whether its verified addresses sign in the accounts that have them.
    pub(crate) trust_email: bool,
    /// Whether an account new here creates a user.
    pub(crate) allow_signup: bool,
    client_id: String,
    client_secret: Option<SecretString>,
    scopes: Vec<String>,
    redirect_uri: String,
    protocol: Protocol,
}

impl fmt::Debug for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Provider")
            .field("name", &self.name)
            .field("client_id", &self.client_id)
            .field("redirect_uri", &self.redirect_uri)
            .finish_non_exhaustive()
    }
}

/// Whether `url` may name a provider: HTTPS, or HTTP on a loopback host (tests, development).
fn secure_url(url: &str) -> bool {
    let Ok(parsed) = url::Url::parse(url) else {
        return false;
    };
    match parsed.scheme() {
        "https" => parsed.host().is_some(),
        "http" => matches!(
            parsed.host(),
            Some(url::Host::Domain("localhost"))
                | Some(url::Host::Ipv4(std::net::Ipv4Addr::LOCALHOST))
                | Some(url::Host::Ipv6(std::net::Ipv6Addr::LOCALHOST))
        ),
        _ => false,
    }
}

fn invalid(reason: String) -> ConfigError {
    ConfigError::Invalid {
        var: "AUTH__OIDC__PROVIDERS",
        reason,
    }
}

/// A call to a provider that failed on the way (unreachable, a timeout, nonsense).
pub(crate) fn unreachable(provider: &str, e: impl fmt::Display) -> AuthError {
    AuthError::AuthServiceUnavailable(format!("sign-in provider `{provider}`: {e}"))
}

/// A refused code exchange as the flows report it: the provider's refusal
/// ([`FederationError::CodeRejected`]), or a provider that could not be asked.
pub(crate) fn token_error<RE, ET>(
    provider: &str,
    e: oauth2::RequestTokenError<RE, oauth2::StandardErrorResponse<ET>>,
) -> AuthError
where
    RE: std::error::Error + 'static,
    ET: oauth2::ErrorResponseType + fmt::Display + 'static,
{
    match e {
        oauth2::RequestTokenError::ServerResponse(answer) => {
            FederationError::CodeRejected(answer.error().to_string()).into()
        }
        other => unreachable(provider, format!("token endpoint: {other}")),
    }
}

impl Provider {
    fn from_config(
        name: &str,
        config: &OidcProviderConfig,
        settings: &OidcConfig,
        base: &str,
        http: &reqwest::Client,
    ) -> Result<Self, ConfigError> {
        if !super::valid_provider_name(name) {
            return Err(invalid(format!(
                "`{name}` cannot name a provider: use lowercase letters, digits, `-` and `_`"
            )));
        }
        if config.client_id.trim().is_empty() {
            return Err(invalid(format!("provider `{name}` needs a CLIENT_ID")));
        }
        let preset = config.preset_of(name);
        let url_of = |what: &str, value: Option<&str>, default: &str| {
            let url = value.unwrap_or(default).trim_end_matches('/').to_owned();
            if secure_url(&url) {
                Ok(url)
            } else {
                Err(invalid(format!(
                    "provider `{name}`: {what} `{url}` must be an https URL (http only on a loopback address)"
                )))
            }
        };
        let protocol = match preset {
            OidcPreset::Github => {
                let authorization_url = url_of(
                    "AUTHORIZATION_URL",
                    config.authorization_url.as_deref(),
                    "https://github.com/login/oauth/authorize",
                )?;
                // Checked above: it parses, with a host.
                let issuer = url::Url::parse(&authorization_url)
                    .map(|u| u.origin().ascii_serialization())
                    .unwrap_or_default();
                Protocol::Github(GithubApi {
                    issuer,
                    authorization_url,
                    token_url: url_of(
                        "TOKEN_URL",
                        config.token_url.as_deref(),
                        "https://github.com/login/oauth/access_token",
                    )?,
                    api_url: url_of(
                        "API_URL",
                        config.api_url.as_deref(),
                        "https://api.github.com",
                    )?,
                    http: http.clone(),
                })
            }
            OidcPreset::Google | OidcPreset::Microsoft | OidcPreset::Oidc => {
                let issuer = match preset {
                    OidcPreset::Google => "https://accounts.google.com".to_owned(),
                    OidcPreset::Microsoft => {
                        let tenant = config.tenant.as_deref().unwrap_or("").trim();
                        if tenant.is_empty()
                            || ["common", "organizations", "consumers"].contains(&tenant)
                        {
                            return Err(invalid(format!(
                                "provider `{name}` needs a TENANT (its id or domain; `common` cannot be verified)"
                            )));
                        }
                        format!("https://login.microsoftonline.com/{tenant}/v2.0")
                    }
                    _ => config.issuer.clone().ok_or_else(|| {
                        invalid(format!("provider `{name}` needs an ISSUER (or a PRESET)"))
                    })?,
                };
                let issuer = url_of("ISSUER", Some(&issuer), "")?;
                Protocol::Oidc(Issuer::new(
                    &issuer,
                    http.clone(),
                    Duration::from_secs(settings.refresh_cooldown_seconds),
                )?)
            }
        };
        let (default_name, default_scopes): (&str, &[&str]) = match preset {
            OidcPreset::Google => ("Google", &["openid", "email", "profile"]),
            OidcPreset::Github => ("GitHub", &["read:user", "user:email"]),
            OidcPreset::Microsoft => ("Microsoft", &["openid", "email", "profile"]),
            OidcPreset::Oidc => (name, &["openid", "email", "profile"]),
        };
        let mut scopes = config
            .scopes
            .clone()
            .unwrap_or_else(|| default_scopes.iter().map(|s| (*s).to_owned()).collect());
        if matches!(protocol, Protocol::Oidc(_)) && !scopes.iter().any(|s| s == "openid") {
            scopes.insert(0, "openid".to_owned());
        }
        Ok(Self {
            name: name.to_owned(),
            display_name: config
                .display_name
                .clone()
                .unwrap_or_else(|| default_name.to_owned()),
            trust_email: config.trust_email,
            allow_signup: config.allow_signup,
            client_id: config.client_id.trim().to_owned(),
            client_secret: config.client_secret.clone(),
            scopes,
            redirect_uri: format!("{base}/auth/oauth/{name}/callback"),
            protocol,
        })
    }

    /// Its name (`google`).
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Where it sends browsers back to: `{redirect base}/auth/oauth/{name}/callback`, to be
    /// registered at the provider.
    #[must_use]
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// How a sign-in page lists it.
    #[must_use]
    pub fn info(&self) -> ProviderInfo {
        ProviderInfo {
            name: self.name.clone(),
            display_name: self.display_name.clone(),
            authorize_path: format!("/auth/oauth/{}/authorize", self.name),
        }
    }

    fn secret(&self) -> Option<&str> {
        self.client_secret.as_ref().map(|s| s.expose_secret())
    }

    /// The URL to send the browser to: the authorization request with `secrets`' state,
    /// PKCE challenge and (OpenID Connect) nonce.
    ///
    /// # Errors
    /// [`AuthError::AuthServiceUnavailable`] when the issuer's discovery document cannot be
    /// read.
    pub async fn authorization_url(&self, secrets: &Secrets) -> Result<String> {
        match &self.protocol {
            Protocol::Oidc(issuer) => issuer.authorization_url(self, secrets).await,
            Protocol::Github(api) => api.authorization_url(self, secrets),
        }
    }

    /// The account the callback's `code` stands for: the code exchanged with the PKCE
    /// verifier, then (OpenID Connect) the ID token verified with the nonce at `now`
    /// (seconds since the Unix epoch), or (GitHub) the user read from the API.
    ///
    /// # Errors
    /// [`FederationError::CodeRejected`] when the provider refuses the code;
    /// [`FederationError::InvalidIdToken`] for an ID token that fails a check;
    /// [`AuthError::AuthServiceUnavailable`] when the provider cannot be reached.
    pub async fn finish(&self, code: &str, secrets: &Secrets, now: i64) -> Result<ExternalProfile> {
        match &self.protocol {
            Protocol::Oidc(issuer) => issuer.finish(self, code, secrets, now).await,
            Protocol::Github(api) => api.finish(self, code, secrets).await,
        }
    }

    /// Verifies an ID token of this provider (an OpenID Connect provider) for this client:
    /// signature, issuer, audience, expiry at `now`, and `nonce` when given; the account it
    /// names.
    ///
    /// # Errors
    /// [`FederationError::InvalidIdToken`] for a token that fails a check, or a provider
    /// without ID tokens (GitHub); [`AuthError::AuthServiceUnavailable`] when the issuer's
    /// keys cannot be read.
    pub async fn verify_id_token(
        &self,
        id_token: &str,
        nonce: Option<&str>,
        now: i64,
    ) -> Result<ExternalProfile> {
        match &self.protocol {
            Protocol::Oidc(issuer) => issuer.verify_id_token(self, id_token, nonce, now).await,
            Protocol::Github(_) => Err(FederationError::InvalidIdToken(
                "this provider issues no ID tokens".to_owned(),
            )
            .into()),
        }
    }
}

/// The configured providers, by name.
#[derive(Debug, Default)]
pub struct Providers {
    by_name: BTreeMap<String, Arc<Provider>>,
}

impl Providers {
    /// The providers `[oidc]` configures, their callbacks under `AUTH__OIDC__REDIRECT_BASE`
    /// (else the provider issuer, else the JWT issuer, else `http://localhost:8080`).
    /// Nothing is fetched yet: an issuer's discovery document is read at its first sign-in.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] naming the provider and what to set.
    pub fn from_config(config: &AuthConfig) -> Result<Self, ConfigError> {
        let settings = &config.oidc;
        if settings.providers.is_empty() {
            return Ok(Self::default());
        }
        let base = settings
            .redirect_base
            .clone()
            .unwrap_or_else(|| config.provider.issuer_or(config.jwt.issuer.as_deref()));
        let base = base.trim_end_matches('/').to_owned();
        if !secure_url(&base) {
            return Err(ConfigError::Invalid {
                var: "AUTH__OIDC__REDIRECT_BASE",
                reason: format!("`{base}` must be an https URL (http only on a loopback address)"),
            });
        }
        let http = crate::outbound::http_client(Duration::from_secs(settings.timeout_seconds))
            .map_err(|e| invalid(e.to_string()))?;
        let mut by_name = BTreeMap::new();
        for (name, provider) in &settings.providers {
            let provider = Provider::from_config(name, provider, settings, &base, &http)?;
            by_name.insert(name.clone(), Arc::new(provider));
        }
        Ok(Self { by_name })
    }

    /// The provider called `name`.
    ///
    /// # Errors
    /// [`FederationError::UnknownProvider`].
    pub fn get(&self, name: &str) -> Result<&Arc<Provider>, FederationError> {
        self.by_name
            .get(name)
            .ok_or_else(|| FederationError::UnknownProvider(name.chars().take(64).collect()))
    }

    /// Every provider, as a sign-in page lists them.
    #[must_use]
    pub fn list(&self) -> Vec<ProviderInfo> {
        self.by_name.values().map(|p| p.info()).collect()
    }

    /// Whether none is configured.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use secrecy::SecretString;

    use super::{secure_url, Providers};
    use crate::config::{AuthConfig, ConfigError, OidcProviderConfig};

    fn provider(client_id: &str) -> OidcProviderConfig {
        OidcProviderConfig {
            client_id: client_id.to_owned(),
            client_secret: Some(SecretString::from("s")),
            ..OidcProviderConfig::default()
        }
    }

    fn with(name: &str, provider: OidcProviderConfig) -> Result<Providers, ConfigError> {
        let mut config = AuthConfig::default();
        config.oidc.redirect_base = Some("https://app.example.com/".to_owned());
        config.oidc.providers.insert(name.to_owned(), provider);
        Providers::from_config(&config)
    }

    #[test]
    fn presets_fill_in_endpoints_names_and_callbacks() {
        let providers = with("google", provider("id")).unwrap();
        let google = providers.get("google").unwrap();
        assert_eq!(
            google.redirect_uri(),
            "https://app.example.com/auth/oauth/google/callback"
        );
        assert_eq!(google.info().display_name, "Google");
        assert_eq!(google.scopes, ["openid", "email", "profile"]);
        let providers = with("github", provider("id")).unwrap();
        let github = providers.get("github").unwrap();
        assert_eq!(github.info().display_name, "GitHub");
        assert_eq!(github.scopes, ["read:user", "user:email"]);
        assert!(providers.get("gitlab").is_err());
        // `openid` is always asked of an OpenID Connect provider.
        let mut custom = provider("id");
        custom.issuer = Some("https://idp.example.com/realms/x".to_owned());
        custom.scopes = Some(vec!["email".to_owned()]);
        let providers = with("corp", custom).unwrap();
        assert_eq!(providers.get("corp").unwrap().scopes, ["openid", "email"]);
    }

    #[test]
    #[allow(
        clippy::result_large_err,
        reason = "figment's Jail returns its own error type"
    )]
    fn providers_come_from_environment_variables() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("AUTH__OIDC__PROVIDERS__GOOGLE__CLIENT_ID", "abc");
            jail.set_env("AUTH__OIDC__PROVIDERS__GOOGLE__CLIENT_SECRET", "shh");
            jail.set_env("AUTH__OIDC__PROVIDERS__GOOGLE__TRUST_EMAIL", "true");
            jail.set_env("AUTH__OIDC__STATE_MINUTES", "5");
            let config: AuthConfig = AuthConfig::figment().extract()?;
            let google = &config.oidc.providers["google"];
            assert_eq!(google.client_id, "abc");
            assert!(google.trust_email && google.allow_signup);
            assert_eq!(config.oidc.state_minutes, 5);
            assert!(Providers::from_config(&config).is_ok());
            Ok(())
        });
    }

    #[test]
    fn providers_that_cannot_work_stop_the_start() {
        let refused = |name: &str, p: OidcProviderConfig| with(name, p).unwrap_err().to_string();
        assert!(refused("google", provider(" ")).contains("CLIENT_ID"));
        assert!(refused("corp", provider("id")).contains("ISSUER"));
        assert!(refused("microsoft", provider("id")).contains("TENANT"));
        let mut common = provider("id");
        common.tenant = Some("common".to_owned());
        assert!(refused("microsoft", common).contains("TENANT"));
        let mut plain = provider("id");
        plain.issuer = Some("http://idp.example.com".to_owned());
        assert!(refused("corp", plain).contains("https"));
        assert!(refused("Bad Name", provider("id")).contains("cannot name a provider"));
        let mut config = AuthConfig::default();
        config.oidc.redirect_base = Some("http://app.example.com".to_owned());
        config
            .oidc
            .providers
            .insert("google".to_owned(), provider("id"));
        let err = Providers::from_config(&config).unwrap_err().to_string();
        assert!(err.contains("AUTH__OIDC__REDIRECT_BASE"), "{err}");
    }

    #[test]
    fn providers_are_reached_over_https_or_on_loopback() {
        assert!(secure_url("https://accounts.google.com"));
        assert!(secure_url("http://127.0.0.1:8080"));
        assert!(secure_url("http://localhost:3000/x"));
        assert!(secure_url("http://[::1]:1"));
        assert!(!secure_url("http://idp.example.com"));
        assert!(!secure_url("ftp://idp.example.com"));
        assert!(!secure_url("idp.example.com"));
        assert!(!secure_url("http://127.0.0.2.example.com"));
    }
}
