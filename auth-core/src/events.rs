//! Domain events emitted by the authentication flows, and where they go.
//!
//! An [`EventSink`] receives every [`AuthEvent`]. The default, [`TracingEventSink`], writes
//! them to `tracing` at `info` (security incidents at `warn`); [`MemoryEventSink`] keeps them,
//! for tests and admin views. Events carry ids, never secrets.

use std::fmt;
use std::sync::Mutex;

use serde::Serialize;

/// Something that happened to an account or a credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
}

/// Receives events. Implementations must be quick (queue anything slow).
pub trait EventSink: Send + Sync + fmt::Debug + 'static {
    /// Called once per event, on the request path.
    fn emit(&self, event: &AuthEvent);
}

/// Writes events to `tracing`.
#[derive(Debug, Clone, Copy, Default)]
pub struct TracingEventSink;

impl EventSink for TracingEventSink {
    fn emit(&self, event: &AuthEvent) {
        match event {
            AuthEvent::RefreshTokenReuseDetected { .. } | AuthEvent::LoginLocked { .. } => {
                tracing::warn!(?event, "security event");
            }
            _ => tracing::info!(?event, "auth event"),
        }
    }
}

/// Keeps every event in memory (and also logs it).
#[derive(Debug, Default)]
pub struct MemoryEventSink {
    events: Mutex<Vec<AuthEvent>>,
}

impl MemoryEventSink {
    /// An empty sink.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The events so far.
    #[must_use]
    pub fn events(&self) -> Vec<AuthEvent> {
        self.events
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

impl EventSink for MemoryEventSink {
    fn emit(&self, event: &AuthEvent) {
        TracingEventSink.emit(event);
        self.events
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(event.clone());
    }
}
