//! Python clients run against the services: venvs made from PyPI once per target directory,
//! and the scripts in `tests/python/`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::missing_panics_doc,
    reason = "a test harness fails loudly"
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A venv named `name` in `under` with `packages` installed (made once): its Python, or why
/// not.
fn make(under: &Path, name: &str, packages: &[&str]) -> Result<PathBuf, String> {
    let dir = under.join(name);
    let python = dir.join("bin").join("python");
    let ready = dir.join("ready");
    let wanted = packages.join("\n");
    if std::fs::read_to_string(&ready).is_ok_and(|have| have == wanted) {
        return Ok(python);
    }
    let run = |cmd: &mut Command| -> Result<(), String> {
        let output = cmd.output().map_err(|e| e.to_string())?;
        if output.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ))
        }
    };
    run(Command::new("python3")
        .args(["-m", "venv", "--clear"])
        .arg(&dir))?;
    run(Command::new(&python)
        .args(["-m", "pip", "install", "--quiet"])
        .args(packages))?;
    std::fs::write(&ready, wanted).map_err(|e| e.to_string())?;
    Ok(python)
}

/// The Python of a venv named `name` with `packages`, kept in `under` (an integration test's
/// `env!("CARGO_TARGET_TMPDIR")`, so it is made once per target directory), or `None` (with
/// a printed reason) when it cannot be made outside CI; under `CI=true` a venv that cannot be
/// made fails the test.
pub async fn venv(
    under: &'static str,
    name: &'static str,
    packages: &'static [&'static str],
) -> Option<PathBuf> {
    match tokio::task::spawn_blocking(move || make(Path::new(under), name, packages))
        .await
        .unwrap()
    {
        Ok(python) => Some(python),
        Err(why) if std::env::var("CI").as_deref() != Ok("true") => {
            eprintln!("skipped: no venv with {packages:?} (PyPI unreachable?): {why}");
            None
        }
        Err(why) => panic!("a venv with {packages:?} is needed in CI: {why}"),
    }
}

/// Runs `tests/python/<script>` with `python` and `env`; asserts it printed `ok` alone.
pub async fn run_ok(python: PathBuf, script: &str, env: Vec<(&'static str, String)>) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("python")
        .join(script);
    let output: Output = tokio::task::spawn_blocking(move || {
        Command::new(python).arg(script).envs(env).output().unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.trim() == "ok",
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
