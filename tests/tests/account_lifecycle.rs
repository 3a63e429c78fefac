//! The account lifecycle over HTTP on SQLite and PostgreSQL, the mail read from the outbox:
//! password reset (the forgot step answers alike for every address, a link works once and
//! only the newest one works, the reset ends every session, two concurrent resets with one
//! link make exactly one change), password change, and email verification (also required at
//! login when configured).

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use auth_axum::core::clock::ManualClock;
use auth_axum::core::mail::Outbox;
use auth_axum::core::service::{LoginRequest, RegisterRequest};
use auth_axum::core::{AuthError, AuthService};
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};
use tests::app::AuthApp;
use tests::outbox::{messages, token_of, wait_for};
use tests::{eventually, sqlite_url, test_config, PgDatabase};

const PASSWORD: &str = "correct horse battery";
const NEW_PASSWORD: &str = "another staple entirely";

struct Harness(AuthApp);

impl std::ops::Deref for Harness {
    type Target = AuthApp;

    fn deref(&self) -> &AuthApp {
        &self.0
    }
}

impl Harness {
    async fn start(database_url: Option<String>) -> Self {
        Self::start_with(database_url, false).await
    }

    async fn start_with(database_url: Option<String>, require_verified_email: bool) -> Self {
        Self(
            AuthApp::start(database_url, |c| {
                c.users.require_verified_email = require_verified_email;
            })
            .await,
        )
    }

    async fn register(&self, name: &str) -> String {
        let user = self
            .module
            .service()
            .register(RegisterRequest::new(
                name,
                format!("{name}@example.com"),
                PASSWORD,
            ))
            .await
            .unwrap();
        user.id.to_string()
    }
}

const RESET: &str = "Reset your password";
const CHANGED: &str = "Your password was changed";
const VERIFY: &str = "Confirm your email address";

/// The problem body of a 400 `invalid_or_expired_token`.
async fn refused(response: Response) -> Value {
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "invalid_or_expired_token", "{body}");
    body
}

async fn forgot_answers_alike_for_every_address(h: &Harness) {
    h.register("ada").await;
    let gone = h.register("gone").await;
    h.module
        .service()
        .deactivate_user(&gone.as_str().into())
        .await
        .unwrap();
    let vera = h.register("vera").await;
    h.module
        .service()
        .users()
        .mark_verified(&vera.as_str().into())
        .await
        .unwrap();
    let mut answers = Vec::new();
    // Unknown, deactivated, verified and unverified (ada) addresses.
    for email in [
        "nobody@example.com",
        "gone@example.com",
        "vera@example.com",
        "ada@example.com",
    ] {
        let response = h
            .post("/auth/password/forgot", &json!({ "email": email }), None)
            .await;
        let status = response.status();
        let mut headers: Vec<(String, String)> = response
            .headers()
            .iter()
            .filter(|(name, _)| *name != "date")
            .map(|(n, v)| (n.to_string(), v.to_str().unwrap().to_owned()))
            .collect();
        headers.sort();
        answers.push((status, headers, response.text().await.unwrap()));
    }
    assert_eq!(answers[0].0, StatusCode::ACCEPTED);
    assert!(
        answers.iter().all(|a| *a == answers[0]),
        "the answers differ: {answers:#?}"
    );
    wait_for(&h.outbox, RESET, 2).await;
    // Give the other requests' background work time to have mailed, if it wrongly would.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mail = messages(&h.outbox, RESET);
    assert_eq!(mail.len(), 2, "only the active accounts are mailed");
    assert!(mail.iter().any(|m| m.contains("To: vera@example.com")));
    // Ada's link is the newest: the tests below use it.
    let mail: Vec<String> = mail
        .into_iter()
        .filter(|m| m.contains("To: ada@example.com"))
        .collect();
    assert_eq!(mail.len(), 1);
    assert!(mail[0].contains("Subject: Reset your password"));
    assert!(
        mail[0].contains("https://app.example.com/reset-password?token=")
            || mail[0].contains("https://app.example.com/reset-password?token=3D"),
        "the link, from AUTH__MAIL__LINK_BASE_URL: {}",
        mail[0]
    );

    let malformed = h
        .post(
            "/auth/password/forgot",
            &json!({"email": "not-an-address"}),
            None,
        )
        .await;
    assert_eq!(malformed.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

async fn a_reset_link_works_once_and_ends_every_session(h: &Harness) {
    // Signed in on a device before the reset.
    let before: Value = h.login("ada", PASSWORD).await.json().await.unwrap();
    let access = before["access_token"].as_str().unwrap().to_owned();
    let refresh = before["refresh_token"].as_str().unwrap().to_owned();

    // The first link (from the test above) is superseded by a newer one.
    let to_ada = || -> Vec<String> {
        messages(&h.outbox, RESET)
            .into_iter()
            .filter(|m| m.contains("To: ada@example.com"))
            .collect()
    };
    let first = token_of(&to_ada()[0]);
    h.post(
        "/auth/password/forgot",
        &json!({"email": "ADA@example.com"}),
        None,
    )
    .await;
    assert!(eventually(Duration::from_secs(10), || async { to_ada().len() == 2 }).await);
    let second = token_of(&to_ada()[1]);
    assert_ne!(first, second);
    let superseded = refused(h.reset_password(&first, NEW_PASSWORD).await).await;
    let wrong = refused(h.reset_password("not-a-token", NEW_PASSWORD).await).await;
    assert_eq!(
        superseded, wrong,
        "a superseded token answers as a wrong one"
    );

    // A password the policy refuses leaves the link usable.
    let weak = h.reset_password(&second, "short").await;
    assert_eq!(weak.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = weak.json().await.unwrap();
    assert_eq!(body["errors"][0]["field"], "new_password", "{body}");

    // Two concurrent resets with the one link: exactly one changes the password.
    let (one, two) = tokio::join!(
        h.reset_password(&second, NEW_PASSWORD),
        h.reset_password(&second, "a third password entirely")
    );
    let mut statuses = [one.status(), two.status()];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::NO_CONTENT, StatusCode::BAD_REQUEST]);
    let winner = if one.status() == StatusCode::NO_CONTENT {
        NEW_PASSWORD
    } else {
        "a third password entirely"
    };
    let used = refused(h.reset_password(&second, NEW_PASSWORD).await).await;
    assert_eq!(used, wrong, "a used token answers as a wrong one");

    // Every session of the account ended; only the new password logs in.
    let me = h
        .http
        .get(h.server.url("/auth/me"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
    let rotated = h
        .post("/auth/refresh", &json!({ "refresh_token": refresh }), None)
        .await;
    assert_eq!(rotated.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        h.login("ada", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let after: Value = h.login("ada", winner).await.json().await.unwrap();
    assert_eq!(
        after["user"]["is_verified"], true,
        "a used reset link proves the address"
    );

    // The owner is told.
    let mail = wait_for(&h.outbox, CHANGED, 1).await;
    assert!(mail[0].contains("To: ada@example.com"), "{}", mail[0]);
}

async fn change_keeps_this_session_and_ends_the_others(h: &Harness) {
    h.register("bob").await;
    let this: Value = h.login("bob", PASSWORD).await.json().await.unwrap();
    let other: Value = h.login("bob", PASSWORD).await.json().await.unwrap();
    let access = this["access_token"].as_str().unwrap();
    let change = |current: &'static str, new: &'static str| async move {
        let body = json!({"current_password": current, "new_password": new});
        h.post("/auth/password/change", &body, Some(access)).await
    };
    let sent_before = messages(&h.outbox, CHANGED).len();

    let wrong = change("not my password", "short").await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = wrong.json().await.unwrap();
    assert_eq!(
        body["errors"],
        json!([
            {"field": "current_password", "message": "is not the account's password"},
            {"field": "new_password", "code": "password_too_short",
             "message": "password must be at least 8 characters"},
            {"field": "new_password", "code": "password_too_weak",
             "message": "is too easy to guess (strength 0 of 4, at least 3 needed): use a \
                         longer phrase of unrelated words"},
            {"field": "new_password", "code": "password_breached",
             "message": "is one of the most common passwords"},
        ]),
        "{body}"
    );
    let same = change(PASSWORD, PASSWORD).await;
    assert_eq!(same.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let anonymous = h
        .post(
            "/auth/password/change",
            &json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD}),
            None,
        )
        .await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);

    assert_eq!(
        change(PASSWORD, NEW_PASSWORD).await.status(),
        StatusCode::NO_CONTENT
    );
    let me = |token: String| async move {
        h.http
            .get(h.server.url("/auth/me"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .status()
    };
    assert_eq!(
        me(access.to_owned()).await,
        StatusCode::OK,
        "this session stays"
    );
    assert_eq!(
        me(other["access_token"].as_str().unwrap().to_owned()).await,
        StatusCode::UNAUTHORIZED,
        "the other session ended"
    );
    let rotated = h
        .post(
            "/auth/refresh",
            &json!({ "refresh_token": other["refresh_token"] }),
            None,
        )
        .await;
    assert_eq!(rotated.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        h.login("bob", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(h.login("bob", NEW_PASSWORD).await.status(), StatusCode::OK);
    let mail = wait_for(&h.outbox, CHANGED, sent_before + 1).await;
    assert!(mail[sent_before].contains("To: bob@example.com"));
}

/// The verification mail sent to `email`, newest first.
fn verification_for(outbox: &Path, email: &str) -> Vec<String> {
    let mut mail: Vec<String> = messages(outbox, VERIFY)
        .into_iter()
        .filter(|m| m.contains(&format!("To: {email}")))
        .collect();
    mail.reverse();
    mail
}

async fn me(h: &Harness, token: &str) -> Value {
    h.http
        .get(h.server.url("/auth/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn registration_mails_a_verification_link(h: &Harness) {
    let response = h
        .post(
            "/auth/register",
            &json!({"username": "cleo", "email": "cleo@example.com", "password": PASSWORD}),
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert!(
        eventually(Duration::from_secs(10), || async {
            !verification_for(&h.outbox, "cleo@example.com").is_empty()
        })
        .await
    );
    let first = verification_for(&h.outbox, "cleo@example.com")[0].clone();
    assert!(
        first.contains("https://app.example.com/verify-email?token="),
        "{first}"
    );
    let tokens: Value = h.login("cleo", PASSWORD).await.json().await.unwrap();
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(me(h, access).await["is_verified"], false);

    // A new link on request supersedes the first.
    let resent = h
        .post("/auth/verify-email/resend", &json!({}), Some(access))
        .await;
    assert_eq!(resent.status(), StatusCode::ACCEPTED);
    assert_eq!(resent.json::<Value>().await.unwrap()["status"], "sent");
    assert!(
        eventually(Duration::from_secs(10), || async {
            verification_for(&h.outbox, "cleo@example.com").len() == 2
        })
        .await
    );
    let second = verification_for(&h.outbox, "cleo@example.com")[0].clone();
    let verify = |token: String| async move {
        h.post("/auth/verify-email", &json!({ "token": token }), None)
            .await
    };
    let superseded = refused(verify(token_of(&first)).await).await;
    let wrong = refused(verify("nope".to_owned()).await).await;
    assert_eq!(superseded, wrong);
    assert_eq!(
        verify(token_of(&second)).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(me(h, access).await["is_verified"], true);
    refused(verify(token_of(&second)).await).await;

    // Nothing left to verify.
    let again = h
        .post("/auth/verify-email/resend", &json!({}), Some(access))
        .await;
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(
        again.json::<Value>().await.unwrap()["status"],
        "already_verified"
    );
    let anonymous = h.post("/auth/verify-email/resend", &json!({}), None).await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

async fn an_email_change_is_confirmed_from_the_new_address(h: &Harness) {
    h.register("erin").await;
    let tokens: Value = h.login("erin", PASSWORD).await.json().await.unwrap();
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let change = |body: Value| {
        let access = access.clone();
        async move { h.post("/auth/email/change", &body, Some(&access)).await }
    };

    let wrong = change(json!({"new_email": "not-an-address", "password": "wrong"})).await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = wrong.json().await.unwrap();
    assert_eq!(
        body["errors"],
        json!([
            {"field": "password", "message": "is not the account's password"},
            {"field": "new_email", "message": "must be a valid email address"},
        ])
    );
    let taken = change(json!({"new_email": "ADA@example.com", "password": PASSWORD})).await;
    assert_eq!(taken.status(), StatusCode::CONFLICT);
    let accepted = change(json!({"new_email": "erin@new.example", "password": PASSWORD})).await;
    assert_eq!(accepted.status(), StatusCode::ACCEPTED);

    let link = wait_for(&h.outbox, "Confirm your new email address", 1).await;
    assert!(link[0].contains("To: erin@new.example"), "{}", link[0]);
    assert!(link[0].contains("https://app.example.com/confirm-email?token="));
    let told = wait_for(&h.outbox, "Your email address is about to change", 1).await;
    assert!(told[0].contains("To: erin@example.com"), "{}", told[0]);
    // Nothing changed yet.
    assert_eq!(me(h, &access).await["email"], "erin@example.com");

    let confirm = |token: String| async move {
        h.post("/auth/email/confirm", &json!({ "token": token }), None)
            .await
    };
    assert_eq!(
        confirm(token_of(&link[0])).await.status(),
        StatusCode::NO_CONTENT
    );
    refused(confirm(token_of(&link[0])).await).await;
    let now = me(h, &access).await;
    assert_eq!(
        (&now["email"], &now["is_verified"]),
        (&json!("erin@new.example"), &json!(true))
    );
    let by_new = h
        .post(
            "/auth/login",
            &json!({"email": "erin@new.example", "password": PASSWORD}),
            None,
        )
        .await;
    assert_eq!(by_new.status(), StatusCode::OK);
    let by_old = h
        .post(
            "/auth/login",
            &json!({"email": "erin@example.com", "password": PASSWORD}),
            None,
        )
        .await;
    assert_eq!(by_old.status(), StatusCode::UNAUTHORIZED);
    let changed = wait_for(&h.outbox, "Your email address was changed", 1).await;
    assert!(
        changed[0].contains("To: erin@example.com"),
        "{}",
        changed[0]
    );
    let anonymous = h
        .post(
            "/auth/email/change",
            &json!({"new_email": "x@example.com", "password": PASSWORD}),
            None,
        )
        .await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

async fn suite(h: Harness) {
    forgot_answers_alike_for_every_address(&h).await;
    a_reset_link_works_once_and_ends_every_session(&h).await;
    change_keeps_this_session_and_ends_the_others(&h).await;
    registration_mails_a_verification_link(&h).await;
    an_email_change_is_confirmed_from_the_new_address(&h).await;
}

/// With `AUTH__USERS__REQUIRE_VERIFIED_EMAIL`, an unverified account cannot log in, and only
/// its owner (who has the password) learns why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logins_wait_for_a_verified_address_when_required() {
    let h = Harness::start_with(None, true).await;
    h.register("dora").await;
    let wrong = h.login("dora", "not the password").await;
    assert_eq!(
        wrong.status(),
        StatusCode::UNAUTHORIZED,
        "the password first"
    );
    let unverified = h.login("dora", PASSWORD).await;
    assert_eq!(unverified.status(), StatusCode::FORBIDDEN);
    let body: Value = unverified.json().await.unwrap();
    assert_eq!(body["code"], "email_not_verified", "{body}");
    let cookie = h
        .post(
            "/auth/login",
            &json!({"username": "dora", "password": PASSWORD, "cookie": true}),
            None,
        )
        .await;
    assert_eq!(cookie.status(), StatusCode::FORBIDDEN, "cookie logins too");

    assert!(
        eventually(Duration::from_secs(10), || async {
            !verification_for(&h.outbox, "dora@example.com").is_empty()
        })
        .await
    );
    let link = verification_for(&h.outbox, "dora@example.com")[0].clone();
    let verified = h
        .post(
            "/auth/verify-email",
            &json!({ "token": token_of(&link) }),
            None,
        )
        .await;
    assert_eq!(verified.status(), StatusCode::NO_CONTENT);
    assert_eq!(h.login("dora", PASSWORD).await.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_reset_on_sqlite() {
    suite(Harness::start(None).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_reset_on_postgres() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    suite(Harness::start(Some(db.url.clone())).await).await;
    db.drop_database().await;
}

/// Two instances on one PostgreSQL: a reset link used on both at once changes the password
/// once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_consume_one_reset_link_once() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    let a = Harness::start(Some(db.url.clone())).await;
    let b = Harness::start(Some(db.url.clone())).await;
    a.register("gail").await;
    let forgot = a
        .post(
            "/auth/password/forgot",
            &json!({"email": "gail@example.com"}),
            None,
        )
        .await;
    assert_eq!(forgot.status(), StatusCode::ACCEPTED);
    let token = token_of(&wait_for(&a.outbox, RESET, 1).await[0]);
    let (one, two) = tokio::join!(
        a.reset_password(&token, NEW_PASSWORD),
        b.reset_password(&token, "a third password entirely")
    );
    let mut statuses = [one.status(), two.status()];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::NO_CONTENT, StatusCode::BAD_REQUEST]);
    drop((a, b));
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_link_expires() {
    let dir = tempfile::tempdir().unwrap();
    let config = test_config("sqlite::memory:", dir.path());
    let clock = Arc::new(ManualClock::new(1_800_000_000));
    let outbox = dir.path().join("outbox");
    let service = AuthService::builder(config)
        .with_clock(clock.clone())
        .with_mailer(Arc::new(Outbox::new(&outbox, "auth@example.com")))
        .build()
        .unwrap();
    service
        .register(RegisterRequest::new("ada", "ada@example.com", PASSWORD))
        .await
        .unwrap();
    service.forgot_password("ada@example.com").await.unwrap();
    let token = token_of(&wait_for(&outbox, RESET, 1).await[0]);
    clock.advance(30 * 60);
    assert!(matches!(
        service.reset_password(&token, NEW_PASSWORD).await,
        Err(AuthError::InvalidOneTimeToken)
    ));
    assert!(service
        .login(LoginRequest::new("ada", PASSWORD))
        .await
        .is_ok());
}

/// A service's own templates (`AUTH__MAIL__TEMPLATES`) replace the built-in ones by name; one
/// that names a variable the message does not have stops the start-up, naming the file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_templates_of_the_service_replace_the_built_in_ones() {
    let dir = tempfile::tempdir().unwrap();
    let templates = dir.path().join("templates");
    std::fs::create_dir_all(&templates).unwrap();
    std::fs::write(
        templates.join("reset_password.subject"),
        "Nouveau mot de passe",
    )
    .unwrap();
    std::fs::write(
        templates.join("reset_password.txt"),
        "Bonjour {{ username }}, voici le lien : {{ link }}\nToken: {{ token }}\n",
    )
    .unwrap();
    let mut config = test_config(&sqlite_url(dir.path()), dir.path());
    config.mail.templates = Some(templates.clone());
    let service = AuthService::from_config(&config).await.unwrap();
    service
        .register(RegisterRequest::new("ada", "ada@example.com", PASSWORD))
        .await
        .unwrap();
    service.forgot_password("ada@example.com").await.unwrap();
    let mail = wait_for(&config.mail.outbox, "Nouveau mot de passe", 1).await;
    assert!(mail[0].contains("Bonjour ada"), "{}", mail[0]);
    assert!(!token_of(&mail[0]).is_empty());

    std::fs::write(templates.join("verify_email.txt"), "Hi {{ usrname }}").unwrap();
    let err = AuthService::from_config(&config).await.unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("AUTH__MAIL__TEMPLATES") && message.contains("verify_email.txt"),
        "{message}"
    );
}
