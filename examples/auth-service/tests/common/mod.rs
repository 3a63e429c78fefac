//! What the binary's tests share.

use std::process::Command;

/// The `auth-service` binary run in `dir`, with plain logs and none of the caller's
/// `AUTH__*` variables.
pub(crate) fn command(dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_auth-service"));
    cmd.current_dir(dir)
        .env("NO_COLOR", "1")
        .env("RUST_LOG", "info");
    for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("AUTH__")) {
        cmd.env_remove(key);
    }
    cmd
}
