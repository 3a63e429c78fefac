//! A login storm against a real server on 127.0.0.1: password hashing is bounded (one slot,
//! one waiting), the excess is refused at once with 503 `overloaded` and `Retry-After`, and
//! the service answers normally again as soon as the storm is over.

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
