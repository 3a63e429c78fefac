//! `[session]`: session limits and the browser session cookie.

use serde::{Deserialize, Serialize};

/// Session settings (used by the session layer).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct SessionConfig {
    /// `AUTH__SESSION__TIMEOUT_MINUTES`: inactivity timeout. Default 60.
    pub timeout_minutes: u64,
    /// `AUTH__SESSION__COOKIE_NAME`: cookie name. Default `session`.
    pub cookie_name: String,
    /// `AUTH__SESSION__COOKIE_SECURE`: `Secure` cookie attribute. Default true.
    pub cookie_secure: bool,
    /// `AUTH__SESSION__COOKIE_HTTPONLY`: `HttpOnly` cookie attribute. Default true.
    pub cookie_httponly: bool,
    /// `AUTH__SESSION__MAX_SESSIONS_PER_USER`: concurrent sessions per user; unlimited when unset.
    pub max_sessions_per_user: Option<u32>,
    /// `AUTH__SESSION__ALLOWED_ORIGINS`: origins (`https://app.example.com`) besides the
    /// service's own host that may send state-changing requests with the session cookie.
    pub allowed_origins: Vec<String>,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            timeout_minutes: 60,
            cookie_name: "session".to_owned(),
            cookie_secure: true,
            cookie_httponly: true,
            max_sessions_per_user: None,
            allowed_origins: Vec::new(),
        }
    }
}

impl SessionConfig {
    /// The session cookie's name: `__Host-<cookie_name>` when `Secure` (the prefix makes
    /// browsers refuse it from subdomains or without `Secure`, `Path=/`), the bare name
    /// otherwise (plain-HTTP development).
    #[must_use]
    pub fn session_cookie(&self) -> String {
        self.prefixed(&self.cookie_name)
    }

    /// The CSRF cookie's name (`__Host-csrf`, or `csrf` without `Secure`).
    #[must_use]
    pub fn csrf_cookie(&self) -> String {
        self.prefixed("csrf")
    }

    fn prefixed(&self, name: &str) -> String {
        if self.cookie_secure {
            format!("__Host-{name}")
        } else {
            name.to_owned()
        }
    }
}
