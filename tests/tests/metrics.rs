//! Prometheus metrics of the example service (`AUTH__METRICS__*`): off by default, at
//! `GET /metrics` beside the routes when enabled, or on an address of their own; logins by
//! outcome, refreshes, reuse detections, revocations, refusals by status and code, the hashing
//! queue, the verification cache and store latency, never a user or a token in a label.
//!
//! One test binary, one recorder: the process's metrics recorder is global, so the counts
//! below are read as differences.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use reqwest::StatusCode;
use serde_json::json;
use tests::example::ExampleService;

/// The value of the sample `name{labels}` (labels as the exporter writes them, in the order
/// they were recorded), 0 when absent.
fn sample(text: &str, name: &str, labels: &str) -> f64 {
    let wanted = if labels.is_empty() {
        name.to_owned()
    } else {
        format!("{name}{{{labels}}}")
    };
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| {
            let (key, value) = l.rsplit_once(' ')?;
            (key == wanted).then(|| value.parse().unwrap())
        })
        .unwrap_or(0.0)
}

async fn scrape(http: &reqwest::Client, url: &str) -> String {
    let response = http.get(url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    response.text().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_what_an_operator_watches() {
    // Off by default: no route.
    let off = ExampleService::start(|_| {}).await;
    let response = off
        .http
        .get(off.server.url("/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);

    let service = ExampleService::start(|c| {
        c.metrics.enabled = true;
        // A used refresh token presented again is reuse at once, not a retry.
        c.jwt.refresh_reuse_grace_seconds = 0;
    })
    .await;
    let metrics_url = service.server.url("/metrics");
    let before = scrape(&service.http, &metrics_url).await;
    service.register("mia", None).await;
    let tokens = service.login("mia").await;
    service.login_refused("mia", "not the password").await;
    let refresh = |token: &str| {
        service
            .http
            .post(service.server.url("/auth/refresh"))
            .json(&json!({"refresh_token": token}))
            .send()
    };
    let old = tokens["refresh_token"].as_str().unwrap();
    assert_eq!(refresh(old).await.unwrap().status(), StatusCode::OK);
    // The used token again, a second later (within a second it is a retry): reuse, the
    // family revoked.
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    let reused = refresh(old).await.unwrap();
    assert_eq!(reused.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = reused.json().await.unwrap();
    assert_eq!(body["code"], "invalid_grant", "{body}");
    let me = service
        .http
        .get(service.server.url("/auth/me"))
        .bearer_auth("not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED);

    let after = scrape(&service.http, &metrics_url).await;
    let grew =
        |name: &str, labels: &str| sample(&after, name, labels) - sample(&before, name, labels);
    assert_eq!(
        grew("auth_logins_total", "outcome=\"succeeded\""),
        1.0,
        "{after}"
    );
    assert_eq!(grew("auth_logins_total", "outcome=\"failed\""), 1.0);
    assert_eq!(grew("auth_refreshes_total", ""), 1.0);
    assert_eq!(grew("auth_refresh_reuse_detected_total", ""), 1.0);
    assert_eq!(grew("auth_events_total", "kind=\"user_registered\""), 1.0);
    assert!(
        grew(
            "auth_http_refusals_total",
            "status=\"401\",code=\"invalid_credentials\""
        ) >= 1.0,
        "{after}"
    );
    assert!(
        grew(
            "auth_http_refusals_total",
            "status=\"401\",code=\"invalid_token\""
        ) >= 1.0,
        "{after}"
    );
    // Every password hash (registration, logins) went through the queue.
    assert!(
        sample(&after, "auth_password_hash_wait_seconds_count", "")
            >= sample(&before, "auth_password_hash_wait_seconds_count", "") + 3.0,
        "{after}"
    );
    // Store latency by backend and operation: the login looked the user up in SQLite, the
    // refresh rotated in its store, and nothing failed.
    let store = |store: &str, operation: &str, le: &str| {
        grew(
            "auth_store_duration_seconds_bucket",
            &format!("backend=\"sqlite\",store=\"{store}\",operation=\"{operation}\",outcome=\"ok\",le=\"{le}\""),
        )
    };
    assert!(store("users", "get_by_login", "+Inf") >= 2.0, "{after}");
    assert_eq!(store("refresh_tokens", "rotate", "+Inf"), 1.0, "{after}");
    assert!(
        store("sessions", "create_session", "+Inf") >= 1.0,
        "{after}"
    );
    assert!(
        store("users", "get_by_login", "2.5") <= store("users", "get_by_login", "+Inf"),
        "cumulative buckets"
    );
    assert!(!after.contains("outcome=\"error\""), "{after}");
    assert!(after.contains("# HELP auth_logins_total Password logins, by outcome"));
    // Labels carry no user: the name never appears.
    assert!(!after.contains("mia"), "{after}");

    // On an address of its own, not beside the routes.
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let address = format!("127.0.0.1:{port}");
    let separate = ExampleService::start(|c| {
        c.metrics.enabled = true;
        c.metrics.address = Some(address.clone());
    })
    .await;
    let response = separate
        .http
        .get(separate.server.url("/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::NOT_FOUND,
        "not beside the routes"
    );
    let handle = auth_axum::metrics::install().unwrap();
    auth_axum::metrics::serve(address.parse().unwrap(), handle)
        .await
        .unwrap();
    let text = scrape(&separate.http, &format!("http://{address}/metrics")).await;
    assert!(text.contains("auth_logins_total"), "{text}");
}

/// A bad address stops the start, naming the setting.
#[test]
fn a_bad_metrics_address_is_refused() {
    let mut config = auth_axum::core::AuthConfig::default();
    config.metrics.address = Some("localhost".to_owned());
    let err = config.validate().unwrap_err().to_string();
    assert!(err.contains("AUTH__METRICS__ADDRESS"), "{err}");
}
