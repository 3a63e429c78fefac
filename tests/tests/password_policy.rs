//! The password policy over HTTP on SQLite and PostgreSQL: registration, change and reset
//! each refuse a password with one 422 listing every rule it breaks, each with its stable
//! code (length after NFKC, configured character classes, the zxcvbn floor with the account
//! as dictionary, the shipped list of common passwords, the account's identifiers), and
//! change and reset refuse any of the account's last N passwords. A reset refused by the
//! policy leaves its link usable.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use reqwest::{Response, StatusCode};
use serde_json::{json, Value};
use tests::app::AuthApp;
use tests::outbox::{token_of, wait_for};
use tests::PgDatabase;

const FIRST: &str = "correct horse battery";
const SECOND: &str = "another staple entirely";
const THIRD: &str = "violet lantern orchestra";
const FOURTH: &str = "quiet harbour pinecone";

/// Registers `username` (address `username@example.com`) with `password`.
async fn register(h: &AuthApp, username: &str, password: &str) -> Response {
    h.register(username, &format!("{username}@example.com"), password)
        .await
}

/// Logs in; the access token.
async fn sign_in(h: &AuthApp, username: &str, password: &str) -> String {
    let response = h.login(username, password).await;
    assert_eq!(response.status(), StatusCode::OK, "{username}/{password}");
    let body: Value = response.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

async fn change(h: &AuthApp, access: &str, current: &str, new: &str) -> Response {
    h.post(
        "/auth/password/change",
        &json!({"current_password": current, "new_password": new}),
        Some(access),
    )
    .await
}

/// Asks for a reset link for `username` and returns the `n`th one mailed (1-based).
async fn reset_token(h: &AuthApp, username: &str, n: usize) -> String {
    let forgot = h
        .post(
            "/auth/password/forgot",
            &json!({"email": format!("{username}@example.com")}),
            None,
        )
        .await;
    assert_eq!(forgot.status(), StatusCode::ACCEPTED);
    token_of(&wait_for(&h.outbox, "Reset your password", n).await[n - 1])
}

/// Asserts a 422 whose errors on `field` carry exactly `codes`, in order.
async fn refused(response: Response, field: &str, codes: &[&str]) {
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "validation_failed", "{body}");
    let found: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["field"] == field)
        .map(|e| e["code"].as_str().unwrap())
        .collect();
    assert_eq!(found, codes, "{body}");
    for error in body["errors"].as_array().unwrap() {
        assert!(!error["message"].as_str().unwrap().is_empty(), "{body}");
    }
}

async fn registration_reports_every_rule(h: &AuthApp) {
    for (password, codes) in [
        (
            "pass",
            &[
                "password_too_short",
                "password_too_weak",
                "password_breached",
            ][..],
        ),
        ("password1", &["password_too_weak", "password_breached"]),
        ("Iloveyou", &["password_too_weak", "password_breached"]),
        ("qwertyuiop12", &["password_too_weak", "password_breached"]),
        ("mallory-is-the-best", &["password_contains_identifier"]),
        (
            "mallory2024",
            &["password_too_weak", "password_contains_identifier"],
        ),
        // Seven characters once normalised (a base letter and a combining accent are one).
        (
            "e\u{301}a\u{301}o\u{301}u\u{301}i\u{301}y\u{301}z\u{301}",
            &["password_too_short", "password_too_weak"],
        ),
    ] {
        refused(register(h, "mallory", password).await, "password", codes).await;
    }
    let long = "tiger lily ".repeat(12);
    refused(
        register(h, "mallory", &long).await,
        "password",
        &["password_too_long"],
    )
    .await;
    // Sixteen code points, eight characters: long enough, and judged on its strength.
    refused(
        register(
            h,
            "mallory",
            "e\u{301}a\u{301}o\u{301}u\u{301}i\u{301}y\u{301}z\u{301}n\u{301}",
        )
        .await,
        "password",
        &["password_too_weak"],
    )
    .await;
    assert_eq!(
        register(h, "grace", FIRST).await.status(),
        StatusCode::CREATED
    );
}

async fn history_is_refused_at_change_and_reset(h: &AuthApp) {
    // History 3: the current password and the two before it.
    assert_eq!(
        register(h, "hedy", FIRST).await.status(),
        StatusCode::CREATED
    );
    let access = sign_in(h, "hedy", FIRST).await;
    let same = change(h, &access, FIRST, FIRST).await;
    assert_eq!(same.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        change(h, &access, FIRST, SECOND).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        change(h, &access, SECOND, THIRD).await.status(),
        StatusCode::NO_CONTENT
    );
    for old in [FIRST, SECOND] {
        refused(
            change(h, &access, THIRD, old).await,
            "new_password",
            &["password_reused"],
        )
        .await;
    }
    // A reset link compares the same history, and a refused password leaves it usable.
    let token = reset_token(h, "hedy", 1).await;
    refused(
        h.reset_password(&token, SECOND).await,
        "new_password",
        &["password_reused"],
    )
    .await;
    refused(
        h.reset_password(&token, THIRD).await,
        "new_password",
        &["password_reused"],
    )
    .await;
    refused(
        h.reset_password(&token, "hedy hedy hedy").await,
        "new_password",
        &["password_too_weak", "password_contains_identifier"],
    )
    .await;
    assert_eq!(
        h.reset_password(&token, FOURTH).await.status(),
        StatusCode::NO_CONTENT
    );
    let used = h.reset_password(&token, "yet another fine phrase").await;
    assert_eq!(
        used.status(),
        StatusCode::BAD_REQUEST,
        "the link worked once"
    );
    // Now FOURTH, THIRD, SECOND are remembered: FIRST is old enough again.
    let access = sign_in(h, "hedy", FOURTH).await;
    refused(
        change(h, &access, FOURTH, SECOND).await,
        "new_password",
        &["password_reused"],
    )
    .await;
    assert_eq!(
        change(h, &access, FOURTH, FIRST).await.status(),
        StatusCode::NO_CONTENT
    );
    sign_in(h, "hedy", FIRST).await;
}

async fn suite(database_url: Option<String>) {
    let h = AuthApp::start(database_url, |c| c.password.history = 3).await;
    registration_reports_every_rule(&h).await;
    history_is_refused_at_change_and_reset(&h).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_policy_on_sqlite() {
    suite(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_policy_on_postgres() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    suite(Some(db.url.clone())).await;
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configured_classes_are_required_and_rules_can_be_turned_off() {
    let strict = AuthApp::start(None, |c| {
        c.password.require_uppercase = true;
        c.password.require_digit = true;
        c.password.require_symbol = true;
    })
    .await;
    refused(
        register(&strict, "ada", FIRST).await,
        "password",
        &["password_missing_uppercase", "password_missing_digit"],
    )
    .await;
    assert_eq!(
        register(&strict, "ada", "Correct horse battery 9")
            .await
            .status(),
        StatusCode::CREATED
    );
    let lax = AuthApp::start(None, |c| {
        c.password.min_strength = 0;
        c.password.check_breached = false;
        c.password.forbid_identifiers = false;
        c.password.history = 0;
    })
    .await;
    assert_eq!(
        register(&lax, "ada", "ada12345").await.status(),
        StatusCode::CREATED
    );
    let access = sign_in(&lax, "ada", "ada12345").await;
    assert_eq!(
        change(&lax, &access, "ada12345", "password").await.status(),
        StatusCode::NO_CONTENT
    );
    refused(
        change(&lax, &access, "password", "short").await,
        "new_password",
        &["password_too_short"],
    )
    .await;
}
