//! Passwords a user sets: reset by mail (OWASP Forgot Password cheat sheet: a one-time link
//! to the account's address, the same answer whoever asks, a reset that ends every session),
//! and change by a signed-in user (the other sessions end, the current one stays).

use std::sync::Arc;

use secrecy::ExposeSecret;

use super::super::login::password_error;
use super::super::sessions::Sessions;
use super::{active_user, confirm_password, issue_token, user_key, NewPasswords};
use crate::account::{hash_token, OneTimeTokenStore, TokenPurpose};
use crate::error::{AuthError, Result, StoreError, ValidationErrors};
use crate::events::AuthEvent;
use crate::mail::{send_template, Mailer, Templates};
use crate::password::PasswordHasher;
use crate::principal::Principal;
use crate::rate_limit::RouteGroup;
use crate::user::{validate_email, UserStore};

/// Password reset (the forgot step mails a link, the reset step consumes it) and change.
#[derive(Clone)]
pub(in crate::service) struct PasswordFlows {
    pub(in crate::service) users: Arc<dyn UserStore>,
    pub(in crate::service) tokens: Arc<dyn OneTimeTokenStore>,
    pub(in crate::service) mailer: Arc<dyn Mailer>,
    pub(in crate::service) passwords: PasswordHasher,
    /// The policy and history a new password must pass.
    pub(in crate::service) new_passwords: NewPasswords,
    /// For what a reset ends: every session and token of the user.
    pub(in crate::service) sessions: Sessions,
    /// Seconds a reset link works.
    pub(in crate::service) reset_lifetime: i64,
    /// Where links point (`AUTH__MAIL__LINK_BASE_URL`), without a trailing slash.
    pub(in crate::service) link_base: String,
    /// The messages.
    pub(in crate::service) templates: Arc<Templates>,
}

impl PasswordFlows {
    /// Mails a reset link when `email` belongs to an active account; does nothing otherwise.
    /// The caller answers the same either way (and should not wait for this: see the route).
    pub(in crate::service) async fn forgot(&self, email: &str) -> Result<()> {
        let mut errors = ValidationErrors::default();
        validate_email(email.trim(), &mut errors);
        errors.into_result()?;
        let Some(user) = self.users.get_by_email(email).await? else {
            return Ok(());
        };
        if !user.is_active {
            return Ok(());
        }
        let ctx = &self.sessions.ctx;
        let token = issue_token(
            self.tokens.as_ref(),
            ctx,
            TokenPurpose::PasswordReset,
            &user.id,
            self.reset_lifetime,
            None,
        )
        .await?;
        let token = token.expose_secret();
        let link = format!("{}/reset-password?token={token}", self.link_base);
        self.mail(
            &user.email,
            "reset_password",
            minijinja::context! {
                username => user.username,
                link => link,
                token => token,
                minutes => self.reset_lifetime / 60,
            },
        );
        ctx.emit(AuthEvent::PasswordResetRequested {
            user_id: user.id.to_string(),
        });
        Ok(())
    }

    /// Sets a new password with a reset token: the token is consumed (once, atomically), every
    /// session and token of the user ends, every other one-time token is void, the address
    /// counts as verified (the link reached it), and the user is told by mail.
    pub(in crate::service) async fn reset(&self, token: &str, new_password: &str) -> Result<()> {
        let ctx = &self.sessions.ctx;
        let token_hash = hash_token(token);
        let purpose = TokenPurpose::PasswordReset;
        // The policy needs the account, and a password it refuses must leave the link usable
        // for a better one: look the token up first, spend it only once the password passes.
        let Some(found) = self
            .tokens
            .find(&token_hash, purpose, ctx.clock.now())
            .await?
        else {
            return Err(AuthError::InvalidOneTimeToken);
        };
        let Some(user) = active_user(self.users.as_ref(), &found.user_id).await? else {
            return Err(AuthError::InvalidOneTimeToken);
        };
        let mut errors = ValidationErrors::default();
        self.new_passwords
            .check_for(&user, new_password, "new_password", &mut errors)
            .await?;
        errors.into_result()?;
        // Of two resets with one link, the one whose consumption succeeds goes on.
        let consumed = self
            .tokens
            .consume(&token_hash, purpose, ctx.clock.now())
            .await?;
        if consumed.is_none_or(|c| c.user_id != user.id) {
            return Err(AuthError::InvalidOneTimeToken);
        }
        let hash = self
            .passwords
            .hash(new_password)
            .await
            .map_err(password_error)?;
        match self.users.set_password_hash(&user.id, &hash).await {
            Err(StoreError::NotFound) => return Err(AuthError::InvalidOneTimeToken),
            other => other?,
        }
        self.new_passwords
            .remember_previous(&user, ctx.clock.now())
            .await?;
        self.sessions
            .revoke_everything(&user.id, "password reset")
            .await?;
        // The link reached the account's mailbox: the address is its owner's.
        if !user.is_verified {
            self.users.mark_verified(&user.id).await?;
        }
        self.tokens.void_user(&user.id).await?;
        self.notify_changed(
            &user.email,
            &user.username,
            "every device signed in to it was",
        );
        ctx.emit(AuthEvent::PasswordReset {
            user_id: user.id.to_string(),
        });
        Ok(())
    }

    /// Changes the signed-in principal's password: `current` must be the password now, and
    /// `new_password` pass the policy and differ from it. The principal's other sessions end
    /// (their refresh and access tokens with them); the one it uses stays. Every one-time
    /// token of the user is void, and the user is told by mail.
    pub(in crate::service) async fn change(
        &self,
        principal: &Principal,
        current: &str,
        new_password: &str,
    ) -> Result<()> {
        self.sessions
            .ctx
            .account_quota(RouteGroup::Password, &user_key(&principal.user_id))
            .await?;
        let user = active_user(self.users.as_ref(), &principal.user_id)
            .await?
            .ok_or(AuthError::UserNotFound)?;
        let mut errors = ValidationErrors::default();
        confirm_password(
            &self.passwords,
            &user,
            current,
            "current_password",
            &mut errors,
        )
        .await?;
        if current == new_password {
            errors.push("new_password", "must differ from the current password");
        } else {
            self.new_passwords
                .check_for(&user, new_password, "new_password", &mut errors)
                .await?;
        }
        errors.into_result()?;
        let hash = self
            .passwords
            .hash(new_password)
            .await
            .map_err(password_error)?;
        // Compare and set against the hash just verified: a reset landing meanwhile wins.
        let stored = user.password_hash.as_deref().unwrap_or_default();
        match self
            .users
            .replace_password_hash(&user.id, stored, &hash)
            .await
        {
            Ok(true) => {
                self.new_passwords
                    .remember_previous(&user, self.sessions.ctx.clock.now())
                    .await?;
            }
            Ok(false) => return Err(AuthError::Conflict { field: "password" }),
            Err(StoreError::NotFound) => return Err(AuthError::UserNotFound),
            Err(e) => return Err(e.into()),
        }
        self.sessions.revoke_others(principal).await?;
        self.tokens.void_user(&user.id).await?;
        self.notify_changed(
            &user.email,
            &user.username,
            "every other device signed in to it was",
        );
        self.sessions.ctx.emit(AuthEvent::PasswordChanged {
            user_id: user.id.to_string(),
        });
        Ok(())
    }

    /// Tells the owner the password changed, and which sessions ended.
    fn notify_changed(&self, email: &str, username: &str, ended: &str) {
        self.mail(
            email,
            "password_changed",
            minijinja::context! { username => username, ended => ended },
        );
    }

    /// Sends the message `template` to `to` in the background.
    fn mail(&self, to: &str, template: &str, context: minijinja::Value) {
        send_template(&self.mailer, &self.templates, to, template, context);
    }
}
