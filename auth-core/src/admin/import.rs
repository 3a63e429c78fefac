//! `users import FILE.jsonl`: users of another system, with the password hashes they have
//! (Argon2id, or with the `legacy-hashes` feature bcrypt and Django's PBKDF2-SHA256, upgraded
//! at each user's next login), one JSON object per line.

use std::fmt::Write as _;

use serde::Deserialize;

use crate::error::ValidationErrors;
use crate::password::PasswordHasher;
use crate::service::AuthService;
use crate::store::StoreError;
use crate::user::identifier::check_username;
use crate::user::{validate_email, User};

/// One line of the file. Unknown keys are refused, so a misspelt one is not silently lost.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ImportedUser {
    username: String,
    email: String,
    /// The stored hash; absent for an account that signs in otherwise (it cannot log in with
    /// a password until one is set by reset).
    #[serde(default)]
    password_hash: Option<String>,
    /// Roles; the configured default roles when absent.
    #[serde(default)]
    roles: Option<Vec<String>>,
    #[serde(default)]
    is_verified: bool,
    #[serde(default = "active")]
    is_active: bool,
}

fn active() -> bool {
    true
}

/// What an import did: how many users came in, and each line left out with its reason.
#[derive(Debug, Default)]
pub(super) struct ImportReport {
    pub(super) imported: usize,
    pub(super) skipped: Vec<(usize, String)>,
}

impl ImportReport {
    pub(super) fn summary(&self) -> String {
        let mut text = format!(
            "imported {} users; skipped {}",
            self.imported,
            self.skipped.len()
        );
        for (line, reason) in &self.skipped {
            let _ = write!(text, "\n  line {line}: {reason}");
        }
        text
    }
}

/// Imports every line of `contents` it can; a line that cannot be imported is reported,
/// never half-imported (and never echoed: it holds a hash).
pub(super) async fn import(
    service: &AuthService,
    contents: &str,
) -> Result<ImportReport, StoreError> {
    let mut report = ImportReport::default();
    let now = service.clock().now_datetime();
    for (index, line) in contents.lines().enumerate() {
        let number = index + 1;
        if line.trim().is_empty() {
            continue;
        }
        let entry: ImportedUser = match serde_json::from_str(line) {
            Ok(entry) => entry,
            Err(e) => {
                // serde_json names the position and the expectation, not the content.
                report.skipped.push((
                    number,
                    format!("not a user object ({})", e.classify_message()),
                ));
                continue;
            }
        };
        let mut errors = ValidationErrors::default();
        let username =
            check_username(&entry.username, service.username_rules()).unwrap_or_else(|e| {
                errors.push("username", e.to_string());
                String::new()
            });
        validate_email(entry.email.trim(), &mut errors);
        if !errors.0.is_empty() {
            report.skipped.push((number, errors.to_string()));
            continue;
        }
        if let Some(hash) = &entry.password_hash {
            if !PasswordHasher::can_verify(hash) {
                report.skipped.push((
                    number,
                    "password_hash: not a format this service verifies (Argon2id; bcrypt and \
                     Django pbkdf2_sha256 with the legacy-hashes feature)"
                        .to_owned(),
                ));
                continue;
            }
        }
        let mut user = User::new(&username, entry.email.trim(), entry.password_hash, now);
        user.roles = entry
            .roles
            .unwrap_or_else(|| service.default_roles().to_vec());
        user.is_verified = entry.is_verified;
        user.is_active = entry.is_active;
        match service.users().insert(&user).await {
            Ok(()) => report.imported += 1,
            Err(StoreError::Conflict { field }) => {
                report
                    .skipped
                    .push((number, format!("{field} is already taken")));
            }
            Err(e) => return Err(e),
        }
    }
    Ok(report)
}

/// `serde_json`'s error without the input it quotes.
trait Classify {
    fn classify_message(&self) -> String;
}

impl Classify for serde_json::Error {
    fn classify_message(&self) -> String {
        format!(
            "line {} column {}: {:?}",
            self.line(),
            self.column(),
            self.classify()
        )
    }
}
