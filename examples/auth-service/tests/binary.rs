//! The `auth-service` binary as a user runs it: a process on 127.0.0.1.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

mod common;
use common::command;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running service process, killed and reaped when dropped (also when a test fails).
struct Service(Child);

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the service and waits (bounded) for its "ready" log line; returns the port it
/// listens on (see [`start_with`]).
fn start(dir: &std::path::Path, port: u16) -> (Service, u16, Vec<String>) {
    start_with(dir, port, &[])
}

/// [`start`] with extra environment variables. A port picked by [`free_port`] can be taken by
/// another test before the service binds it: then it starts again on another one.
fn start_with(
    dir: &std::path::Path,
    port: u16,
    env: &[(&str, String)],
) -> (Service, u16, Vec<String>) {
    let mut port = port;
    for _ in 0..5 {
        match try_start(dir, port, env) {
            Ok((service, lines)) => return (service, port, lines),
            Err(lines) if lines.iter().any(|l| l.contains("Address already in use")) => {
                port = free_port();
            }
            Err(lines) => panic!("auth-service did not become ready: {lines:?}"),
        }
    }
    panic!("auth-service found no free port");
}

/// One start: the service and its log up to "ready", or its log when it exited or took
/// longer than a minute.
fn try_start(
    dir: &std::path::Path,
    port: u16,
    env: &[(&str, String)],
) -> Result<(Service, Vec<String>), Vec<String>> {
    let mut cmd = command(dir);
    for (key, value) in env {
        cmd.env(key, value);
    }
    let mut child = Service(
        cmd.env("AUTH__SERVER__BIND", format!("127.0.0.1:{port}"))
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
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(line) => {
                let ready = line.contains("auth-service ready on");
                lines.push(line);
                if ready {
                    return Ok((child, lines));
                }
            }
            // The process exited and its output is read to the end.
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
        }
    }
    drop(child);
    Err(lines)
}

#[tokio::test]
async fn runs_on_sqlite_and_keeps_its_development_keys_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let (child, port, log) = start(dir.path(), free_port());
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

    let (child, port, log) = start(dir.path(), port);
    let base = format!("http://127.0.0.1:{port}");
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
    assert_eq!(
        http.get(format!("{base}/articles"))
            .bearer_auth(&access)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    // An operator deactivates the user from another process: the running service refuses
    // the token on its next request.
    let output = command(dir.path())
        .args(["deactivate-user", "ada"])
        .env("AUTH__PASSWORD__MEMORY_KIB", "1024")
        .env("AUTH__PASSWORD__ITERATIONS", "1")
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{log}");
    assert!(log.contains("`ada` is deactivated"), "{log}");
    assert_eq!(
        http.get(format!("{base}/articles"))
            .bearer_auth(&access)
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    // An operator creates an admin from the command line; the password never is an argument.
    let output = command(dir.path())
        .args(["users", "create", "root", "root@example.com", "admin"])
        .env("AUTH_NEW_USER_PASSWORD", "another horse battery")
        .env("AUTH__PASSWORD__MEMORY_KIB", "1024")
        .env("AUTH__PASSWORD__ITERATIONS", "1")
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{log}");
    assert!(
        log.contains(r#"created `root`"#) && log.contains(r#"["user", "admin"]"#),
        "{log}"
    );
    assert!(!log.contains("another horse battery"), "{log}");
    let root = http
        .post(format!("{base}/auth/login"))
        .json(&serde_json::json!({"username": "root", "password": "another horse battery"}))
        .send()
        .await
        .unwrap();
    assert_eq!(root.status(), 200);
    let root: serde_json::Value = root.json().await.unwrap();
    assert_eq!(
        root["user"]["locale"], "en",
        "created with the service's user model"
    );
    let admin_access = root["access_token"].as_str().unwrap();
    assert_eq!(
        http.get(format!("{base}/admin/users"))
            .bearer_auth(admin_access)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let mut no_password = command(dir.path())
        .args(["create-user", "nopass", "nopass@example.com"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(!no_password.status.success());
    no_password.stdout.extend(no_password.stderr);
    assert!(
        String::from_utf8_lossy(&no_password.stdout)
            .contains("no password: set AUTH_NEW_USER_PASSWORD"),
        "{}",
        String::from_utf8_lossy(&no_password.stdout)
    );
    let output = command(dir.path())
        .args(["deactivate-user", "nobody"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).contains("no user named `nobody`"));
    let output = command(dir.path())
        .args(["deactivate-user"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).contains("usage: deactivate-user <username>"));
    let output = command(dir.path())
        .args(["reactivate-user", "ada"])
        .env("AUTH__PASSWORD__MEMORY_KIB", "1024")
        .env("AUTH__PASSWORD__ITERATIONS", "1")
        .output()
        .unwrap();
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).contains("`ada` may log in again"));
    // An operator registers an OAuth client: standard output is its JSON alone, with the
    // secret this once, and the running service accepts it.
    let output = command(dir.path())
        .args([
            "clients",
            "create",
            "Reports",
            "--grant",
            "client_credentials",
        ])
        .args(["--scope", "articles.read"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let client: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let secret = client["client_secret"].as_str().unwrap();
    assert!(!String::from_utf8_lossy(&output.stderr).contains(secret));
    let id = client["client_id"].as_str().unwrap();
    let token: serde_json::Value = http
        .post(format!("{base}/oauth/token"))
        .basic_auth(id, Some(secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(token["scope"], "articles.read", "{token}");
    // The service's own guards accept the client's token for what its scopes grant.
    let articles = http
        .get(format!("{base}/articles"))
        .bearer_auth(token["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(articles.status(), 200);
    let listed = command(dir.path())
        .args(["clients", "list"])
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert!(listed.contains(id) && !listed.contains(secret), "{listed}");
    let output = command(dir.path())
        .args([
            "clients",
            "create",
            "Web",
            "--redirect-uri",
            "http://app.example/cb",
        ])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(output.stdout.is_empty(), "no JSON for a refused client");
    assert!(String::from_utf8_lossy(&output.stderr).contains("invalid_redirect_uri"));
    assert_eq!(
        http.post(format!("{base}/auth/login"))
            .json(&body)
            .send()
            .await
            .unwrap()
            .status(),
        200,
        "reactivated"
    );
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

/// A deployment that forgot its configuration: no AUTH__ENV, no secrets, listening on every
/// interface. It must not come up signing with generated keys.
#[test]
fn generated_keys_do_not_serve_beyond_loopback_without_an_explicit_environment() {
    let dir = tempfile::tempdir().unwrap();
    let output = command(dir.path())
        .env("AUTH__SERVER__BIND", format!("0.0.0.0:{}", free_port()))
        .output()
        .unwrap();
    assert!(!output.status.success());
    let log = String::from_utf8_lossy(&output.stdout);
    assert!(
        log.contains("refusing to start")
            && log.contains("not a loopback address")
            && log.contains("AUTH__JWT__SECRET_KEY and AUTH__JWT__REFRESH_TOKEN_SECRET")
            && log.contains("AUTH__ENV=development"),
        "{log}"
    );
    assert!(
        !dir.path().join("auth-keys.json").exists(),
        "no keys generated"
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

/// Two processes sharing one PostgreSQL database and one Redis agree within a second: a token
/// from A works on B, a logout on B kills it on A, a session revoked on A is refused on B, and
/// the session limit holds across both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_postgres_and_redis() {
    let Some(redis) = tests::redis_url().await else {
        return;
    };
    let Some(db) = tests::PgDatabase::create().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("AUTH__DATABASE__URL", db.url.clone()),
        ("AUTH__REDIS__URL", redis),
        (
            "AUTH__REDIS__PREFIX",
            format!("{}:", tests::unique_prefix("instances")),
        ),
        ("AUTH__JWT__SECRET_KEY", tests::random_secret()),
        ("AUTH__JWT__REFRESH_TOKEN_SECRET", tests::random_secret()),
        ("AUTH__SESSION__MAX_SESSIONS_PER_USER", "2".to_owned()),
    ];
    let (_a, port_a, _) = start_with(dir.path(), free_port(), &env);
    let (_b, port_b, _) = start_with(dir.path(), free_port(), &env);
    let a = format!("http://127.0.0.1:{port_a}");
    let b = format!("http://127.0.0.1:{port_b}");
    let http = reqwest::Client::new();
    let me = |base: &str, token: &str| {
        http.get(format!("{base}/auth/me"))
            .bearer_auth(token)
            .send()
    };
    let login = |base: String, device: &'static str| {
        let http = http.clone();
        async move {
            let body = json!({"username": "ada", "password": "correct horse battery", "device_name": device});
            let response = http
                .post(format!("{base}/auth/login"))
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
            response.json::<Value>().await.unwrap()
        }
    };
    let body =
        json!({"username": "ada", "email": "ada@example.com", "password": "correct horse battery"});
    let registered = http
        .post(format!("{a}/auth/register"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), 201);

    // Log in on A, use the token on B.
    let first = login(a.clone(), "first").await;
    let first_token = first["access_token"].as_str().unwrap().to_owned();
    assert_eq!(me(&b, &first_token).await.unwrap().status(), 200);
    // Warm A's answer for this token, so a stale local view would show.
    assert_eq!(me(&a, &first_token).await.unwrap().status(), 200);

    // Log out on B: the token fails on A within one second.
    let out = http
        .post(format!("{b}/auth/logout"))
        .bearer_auth(&first_token)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 200);
    assert!(
        tests::eventually(Duration::from_secs(1), || async {
            me(&a, &first_token).await.unwrap().status() == 401
        })
        .await,
        "logout on B is honoured on A within a second"
    );

    // Revoke a session on A: B refuses it.
    let second = login(b.clone(), "second").await;
    let third = login(a.clone(), "third").await;
    let second_token = second["access_token"].as_str().unwrap().to_owned();
    let third_token = third["access_token"].as_str().unwrap().to_owned();
    assert_eq!(me(&b, &second_token).await.unwrap().status(), 200);
    let revoke = http
        .delete(format!(
            "{a}/auth/sessions/{}",
            second["session_id"].as_str().unwrap()
        ))
        .bearer_auth(&third_token)
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), 204);
    assert!(
        tests::eventually(Duration::from_secs(1), || async {
            me(&b, &second_token).await.unwrap().status() == 401
        })
        .await,
        "a session revoked on A is refused on B within a second"
    );

    // The limit of two sessions holds across both instances: logins alternate, the least
    // recently used session goes, and its token stops working on both. (Session times have
    // one-second resolution: wait, so "least recently used" is not a tie.)
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let fourth = login(b.clone(), "fourth").await;
    let fifth = login(a.clone(), "fifth").await;
    let fifth_token = fifth["access_token"].as_str().unwrap().to_owned();
    let sessions: Value = http
        .get(format!("{b}/auth/sessions"))
        .bearer_auth(&fifth_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut names: Vec<&str> = sessions
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["device"]["name"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["fifth", "fourth"]);
    for base in [&a, &b] {
        assert!(
            tests::eventually(Duration::from_secs(1), || async {
                me(base, &third_token).await.unwrap().status() == 401
            })
            .await,
            "the evicted session is refused on {base}"
        );
        let fourth_token = fourth["access_token"].as_str().unwrap();
        assert_eq!(me(base, fourth_token).await.unwrap().status(), 200);
    }
    db.drop_database().await;
}
