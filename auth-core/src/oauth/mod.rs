//! The authorization server's model: OAuth clients ([`client`]), PKCE ([`pkce`]), grant types,
//! scopes and the error codes of RFC 6749.
//!
//! The flows over them (the token endpoint's grants, the authorization code, introspection,
//! revocation, ID tokens) live in the service's `oauth` room, behind the `provider` feature;
//! `auth-axum` serves them under `/oauth` and `/.well-known`.

pub mod client;
pub mod pkce;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

pub use self::client::{ClientAuthMethod, ClientStore, NewClient, OAuthClient, RegisteredClient};

/// The grants of the token endpoint (RFC 6749 section 4, RFC 7591 `grant_types`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum GrantType {
    /// A user's authorization through the browser, with PKCE.
    AuthorizationCode,
    /// A refresh token for new tokens.
    RefreshToken,
    /// The client itself, service to service.
    ClientCredentials,
    /// A user's username and password given to the client (only where a client is allowed it).
    Password,
}

impl GrantType {
    /// The protocol's name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::AuthorizationCode => "authorization_code",
            Self::RefreshToken => "refresh_token",
            Self::ClientCredentials => "client_credentials",
            Self::Password => "password",
        }
    }

    /// Every grant.
    pub const ALL: [Self; 4] = [
        Self::AuthorizationCode,
        Self::RefreshToken,
        Self::ClientCredentials,
        Self::Password,
    ];
}

impl fmt::Display for GrantType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for GrantType {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        Self::ALL.into_iter().find(|g| g.as_str() == s).ok_or(())
    }
}

/// The scopes of OpenID Connect this server knows besides a service's own: `openid` (an ID
/// token), `profile`, `email` (their claims at userinfo) and `offline_access` (nothing more:
/// refresh tokens follow the client's grants).
pub const OIDC_SCOPES: [&str; 4] = ["openid", "profile", "email", "offline_access"];

/// Whether `scope` is one scope token (RFC 6749 section 3.3: printable ASCII without space,
/// `"` and `\`), at most 100 characters.
#[must_use]
pub fn is_scope_token(scope: &str) -> bool {
    !scope.is_empty()
        && scope.len() <= 100
        && scope
            .bytes()
            .all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b))
}

/// The scope tokens of a space-separated scope string, each once, in order; `None` when one
/// is malformed.
#[must_use]
pub fn parse_scope(scope: &str) -> Option<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for token in scope.split(' ').filter(|t| !t.is_empty()) {
        if !is_scope_token(token) {
            return None;
        }
        if !out.iter().any(|t| t == token) {
            out.push(token.to_owned());
        }
    }
    Some(out)
}

/// An error of the OAuth endpoints, answered as RFC 6749 section 5.2 says:
/// `{"error", "error_description"}`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OAuthError {
    /// A parameter is missing, repeated or malformed.
    #[error("{0}")]
    InvalidRequest(String),
    /// The client is unknown or its authentication failed (401).
    #[error("client authentication failed")]
    InvalidClient,
    /// The grant (code, refresh token, password) is invalid, expired, revoked, used, or was
    /// issued to another client.
    #[error("{0}")]
    InvalidGrant(String),
    /// The client may not use this grant.
    #[error("the client may not use the `{0}` grant")]
    UnauthorizedClient(String),
    /// The token was issued to another client, or to none (RFC 7009 section 2.1: refused).
    #[error("the token was not issued to this client")]
    NotTheClientsToken,
    /// The server has no such grant.
    #[error("unsupported grant type `{0}`")]
    UnsupportedGrantType(String),
    /// A scope is malformed or beyond what the client may ask for.
    #[error("{0}")]
    InvalidScope(String),
    /// The caller may not do this (403): registering clients takes an admin.
    #[error("{0}")]
    AccessDenied(String),
    /// A redirect URI of a registration is refused (RFC 7591).
    #[error("{0}")]
    InvalidRedirectUri(String),
    /// Other client metadata of a registration is refused (RFC 7591).
    #[error("{0}")]
    InvalidClientMetadata(String),
    /// The service itself failed (a store down, a limit reached): answered as the service's
    /// own error (503, 429), never as a client's mistake.
    #[error(transparent)]
    Service(Box<crate::error::AuthError>),
}

impl OAuthError {
    /// The `error` code.
    #[must_use]
    pub const fn code(&self) -> &'static str {
        match self {
            Self::InvalidRequest(_) => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant(_) => "invalid_grant",
            Self::UnauthorizedClient(_) | Self::NotTheClientsToken => "unauthorized_client",
            Self::UnsupportedGrantType(_) => "unsupported_grant_type",
            Self::InvalidScope(_) => "invalid_scope",
            Self::AccessDenied(_) => "access_denied",
            Self::InvalidRedirectUri(_) => "invalid_redirect_uri",
            Self::InvalidClientMetadata(_) => "invalid_client_metadata",
            Self::Service(_) => "temporarily_unavailable",
        }
    }

    /// The HTTP status: 401 for client authentication, 403 for access denied, 503 for the
    /// service's own failures (see [`AuthError`](crate::AuthError) for the exact one), else
    /// 400.
    #[must_use]
    pub const fn status(&self) -> u16 {
        match self {
            Self::InvalidClient => 401,
            Self::AccessDenied(_) => 403,
            Self::Service(_) => 503,
            _ => 400,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_tokens_once_each() {
        assert_eq!(
            parse_scope("openid  articles.read openid"),
            Some(vec!["openid".to_owned(), "articles.read".to_owned()])
        );
        assert_eq!(parse_scope(""), Some(vec![]));
        assert_eq!(parse_scope("a\"b"), None);
        assert_eq!(parse_scope("a\\b"), None);
        assert_eq!(parse_scope("caf\u{e9}"), None);
        assert!("authorization_code".parse::<GrantType>().is_ok());
        assert!("implicit".parse::<GrantType>().is_err());
    }
}
