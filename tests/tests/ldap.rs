//! Signing in with a directory account (issue 20) against a real OpenLDAP server started by
//! the test: the bind, groups mapped to roles, linking, and every refusal (a wrong or empty
//! password, filter injection, a directory down, silent, or refusing the service account).

#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

use std::time::{Duration, Instant};

use auth_axum::core::config::AuthConfig;
use auth_axum::AuthRouter;
use reqwest::StatusCode;
use serde_json::{json, Value};
use tests::ldap::{silent_server, Slapd, BASE, SERVICE_DN, SERVICE_PASSWORD};
use tests::mfa::{claims, problem, MfaApp};

/// `[ldap]` for the directory at `url`, groups `admins` and `staff` as roles `admin` and
/// `editor`.
fn directory(config: &mut AuthConfig, url: &str) {
    let ldap = &mut config.ldap;
    ldap.url = Some(url.to_owned());
    ldap.bind_dn = SERVICE_DN.to_owned();
    ldap.bind_password = Some(SERVICE_PASSWORD.to_owned().into());
    ldap.user_base = format!("ou=people,{BASE}");
    ldap.group_base = Some(format!("ou=groups,{BASE}"));
    ldap.roles.insert("admins".to_owned(), "admin".to_owned());
    ldap.roles.insert("staff".to_owned(), "editor".to_owned());
}

/// The service with the directory at `url`, `[ldap]` as `change` leaves it.
async fn service(dir: &std::path::Path, url: &str, change: impl FnOnce(&mut AuthConfig)) -> MfaApp {
    MfaApp::on_sqlite(
        dir,
        |config| {
            directory(config, url);
            change(config);
        },
        AuthRouter::new(),
    )
    .await
}

async fn login(app: &MfaApp, username: &str, password: &str) -> reqwest::Response {
    let body = json!({"username": username, "password": password});
    app.post("/auth/ldap/login", body, None).await
}

async fn tokens(app: &MfaApp, username: &str, password: &str) -> Value {
    let response = login(app, username, password).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

#[tokio::test]
async fn directory_users_sign_in_with_their_groups_roles() {
    let Some(slapd) = Slapd::start().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let app = service(dir.path(), &slapd.url, |_| {}).await;

    // Ada: a user made at her first sign-in, her groups' roles, the password the factor.
    let ada = tokens(&app, "ada", "ada-password").await;
    let token = ada["access_token"].as_str().unwrap();
    let claims = claims(token);
    assert_eq!(claims["amr"], json!(["pwd"]));
    let roles = claims["roles"].as_array().unwrap();
    assert!(
        roles.contains(&json!("admin")) && roles.contains(&json!("editor")),
        "{claims}"
    );
    let me = app.get("/auth/me", token).await;
    assert_eq!(me["username"], "ada");
    assert_eq!(me["email"], "ada@example.org");
    // Linked by the entry's entryUUID, under the directory's URL.
    let identities = app.get("/auth/identities", token).await;
    assert_eq!(identities[0]["provider"], "ldap");
    assert_eq!(identities[0]["issuer"], slapd.url.as_str());
    assert_eq!(
        identities[0]["subject"].as_str().unwrap().len(),
        36,
        "{identities}"
    );
    let users = app.service.users().count().await.unwrap();
    tokens(&app, "ada", "ada-password").await;
    assert_eq!(app.service.users().count().await.unwrap(), users);

    // Bob is staff only. A managed role he was given here goes at his next sign-in; a role
    // the mapping does not name stays.
    let bob = tokens(&app, "bob", "bob-password").await;
    let roles = tests::mfa::claims(bob["access_token"].as_str().unwrap())["roles"].clone();
    assert!(
        !roles.as_array().unwrap().contains(&json!("admin")),
        "{roles}"
    );
    let bob_id = app
        .service
        .users()
        .get_by_username("bob")
        .await
        .unwrap()
        .unwrap()
        .id;
    app.service.assign_role(&bob_id, "admin").await.unwrap();
    app.service.assign_role(&bob_id, "auditor").await.unwrap();
    let bob = tokens(&app, "bob", "bob-password").await;
    let roles = tests::mfa::claims(bob["access_token"].as_str().unwrap())["roles"].clone();
    let roles = roles.as_array().unwrap();
    assert!(!roles.contains(&json!("admin")), "{roles:?}");
    assert!(
        roles.contains(&json!("editor")) && roles.contains(&json!("auditor")),
        "{roles:?}"
    );

    // A cookie session for a browser.
    let response = app
        .post(
            "/auth/ldap/login",
            json!({"username": "eve", "password": "eve-password", "cookie": true}),
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers().get("set-cookie").is_some());
}

#[tokio::test]
async fn wrong_empty_and_injected_credentials_are_refused() {
    let Some(slapd) = Slapd::start().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let app = service(dir.path(), &slapd.url, |_| {}).await;

    // The directory itself takes a DN with an empty password as an anonymous bind...
    let (conn, mut ldap) = ldap3::LdapConnAsync::new(&slapd.url).await.unwrap();
    ldap3::drive!(conn);
    let anonymous = ldap
        .simple_bind(&format!("uid=ada,ou=people,{BASE}"), "")
        .await
        .unwrap();
    assert_eq!(
        anonymous.rc, 0,
        "the test directory must allow unauthenticated binds"
    );
    // ... which the service never sends.
    let response = login(&app, "ada", "").await;
    problem(response, StatusCode::UNAUTHORIZED, "invalid_credentials").await;

    for (username, password) in [
        ("ada", "wrong"),
        ("nobody", "ada-password"),
        ("*", "ada-password"),
        ("ada)(uid=*", "ada-password"),
        ("ada*", "ada-password"),
    ] {
        let response = login(&app, username, password).await;
        problem(response, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    }
    let response = app
        .post(
            "/auth/ldap/login",
            json!({"username": " ", "password": "x"}),
            None,
        )
        .await;
    problem(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(app.service.users().count().await.unwrap(), 0);
}

#[tokio::test]
async fn a_directory_down_slow_or_refusing_the_service_account_is_503() {
    let Some(slapd) = Slapd::start().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // Nothing listens.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_url = format!("ldap://{}", closed.local_addr().unwrap());
    drop(closed);
    let app = service(dir.path(), &closed_url, |_| {}).await;
    let response = login(&app, "ada", "ada-password").await;
    problem(
        response,
        StatusCode::SERVICE_UNAVAILABLE,
        "auth_service_unavailable",
    )
    .await;

    // Accepts and never answers: 503 after the time limit, not a hang.
    let (silent, _task) = silent_server().await;
    let dir = tempfile::tempdir().unwrap();
    let app = service(dir.path(), &silent, |c| c.ldap.timeout_seconds = 1).await;
    let started = Instant::now();
    let response = login(&app, "ada", "ada-password").await;
    problem(
        response,
        StatusCode::SERVICE_UNAVAILABLE,
        "auth_service_unavailable",
    )
    .await;
    assert!(started.elapsed() < Duration::from_secs(10));

    // The service account's password is wrong: the directory is unusable, not the user's
    // password wrong.
    let dir = tempfile::tempdir().unwrap();
    let app = service(dir.path(), &slapd.url, |c| {
        c.ldap.bind_password = Some("not-it".to_owned().into());
    })
    .await;
    let response = login(&app, "ada", "ada-password").await;
    problem(
        response,
        StatusCode::SERVICE_UNAVAILABLE,
        "auth_service_unavailable",
    )
    .await;
}

#[tokio::test]
async fn a_directory_entry_links_to_an_existing_account_only_when_trusted() {
    let Some(slapd) = Slapd::start().await else {
        return;
    };
    for trust in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let app = service(dir.path(), &slapd.url, |c| c.ldap.trust_email = trust).await;
        let body = json!({"username": "lovelace", "email": "ada@example.org", "password": tests::mfa::PASSWORD});
        assert_eq!(
            app.post("/auth/register", body, None).await.status(),
            StatusCode::CREATED
        );
        let response = login(&app, "ada", "ada-password").await;
        if trust {
            assert_eq!(response.status(), StatusCode::OK);
            let body: Value = response.json().await.unwrap();
            let me = app
                .get("/auth/me", body["access_token"].as_str().unwrap())
                .await;
            assert_eq!(me["username"], "lovelace");
        } else {
            problem(response, StatusCode::CONFLICT, "account_exists").await;
        }
    }
}

#[tokio::test]
async fn a_directory_user_with_a_second_factor_is_challenged() {
    let Some(slapd) = Slapd::start().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let app = service(dir.path(), &slapd.url, |_| {}).await;
    let ada = tokens(&app, "ada", "ada-password").await;
    let (mut authenticator, _) = app
        .enable(ada["access_token"].as_str().unwrap(), "ada")
        .await;
    let challenge = tokens(&app, "ada", "ada-password").await;
    assert_eq!(challenge["mfa_required"], true, "{challenge}");
    let mfa_token = challenge["mfa_token"].as_str().unwrap();
    let response = app
        .verify(mfa_token, json!({"code": authenticator.next_code()}))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let done: Value = response.json().await.unwrap();
    assert_eq!(
        claims(done["access_token"].as_str().unwrap())["amr"],
        json!(["pwd", "otp"])
    );
}
