//! Mail through a real SMTP server on 127.0.0.1 (aiosmtpd): the verification link of a
//! registration arrives there and works; a mail server that is down fails no request, and
//! delivery gives up after a bounded number of attempts.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use std::sync::Arc;
use std::time::Duration;

use auth_axum::core::config::{AuthConfig, SmtpTls};
use auth_axum::core::mail::{deliver, Mail, SmtpMailer, ATTEMPTS};
use reqwest::StatusCode;
use serde_json::json;
use tests::app::AuthApp;
use tests::outbox::token_of;
use tests::{eventually, SmtpServer};

const PASSWORD: &str = "correct horse battery";

/// Mail through the SMTP server on `port` of 127.0.0.1, in plain text (a test server).
fn use_smtp(config: &mut AuthConfig, port: u16) {
    config.mail.smtp_host = Some("127.0.0.1".to_owned());
    config.mail.smtp_port = Some(port);
    config.mail.smtp_tls = SmtpTls::None;
    config.mail.smtp_timeout_seconds = 2;
    config.mail.from = "Auth <auth@example.com>".to_owned();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registration_link_arrives_by_smtp_and_works() {
    let Some(smtp) = SmtpServer::start().await else {
        return;
    };
    let app = AuthApp::start(None, |c| use_smtp(c, smtp.port)).await;
    let registered = app.register("ada", "ada@example.com", PASSWORD).await;
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
    let token = token_of(&received);
    let verified = app
        .post("/auth/verify-email", &json!({ "token": token }), None)
        .await;
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
    let app = AuthApp::start(None, |c| use_smtp(c, port)).await;
    let registered = app.register("bob", "bob@example.com", PASSWORD).await;
    assert_eq!(registered.status(), StatusCode::CREATED);
    let forgot = app
        .post(
            "/auth/password/forgot",
            &json!({"email": "bob@example.com"}),
            None,
        )
        .await;
    assert_eq!(forgot.status(), StatusCode::ACCEPTED);

    let mailer = Arc::new(SmtpMailer::new(&app.module.config().mail).unwrap());
    let sent = deliver(mailer, Mail::new("bob@example.com", "Hello", "text"))
        .await
        .unwrap();
    assert!(!sent, "given up after {ATTEMPTS} attempts");
}
