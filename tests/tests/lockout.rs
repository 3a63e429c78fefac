//! The login lockout: failures counted per login name and per (login name, client), an
//! exponential back-off past each threshold, a throttled attempt refused before any hashing
//! with the same answer for right and wrong passwords and for unknown names, the owner elsewhere
//! unaffected, counts shared by instances, the owner told once, and the admin's unlock.
//!
//! Over HTTP on SQLite and PostgreSQL (clients told apart by `X-Forwarded-For` from a trusted
//! 127.0.0.1), and in process with a manual clock for the back-off's exact times.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use std::sync::Arc;
use std::time::Duration;

use auth_axum::core::events::{AuthEvent, MemoryEventSink};
use auth_axum::core::mail::MemoryMailer;
use auth_axum::core::service::{LoginRequest, RegisterRequest};
use auth_axum::core::session::Device;
use auth_axum::core::{AuthError, AuthService, ManualClock};
use auth_axum::AuthModule;
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};
use tests::app::AuthApp;
use tests::outbox::{messages, wait_for};
use tests::{sqlite_url, test_config, PgDatabase, TestServer};

const PASSWORD: &str = "correct horse battery";
const WRONG: &str = "not the password at all";
const ATTACKER: &str = "203.0.113.9";
const OWNER: &str = "198.51.100.7";
const NOTICE: &str = "Failed sign-ins to your account";

/// An app that takes client addresses from `X-Forwarded-For` sent by 127.0.0.1.
async fn start(database_url: Option<String>) -> AuthApp {
    let app = AuthApp::start(database_url, |c| {
        c.server.trusted_proxies = vec!["127.0.0.1/32".to_owned()];
    })
    .await;
    let registered = app.register("ada", "ada@example.com", PASSWORD).await;
    assert_eq!(registered.status(), StatusCode::CREATED);
    app
}

/// Status, `Retry-After` and body of a response.
async fn answer(response: Response) -> (StatusCode, Option<u64>, Value) {
    let status = response.status();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().parse().unwrap());
    (status, retry_after, response.json().await.unwrap())
}

/// `times` wrong logins of `login` from `client`, each refused as wrong credentials.
async fn fail(app: &AuthApp, login: &str, client: &str, times: usize) {
    for i in 0..times {
        let (status, _, body) = answer(app.login_from(login, WRONG, client).await).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "failure {i}: {body}");
        assert_eq!(body["code"], "invalid_credentials");
    }
}

/// Asserts a throttled answer: 429 `too_many_attempts` with `Retry-After` (returned), the
/// detail naming the same wait.
fn throttled(answer: &(StatusCode, Option<u64>, Value)) -> u64 {
    let (status, retry_after, body) = answer;
    assert_eq!(*status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    let retry_after = retry_after.expect("Retry-After");
    assert_eq!(body["code"], "too_many_attempts");
    assert_eq!(body["title"], "Too many attempts");
    assert_eq!(body["status"], 429);
    assert_eq!(
        body["detail"],
        format!("too many failed logins; retry in {retry_after} seconds")
    );
    retry_after
}

async fn throttled_client_and_free_owner(app: AuthApp) {
    fail(&app, "ada", ATTACKER, 5).await;
    let hashes = app.module.service().passwords().stats().computed;
    // Right and wrong passwords alike: the same status, body and header, and no hash computed.
    let right = answer(app.login_from("ada", PASSWORD, ATTACKER).await).await;
    let wrong = answer(app.login_from("ada", WRONG, ATTACKER).await).await;
    let wait = throttled(&right);
    assert!((1..=2).contains(&wait), "the first wait is 2 s: {wait}");
    throttled(&wrong);
    assert_eq!(
        (&right.2["code"], &right.2["title"], &right.2["type"]),
        (&wrong.2["code"], &wrong.2["title"], &wrong.2["type"])
    );
    // The login name as compared: another spelling of it waits too.
    throttled(&answer(app.login_from("ADA", PASSWORD, ATTACKER).await).await);
    assert_eq!(
        app.module.service().passwords().stats().computed,
        hashes,
        "a throttled attempt costs no password hash"
    );

    // The owner elsewhere is not affected.
    let (status, _, body) = answer(app.login_from("ada", PASSWORD, OWNER).await).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // A name no account has is counted and delayed exactly like a real one.
    fail(&app, "nobody", ATTACKER, 5).await;
    let unknown = answer(app.login_from("nobody", PASSWORD, ATTACKER).await).await;
    throttled(&unknown);
    assert_eq!(unknown.2["type"], right.2["type"]);

    // Without a proxy header every test request is 127.0.0.1: not the attacker's address.
    let (status, _, body) = answer(app.login("ada", PASSWORD).await).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_client_waits_whatever_its_password_while_the_owner_logs_in_elsewhere() {
    throttled_client_and_free_owner(start(None).await).await;
    if let Some(db) = PgDatabase::create().await {
        throttled_client_and_free_owner(start(Some(db.url.clone())).await).await;
        db.drop_database().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_success_ends_the_clients_failures() {
    let app = start(None).await;
    fail(&app, "ada", ATTACKER, 4).await;
    let (status, _, body) = answer(app.login_from("ada", PASSWORD, ATTACKER).await).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Four more failures are four, not eight.
    fail(&app, "ada", ATTACKER, 4).await;
    fail(&app, "ada", ATTACKER, 1).await;
    throttled(&answer(app.login_from("ada", PASSWORD, ATTACKER).await).await);
}

/// The owner is mailed once when a delay starts, not for each failure after it nor for a
/// second client's delay in the same spell; a name no account has mails nobody.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owner_is_told_once() {
    let app = start(None).await;
    fail(&app, "ada", ATTACKER, 5).await;
    let notice = wait_for(&app.outbox, NOTICE, 1).await;
    assert!(notice[0].contains("To: ada@example.com"), "{}", notice[0]);
    fail(&app, "ada", "203.0.113.10", 5).await;
    fail(&app, "nobody", ATTACKER, 5).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(messages(&app.outbox, NOTICE).len(), 1);
}

/// Failures spread over two instances of one database count together; so do two instances
/// sharing Redis.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_on_two_instances_count_as_one() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    let a = start(Some(db.url.clone())).await;
    let b = AuthApp::start(Some(db.url.clone()), |c| {
        c.server.trusted_proxies = vec!["127.0.0.1/32".to_owned()];
    })
    .await;
    fail(&a, "ada", ATTACKER, 3).await;
    fail(&b, "ada", ATTACKER, 2).await;
    throttled(&answer(a.login_from("ada", PASSWORD, ATTACKER).await).await);
    throttled(&answer(b.login_from("ada", PASSWORD, ATTACKER).await).await);
    drop((a, b));
    db.drop_database().await;

    let Some(redis) = tests::redis_url().await else {
        return;
    };
    let prefix = format!("{}:", tests::unique_prefix("lockout"));
    let with_redis = |c: &mut auth_axum::core::AuthConfig| {
        c.server.trusted_proxies = vec!["127.0.0.1/32".to_owned()];
        c.redis.url = Some(redis.clone());
        c.redis.prefix.clone_from(&prefix);
    };
    // Two databases, one Redis: the counts are Redis's.
    let a = AuthApp::start(None, with_redis).await;
    let b = AuthApp::start(None, with_redis).await;
    fail(&a, "ada", ATTACKER, 2).await;
    fail(&b, "ada", ATTACKER, 3).await;
    throttled(&answer(a.login_from("ada", PASSWORD, ATTACKER).await).await);
}

/// Failures of one login name from many clients past `ACCOUNT_MAX_ATTEMPTS` delay every
/// client, except one the owner logged in from lately.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guessing_spread_over_clients_meets_the_login_names_threshold() {
    let app = AuthApp::start(None, |c| {
        c.server.trusted_proxies = vec!["127.0.0.1/32".to_owned()];
        c.lockout.account_max_attempts = 6;
    })
    .await;
    app.register("ada", "ada@example.com", PASSWORD).await;
    let (status, _, _) = answer(app.login_from("ada", PASSWORD, OWNER).await).await;
    assert_eq!(status, StatusCode::OK);
    for client in ["203.0.113.1", "203.0.113.2", "203.0.113.3"] {
        fail(&app, "ada", client, 2).await;
    }
    throttled(&answer(app.login_from("ada", PASSWORD, "203.0.113.4").await).await);
    let (status, _, body) = answer(app.login_from("ada", PASSWORD, OWNER).await).await;
    assert_eq!(status, StatusCode::OK, "the owner's usual place: {body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disabled_lockout_never_delays() {
    let app = AuthApp::start(None, |c| c.lockout.enabled = false).await;
    app.register("ada", "ada@example.com", PASSWORD).await;
    for _ in 0..8 {
        assert_eq!(
            app.login("ada", WRONG).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(app.login("ada", PASSWORD).await.status(), StatusCode::OK);
}

/// `POST /admin/users/{id}/unlock` (the example service): admins only; forgets the failures
/// so the throttled client gets in; says whether there was anything to forget; 404 for an
/// unknown user.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_unlocks_an_account() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(&sqlite_url(dir.path()), dir.path());
    config.server.trusted_proxies = vec!["127.0.0.1/32".to_owned()];
    let module = AuthModule::configure(config).await.unwrap();
    let service = module.service().clone();
    let admin = service
        .register(RegisterRequest::new("root", "root@example.com", PASSWORD))
        .await
        .unwrap();
    service.assign_role(&admin.id, "admin").await.unwrap();
    let ada = service
        .register(RegisterRequest::new("ada", "ada@example.com", PASSWORD))
        .await
        .unwrap();
    let server = TestServer::spawn(auth_service::app(module).unwrap()).await;
    let http = reqwest::Client::new();
    let login = |name: &'static str, password: &'static str| {
        http.post(server.url("/auth/login"))
            .header("x-forwarded-for", ATTACKER)
            .json(&json!({"username": name, "password": password}))
            .send()
    };
    let token = |response: Value| response["access_token"].as_str().unwrap().to_owned();
    let root = token(login("root", PASSWORD).await.unwrap().json().await.unwrap());
    let user = token(login("ada", PASSWORD).await.unwrap().json().await.unwrap());
    for _ in 0..5 {
        assert_eq!(
            login("ada", WRONG).await.unwrap().status(),
            StatusCode::UNAUTHORIZED
        );
    }
    throttled(&answer(login("ada", PASSWORD).await.unwrap()).await);

    let unlock = |id: String, bearer: String| {
        http.post(server.url(&format!("/admin/users/{id}/unlock")))
            .bearer_auth(bearer)
            .send()
    };
    let refused = unlock(ada.id.to_string(), user).await.unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let unknown = unlock("no-such-user".to_owned(), root.clone())
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    let done = unlock(ada.id.to_string(), root.clone()).await.unwrap();
    assert_eq!(done.status(), StatusCode::OK);
    assert_eq!(
        done.json::<Value>().await.unwrap(),
        json!({"forgiven": true})
    );
    assert_eq!(
        login("ada", PASSWORD).await.unwrap().status(),
        StatusCode::OK
    );
    let again = unlock(ada.id.to_string(), root).await.unwrap();
    assert_eq!(
        again.json::<Value>().await.unwrap(),
        json!({"forgiven": false})
    );
}

/// In process, on a manual clock: the wait doubles with each failure past the threshold up to
/// the ceiling, ends on time, and the events say so (throttled, locked, unlocked).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wait_doubles_up_to_the_ceiling_and_events_tell() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config("sqlite::memory:", dir.path());
    config.lockout.max_attempts = 3;
    config.lockout.base_delay_seconds = 10;
    config.lockout.lockout_minutes = 1;
    let clock = Arc::new(ManualClock::new(1_800_000_000));
    let events = Arc::new(MemoryEventSink::new());
    let mailer = Arc::new(MemoryMailer::new());
    let service = AuthService::builder(config)
        .with_clock(clock.clone())
        .with_events(events.clone())
        .with_mailer(mailer.clone())
        .build()
        .unwrap();
    let ada = service
        .register(RegisterRequest::new("ada", "ada@example.com", PASSWORD))
        .await
        .unwrap();
    let from = |password: &str| {
        LoginRequest::new("ada", password).from_device(Device::new(
            None,
            Some(ATTACKER.to_owned()),
            None,
        ))
    };
    let wait = |result: Result<_, AuthError>| match result {
        Err(AuthError::TooManyAttempts { retry_after }) => retry_after,
        Err(other) => panic!("expected a wait, got {other}"),
        Ok(_) => panic!("expected a wait, got a login"),
    };
    for _ in 0..3 {
        assert!(matches!(
            service.login(from(WRONG)).await,
            Err(AuthError::InvalidCredentials)
        ));
    }
    // 10 s, then 20 s, 40 s, and the ceiling of 60 s.
    for expected in [10, 20, 40, 60, 60] {
        assert_eq!(wait(service.login(from(PASSWORD)).await), expected);
        clock.advance(i64::try_from(expected).unwrap() - 1);
        assert_eq!(wait(service.login(from(PASSWORD)).await), 1);
        clock.advance(1);
        assert!(matches!(
            service.login(from(WRONG)).await,
            Err(AuthError::InvalidCredentials)
        ));
    }
    let seen = events.events();
    let locked: Vec<_> = seen
        .iter()
        .filter(|e| matches!(e, AuthEvent::LoginLocked { .. }))
        .collect();
    assert_eq!(
        locked,
        [&AuthEvent::LoginLocked {
            user_id: Some(ada.id.to_string()),
            login: "ada".to_owned(),
            client_ip: Some(ATTACKER.to_owned()),
            until: 1_800_000_010,
        }],
        "one event when the delay starts"
    );
    assert!(seen.contains(&AuthEvent::LoginThrottled {
        login: "ada".to_owned(),
        client_ip: Some(ATTACKER.to_owned()),
        retry_after: 10,
    }));
    let notices: Vec<_> = mailer
        .sent()
        .into_iter()
        .filter(|m| m.subject == NOTICE)
        .collect();
    assert_eq!(notices.len(), 1);
    let text = &notices[0].text;
    assert!(
        text.contains(ATTACKER) && text.contains("at most 1 min"),
        "{text}"
    );

    assert!(service.unlock_user(&ada.id).await.unwrap());
    assert!(events.events().contains(&AuthEvent::LoginUnlocked {
        user_id: ada.id.to_string()
    }));
    assert!(service.login(from(PASSWORD)).await.is_ok());
}
