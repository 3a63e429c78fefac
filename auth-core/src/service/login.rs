//! The password login: credentials checked with the same work for every kind of failure, and
//! an outdated hash upgraded on success.

use std::fmt;
use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};

use super::lockout::{Attempt, LoginLockout};
use super::Context;
use crate::error::{AuthError, Result};
use crate::events::AuthEvent;
use crate::lockout::login_key;
use crate::password::{PasswordError, PasswordHasher, Verification};
use crate::rate_limit::RouteGroup;
use crate::session::Device;
use crate::user::{User, UserStore};

/// Login input: a username or an email, and a password.
#[derive(Clone)]
#[non_exhaustive]
pub struct LoginRequest {
    /// Username, or email when it contains `@`.
    pub login: String,
    /// Password in clear.
    pub password: SecretString,
    /// The device logging in, recorded with the session.
    pub device: Device,
}

impl LoginRequest {
    /// A login.
    #[must_use]
    pub fn new(login: impl Into<String>, password: impl Into<String>) -> Self {
        Self {
            login: login.into(),
            password: SecretString::from(password.into()),
            device: Device::default(),
        }
    }

    /// The same login from `device`.
    #[must_use]
    pub fn from_device(mut self, device: Device) -> Self {
        self.device = device;
        self
    }
}

impl fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginRequest")
            .field("login", &self.login)
            .finish_non_exhaustive()
    }
}

/// A hashing error as the flows report it: policy errors are validation errors of the
/// `password` field, a full hashing queue is [`AuthError::Overloaded`].
pub(super) fn password_error(err: PasswordError) -> AuthError {
    match err {
        PasswordError::TooShort { .. } | PasswordError::TooLong { .. } => {
            AuthError::invalid("password", err.to_string())
        }
        PasswordError::Busy => AuthError::Overloaded,
        other => AuthError::Internal(other.to_string()),
    }
}

/// Checks passwords at login.
#[derive(Clone)]
pub(super) struct PasswordLogin {
    pub(super) users: Arc<dyn UserStore>,
    pub(super) passwords: PasswordHasher,
    pub(super) ctx: Context,
    /// `AUTH__USERS__REQUIRE_VERIFIED_EMAIL`.
    pub(super) require_verified_email: bool,
    /// Failed logins counted and delayed (`AUTH__LOCKOUT__ENABLED`).
    pub(super) lockout: Option<LoginLockout>,
}

impl PasswordLogin {
    /// Checks a login's credentials (same work for every kind of failure); the user on
    /// success, with an outdated hash upgraded.
    pub(super) async fn check(&self, request: &LoginRequest) -> Result<User> {
        let password = request.password.expose_secret();
        let passwords = &self.passwords;
        // Refuse over-long input before any hashing (OWASP); says nothing about the account.
        passwords.check_max(password).map_err(password_error)?;
        // A client (or login name) that failed too often waits: refused before any hashing,
        // whatever the password.
        let attempt = self.attempt(request).await?;
        // In a login storm, refuse before the database lookup.
        passwords.check_capacity().map_err(password_error)?;
        let user = self.users.get_by_login(request.login.trim()).await?;
        // The same work for every kind of account: no user, no password, an unusable stored
        // hash and a wrong password all cost one verification.
        let verification = passwords
            .verify_login(
                password,
                user.as_ref().and_then(|u| u.password_hash.as_deref()),
            )
            .await
            .map_err(password_error)?;
        let (user, needs_rehash) = match (user, verification) {
            (Some(user), Verification::Valid { needs_rehash }) => (user, needs_rehash),
            (user, _) => return Err(self.failed(attempt, user.as_ref()).await),
        };
        if !user.is_active {
            return Err(self.failed(attempt, Some(&user)).await);
        }
        // The password was right: the client's failures end.
        self.succeeded(attempt).await;
        // After the password check: only the account's owner learns this.
        self.admit(&user).await?;
        let user = if needs_rehash {
            self.rehash(user, password).await
        } else {
            user
        };
        self.record(user).await
    }

    /// Before a login's credentials are checked: the login name's quota, and the lockout's
    /// wait for this client and name (refused whatever the password).
    pub(super) async fn attempt(&self, request: &LoginRequest) -> Result<Option<Attempt>> {
        let account = login_key(&request.login);
        self.ctx.account_quota(RouteGroup::Login, &account).await?;
        Ok(match &self.lockout {
            Some(lockout) => Some(lockout.check(account, request.device.ip.as_deref()).await?),
            None => None,
        })
    }

    /// The credentials of `attempt` were right: the client's failures end.
    pub(super) async fn succeeded(&self, attempt: Option<Attempt>) {
        if let (Some(lockout), Some(attempt)) = (&self.lockout, attempt) {
            lockout.succeeded(attempt).await;
        }
    }

    /// What a login asks of an account whose credential was right (a password, or a
    /// passkey): a verified address where required, and the service's interceptors' consent.
    pub(super) async fn admit(&self, user: &User) -> Result<()> {
        if self.require_verified_email && !user.is_verified {
            self.ctx.emit(AuthEvent::LoginFailed {
                user_id: Some(user.id.to_string()),
            });
            return Err(AuthError::EmailNotVerified);
        }
        // The service's interceptors may refuse the owner's login (403).
        self.ctx.events.before_login(user).await
    }

    /// Records an admitted login on the account.
    pub(super) async fn record(&self, mut user: User) -> Result<User> {
        let now = self.ctx.clock.now_datetime();
        self.users.record_login(&user.id, now).await?;
        user.login_count += 1;
        user.last_login_at = Some(now);
        Ok(user)
    }

    /// A failed login, counted for the lockout: the error to answer with.
    pub(super) async fn failed(&self, attempt: Option<Attempt>, user: Option<&User>) -> AuthError {
        self.ctx.emit(AuthEvent::LoginFailed {
            user_id: user.map(|u| u.id.to_string()),
        });
        if let (Some(lockout), Some(attempt)) = (&self.lockout, attempt) {
            if let Err(e) = lockout.failed(attempt, user).await {
                return e;
            }
        }
        AuthError::InvalidCredentials
    }

    /// Upgrades an outdated hash; a failure is logged and does not fail the login. Writes the
    /// hash column only, and only over the hash that was just verified: a password change or
    /// deactivation that lands meanwhile is kept.
    async fn rehash(&self, mut user: User, password: &str) -> User {
        let Some(current) = user.password_hash.clone() else {
            return user;
        };
        let hash = match self.passwords.hash(password).await {
            Ok(hash) => hash,
            Err(e) => {
                tracing::warn!(user_id = %user.id, error = %e, "could not upgrade password hash");
                return user;
            }
        };
        match self
            .users
            .replace_password_hash(&user.id, &current, &hash)
            .await
        {
            Ok(true) => {
                user.password_hash = Some(hash);
                self.ctx.emit(AuthEvent::PasswordRehashed {
                    user_id: user.id.to_string(),
                });
            }
            Ok(false) => {
                tracing::info!(user_id = %user.id, "password changed during login; upgraded hash not stored");
            }
            Err(e) => {
                tracing::warn!(user_id = %user.id, error = %e, "could not store upgraded password hash")
            }
        }
        user
    }
}
