//! The `auth-service` binary as a user runs it: a process on 127.0.0.1.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn command(dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_auth-service"));
    cmd.current_dir(dir)
        .env("NO_COLOR", "1")
        .env("RUST_LOG", "info");
    for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("AUTH__")) {
        cmd.env_remove(key);
    }
    cmd
}

/// A running service process, killed and reaped when dropped (also when a test fails).
struct Service(Child);

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the service and waits (bounded) for its "ready" log line.
fn start(dir: &std::path::Path, port: u16) -> (Service, Vec<String>) {
    let mut child = Service(
        command(dir)
            .env("AUTH__SERVER__BIND", format!("127.0.0.1:{port}"))
            .env("AUTH__PASSWORD__MEMORY_KIB", "1024")
            .env("AUTH__PASSWORD__ITERATIONS", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let stdout = BufReader::new(child.0.stdout.take().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in stdout.lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut lines = Vec::new();
    while Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
            let ready = line.contains("auth-service ready on");
            lines.push(line);
            if ready {
                return (child, lines);
            }
        }
    }
    drop(child);
    panic!("auth-service did not become ready: {lines:?}");
}

#[tokio::test]
async fn runs_on_sqlite_and_keeps_its_development_keys_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let (child, log) = start(dir.path(), port);
    assert!(
        log.iter()
            .any(|l| l.contains("generated development signing keys")),
        "{log:?}"
    );
    assert!(dir.path().join("auth.db").exists() && dir.path().join("auth-keys.json").exists());

    // No connection pooling: the server process is restarted in the middle.
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    assert_eq!(
        http.get(format!("{base}/health"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        http.get(format!("{base}/ready"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let body =
        json!({"username": "ada", "email": "ada@example.com", "password": "correct horse battery"});
    assert_eq!(
        http.post(format!("{base}/auth/register"))
            .json(&body)
            .send()
            .await
            .unwrap()
            .status(),
        201
    );
    let tokens: Value = http
        .post(format!("{base}/auth/login"))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    drop(child);

    let (child, log) = start(dir.path(), port);
    assert!(
        log.iter()
            .any(|l| l.contains("using development signing keys")),
        "{log:?}"
    );
    let me = http
        .get(format!("{base}/auth/me"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(
        me.status(),
        200,
        "a token from before the restart is still valid"
    );
    assert_eq!(me.json::<Value>().await.unwrap()["username"], "ada");
    drop(child);
}

#[test]
fn production_refuses_to_start_without_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let output = command(dir.path())
        .env("AUTH__ENV", "production")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let log = String::from_utf8_lossy(&output.stdout);
    assert!(
        log.contains("refusing to start") && log.contains("AUTH__JWT__SECRET_KEY"),
        "{log}"
    );
    assert!(
        !dir.path().join("auth-keys.json").exists(),
        "production must not generate keys"
    );
}

#[test]
fn weak_secret_is_refused_naming_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    let output = command(dir.path())
        .env("AUTH__JWT__SECRET_KEY", "change-me")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let log = String::from_utf8_lossy(&output.stdout);
    assert!(log.contains("AUTH__JWT__SECRET_KEY is too weak"), "{log}");
}

#[test]
fn routes_prints_the_access_control_matrix() {
    let dir = tempfile::tempdir().unwrap();
    let output = command(dir.path()).arg("routes").output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "\
POST    /auth/register                                   public
POST    /auth/login                                      public
POST    /auth/refresh                                    public
POST    /auth/logout                                     requires authentication
GET     /auth/me                                         requires authentication
GET     /health                                          public
GET     /ready                                           public
GET     /articles                                        requires permission `articles.read`
POST    /articles                                        requires permission `articles.write`
DELETE  /articles/{id}                                   requires any of the roles `admin`
GET     /admin/users                                     requires any of the roles `admin`
PUT     /services/{service}/permissions                  requires any of the roles `admin`
GET     /services/{service}/permissions                  requires authentication
PUT     /services/{service}/users/{user_id}/permissions  requires authentication
GET     /tenant/settings                                 requires any of the roles `admin` in the request's tenant
PUT     /tenants/{tenant}/users/{user_id}/roles/{role}   requires any of the roles `admin`
DELETE  /tenants/{tenant}/users/{user_id}/roles/{role}   requires any of the roles `admin`
"
    );
    assert!(
        !dir.path().join("auth.db").exists(),
        "printing routes touches no database"
    );
}
