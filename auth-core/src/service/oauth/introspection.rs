//! Introspection (RFC 7662), revocation (RFC 7009) and userinfo (OpenID Connect Core
//! section 5.3).

use std::sync::Arc;

use super::api::{ClientAuth, IntrospectionResponse};
use super::{released_claims, unavailable};
use crate::error::AuthError;
use crate::oauth::OAuthError;
use crate::service::account::active_user;
use crate::token::refresh::RefreshTokenCodec;
use crate::token::Claims;
use crate::user::UserId;
use crate::AuthService;

impl AuthService {
    /// Introspection (RFC 7662) for an authenticated confidential client: what an access or
    /// refresh token stands for, or `{"active": false}` alone.
    ///
    /// # Errors
    /// [`OAuthError::InvalidClient`]; [`OAuthError::Service`] when a store fails.
    pub async fn introspect_for(
        &self,
        client: &ClientAuth,
        token: &str,
    ) -> Result<IntrospectionResponse, OAuthError> {
        let client = self.oauth().authenticate(client).await?;
        if client.is_public() {
            return Err(OAuthError::InvalidClient);
        }
        if let Some(claims) = self.active_access(token).await? {
            let username = if claims.is_client_token() {
                None
            } else {
                match self.inner.verifier.record_for_claims(&claims).await {
                    Ok(user) => Some(user.username),
                    Err(AuthError::ServiceUnavailable(e)) => {
                        return Err(unavailable(AuthError::ServiceUnavailable(e)))
                    }
                    Err(_) => return Ok(IntrospectionResponse::default()),
                }
            };
            return Ok(IntrospectionResponse {
                active: true,
                scope: claims.scope.clone(),
                client_id: claims.client_id.clone(),
                username,
                token_type: Some("Bearer"),
                exp: Some(claims.exp),
                iat: Some(claims.iat),
                sub: Some(claims.sub.clone()),
                iss: Some(
                    claims
                        .iss
                        .clone()
                        .unwrap_or_else(|| self.issuer().to_owned()),
                ),
                jti: Some(claims.jti.clone()),
                sid: claims.sid.clone(),
                aud: claims.aud.clone(),
                roles: claims.roles.clone(),
                permissions: claims.permissions.clone(),
                tenant: claims.tenant.clone(),
                amr: claims.amr.clone(),
                auth_time: claims.auth_time,
            });
        }
        let Some((family_id, expires_at, iat)) = self.active_refresh(token).await? else {
            return Ok(IntrospectionResponse::default());
        };
        let store = self.inner.sessions.manager.store();
        let Some(session) = store.get_session(&family_id).await.map_err(unavailable)? else {
            return Ok(IntrospectionResponse::default());
        };
        let Some(user) = active_user(self.inner.users.as_ref(), &UserId(session.user_id.clone()))
            .await
            .map_err(unavailable)?
        else {
            return Ok(IntrospectionResponse::default());
        };
        Ok(IntrospectionResponse {
            active: true,
            scope: session.client.as_ref().map(|c| c.scope.clone()),
            client_id: session.client.map(|c| c.client_id),
            username: Some(user.username),
            token_type: Some("refresh_token"),
            exp: Some(expires_at),
            iat: Some(iat),
            sub: Some(session.user_id),
            iss: Some(self.issuer().to_owned()),
            sid: Some(family_id),
            ..IntrospectionResponse::default()
        })
    }

    /// The verified, unrevoked claims of an access token; `None` for anything else.
    async fn active_access(&self, token: &str) -> Result<Option<Arc<Claims>>, OAuthError> {
        match self.inner.verifier.access(token).await {
            Ok(claims) => Ok(Some(claims)),
            Err(AuthError::ServiceUnavailable(e)) => {
                Err(unavailable(AuthError::ServiceUnavailable(e)))
            }
            Err(_) => Ok(None),
        }
    }

    /// The family, expiry and issue time of a usable refresh token; `None` for anything else.
    async fn active_refresh(&self, token: &str) -> Result<Option<(String, i64, i64)>, OAuthError> {
        if token.is_empty() || token.len() > 256 {
            return Ok(None);
        }
        let now = self.inner.ctx.clock.now();
        let store = &self.inner.sessions.refresh;
        let found = store
            .find_token(&RefreshTokenCodec::hash(token))
            .await
            .map_err(unavailable)?;
        Ok(found.and_then(|(record, family)| {
            let usable = record.used_at.is_none()
                && family.revoked_at.is_none()
                && record.expires_at > now
                && family.expires_at > now;
            usable.then_some((family.id, record.expires_at, record.issued_at))
        }))
    }

    /// Revocation (RFC 7009): ends what `token` stands for (an access token until it
    /// expires; a refresh token's whole session). Unknown, expired or already revoked tokens
    /// change nothing and are not an error.
    ///
    /// # Errors
    /// [`OAuthError::InvalidClient`]; [`OAuthError::NotTheClientsToken`] for a live token
    /// issued to another client or to none (refused, RFC 7009 section 2.1);
    /// [`OAuthError::Service`] when a store fails.
    pub async fn revoke_for(&self, client: &ClientAuth, token: &str) -> Result<(), OAuthError> {
        let client = self.oauth().authenticate(client).await?;
        if let Some(claims) = self.active_access(token).await? {
            if claims.client_id.as_deref() != Some(client.client_id.as_str()) {
                return Err(OAuthError::NotTheClientsToken);
            }
            self.inner
                .sessions
                .revocations
                .revoke_token(&claims.jti, claims.exp)
                .await
                .map_err(unavailable)?;
            return Ok(());
        }
        if let Some((family_id, _, _)) = self.active_refresh(token).await? {
            let store = self.inner.sessions.manager.store();
            let session = store.get_session(&family_id).await.map_err(unavailable)?;
            let owned = session
                .and_then(|s| s.client)
                .is_some_and(|c| c.client_id == client.client_id);
            if !owned {
                return Err(OAuthError::NotTheClientsToken);
            }
            self.inner
                .sessions
                .end(&family_id, "revoked")
                .await
                .map_err(unavailable)?;
        }
        Ok(())
    }

    /// Userinfo (OpenID Connect Core section 5.3): the claims about the user of an access
    /// token that its scopes release (`profile`, `email`; all for the service's own tokens).
    ///
    /// # Errors
    /// [`AuthError::InvalidToken`] for an invalid or revoked token, [`AuthError::Forbidden`]
    /// for a client's own;
    /// [`AuthError::UserNotFound`] for a user gone or deactivated.
    pub async fn userinfo(&self, token: &str) -> Result<serde_json::Value, AuthError> {
        let claims = self.inner.verifier.access(token).await?;
        if claims.is_client_token() {
            return Err(AuthError::Forbidden(
                "a client's own token stands for no user".to_owned(),
            ));
        }
        let user = self.inner.verifier.record_for_claims(&claims).await?;
        let scopes: Option<Vec<String>> = claims
            .scope
            .as_deref()
            .map(|s| s.split(' ').map(str::to_owned).collect());
        let mut out = released_claims(&user, scopes.as_deref());
        out.insert(
            "sub".to_owned(),
            serde_json::Value::String(claims.sub.clone()),
        );
        Ok(serde_json::Value::Object(out))
    }
}
