//! Mail through an SMTP server, by lettre's transport (feature `smtp`).

use std::time::Duration;

use async_trait::async_trait;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use secrecy::ExposeSecret;

use super::{Mail, MailError, Mailer};
use crate::config::{MailConfig, SmtpTls};

/// Sends each message to the configured SMTP server (`AUTH__MAIL__SMTP_*`): STARTTLS by
/// default, TLS from the first byte, or (for a server on this machine) none; credentials
/// when configured; every connection and command bounded by the timeout.
#[derive(Clone)]
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: String,
}

impl std::fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpMailer")
            .field("from", &self.from)
            .finish_non_exhaustive()
    }
}

impl SmtpMailer {
    /// The mailer of `config` (its `smtp_host` must be set).
    ///
    /// # Errors
    /// [`MailError::Transport`] without a host, or when the TLS settings cannot be built.
    pub fn new(config: &MailConfig) -> Result<Self, MailError> {
        let host = config
            .smtp_host
            .as_deref()
            .ok_or_else(|| MailError::Transport("AUTH__MAIL__SMTP_HOST is not set".to_owned()))?;
        let transport_error =
            |e: lettre::transport::smtp::Error| MailError::Transport(e.to_string());
        let (builder, default_port) = match config.smtp_tls {
            SmtpTls::Starttls => (
                AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)
                    .map_err(transport_error)?,
                587,
            ),
            SmtpTls::Tls => (
                AsyncSmtpTransport::<Tokio1Executor>::relay(host).map_err(transport_error)?,
                465,
            ),
            SmtpTls::None => (
                AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
                25,
            ),
        };
        let mut builder = builder
            .port(config.smtp_port.unwrap_or(default_port))
            .timeout(Some(Duration::from_secs(config.smtp_timeout_seconds)));
        if let (Some(user), Some(password)) = (&config.smtp_username, &config.smtp_password) {
            builder = builder.credentials(Credentials::new(
                user.clone(),
                password.expose_secret().to_owned(),
            ));
        }
        Ok(Self {
            transport: builder.build(),
            from: config.from.clone(),
        })
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let message = mail.to_message(&self.from)?;
        self.transport
            .send(message)
            .await
            .map_err(|e| MailError::Transport(e.to_string()))?;
        Ok(())
    }
}
