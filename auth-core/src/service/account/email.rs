//! Email addresses: verification by a one-time link mailed at registration (and again on
//! request), and the change of address, confirmed from the new address while the old one is
//! told.

use std::sync::Arc;

use secrecy::ExposeSecret;

use super::super::Context;
use super::{active_user, confirm_password, issue_token, user_key};
use crate::account::{hash_token, OneTimeTokenStore, TokenPurpose};
use crate::error::{AuthError, Result, StoreError, ValidationErrors};
use crate::events::AuthEvent;
use crate::mail::{send_template, Mailer, Templates};
use crate::password::PasswordHasher;
use crate::principal::Principal;
use crate::rate_limit::RouteGroup;
use crate::user::identifier::email_key;
use crate::user::{validate_email, User, UserStore};

/// Mails verification links and consumes them.
#[derive(Clone)]
pub(in crate::service) struct EmailVerification {
    pub(in crate::service) users: Arc<dyn UserStore>,
    pub(in crate::service) tokens: Arc<dyn OneTimeTokenStore>,
    pub(in crate::service) mailer: Arc<dyn Mailer>,
    pub(in crate::service) ctx: Context,
    /// Checks the password an email change is confirmed with.
    pub(in crate::service) passwords: PasswordHasher,
    /// Seconds a verification link works.
    pub(in crate::service) lifetime: i64,
    /// Where links point (`AUTH__MAIL__LINK_BASE_URL`), without a trailing slash.
    pub(in crate::service) link_base: String,
    /// The messages.
    pub(in crate::service) templates: Arc<Templates>,
}

impl EmailVerification {
    /// Mails `user` a link that verifies their address, superseding any earlier one.
    pub(in crate::service) async fn send(&self, user: &User) -> Result<()> {
        let token = issue_token(
            self.tokens.as_ref(),
            &self.ctx,
            TokenPurpose::VerifyEmail,
            &user.id,
            self.lifetime,
            None,
        )
        .await?;
        let token = token.expose_secret();
        let link = format!("{}/verify-email?token={token}", self.link_base);
        self.mail(
            &user.email,
            "verify_email",
            minijinja::context! {
                username => user.username,
                link => link,
                token => token,
                hours => self.lifetime / 3600,
            },
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
        self.ctx
            .account_quota(RouteGroup::Verify, &user_key(&principal.user_id))
            .await?;
        let user = active_user(self.users.as_ref(), &principal.user_id)
            .await?
            .ok_or(AuthError::UserNotFound)?;
        if user.is_verified {
            return Ok(false);
        }
        self.send(&user).await?;
        Ok(true)
    }

    /// Starts an email change for the principal: its password confirms the request, the new
    /// address gets a link (valid as long as a verification link), the old one is told.
    pub(in crate::service) async fn request_change(
        &self,
        principal: &Principal,
        new_email: &str,
        password: &str,
    ) -> Result<()> {
        self.ctx
            .account_quota(RouteGroup::Verify, &user_key(&principal.user_id))
            .await?;
        let user = active_user(self.users.as_ref(), &principal.user_id)
            .await?
            .ok_or(AuthError::UserNotFound)?;
        let new_email = new_email.trim();
        let mut errors = ValidationErrors::default();
        confirm_password(&self.passwords, &user, password, "password", &mut errors).await?;
        validate_email(new_email, &mut errors);
        if errors.0.is_empty() && email_key(new_email) == email_key(&user.email) {
            errors.push("new_email", "is the account's address already");
        }
        // The field is `new_email` here; validate_email names it `email`.
        for error in &mut errors.0 {
            if error.field == "email" {
                error.field = "new_email".into();
            }
        }
        errors.into_result()?;
        if self.users.get_by_email(new_email).await?.is_some() {
            return Err(AuthError::Conflict { field: "email" });
        }
        let token = issue_token(
            self.tokens.as_ref(),
            &self.ctx,
            TokenPurpose::ChangeEmail,
            &user.id,
            self.lifetime,
            Some(new_email),
        )
        .await?;
        let token = token.expose_secret();
        let link = format!("{}/confirm-email?token={token}", self.link_base);
        self.mail(
            new_email,
            "change_email",
            minijinja::context! {
                username => user.username,
                link => link,
                token => token,
                hours => self.lifetime / 3600,
            },
        );
        self.mail(
            &user.email,
            "email_change_requested",
            minijinja::context! { username => user.username, new_email => new_email },
        );
        Ok(())
    }

    /// Completes an email change with the token mailed to the new address; the token works
    /// once, and the old address is told.
    pub(in crate::service) async fn confirm_change(&self, token: &str) -> Result<()> {
        let consumed = self
            .tokens
            .consume(
                &hash_token(token),
                TokenPurpose::ChangeEmail,
                self.ctx.clock.now(),
            )
            .await?
            .ok_or(AuthError::InvalidOneTimeToken)?;
        let (Some(user), Some(new_email)) = (
            active_user(self.users.as_ref(), &consumed.user_id).await?,
            consumed.payload,
        ) else {
            return Err(AuthError::InvalidOneTimeToken);
        };
        match self
            .users
            .replace_email(&user.id, &user.email, &new_email)
            .await
        {
            Ok(true) => {}
            // The address changed since the user was read: this token is stale.
            Ok(false) | Err(StoreError::NotFound) => return Err(AuthError::InvalidOneTimeToken),
            Err(e) => return Err(e.into()),
        }
        self.mail(
            &user.email,
            "email_changed",
            minijinja::context! { username => user.username, new_email => new_email },
        );
        self.ctx.emit(AuthEvent::EmailChanged {
            user_id: user.id.to_string(),
        });
        Ok(())
    }

    /// Sends the message `template` to `to` in the background.
    fn mail(&self, to: &str, template: &str, context: minijinja::Value) {
        send_template(&self.mailer, &self.templates, to, template, context);
    }
}
