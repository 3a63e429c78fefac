//! Reading the development outbox (`AUTH__MAIL__OUTBOX`): the `.eml` files the account
//! flows write, and the tokens in them.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::eventually;

/// The messages in the outbox with this subject, oldest first.
pub fn messages(outbox: &Path, subject: &str) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(outbox) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
    files.sort();
    files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .filter(|m| m.contains(&format!("Subject: {subject}")))
        .collect()
}

/// Waits until the outbox holds `count` messages with this subject; returns them.
pub async fn wait_for(outbox: &Path, subject: &str, count: usize) -> Vec<String> {
    assert!(
        eventually(Duration::from_secs(10), || async {
            messages(outbox, subject).len() >= count
        })
        .await,
        "expected {count} messages `{subject}`, found {}",
        messages(outbox, subject).len()
    );
    messages(outbox, subject)
}

/// The token line of a message.
pub fn token_of(message: &str) -> String {
    message
        .lines()
        .find_map(|line| line.strip_prefix("Token: "))
        .unwrap_or_else(|| panic!("no token in {message}"))
        .trim()
        .to_owned()
}
