//! The one error type of the authentication flows.
//!
//! Every failure a flow can report is an [`AuthError`] variant with a stable machine
//! [`code`](AuthError::code). Web adapters map the variants to HTTP statuses; the messages never
//! contain a secret and never reveal whether an account exists.
//!
//! [`StoreError`] is what every store trait and backend reports; flows turn it into an
//! [`AuthError`] (unavailable stores become 503s, never a pass).

use std::error::Error as StdError;
use std::fmt;

use serde::Serialize;

use crate::token::TokenError;

/// Result alias for the authentication flows.
pub type Result<T, E = AuthError> = std::result::Result<T, E>;

/// Everything that can go wrong in an authentication flow (jwtlib's `AuthError` hierarchy).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The token is missing, malformed, expired, revoked or otherwise unusable.
    #[error("invalid token: {0}")]
    InvalidToken(#[from] TokenError),
    /// The token is valid but the user it names no longer exists or is disabled.
    #[error("the user of this token no longer exists or is disabled")]
    UserNotFound,
    /// No credentials were presented where they are required.
    #[error("authentication is required")]
    NotAuthenticated,
    /// The `Authorization` header is present but not a well-formed bearer credential.
    #[error("invalid authorization header: {0}")]
    InvalidAuthorizationHeader(&'static str),
    /// Wrong username/email or password. Deliberately does not say which.
    #[error("invalid username or password")]
    InvalidCredentials,
    /// The refresh token is unknown, expired, revoked or was already used.
    #[error("the refresh token is invalid, expired or revoked")]
    InvalidRefreshToken,
    /// Authenticated, but not allowed to do this.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// A unique value (username, email) is already taken.
    #[error("{field} is already taken")]
    Conflict {
        /// The field whose value is taken.
        field: &'static str,
    },
    /// The input is not acceptable; each entry names the field and what is wrong.
    #[error("validation failed: {0}")]
    Validation(ValidationErrors),
    /// A store (database, cache) could not be reached; the request must not pass.
    #[error("authentication service unavailable")]
    ServiceUnavailable(#[source] StoreError),
    /// The remote auth service that issues and vouches for tokens (a resource server's
    /// issuer: its key set or introspection endpoint) could not be reached or answered
    /// nonsense; the request must not pass (jwtlib's `AuthServiceUnavailable`).
    #[error("auth service unavailable: {0}")]
    AuthServiceUnavailable(String),
    /// Too many passwords are being checked at once (a login storm); refused at once rather
    /// than queued without bound. Retry shortly.
    #[error("too many logins are being checked at once; retry shortly")]
    Overloaded,
    /// A bug or an unexpected internal failure (a hashing task that panicked, corrupt data).
    #[error("internal error: {0}")]
    Internal(String),
    /// The session cookie names no live session (unknown, expired, revoked).
    #[error("the session cookie is unknown, expired or revoked; log in again")]
    InvalidSession,
    /// A one-time token (password reset) that is wrong, used, expired or superseded: one
    /// answer for all, so that none of them can be told apart.
    #[error("the token is invalid or expired; ask for a new one")]
    InvalidOneTimeToken,
    /// The password was right but the account's email address is not verified, and
    /// `AUTH__USERS__REQUIRE_VERIFIED_EMAIL` requires it.
    #[error("the account's email address is not verified; use the link mailed to it, or ask for a new one")]
    EmailNotVerified,
    /// A state-changing request authenticated by cookie failed the CSRF checks.
    #[error("cross-site request refused: {0}")]
    CsrfFailed(&'static str),
    /// An API key that is malformed, has a wrong checksum or is unknown.
    #[error("the API key is not valid")]
    InvalidApiKey,
    /// An API key that its owner (or the owner's deactivation) revoked.
    #[error("the API key was revoked")]
    ApiKeyRevoked,
    /// An API key past its expiry.
    #[error("the API key has expired")]
    ApiKeyExpired,
    /// The API key's owner may do this, but the key's scopes do not cover it.
    #[error("the API key's scopes do not cover this: {0}")]
    InsufficientScope(String),
    /// A rate limit's quota is spent (see [`rate_limit`](crate::rate_limit)): the quota and
    /// how long until a request is allowed again.
    #[error("too many requests (`{}`: {}); retry in {} seconds", .0.policy, .0.quota, .0.retry_after_seconds())]
    RateLimited(Box<crate::rate_limit::RateLimitStatus>),
    /// Too many failed logins of this login name from this client (or from everywhere):
    /// refused before the password is checked, whether it is right or not (see
    /// [`lockout`](crate::lockout)).
    #[error("too many failed logins; retry in {retry_after} seconds")]
    TooManyAttempts {
        /// Seconds until the next attempt is taken (`Retry-After`).
        retry_after: u64,
    },
    /// The password was right and the account has a second factor: no tokens until it is
    /// proven with the challenge's `mfa_token` (`POST /auth/mfa/verify`).
    #[error("a second factor is required to complete the login")]
    MfaRequired(Box<crate::service::MfaChallenge>),
    /// A second factor's code is wrong, expired, replayed or used up.
    #[error("the code is wrong, expired or was used already")]
    InvalidMfaCode,
    /// The caller is authenticated, but not strongly or recently enough for this (RFC 9470
    /// `insufficient_user_authentication`): prove a factor again (`POST /auth/mfa/step-up`).
    #[error("{}", .0.detail)]
    InsufficientAuthentication(Box<StepUpChallenge>),
    /// Enrolment asked of an account whose authenticator is confirmed already.
    #[error("two-factor authentication is already enabled; disable it first")]
    MfaAlreadyEnabled,
    /// A second-factor operation on an account that has none (or none pending).
    #[error("two-factor authentication is not enabled on this account")]
    MfaNotEnabled,
    /// A passkey's answer to a ceremony is refused: not for this challenge, origin or relying
    /// party, a bad signature, an unknown or someone else's credential, or a signature counter
    /// that went backwards (a cloned authenticator).
    #[error("the passkey's answer is not valid for this sign-in")]
    InvalidPasskey,
    /// A sign-in with another provider, or a link or unlink of one of its accounts, refused
    /// (see [`FederationError`](crate::federation::FederationError) for each case).
    #[error(transparent)]
    Federation(#[from] crate::federation::FederationError),
}

/// What an unmet factor requirement asks for (the body and `WWW-Authenticate` parameters of
/// an `insufficient_user_authentication` answer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct StepUpChallenge {
    /// What is required, in words.
    pub detail: String,
    /// Factors any one of which would do (names as in guards: `totp`, `passkey`, ...).
    pub methods: Vec<&'static str>,
    /// The longest time since the last authentication accepted, in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_age: Option<u64>,
}

impl StepUpChallenge {
    /// A challenge saying `detail`, satisfied by a second factor.
    #[must_use]
    pub fn second_factor(detail: impl Into<String>) -> Self {
        Self::new(detail, vec!["totp", "backup_code", "passkey"], None)
    }

    /// A challenge saying `detail`, satisfied by any of `methods`, within `max_age` seconds
    /// when given.
    #[must_use]
    pub fn new(
        detail: impl Into<String>,
        methods: Vec<&'static str>,
        max_age: Option<u64>,
    ) -> Self {
        Self {
            detail: detail.into(),
            methods,
            max_age,
        }
    }
}

impl AuthError {
    /// The stable machine-readable code of this error, for clients and logs.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidToken(_) => "invalid_token",
            Self::UserNotFound => "user_not_found",
            Self::NotAuthenticated => "not_authenticated",
            Self::InvalidAuthorizationHeader(_) => "invalid_authorization_header",
            Self::InvalidCredentials => "invalid_credentials",
            Self::InvalidRefreshToken => "invalid_grant",
            Self::Forbidden(_) => "forbidden",
            Self::Conflict { .. } => "conflict",
            Self::Validation(_) => "validation_failed",
            Self::ServiceUnavailable(_) => "service_unavailable",
            Self::AuthServiceUnavailable(_) => "auth_service_unavailable",
            Self::Overloaded => "overloaded",
            Self::Internal(_) => "internal_error",
            Self::InvalidSession => "invalid_session",
            Self::InvalidOneTimeToken => "invalid_or_expired_token",
            Self::EmailNotVerified => "email_not_verified",
            Self::CsrfFailed(_) => "csrf_failed",
            Self::TooManyAttempts { .. } => "too_many_attempts",
            Self::RateLimited(_) => "rate_limited",
            Self::InvalidApiKey => "invalid_api_key",
            Self::ApiKeyRevoked => "api_key_revoked",
            Self::ApiKeyExpired => "api_key_expired",
            Self::InsufficientScope(_) => "insufficient_scope",
            Self::MfaRequired(_) => "mfa_required",
            Self::InvalidMfaCode => "invalid_mfa_code",
            Self::InsufficientAuthentication(_) => "insufficient_user_authentication",
            Self::MfaAlreadyEnabled => "mfa_already_enabled",
            Self::MfaNotEnabled => "mfa_not_enabled",
            Self::InvalidPasskey => "invalid_passkey",
            Self::Federation(e) => e.code(),
        }
    }

    /// A validation error on one field.
    #[must_use]
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Self::Validation(ValidationErrors::single(field, message))
    }
}

impl From<StoreError> for AuthError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Conflict { field } => Self::Conflict { field },
            StoreError::Corrupt(msg) => Self::Internal(msg),
            other => Self::ServiceUnavailable(other),
        }
    }
}

/// One rejected input field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// The field name as the client sent it.
    pub field: std::borrow::Cow<'static, str>,
    /// What is wrong, in words a user can act on.
    pub message: String,
    /// The stable code of the rule that failed, where there is one (`password_breached`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<&'static str>,
}

/// The rejected fields of one request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct ValidationErrors(pub Vec<FieldError>);

impl ValidationErrors {
    /// A list with one entry.
    #[must_use]
    pub fn single(field: &'static str, message: impl Into<String>) -> Self {
        Self(vec![FieldError {
            field: field.into(),
            message: message.into(),
            code: None,
        }])
    }

    /// Adds an entry.
    pub fn push(&mut self, field: &'static str, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.into(),
            message: message.into(),
            code: None,
        });
    }

    /// Adds an entry with the stable code of the rule that failed.
    pub fn push_coded(
        &mut self,
        field: &'static str,
        code: &'static str,
        message: impl Into<String>,
    ) {
        self.0.push(FieldError {
            field: field.into(),
            message: message.into(),
            code: Some(code),
        });
    }

    /// Adds an entry for a field named by the client (a key the request may not send).
    pub fn push_named(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError {
            field: std::borrow::Cow::Owned(field.into()),
            message: message.into(),
            code: None,
        });
    }

    /// `Ok(())` when empty, otherwise the errors as [`AuthError::Validation`].
    pub fn into_result(self) -> Result<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(AuthError::Validation(self))
        }
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{}: {}", e.field, e.message)?;
        }
        Ok(())
    }
}

/// A store operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The backend could not be reached or timed out. Requests that need it must fail (503),
    /// never pass.
    #[error("store unavailable: {0}")]
    Unavailable(#[source] Box<dyn StdError + Send + Sync>),
    /// A unique value is taken.
    #[error("{field} is already taken")]
    Conflict {
        /// The field.
        field: &'static str,
    },
    /// The record does not exist.
    #[error("record not found")]
    NotFound,
    /// Stored data could not be read back (a bug or manual tampering).
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The schema could not be migrated.
    #[error("database migration failed: {0}")]
    Migration(String),
}
