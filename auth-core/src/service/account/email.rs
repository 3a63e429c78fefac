//! Email verification: a one-time link mailed at registration (and again on request) that
//! marks the address verified when used.

use std::sync::Arc;

use secrecy::ExposeSecret;

use super::super::Context;
use super::active_user;
use crate::account::{hash_token, new_token, OneTimeToken, OneTimeTokenStore, TokenPurpose};
use crate::error::{AuthError, Result, StoreError};
use crate::events::AuthEvent;
use crate::mail::{deliver, Mail, Mailer};
use crate::principal::Principal;
use crate::user::{User, UserStore};

/// Mails verification links and consumes them.
#[derive(Clone)]
pub(in crate::service) struct EmailVerification {
    pub(in crate::service) users: Arc<dyn UserStore>,
    pub(in crate::service) tokens: Arc<dyn OneTimeTokenStore>,
    pub(in crate::service) mailer: Arc<dyn Mailer>,
    pub(in crate::service) ctx: Context,
    /// Seconds a verification link works.
    pub(in crate::service) lifetime: i64,
    /// Where links point (`AUTH__MAIL__LINK_BASE_URL`), without a trailing slash.
    pub(in crate::service) link_base: String,
}

impl EmailVerification {
    /// Mails `user` a link that verifies their address, superseding any earlier one.
    pub(in crate::service) async fn send(&self, user: &User) -> Result<()> {
        let now = self.ctx.clock.now();
        let (token, hash) = new_token(self.ctx.random.as_ref());
        self.tokens
            .issue(&OneTimeToken::new(
                hash,
                TokenPurpose::VerifyEmail,
                user.id.clone(),
                now,
                now.saturating_add(self.lifetime),
            ))
            .await?;
        let token = token.expose_secret();
        let hours = self.lifetime / 3600;
        let link = format!("{}/verify-email?token={token}", self.link_base);
        let text = format!(
            "Please confirm that this is the address of your account `{}`.\r\n\r\n\
             Open this link within {hours} hours:\r\n\r\n\
             {link}\r\n\r\n\
             or send this token to POST /auth/verify-email:\r\n\r\n\
             Token: {token}\r\n\r\n\
             If you did not create an account, ignore this message.\r\n",
            user.username
        );
        deliver(
            Arc::clone(&self.mailer),
            Mail::new(&user.email, "Confirm your email address", text),
        );
        Ok(())
    }

    /// Marks the address of a verification token's user verified; the token works once.
    pub(in crate::service) async fn verify(&self, token: &str) -> Result<()> {
        let consumed = self
            .tokens
            .consume(
                &hash_token(token),
                TokenPurpose::VerifyEmail,
                self.ctx.clock.now(),
            )
            .await?
            .ok_or(AuthError::InvalidOneTimeToken)?;
        let Some(user) = active_user(self.users.as_ref(), &consumed.user_id).await? else {
            return Err(AuthError::InvalidOneTimeToken);
        };
        match self.users.mark_verified(&user.id).await {
            Err(StoreError::NotFound) => return Err(AuthError::InvalidOneTimeToken),
            other => other?,
        }
        self.ctx.emit(AuthEvent::EmailVerified {
            user_id: user.id.to_string(),
        });
        Ok(())
    }

    /// Mails the principal a new link, unless the address is verified already; returns
    /// whether a link was sent.
    pub(in crate::service) async fn resend(&self, principal: &Principal) -> Result<bool> {
        let user = active_user(self.users.as_ref(), &principal.user_id)
            .await?
            .ok_or(AuthError::UserNotFound)?;
        if user.is_verified {
            return Ok(false);
        }
        self.send(&user).await?;
        Ok(true)
    }
}
