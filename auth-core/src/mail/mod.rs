//! Mail the flows send (password reset and verification links, notices): the [`Mailer`]
//! trait, the development [`Outbox`] that writes each message as an `.eml` file, the
//! [`MemoryMailer`] of tests, `SmtpMailer` (feature `smtp`), and [`deliver`], which sends in the
//! background with bounded retries so that a mail server's trouble never fails the request
//! that triggered the mail.
//!
//! Messages are written as minijinja [`Templates`] a service can override
//! (`AUTH__MAIL__TEMPLATES`), and formatted by `lettre` (RFC 5322, MIME, encodings): nothing
//! here writes the format by hand.

mod outbox;
#[cfg(feature = "smtp")]
mod smtp;
mod templates;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::Message;

pub use self::outbox::Outbox;
#[cfg(feature = "smtp")]
pub use self::smtp::SmtpMailer;
pub use self::templates::{TemplateError, Templates};

/// One message to one recipient. Its body may hold a one-time token: `Debug` shows only the
/// recipient and the subject.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Mail {
    /// The recipient's address.
    pub to: String,
    /// The subject.
    pub subject: String,
    /// The plain-text part.
    pub text: String,
    /// The HTML part, if any.
    pub html: Option<String>,
}

impl Mail {
    /// A plain-text message.
    #[must_use]
    pub fn new(to: impl Into<String>, subject: impl Into<String>, text: impl Into<String>) -> Self {
        Self {
            to: to.into(),
            subject: subject.into(),
            text: text.into(),
            html: None,
        }
    }

    /// The same message with an HTML part.
    #[must_use]
    pub fn with_html(mut self, html: impl Into<String>) -> Self {
        self.html = Some(html.into());
        self
    }

    /// The message as `lettre` builds it, from `from`.
    ///
    /// # Errors
    /// [`MailError::Address`] for an address that does not parse, [`MailError::Build`] when
    /// the message cannot be built.
    pub fn to_message(&self, from: &str) -> Result<Message, MailError> {
        let address = |a: &str| {
            a.parse::<Mailbox>()
                .map_err(|e| MailError::Address(format!("`{a}`: {e}")))
        };
        let builder = Message::builder()
            .from(address(from)?)
            .to(address(&self.to)?)
            .subject(self.subject.clone());
        let message = match &self.html {
            Some(html) => builder.multipart(MultiPart::alternative_plain_html(
                self.text.clone(),
                html.clone(),
            )),
            None => builder.singlepart(SinglePart::plain(self.text.clone())),
        };
        message.map_err(|e| MailError::Build(e.to_string()))
    }
}

impl fmt::Debug for Mail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mail")
            .field("to", &self.to)
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

/// Why a message was not sent.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MailError {
    /// An address does not parse.
    #[error("invalid mail address {0}")]
    Address(String),
    /// The message could not be built.
    #[error("the message could not be built: {0}")]
    Build(String),
    /// Writing the message failed (the outbox).
    #[error("the message could not be written: {0}")]
    Io(#[from] std::io::Error),
    /// The mail server refused or could not be reached.
    #[error("the mail server: {0}")]
    Transport(String),
}

/// Sends mail.
#[async_trait]
pub trait Mailer: Send + Sync + fmt::Debug + 'static {
    /// Sends one message.
    async fn send(&self, mail: &Mail) -> Result<(), MailError>;
}

/// A mailer that sends nothing: in production without a configured mail server, flows that
/// mail still work and each dropped message is logged (recipient and subject only).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoMailer;

#[async_trait]
impl Mailer for NoMailer {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        tracing::warn!(to = %mail.to, subject = %mail.subject, "no mail server configured (AUTH__MAIL__*): message dropped");
        Ok(())
    }
}

/// Keeps every message in memory: for tests of a service, which read the links the flows
/// mail (`auth_axum::testing::TestKit` uses one).
#[derive(Debug, Default)]
pub struct MemoryMailer {
    sent: std::sync::Mutex<Vec<Mail>>,
}

impl MemoryMailer {
    /// An empty mailbox.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Every message sent so far, oldest first.
    #[must_use]
    pub fn sent(&self) -> Vec<Mail> {
        self.sent
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

#[async_trait]
impl Mailer for MemoryMailer {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        self.sent
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(mail.clone());
        Ok(())
    }
}

/// Renders the message `template` for `to` and [`deliver`]s it; a template that does not
/// render (every one is checked at start-up, so a bug) is logged and nothing is sent.
pub(crate) fn send_template(
    mailer: &Arc<dyn Mailer>,
    templates: &Templates,
    to: &str,
    template: &str,
    context: minijinja::Value,
) {
    match templates.render(to, template, context) {
        Ok(mail) => {
            deliver(Arc::clone(mailer), mail);
        }
        Err(e) => tracing::error!(error = %e, "mail not sent"),
    }
}

/// How many times [`deliver`] tries a message.
pub const ATTEMPTS: u32 = 3;

/// Sends `mail` in the background: up to [`ATTEMPTS`] tries with a growing pause, each
/// failure logged (recipient, subject and error, never the body). Returns the task, which
/// callers may ignore.
pub fn deliver(mailer: Arc<dyn Mailer>, mail: Mail) -> tokio::task::JoinHandle<bool> {
    tokio::spawn(async move {
        let mut pause = Duration::from_millis(200);
        for attempt in 1..=ATTEMPTS {
            match mailer.send(&mail).await {
                Ok(()) => return true,
                Err(e) => {
                    tracing::warn!(to = %mail.to, subject = %mail.subject, attempt, error = %e, "mail not sent");
                }
            }
            if attempt < ATTEMPTS {
                tokio::time::sleep(pause).await;
                pause *= 4;
            }
        }
        tracing::error!(to = %mail.to, subject = %mail.subject, "mail given up after {ATTEMPTS} attempts");
        false
    })
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;

    use async_trait::async_trait;

    use super::{deliver, Mail, MailError, Mailer, ATTEMPTS};

    #[derive(Debug, Default)]
    struct Flaky {
        failures_left: AtomicU32,
        sent: AtomicU32,
    }

    #[async_trait]
    impl Mailer for Flaky {
        async fn send(&self, _mail: &Mail) -> Result<(), MailError> {
            if self
                .failures_left
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok()
            {
                return Err(MailError::Transport("421 try again later".to_owned()));
            }
            self.sent.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
    }

    #[tokio::test(start_paused = true)]
    async fn delivery_retries_a_bounded_number_of_times() {
        let flaky = Arc::new(Flaky::default());
        flaky.failures_left.store(ATTEMPTS - 1, Ordering::SeqCst);
        let mail = Mail::new("ada@example.com", "hello", "text");
        assert!(deliver(flaky.clone(), mail.clone()).await.unwrap());
        assert_eq!(flaky.sent.load(Ordering::SeqCst), 1);

        flaky.failures_left.store(ATTEMPTS, Ordering::SeqCst);
        assert!(!deliver(flaky.clone(), mail).await.unwrap(), "given up");
        assert_eq!(flaky.sent.load(Ordering::SeqCst), 1);
        assert_eq!(
            flaky.failures_left.load(Ordering::SeqCst),
            0,
            "tried {ATTEMPTS} times"
        );
    }

    #[test]
    fn debug_never_shows_the_body() {
        let mail =
            Mail::new("ada@example.com", "Reset", "token: SECRET").with_html("<b>SECRET</b>");
        let shown = format!("{mail:?}");
        assert!(
            shown.contains("ada@example.com") && !shown.contains("SECRET"),
            "{shown}"
        );
    }

    #[test]
    fn bad_addresses_are_named() {
        let err = Mail::new("not an address", "s", "t")
            .to_message("auth@example.com")
            .unwrap_err();
        assert!(err.to_string().contains("`not an address`"), "{err}");
    }
}
