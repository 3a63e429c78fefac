//! Second factors in the flows: the login challenge a password login of an account with MFA
//! answers with, its completion with a code, and proofs of a factor (step-up, and the
//! password-or-code that disabling and regenerating ask for). Enrolment is in `totp`, the
//! facade's methods in `api`.
//!
//! A login whose password was right for an account with a confirmed authenticator gets no
//! tokens: it gets an `mfa_token` (256 bits, stored hashed as a one-time token of purpose
//! `mfa_login`, a few minutes, bound to that user and login mode) and the methods that can
//! complete it. Wrong codes count for the lockout under `mfa:<user id>`, per client, as
//! wrong passwords do under the login name, and against the `mfa` rate limits.

mod api;
#[cfg(feature = "webauthn")]
mod passkeys;
#[cfg(feature = "totp")]
mod totp;

use std::fmt;
use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

pub use self::api::{MfaLogin, StepUp};
#[cfg(feature = "webauthn")]
pub use self::passkeys::Ceremony;
#[cfg(feature = "totp")]
pub use self::totp::TotpEnrollment;

use super::account::{active_user, confirm_password, user_key};
use super::lockout::LoginLockout;
use super::Context;
use crate::account::{hash_token, new_token, OneTimeToken, OneTimeTokenStore, TokenPurpose};
use crate::config::ConfigError;
use crate::error::{AuthError, Result, ValidationErrors};
use crate::events::AuthEvent;
use crate::mfa::passkey::PasskeyStore;
use crate::mfa::{backup, FactorKind, MfaKeys, MfaStore, SatisfiedFactor};
use crate::password::PasswordHasher;
use crate::pending::PendingStore;
use crate::rate_limit::RouteGroup;
use crate::session::Device;
use crate::user::{User, UserId, UserStore};

/// What a password login of an account with MFA answers instead of tokens
/// (`{mfa_required: true, mfa_token, methods, expires_in}`).
#[derive(Clone, Serialize)]
#[non_exhaustive]
pub struct MfaChallenge {
    /// Always true: tells this answer from a token response.
    pub mfa_required: bool,
    /// Completes the login with a code (`POST /auth/mfa/verify`). Secret, single use.
    #[serde(serialize_with = "expose")]
    pub mfa_token: SecretString,
    /// The factors that can complete it (`totp`, `backup_code`).
    pub methods: Vec<&'static str>,
    /// Seconds the `mfa_token` works.
    pub expires_in: i64,
}

fn expose<S: serde::Serializer>(secret: &SecretString, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(secret.expose_secret())
}

impl fmt::Debug for MfaChallenge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MfaChallenge")
            .field("methods", &self.methods)
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

/// A second factor offered to complete a login or step up: a code of the authenticator app,
/// or one of the backup codes.
#[derive(Clone)]
#[non_exhaustive]
pub enum SecondFactor {
    /// A TOTP code (`"123456"`, spaces allowed).
    Code(String),
    /// A backup code (`"xxxxx-xxxxx"`, case, spaces and dashes ignored).
    BackupCode(String),
}

impl fmt::Debug for SecondFactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Code(_) => "Code(..)",
            Self::BackupCode(_) => "BackupCode(..)",
        })
    }
}

/// Proof of who one is, for an operation on one's second factors or a step-up: the password,
/// or a second factor.
#[derive(Clone)]
#[non_exhaustive]
pub enum Proof {
    /// The account's password.
    Password(SecretString),
    /// A code or backup code.
    Factor(SecondFactor),
}

impl fmt::Debug for Proof {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Password(_) => f.write_str("Password(..)"),
            Self::Factor(factor) => f.debug_tuple("Factor").field(factor).finish(),
        }
    }
}

/// How the login a challenge stands for goes on once the code is right.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum LoginMode {
    /// Tokens in the body.
    Bearer,
    /// A cookie session.
    Cookie,
}

/// What a challenge keeps of its login (the one-time token's payload).
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct PendingLogin {
    pub(super) mode: LoginMode,
    /// When the first factor (the password, or the provider's word) was checked.
    pub(super) password_at: i64,
    pub(super) device: Device,
    /// Whether the first factor was another provider's sign-in rather than a password.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(super) federated: bool,
}

impl PendingLogin {
    /// The factor the login proved before its challenge.
    pub(super) fn first_factor(&self) -> SatisfiedFactor {
        let kind = if self.federated {
            FactorKind::Federated
        } else {
            FactorKind::Password
        };
        SatisfiedFactor::new(kind, self.password_at)
    }
}

/// The second-factor state of an account (`GET /auth/mfa`).
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct MfaStatus {
    /// Whether a confirmed authenticator guards logins.
    pub totp_enabled: bool,
    /// Whether an enrolment waits for its first code.
    pub totp_pending: bool,
    /// Unused backup codes.
    pub backup_codes_left: u32,
    /// Registered passkeys.
    pub passkeys: u32,
    /// The factors a login of this account can be completed with.
    pub methods: Vec<&'static str>,
}

/// The second-factor flows.
#[derive(Clone)]
pub(super) struct MfaFlows {
    pub(super) store: Arc<dyn MfaStore>,
    pub(super) keys: Arc<MfaKeys>,
    #[cfg(feature = "totp")]
    pub(super) totp: crate::mfa::TotpSettings,
    /// Backup codes per set.
    #[cfg(feature = "totp")]
    pub(super) backup_codes: usize,
    /// Seconds an `mfa_token` works.
    pub(super) challenge_ttl: i64,
    /// How recent an authentication must be to add a factor or remove a passkey (0: any).
    #[cfg_attr(not(any(feature = "totp", feature = "webauthn")), allow(dead_code))]
    pub(super) reauth_max_age: u64,
    pub(super) challenges: Arc<dyn OneTimeTokenStore>,
    pub(super) users: Arc<dyn UserStore>,
    pub(super) passwords: PasswordHasher,
    /// Wrong codes counted and delayed as wrong passwords are.
    pub(super) lockout: Option<LoginLockout>,
    /// Registered passkeys.
    pub(super) passkeys: Arc<dyn PasskeyStore>,
    /// Passkey ceremonies between start and finish.
    #[cfg_attr(not(feature = "webauthn"), allow(dead_code))]
    pub(super) pending: Arc<dyn PendingStore>,
    /// Seconds a passkey ceremony waits for its finish.
    #[cfg_attr(not(feature = "webauthn"), allow(dead_code))]
    pub(super) ceremony_ttl: i64,
    /// The WebAuthn relying party.
    #[cfg(feature = "webauthn")]
    pub(super) relying_party: Option<Arc<webauthn_rs::Webauthn>>,
    pub(super) ctx: Context,
}

/// What the second-factor flows are built from, besides the shared context.
pub(super) struct MfaParts {
    pub(super) store: Arc<dyn MfaStore>,
    pub(super) challenges: Arc<dyn OneTimeTokenStore>,
    pub(super) users: Arc<dyn UserStore>,
    pub(super) passwords: PasswordHasher,
    pub(super) lockout: Option<LoginLockout>,
    pub(super) passkeys: Arc<dyn PasskeyStore>,
    pub(super) pending: Arc<dyn PendingStore>,
}

impl MfaFlows {
    /// The flows as `config` sets them; the keys from `AUTH__MFA__ENCRYPTION_KEY`, else from
    /// the refresh-token secret.
    ///
    /// # Errors
    /// [`ConfigError`] for a relying party `[passkeys]` cannot describe.
    pub(super) fn new(
        config: &crate::config::AuthConfig,
        refresh_secret: &SecretString,
        parts: MfaParts,
        ctx: Context,
    ) -> Result<Self, ConfigError> {
        let mfa = &config.mfa;
        let secret = mfa.encryption_key.as_ref().unwrap_or(refresh_secret);
        #[cfg_attr(
            not(any(feature = "totp", feature = "webauthn")),
            allow(unused_variables)
        )]
        let issuer = mfa
            .issuer
            .clone()
            .or_else(|| config.jwt.issuer.clone())
            .unwrap_or_else(|| "auth-service".to_owned());
        #[cfg(feature = "webauthn")]
        let relying_party = Some(Arc::new(crate::mfa::webauthn::relying_party(
            &config.passkeys,
            &issuer,
        )?));
        #[cfg(feature = "totp")]
        let totp = {
            let mut settings = crate::mfa::TotpSettings::new(issuer.replace(':', " "));
            settings.digits = mfa.digits;
            settings.period_seconds = mfa.period_seconds;
            settings.skew = mfa.skew;
            settings.algorithm = match mfa.algorithm.as_str() {
                "SHA256" => crate::mfa::TotpAlgorithm::Sha256,
                "SHA512" => crate::mfa::TotpAlgorithm::Sha512,
                _ => crate::mfa::TotpAlgorithm::Sha1,
            };
            settings
        };
        let ceremony_minutes = config.passkeys.ceremony_minutes.saturating_mul(60);
        Ok(Self {
            store: parts.store,
            keys: Arc::new(MfaKeys::derive(secret.expose_secret().as_bytes())),
            #[cfg(feature = "totp")]
            totp,
            #[cfg(feature = "totp")]
            backup_codes: mfa.backup_codes,
            challenge_ttl: i64::try_from(mfa.challenge_minutes.saturating_mul(60)).unwrap_or(300),
            reauth_max_age: mfa.reauth_minutes.saturating_mul(60),
            challenges: parts.challenges,
            users: parts.users,
            passwords: parts.passwords,
            lockout: parts.lockout,
            passkeys: parts.passkeys,
            pending: parts.pending,
            ceremony_ttl: i64::try_from(ceremony_minutes).unwrap_or(300),
            #[cfg(feature = "webauthn")]
            relying_party,
            ctx,
        })
    }
}

/// The lockout's account key for a user's codes.
fn lockout_key(user_id: &UserId) -> String {
    format!("mfa:{user_id}")
}

impl MfaFlows {
    /// The user's second-factor state.
    pub(super) async fn status(&self, user_id: &UserId) -> Result<MfaStatus> {
        let totp = self.store.totp(user_id).await?;
        let enabled = totp.as_ref().is_some_and(|t| t.is_confirmed());
        let left = if enabled {
            self.store.backup_codes_left(user_id).await?
        } else {
            0
        };
        let passkeys = self.passkeys.passkeys_of(user_id).await?.len();
        let mut methods = Vec::new();
        if enabled {
            methods.push(FactorKind::Totp.name());
            if left > 0 {
                methods.push(FactorKind::BackupCode.name());
            }
        }
        if passkeys > 0 {
            methods.push(FactorKind::Passkey.name());
        }
        Ok(MfaStatus {
            totp_enabled: enabled,
            totp_pending: totp.is_some() && !enabled,
            backup_codes_left: left,
            passkeys: u32::try_from(passkeys).unwrap_or(u32::MAX),
            methods,
        })
    }

    /// After a right password (or, `federated`, another provider's sign-in): `None` for an
    /// account without a second factor, else the challenge its login must answer.
    pub(super) async fn challenge(
        &self,
        user: &User,
        mode: LoginMode,
        device: &Device,
        federated: bool,
    ) -> Result<Option<MfaChallenge>> {
        let methods = self.status(&user.id).await?.methods;
        if methods.is_empty() {
            return Ok(None);
        }
        let now = self.ctx.clock.now();
        let (token, hash) = new_token(self.ctx.random.as_ref());
        let pending = PendingLogin {
            mode,
            password_at: now,
            device: device.clone(),
            federated,
        };
        let payload = serde_json::to_string(&pending)
            .map_err(|e| AuthError::Internal(format!("mfa challenge: {e}")))?;
        let record = OneTimeToken::new(
            hash,
            TokenPurpose::MfaLogin,
            user.id.clone(),
            now,
            now.saturating_add(self.challenge_ttl),
        )
        .with_payload(payload);
        self.challenges.issue(&record).await?;
        Ok(Some(MfaChallenge {
            mfa_required: true,
            mfa_token: token,
            methods,
            expires_in: self.challenge_ttl,
        }))
    }

    /// Completes a challenged login: the user, what the challenge kept, and the factor
    /// proven. The token is spent only by a right code; a wrong one leaves it (the lockout
    /// and rate limits bound the guessing).
    pub(super) async fn complete(
        &self,
        mfa_token: &str,
        factor: &SecondFactor,
        client_ip: Option<&str>,
    ) -> Result<(User, PendingLogin, SatisfiedFactor)> {
        if mfa_token.is_empty() || mfa_token.len() > 128 {
            return Err(AuthError::InvalidOneTimeToken);
        }
        let (hash, record) = self.find_challenge(mfa_token).await?;
        let user = active_user(self.users.as_ref(), &record.user_id)
            .await?
            .ok_or(AuthError::InvalidOneTimeToken)?;
        let proven = self.prove(&user, factor, client_ip).await?;
        let pending = self.spend_challenge(&hash, &user).await?;
        Ok((user, pending, proven))
    }

    /// The live challenge `mfa_token` names, left in place, and its hash.
    async fn find_challenge(&self, mfa_token: &str) -> Result<(String, OneTimeToken)> {
        let hash = hash_token(mfa_token);
        let now = self.ctx.clock.now();
        let record = self
            .challenges
            .find(&hash, TokenPurpose::MfaLogin, now)
            .await?
            .ok_or(AuthError::InvalidOneTimeToken)?;
        Ok((hash, record))
    }

    /// The pending login a challenge (by its hash) of `user` stands for, spent: of two
    /// completions, one gets it.
    async fn spend_challenge(&self, hash: &str, user: &User) -> Result<PendingLogin> {
        let now = self.ctx.clock.now();
        let spent = self
            .challenges
            .consume(hash, TokenPurpose::MfaLogin, now)
            .await?
            .filter(|t| t.user_id == user.id)
            .ok_or(AuthError::InvalidOneTimeToken)?;
        spent
            .payload
            .as_deref()
            .and_then(|p| serde_json::from_str(p).ok())
            .ok_or(AuthError::InvalidOneTimeToken)
    }

    /// Checks a proof of who `user` is (password or second factor); the factor it proves.
    pub(super) async fn prove_any(
        &self,
        user: &User,
        proof: &Proof,
        client_ip: Option<&str>,
    ) -> Result<SatisfiedFactor> {
        match proof {
            Proof::Factor(factor) => self.prove(user, factor, client_ip).await,
            Proof::Password(password) => {
                let attempt = self.attempt(user, client_ip).await?;
                let mut errors = ValidationErrors::default();
                confirm_password(
                    &self.passwords,
                    user,
                    password.expose_secret(),
                    "password",
                    &mut errors,
                )
                .await?;
                let right = errors.0.is_empty();
                self.settle(attempt, right).await?;
                if !right {
                    return Err(AuthError::InvalidCredentials);
                }
                Ok(SatisfiedFactor::new(
                    FactorKind::Password,
                    self.ctx.clock.now(),
                ))
            }
        }
    }

    /// The lockout's check for `user`'s codes from `client_ip`, and the per-account quota.
    async fn attempt(
        &self,
        user: &User,
        client_ip: Option<&str>,
    ) -> Result<Option<super::lockout::Attempt>> {
        self.ctx
            .account_quota(RouteGroup::Mfa, &user_key(&user.id))
            .await?;
        match &self.lockout {
            Some(lockout) => Ok(Some(lockout.check(lockout_key(&user.id), client_ip).await?)),
            None => Ok(None),
        }
    }

    /// Tells the lockout how an attempt from [`attempt`](Self::attempt) went: a right proof
    /// ends the client's failures, a wrong one counts.
    async fn settle(&self, attempt: Option<super::lockout::Attempt>, right: bool) -> Result<()> {
        let (Some(lockout), Some(attempt)) = (&self.lockout, attempt) else {
            return Ok(());
        };
        if right {
            lockout.succeeded(attempt).await;
            Ok(())
        } else {
            lockout.failed(attempt, None).await
        }
    }

    /// Checks a second factor of `user`, counting a wrong one for the lockout; the factor
    /// proven.
    pub(super) async fn prove(
        &self,
        user: &User,
        factor: &SecondFactor,
        client_ip: Option<&str>,
    ) -> Result<SatisfiedFactor> {
        let attempt = self.attempt(user, client_ip).await?;
        let (kind, outcome) = match factor {
            SecondFactor::Code(code) => (FactorKind::Totp, self.check_code(user, code).await),
            SecondFactor::BackupCode(code) => (
                FactorKind::BackupCode,
                self.spend_backup_code(user, code).await,
            ),
        };
        let right = outcome?;
        let (user_id, method) = (user.id.to_string(), kind.name().to_owned());
        if right {
            self.settle(attempt, true).await?;
            self.ctx.emit(AuthEvent::MfaVerified { user_id, method });
            return Ok(SatisfiedFactor::new(kind, self.ctx.clock.now()));
        }
        self.ctx.emit(AuthEvent::MfaFailed { user_id, method });
        self.settle(attempt, false).await?;
        Err(AuthError::InvalidMfaCode)
    }

    /// Whether `code` is a current, unused code of the user's confirmed authenticator
    /// (recording its step, so it works once, on every instance).
    #[cfg(feature = "totp")]
    async fn check_code(&self, user: &User, code: &str) -> Result<bool> {
        use crate::mfa::TotpError;
        let Some(record) = self.store.totp(&user.id).await? else {
            return Ok(false);
        };
        if !record.is_confirmed() {
            return Ok(false);
        }
        let authenticator = self.authenticator(user, &record.sealed_secret)?;
        match authenticator.verify(code, self.ctx.clock.now(), record.last_step) {
            Ok(step) => Ok(self.store.advance_totp_step(&user.id, step).await?),
            Err(TotpError::Malformed) => Err(malformed_code(self.totp.digits)),
            Err(_) => Ok(false),
        }
    }

    /// Without the `totp` feature no code is right.
    #[cfg(not(feature = "totp"))]
    async fn check_code(&self, _user: &User, _code: &str) -> Result<bool> {
        Ok(false)
    }

    /// Spends one of the user's backup codes; whether it was an unused one.
    async fn spend_backup_code(&self, user: &User, typed: &str) -> Result<bool> {
        let Some(code) = backup::normalize(typed) else {
            return Err(AuthError::invalid(
                "backup_code",
                "is not a backup code (ten letters and digits, as `xxxxx-xxxxx`)",
            ));
        };
        let tag = self.keys.tag(user.id.as_str(), &code);
        let now = self.ctx.clock.now();
        if !self.store.use_backup_code(&user.id, &tag, now).await? {
            return Ok(false);
        }
        let remaining = self.store.backup_codes_left(&user.id).await?;
        self.ctx.emit(AuthEvent::BackupCodeUsed {
            user_id: user.id.to_string(),
            remaining,
        });
        Ok(true)
    }

    /// A new set of backup codes for `user`: shown once, stored as tags.
    #[cfg(feature = "totp")]
    fn new_backup_codes(&self, user_id: &UserId) -> (Vec<String>, Vec<String>) {
        let codes = backup::generate(self.backup_codes, self.ctx.random.as_ref());
        let tags = codes
            .iter()
            .filter_map(|c| backup::normalize(c))
            .map(|c| self.keys.tag(user_id.as_str(), &c))
            .collect();
        (codes, tags)
    }
}

/// The 422 of a code that is not one (wrong length, not digits).
#[cfg(feature = "totp")]
fn malformed_code(digits: u8) -> AuthError {
    AuthError::invalid("code", format!("must be {digits} digits"))
}
