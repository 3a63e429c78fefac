//! [`AuthService`]'s account lifecycle methods: password reset and change, email verification
//! and change, and the user's own profile fields. They forward to the flows of this module.

use serde_json::{Map, Value};

use crate::error::{Result, ValidationErrors};
use crate::lockout::login_key;
use crate::principal::Principal;
use crate::rate_limit::RouteGroup;
use crate::user::{validate_email, PublicUser};
use crate::AuthService;

impl AuthService {
    /// The first step of a password reset: when `email` is the address of an active account,
    /// mails it a one-time link (`AUTH__ACCOUNT__RESET_TOKEN_MINUTES`, default 30) that
    /// supersedes any earlier one; otherwise does nothing. Callers answer the same in both
    /// cases, and should not make the answer wait for this (`POST /auth/password/forgot`
    /// answers 202 at once and runs it in the background), so that neither the answer nor
    /// its time tells whether the address has an account.
    ///
    /// # Errors
    /// [`AuthError::Validation`] for a string that is no email address;
    /// [`AuthError::ServiceUnavailable`] when a store is down.
    pub async fn forgot_password(&self, email: &str) -> Result<()> {
        self.inner.password_flows.forgot(email).await
    }

    /// [`forgot_password`](Self::forgot_password) as an endpoint runs it: checks the address
    /// is one, counts it against the per-account quota of the `password` routes
    /// (`AUTH__RATE_LIMIT__PASSWORD__PER_ACCOUNT`, by the address whether or not an account
    /// has it), and does the rest in the background, so that neither the answer nor its time
    /// tells whether the address has an account. Failures of the background part are logged.
    ///
    /// # Errors
    /// [`AuthError::Validation`](crate::AuthError::Validation) for a string that is no email
    /// address; [`AuthError::RateLimited`](crate::AuthError::RateLimited).
    pub async fn request_password_reset(&self, email: &str) -> Result<()> {
        let email = email.trim();
        let mut errors = ValidationErrors::default();
        validate_email(email, &mut errors);
        errors.into_result()?;
        self.inner
            .login
            .ctx
            .account_quota(RouteGroup::Password, &login_key(email))
            .await?;
        let service = self.clone();
        let email = email.to_owned();
        let origin = crate::events::origin::current();
        tokio::spawn(crate::events::origin::inherit(origin, async move {
            if let Err(e) = service.forgot_password(&email).await {
                tracing::error!(error = %e, "a password reset request failed");
            }
        }));
        Ok(())
    }

    /// The second step: sets `new_password` for the account of a mailed reset token. The token
    /// works once; every session, refresh family and access token of the user ends; every
    /// other one-time token of the user is void; the user is told by mail.
    ///
    /// # Errors
    /// [`AuthError::Validation`] when the password policy refuses `new_password` (the token
    /// stays usable); [`AuthError::InvalidOneTimeToken`] for a token that is wrong, used,
    /// expired, superseded, or of a deactivated account, all alike.
    pub async fn reset_password(&self, token: &str, new_password: &str) -> Result<()> {
        self.inner.password_flows.reset(token, new_password).await
    }

    /// Changes profile fields of the principal's user (`PATCH /auth/me`): only the fields of
    /// the user model a client may set; the framework's own fields (roles, flags, username,
    /// email, password) and read-only fields are refused by name, each value is checked as at
    /// registration, and the model's own checks run over the result.
    ///
    /// # Errors
    /// [`AuthError::Validation`] listing every refused or invalid field;
    /// [`AuthError::UserNotFound`] when the user is gone or deactivated.
    pub async fn update_profile(
        &self,
        principal: &Principal,
        changes: &Map<String, Value>,
    ) -> Result<PublicUser> {
        self.inner
            .accounts
            .update_profile(&principal.user_id, changes, &self.model)
            .await
    }

    /// Marks the address of a mailed verification token's account verified (the link mailed
    /// at registration, valid `AUTH__ACCOUNT__VERIFY_TOKEN_HOURS`, default 24). The token
    /// works once.
    ///
    /// # Errors
    /// [`AuthError::InvalidOneTimeToken`] for a token that is wrong, used, expired,
    /// superseded, or of a deactivated account, all alike.
    pub async fn verify_email(&self, token: &str) -> Result<()> {
        self.inner.verification.verify(token).await
    }

    /// Mails the principal a new verification link (the older one stops working), unless the
    /// address is verified already; returns whether a link was sent.
    ///
    /// # Errors
    /// [`AuthError::UserNotFound`] when the user is gone or deactivated.
    pub async fn resend_verification(&self, principal: &Principal) -> Result<bool> {
        self.inner.verification.resend(principal).await
    }

    /// Starts a change of the principal's email address: `password` confirms it, the new
    /// address is mailed a link (valid `AUTH__ACCOUNT__VERIFY_TOKEN_HOURS`), and the old one
    /// is told. Nothing changes until the link is used ([`confirm_email_change`](Self::confirm_email_change)).
    ///
    /// # Errors
    /// [`AuthError::Validation`] naming `password` or `new_email`; [`AuthError::Conflict`]
    /// when another account has the address; [`AuthError::UserNotFound`] when the user is gone
    /// or deactivated.
    pub async fn request_email_change(
        &self,
        principal: &Principal,
        new_email: &str,
        password: &str,
    ) -> Result<()> {
        self.inner
            .verification
            .request_change(principal, new_email, password)
            .await
    }

    /// Completes an email change with the link mailed to the new address: the address is set
    /// (and verified), the old one is told. The token works once.
    ///
    /// # Errors
    /// [`AuthError::InvalidOneTimeToken`] for a wrong, used, expired or superseded token, or
    /// when the address changed meanwhile; [`AuthError::Conflict`] when another account took
    /// the address meanwhile.
    pub async fn confirm_email_change(&self, token: &str) -> Result<()> {
        self.inner.verification.confirm_change(token).await
    }

    /// Changes the signed-in principal's password. `current_password` must be the password
    /// now; `new_password` must pass the policy and differ from it. The principal's other
    /// sessions end with their tokens, the one it uses stays signed in; pending reset links
    /// are void; the owner is told by mail.
    ///
    /// # Errors
    /// [`AuthError::Validation`] naming `current_password` (not the password) and/or
    /// `new_password` (refused by the policy); [`AuthError::UserNotFound`] when the user is
    /// gone or deactivated; [`AuthError::Conflict`] when the password changed meanwhile.
    pub async fn change_password(
        &self,
        principal: &Principal,
        current_password: &str,
        new_password: &str,
    ) -> Result<()> {
        self.inner
            .password_flows
            .change(principal, current_password, new_password)
            .await
    }
}
