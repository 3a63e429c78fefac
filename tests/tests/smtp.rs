//! Mail through a real SMTP server on 127.0.0.1 (aiosmtpd): the verification link of a
//! registration arrives there and works; a mail server that is down fails no request, and
//! delivery gives up after a bounded number of attempts.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use std::sync::Arc;
use std::time::Duration;

use auth_axum::core::config::SmtpTls;
use auth_axum::core::mail::{deliver, Mail, SmtpMailer, ATTEMPTS};
use auth_axum::{AuthModule, AuthRouter};
use reqwest::StatusCode;
use serde_json::json;
use tests::{eventually, sqlite_url, test_config, SmtpServer, TestServer};

const PASSWORD: &str = "correct horse battery";

fn smtp_config(dir: &std::path::Path, port: u16) -> auth_axum::core::AuthConfig {
    let mut config = test_config(&sqlite_url(dir), dir);
    config.mail.smtp_host = Some("127.0.0.1".to_owned());
    config.mail.smtp_port = Some(port);
    config.mail.smtp_tls = SmtpTls::None;
    config.mail.smtp_timeout_seconds = 2;
    config.mail.from = "Auth <auth@example.com>".to_owned();
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registration_link_arrives_by_smtp_and_works() {
    let Some(smtp) = SmtpServer::start().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let module = AuthModule::configure(smtp_config(dir.path(), smtp.port))
        .await
        .unwrap();
    let server = TestServer::spawn(
        AuthRouter::new()
            .with_auth_routes(64 * 1024)
            .into_router()
            .with_state(module),
    )
    .await;
    let http = reqwest::Client::new();
    let registered = http
        .post(server.url("/auth/register"))
        .json(&json!({"username": "ada", "email": "ada@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), StatusCode::CREATED);
    assert!(
        eventually(Duration::from_secs(10), || async {
            smtp.received().contains("Token: ")
        })
        .await,
        "no message reached the SMTP server: {}",
        smtp.received()
    );
    let received = smtp.received();
    assert!(received.contains("To: ada@example.com"), "{received}");
    assert!(
        received.contains("From: Auth <auth@example.com>"),
        "{received}"
    );
    assert!(
        received.contains("Subject: Confirm your email address"),
        "{received}"
    );
    assert!(
        !received.contains("auth-keys"),
        "nothing else in the message"
    );
    let token = received
        .lines()
        .find_map(|l| l.strip_prefix("Token: "))
        .unwrap()
        .trim()
        .to_owned();
    let verified = http
        .post(server.url("/auth/verify-email"))
        .json(&json!({ "token": token }))
        .send()
        .await
        .unwrap();
    assert_eq!(verified.status(), StatusCode::NO_CONTENT);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mail_server_that_is_down_fails_no_request_and_delivery_gives_up() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let config = smtp_config(dir.path(), port);
    let module = AuthModule::configure(config.clone()).await.unwrap();
    let server = TestServer::spawn(
        AuthRouter::new()
            .with_auth_routes(64 * 1024)
            .into_router()
            .with_state(module),
    )
    .await;
    let http = reqwest::Client::new();
    let registered = http
        .post(server.url("/auth/register"))
        .json(&json!({"username": "bob", "email": "bob@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), StatusCode::CREATED);
    let forgot = http
        .post(server.url("/auth/password/forgot"))
        .json(&json!({"email": "bob@example.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(forgot.status(), StatusCode::ACCEPTED);

    let mailer = Arc::new(SmtpMailer::new(&config.mail).unwrap());
    let sent = deliver(mailer, Mail::new("bob@example.com", "Hello", "text"))
        .await
        .unwrap();
    assert!(!sent, "given up after {ATTEMPTS} attempts");
}
