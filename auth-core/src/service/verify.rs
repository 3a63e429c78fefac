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
