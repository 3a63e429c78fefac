//! `[account]` and `[mail]`: account recovery, and where its mail goes.

use std::path::PathBuf;

use secrecy::SecretString;
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

/// How the connection to the mail server is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum SmtpTls {
    /// Plain connection upgraded with `STARTTLS`, which is required (port 587).
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only for a mail server on this machine (refused elsewhere in production).
    None,
}

/// Mail settings. With `smtp_host` (feature `smtp`) mail goes to that server; without one,
/// messages go to the outbox folder outside production and are dropped (with a warning naming
/// recipient and subject) in production.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct MailConfig {
    /// `AUTH__MAIL__SMTP_HOST`: the mail server. Unset by default.
    pub smtp_host: Option<String>,
    /// `AUTH__MAIL__SMTP_PORT`: its port. Default 587 (465 with `smtp_tls = "tls"`).
    pub smtp_port: Option<u16>,
    /// `AUTH__MAIL__SMTP_TLS`: `starttls` (default), `tls` or `none`.
    pub smtp_tls: SmtpTls,
    /// `AUTH__MAIL__SMTP_USERNAME`: the login, when the server asks for one.
    pub smtp_username: Option<String>,
    /// `AUTH__MAIL__SMTP_PASSWORD`: its password.
    #[serde(skip_serializing)]
    pub smtp_password: Option<SecretString>,
    /// `AUTH__MAIL__SMTP_TIMEOUT_SECONDS`: per connection and command. Default 10.
    pub smtp_timeout_seconds: u64,
    /// `AUTH__MAIL__TEMPLATES`: a folder of mail templates replacing the built-in ones by name
    /// (`reset_password.subject`, `reset_password.txt`, `reset_password.html`,
    /// `verify_email.txt`, ...). Unset by default.
    pub templates: Option<PathBuf>,
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
            smtp_host: None,
            smtp_port: None,
            smtp_tls: SmtpTls::Starttls,
            smtp_username: None,
            smtp_password: None,
            smtp_timeout_seconds: 10,
            templates: None,
            outbox: PathBuf::from("outbox"),
            from: "Auth <auth@localhost>".to_owned(),
            link_base_url: "http://127.0.0.1:8080".to_owned(),
        }
    }
}
