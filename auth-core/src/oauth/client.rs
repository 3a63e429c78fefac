//! OAuth clients: registered by an admin (RFC 7591 dynamic registration, or the command
//! line), each with its grants, exact redirect URIs and the scopes it may ask for.
//!
//! A confidential client's secret is `cs_` and 43 base64url characters (256 random bits),
//! shown once at registration; only its SHA-256 is kept (it has full entropy, so a fast hash
//! is enough, as for API keys), and it is compared in constant time.
//!
//! ```
//! use auth_core::oauth::{ClientAuthMethod, GrantType, NewClient};
//!
//! let new = NewClient::new("Reports", vec![GrantType::ClientCredentials], "reports.read");
//! let client = new.validate().unwrap();
//! assert_eq!(client.auth_method, ClientAuthMethod::ClientSecretBasic);
//!
//! let public = NewClient::new("SPA", vec![GrantType::AuthorizationCode], "openid")
//!     .with_redirect_uris(["http://localhost:5173/callback"])
//!     .with_auth_method("none");
//! assert!(public.validate().is_ok());
//! let insecure = NewClient::new("Web", vec![GrantType::AuthorizationCode], "")
//!     .with_redirect_uris(["http://app.example/callback"]);
//! assert_eq!(insecure.validate().unwrap_err().code(), "invalid_redirect_uri");
//! ```

use std::fmt;

use async_trait::async_trait;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq as _;

use super::{parse_scope, GrantType, OAuthError};
use crate::error::StoreError;
use crate::random::Random;

/// The prefix of client secrets.
pub const SECRET_PREFIX: &str = "cs_";
/// The most redirect URIs of one client.
const MAX_REDIRECT_URIS: usize = 10;
/// The longest redirect URI.
const MAX_URI_BYTES: usize = 2000;

/// How a client authenticates at the token endpoint (RFC 7591 `token_endpoint_auth_method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ClientAuthMethod {
    /// Its secret in HTTP Basic authentication (the default).
    ClientSecretBasic,
    /// Its secret as `client_secret` in the form.
    ClientSecretPost,
    /// A public client (a browser or native app): no secret, PKCE only.
    None,
}

impl ClientAuthMethod {
    /// The protocol's name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ClientSecretBasic => "client_secret_basic",
            Self::ClientSecretPost => "client_secret_post",
            Self::None => "none",
        }
    }

    /// Every method.
    pub const ALL: [Self; 3] = [Self::ClientSecretBasic, Self::ClientSecretPost, Self::None];
}

impl std::str::FromStr for ClientAuthMethod {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        Self::ALL.into_iter().find(|m| m.as_str() == s).ok_or(())
    }
}

/// A registered client, never its secret.
#[derive(Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct OAuthClient {
    /// Its id.
    pub client_id: String,
    /// Its name, shown on the consent page.
    pub client_name: String,
    /// The SHA-256 (hex) of its secret; `None` for a public client.
    #[serde(skip)]
    pub secret_hash: Option<String>,
    /// How it authenticates.
    #[serde(rename = "token_endpoint_auth_method")]
    pub auth_method: ClientAuthMethod,
    /// The grants it may use.
    pub grant_types: Vec<GrantType>,
    /// Where authorization answers may go: compared exactly.
    pub redirect_uris: Vec<String>,
    /// The scopes it may ask for (and, for `client_credentials`, the permissions its own
    /// tokens carry).
    pub scopes: Vec<String>,
    /// Whether its authorization requests must carry PKCE (always, except for a
    /// confidential client registered with `require_pkce: false`, as apexauthlib's code
    /// exchange needs).
    pub require_pkce: bool,
    /// When it was registered (Unix seconds).
    pub created_at: i64,
    /// Who registered it (a user id; `None` from the command line).
    pub created_by: Option<String>,
}

impl fmt::Debug for OAuthClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthClient")
            .field("client_id", &self.client_id)
            .field("client_name", &self.client_name)
            .field("auth_method", &self.auth_method)
            .field("grant_types", &self.grant_types)
            .field("redirect_uris", &self.redirect_uris)
            .field("scopes", &self.scopes)
            .field("require_pkce", &self.require_pkce)
            .finish_non_exhaustive()
    }
}

impl OAuthClient {
    /// Whether it may use `grant`.
    #[must_use]
    pub fn allows(&self, grant: GrantType) -> bool {
        self.grant_types.contains(&grant)
    }

    /// Whether it is public (no secret).
    #[must_use]
    pub fn is_public(&self) -> bool {
        self.auth_method == ClientAuthMethod::None
    }

    /// Whether `secret` is its secret (constant time); always false for a public client.
    #[must_use]
    pub fn secret_matches(&self, secret: &str) -> bool {
        self.secret_hash.as_deref().is_some_and(|stored| {
            bool::from(secret_hash(secret).as_bytes().ct_eq(stored.as_bytes()))
        })
    }

    /// The scopes of `requested` (space-separated) it may ask for, or all of its own when
    /// none are asked for.
    ///
    /// # Errors
    /// [`OAuthError::InvalidScope`] for a malformed scope or one beyond the client's.
    pub fn grantable(&self, requested: Option<&str>) -> Result<Vec<String>, OAuthError> {
        let Some(requested) = requested.filter(|s| !s.trim().is_empty()) else {
            return Ok(self.scopes.clone());
        };
        let scopes = parse_scope(requested)
            .ok_or_else(|| OAuthError::InvalidScope("malformed scope".to_owned()))?;
        if let Some(beyond) = scopes.iter().find(|s| !self.scopes.contains(s)) {
            return Err(OAuthError::InvalidScope(format!(
                "scope `{beyond}` is not allowed for this client"
            )));
        }
        Ok(scopes)
    }
}

/// The stored form of a client secret (hex SHA-256).
#[must_use]
pub fn secret_hash(secret: &str) -> String {
    format!("{:x}", Sha256::digest(secret.as_bytes()))
}

/// A new client secret from `random`: `cs_` and 256 random bits in base64url.
#[must_use]
pub fn generate_secret(random: &dyn Random) -> String {
    format!("{SECRET_PREFIX}{}", random.token())
}

/// A new client id from `random`: 128 random bits in base64url.
#[must_use]
pub fn generate_id(random: &dyn Random) -> String {
    let mut bytes = [0_u8; 16];
    random.fill(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A registration request (RFC 7591 section 2): what `POST /oauth/register` takes and
/// `auth-service clients create` builds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct NewClient {
    /// Its name.
    #[serde(default)]
    pub client_name: Option<String>,
    /// Its grants (default `["authorization_code"]`, as RFC 7591 says).
    #[serde(default)]
    pub grant_types: Option<Vec<String>>,
    /// Its redirect URIs: required for `authorization_code`; `https`, or `http` on a loopback
    /// host.
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// The scopes it may ask for, space-separated.
    #[serde(default)]
    pub scope: Option<String>,
    /// `client_secret_basic` (default), `client_secret_post` or `none`.
    #[serde(default)]
    pub token_endpoint_auth_method: Option<String>,
    /// `false` lets a confidential client's authorization requests go without PKCE (an
    /// extension member; default `true`, and always `true` for public clients).
    #[serde(default)]
    pub require_pkce: Option<bool>,
}

impl NewClient {
    /// A client named `name` with `grants` and the scopes `scope` (space-separated).
    #[must_use]
    pub fn new(name: impl Into<String>, grants: Vec<GrantType>, scope: &str) -> Self {
        Self {
            client_name: Some(name.into()),
            grant_types: Some(grants.iter().map(|g| g.as_str().to_owned()).collect()),
            redirect_uris: Vec::new(),
            scope: Some(scope.to_owned()),
            token_endpoint_auth_method: None,
            require_pkce: None,
        }
    }

    /// The same client with these redirect URIs.
    #[must_use]
    pub fn with_redirect_uris<I: IntoIterator<Item = S>, S: Into<String>>(
        mut self,
        uris: I,
    ) -> Self {
        self.redirect_uris = uris.into_iter().map(Into::into).collect();
        self
    }

    /// The same client authenticating with `method` (`client_secret_basic`,
    /// `client_secret_post` or `none`).
    #[must_use]
    pub fn with_auth_method(mut self, method: &str) -> Self {
        self.token_endpoint_auth_method = Some(method.to_owned());
        self
    }

    /// Checks the request: the client it describes, without id, secret or times yet.
    ///
    /// # Errors
    /// [`OAuthError::InvalidRedirectUri`] or [`OAuthError::InvalidClientMetadata`] naming the
    /// first thing refused.
    pub fn validate(&self) -> Result<OAuthClient, OAuthError> {
        let metadata = |m: &str| OAuthError::InvalidClientMetadata(m.to_owned());
        let name = self.client_name.as_deref().unwrap_or_default().trim();
        if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
            return Err(metadata("client_name must be 1 to 100 characters"));
        }
        let mut grants: Vec<GrantType> = Vec::new();
        let names = self
            .grant_types
            .clone()
            .unwrap_or_else(|| vec![GrantType::AuthorizationCode.as_str().to_owned()]);
        for grant in &names {
            let grant: GrantType = grant.parse().map_err(|()| {
                metadata("grant_types are authorization_code, refresh_token, client_credentials and password")
            })?;
            if !grants.contains(&grant) {
                grants.push(grant);
            }
        }
        if grants.is_empty() {
            return Err(metadata("give at least one grant type"));
        }
        let auth_method = match self.token_endpoint_auth_method.as_deref() {
            None => ClientAuthMethod::ClientSecretBasic,
            Some(m) => m.parse().map_err(|()| {
                metadata(
                    "token_endpoint_auth_method is client_secret_basic, client_secret_post or none",
                )
            })?,
        };
        if auth_method == ClientAuthMethod::None
            && grants
                .iter()
                .any(|g| matches!(g, GrantType::ClientCredentials | GrantType::Password))
        {
            return Err(metadata(
                "a public client (token_endpoint_auth_method none) cannot use client_credentials or password",
            ));
        }
        let require_pkce = self.require_pkce.unwrap_or(true);
        if !require_pkce && auth_method == ClientAuthMethod::None {
            return Err(metadata("a public client always uses PKCE"));
        }
        let scopes = parse_scope(self.scope.as_deref().unwrap_or_default())
            .ok_or_else(|| metadata("scope is space-separated scope tokens"))?;
        if scopes.len() > 50 {
            return Err(metadata("at most 50 scopes"));
        }
        let code_flow = grants.contains(&GrantType::AuthorizationCode);
        if code_flow && self.redirect_uris.is_empty() {
            return Err(OAuthError::InvalidRedirectUri(
                "authorization_code needs at least one redirect URI".to_owned(),
            ));
        }
        if self.redirect_uris.len() > MAX_REDIRECT_URIS {
            return Err(OAuthError::InvalidRedirectUri(
                "at most 10 redirect URIs".to_owned(),
            ));
        }
        for uri in &self.redirect_uris {
            check_redirect_uri(uri)?;
        }
        Ok(OAuthClient {
            client_id: String::new(),
            client_name: name.to_owned(),
            secret_hash: None,
            auth_method,
            grant_types: grants,
            redirect_uris: self.redirect_uris.clone(),
            scopes,
            require_pkce,
            created_at: 0,
            created_by: None,
        })
    }
}

/// A redirect URI a client may register: absolute, no fragment, `https`, or `http` on a
/// loopback host (RFC 8252 section 7.3 for native apps; RFC 9700 forbids plain `http`
/// elsewhere).
fn check_redirect_uri(uri: &str) -> Result<(), OAuthError> {
    let refused = |why: &str| OAuthError::InvalidRedirectUri(format!("`{uri}`: {why}"));
    if uri.len() > MAX_URI_BYTES {
        return Err(OAuthError::InvalidRedirectUri(
            "a redirect URI is at most 2000 bytes".to_owned(),
        ));
    }
    let parsed = url::Url::parse(uri).map_err(|_| refused("not an absolute URI"))?;
    if parsed.as_str() != uri {
        return Err(refused("write it in its normal form"));
    }
    if parsed.fragment().is_some() {
        return Err(refused("a redirect URI has no fragment"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(refused("a redirect URI has no user information"));
    }
    let loopback = matches!(
        parsed.host(),
        Some(url::Host::Domain("localhost"))
            | Some(url::Host::Ipv4(std::net::Ipv4Addr::LOCALHOST))
            | Some(url::Host::Ipv6(std::net::Ipv6Addr::LOCALHOST))
    );
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err(refused("use https (http only on localhost)")),
    }
}

/// A registration's answer (RFC 7591 section 3.2.1): the client and, this once, its secret.
#[derive(Clone, Serialize)]
#[non_exhaustive]
pub struct RegisteredClient {
    /// The client.
    #[serde(flatten)]
    pub client: OAuthClient,
    /// Its secret, shown this once (`None` for a public client).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    /// When the id was issued.
    pub client_id_issued_at: i64,
    /// When the secret expires: 0, never (present with a secret).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret_expires_at: Option<i64>,
    /// The scopes, space-separated (RFC 7591 `scope`).
    pub scope: String,
    /// `["code"]` for a client of the authorization code flow.
    pub response_types: Vec<&'static str>,
}

impl fmt::Debug for RegisteredClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegisteredClient")
            .field("client", &self.client)
            .finish_non_exhaustive()
    }
}

impl RegisteredClient {
    /// The answer for a stored `client` and its new `secret`.
    #[must_use]
    pub fn new(client: OAuthClient, secret: Option<String>) -> Self {
        let scope = client.scopes.join(" ");
        let response_types = if client.allows(GrantType::AuthorizationCode) {
            vec!["code"]
        } else {
            Vec::new()
        };
        Self {
            client_id_issued_at: client.created_at,
            client_secret_expires_at: secret.as_ref().map(|_| 0),
            client_secret: secret,
            scope,
            response_types,
            client,
        }
    }
}

/// Where clients are kept.
#[async_trait]
pub trait ClientStore: Send + Sync + fmt::Debug + 'static {
    /// Stores a new client.
    async fn insert_client(&self, client: &OAuthClient) -> Result<(), StoreError>;

    /// The client with this id.
    async fn client(&self, client_id: &str) -> Result<Option<OAuthClient>, StoreError>;

    /// Every client, oldest first.
    async fn clients(&self) -> Result<Vec<OAuthClient>, StoreError>;

    /// Removes a client; whether it was there.
    async fn delete_client(&self, client_id: &str) -> Result<bool, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code_client(uri: &str) -> Result<OAuthClient, OAuthError> {
        NewClient::new("App", vec![GrantType::AuthorizationCode], "openid")
            .with_redirect_uris([uri])
            .validate()
    }

    #[test]
    fn redirect_uris_are_https_or_loopback_http_without_fragment() {
        for good in [
            "https://app.example/callback",
            "https://app.example/cb?tenant=a",
            "http://localhost:8080/cb",
            "http://127.0.0.1:9000/cb",
            "http://[::1]:9000/cb",
        ] {
            assert!(code_client(good).is_ok(), "{good}");
        }
        for bad in [
            "http://app.example/cb",
            "https://app.example/cb#x",
            "/relative",
            "javascript:alert(1)",
            "https://user:pw@app.example/cb",
            "HTTPS://APP.example/cb",
            "http://localhost.evil.example/cb",
        ] {
            let err = code_client(bad).unwrap_err();
            assert_eq!(err.code(), "invalid_redirect_uri", "{bad}");
        }
        let none = NewClient::new("App", vec![GrantType::AuthorizationCode], "");
        assert_eq!(none.validate().unwrap_err().code(), "invalid_redirect_uri");
    }

    #[test]
    fn metadata_is_checked() {
        let public_service =
            NewClient::new("Bot", vec![GrantType::ClientCredentials], "").with_auth_method("none");
        assert_eq!(
            public_service.validate().unwrap_err().code(),
            "invalid_client_metadata"
        );
        let mut unknown = NewClient::new("Bot", vec![], "");
        unknown.grant_types = Some(vec!["implicit".to_owned()]);
        assert_eq!(
            unknown.validate().unwrap_err().code(),
            "invalid_client_metadata"
        );
        let unnamed = NewClient::new(" ", vec![GrantType::ClientCredentials], "");
        assert_eq!(
            unnamed.validate().unwrap_err().code(),
            "invalid_client_metadata"
        );
        let client = NewClient::new("Bot", vec![GrantType::ClientCredentials], "a b")
            .validate()
            .unwrap();
        assert_eq!(client.grantable(None).unwrap(), ["a", "b"]);
        assert_eq!(client.grantable(Some("b")).unwrap(), ["b"]);
        assert_eq!(
            client.grantable(Some("c")).unwrap_err().code(),
            "invalid_scope"
        );
    }

    #[test]
    fn secrets_match_by_hash() {
        let random = crate::random::SeededRandom::new(3);
        let secret = generate_secret(&random);
        assert!(secret.starts_with(SECRET_PREFIX) && secret.len() == 46);
        let mut client = code_client("https://app.example/cb").unwrap();
        assert!(!client.secret_matches(&secret), "no secret, no match");
        client.secret_hash = Some(secret_hash(&secret));
        assert!(client.secret_matches(&secret));
        assert!(!client.secret_matches(&format!("{secret}x")));
        assert!(!format!("{client:?}").contains(&secret_hash(&secret)));
    }
}
