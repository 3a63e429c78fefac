//! Authenticator apps and backup codes over HTTP, on a manual clock so each code has a step of
//! its own: enrolment (secret, URI, QR codes), confirmation with a first code, the login
//! challenge (`mfa_required`, `mfa_token`) completed with a code or a backup code, wrong,
//! malformed, expired and replayed codes (also across two instances on PostgreSQL), wrong
//! codes throttled like wrong passwords, new backup codes, MFA turned off, and the events of
//! each in the audit log.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use std::sync::Arc;

use auth_axum::core::{Clock as _, ManualClock};
use auth_axum::AuthRouter;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use reqwest::StatusCode;
use serde_json::{json, Value};
use tests::mfa::{claims, problem, Authenticator, MfaApp, PASSWORD};
use tests::{random_secret, test_config, PgDatabase};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enrolment_shows_the_secret_once_and_a_first_code_turns_it_on() {
    let dir = tempfile::tempdir().unwrap();
    let h = MfaApp::on_sqlite(dir.path(), |_| {}, AuthRouter::new()).await;
    let token = h.user("ada").await;
    let status = h.get("/auth/mfa", &token).await;
    assert_eq!(
        status,
        json!({"totp_enabled": false, "totp_pending": false, "backup_codes_left": 0, "passkeys": 0, "methods": []})
    );
    let anonymous = h.post("/auth/mfa/totp/enroll", json!({}), None).await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    // A session older than AUTH__MFA__REAUTH_MINUTES (15) must prove the password again.
    h.clock.advance(901);
    let stale = h
        .post("/auth/mfa/totp/enroll", json!({}), Some(&token))
        .await;
    let body = problem(
        stale,
        StatusCode::UNAUTHORIZED,
        "insufficient_user_authentication",
    )
    .await;
    assert_eq!(body["max_age"], 900);
    let token = h.stepped_up(&token, json!({"password": PASSWORD})).await;

    let response = h
        .post("/auth/mfa/totp/enroll", json!({}), Some(&token))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let enrollment: Value = response.json().await.unwrap();
    let secret = enrollment["secret"].as_str().unwrap();
    assert_eq!(secret.len(), 32, "160 bits in base32");
    let uri = enrollment["otpauth_uri"].as_str().unwrap();
    assert!(
        uri.starts_with("otpauth://totp/auth-service:ada%40example.com?secret="),
        "{uri}"
    );
    assert!(
        uri.contains(secret) && uri.contains("issuer=auth-service"),
        "{uri}"
    );
    assert!(enrollment["qr_svg"].as_str().unwrap().contains("<svg"));
    let png = STANDARD
        .decode(enrollment["qr_png"].as_str().unwrap())
        .unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(
        (&enrollment["digits"], &enrollment["period"]),
        (&json!(6), &json!(30))
    );

    // Pending: logins are not challenged yet, and the status says so.
    assert!(h.login("ada").await["access_token"].is_string());
    assert_eq!(h.get("/auth/mfa", &token).await["totp_pending"], true);

    // Wrong and malformed first codes.
    let mut app = Authenticator::new(&enrollment, "ada@example.com", h.clock.clone());
    let wrong = h
        .post(
            "/auth/mfa/totp/confirm",
            json!({"code": "000000"}),
            Some(&token),
        )
        .await;
    problem(wrong, StatusCode::UNAUTHORIZED, "invalid_mfa_code").await;
    let malformed = h
        .post(
            "/auth/mfa/totp/confirm",
            json!({"code": "12ab56"}),
            Some(&token),
        )
        .await;
    let body = problem(
        malformed,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "code");

    let code = app.next_code();
    let confirmed = h
        .post(
            "/auth/mfa/totp/confirm",
            json!({"code": code}),
            Some(&token),
        )
        .await;
    assert_eq!(confirmed.status(), StatusCode::OK);
    assert_eq!(confirmed.headers()["cache-control"], "no-store");
    let body: Value = confirmed.json().await.unwrap();
    let codes = body["backup_codes"].as_array().unwrap();
    assert_eq!(codes.len(), 10);
    for code in codes {
        let code = code.as_str().unwrap();
        assert!(code.len() == 11 && code.as_bytes()[5] == b'-', "{code}");
    }
    assert_eq!(
        h.get("/auth/mfa", &token).await,
        json!({"totp_enabled": true, "totp_pending": false, "backup_codes_left": 10, "passkeys": 0, "methods": ["totp", "backup_code"]})
    );
    // Once on, neither enrolment nor confirmation starts over.
    let again = h
        .post("/auth/mfa/totp/enroll", json!({}), Some(&token))
        .await;
    problem(again, StatusCode::CONFLICT, "mfa_already_enabled").await;
    let again = h
        .post(
            "/auth/mfa/totp/confirm",
            json!({"code": app.next_code()}),
            Some(&token),
        )
        .await;
    problem(again, StatusCode::CONFLICT, "mfa_already_enabled").await;
    let ada = claims(&token)["sub"].as_str().unwrap().to_owned();
    assert!(h.logged(&ada, "mfa_enrolled").await);
    assert!(h.logged(&ada, "mfa_failed").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_with_mfa_needs_its_code_once() {
    let dir = tempfile::tempdir().unwrap();
    let h = MfaApp::on_sqlite(dir.path(), |_| {}, AuthRouter::new()).await;
    let token = h.user("ada").await;
    let ada = claims(&token)["sub"].as_str().unwrap().to_owned();
    let (mut app, _) = h.enable(&token, "ada@example.com").await;

    // The password alone gives a challenge, never tokens.
    let response = h
        .post(
            "/auth/login",
            json!({"username": "ada", "password": PASSWORD}),
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let challenge: Value = response.json().await.unwrap();
    assert_eq!(challenge["mfa_required"], true);
    assert_eq!(challenge["methods"], json!(["totp", "backup_code"]));
    assert_eq!(challenge["expires_in"], 300);
    assert!(challenge.get("access_token").is_none() && challenge.get("refresh_token").is_none());
    let mfa_token = challenge["mfa_token"].as_str().unwrap();
    // A wrong password is still a wrong password.
    let wrong = h
        .post(
            "/auth/login",
            json!({"username": "ada", "password": "not it at all"}),
            None,
        )
        .await;
    problem(wrong, StatusCode::UNAUTHORIZED, "invalid_credentials").await;

    // Wrong code, the code of the confirmation (replayed), no code, two proofs, a password:
    // refused, and the challenge still stands.
    let wrong = h.verify(mfa_token, json!({"code": "000000"})).await;
    problem(wrong, StatusCode::UNAUTHORIZED, "invalid_mfa_code").await;
    let replayed = h.verify(mfa_token, json!({"code": app.last_code()})).await;
    problem(replayed, StatusCode::UNAUTHORIZED, "invalid_mfa_code").await;
    for bad in [
        json!({}),
        json!({"code": "123456", "backup_code": "abcde-abcde"}),
    ] {
        let response = h.verify(mfa_token, bad).await;
        problem(
            response,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
    }
    let password = h.verify(mfa_token, json!({"password": PASSWORD})).await;
    problem(password, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body").await;
    let unknown = h.verify("not-a-token", json!({"code": "123456"})).await;
    problem(unknown, StatusCode::BAD_REQUEST, "invalid_or_expired_token").await;

    // The right code: tokens that say both factors, once.
    let code = app.next_code();
    let response = h.verify(mfa_token, json!({"code": code})).await;
    assert_eq!(response.status(), StatusCode::OK);
    let tokens: Value = response.json().await.unwrap();
    let access = claims(tokens["access_token"].as_str().unwrap());
    assert_eq!(access["amr"], json!(["pwd", "otp"]));
    assert_eq!(access["auth_time"], json!(h.clock.now()));
    let again = h.verify(mfa_token, json!({"code": app.next_code()})).await;
    problem(again, StatusCode::BAD_REQUEST, "invalid_or_expired_token").await;
    // The same code on a new challenge: a replay.
    let next = h.challenge("ada").await;
    let replayed = h.verify(&next, json!({"code": code})).await;
    problem(replayed, StatusCode::UNAUTHORIZED, "invalid_mfa_code").await;

    // A refreshed session keeps its factors.
    let refresh = json!({"refresh_token": tokens["refresh_token"]});
    let refreshed: Value = h
        .post("/auth/refresh", refresh, None)
        .await
        .json()
        .await
        .unwrap();
    let access = claims(refreshed["access_token"].as_str().unwrap());
    assert_eq!(access["amr"], json!(["pwd", "otp"]));

    // A challenge expires (5 minutes).
    let late = h.challenge("ada").await;
    h.clock.advance(301);
    let expired = h.verify(&late, json!({"code": app.next_code()})).await;
    problem(expired, StatusCode::BAD_REQUEST, "invalid_or_expired_token").await;

    // Cookie logins are challenged too, and completed with a cookie session.
    let body = json!({"username": "ada", "password": PASSWORD, "cookie": true});
    let challenge: Value = h
        .post("/auth/login", body, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(challenge["mfa_required"], true);
    let response = h
        .verify(
            challenge["mfa_token"].as_str().unwrap(),
            json!({"code": app.next_code()}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let cookies: Vec<_> = response.headers().get_all("set-cookie").iter().collect();
    assert_eq!(cookies.len(), 2, "session and CSRF cookies");
    let body: Value = response.json().await.unwrap();
    assert!(body["csrf_token"].is_string() && body.get("access_token").is_none());
    for kind in ["mfa_verified", "mfa_failed"] {
        assert!(h.logged(&ada, kind).await, "{kind}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_codes_work_once_and_are_replaced_as_a_set() {
    let dir = tempfile::tempdir().unwrap();
    let h = MfaApp::on_sqlite(dir.path(), |_| {}, AuthRouter::new()).await;
    let token = h.user("ada").await;
    let ada = claims(&token)["sub"].as_str().unwrap().to_owned();
    let (mut app, codes) = h.enable(&token, "ada@example.com").await;

    // Typed in capitals with spaces, a backup code completes a login once.
    let typed = codes[0].to_uppercase().replace('-', " ");
    let response = h
        .verify(&h.challenge("ada").await, json!({"backup_code": typed}))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let tokens: Value = response.json().await.unwrap();
    let access = claims(tokens["access_token"].as_str().unwrap());
    assert_eq!(access["amr"], json!(["pwd", "backup_code"]));
    let again = h
        .verify(&h.challenge("ada").await, json!({"backup_code": codes[0]}))
        .await;
    problem(again, StatusCode::UNAUTHORIZED, "invalid_mfa_code").await;
    let malformed = h
        .verify(&h.challenge("ada").await, json!({"backup_code": "12345"}))
        .await;
    let body = problem(
        malformed,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "backup_code");
    assert_eq!(h.get("/auth/mfa", &token).await["backup_codes_left"], 9);

    // New codes need the password or a code; the old ones stop working.
    let wrong = h
        .post(
            "/auth/mfa/backup-codes",
            json!({"password": "not it at all"}),
            Some(&token),
        )
        .await;
    problem(wrong, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    let none = h
        .post("/auth/mfa/backup-codes", json!({}), Some(&token))
        .await;
    problem(none, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let renewed = h
        .post(
            "/auth/mfa/backup-codes",
            json!({"password": PASSWORD}),
            Some(&token),
        )
        .await;
    assert_eq!(renewed.status(), StatusCode::OK);
    let renewed: Value = renewed.json().await.unwrap();
    assert_eq!(renewed["backup_codes"].as_array().unwrap().len(), 10);
    let old = h
        .verify(&h.challenge("ada").await, json!({"backup_code": codes[1]}))
        .await;
    problem(old, StatusCode::UNAUTHORIZED, "invalid_mfa_code").await;
    let new_code = renewed["backup_codes"][0].as_str().unwrap();
    let fresh = h
        .verify(&h.challenge("ada").await, json!({"backup_code": new_code}))
        .await;
    assert_eq!(fresh.status(), StatusCode::OK);

    // Off with a current code: logins give tokens at once again.
    let wrong = h
        .delete("/auth/mfa/totp", json!({"code": "000000"}), &token)
        .await;
    problem(wrong, StatusCode::UNAUTHORIZED, "invalid_mfa_code").await;
    let off = h
        .delete("/auth/mfa/totp", json!({"code": app.next_code()}), &token)
        .await;
    assert_eq!(off.status(), StatusCode::NO_CONTENT);
    assert!(h.login("ada").await["access_token"].is_string());
    let off = h
        .delete("/auth/mfa/totp", json!({"password": PASSWORD}), &token)
        .await;
    problem(off, StatusCode::CONFLICT, "mfa_not_enabled").await;
    for kind in [
        "backup_code_used",
        "backup_codes_regenerated",
        "mfa_disabled",
    ] {
        assert!(h.logged(&ada, kind).await, "{kind}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_codes_are_throttled_like_wrong_passwords() {
    let dir = tempfile::tempdir().unwrap();
    let h = MfaApp::on_sqlite(dir.path(), |_| {}, AuthRouter::new()).await;
    let token = h.user("ada").await;
    let (mut app, _) = h.enable(&token, "ada@example.com").await;
    let mfa_token = h.challenge("ada").await;
    let code = app.next_code();
    for _ in 0..5 {
        let wrong = h.verify(&mfa_token, json!({"code": "000000"})).await;
        problem(wrong, StatusCode::UNAUTHORIZED, "invalid_mfa_code").await;
    }
    // The right code waits too (2 s, then doubling), and is not spent: it works after the wait.
    let waiting = h.verify(&mfa_token, json!({"code": code})).await;
    assert_eq!(waiting.headers()["retry-after"], "2");
    problem(waiting, StatusCode::TOO_MANY_REQUESTS, "too_many_attempts").await;
    h.clock.advance(2);
    let response = h.verify(&mfa_token, json!({"code": code})).await;
    assert_eq!(response.status(), StatusCode::OK);
}

/// Two instances on one PostgreSQL database: a code accepted by one is a replay on the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_is_accepted_once_across_instances() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let key = random_secret();
    let config = |dir: &std::path::Path| {
        let mut config = test_config(&db.url, dir);
        config.mfa.encryption_key = Some(key.clone().into());
        config
    };
    let clock = Arc::new(ManualClock::starting_now());
    let a = MfaApp::start(
        &db.url,
        config(dir_a.path()),
        clock.clone(),
        AuthRouter::new(),
    )
    .await;
    let b = MfaApp::start(&db.url, config(dir_b.path()), clock, AuthRouter::new()).await;
    let token = a.user("ada").await;
    let (mut app, _) = a.enable(&token, "ada@example.com").await;
    let code = app.next_code();
    let on_b = b
        .verify(&b.challenge("ada").await, json!({"code": code}))
        .await;
    assert_eq!(on_b.status(), StatusCode::OK);
    let on_a = a
        .verify(&a.challenge("ada").await, json!({"code": code}))
        .await;
    problem(on_a, StatusCode::UNAUTHORIZED, "invalid_mfa_code").await;
    let next = a
        .verify(&a.challenge("ada").await, json!({"code": app.next_code()}))
        .await;
    assert_eq!(next.status(), StatusCode::OK);
    db.drop_database().await;
}
