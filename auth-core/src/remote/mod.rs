//! A resource server's trust in a remote auth service (feature `remote`): the tokens a
//! service of this framework issued are checked by another service, by the issuer's
//! published keys ([`RemoteMode::Jwks`]) or by asking it ([`RemoteMode::Introspection`]).
//!
//! Signatures of remote tokens are checked by jsonwebtoken, not by this crate's own token
//! reader (which reads this service's own tokens only). An issuer that cannot be reached when
//! it is needed (keys not known yet, an introspection not cached) is
//! [`AuthError::AuthServiceUnavailable`]: 503, never a pass.
//!
//! Built from `[remote]` ([`RemoteConfig`]) by the stack, the guards and extractors use it
//! unchanged; [`RemoteAuth`] is also the jwtlib-style client surface of its own:
//! [`authenticate_request`](RemoteAuth::authenticate_request) and
//! [`introspect_token`](RemoteAuth::introspect_token).

mod introspection;
mod jwks;

use std::sync::Arc;
use std::time::Duration;

use crate::config::{RemoteConfig, RemoteMode};
use crate::error::{AuthError, Result};
use crate::principal::Principal;
use crate::token::{Claims, TokenError};

/// Why a remote verifier could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RemoteSetupError {
    /// No issuer is configured.
    #[error("AUTH__REMOTE__ISSUER is not set")]
    NoIssuer,
    /// Introspection without client credentials.
    #[error("introspection needs AUTH__REMOTE__CLIENT_ID and AUTH__REMOTE__CLIENT_SECRET")]
    NoClient,
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client: {0}")]
    Http(String),
}

/// What [`RemoteAuth::introspect_token`] answers: never an error.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RemoteIntrospection {
    /// Whether the token is valid now.
    pub active: bool,
    /// Who it stands for, when active.
    pub principal: Option<Principal>,
}

enum Check {
    Jwks(jwks::KeyCache),
    Introspection(introspection::Introspector),
}

/// Verifies tokens of a remote issuer. Cheap to share (`Arc`).
pub struct RemoteAuth {
    issuer: String,
    audience: Option<String>,
    check: Check,
}

impl std::fmt::Debug for RemoteAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteAuth")
            .field("issuer", &self.issuer)
            .field(
                "mode",
                &match self.check {
                    Check::Jwks(_) => "jwks",
                    Check::Introspection(_) => "introspection",
                },
            )
            .finish_non_exhaustive()
    }
}

/// The HTTP client calls to the issuer go through.
fn http_client(timeout: Duration) -> std::result::Result<reqwest::Client, RemoteSetupError> {
    crate::outbound::http_client(timeout).map_err(|e| RemoteSetupError::Http(e.to_string()))
}

/// An issuer that could not be asked, as the flows report it.
fn unavailable(what: &str, e: impl std::fmt::Display) -> AuthError {
    AuthError::AuthServiceUnavailable(format!("{what}: {e}"))
}

impl RemoteAuth {
    /// The verifier `[remote]` describes.
    ///
    /// # Errors
    /// [`RemoteSetupError`] naming what is missing.
    pub fn from_config(config: &RemoteConfig) -> std::result::Result<Self, RemoteSetupError> {
        let issuer = config
            .issuer
            .as_deref()
            .ok_or(RemoteSetupError::NoIssuer)?
            .trim_end_matches('/')
            .to_owned();
        let http = http_client(Duration::from_secs(config.timeout_seconds.max(1)))?;
        let check = match config.mode {
            RemoteMode::Jwks => Check::Jwks(jwks::KeyCache::new(
                http,
                format!("{issuer}/.well-known/jwks.json"),
                Duration::from_secs(config.refresh_cooldown_seconds),
            )),
            RemoteMode::Introspection => {
                let (Some(id), Some(secret)) = (&config.client_id, &config.client_secret) else {
                    return Err(RemoteSetupError::NoClient);
                };
                Check::Introspection(introspection::Introspector::new(
                    http,
                    format!("{issuer}/oauth/introspect"),
                    id.clone(),
                    secret.clone(),
                    Duration::from_secs(config.cache_seconds),
                ))
            }
        };
        Ok(Self {
            issuer,
            audience: config.audience.clone(),
            check,
        })
    }

    /// The issuer.
    #[must_use]
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The claims of a valid access token of the issuer.
    ///
    /// # Errors
    /// [`AuthError::InvalidToken`] for a token that is not one (malformed, unknown key, bad
    /// signature, expired, another issuer or audience, not an access token, revoked as
    /// introspection tells); [`AuthError::AuthServiceUnavailable`] when the issuer is needed
    /// and cannot answer.
    pub async fn verify(&self, token: &str) -> Result<Arc<Claims>> {
        if token.is_empty() || token.len() > 8192 {
            return Err(AuthError::InvalidToken(TokenError::Malformed));
        }
        let claims = match &self.check {
            Check::Jwks(keys) => keys.verify(token).await?,
            Check::Introspection(introspector) => introspector.verify(token).await?,
        };
        if claims
            .iss
            .as_deref()
            .is_some_and(|iss| iss.trim_end_matches('/') != self.issuer)
        {
            return Err(AuthError::InvalidToken(TokenError::WrongIssuer));
        }
        if let Some(audience) = &self.audience {
            if !claims
                .aud
                .as_ref()
                .is_some_and(|aud| aud.contains(audience))
            {
                return Err(AuthError::InvalidToken(TokenError::WrongAudience));
            }
        }
        Ok(claims)
    }

    /// The principal of a valid access token (jwtlib's `authenticate_request`), or `None`
    /// when `should_skip(method, path)` says the request needs none.
    ///
    /// # Errors
    /// [`AuthError::NotAuthenticated`] without a token; otherwise as
    /// [`verify`](Self::verify).
    pub async fn authenticate_request(
        &self,
        should_skip: impl FnOnce(&str, &str) -> bool,
        method: &str,
        path: &str,
        token: Option<&str>,
    ) -> Result<Option<Principal>> {
        if should_skip(method, path) {
            return Ok(None);
        }
        let token = token.ok_or(AuthError::NotAuthenticated)?;
        Ok(Some(Principal::from_claims(&*self.verify(token).await?)))
    }

    /// Whether a token is active, and whom it stands for (jwtlib's `introspect_token`): never
    /// an error; an unreachable issuer answers inactive.
    pub async fn introspect_token(&self, token: &str) -> RemoteIntrospection {
        match self.verify(token).await {
            Ok(claims) => RemoteIntrospection {
                active: true,
                principal: Some(Principal::from_claims(&claims)),
            },
            Err(_) => RemoteIntrospection {
                active: false,
                principal: None,
            },
        }
    }
}
