//! The authorization server's flows (feature `provider`): clients registered and
//! authenticated, the authorization request and its code (PKCE `S256`), the token
//! endpoint's grants, ID tokens, introspection (RFC 7662), revocation (RFC 7009) and
//! userinfo. The facade's methods are in `api` (registration, the authorization request),
//! `grants` (the token endpoint) and `introspection` (with revocation and userinfo); the
//! authorization request's own state in `authorize`.

mod api;
mod authorize;
mod grants;
mod introspection;

use std::sync::Arc;

use serde::Serialize;

pub use self::api::{ClientAuth, IntrospectionResponse, TokenRequest, TokenResponse};
pub use self::authorize::{AuthorizationParams, AuthorizationRequest, AuthorizeError};

use super::Context;
use crate::error::AuthError;
use crate::oauth::client::{generate_id, generate_secret, secret_hash};
use crate::oauth::{
    ClientAuthMethod, ClientStore, NewClient, OAuthClient, OAuthError, RegisteredClient,
};
use crate::pending::PendingStore;
use crate::user::UserId;

/// A store failure as the OAuth endpoints answer it: the service's own error (503).
pub(super) fn unavailable(e: impl Into<AuthError>) -> OAuthError {
    OAuthError::Service(Box::new(e.into()))
}

/// The authorization server's own state: its clients, pending requests and codes, and
/// settings.
#[derive(Clone)]
pub(super) struct OAuthFlows {
    pub(super) clients: Arc<dyn ClientStore>,
    pub(super) pending: Arc<dyn PendingStore>,
    pub(super) issuer: String,
    pub(super) admin_role: String,
    /// Seconds an authorization code lives.
    pub(super) code_ttl: i64,
    /// Seconds an authorization request waits for its sign-in and consent.
    pub(super) request_ttl: i64,
    pub(super) ctx: Context,
}

/// The key a code is kept under: its SHA-256, so a read of the pending store gives no code.
fn code_key(code: &str) -> String {
    crate::oauth::client::secret_hash(code)
}

impl OAuthFlows {
    /// Registers a client: its id, and its secret unless it is public.
    pub(super) async fn register(
        &self,
        new: &NewClient,
        created_by: Option<&UserId>,
    ) -> Result<RegisteredClient, OAuthError> {
        let mut client = new.validate()?;
        client.client_id = generate_id(self.ctx.random.as_ref());
        client.created_at = self.ctx.clock.now();
        client.created_by = created_by.map(ToString::to_string);
        let secret = (!client.is_public()).then(|| generate_secret(self.ctx.random.as_ref()));
        client.secret_hash = secret.as_deref().map(secret_hash);
        self.clients
            .insert_client(&client)
            .await
            .map_err(unavailable)?;
        Ok(RegisteredClient::new(client, secret))
    }

    /// The client `auth` names, authenticated as it registered: its secret in the way it
    /// chose, or (public clients) its id alone. Every failure is `invalid_client`.
    pub(super) async fn authenticate(&self, auth: &ClientAuth) -> Result<OAuthClient, OAuthError> {
        if auth.client_id.is_empty() || auth.client_id.len() > 128 {
            return Err(OAuthError::InvalidClient);
        }
        let client = self
            .clients
            .client(&auth.client_id)
            .await
            .map_err(unavailable)?
            .ok_or(OAuthError::InvalidClient)?;
        let ok = match (client.auth_method, &auth.secret, auth.method) {
            (ClientAuthMethod::None, None, _) => true,
            (expected, Some(secret), used) if expected == used => client.secret_matches(secret),
            _ => false,
        };
        if ok {
            Ok(client)
        } else {
            Err(OAuthError::InvalidClient)
        }
    }

    /// The client `client_id` names, unauthenticated (an authorization request).
    pub(super) async fn client(&self, client_id: &str) -> Result<Option<OAuthClient>, OAuthError> {
        if client_id.is_empty() || client_id.len() > 128 {
            return Ok(None);
        }
        self.clients.client(client_id).await.map_err(unavailable)
    }
}

/// Claims of an ID token (OpenID Connect Core section 2).
#[derive(Debug, Serialize)]
pub(super) struct IdTokenClaims<'a> {
    pub(super) iss: &'a str,
    pub(super) sub: &'a str,
    pub(super) aud: &'a str,
    pub(super) exp: i64,
    pub(super) iat: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) auth_time: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) nonce: Option<&'a str>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    pub(super) amr: &'a [String],
    pub(super) azp: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) sid: Option<&'a str>,
    #[serde(flatten)]
    pub(super) profile: serde_json::Map<String, serde_json::Value>,
}

/// The claims about `user` that `scopes` release (OpenID Connect Core section 5.4):
/// `profile` its username, `email` its address and whether it is verified. A token of the
/// service's own logins (no scopes) releases both.
pub(super) fn released_claims(
    user: &crate::user::User,
    scopes: Option<&[String]>,
) -> serde_json::Map<String, serde_json::Value> {
    use serde_json::Value;
    let has = |scope: &str| scopes.is_none_or(|s| s.iter().any(|x| x == scope));
    let mut claims = serde_json::Map::new();
    if has("profile") {
        claims.insert(
            "preferred_username".to_owned(),
            Value::String(user.username.clone()),
        );
        claims.insert("name".to_owned(), Value::String(user.username.clone()));
    }
    if has("email") {
        claims.insert("email".to_owned(), Value::String(user.email.clone()));
        claims.insert("email_verified".to_owned(), Value::Bool(user.is_verified));
    }
    claims
}
