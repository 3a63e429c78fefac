//! Users: the internal [`User`] that keeps its password hash, the [`PublicUser`] projection
//! that is the only thing ever returned, and the [`UserStore`] trait.
//!
//! jwtlib's rule, enforced by types here: the internal user never leaves the core. Every flow
//! returns [`PublicUser`], which has no hash field to leak.

use std::fmt;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::ValidationErrors;
use crate::store::StoreError;

/// A user id: a UUIDv7 string (sortable by creation time).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(pub String);

impl UserId {
    /// A new, time-ordered id.
    #[must_use]
    pub fn generate() -> Self {
        Self(uuid::Uuid::now_v7().to_string())
    }

    /// The id as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for UserId {
    fn from(s: &str) -> Self {
        Self(s.to_owned())
    }
}

/// The stored user, hash included. Never serialized, never returned from a flow.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct User {
    /// Id.
    pub id: UserId,
    /// Username, as registered (compared case-insensitively).
    pub username: String,
    /// Email, as registered (compared case-insensitively).
    pub email: String,
    /// Argon2 PHC string; `None` for accounts without a password (federated, later).
    pub password_hash: Option<String>,
    /// Roles.
    pub roles: Vec<String>,
    /// Direct permissions.
    pub permissions: Vec<String>,
    /// Tenant.
    pub tenant: Option<String>,
    /// Whether the account may log in.
    pub is_active: bool,
    /// Whether the email is verified.
    pub is_verified: bool,
    /// Bumped on password change, reset or "log out everywhere": older tokens die.
    pub security_epoch: i64,
    /// Creation time.
    pub created_at: OffsetDateTime,
    /// Last update.
    pub updated_at: OffsetDateTime,
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("email", &self.email)
            .field(
                "password_hash",
                &self.password_hash.as_ref().map(|_| "[redacted]"),
            )
            .field("roles", &self.roles)
            .field("permissions", &self.permissions)
            .field("tenant", &self.tenant)
            .field("is_active", &self.is_active)
            .field("is_verified", &self.is_verified)
            .field("security_epoch", &self.security_epoch)
            .finish_non_exhaustive()
    }
}

impl User {
    /// A new active user with a fresh id, created at `now`.
    #[must_use]
    pub fn new(
        username: impl Into<String>,
        email: impl Into<String>,
        password_hash: Option<String>,
        now: OffsetDateTime,
    ) -> Self {
        Self {
            id: UserId::generate(),
            username: username.into(),
            email: email.into(),
            password_hash,
            roles: Vec::new(),
            permissions: Vec::new(),
            tenant: None,
            is_active: true,
            is_verified: false,
            security_epoch: 0,
            created_at: now,
            updated_at: now,
        }
    }

    /// The public projection.
    #[must_use]
    pub fn to_public(&self) -> PublicUser {
        PublicUser {
            id: self.id.clone(),
            username: self.username.clone(),
            email: self.email.clone(),
            roles: self.roles.clone(),
            permissions: self.permissions.clone(),
            tenant: self.tenant.clone(),
            is_active: self.is_active,
            is_verified: self.is_verified,
            created_at: self.created_at,
        }
    }
}

/// What leaves the core: the user without any secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PublicUser {
    /// Id.
    pub id: UserId,
    /// Username.
    pub username: String,
    /// Email.
    pub email: String,
    /// Roles.
    pub roles: Vec<String>,
    /// Direct permissions.
    pub permissions: Vec<String>,
    /// Tenant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// Whether the account is active.
    pub is_active: bool,
    /// Whether the email is verified.
    pub is_verified: bool,
    /// Creation time (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// A page of a listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// Rows to skip.
    pub offset: u64,
    /// Rows to return (capped at 1000 by the stores).
    pub limit: u64,
}

impl Default for Page {
    fn default() -> Self {
        Self {
            offset: 0,
            limit: 50,
        }
    }
}

/// Persistence of users. Usernames and emails are unique case-insensitively.
#[async_trait]
pub trait UserStore: Send + Sync + fmt::Debug + 'static {
    /// Inserts a user; [`StoreError::Conflict`] names the field when username or email is taken.
    async fn insert(&self, user: &User) -> Result<(), StoreError>;

    /// The user with this id.
    async fn get_by_id(&self, id: &UserId) -> Result<Option<User>, StoreError>;

    /// The user with this username, case-insensitively.
    async fn get_by_username(&self, username: &str) -> Result<Option<User>, StoreError>;

    /// The user with this email, case-insensitively.
    async fn get_by_email(&self, email: &str) -> Result<Option<User>, StoreError>;

    /// Replaces a stored user (matched by id); [`StoreError::NotFound`] if absent,
    /// [`StoreError::Conflict`] if the new username or email is taken.
    async fn update(&self, user: &User) -> Result<(), StoreError>;

    /// Users ordered by creation, one page.
    async fn list(&self, page: Page) -> Result<Vec<User>, StoreError>;

    /// How many users there are.
    async fn count(&self) -> Result<u64, StoreError>;

    /// Marks a user inactive; [`StoreError::NotFound`] if absent.
    async fn deactivate(&self, id: &UserId) -> Result<(), StoreError>;

    /// Increments the user's security epoch and returns the new value.
    async fn bump_security_epoch(&self, id: &UserId) -> Result<i64, StoreError>;

    /// The user whose username, or (when `login` contains `@`) email, is `login`.
    async fn get_by_login(&self, login: &str) -> Result<Option<User>, StoreError> {
        if login.contains('@') {
            self.get_by_email(login).await
        } else {
            self.get_by_username(login).await
        }
    }
}

/// The case-folded form unique constraints compare.
#[must_use]
pub fn normalize(value: &str) -> String {
    value.trim().to_lowercase()
}

/// Checks a username: 3 to 64 characters of letters, digits, `.`, `_`, `-` (no `@`, so a login
/// is never ambiguous between username and email).
pub fn validate_username(username: &str, errors: &mut ValidationErrors) {
    let len = username.chars().count();
    if !(3..=64).contains(&len) {
        errors.push("username", "must be 3 to 64 characters");
    } else if !username
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        errors.push(
            "username",
            "may contain only letters, digits, `.`, `_` and `-`",
        );
    }
}

/// Checks an email address: one `@`, a non-empty local part, a domain with a dot, no spaces,
/// at most 254 characters (RFC 5321 section 4.5.3.1.3).
pub fn validate_email(email: &str, errors: &mut ValidationErrors) {
    let valid = email.len() <= 254
        && !email.chars().any(char::is_whitespace)
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && local.len() <= 64
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        });
    if !valid {
        errors.push("email", "must be a valid email address");
    }
}
