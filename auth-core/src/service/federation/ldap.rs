//! Signing in with a directory account (feature `ldap`): the login name and password checked
//! by the directory (with the lockout and rate limits of a password login around it), the
//! entry linked to a user by the linking rules, its groups mapped to roles, and the login
//! ended as a password login is (the password is the factor: `amr` `pwd`).

use super::linking::{LinkPolicy, Resolved};
use crate::error::{AuthError, Result};
use crate::mfa::{FactorKind, SatisfiedFactor};
use crate::service::mfa::{LoginMode, MfaLogin};
use crate::service::LoginRequest;
use crate::AuthService;

impl AuthService {
    /// Signs in with a directory account (`[ldap]`): the entry of `request.login` found by
    /// the service account, the password checked by a bind as it (an empty password is
    /// refused before any bind), the entry linked to a user (made at its first sign-in when
    /// `AUTH__LDAP__ALLOW_SIGNUP`), its groups' roles (`[ldap.roles]`) given, and a session
    /// started as `cookie` asks, after the user's second factor if it has one.
    ///
    /// # Errors
    /// [`AuthError::InvalidCredentials`] for a wrong name or password, a deactivated user, or
    /// no directory configured; [`AuthError::MfaRequired`] with the challenge;
    /// [`AuthError::AuthServiceUnavailable`] when the directory is down, too slow or refuses
    /// the service account; the lockout's and rate limits' refusals as at a password login;
    /// [`FederationError`](crate::federation::FederationError)s of the linking rules.
    pub async fn login_with_directory(
        &self,
        request: LoginRequest,
        cookie: bool,
    ) -> Result<MfaLogin> {
        use secrecy::ExposeSecret;
        let flows = &self.inner.federation;
        let Some(directory) = flows.directory.clone() else {
            return Err(AuthError::InvalidCredentials);
        };
        let login = &self.inner.login;
        let password = request.password.expose_secret();
        if password.is_empty() {
            return Err(AuthError::InvalidCredentials);
        }
        let attempt = login.attempt(&request).await?;
        let account = match directory.authenticate(&request.login, password).await? {
            Some(account) => account,
            None => return Err(login.failed(attempt, None).await),
        };
        login.succeeded(attempt).await;
        let config = directory.config();
        let policy = LinkPolicy {
            trust_email: config.trust_email,
            allow_signup: config.allow_signup,
        };
        let user = match flows
            .resolve(policy, &account.profile, None, &self.inner.accounts)
            .await?
        {
            Resolved::SignIn(user) => user,
            // Only a link asked by a signed-in user resolves to a link.
            Resolved::Linked(_) => return Err(AuthError::InvalidCredentials),
        };
        let user = self
            .sync_mapped_roles(user, &config.roles, &account.groups)
            .await?;
        login.admit(&user).await?;
        let user = login.record(user).await?;
        let mode = if cookie {
            LoginMode::Cookie
        } else {
            LoginMode::Bearer
        };
        self.mfa_gate(&user, mode, &request.device).await?;
        let factors = vec![SatisfiedFactor::new(
            FactorKind::Password,
            self.inner.ctx.clock.now(),
        )];
        self.start_login_session(&user, mode, request.device, factors)
            .await
    }
}
