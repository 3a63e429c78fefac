//! What an OpenID Connect and a SAML sign-in share: how it starts and ends, and the login
//! it ends with once the account is resolved to a user.

use std::fmt;

use secrecy::SecretString;

use super::linking::Resolved;
use crate::error::Result;
use crate::federation::FederatedIdentity;
use crate::mfa::{FactorKind, SatisfiedFactor};
use crate::service::mfa::LoginMode;
use crate::service::{MfaChallenge, MfaLogin};
use crate::session::Device;
use crate::AuthService;

/// How a sign-in starts.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct SignInOptions {
    /// End it with tokens in the callback's body instead of a cookie session.
    pub tokens: bool,
    /// Where the browser goes afterwards (a path on this site); default
    /// `AUTH__OIDC__DEFAULT_RETURN_TO`.
    pub return_to: Option<String>,
    /// The browser's binding secret when it has one already (its cookie), so that sign-ins
    /// in two tabs both finish; a new one is made otherwise.
    pub binding: Option<String>,
}

/// A started sign-in: where to send the browser, and the binding secret to keep in its
/// cookie until the callback.
#[non_exhaustive]
pub struct SignInStart {
    /// The provider's authorization URL.
    pub authorization_url: String,
    /// The browser's binding secret (an HttpOnly cookie's value).
    pub binding: SecretString,
    /// Seconds the sign-in may take.
    pub expires_in: i64,
}

impl fmt::Debug for SignInStart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignInStart")
            .field("authorization_url", &self.authorization_url)
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

/// How a sign-in ended.
#[derive(Debug)]
#[non_exhaustive]
pub enum SignInResult {
    /// Signed in: tokens or a cookie session, as the sign-in asked.
    Login(MfaLogin),
    /// The user has a second factor: complete the login with the challenge's `mfa_token`
    /// (`POST /auth/mfa/verify`), as after a right password.
    MfaRequired(Box<MfaChallenge>),
    /// The provider account is linked to the signed-in user who started the sign-in.
    Linked(FederatedIdentity),
}

/// A finished sign-in and where its browser goes next.
#[derive(Debug)]
#[non_exhaustive]
pub struct SignInOutcome {
    /// What happened.
    pub result: SignInResult,
    /// The path the sign-in named (or the default).
    pub return_to: String,
    /// Whether the sign-in asked for tokens rather than a cookie session.
    pub tokens: bool,
}

impl AuthService {
    /// Ends a sign-in whose account resolved to `resolved`: a link, or the user's login as
    /// a password login ends (the same admission, the second factor's challenge first), the
    /// provider's word the factor (`amr` `fed`) satisfied at `now`.
    pub(super) async fn end_sign_in(
        &self,
        resolved: Resolved,
        mode: LoginMode,
        device: Device,
        now: i64,
        return_to: String,
    ) -> Result<SignInOutcome> {
        let result = match resolved {
            Resolved::Linked(identity) => SignInResult::Linked(identity),
            Resolved::SignIn(user) => {
                let login = &self.inner.login;
                login.admit(&user).await?;
                let user = login.record(user).await?;
                let mfa = &self.inner.mfa;
                match mfa.challenge(&user, mode, &device, true).await? {
                    Some(challenge) => SignInResult::MfaRequired(Box::new(challenge)),
                    None => {
                        let factors = vec![SatisfiedFactor::new(FactorKind::Federated, now)];
                        let login = self
                            .start_login_session(&user, mode, device, factors)
                            .await?;
                        SignInResult::Login(login)
                    }
                }
            }
        };
        Ok(SignInOutcome {
            result,
            return_to,
            tokens: mode == LoginMode::Bearer,
        })
    }
}
