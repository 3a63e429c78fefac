//! A login storm against a real server on 127.0.0.1: password hashing is bounded (one slot,
//! one waiting), the excess is refused at once with 503 `overloaded` and `Retry-After`, and
//! the service answers normally again as soon as the storm is over; logins whose clients
//! hang up leave no hashes queued behind the bound.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use auth_axum::AuthModule;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use tests::{sqlite_url, test_config, TestServer};

const PASSWORD: &str = "correct horse battery";
const STORM: usize = 16;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_storm_is_refused_at_once_beyond_the_hashing_queue() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(&sqlite_url(dir.path()), dir.path());
    // Costly enough that every login of the storm arrives while the first is still hashing.
    config.password.memory_kib = 16 * 1024;
    config.password.iterations = 3;
    config.password.max_concurrent_hashes = Some(1);
    config.password.max_queued_hashes = Some(1);
    // The storm's logins must reach the hasher, not the lockout's delay nor the rate limits.
    config.lockout.enabled = false;
    config.rate_limit.enabled = false;
    let module = AuthModule::configure(config).await.unwrap();
    let server = TestServer::spawn(auth_service::app(module).unwrap()).await;
    let http = Client::new();
    let register = http
        .post(server.url("/auth/register"))
        .json(&json!({"username": "ada", "email": "ada@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(register.status(), StatusCode::CREATED);

    let login = |password: &'static str| {
        let http = http.clone();
        let url = server.url("/auth/login");
        async move {
            let response = http
                .post(url)
                .json(&json!({"username": "ada", "password": password}))
                .send()
                .await
                .unwrap();
            let status = response.status();
            let retry_after = response
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_owned());
            let body: Value = response.json().await.unwrap();
            (status, retry_after, body)
        }
    };
    // Half right, half wrong passwords: refusals must not depend on the outcome.
    let storm: Vec<_> = (0..STORM)
        .map(|i| {
            tokio::spawn(login(if i % 2 == 0 {
                PASSWORD
            } else {
                "wrong password!"
            }))
        })
        .collect();
    let mut checked = 0;
    let mut refused = 0;
    for task in storm {
        let (status, retry_after, body) = task.await.unwrap();
        match status {
            StatusCode::OK | StatusCode::UNAUTHORIZED => checked += 1,
            StatusCode::SERVICE_UNAVAILABLE => {
                assert_eq!(body["code"], "overloaded", "{body}");
                assert_eq!(body["status"], 503);
                assert_eq!(
                    body["detail"],
                    "too many logins are being checked at once; retry shortly"
                );
                assert_eq!(retry_after.as_deref(), Some("1"));
                refused += 1;
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert!(checked >= 1, "some logins are checked");
    assert!(
        refused >= STORM / 2,
        "one hashing slot and one queue place cannot take a storm of {STORM}: {checked} checked"
    );

    // After the storm, logins are checked again.
    let (status, _, body) = login(PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["access_token"].is_string());
    let (status, _, body) = login("wrong password!").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
}

/// Sends a complete login request on a connection of its own and closes the connection
/// `after` later, without reading the answer: a client that gives up.
async fn abandoned_login(addr: std::net::SocketAddr, after: std::time::Duration) {
    use tokio::io::AsyncWriteExt;
    let body = json!({"username": "ada", "password": "wrong password!"}).to_string();
    let request = format!(
        "POST /auth/login HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\n\
         content-length: {}\r\n\r\n{body}",
        body.len()
    );
    let Ok(mut stream) = tokio::net::TcpStream::connect(addr).await else {
        return;
    };
    let _ = stream.write_all(request.as_bytes()).await;
    tokio::time::sleep(after).await;
    drop(stream);
}

/// Clients that send a login and hang up at once must not leave their password hashes
/// queued behind the bound: the hash keeps its slot until it has run, and one whose client
/// is gone before a thread takes it is skipped. Before, each abandoned login freed its slot
/// while its hash stayed queued, so hundreds of them delayed the next real login by seconds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abandoned_logins_do_not_queue_hashes_beyond_the_bound() {
    const ABANDONED: usize = 150;
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(&sqlite_url(dir.path()), dir.path());
    // A hash costs tens of milliseconds: a backlog of abandoned ones would show as seconds.
    config.password.memory_kib = 2 * 1024;
    config.password.iterations = 1;
    config.password.max_concurrent_hashes = Some(2);
    // The abandoned logins must reach the hasher, not the lockout's delay nor the rate limits
    // (150 logins of one account in a few seconds is what they are there to stop).
    config.lockout.enabled = false;
    config.rate_limit.enabled = false;
    let module = AuthModule::configure(config).await.unwrap();
    let hasher = module.service().passwords().clone();
    let server = TestServer::spawn(auth_service::app(module).unwrap()).await;
    let http = Client::new();
    let register = http
        .post(server.url("/auth/register"))
        .json(&json!({"username": "ada", "email": "ada@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(register.status(), StatusCode::CREATED);
    let login = || async {
        let started = std::time::Instant::now();
        let response = http
            .post(server.url("/auth/login"))
            .json(&json!({"username": "ada", "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        started.elapsed()
    };
    let mut idle = Vec::new();
    for _ in 0..3 {
        idle.push(login().await);
    }
    idle.sort();
    let idle = idle[1];

    // One after another, as the attack was run: each gives up before the next one comes,
    // so a slot it freed early would be taken by the next one's hash at once.
    for _ in 0..ABANDONED {
        abandoned_login(server.addr, std::time::Duration::from_millis(3)).await;
    }
    let after = login().await;
    let stats = hasher.stats();
    assert!(
        after < idle * 10 + std::time::Duration::from_millis(200),
        "a login after {ABANDONED} abandoned ones took {after:?}, an idle one {idle:?} \
         (hashes computed {}, skipped {})",
        stats.computed,
        stats.abandoned
    );
}
