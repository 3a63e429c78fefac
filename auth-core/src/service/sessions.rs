//! Sessions as a whole: opening one (ending the least recently used beyond the per-user
//! limit), ending one with its refresh family and every access token of it, logout, "log out
//! everywhere", and the user's own list of sessions.

use std::sync::Arc;

use super::Context;
use crate::error::StoreError;
use crate::error::{AuthError, Result};
use crate::events::AuthEvent;
use crate::principal::Principal;
use crate::session::{Device, Session, SessionManager};
use crate::token::refresh::{RefreshTokenCodec, RefreshTokenStore};
use crate::token::revocation::{RevocationStore, UserCutoff};
use crate::user::{User, UserId, UserStore};

/// The amount of time after which no access token issued now is still valid, leeway included.
const LEEWAY_MARGIN: i64 = 60;

/// Opens and ends sessions, and everything that dies with them.
#[derive(Clone)]
pub(super) struct Sessions {
    pub(super) manager: SessionManager,
    pub(super) refresh: Arc<dyn RefreshTokenStore>,
    pub(super) revocations: Arc<dyn RevocationStore>,
    pub(super) users: Arc<dyn UserStore>,
    /// Access-token lifetime in seconds, for how long revocations must be kept.
    pub(super) access_ttl: i64,
    pub(super) ctx: Context,
}

impl Sessions {
    /// When a revocation entry may be purged: no access token issued up to `now` is valid
    /// after it, leeway included.
    fn horizon(&self, now: i64) -> i64 {
        now + self.access_ttl + LEEWAY_MARGIN
    }

    /// Records session `session_id` for a login; logins over `max_sessions_per_user` end the
    /// least recently used sessions, tokens too.
    pub(super) async fn open(
        &self,
        session_id: &str,
        user: &User,
        device: Device,
        idle_timeout: i64,
        secret_hash: Option<String>,
        auth: impl Into<crate::session::SessionAuth>,
    ) -> Result<Session> {
        let (session, evicted) = self
            .manager
            .create_with(
                session_id,
                user.id.as_str(),
                device,
                idle_timeout,
                secret_hash,
                auth,
            )
            .await?;
        for old in evicted {
            self.end(&old, "evicted").await?;
        }
        Ok(session)
    }

    /// Ends a session: its record, its refresh family (if it has one) and every access token
    /// of it.
    pub(super) async fn end(&self, session_id: &str, reason: &str) -> Result<()> {
        let now = self.ctx.clock.now();
        self.manager.store().delete_session(session_id).await?;
        self.refresh.revoke_family(session_id, now, reason).await?;
        self.revocations
            .revoke_session(session_id, self.horizon(now))
            .await?;
        Ok(())
    }

    /// The principal's live sessions, most recently used first.
    pub(super) async fn list(&self, principal: &Principal) -> Result<Vec<Session>> {
        Ok(self.manager.list(principal.user_id.as_str()).await?)
    }

    /// Ends one of the principal's sessions; whether the principal had it.
    pub(super) async fn revoke(&self, principal: &Principal, session_id: &str) -> Result<bool> {
        let Some(session) = self
            .manager
            .revoke(principal.user_id.as_str(), session_id)
            .await?
        else {
            return Ok(false);
        };
        self.end(&session.id, "revoked").await?;
        self.ctx.emit(AuthEvent::SessionRevoked {
            user_id: principal.user_id.to_string(),
            session_id: session.id,
        });
        Ok(true)
    }

    /// Ends every session of the principal except the one it is using; how many.
    pub(super) async fn revoke_others(&self, principal: &Principal) -> Result<usize> {
        let ended = self
            .manager
            .revoke_all(principal.user_id.as_str(), principal.session_id.as_deref())
            .await?;
        for id in &ended {
            self.end(id, "revoked").await?;
            self.ctx.emit(AuthEvent::SessionRevoked {
                user_id: principal.user_id.to_string(),
                session_id: id.clone(),
            });
        }
        Ok(ended.len())
    }

    /// Ends the principal's session, its token, and the session `refresh_token` names when
    /// it is the same user's.
    pub(super) async fn logout(
        &self,
        principal: &Principal,
        refresh_token: Option<&str>,
    ) -> Result<()> {
        let now = self.ctx.clock.now();
        if let Some(jti) = &principal.token_id {
            let expires = principal
                .expires_at
                .map_or_else(|| self.horizon(now), |exp| exp + LEEWAY_MARGIN);
            self.revocations.revoke_token(jti, expires).await?;
        }
        if let Some(session_id) = &principal.session_id {
            self.end(session_id, "logout").await?;
        }
        if let Some(token) = refresh_token {
            if let Some((_, family)) = self
                .refresh
                .find_token(&RefreshTokenCodec::hash(token))
                .await?
            {
                if family.user_id == principal.user_id.as_str() {
                    self.end(&family.id, "logout").await?;
                }
            }
        }
        self.ctx.emit(AuthEvent::LoggedOut {
            user_id: principal.user_id.to_string(),
            session_id: principal.session_id.clone(),
        });
        Ok(())
    }

    /// "Log out everywhere".
    pub(super) async fn logout_all(&self, user_id: &UserId) -> Result<()> {
        self.revoke_everything(user_id, "logout_all").await?;
        self.ctx.emit(AuthEvent::AllSessionsRevoked {
            user_id: user_id.to_string(),
        });
        Ok(())
    }

    /// Ends every session, refresh family and access token of a user: the security epoch
    /// moves and a user cut-off is revoked (in force on every instance through the revocation
    /// check), then the families and sessions end.
    pub(super) async fn revoke_everything(&self, user_id: &UserId, reason: &str) -> Result<()> {
        let now = self.ctx.clock.now();
        let epoch = match self.users.bump_security_epoch(user_id).await {
            Err(StoreError::NotFound) => return Err(AuthError::UserNotFound),
            other => other?,
        };
        let cutoff = UserCutoff {
            issued_before: now,
            epoch_below: epoch,
            expires_at: self.horizon(now),
        };
        self.revocations
            .revoke_user(user_id.as_str(), cutoff)
            .await?;
        self.refresh
            .revoke_user_families(user_id.as_str(), now, reason)
            .await?;
        self.manager.revoke_all(user_id.as_str(), None).await?;
        Ok(())
    }
}
