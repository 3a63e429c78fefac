//! Domain events emitted by the authentication flows, and where they go.
//!
//! Every flow emits an [`AuthEvent`] (what happened, to whom), which the [`EventHub`] wraps
//! in an [`Event`]: when, from which client address and user agent, by whom and in which of
//! their sessions (from the request's [`origin`], which the HTTP adapter records). Events carry ids,
//! never secrets.
//!
//! - An [`EventSink`] receives every event on the request path: [`TracingEventSink`] (the
//!   default) writes them to `tracing`, [`MemoryEventSink`] keeps them (tests).
//! - Hooks ([`EventHub::on`]) are async handlers a service registers for one kind of event
//!   (`hub.on::<kinds::LoginSucceeded, _, _>(...)`) or all; they run off the request path,
//!   through a bounded queue, each with a time limit: a slow, failing or panicking hook is
//!   logged and never breaks or delays the request. The audit log is one of them
//!   ([`crate::audit`]).
//! - Interceptors ([`EventHub::intercept`]) run on the request path before a registration or
//!   a login completes and may veto it with a reason, which the client gets as a 403.

mod hub;
pub mod origin;

use std::fmt;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

pub use self::hub::{kinds, EventHub, EventKind, Interceptor, RegisterAttempt, Veto};

/// Something that happened to an account or a credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum AuthEvent {
    /// A user registered.
    UserRegistered {
        /// The user.
        user_id: String,
    },
    /// A login succeeded and a session started.
    LoginSucceeded {
        /// The user.
        user_id: String,
        /// The new session.
        session_id: String,
    },
    /// A login failed (wrong password, unknown or disabled user).
    LoginFailed {
        /// The user, when the login named an existing one.
        user_id: Option<String>,
    },
    /// A login was refused before its password was checked: too many failed logins of the
    /// login name (see [`lockout`](crate::lockout)).
    LoginThrottled {
        /// The login name as compared (the account's username or address, or a name no
        /// account has).
        login: String,
        /// The client address, when known.
        client_ip: Option<String>,
        /// Seconds until the next attempt is taken.
        retry_after: u64,
    },
    /// A failed login started a delay of the login name, from one client or from all.
    LoginLocked {
        /// The user, when the login name is an account's.
        user_id: Option<String>,
        /// The login name as compared.
        login: String,
        /// The client address of the failure, when known.
        client_ip: Option<String>,
        /// Until when (Unix seconds) the next attempt waits.
        until: i64,
    },
    /// An administrator forgave an account's failed logins.
    LoginUnlocked {
        /// The user.
        user_id: String,
    },
    /// A stored password hash was upgraded to the current parameters.
    PasswordRehashed {
        /// The user.
        user_id: String,
    },
    /// A refresh token was rotated.
    TokenRefreshed {
        /// The user.
        user_id: String,
        /// The session.
        session_id: String,
    },
    /// A used refresh token was presented again after the grace window: the family is revoked.
    RefreshTokenReuseDetected {
        /// The user.
        user_id: String,
        /// The revoked session (family).
        session_id: String,
    },
    /// A session ended by logout.
    LoggedOut {
        /// The user.
        user_id: String,
        /// The session.
        session_id: Option<String>,
    },
    /// Every session and token of a user was revoked.
    AllSessionsRevoked {
        /// The user.
        user_id: String,
    },
    /// A session was ended by its user from another one (a device logged out remotely).
    SessionRevoked {
        /// The user.
        user_id: String,
        /// The ended session.
        session_id: String,
    },
    /// A user was given a role.
    RoleGranted {
        /// The user.
        user_id: String,
        /// The role.
        role: String,
    },
    /// A role was taken from a user.
    RoleRevoked {
        /// The user.
        user_id: String,
        /// The role.
        role: String,
    },
    /// A deactivated user may log in again.
    UserReactivated {
        /// The user.
        user_id: String,
    },
    /// A user created an API key.
    ApiKeyCreated {
        /// The owner.
        user_id: String,
        /// The key's id.
        key_id: String,
    },
    /// An API key was used (noted at most once a minute per key).
    ApiKeyUsed {
        /// The owner.
        user_id: String,
        /// The key's id.
        key_id: String,
    },
    /// A user revoked an API key.
    ApiKeyRevoked {
        /// The owner.
        user_id: String,
        /// The key's id.
        key_id: String,
    },
    /// A user was deactivated: logins refused, every session and token ended.
    UserDeactivated {
        /// The user.
        user_id: String,
    },
    /// A password-reset link was mailed to an account's address.
    PasswordResetRequested {
        /// The user.
        user_id: String,
    },
    /// A password was reset with a mailed link: every session and token of the user ended.
    PasswordReset {
        /// The user.
        user_id: String,
    },
    /// A user verified their email address with a mailed link.
    EmailVerified {
        /// The user.
        user_id: String,
    },
    /// A user's email address changed, confirmed from the new address.
    EmailChanged {
        /// The user.
        user_id: String,
    },
    /// A signed-in user changed their password: their other sessions ended.
    PasswordChanged {
        /// The user.
        user_id: String,
    },
    /// A second factor was set up and confirmed (`method`: `totp`, `passkey`).
    MfaEnrolled {
        /// The user.
        user_id: String,
        /// The factor ([`FactorKind::name`](crate::mfa::FactorKind::name)).
        method: String,
    },
    /// A second factor was proven: at login, or to step up a session.
    MfaVerified {
        /// The user.
        user_id: String,
        /// The factor proven.
        method: String,
    },
    /// A wrong, replayed or used-up code (or a failed passkey assertion).
    MfaFailed {
        /// The user.
        user_id: String,
        /// The factor tried.
        method: String,
    },
    /// A second factor was turned off (`totp`) or removed.
    MfaDisabled {
        /// The user.
        user_id: String,
        /// The factor.
        method: String,
    },
    /// A backup code was spent.
    BackupCodeUsed {
        /// The user.
        user_id: String,
        /// How many unused codes are left.
        remaining: u32,
    },
    /// A new set of backup codes replaced the old ones.
    BackupCodesRegenerated {
        /// The user.
        user_id: String,
    },
    /// A user registered a passkey.
    PasskeyAdded {
        /// The user.
        user_id: String,
        /// The passkey's credential id.
        passkey_id: String,
    },
    /// A user removed a passkey.
    PasskeyRemoved {
        /// The user.
        user_id: String,
        /// The passkey's credential id.
        passkey_id: String,
    },
    /// An account of another provider was linked to a user.
    IdentityLinked {
        /// The user.
        user_id: String,
        /// The configured provider (`google`).
        provider: String,
        /// The link's id.
        identity_id: String,
    },
    /// A user unlinked an account of another provider.
    IdentityUnlinked {
        /// The user.
        user_id: String,
        /// The configured provider.
        provider: String,
        /// The link's id.
        identity_id: String,
    },
}

impl AuthEvent {
    /// The event's type as it is serialized and stored (`login_succeeded`), and the name
    /// hooks and the audit log filter by.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Self::UserRegistered { .. } => "user_registered",
            Self::LoginSucceeded { .. } => "login_succeeded",
            Self::LoginFailed { .. } => "login_failed",
            Self::LoginThrottled { .. } => "login_throttled",
            Self::LoginLocked { .. } => "login_locked",
            Self::LoginUnlocked { .. } => "login_unlocked",
            Self::PasswordRehashed { .. } => "password_rehashed",
            Self::TokenRefreshed { .. } => "token_refreshed",
            Self::RefreshTokenReuseDetected { .. } => "refresh_token_reuse_detected",
            Self::LoggedOut { .. } => "logged_out",
            Self::AllSessionsRevoked { .. } => "all_sessions_revoked",
            Self::SessionRevoked { .. } => "session_revoked",
            Self::RoleGranted { .. } => "role_granted",
            Self::RoleRevoked { .. } => "role_revoked",
            Self::UserReactivated { .. } => "user_reactivated",
            Self::ApiKeyCreated { .. } => "api_key_created",
            Self::ApiKeyUsed { .. } => "api_key_used",
            Self::ApiKeyRevoked { .. } => "api_key_revoked",
            Self::UserDeactivated { .. } => "user_deactivated",
            Self::PasswordResetRequested { .. } => "password_reset_requested",
            Self::PasswordReset { .. } => "password_reset",
            Self::EmailVerified { .. } => "email_verified",
            Self::EmailChanged { .. } => "email_changed",
            Self::PasswordChanged { .. } => "password_changed",
            Self::MfaEnrolled { .. } => "mfa_enrolled",
            Self::MfaVerified { .. } => "mfa_verified",
            Self::MfaFailed { .. } => "mfa_failed",
            Self::MfaDisabled { .. } => "mfa_disabled",
            Self::BackupCodeUsed { .. } => "backup_code_used",
            Self::BackupCodesRegenerated { .. } => "backup_codes_regenerated",
            Self::PasskeyAdded { .. } => "passkey_added",
            Self::PasskeyRemoved { .. } => "passkey_removed",
            Self::IdentityLinked { .. } => "identity_linked",
            Self::IdentityUnlinked { .. } => "identity_unlinked",
        }
    }

    /// The user the event is about, when it names one.
    #[must_use]
    pub fn user_id(&self) -> Option<&str> {
        match self {
            Self::LoginFailed { user_id } | Self::LoginLocked { user_id, .. } => user_id.as_deref(),
            Self::LoginThrottled { .. } => None,
            Self::UserRegistered { user_id }
            | Self::LoginSucceeded { user_id, .. }
            | Self::LoginUnlocked { user_id }
            | Self::PasswordRehashed { user_id }
            | Self::TokenRefreshed { user_id, .. }
            | Self::RefreshTokenReuseDetected { user_id, .. }
            | Self::LoggedOut { user_id, .. }
            | Self::AllSessionsRevoked { user_id }
            | Self::SessionRevoked { user_id, .. }
            | Self::RoleGranted { user_id, .. }
            | Self::RoleRevoked { user_id, .. }
            | Self::UserReactivated { user_id }
            | Self::ApiKeyCreated { user_id, .. }
            | Self::ApiKeyUsed { user_id, .. }
            | Self::ApiKeyRevoked { user_id, .. }
            | Self::UserDeactivated { user_id }
            | Self::PasswordResetRequested { user_id }
            | Self::PasswordReset { user_id }
            | Self::EmailVerified { user_id }
            | Self::EmailChanged { user_id }
            | Self::PasswordChanged { user_id }
            | Self::MfaEnrolled { user_id, .. }
            | Self::MfaVerified { user_id, .. }
            | Self::MfaFailed { user_id, .. }
            | Self::MfaDisabled { user_id, .. }
            | Self::BackupCodeUsed { user_id, .. }
            | Self::BackupCodesRegenerated { user_id }
            | Self::PasskeyAdded { user_id, .. }
            | Self::PasskeyRemoved { user_id, .. }
            | Self::IdentityLinked { user_id, .. }
            | Self::IdentityUnlinked { user_id, .. } => Some(user_id),
        }
    }

    /// Whether it is a security incident (logged at `warn`).
    #[must_use]
    pub fn is_incident(&self) -> bool {
        matches!(
            self,
            Self::RefreshTokenReuseDetected { .. } | Self::LoginLocked { .. }
        )
    }
}

/// An [`AuthEvent`] with its circumstances.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Event {
    /// What happened (serialized flat: `type` and the event's fields).
    #[serde(flatten)]
    pub event: AuthEvent,
    /// When (Unix seconds).
    pub at: i64,
    /// The client address of the request, when the adapter recorded one.
    pub client_ip: Option<String>,
    /// The request's `User-Agent`.
    pub user_agent: Option<String>,
    /// Who did it: the signed-in user making the request (an administrator, for actions on
    /// others), when there was one.
    pub actor: Option<String>,
    /// The session the actor made the request in, when it was authenticated by one.
    pub actor_session: Option<String>,
}

impl Event {
    /// `event` at `at`, with no circumstances.
    #[must_use]
    pub fn new(event: AuthEvent, at: i64) -> Self {
        Self {
            event,
            at,
            client_ip: None,
            user_agent: None,
            actor: None,
            actor_session: None,
        }
    }
}

/// Receives events. Implementations must be quick (queue anything slow, or register a hook).
pub trait EventSink: Send + Sync + fmt::Debug + 'static {
    /// Called once per event, on the request path.
    fn emit(&self, event: &Event);
}

/// Writes events to `tracing`.
#[derive(Debug, Clone, Copy, Default)]
pub struct TracingEventSink;

impl EventSink for TracingEventSink {
    fn emit(&self, event: &Event) {
        if event.event.is_incident() {
            tracing::warn!(?event, "security event");
        } else {
            tracing::info!(?event, "auth event");
        }
    }
}

/// Keeps every event in memory (and also logs it).
#[derive(Debug, Default)]
pub struct MemoryEventSink {
    events: Mutex<Vec<Event>>,
}

impl MemoryEventSink {
    /// An empty sink.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// What happened so far.
    #[must_use]
    pub fn events(&self) -> Vec<AuthEvent> {
        self.records().into_iter().map(|e| e.event).collect()
    }

    /// The events so far, with their circumstances.
    #[must_use]
    pub fn records(&self) -> Vec<Event> {
        self.events
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

impl EventSink for MemoryEventSink {
    fn emit(&self, event: &Event) {
        TracingEventSink.emit(event);
        self.events
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(event.clone());
    }
}
