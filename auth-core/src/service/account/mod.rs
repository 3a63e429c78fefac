//! Accounts: registration, role administration, deactivation, and the one place that says
//! which stored user may act ([`active_user`]); `password`: reset by mail and change;
//! `email`: verification of the address by a mailed link and its change; `api`: the
//! [`AuthService`](crate::AuthService) methods of these flows.

mod api;
mod email;
mod new_password;
mod password;

use std::fmt;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::{Map, Value};

use secrecy::SecretString;

pub(super) use self::email::EmailVerification;
pub(super) use self::new_password::NewPasswords;
pub(super) use self::password::PasswordFlows;
use super::login::password_error;
use super::sessions::Sessions;
use super::Context;
use crate::account::{new_token, OneTimeToken, OneTimeTokenStore, TokenPurpose};
use crate::error::StoreError;
use crate::error::{AuthError, Result, ValidationErrors};
use crate::events::{AuthEvent, RegisterAttempt};
use crate::lockout::login_key;
use crate::password::PasswordHasher;
use crate::rate_limit::RouteGroup;
use crate::user::identifier::{check_username, UsernameRules};
use crate::user::{validate_email, AuthUser, ModelCodec, PublicUser, User, UserId, UserStore};

/// Registration input.
#[derive(Clone, Deserialize)]
#[non_exhaustive]
pub struct RegisterRequest {
    /// Username.
    pub username: String,
    /// Email.
    pub email: String,
    /// Password in clear; hashed before storage, never logged.
    pub password: String,
    /// Every other field of the request: the profile fields of the service's user model
    /// ([`UserModel`](crate::user::UserModel)) are read from here; anything else is ignored.
    #[serde(flatten)]
    pub profile: Map<String, Value>,
}

impl RegisterRequest {
    /// A registration.
    #[must_use]
    pub fn new(
        username: impl Into<String>,
        email: impl Into<String>,
        password: impl Into<String>,
    ) -> Self {
        Self {
            username: username.into(),
            email: email.into(),
            password: password.into(),
            profile: Map::new(),
        }
    }

    /// Adds a profile field of the service's user model (`display_name`, `locale`, ...).
    #[must_use]
    pub fn field(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.profile.insert(name.into(), value.into());
        self
    }
}

impl fmt::Debug for RegisterRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegisterRequest")
            .field("username", &self.username)
            .field("email", &self.email)
            .field("password", &"[redacted]")
            .field("profile", &self.profile.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// The stored user with this id, if there is one and it may act (is active). Every flow that
/// acts for a stored user (refresh, cookie sessions, the current user) asks here.
/// The per-account rate-limit key of a signed-in user.
pub(super) fn user_key(id: &UserId) -> String {
    format!("id:{id}")
}

pub(super) async fn active_user(users: &dyn UserStore, id: &UserId) -> Result<Option<User>> {
    Ok(users.get_by_id(id).await?.filter(|user| user.is_active))
}

/// Issues a one-time token of `purpose` for `user_id`, working `lifetime` seconds from now
/// and carrying `payload`, in place of the user's earlier one of the purpose; returns the
/// token for the mail.
async fn issue_token(
    tokens: &dyn OneTimeTokenStore,
    ctx: &Context,
    purpose: TokenPurpose,
    user_id: &UserId,
    lifetime: i64,
    payload: Option<&str>,
) -> Result<SecretString> {
    let now = ctx.clock.now();
    let (token, hash) = new_token(ctx.random.as_ref());
    let mut record = OneTimeToken::new(
        hash,
        purpose,
        user_id.clone(),
        now,
        now.saturating_add(lifetime),
    );
    record.payload = payload.map(str::to_owned);
    tokens.issue(&record).await?;
    Ok(token)
}

/// Checks that `password` is the account's (the same work as a login, whatever the account
/// holds); when not, a field error on `field`.
pub(super) async fn confirm_password(
    passwords: &PasswordHasher,
    user: &User,
    password: &str,
    field: &'static str,
    errors: &mut ValidationErrors,
) -> Result<()> {
    let verification = passwords
        .verify_login(password, user.password_hash.as_deref())
        .await
        .map_err(password_error)?;
    if !matches!(verification, crate::password::Verification::Valid { .. }) {
        errors.push(field, "is not the account's password");
    }
    Ok(())
}

/// Creates and administers accounts.
#[derive(Clone)]
pub(super) struct Accounts {
    pub(super) users: Arc<dyn UserStore>,
    pub(super) passwords: PasswordHasher,
    /// The policy a new password must pass.
    pub(super) new_passwords: NewPasswords,
    pub(super) default_roles: Vec<String>,
    /// How usernames are checked (`AUTH__USERS__ALLOW_MIXED_SCRIPTS`).
    pub(in crate::service) username_rules: UsernameRules,
    /// For what ends with an account: its sessions and tokens.
    pub(super) sessions: Sessions,
    /// Mails the verification link at registration.
    pub(super) verification: EmailVerification,
}

impl Accounts {
    /// Registers a user with the configured default roles and the profile fields `model`
    /// reads from the request.
    pub(super) async fn register(
        &self,
        request: RegisterRequest,
        model: &ModelCodec,
    ) -> Result<PublicUser> {
        let email = request.email.trim();
        // Registrations of one address are counted before any work.
        self.sessions
            .ctx
            .account_quota(RouteGroup::Register, &login_key(email))
            .await?;
        let mut errors = ValidationErrors::default();
        // The stored name is the prepared one (width-mapped, NFC): `ａｄｍｉｎ` registers as
        // `admin`, and meets an existing `admin` in the store's unique index.
        let username = check_username(&request.username, self.username_rules).unwrap_or_else(|e| {
            errors.push("username", e.to_string());
            request.username.trim().to_owned()
        });
        validate_email(email, &mut errors);
        self.new_passwords
            .check(&request.password, &username, email, "password", &mut errors)
            .await?;
        let ctx = &self.sessions.ctx;
        let mut user = User::new(&username, email, None, ctx.clock.now_datetime());
        user.roles.clone_from(&self.default_roles);
        let mut profile_errors = ValidationErrors::default();
        user.profile = model.read(&request.profile, &mut profile_errors);
        if profile_errors.0.is_empty() {
            // Rules over several fields, once every field is known to be well formed.
            model.check(&user, &mut profile_errors);
        }
        errors.0.append(&mut profile_errors.0);
        errors.into_result()?;
        // The service's interceptors may refuse a well-formed registration (403).
        ctx.events
            .before_register(RegisterAttempt {
                username: &username,
                email,
            })
            .await?;
        let hash = self
            .passwords
            .hash(&request.password)
            .await
            .map_err(password_error)?;
        user.password_hash = Some(hash);
        self.users.insert(&user).await?;
        ctx.emit(AuthEvent::UserRegistered {
            user_id: user.id.to_string(),
        });
        // The account exists: a link that cannot be sent now is sent again on request
        // (`POST /auth/verify-email/resend`), so this does not fail the registration.
        if let Err(e) = self.verification.send(&user).await {
            tracing::error!(user_id = %user.id, error = %e, "the email verification link was not sent");
        }
        Ok(user.to_public())
    }

    /// Changes profile fields of the user model for the user: only fields a client may set,
    /// each checked as at registration, then the model's own checks; written back
    /// compare-and-set, so that two concurrent edits cannot lose one another.
    pub(super) async fn update_profile(
        &self,
        user_id: &UserId,
        changes: &Map<String, Value>,
        model: &ModelCodec,
    ) -> Result<PublicUser> {
        const ATTEMPTS: usize = 8;
        for _ in 0..ATTEMPTS {
            let user = active_user(self.users.as_ref(), user_id)
                .await?
                .ok_or(AuthError::UserNotFound)?;
            let mut errors = ValidationErrors::default();
            let profile = model.patch(&user, changes, &mut errors);
            let mut updated = user.clone();
            updated.profile = profile;
            if errors.0.is_empty() {
                model.check(&updated, &mut errors);
            }
            errors.into_result()?;
            let replaced = match self
                .users
                .replace_profile(user_id, &user.profile, &updated.profile)
                .await
            {
                Err(StoreError::NotFound) => return Err(AuthError::UserNotFound),
                other => other?,
            };
            if replaced {
                return Ok(updated.to_public());
            }
        }
        Err(AuthError::Internal(format!(
            "the profile of user {user_id} changed under {ATTEMPTS} attempts to update it"
        )))
    }

    /// Applies `change` to the user's roles and writes back the roles only, compare-and-set:
    /// a deactivation or an epoch bump that lands meanwhile is kept, and a concurrent role
    /// change makes this one start again from the new roles.
    pub(super) async fn change_roles(
        &self,
        user_id: &UserId,
        change: impl Fn(&mut Vec<String>),
    ) -> Result<PublicUser> {
        const ATTEMPTS: usize = 8;
        for _ in 0..ATTEMPTS {
            let mut user = self
                .users
                .get_by_id(user_id)
                .await?
                .ok_or(AuthError::UserNotFound)?;
            let mut roles = user.roles.clone();
            change(&mut roles);
            let replaced = match self.users.replace_roles(user_id, &user.roles, &roles).await {
                Err(StoreError::NotFound) => return Err(AuthError::UserNotFound),
                other => other?,
            };
            if replaced {
                let ctx = &self.sessions.ctx;
                for role in roles.iter().filter(|r| !user.roles.contains(r)) {
                    ctx.emit(AuthEvent::RoleGranted {
                        user_id: user_id.to_string(),
                        role: role.clone(),
                    });
                }
                for role in user.roles.iter().filter(|r| !roles.contains(r)) {
                    ctx.emit(AuthEvent::RoleRevoked {
                        user_id: user_id.to_string(),
                        role: role.clone(),
                    });
                }
                user.roles = roles;
                return Ok(user.to_public());
            }
        }
        Err(AuthError::Internal(format!(
            "the roles of user {user_id} changed under {ATTEMPTS} attempts to update them"
        )))
    }

    /// Refuses the user's logins, then ends every session and token of it.
    pub(super) async fn deactivate(&self, user_id: &UserId) -> Result<()> {
        match self.users.deactivate(user_id).await {
            Err(StoreError::NotFound) => return Err(AuthError::UserNotFound),
            other => other?,
        }
        self.sessions
            .revoke_everything(user_id, "deactivated")
            .await?;
        self.sessions.ctx.emit(AuthEvent::UserDeactivated {
            user_id: user_id.to_string(),
        });
        Ok(())
    }

    /// Lets a deactivated user log in again.
    pub(super) async fn reactivate(&self, user_id: &UserId) -> Result<()> {
        match self.users.activate(user_id).await {
            Err(StoreError::NotFound) => return Err(AuthError::UserNotFound),
            other => other?,
        }
        self.sessions.ctx.emit(AuthEvent::UserReactivated {
            user_id: user_id.to_string(),
        });
        Ok(())
    }
}
