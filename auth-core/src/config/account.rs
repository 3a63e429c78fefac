//! `[account]` and `[mail]`: account recovery, and where its mail goes.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Account lifecycle settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct AccountConfig {
    /// `AUTH__ACCOUNT__RESET_TOKEN_MINUTES`: how long a password-reset link works. Default 30.
    pub reset_token_minutes: u64,
    /// `AUTH__ACCOUNT__VERIFY_TOKEN_HOURS`: how long an email-verification link works.
    /// Default 24.
    pub verify_token_hours: u64,
}

impl Default for AccountConfig {
    fn default() -> Self {
        Self {
            reset_token_minutes: 30,
            verify_token_hours: 24,
        }
    }
}

/// Mail settings. Without a mail server, messages go to the outbox folder outside production
/// and are dropped (with a warning naming recipient and subject) in production.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct MailConfig {
    /// `AUTH__MAIL__OUTBOX`: the development outbox folder, one `.eml` file per message.
    /// Default `outbox`.
    pub outbox: PathBuf,
    /// `AUTH__MAIL__FROM`: the sender. Default `Auth <auth@localhost>`.
    pub from: String,
    /// `AUTH__MAIL__LINK_BASE_URL`: where the links in mail point (the service's or its web
    /// front end's address); the reset link is `<base>/reset-password?token=...`. Default
    /// `http://127.0.0.1:8080`.
    pub link_base_url: String,
}

impl Default for MailConfig {
    fn default() -> Self {
        Self {
            outbox: PathBuf::from("outbox"),
            from: "Auth <auth@localhost>".to_owned(),
            link_base_url: "http://127.0.0.1:8080".to_owned(),
        }
    }
}
