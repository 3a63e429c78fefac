//! [`AuthService`]'s second-factor methods: status, enrolment, the login challenge's
//! completion, step-up, turning MFA off and new backup codes.

use std::fmt;

use super::{LoginMode, MfaStatus, Proof, SecondFactor};
use crate::error::{AuthError, Result};
use crate::mfa::{factor, SatisfiedFactor};
use crate::principal::{CredentialKind, Principal};
use crate::service::account::active_user;
use crate::service::signed_in;
use crate::service::{CookieLogin, LoginResponse};
use crate::token::IssuedToken;
use crate::user::User;
use crate::AuthService;

/// A login completed with its second factor: tokens, or a cookie session, as the login asked.
#[derive(Debug)]
#[non_exhaustive]
pub enum MfaLogin {
    /// A bearer login's tokens.
    Tokens(Box<LoginResponse>),
    /// A browser login's session.
    Cookie(Box<CookieLogin>),
}

/// A session that proved a factor again: a new access token carrying it, or (for a cookie
/// session) a new cookie, the old one revoked.
#[non_exhaustive]
pub enum StepUp {
    /// A bearer session's new access token (its refresh token gives ones with the same
    /// factors from now on).
    Bearer(IssuedToken),
    /// A cookie session's new cookie.
    Cookie(CookieLogin),
}

impl fmt::Debug for StepUp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bearer(token) => f.debug_tuple("Bearer").field(token).finish(),
            Self::Cookie(login) => f.debug_tuple("Cookie").field(login).finish(),
        }
    }
}

impl AuthService {
    /// The signed-in principal's active user.
    pub(in crate::service) async fn mfa_user(&self, principal: &Principal) -> Result<User> {
        signed_in(principal, "manage or prove second factors")?;
        active_user(self.inner.users.as_ref(), &principal.user_id)
            .await?
            .ok_or(AuthError::UserNotFound)
    }

    /// The signed-in principal's active user, when it authenticated recently enough to change
    /// its factors (`AUTH__MFA__REAUTH_MINUTES`); else the challenge to step up.
    #[cfg(any(feature = "totp", feature = "webauthn"))]
    pub(in crate::service) async fn recently_authenticated_user(
        &self,
        principal: &Principal,
    ) -> Result<User> {
        let max_age = self.inner.mfa.reauth_max_age;
        if max_age > 0 {
            use crate::authz::{PolicyContext, Requirement, RoleHierarchy};
            let recent = Requirement::RecentAuth { max_age };
            let roles = RoleHierarchy::default();
            let ctx = PolicyContext::new(principal, &roles, &[], &[]);
            recent.check_in(&ctx.at(self.inner.ctx.clock.now()))?;
        }
        self.mfa_user(principal).await
    }

    /// After a right password: the challenge of an account with a second factor, as the
    /// error [`login`](Self::login) answers with.
    pub(in crate::service) async fn mfa_gate(
        &self,
        user: &User,
        mode: LoginMode,
        device: &crate::session::Device,
    ) -> Result<()> {
        match self.inner.mfa.challenge(user, mode, device, false).await? {
            Some(challenge) => Err(AuthError::MfaRequired(Box::new(challenge))),
            None => Ok(()),
        }
    }

    /// The principal's second-factor state.
    ///
    /// # Errors
    /// [`AuthError::Forbidden`] for an API key; [`AuthError::ServiceUnavailable`].
    pub async fn mfa_status(&self, principal: &Principal) -> Result<MfaStatus> {
        signed_in(principal, "manage or prove second factors")?;
        self.inner.mfa.status(&principal.user_id).await
    }

    /// Completes a login that answered [`AuthError::MfaRequired`]: with a right code (or
    /// backup code) for its `mfa_token`, the tokens or cookie session the login asked for,
    /// recording both factors (`amr` `["pwd", "otp"]`).
    ///
    /// # Errors
    /// [`AuthError::InvalidOneTimeToken`] for an unknown, expired or used `mfa_token`;
    /// [`AuthError::InvalidMfaCode`] for a wrong or replayed code;
    /// [`AuthError::Validation`] for input that is no code;
    /// [`AuthError::TooManyAttempts`] / [`AuthError::RateLimited`] when wrong codes came too
    /// fast.
    pub async fn verify_mfa(
        &self,
        mfa_token: &str,
        factor: &SecondFactor,
        client_ip: Option<&str>,
    ) -> Result<MfaLogin> {
        let flow = async {
            let (user, pending, proven) = self
                .inner
                .mfa
                .complete(mfa_token, factor, client_ip)
                .await?;
            let factors = vec![pending.first_factor(), proven];
            self.start_login_session(&user, pending.mode, pending.device, factors)
                .await
        };
        self.in_span("mfa_verify", flow, |login| match login {
            MfaLogin::Tokens(tokens) => Self::login_ids(tokens),
            MfaLogin::Cookie(cookie) => (
                Some(cookie.user.id.to_string()),
                Some(cookie.session_id.clone()),
            ),
        })
        .await
    }

    /// Starts the session of a completed login, as `mode` asks, with the factors it proved.
    pub(in crate::service) async fn start_login_session(
        &self,
        user: &User,
        mode: LoginMode,
        device: crate::session::Device,
        factors: Vec<SatisfiedFactor>,
    ) -> Result<MfaLogin> {
        let inner = &self.inner;
        Ok(match mode {
            LoginMode::Bearer => {
                MfaLogin::Tokens(Box::new(inner.bearer.start(user, device, factors).await?))
            }
            LoginMode::Cookie => {
                MfaLogin::Cookie(Box::new(inner.cookies.start(user, device, factors).await?))
            }
        })
    }

    /// Proves a factor again in the principal's session (sudo mode, or a second factor a
    /// guard asks for): the session records it, and the answer carries it (a new access
    /// token, or a new cookie with the old one revoked, so a cookie stolen before gains
    /// nothing).
    ///
    /// # Errors
    /// [`AuthError::InvalidCredentials`] for a wrong password, [`AuthError::InvalidMfaCode`]
    /// for a wrong code; [`AuthError::InvalidSession`] for a principal without a live session
    /// (API keys are [`AuthError::Forbidden`]).
    pub async fn step_up(
        &self,
        principal: &Principal,
        proof: &Proof,
        client_ip: Option<&str>,
    ) -> Result<StepUp> {
        let user = self.mfa_user(principal).await?;
        let session = self.stepping_session(principal, &user).await?;
        let proven = self.inner.mfa.prove_any(&user, proof, client_ip).await?;
        self.stepped_up(principal, &user, session, proven).await
    }

    /// The principal's live session, which a step-up adds a factor to.
    pub(in crate::service) async fn stepping_session(
        &self,
        principal: &Principal,
        user: &User,
    ) -> Result<crate::session::Session> {
        let session_id = principal
            .session_id
            .as_deref()
            .ok_or(AuthError::InvalidSession)?;
        self.inner
            .sessions
            .manager
            .use_session(session_id)
            .await?
            .filter(|s| s.user_id == user.id.as_str())
            .ok_or(AuthError::InvalidSession)
    }

    /// Records `proven` in the principal's session: a new access token carrying it, or for a
    /// cookie session a new cookie.
    pub(in crate::service) async fn stepped_up(
        &self,
        principal: &Principal,
        user: &User,
        session: crate::session::Session,
        proven: SatisfiedFactor,
    ) -> Result<StepUp> {
        let mut factors = session.satisfied_factors();
        factor::record(&mut factors, proven);
        let store = self.inner.sessions.manager.store();
        if !store.set_session_factors(&session.id, &factors).await? {
            return Err(AuthError::InvalidSession);
        }
        if principal.credential == CredentialKind::Cookie {
            return Ok(StepUp::Cookie(self.inner.cookies.rotate(principal).await?));
        }
        let bearer = &self.inner.bearer;
        Ok(StepUp::Bearer(bearer.access_token(
            user,
            &session.id,
            &factors,
            session.client.as_ref(),
        )?))
    }

    /// Starts TOTP enrolment for the principal: the secret, its `otpauth://` URI and QR
    /// codes, shown once. Pending until [`confirm_totp`](Self::confirm_totp); a pending one
    /// is replaced.
    ///
    /// # Errors
    /// [`AuthError::MfaAlreadyEnabled`] when a confirmed authenticator exists;
    /// [`AuthError::InsufficientAuthentication`] when the principal last authenticated longer
    /// ago than `AUTH__MFA__REAUTH_MINUTES`.
    #[cfg(feature = "totp")]
    pub async fn enroll_totp(&self, principal: &Principal) -> Result<super::totp::TotpEnrollment> {
        let user = self.recently_authenticated_user(principal).await?;
        self.inner.mfa.enroll(&user).await
    }

    /// Confirms the pending authenticator with a first code: from now on logins ask for a
    /// code. Returns the backup codes, shown this once.
    ///
    /// # Errors
    /// [`AuthError::InvalidMfaCode`] for a wrong code, [`AuthError::MfaNotEnabled`] with no
    /// enrolment pending, [`AuthError::MfaAlreadyEnabled`] when confirmed already.
    #[cfg(feature = "totp")]
    pub async fn confirm_totp(&self, principal: &Principal, code: &str) -> Result<Vec<String>> {
        let user = self.mfa_user(principal).await?;
        self.inner
            .ctx
            .account_quota(
                crate::rate_limit::RouteGroup::Mfa,
                &super::user_key(&user.id),
            )
            .await?;
        self.inner.mfa.confirm(&user, code).await
    }

    /// Turns the principal's authenticator and backup codes off, given the password or a
    /// current code.
    ///
    /// # Errors
    /// [`AuthError::MfaNotEnabled`]; [`AuthError::InvalidCredentials`] /
    /// [`AuthError::InvalidMfaCode`] for a wrong proof.
    #[cfg(feature = "totp")]
    pub async fn disable_totp(
        &self,
        principal: &Principal,
        proof: &Proof,
        client_ip: Option<&str>,
    ) -> Result<()> {
        let user = self.mfa_user(principal).await?;
        self.inner.mfa.disable(&user, proof, client_ip).await
    }

    /// A new set of backup codes in place of the principal's old ones, given the password or
    /// a current code; shown this once.
    ///
    /// # Errors
    /// As [`disable_totp`](Self::disable_totp).
    #[cfg(feature = "totp")]
    pub async fn regenerate_backup_codes(
        &self,
        principal: &Principal,
        proof: &Proof,
        client_ip: Option<&str>,
    ) -> Result<Vec<String>> {
        let user = self.mfa_user(principal).await?;
        self.inner.mfa.regenerate(&user, proof, client_ip).await
    }
}
