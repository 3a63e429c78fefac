//! The refresh flow: a refresh token rotates to its successor and a new access token;
//! concurrent uses within the grace window get the same successor, a later reuse ends the
//! session (reuse detection).

use std::sync::Arc;

use super::account::active_user;
use super::bearer::{Bearer, LoginResponse};
use crate::error::{AuthError, Result};
use crate::events::AuthEvent;
use crate::token::refresh::{RefreshTokenCodec, RefreshTokenRecord, RotateOutcome};
use crate::user::{UserId, UserStore};

/// Rotates refresh tokens.
#[derive(Clone)]
pub(super) struct Refresh {
    pub(super) bearer: Bearer,
    pub(super) users: Arc<dyn UserStore>,
    /// Seconds within which a reused token gets the same successor.
    pub(super) reuse_grace: i64,
}

impl Refresh {
    /// Rotates `refresh_token`, presented by the OAuth client `client_id` (`None`: the
    /// service's own refresh route). A session started for a client rotates for that client
    /// only, and a client only its own sessions.
    pub(super) async fn rotate(
        &self,
        refresh_token: &str,
        client_id: Option<&str>,
    ) -> Result<LoginResponse> {
        let sessions = &self.bearer.sessions;
        let store = &sessions.refresh;
        let ctx = &sessions.ctx;
        let now = ctx.clock.now();
        if refresh_token.is_empty() || refresh_token.len() > 256 {
            return Err(AuthError::InvalidRefreshToken);
        }
        let hash = RefreshTokenCodec::hash(refresh_token);
        let Some((record, family)) = store.find_token(&hash).await? else {
            return Err(AuthError::InvalidRefreshToken);
        };
        if family.revoked_at.is_some() || family.expires_at <= now || record.expires_at <= now {
            return Err(AuthError::InvalidRefreshToken);
        }
        let user = active_user(self.users.as_ref(), &UserId(family.user_id.clone()))
            .await?
            .ok_or(AuthError::InvalidRefreshToken)?;
        // The session must still be there (not revoked, evicted or idle too long); a refresh
        // counts as a use of it.
        let Some(session) = sessions.manager.use_session(&family.id).await? else {
            sessions.end(&family.id, "session_ended").await?;
            return Err(AuthError::InvalidRefreshToken);
        };
        if session.client.as_ref().map(|c| c.client_id.as_str()) != client_id {
            return Err(AuthError::InvalidRefreshToken);
        }
        let factors = session.satisfied_factors();
        let successor = self.bearer.codec.successor(refresh_token);
        let successor_record = RefreshTokenRecord::new(
            RefreshTokenCodec::hash(&successor),
            family.id.clone(),
            now,
            (now + self.bearer.lifetimes.token).min(family.expires_at),
        );
        let outcome = match record.used_at {
            Some(used_at) => RotateOutcome::AlreadyUsed { used_at },
            None => store.rotate(&hash, now, &successor_record).await?,
        };
        match outcome {
            RotateOutcome::Rotated => {
                ctx.emit(AuthEvent::TokenRefreshed {
                    user_id: user.id.to_string(),
                    session_id: family.id.clone(),
                });
                self.bearer.token_response(
                    &user,
                    &family,
                    &factors,
                    session.client.as_ref(),
                    successor,
                    successor_record.expires_at - now,
                )
            }
            RotateOutcome::NotFound => Err(AuthError::InvalidRefreshToken),
            RotateOutcome::AlreadyUsed { used_at } => {
                if now - used_at <= self.reuse_grace {
                    // A racing request (another tab, a retry): hand out the same successor if
                    // it is still unused.
                    if let Some((next, _)) = store.find_token(&successor_record.token_hash).await? {
                        if next.used_at.is_none() && next.family_id == family.id {
                            return self.bearer.token_response(
                                &user,
                                &family,
                                &factors,
                                session.client.as_ref(),
                                successor,
                                next.expires_at - now,
                            );
                        }
                    }
                }
                sessions.end(&family.id, "reuse_detected").await?;
                ctx.emit(AuthEvent::RefreshTokenReuseDetected {
                    user_id: user.id.to_string(),
                    session_id: family.id.clone(),
                });
                Err(AuthError::InvalidRefreshToken)
            }
        }
    }
}
