//! The authorization server on the facade: its types, client registration and the
//! authorization request. The token endpoint's grants are in `grants`; introspection,
//! revocation and userinfo in `introspection`.

use std::fmt;

use serde::Serialize;

use super::{unavailable, AuthorizationParams, AuthorizationRequest, AuthorizeError};
use crate::mfa::SatisfiedFactor;
use crate::oauth::{ClientAuthMethod, NewClient, OAuthClient, OAuthError, RegisteredClient};
use crate::principal::Principal;
use crate::session::Device;
use crate::user::UserId;
use crate::AuthService;

/// How a client authenticated at an endpoint: its id and, unless it is public, its secret
/// and the way it was sent.
#[derive(Clone)]
#[non_exhaustive]
pub struct ClientAuth {
    /// The client id.
    pub client_id: String,
    /// The secret, if one was sent.
    pub secret: Option<String>,
    /// How it was sent (`None` when no secret was).
    pub method: ClientAuthMethod,
}

impl ClientAuth {
    /// A client authenticating with `secret` sent as `method`, or (no secret) a public one.
    #[must_use]
    pub fn new(
        client_id: impl Into<String>,
        secret: Option<String>,
        method: ClientAuthMethod,
    ) -> Self {
        Self {
            client_id: client_id.into(),
            method: if secret.is_some() {
                method
            } else {
                ClientAuthMethod::None
            },
            secret,
        }
    }
}

impl fmt::Debug for ClientAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientAuth")
            .field("client_id", &self.client_id)
            .field("method", &self.method)
            .finish_non_exhaustive()
    }
}

/// A token request (RFC 6749 sections 4.1.3, 4.3.2, 4.4.2 and 6).
#[derive(Clone, Default)]
#[non_exhaustive]
pub struct TokenRequest {
    /// `authorization_code`, `refresh_token`, `client_credentials` or `password`.
    pub grant_type: String,
    /// The code (`authorization_code`).
    pub code: Option<String>,
    /// The redirect URI the authorization request named (`authorization_code`).
    pub redirect_uri: Option<String>,
    /// The PKCE verifier (`authorization_code`).
    pub code_verifier: Option<String>,
    /// The refresh token (`refresh_token`).
    pub refresh_token: Option<String>,
    /// The user's login (`password`).
    pub username: Option<String>,
    /// The user's password (`password`).
    pub password: Option<String>,
    /// The scopes asked for, space-separated.
    pub scope: Option<String>,
    /// The device asking, recorded with a new session.
    pub device: Device,
}

impl fmt::Debug for TokenRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenRequest")
            .field("grant_type", &self.grant_type)
            .field("username", &self.username)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

/// A token response (RFC 6749 section 5.1; OpenID Connect's `id_token`).
#[derive(Clone, Serialize)]
#[non_exhaustive]
pub struct TokenResponse {
    /// The access token (JWT).
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// The refresh token, for a client allowed the `refresh_token` grant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// The scopes granted, space-separated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// The ID token, for the `openid` scope.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
}

impl fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenResponse")
            .field("expires_in", &self.expires_in)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

/// An introspection answer (RFC 7662 section 2.2): `{"active": false}` and nothing else for
/// a token that is not active.
#[derive(Debug, Clone, Default, Serialize)]
#[non_exhaustive]
pub struct IntrospectionResponse {
    /// Whether the token is active.
    pub active: bool,
    /// Its scopes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// The client it was issued to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// The user's username.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// `Bearer` or `refresh_token`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<&'static str>,
    /// Expiry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    /// Issued at.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    /// Subject.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// Issuer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// Token id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    /// The session.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// The audience.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aud: Option<crate::token::Audience>,
    /// The roles the token carries (an extension member: what resource servers' guards read).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
    /// Its permissions.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub permissions: Vec<String>,
    /// Its tenant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// How the user authenticated.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub amr: Vec<String>,
    /// When.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
}

impl AuthService {
    pub(super) fn oauth(&self) -> &super::OAuthFlows {
        &self.inner.oauth
    }

    /// The issuer identifier (`AUTH__PROVIDER__ISSUER`).
    #[must_use]
    pub fn issuer(&self) -> &str {
        &self.oauth().issuer
    }

    /// Whether `principal` may register clients (`AUTH__PROVIDER__ADMIN_ROLE`; never an API
    /// key or a client's own token).
    #[must_use]
    pub fn may_register_clients(&self, principal: &Principal) -> bool {
        matches!(
            principal.credential,
            crate::principal::CredentialKind::Bearer | crate::principal::CredentialKind::Cookie
        ) && principal.has_role(&self.oauth().admin_role)
    }

    /// Whether ID tokens can be issued: the signing key has a public key clients verify with.
    #[must_use]
    pub fn issues_id_tokens(&self) -> bool {
        self.inner.tokens.signs_publicly()
    }

    /// Registers an OAuth client (RFC 7591): the answer carries its secret this once.
    ///
    /// # Errors
    /// [`OAuthError::InvalidRedirectUri`] / [`OAuthError::InvalidClientMetadata`] for a
    /// refused request; [`OAuthError::Service`] when the store fails.
    pub async fn register_client(
        &self,
        new: &NewClient,
        created_by: Option<&UserId>,
    ) -> Result<RegisteredClient, OAuthError> {
        self.oauth().register(new, created_by).await
    }

    /// Every registered client, oldest first.
    ///
    /// # Errors
    /// [`OAuthError::Service`] when the store fails.
    pub async fn oauth_clients(&self) -> Result<Vec<OAuthClient>, OAuthError> {
        self.oauth().clients.clients().await.map_err(unavailable)
    }

    /// Checks an authorization request (`GET /oauth/authorize`) and keeps it for the user's
    /// sign-in and consent.
    ///
    /// # Errors
    /// [`AuthorizeError::Page`] for a client or redirect URI that cannot be trusted (shown,
    /// never redirected to), [`AuthorizeError::Redirect`] for the rest.
    pub async fn authorization_request(
        &self,
        params: &AuthorizationParams,
    ) -> Result<AuthorizationRequest, AuthorizeError> {
        self.oauth().request(params, self.issues_id_tokens()).await
    }

    /// Takes the pending authorization request `id` (single use); `None` when unknown or
    /// expired.
    ///
    /// # Errors
    /// [`OAuthError::Service`] when the store fails.
    pub async fn take_authorization_request(
        &self,
        id: &str,
    ) -> Result<Option<AuthorizationRequest>, OAuthError> {
        self.oauth().take_request(id).await
    }

    /// Keeps a taken request again under a new id, for a sign-in page shown once more.
    ///
    /// # Errors
    /// [`OAuthError::Service`] when the store fails.
    pub async fn renew_authorization_request(
        &self,
        request: AuthorizationRequest,
    ) -> Result<AuthorizationRequest, OAuthError> {
        self.oauth().renew(request).await
    }

    /// Approves `request` as the user of the browser session `cookie_secret`: the redirect
    /// carrying a new code (single use, `AUTH__PROVIDER__CODE_SECONDS`).
    ///
    /// # Errors
    /// [`AuthError::InvalidSession`] (as [`OAuthError::Service`]) for a cookie of no live
    /// session.
    pub async fn approve_authorization(
        &self,
        request: &AuthorizationRequest,
        cookie_secret: &str,
    ) -> Result<String, OAuthError> {
        let claims = self
            .verify_cookie(cookie_secret)
            .await
            .map_err(unavailable)?;
        let factors: Vec<SatisfiedFactor> = Principal::from_claims(&claims)
            .factors
            .iter()
            .filter_map(|f| Some(SatisfiedFactor::new(f.kind()?, f.at)))
            .collect();
        self.oauth().approve(request, &claims.sub, factors).await
    }

    /// The redirect refusing `request`: the user denied it.
    #[must_use]
    pub fn deny_authorization(&self, request: &AuthorizationRequest) -> String {
        request.error_redirect(
            self.issuer(),
            "access_denied",
            "the user denied the request",
        )
    }
}
