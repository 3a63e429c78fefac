//! The development outbox: each message an `.eml` file in a folder, for a person to open.

use std::path::{Path, PathBuf};

use std::io::Write as _;

use async_trait::async_trait;

use super::{Mail, MailError, Mailer};

/// Writes each message as `<time>-<id>.eml` into a folder (created when missing), readable
/// only by the service's user: the messages hold one-time tokens. For development and tests;
/// used when no mail server is configured outside production.
#[derive(Debug, Clone)]
pub struct Outbox {
    dir: PathBuf,
    from: String,
}

impl Outbox {
    /// An outbox writing into `dir`, with `from` as the sender.
    #[must_use]
    pub fn new(dir: impl Into<PathBuf>, from: impl Into<String>) -> Self {
        Self {
            dir: dir.into(),
            from: from.into(),
        }
    }

    /// The folder.
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

#[async_trait]
impl Mailer for Outbox {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let bytes = mail.to_message(&self.from)?.formatted();
        let dir = self.dir.clone();
        let name = format!(
            "{}-{}.eml",
            time::OffsetDateTime::now_utc().unix_timestamp_nanos(),
            uuid::Uuid::new_v4().simple()
        );
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            std::fs::create_dir_all(&dir)?;
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(dir.join(name))?;
            file.write_all(&bytes)?;
            file.sync_all()
        })
        .await
        .map_err(|e| MailError::Io(std::io::Error::other(e)))??;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::Outbox;
    use crate::mail::{Mail, Mailer};

    #[tokio::test]
    async fn each_message_is_an_eml_file_only_its_owner_reads() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = Outbox::new(dir.path().join("outbox"), "Auth <auth@example.com>");
        outbox
            .send(
                &Mail::new("ada@example.com", "Reset your password", "Token: abc")
                    .with_html("<p>abc</p>"),
            )
            .await
            .unwrap();
        outbox
            .send(&Mail::new("bob@example.com", "Hello", "hi"))
            .await
            .unwrap();
        let mut files: Vec<_> = std::fs::read_dir(outbox.dir())
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        assert_eq!(files.len(), 2);
        let first = std::fs::read_to_string(&files[0]).unwrap();
        assert!(first.contains("To: ada@example.com"), "{first}");
        assert!(first.contains("Subject: Reset your password"), "{first}");
        assert!(
            first.contains("multipart/alternative") && first.contains("Token: abc"),
            "{first}"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&files[0]).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
