//! Headless Chromium (Debian's `chromium` package) for the pages the services serve: the
//! DOM after the page's scripts ran, and a screenshot.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::missing_panics_doc,
    reason = "a test harness fails loudly"
)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The Chromium binary, or `None` (with a printed reason) when it is not installed, except
/// under `CI=true`, where that fails the test.
#[must_use]
pub fn chromium() -> Option<PathBuf> {
    let found = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.exists());
    if found.is_none() {
        crate::missing_server("Chromium is not installed (apt-get install chromium)");
    }
    found
}

/// Chromium, headless, on `url` with a profile of its own under `profile`, the page's scripts
/// given `budget_ms` of virtual time, and `args`: its standard output.
fn headless(chromium: &Path, profile: &Path, url: &str, budget_ms: u32, args: &[String]) -> String {
    let output = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--hide-scrollbars",
            "--window-size=1280,2400",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--virtual-time-budget={budget_ms}"))
        .args(args)
        .arg(url)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "chromium: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The page's DOM once its scripts ran.
#[must_use]
pub fn rendered_dom(chromium: &Path, profile: &Path, url: &str) -> String {
    headless(chromium, profile, url, 10_000, &["--dump-dom".to_owned()])
}

/// A PNG screenshot of the page, written to `to`.
pub fn screenshot(chromium: &Path, profile: &Path, url: &str, to: &Path) {
    headless(
        chromium,
        profile,
        url,
        10_000,
        &[format!("--screenshot={}", to.display())],
    );
}
