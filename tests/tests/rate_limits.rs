//! Rate limits over HTTP: the per-address and per-account quotas of the auth route groups,
//! forwarded addresses counted only from trusted proxies, 429 `rate_limited` with
//! `Retry-After` and the `RateLimit-Policy` / `RateLimit` headers, quotas shared by instances
//! through Redis, and the `RateLimitLayer` on a service's own route.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use auth_axum::core::config::{AuthConfig, RouteLimits};
use auth_axum::core::rate_limit::Quota;
use auth_axum::rate_limit::RateLimitLayer;
use auth_axum::AuthModule;
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};
use tests::app::AuthApp;
use tests::{test_config, TestServer};

const PASSWORD: &str = "correct horse battery";
const ATTACKER: &str = "203.0.113.9";

fn quota(text: &str) -> Quota {
    text.parse().unwrap()
}

/// Trusts 127.0.0.1 as a proxy and applies `change` to the rate limits.
fn proxied(change: impl FnOnce(&mut AuthConfig)) -> impl FnOnce(&mut AuthConfig) {
    move |c| {
        c.server.trusted_proxies = vec!["127.0.0.1/32".to_owned()];
        change(c);
    }
}

/// Asserts a 429 `rate_limited` from the quota `policy` of `limit` per `window` seconds:
/// `Retry-After`, `RateLimit-Policy` and `RateLimit` (nothing remaining) agree with the body.
async fn refused(response: Response, policy: &str, limit: u32, window: u64) {
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .unwrap_or_else(|| panic!("no {name}"))
            .to_str()
            .unwrap()
            .to_owned()
    };
    let retry_after: u64 = header("retry-after").parse().unwrap();
    assert!((1..=window).contains(&retry_after), "{retry_after}");
    assert_eq!(
        header("ratelimit-policy"),
        format!("\"{policy}\";q={limit};w={window}")
    );
    let state = header("ratelimit");
    assert!(
        state.starts_with(&format!("\"{policy}\";r=0;t=")),
        "{state}"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "rate_limited");
    assert_eq!(body["status"], 429);
    assert_eq!(body["title"], "Too many requests");
    let rate = quota(&format!("{limit}/{window}s"));
    assert_eq!(
        body["detail"],
        format!("too many requests (`{policy}`: {rate}); retry in {retry_after} seconds")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logins_from_one_address_are_limited() {
    let app = AuthApp::start(
        None,
        proxied(|c| c.rate_limit.login = RouteLimits::new(quota("3/minute"), Quota::OFF)),
    )
    .await;
    // Different names, so that the lockout has nothing to count.
    for name in ["ann", "ben", "cy"] {
        let response = app.login_from(name, PASSWORD, ATTACKER).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    refused(
        app.login_from("dee", PASSWORD, ATTACKER).await,
        "login-ip",
        3,
        60,
    )
    .await;
    // Another address has its own quota.
    let other = app.login_from("dee", PASSWORD, "198.51.100.7").await;
    assert_eq!(other.status(), StatusCode::UNAUTHORIZED);
}

/// Without trusted proxies, `X-Forwarded-For` is the client's word and counts for nothing:
/// every request is the socket peer's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_addresses_of_an_untrusted_peer_are_ignored() {
    let app = AuthApp::start(None, |c| {
        c.rate_limit.login = RouteLimits::new(quota("3/minute"), Quota::OFF);
    })
    .await;
    for (name, ip) in [("ann", "10.0.0.1"), ("ben", "10.0.0.2"), ("cy", "10.0.0.3")] {
        let response = app.login_from(name, PASSWORD, ip).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    refused(
        app.login_from("dee", PASSWORD, "10.0.0.4").await,
        "login-ip",
        3,
        60,
    )
    .await;
}

/// Logins naming one account from many addresses meet its own quota, by the name as
/// compared; other accounts are not affected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logins_naming_one_account_are_limited() {
    let app = AuthApp::start(
        None,
        proxied(|c| c.rate_limit.login = RouteLimits::new(Quota::OFF, quota("2/minute"))),
    )
    .await;
    app.register("ada", "ada@example.com", PASSWORD).await;
    assert_eq!(
        app.login_from("ada", PASSWORD, "10.0.0.1").await.status(),
        StatusCode::OK
    );
    assert_eq!(
        app.login_from("ADA", "wrong password", "10.0.0.2")
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    refused(
        app.login_from("ada", PASSWORD, "10.0.0.3").await,
        "login-account",
        2,
        60,
    )
    .await;
    assert_eq!(
        app.login_from("bob", PASSWORD, "10.0.0.3").await.status(),
        StatusCode::UNAUTHORIZED
    );
}

/// Reset links asked for one address are limited whether or not an account has it, so the
/// quota tells nothing about accounts; registrations from one address are limited too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_requests_and_registrations_are_limited() {
    let app = AuthApp::start(
        None,
        proxied(|c| {
            c.rate_limit.password = RouteLimits::new(Quota::OFF, quota("1/hour"));
            c.rate_limit.register = RouteLimits::new(quota("2/hour"), Quota::OFF);
        }),
    )
    .await;
    app.register("ada", "ada@example.com", PASSWORD).await;
    let app = &app;
    let forgot = |email: String| async move {
        app.post("/auth/password/forgot", &json!({"email": email}), None)
            .await
    };
    for email in ["ada@example.com", "nobody@example.com"] {
        assert_eq!(
            forgot(email.to_owned()).await.status(),
            StatusCode::ACCEPTED
        );
        refused(
            forgot(email.to_uppercase()).await,
            "password-account",
            1,
            3_600,
        )
        .await;
    }
    // The registration above was the first of this address (127.0.0.1).
    assert_eq!(
        app.register("bob", "bob@example.com", PASSWORD)
            .await
            .status(),
        StatusCode::CREATED
    );
    refused(
        app.register("cy", "cy@example.com", PASSWORD).await,
        "register-ip",
        2,
        3_600,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disabled_rate_limits_limit_nothing() {
    let app = AuthApp::start(None, |c| {
        c.rate_limit.enabled = false;
        c.rate_limit.login = RouteLimits::new(quota("1/hour"), quota("1/hour"));
    })
    .await;
    for _ in 0..3 {
        assert_eq!(
            app.login("ann", PASSWORD).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
}

/// Two instances sharing Redis count one quota together.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_sharing_redis_count_together() {
    let Some(redis) = tests::redis_url().await else {
        return;
    };
    let prefix = format!("{}:", tests::unique_prefix("rate"));
    let shared = |c: &mut AuthConfig| {
        c.server.trusted_proxies = vec!["127.0.0.1/32".to_owned()];
        c.rate_limit.login = RouteLimits::new(quota("3/minute"), Quota::OFF);
        c.redis.url = Some(redis.clone());
        c.redis.prefix.clone_from(&prefix);
    };
    let a = AuthApp::start(None, shared).await;
    let b = AuthApp::start(None, shared).await;
    for (app, name) in [(&a, "ann"), (&b, "ben"), (&a, "cy")] {
        let response = app.login_from(name, PASSWORD, ATTACKER).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    refused(
        b.login_from("dee", PASSWORD, ATTACKER).await,
        "login-ip",
        3,
        60,
    )
    .await;
}

/// A service's own route behind `RateLimitLayer`: every answer carries the headers, the
/// quota's excess is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_services_own_route_takes_the_layer() {
    let dir = tempfile::tempdir().unwrap();
    let module = AuthModule::configure(test_config("sqlite::memory:", dir.path()))
        .await
        .unwrap();
    let router = axum::Router::new()
        .route("/search", axum::routing::get(|| async { "results" }))
        .layer(RateLimitLayer::per_ip(&module, "search", quota("2/minute")));
    let server = TestServer::spawn(router).await;
    let http = reqwest::Client::new();
    for remaining in [1, 0] {
        let response = http.get(server.url("/search")).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let headers = response.headers();
        assert_eq!(headers["ratelimit-policy"], "\"search\";q=2;w=60");
        let state = headers["ratelimit"].to_str().unwrap();
        assert!(
            state.starts_with(&format!("\"search\";r={remaining};t=")),
            "{state}"
        );
        assert_eq!(response.text().await.unwrap(), "results");
    }
    refused(
        http.get(server.url("/search")).send().await.unwrap(),
        "search",
        2,
        60,
    )
    .await;
}
