//! Guards on how the caller authenticated, over HTTP: `#[require_mfa]`,
//! `#[require_factors(any(...))]`, `#[require_recent_auth(max_age = ...)]` and roles that
//! demand MFA (`AUTH__MFA__REQUIRED_FOR_ROLES`) answer 401 `insufficient_user_authentication`
//! with what would do (RFC 9470), and `POST /auth/mfa/step-up` satisfies them in the caller's
//! session: a new access token for bearer callers, a new cookie (the old one revoked) for
//! cookie callers. API keys are refused (403), never challenged.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use auth_axum::core::user::UserId;
use auth_axum::core::Clock as _;
use auth_axum::prelude::*;
use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};
use tests::mfa::{claims, problem, MfaApp, PASSWORD};

#[require_mfa]
async fn payouts() -> &'static str {
    "payouts"
}

#[require_factors(any(totp, passkey))]
async fn transfer() -> &'static str {
    "sent"
}

#[require_recent_auth(max_age = "5m")]
async fn sudo() -> &'static str {
    "sudo"
}

#[require_roles("admin")]
async fn admin() -> &'static str {
    "admin"
}

fn routes() -> AuthRouter<AuthModule> {
    AuthRouter::new()
        .get("/payouts", payouts)
        .post("/transfer", transfer)
        .get("/sudo", sudo)
        .get("/admin", admin)
}

async fn start(dir: &std::path::Path) -> MfaApp {
    MfaApp::on_sqlite(
        dir,
        |config| config.mfa.required_for_roles = vec!["admin".to_owned()],
        routes(),
    )
    .await
}

async fn call(h: &MfaApp, method: Method, path: &str, token: &str) -> Response {
    let request = h.http.request(method, h.server.url(path));
    request.bearer_auth(token).send().await.unwrap()
}

/// Asserts an `insufficient_user_authentication` answer; its body.
async fn challenged(response: Response) -> Value {
    let header = response.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        header.starts_with("Bearer ")
            && header.contains("error=\"insufficient_user_authentication\""),
        "{header}"
    );
    let body = problem(
        response,
        StatusCode::UNAUTHORIZED,
        "insufficient_user_authentication",
    )
    .await;
    let max_age = body.get("max_age").map(|m| format!("max_age={m}"));
    assert_eq!(
        max_age
            .as_ref()
            .is_some_and(|m| header.ends_with(m.as_str())),
        max_age.is_some(),
        "{header}"
    );
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn factor_guards_challenge_and_step_up_satisfies_them() {
    let dir = tempfile::tempdir().unwrap();
    let h = start(dir.path()).await;
    let password_only = h.user("ada").await;
    let (mut app, codes) = h.enable(&password_only, "ada@example.com").await;

    // A password session: a second factor is asked for, with the ways to give one.
    let body = challenged(call(&h, Method::GET, "/payouts", &password_only).await).await;
    assert_eq!(body["methods"], json!(["totp", "backup_code", "passkey"]));
    assert!(body.get("max_age").is_none());
    let body = challenged(call(&h, Method::POST, "/transfer", &password_only).await).await;
    assert_eq!(body["methods"], json!(["totp", "passkey"]));
    assert_eq!(
        call(&h, Method::GET, "/sudo", &password_only)
            .await
            .status(),
        StatusCode::OK
    );

    // Step-up: wrong or missing proofs refused, a code adds the factor to the session.
    let wrong = h.step_up(&password_only, json!({"code": "000000"})).await;
    problem(wrong, StatusCode::UNAUTHORIZED, "invalid_mfa_code").await;
    let wrong = h
        .step_up(&password_only, json!({"password": "not it at all"}))
        .await;
    problem(wrong, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    let none = h.step_up(&password_only, json!({})).await;
    problem(none, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let anonymous = h
        .post("/auth/mfa/step-up", json!({"code": "123456"}), None)
        .await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let stronger = h
        .stepped_up(&password_only, json!({"code": app.next_code()}))
        .await;
    let access = claims(&stronger);
    assert_eq!(access["amr"], json!(["pwd", "otp"]));
    assert_eq!(
        access["sid"],
        claims(&password_only)["sid"],
        "the same session"
    );
    for path in ["/payouts", "/sudo"] {
        assert_eq!(
            call(&h, Method::GET, path, &stronger).await.status(),
            StatusCode::OK
        );
    }
    assert_eq!(
        call(&h, Method::POST, "/transfer", &stronger)
            .await
            .status(),
        StatusCode::OK
    );
    // The old token still says what it said.
    challenged(call(&h, Method::GET, "/payouts", &password_only).await).await;

    // A backup code is a second factor, but not an authenticator app.
    let mfa_token = h.challenge("ada").await;
    let response = h.verify(&mfa_token, json!({"backup_code": codes[0]})).await;
    let tokens: Value = response.json().await.unwrap();
    let with_backup = tokens["access_token"].as_str().unwrap();
    assert_eq!(
        call(&h, Method::GET, "/payouts", with_backup)
            .await
            .status(),
        StatusCode::OK
    );
    challenged(call(&h, Method::POST, "/transfer", with_backup).await).await;

    // Recent authentication: five minutes on, sudo asks again; the password answers it.
    h.clock.advance(301);
    let body = challenged(call(&h, Method::GET, "/sudo", &stronger).await).await;
    assert_eq!(body["max_age"], 300);
    assert_eq!(
        body["methods"],
        json!(["password", "totp", "backup_code", "passkey"])
    );
    let fresh = h.stepped_up(&stronger, json!({"password": PASSWORD})).await;
    assert_eq!(
        call(&h, Method::GET, "/sudo", &fresh).await.status(),
        StatusCode::OK
    );
    assert_eq!(claims(&fresh)["amr"], json!(["otp", "pwd"]));
    assert_eq!(claims(&fresh)["auth_time"], json!(h.clock.now()));

    // An API key is refused, not challenged: it cannot step up.
    let key: Value = h
        .post(
            "/auth/api-keys",
            json!({"name": "ci", "scopes": ["*"]}),
            Some(&fresh),
        )
        .await
        .json()
        .await
        .unwrap();
    let response = h
        .http
        .get(h.server.url("/payouts"))
        .header("x-api-key", key["key"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    problem(response, StatusCode::FORBIDDEN, "forbidden").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_that_demand_mfa_count_only_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let h = start(dir.path()).await;
    let token = h.user("root").await;
    let root = UserId(claims(&token)["sub"].as_str().unwrap().to_owned());
    h.service.assign_role(&root, "admin").await.unwrap();
    let admin_password_only = h.login("root").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        claims(&admin_password_only)["roles"],
        json!(["user", "admin"])
    );
    let body = challenged(call(&h, Method::GET, "/admin", &admin_password_only).await).await;
    assert_eq!(body["methods"], json!(["totp", "backup_code", "passkey"]));
    // Without the role it is a plain 403, MFA or not.
    let other = h.user("eve").await;
    problem(
        call(&h, Method::GET, "/admin", &other).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;

    let (mut app, _) = h.enable(&admin_password_only, "root@example.com").await;
    let stronger = h
        .stepped_up(&admin_password_only, json!({"code": app.next_code()}))
        .await;
    assert_eq!(
        call(&h, Method::GET, "/admin", &stronger).await.status(),
        StatusCode::OK
    );
}

/// The session and CSRF cookies a response sets.
fn cookies(response: &Response) -> (String, String) {
    let mut session = None;
    let mut csrf = None;
    for value in response.headers().get_all("set-cookie") {
        let value = value.to_str().unwrap();
        let pair = value.split(';').next().unwrap();
        let (name, secret) = pair.split_once('=').unwrap();
        match name {
            "__Host-session" => session = Some(secret.to_owned()),
            "__Host-csrf" => csrf = Some(secret.to_owned()),
            other => panic!("unexpected cookie {other}"),
        }
    }
    (session.unwrap(), csrf.unwrap())
}

async fn with_cookie(
    h: &MfaApp,
    method: Method,
    path: &str,
    cookie: &(String, String),
    body: Option<Value>,
) -> Response {
    let mut request = h
        .http
        .request(method, h.server.url(path))
        .header("cookie", format!("__Host-session={}", cookie.0))
        .header("x-csrf-token", &cookie.1)
        .header("origin", h.server.url(""));
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cookie_session_that_steps_up_gets_a_new_cookie() {
    let dir = tempfile::tempdir().unwrap();
    let h = start(dir.path()).await;
    let token = h.user("ada").await;
    let (mut app, _) = h.enable(&token, "ada@example.com").await;
    let body = json!({"username": "ada", "password": PASSWORD, "cookie": true});
    let challenge: Value = h
        .post("/auth/login", body, None)
        .await
        .json()
        .await
        .unwrap();
    let response = h
        .verify(
            challenge["mfa_token"].as_str().unwrap(),
            json!({"code": app.next_code()}),
        )
        .await;
    let first = cookies(&response);
    assert_eq!(
        with_cookie(&h, Method::GET, "/payouts", &first, None)
            .await
            .status(),
        StatusCode::OK
    );
    h.clock.advance(301);
    challenged(with_cookie(&h, Method::GET, "/sudo", &first, None).await).await;

    let response = with_cookie(
        &h,
        Method::POST,
        "/auth/mfa/step-up",
        &first,
        Some(json!({"password": PASSWORD})),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let second = cookies(&response);
    assert_ne!(second.0, first.0);
    assert_eq!(
        with_cookie(&h, Method::GET, "/sudo", &second, None)
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        with_cookie(&h, Method::GET, "/payouts", &second, None)
            .await
            .status(),
        StatusCode::OK
    );
    // The cookie from before the step-up no longer works at all.
    let stale = with_cookie(&h, Method::GET, "/payouts", &first, None).await;
    problem(stale, StatusCode::UNAUTHORIZED, "invalid_session").await;
}
