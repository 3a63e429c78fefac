//! The client address over HTTP: the socket peer unless it is a trusted proxy
//! (`AUTH__SERVER__TRUSTED_PROXIES`), then the client its `Forwarded` or `X-Forwarded-For`
//! headers name; what a client sends itself never counts. Seen through the address a login
//! records on its session (`GET /auth/sessions`).

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use auth_axum::core::service::RegisterRequest;
use reqwest::StatusCode;
use serde_json::{json, Value};
use tests::app::AuthApp;

const PASSWORD: &str = "correct horse battery";

/// Logs in as `ada` with these extra headers; the address the new session recorded.
async fn recorded_ip(app: &AuthApp, headers: &[(&str, &str)]) -> Value {
    let mut request = app
        .http
        .post(app.server.url("/auth/login"))
        .json(&json!({"username": "ada", "password": PASSWORD}));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let login = request.send().await.unwrap();
    assert_eq!(login.status(), StatusCode::OK);
    let body: Value = login.json().await.unwrap();
    let access = body["access_token"].as_str().unwrap();
    let sessions: Value = app
        .http
        .get(app.server.url("/auth/sessions"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let current = sessions
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == true)
        .unwrap_or_else(|| panic!("no current session in {sessions}"));
    current["device"]["ip"].clone()
}

async fn start(trusted: &[&str]) -> AuthApp {
    let trusted: Vec<String> = trusted.iter().map(|s| (*s).to_owned()).collect();
    let app = AuthApp::start(None, |c| c.server.trusted_proxies = trusted).await;
    app.module
        .service()
        .register(RegisterRequest::new("ada", "ada@example.com", PASSWORD))
        .await
        .unwrap();
    app
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarding_headers_count_only_from_trusted_proxies() {
    // Nobody trusted: the peer, whatever the headers say.
    let direct = start(&[]).await;
    assert_eq!(recorded_ip(&direct, &[]).await, "127.0.0.1");
    assert_eq!(
        recorded_ip(
            &direct,
            &[
                ("x-forwarded-for", "203.0.113.9"),
                ("forwarded", "for=203.0.113.9")
            ]
        )
        .await,
        "127.0.0.1"
    );

    // The loopback peer is a trusted proxy.
    let proxied = start(&["127.0.0.1/32", "10.0.0.0/8"]).await;
    assert_eq!(
        recorded_ip(&proxied, &[]).await,
        "127.0.0.1",
        "no header: the proxy"
    );
    assert_eq!(
        recorded_ip(&proxied, &[("x-forwarded-for", "203.0.113.9")]).await,
        "203.0.113.9"
    );
    // A client's own entry sits left of the one the proxies appended, and is never reached.
    assert_eq!(
        recorded_ip(
            &proxied,
            &[("x-forwarded-for", "6.6.6.6, 203.0.113.9, 10.1.1.1")]
        )
        .await,
        "203.0.113.9"
    );
    // Two header lines are one list, in order.
    assert_eq!(
        recorded_ip(
            &proxied,
            &[
                ("x-forwarded-for", "6.6.6.6"),
                ("x-forwarded-for", "198.51.100.4")
            ]
        )
        .await,
        "198.51.100.4"
    );
    // `Forwarded` wins over `X-Forwarded-For`, IPv6 in brackets with a port.
    assert_eq!(
        recorded_ip(
            &proxied,
            &[
                ("forwarded", "for=\"[2001:db8::7]:4711\";proto=https"),
                ("x-forwarded-for", "198.51.100.1")
            ]
        )
        .await,
        "2001:db8::7"
    );
    assert_eq!(
        recorded_ip(&proxied, &[("forwarded", "for=unknown")]).await,
        "127.0.0.1",
        "an unknown client: the proxy that said so"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_trusted_proxy_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = tests::test_config(&tests::sqlite_url(dir.path()), dir.path());
    config.server.trusted_proxies = vec!["10.0.0.0/33".to_owned()];
    let error = config.validate().unwrap_err().to_string();
    assert!(error.contains("AUTH__SERVER__TRUSTED_PROXIES"), "{error}");
    assert!(error.contains("10.0.0.0/33"), "{error}");
}
