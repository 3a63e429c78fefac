//! The verify flow: an access token to verified, unrevoked claims, and on to the principal or
//! the user. The extractors' hot path depends on this alone.

use std::sync::Arc;

use serde::Serialize;

use super::account::active_user;
use crate::error::{AuthError, Result};
use crate::principal::Principal;
use crate::token::revocation::{RevocationCheck, RevocationStore};
use crate::token::{Claims, TokenError, TokenManager, TokenType};
use crate::user::{AuthUser, PublicUser, User, UserId, UserStore};

/// Result of [`AuthService::introspect`](crate::AuthService::introspect).
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Introspection {
    /// Whether the token is valid, unrevoked, and its user exists and is active.
    pub active: bool,
    /// The user, when active.
    pub user: Option<PublicUser>,
}

/// Verifies access tokens: signature and claims (the token manager, with its cache), then
/// revocation on every call.
#[derive(Clone)]
pub(super) struct Verifier {
    pub(super) tokens: TokenManager,
    pub(super) revocations: Arc<dyn RevocationStore>,
    pub(super) users: Arc<dyn UserStore>,
    /// The remote issuer whose tokens these are, for a resource server (`AUTH__REMOTE__*`).
    #[cfg(feature = "remote")]
    pub(super) remote: Option<Arc<crate::remote::RemoteAuth>>,
}

impl Verifier {
    /// Verified, unrevoked claims, shared (a token presented again comes from the cache).
    pub(super) async fn access(&self, token: &str) -> Result<Arc<Claims>> {
        #[cfg(feature = "remote")]
        if let Some(remote) = &self.remote {
            return remote.verify(token).await;
        }
        let claims = self.tokens.verify_shared(token, TokenType::Access)?;
        if self.is_revoked(&claims).await? {
            return Err(AuthError::InvalidToken(TokenError::Revoked));
        }
        Ok(claims)
    }

    /// Whether verified claims are revoked by token, session or user cut-off. A store that
    /// cannot answer is an error: the request must not pass.
    pub(super) async fn is_revoked(&self, claims: &Claims) -> Result<bool> {
        let check = RevocationCheck {
            jti: &claims.jti,
            session_id: claims.sid.as_deref(),
            user_id: &claims.sub,
            issued_at: claims.iat,
            epoch: claims.epc,
        };
        self.revocations
            .is_revoked(&check)
            .await
            .map_err(AuthError::ServiceUnavailable)
    }

    /// The principal an access token stands for. No user lookup.
    pub(super) async fn authenticate(&self, token: &str) -> Result<Principal> {
        let claims = self.access(token).await?;
        Ok(Principal::from_claims(&claims))
    }

    /// The user of verified claims: present, active, and the token's security epoch current.
    pub(super) async fn user_for_claims(&self, claims: &Claims) -> Result<PublicUser> {
        Ok(self.record_for_claims(claims).await?.to_public())
    }

    /// The stored user of verified claims, checked as [`user_for_claims`](Self::user_for_claims).
    pub(super) async fn record_for_claims(&self, claims: &Claims) -> Result<User> {
        let user = active_user(self.users.as_ref(), &UserId(claims.sub.clone()))
            .await?
            .ok_or(AuthError::UserNotFound)?;
        if claims.epc < user.security_epoch {
            return Err(AuthError::InvalidToken(TokenError::Revoked));
        }
        Ok(user)
    }

    /// The user an access token belongs to.
    pub(super) async fn current_user(&self, token: &str) -> Result<PublicUser> {
        let claims = self.access(token).await?;
        self.user_for_claims(&claims).await
    }

    /// RFC 7662-style introspection; never fails.
    pub(super) async fn introspect(&self, token: &str) -> Introspection {
        match self.current_user(token).await {
            Ok(user) => Introspection {
                active: true,
                user: Some(user),
            },
            Err(_) => Introspection {
                active: false,
                user: None,
            },
        }
    }
}

/// [`AuthService`](crate::AuthService)'s verification methods: access tokens to claims,
/// principals and users, introspection, and jwtlib's `authenticate_request`.
impl crate::AuthService {
    /// Verifies an access token: signature, claims, and revocation.
    ///
    /// # Errors
    /// [`AuthError::InvalidToken`], or [`AuthError::ServiceUnavailable`] when the revocation
    /// store cannot be asked (the request must not pass).
    pub async fn verify_access(&self, token: &str) -> Result<Claims> {
        self.verify_access_shared(token)
            .await
            .map(Arc::unwrap_or_clone)
    }

    /// As [`verify_access`](Self::verify_access), with the claims shared: a token presented
    /// again comes from the verification cache (`jwt.verify_cache_entries`); revocation is
    /// checked every time.
    ///
    /// # Errors
    /// As [`verify_access`](Self::verify_access).
    pub async fn verify_access_shared(&self, token: &str) -> Result<Arc<Claims>> {
        self.inner.verifier.access(token).await
    }

    /// The principal an access token stands for (verified, unrevoked). No user lookup.
    ///
    /// # Errors
    /// As [`verify_access`](Self::verify_access).
    pub async fn authenticate(&self, token: &str) -> Result<Principal> {
        self.inner.verifier.authenticate(token).await
    }

    /// The user an access token belongs to (jwtlib `get_logged_in_user`).
    ///
    /// # Errors
    /// [`AuthError::InvalidToken`]; [`AuthError::UserNotFound`] when the user is gone or
    /// disabled.
    pub async fn current_user(&self, token: &str) -> Result<PublicUser> {
        self.inner.verifier.current_user(token).await
    }

    /// The user of verified claims, checking the account is still active and the token's
    /// security epoch is current.
    ///
    /// # Errors
    /// As [`current_user`](Self::current_user).
    pub async fn user_for_claims(&self, claims: &Claims) -> Result<PublicUser> {
        self.inner.verifier.user_for_claims(claims).await
    }

    /// Token introspection for other services (jwtlib `introspect_token`). Never fails:
    /// anything but a valid token of an existing, active user is `active: false`. (jwtlib
    /// reports "valid token, no user" as active; we do not, because RFC 7662 section 2.2 says
    /// a token that cannot be used is not active.)
    pub async fn introspect(&self, token: &str) -> Introspection {
        self.inner.verifier.introspect(token).await
    }

    /// jwtlib's `authenticate_request`: `Ok(None)` when `should_skip(method, path)` says the
    /// route is public, otherwise the user of `token`.
    ///
    /// # Errors
    /// [`AuthError::NotAuthenticated`] without a token, otherwise as
    /// [`current_user`](Self::current_user).
    pub async fn authenticate_request(
        &self,
        should_skip: impl FnOnce(&str, &str) -> bool,
        method: &str,
        path: &str,
        token: Option<&str>,
    ) -> Result<Option<PublicUser>> {
        if should_skip(method, path) {
            return Ok(None);
        }
        let token = token.ok_or(AuthError::NotAuthenticated)?;
        self.current_user(token).await.map(Some)
    }
}
