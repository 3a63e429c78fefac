//! Passkeys (feature `webauthn`): registration by a signed-in user, and login with a passkey,
//! either alone (username-less: the authenticator names the account) or as the second factor
//! of a password login's challenge. Each ceremony's state waits in the pending store between
//! its start and its finish, so the two may reach different instances.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use webauthn_rs::prelude::{
    AuthenticationResult, DiscoverableAuthentication, Passkey, PasskeyAuthentication,
    PasskeyRegistration, Uuid, WebauthnResult,
};

use super::{LoginMode, MfaFlows, MfaLogin, StepUp};

use crate::error::{AuthError, Result};
use crate::events::AuthEvent;
use crate::mfa::passkey::PasskeyRecord;
use crate::mfa::webauthn::{
    CreationChallengeResponse, PublicKeyCredential, RegisterPublicKeyCredential,
    RequestChallengeResponse,
};
use crate::mfa::{FactorKind, SatisfiedFactor};
use crate::principal::Principal;
use crate::service::account::active_user;
use crate::session::Device;
use crate::user::{User, UserId};
use crate::AuthService;

/// The pending kind of registrations.
const REGISTER: &str = "passkey_register";
/// The pending kind of logins.
const LOGIN: &str = "passkey_login";
/// The longest name a passkey may have.
const MAX_NAME: usize = 64;

/// A started ceremony: its id (send it back with the finish) and the options for the
/// browser's `navigator.credentials.create()` / `.get()` (`{publicKey: {...}}`).
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Ceremony<T> {
    /// Names the ceremony at its finish.
    pub ceremony_id: String,
    /// The WebAuthn options.
    #[serde(flatten)]
    pub options: T,
}

/// What a registration keeps between start and finish.
#[derive(Serialize, Deserialize)]
struct PendingRegistration {
    user_id: String,
    user_handle: Uuid,
    state: PasskeyRegistration,
}

/// What a login keeps between start and finish.
#[derive(Serialize, Deserialize)]
enum PendingPasskeyLogin {
    /// Username-less: the authenticator names the account.
    Discoverable {
        mode: LoginMode,
        state: DiscoverableAuthentication,
    },
    /// The second factor of a challenged password login.
    SecondFactor {
        /// The challenge's `mfa_token`, hashed.
        mfa_token: String,
        user_id: String,
        state: PasskeyAuthentication,
    },
    /// A step-up of a signed-in user's session.
    StepUp {
        user_id: String,
        session_id: String,
        state: PasskeyAuthentication,
    },
}

/// The credential id as records name it.
fn credential_id(passkey: &Passkey) -> String {
    URL_SAFE_NO_PAD.encode(passkey.cred_id().as_ref() as &[u8])
}

fn stored(record: &PasskeyRecord) -> Result<Passkey> {
    serde_json::from_str(&record.credential)
        .map_err(|e| AuthError::Internal(format!("stored passkey {}: {e}", record.id)))
}

fn json<T: Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| AuthError::Internal(format!("passkey state: {e}")))
}

/// A name as the owner gave it, bounded; `Passkey` when none.
fn passkey_name(name: Option<&str>) -> String {
    let name: String = name.unwrap_or("").trim().chars().take(MAX_NAME).collect();
    if name.is_empty() {
        "Passkey".to_owned()
    } else {
        name
    }
}

impl MfaFlows {
    fn relying_party(&self) -> Result<&webauthn_rs::Webauthn> {
        self.relying_party
            .as_deref()
            .ok_or_else(|| AuthError::Internal("passkeys are not configured".to_owned()))
    }

    /// Keeps a started ceremony's `pending` state of `kind` under a new random id, until
    /// the ceremony's time is up: the id and the `options` for the browser.
    async fn park<T>(
        &self,
        kind: &str,
        pending: &impl Serialize,
        options: T,
    ) -> Result<Ceremony<T>> {
        let mut bytes = [0_u8; 32];
        self.ctx.random.fill(&mut bytes);
        let id = URL_SAFE_NO_PAD.encode(bytes);
        let expires_at = self.ctx.clock.now() + self.ceremony_ttl;
        self.pending
            .put(&id, kind, &json(pending)?, expires_at)
            .await?;
        Ok(Ceremony {
            ceremony_id: id,
            options,
        })
    }

    /// Takes the pending state of ceremony `id` of `kind`.
    async fn take<T: for<'de> Deserialize<'de>>(&self, id: &str, kind: &str) -> Result<T> {
        let now = self.ctx.clock.now();
        let state = self
            .pending
            .take(id, kind, now)
            .await?
            .ok_or(AuthError::InvalidOneTimeToken)?;
        serde_json::from_str(&state).map_err(|_| AuthError::InvalidOneTimeToken)
    }

    /// Starts registering a passkey for `user`: the options for the authenticator.
    async fn start_registration(&self, user: &User) -> Result<Ceremony<CreationChallengeResponse>> {
        let existing = self.passkeys.passkeys_of(&user.id).await?;
        let user_handle = existing
            .first()
            .and_then(|k| Uuid::parse_str(&k.user_handle).ok())
            .unwrap_or_else(Uuid::new_v4);
        let exclude = existing
            .iter()
            .map(stored)
            .map(|k| k.map(|k| k.cred_id().clone()))
            .collect::<Result<Vec<_>>>()?;
        let (options, state) = self
            .relying_party()?
            .start_passkey_registration(user_handle, &user.username, &user.username, Some(exclude))
            .map_err(|e| AuthError::Internal(format!("passkey registration: {e}")))?;
        let pending = PendingRegistration {
            user_id: user.id.to_string(),
            user_handle,
            state,
        };
        self.park(REGISTER, &pending, options).await
    }

    /// Finishes a registration `user` started: the new passkey.
    async fn finish_registration(
        &self,
        user: &User,
        ceremony_id: &str,
        name: Option<&str>,
        credential: &RegisterPublicKeyCredential,
    ) -> Result<PasskeyRecord> {
        let pending: PendingRegistration = self.take(ceremony_id, REGISTER).await?;
        if pending.user_id != user.id.as_str() {
            return Err(AuthError::InvalidOneTimeToken);
        }
        let passkey = self
            .relying_party()?
            .finish_passkey_registration(credential, &pending.state)
            .map_err(|e| {
                tracing::info!(user_id = %user.id, error = %e, "passkey registration refused");
                AuthError::InvalidPasskey
            })?;
        let record = PasskeyRecord::new(
            credential_id(&passkey),
            user.id.clone(),
            pending.user_handle.to_string(),
            passkey_name(name),
            json(&passkey)?,
            self.ctx.clock.now(),
        );
        if !self.passkeys.insert_passkey(&record).await? {
            return Err(AuthError::Conflict { field: "passkey" });
        }
        self.ctx.emit(AuthEvent::PasskeyAdded {
            user_id: user.id.to_string(),
            passkey_id: record.id.clone(),
        });
        Ok(record)
    }

    /// Starts a login with a passkey: username-less, or for the challenge `mfa_token`.
    async fn start_login(
        &self,
        mfa_token: Option<&str>,
        mode: LoginMode,
    ) -> Result<Ceremony<RequestChallengeResponse>> {
        let rp = self.relying_party()?;
        let fail = |e| AuthError::Internal(format!("passkey login: {e}"));
        let (options, pending) = match mfa_token {
            None => {
                let (options, state) = rp.start_discoverable_authentication().map_err(fail)?;
                (options, PendingPasskeyLogin::Discoverable { mode, state })
            }
            Some(token) => {
                let (hash, challenge) = self.find_challenge(token).await?;
                let (options, state) = self.challenge_for(&challenge.user_id).await?;
                let pending = PendingPasskeyLogin::SecondFactor {
                    mfa_token: hash,
                    user_id: challenge.user_id.to_string(),
                    state,
                };
                (options, pending)
            }
        };
        self.park(LOGIN, &pending, options).await
    }

    /// Checks an assertion answering a challenge of `user_id`'s passkeys, made with
    /// `record`, one of them.
    fn assert_owned(
        &self,
        credential: &PublicKeyCredential,
        record: &PasskeyRecord,
        user_id: &str,
        state: &PasskeyAuthentication,
        start: LoginStart,
    ) -> Result<(WebauthnResult<AuthenticationResult>, LoginStart)> {
        if user_id != record.user_id.as_str() {
            return Err(AuthError::InvalidPasskey);
        }
        let result = self
            .relying_party()?
            .finish_passkey_authentication(credential, state);
        Ok((result, start))
    }

    /// A challenge only `user_id`'s passkeys can answer.
    async fn challenge_for(
        &self,
        user_id: &UserId,
    ) -> Result<(RequestChallengeResponse, PasskeyAuthentication)> {
        let keys = self.passkeys.passkeys_of(user_id).await?;
        if keys.is_empty() {
            return Err(AuthError::MfaNotEnabled);
        }
        let keys = keys.iter().map(stored).collect::<Result<Vec<_>>>()?;
        self.relying_party()?
            .start_passkey_authentication(&keys)
            .map_err(|e| AuthError::Internal(format!("passkey login: {e}")))
    }

    /// Starts a step-up of `user`'s session `session_id` with one of their passkeys.
    async fn start_step_up(
        &self,
        user: &User,
        session_id: &str,
    ) -> Result<Ceremony<RequestChallengeResponse>> {
        let (options, state) = self.challenge_for(&user.id).await?;
        let pending = PendingPasskeyLogin::StepUp {
            user_id: user.id.to_string(),
            session_id: session_id.to_owned(),
            state,
        };
        self.park(LOGIN, &pending, options).await
    }

    /// Checks a passkey's assertion for a login ceremony: the passkey's owner, and, for a
    /// second factor, the challenged login it completes. The passkey's counter is stored, so
    /// a cloned authenticator, whose counter lags, is refused from then on.
    ///
    /// `step_up` names the user and session a step-up ceremony must be of; a login ceremony
    /// must have none. Either mismatch is refused before the assertion is looked at.
    async fn finish_login(
        &self,
        ceremony_id: &str,
        credential: &PublicKeyCredential,
        step_up: Option<(&UserId, &str)>,
    ) -> Result<(User, LoginStart)> {
        let pending: PendingPasskeyLogin = self.take(ceremony_id, LOGIN).await?;
        let fits = match (&pending, step_up) {
            (
                PendingPasskeyLogin::StepUp {
                    user_id,
                    session_id,
                    ..
                },
                Some((user, session)),
            ) => user_id == user.as_str() && session_id == session,
            (PendingPasskeyLogin::StepUp { .. }, None) | (_, Some(_)) => false,
            (_, None) => true,
        };
        if !fits {
            return Err(AuthError::InvalidOneTimeToken);
        }
        let rp = self.relying_party()?;
        let record = self
            .passkeys
            .passkey(&URL_SAFE_NO_PAD.encode(credential.get_credential_id()))
            .await?
            .ok_or(AuthError::InvalidPasskey)?;
        let mut passkey = stored(&record)?;
        let (result, start) = match pending {
            PendingPasskeyLogin::Discoverable { mode, state } => {
                let (handle, _) = rp
                    .identify_discoverable_authentication(credential)
                    .map_err(|_| AuthError::InvalidPasskey)?;
                if handle.to_string() != record.user_handle {
                    return Err(AuthError::InvalidPasskey);
                }
                let result = rp.finish_discoverable_authentication_v2(credential, state, &passkey);
                (result, LoginStart::Alone(mode))
            }
            PendingPasskeyLogin::SecondFactor {
                mfa_token,
                user_id,
                state,
            } => self.assert_owned(
                credential,
                &record,
                &user_id,
                &state,
                LoginStart::Challenge(mfa_token),
            )?,
            PendingPasskeyLogin::StepUp { user_id, state, .. } => {
                self.assert_owned(credential, &record, &user_id, &state, LoginStart::StepUp)?
            }
        };
        let user_id = record.user_id.to_string();
        let result = result.map_err(|e| {
            tracing::info!(user_id = %user_id, error = %e, "passkey assertion refused");
            self.ctx.emit(AuthEvent::MfaFailed {
                user_id: user_id.clone(),
                method: FactorKind::Passkey.name().to_owned(),
            });
            AuthError::InvalidPasskey
        })?;
        passkey.update_credential(&result);
        let now = self.ctx.clock.now();
        self.passkeys
            .use_passkey(&record.id, &json(&passkey)?, now)
            .await?;
        let user = active_user(self.users.as_ref(), &record.user_id)
            .await?
            .ok_or(AuthError::InvalidPasskey)?;
        self.ctx.emit(AuthEvent::MfaVerified {
            user_id,
            method: FactorKind::Passkey.name().to_owned(),
        });
        Ok((user, start))
    }
}

/// How a passkey login began.
enum LoginStart {
    /// A login with the passkey alone, in this mode.
    Alone(LoginMode),
    /// The second factor of the challenge with this hash.
    Challenge(String),
    /// A step-up (of the session `finish_login` was told).
    StepUp,
}

impl AuthService {
    /// Starts registering a passkey for the signed-in principal: the ceremony's id and the
    /// options for `navigator.credentials.create()`.
    ///
    /// # Errors
    /// [`AuthError::Forbidden`] for an API key; [`AuthError::InsufficientAuthentication`] when
    /// the principal last authenticated longer ago than `AUTH__MFA__REAUTH_MINUTES`.
    pub async fn start_passkey_registration(
        &self,
        principal: &Principal,
    ) -> Result<Ceremony<CreationChallengeResponse>> {
        let user = self.recently_authenticated_user(principal).await?;
        self.inner.mfa.start_registration(&user).await
    }

    /// Finishes a registration the principal started, with the authenticator's answer: the
    /// passkey, named `name`.
    ///
    /// # Errors
    /// [`AuthError::InvalidOneTimeToken`] for an unknown, expired, used or someone else's
    /// ceremony; [`AuthError::InvalidPasskey`] for an answer webauthn-rs refuses;
    /// [`AuthError::Conflict`] for a credential registered already.
    pub async fn finish_passkey_registration(
        &self,
        principal: &Principal,
        ceremony_id: &str,
        name: Option<&str>,
        credential: &RegisterPublicKeyCredential,
    ) -> Result<PasskeyRecord> {
        let user = self.mfa_user(principal).await?;
        let mfa = &self.inner.mfa;
        mfa.finish_registration(&user, ceremony_id, name, credential)
            .await
    }

    /// The principal's passkeys, oldest first.
    ///
    /// # Errors
    /// [`AuthError::Forbidden`] for an API key; [`AuthError::ServiceUnavailable`].
    pub async fn passkeys(&self, principal: &Principal) -> Result<Vec<PasskeyRecord>> {
        let user = self.mfa_user(principal).await?;
        Ok(self.inner.mfa.passkeys.passkeys_of(&user.id).await?)
    }

    /// Removes one of the principal's passkeys; whether it had it.
    ///
    /// # Errors
    /// [`AuthError::Forbidden`] for an API key; [`AuthError::InsufficientAuthentication`] as
    /// for registration.
    pub async fn remove_passkey(&self, principal: &Principal, id: &str) -> Result<bool> {
        let user = self.recently_authenticated_user(principal).await?;
        let removed = self.inner.mfa.passkeys.delete_passkey(&user.id, id).await?;
        if removed {
            self.inner.ctx.emit(AuthEvent::PasskeyRemoved {
                user_id: user.id.to_string(),
                passkey_id: id.to_owned(),
            });
        }
        Ok(removed)
    }

    /// Starts a login with a passkey: username-less (`mfa_token` `None`; `cookie` asks for a
    /// cookie session rather than tokens), or as the second factor of a password login's
    /// challenge. The options are for `navigator.credentials.get()`.
    ///
    /// # Errors
    /// [`AuthError::InvalidOneTimeToken`] for an unknown or expired `mfa_token`;
    /// [`AuthError::MfaNotEnabled`] when its account has no passkey.
    pub async fn start_passkey_login(
        &self,
        mfa_token: Option<&str>,
        cookie: bool,
    ) -> Result<Ceremony<RequestChallengeResponse>> {
        let mode = if cookie {
            LoginMode::Cookie
        } else {
            LoginMode::Bearer
        };
        self.inner.mfa.start_login(mfa_token, mode).await
    }

    /// Finishes a passkey login with the authenticator's answer: the tokens or cookie session
    /// of the login, with `amr` `["hwk"]` alone (the session recorded from `device`), or
    /// `["pwd", "hwk"]` completing a challenge (from the device of its password login).
    ///
    /// # Errors
    /// [`AuthError::InvalidOneTimeToken`] for an unknown, expired or used ceremony (or
    /// challenge); [`AuthError::InvalidPasskey`] for an answer refused (wrong signature,
    /// origin or challenge, unknown credential, a counter gone backwards).
    pub async fn finish_passkey_login(
        &self,
        ceremony_id: &str,
        credential: &PublicKeyCredential,
        device: Device,
    ) -> Result<MfaLogin> {
        let mfa = &self.inner.mfa;
        let (user, start) = mfa.finish_login(ceremony_id, credential, None).await?;
        let now = self.inner.ctx.clock.now();
        let passkey = SatisfiedFactor::new(FactorKind::Passkey, now);
        match start {
            LoginStart::Alone(mode) => {
                let login = &self.inner.login;
                login.admit(&user).await?;
                let user = login.record(user).await?;
                self.start_login_session(&user, mode, device, vec![passkey])
                    .await
            }
            LoginStart::Challenge(hash) => {
                let pending = mfa.spend_challenge(&hash, &user).await?;
                let factors = vec![pending.first_factor(), passkey];
                self.start_login_session(&user, pending.mode, pending.device, factors)
                    .await
            }
            // Refused in `finish_login`: a step-up ceremony answers only its own route.
            LoginStart::StepUp => Err(AuthError::InvalidOneTimeToken),
        }
    }

    /// Starts a step-up of the principal's session with one of its passkeys.
    ///
    /// # Errors
    /// [`AuthError::MfaNotEnabled`] without a passkey; [`AuthError::InvalidSession`] without
    /// a live session (API keys: [`AuthError::Forbidden`]).
    pub async fn start_passkey_step_up(
        &self,
        principal: &Principal,
    ) -> Result<Ceremony<RequestChallengeResponse>> {
        let user = self.mfa_user(principal).await?;
        let session = self.stepping_session(principal, &user).await?;
        self.inner.mfa.start_step_up(&user, &session.id).await
    }

    /// Finishes a step-up the principal started: the session records the passkey, as
    /// [`step_up`](Self::step_up) records a code.
    ///
    /// # Errors
    /// [`AuthError::InvalidOneTimeToken`] for an unknown, expired, used or someone else's
    /// ceremony (or one of another session); [`AuthError::InvalidPasskey`] for an answer
    /// refused.
    pub async fn finish_passkey_step_up(
        &self,
        principal: &Principal,
        ceremony_id: &str,
        credential: &PublicKeyCredential,
    ) -> Result<StepUp> {
        let user = self.mfa_user(principal).await?;
        let session = self.stepping_session(principal, &user).await?;
        let mfa = &self.inner.mfa;
        let expected = Some((&user.id, session.id.as_str()));
        mfa.finish_login(ceremony_id, credential, expected).await?;
        let now = self.inner.ctx.clock.now();
        let passkey = SatisfiedFactor::new(FactorKind::Passkey, now);
        self.stepped_up(principal, &user, session, passkey).await
    }
}
