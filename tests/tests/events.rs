//! Events over HTTP against the example service: each security-relevant action emits its
//! event with the request's circumstances (client address through the trusted proxy, user
//! agent, actor, session), and the audit log holds it, readable by the user
//! (`GET /auth/me/security-events`) and by admins (`GET /admin/audit`) a page at a time.
//! Hooks run off the request path (a panicking and a slow hook change nothing for the
//! request); interceptors veto registrations and logins with a 403.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use auth_axum::core::events::{kinds, Interceptor, RegisterAttempt, Veto};
use auth_axum::core::service::RegisterRequest;
use auth_axum::core::user::{User, UserId};
use auth_axum::AuthModule;
use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};
use tests::outbox::{messages, token_of};
use tests::{eventually, sqlite_url, test_config, TestServer};

const PASSWORD: &str = "correct horse battery";
const NEW_PASSWORD: &str = "violet lantern orchestra";
const THIRD_PASSWORD: &str = "quiet harbour pinecone";
const CLIENT: &str = "203.0.113.77";
const AGENT: &str = "events-test/1.0";

/// The example service with trusted 127.0.0.1, an admin `root`, and a client that sends every
/// request as from [`CLIENT`] with [`AGENT`].
struct Harness {
    server: TestServer,
    module: AuthModule,
    http: reqwest::Client,
    outbox: std::path::PathBuf,
    root: String,
    _dir: tempfile::TempDir,
}

impl Harness {
    async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut config = test_config(&sqlite_url(dir.path()), dir.path());
        config.server.trusted_proxies = vec!["127.0.0.1/32".to_owned()];
        // A used refresh token presented again a second later is a reuse.
        config.jwt.refresh_reuse_grace_seconds = 0;
        let outbox = config.mail.outbox.clone();
        let module = AuthModule::configure(config).await.unwrap();
        let service = module.service().clone();
        let root = service
            .register(RegisterRequest::new("root", "root@example.com", PASSWORD))
            .await
            .unwrap();
        service.assign_role(&root.id, "admin").await.unwrap();
        let server = TestServer::spawn(auth_service::app(module.clone()).unwrap()).await;
        let http = reqwest::Client::builder()
            .user_agent(AGENT)
            .build()
            .unwrap();
        let mut harness = Self {
            server,
            module,
            http,
            outbox,
            root: String::new(),
            _dir: dir,
        };
        harness.root = harness.login("root", PASSWORD).await["access_token"]
            .as_str()
            .unwrap()
            .to_owned();
        harness
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        token: Option<&str>,
    ) -> Response {
        let mut request = self
            .http
            .request(method, self.server.url(path))
            .header("x-forwarded-for", CLIENT);
        if let Some(body) = body {
            request = request.json(&body);
        }
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.unwrap()
    }

    async fn post(&self, path: &str, body: Value, token: Option<&str>) -> Response {
        self.call(Method::POST, path, Some(body), token).await
    }

    /// A login of `name` with a wrong password, refused.
    async fn wrong_login(&self, name: &str) {
        let body = json!({"username": name, "password": "not it at all"});
        let response = self.post("/auth/login", body, None).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }

    /// Logs in; the token response.
    async fn login(&self, name: &str, password: &str) -> Value {
        let response = self
            .post(
                "/auth/login",
                json!({"username": name, "password": password}),
                None,
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK, "{name}");
        response.json().await.unwrap()
    }

    /// The audit entries of `kind` (about `user`, when given), as admins read them.
    async fn audit(&self, user: Option<&str>, kind: &str) -> Vec<Value> {
        let user = user.map(|u| format!("&user={u}")).unwrap_or_default();
        let path = format!("/admin/audit?type={kind}{user}");
        let response = self.call(Method::GET, &path, None, Some(&self.root)).await;
        assert_eq!(response.status(), StatusCode::OK);
        let page: Value = response.json().await.unwrap();
        page["events"].as_array().unwrap().clone()
    }

    /// Waits until the audit log holds an event of `kind` about `user`; returns the newest.
    async fn logged(&self, user: &str, kind: &str) -> Value {
        self.logged_about(Some(user), kind).await
    }

    /// Waits until the audit log holds an event of `kind` (about `user`, when given); returns
    /// the newest.
    async fn logged_about(&self, user: Option<&str>, kind: &str) -> Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            if let Some(entry) = self.audit(user, kind).await.into_iter().next() {
                return entry;
            }
            if tokio::time::Instant::now() >= deadline {
                let all = self
                    .call(
                        Method::GET,
                        "/admin/audit?limit=200",
                        None,
                        Some(&self.root),
                    )
                    .await
                    .text()
                    .await
                    .unwrap();
                panic!("the audit log holds no `{kind}` about {user:?}: {all}");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// The message with `subject` to `to` (waiting for it).
async fn mail_to(h: &Harness, subject: &str, to: &str) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let found = messages(&h.outbox, subject)
            .into_iter()
            .find(|m| m.contains(&format!("To: {to}")));
        if let Some(message) = found {
            return message;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no `{subject}` to {to}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Asserts `entry` came from the test's client, with its user agent.
fn from_client(entry: &Value) {
    assert_eq!(entry["client_ip"], CLIENT, "{entry}");
    assert_eq!(entry["user_agent"], AGENT, "{entry}");
    assert!(entry["at"].as_i64().unwrap() > 1_700_000_000, "{entry}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_action_emits_its_event_and_the_audit_log_holds_it() {
    let h = Harness::start().await;
    let registered = h
        .post(
            "/auth/register",
            json!({"username": "ada", "email": "ada@example.com", "password": PASSWORD}),
            None,
        )
        .await;
    assert_eq!(registered.status(), StatusCode::CREATED);
    let ada: Value = registered.json().await.unwrap();
    let ada = ada["id"].as_str().unwrap().to_owned();
    let entry = h.logged(&ada, "user_registered").await;
    from_client(&entry);
    assert_eq!(entry["type"], "user_registered");
    assert_eq!(entry["user_id"], ada.as_str());
    assert_eq!(entry["actor"], Value::Null, "nobody was signed in");

    // Email verification, with the link mailed at registration.
    let link = token_of(&mail_to(&h, "Confirm your email address", "ada@example.com").await);
    let verified = h
        .post("/auth/verify-email", json!({"token": link}), None)
        .await;
    assert_eq!(verified.status(), StatusCode::NO_CONTENT);
    from_client(&h.logged(&ada, "email_verified").await);

    // Logins: a failure, a success with its session, a refresh and a refresh token reused.
    h.wrong_login("ada").await;
    from_client(&h.logged(&ada, "login_failed").await);
    let first = h.login("ada", PASSWORD).await;
    let entry = h.logged(&ada, "login_succeeded").await;
    from_client(&entry);
    assert!(entry["session_id"].is_string(), "the new session: {entry}");
    let refresh = first["refresh_token"].as_str().unwrap();
    let refreshed = h
        .post("/auth/refresh", json!({"refresh_token": refresh}), None)
        .await;
    assert_eq!(refreshed.status(), StatusCode::OK);
    from_client(&h.logged(&ada, "token_refreshed").await);
    // The grace is 0 s, counted in whole seconds: the next second is past it.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let reused = h
        .post("/auth/refresh", json!({"refresh_token": refresh}), None)
        .await;
    assert_eq!(reused.status(), StatusCode::BAD_REQUEST);
    from_client(&h.logged(&ada, "refresh_token_reuse_detected").await);

    // Sessions: one ended from another, then the password changed, then logout.
    let main = h.login("ada", PASSWORD).await;
    let main = main["access_token"].as_str().unwrap().to_owned();
    let other = h.login("ada", PASSWORD).await;
    let other_session = h
        .module
        .service()
        .verify_access(other["access_token"].as_str().unwrap())
        .await
        .unwrap()
        .sid
        .unwrap();
    let revoked = h
        .call(
            Method::DELETE,
            &format!("/auth/sessions/{other_session}"),
            None,
            Some(&main),
        )
        .await;
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    let entry = h.logged(&ada, "session_revoked").await;
    from_client(&entry);
    assert_eq!(
        entry["session_id"],
        other_session.as_str(),
        "the ended session"
    );
    assert_eq!(entry["actor"], ada.as_str(), "ended by its own user");
    let changed = h
        .post(
            "/auth/password/change",
            json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD}),
            Some(&main),
        )
        .await;
    assert_eq!(changed.status(), StatusCode::NO_CONTENT);
    from_client(&h.logged(&ada, "password_changed").await);
    let out = h.post("/auth/logout", json!({}), Some(&main)).await;
    assert_eq!(out.status(), StatusCode::OK);
    from_client(&h.logged(&ada, "logged_out").await);

    // A reset by mail: asked for (in the background, still from the client), then used.
    let forgot = h
        .post(
            "/auth/password/forgot",
            json!({"email": "ada@example.com"}),
            None,
        )
        .await;
    assert_eq!(forgot.status(), StatusCode::ACCEPTED);
    from_client(&h.logged(&ada, "password_reset_requested").await);
    let token = token_of(&mail_to(&h, "Reset your password", "ada@example.com").await);
    let reset = h
        .post(
            "/auth/password/reset",
            json!({"token": token, "new_password": THIRD_PASSWORD}),
            None,
        )
        .await;
    assert_eq!(reset.status(), StatusCode::NO_CONTENT);
    from_client(&h.logged(&ada, "password_reset").await);

    // An address change, confirmed from the new address.
    let access = h.login("ada", THIRD_PASSWORD).await;
    let access = access["access_token"].as_str().unwrap().to_owned();
    let asked = h
        .post(
            "/auth/email/change",
            json!({"new_email": "ada@new.example.com", "password": THIRD_PASSWORD}),
            Some(&access),
        )
        .await;
    assert_eq!(asked.status(), StatusCode::ACCEPTED);
    let token =
        token_of(&mail_to(&h, "Confirm your new email address", "ada@new.example.com").await);
    let confirmed = h
        .post("/auth/email/confirm", json!({"token": token}), None)
        .await;
    assert_eq!(confirmed.status(), StatusCode::NO_CONTENT);
    from_client(&h.logged(&ada, "email_changed").await);

    // An administrator's actions name the administrator as the actor.
    let root_id = h
        .module
        .service()
        .users()
        .get_by_username("root")
        .await
        .unwrap()
        .unwrap()
        .id;
    for (action, kind) in [
        ("deactivate", "user_deactivated"),
        ("reactivate", "user_reactivated"),
        ("unlock", "login_unlocked"),
    ] {
        let done = h
            .post(
                &format!("/admin/users/{ada}/{action}"),
                json!({}),
                Some(&h.root),
            )
            .await;
        assert!(done.status().is_success(), "{action}: {}", done.status());
        let entry = h.logged(&ada, kind).await;
        from_client(&entry);
        assert_eq!(entry["actor"], root_id.as_str(), "{kind}");
    }

    // In process (no request): roles and "log out everywhere".
    let service = h.module.service();
    service
        .assign_role(&UserId(ada.clone()), "editor")
        .await
        .unwrap();
    assert_eq!(h.logged(&ada, "role_granted").await["role"], "editor");
    service
        .revoke_role(&UserId(ada.clone()), "editor")
        .await
        .unwrap();
    let entry = h.logged(&ada, "role_revoked").await;
    assert_eq!(
        (&entry["role"], &entry["client_ip"]),
        (&json!("editor"), &Value::Null)
    );
    service.logout_all(&UserId(ada.clone())).await.unwrap();
    h.logged(&ada, "all_sessions_revoked").await;

    // The lockout: a delay starts (locked), then an attempt is refused (throttled, which names
    // no user: found by kind).
    for _ in 0..5 {
        h.wrong_login("ada").await;
    }
    from_client(&h.logged(&ada, "login_locked").await);
    let throttled = h
        .post(
            "/auth/login",
            json!({"username": "ada", "password": THIRD_PASSWORD}),
            None,
        )
        .await;
    assert_eq!(throttled.status(), StatusCode::TOO_MANY_REQUESTS);
    let entry = h.logged_about(None, "login_throttled").await;
    from_client(&entry);
    assert_eq!(entry["login"], "ada");
}

/// A user reads their own events only, a page at a time; admins read everyone's; others
/// may not; a cursor no page gave is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_log_is_read_a_page_at_a_time() {
    let h = Harness::start().await;
    h.post(
        "/auth/register",
        json!({"username": "ada", "email": "ada@example.com", "password": PASSWORD}),
        None,
    )
    .await;
    for _ in 0..3 {
        h.login("ada", PASSWORD).await;
    }
    let access = h.login("ada", PASSWORD).await;
    let access = access["access_token"].as_str().unwrap().to_owned();
    let ada = h.module.service().current_user(&access).await.unwrap().id;
    h.logged(ada.as_str(), "login_succeeded").await;
    // Four logins and the registration: five of ada's events (wait for the last writes).
    assert!(
        eventually(Duration::from_secs(5), || async {
            h.audit(Some(ada.as_str()), "login_succeeded").await.len() == 4
        })
        .await
    );
    let page = |query: String| {
        let access = access.clone();
        let h = &h;
        async move {
            let response = h
                .call(
                    Method::GET,
                    &format!("/auth/me/security-events{query}"),
                    None,
                    Some(&access),
                )
                .await;
            (response.status(), response.json::<Value>().await.unwrap())
        }
    };
    let (status, first) = page("?limit=2".to_owned()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(first["events"].as_array().unwrap().len(), 2);
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let (_, rest) = page(format!("?limit=10&cursor={cursor}")).await;
    let rest = rest["events"].as_array().unwrap();
    assert_eq!(rest.len(), 3, "{rest:?}");
    assert_eq!(
        rest.last().unwrap()["type"],
        "user_registered",
        "oldest last"
    );
    let (_, all) = page(String::new()).await;
    let all = all["events"].as_array().unwrap();
    assert!(
        all.iter().all(|e| e["user_id"] == ada.as_str()),
        "only ada's own"
    );
    assert_eq!(all.len(), 5);
    let times: Vec<i64> = all.iter().map(|e| e["at"].as_i64().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first");
    // `user=` cannot widen a user's own listing.
    let (_, others) = page("?user=someone-else".to_owned()).await;
    assert_eq!(others["events"].as_array().unwrap().len(), 5);

    let (status, bad) = page("?cursor=nonsense".to_owned()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(bad["code"], "invalid_cursor");
    let (status, bad) = page("?limit=many".to_owned()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(bad["code"], "invalid_query");

    let refused = h
        .call(Method::GET, "/admin/audit", None, Some(&access))
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let anonymous = h
        .call(Method::GET, "/auth/me/security-events", None, None)
        .await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

/// A hook that panics and one that sleeps long neither fail nor delay the login; the others
/// still run, for their kind only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hooks_run_off_the_request_path() {
    let h = Harness::start().await;
    // The harness's own login has gone through the queue (the audit log holds it) before the
    // hooks are added, so they see only the logins below.
    let root = h
        .module
        .service()
        .users()
        .get_by_username("root")
        .await
        .unwrap()
        .unwrap();
    h.logged(root.id.as_str(), "login_succeeded").await;
    let events = h.module.service().events();
    let logins = Arc::new(AtomicUsize::new(0));
    let any = Arc::new(AtomicUsize::new(0));
    let slow_done = Arc::new(AtomicBool::new(false));
    events.on::<kinds::LoginSucceeded, _, _>(|_| async { panic!("a broken hook") });
    let done = Arc::clone(&slow_done);
    events.on::<kinds::LoginSucceeded, _, _>(move |_| {
        let done = Arc::clone(&done);
        async move {
            tokio::time::sleep(Duration::from_secs(60)).await;
            done.store(true, Ordering::SeqCst);
        }
    });
    let counter = Arc::clone(&logins);
    events.on::<kinds::LoginSucceeded, _, _>(move |event| {
        let counter = Arc::clone(&counter);
        async move {
            assert_eq!(event.client_ip.as_deref(), Some(CLIENT));
            counter.fetch_add(1, Ordering::SeqCst);
        }
    });
    let counter = Arc::clone(&any);
    events.on_any(move |_| {
        let counter = Arc::clone(&counter);
        async move {
            counter.fetch_add(1, Ordering::SeqCst);
        }
    });
    for _ in 0..2 {
        h.login("root", PASSWORD).await;
    }
    assert!(
        eventually(Duration::from_secs(10), || async {
            logins.load(Ordering::SeqCst) == 2
        })
        .await
    );
    assert!(
        !slow_done.load(Ordering::SeqCst),
        "the logins did not wait for the slow hook"
    );
    // The failed login is not a LoginSucceeded: only the catch-all saw it.
    h.wrong_login("root").await;
    assert!(
        eventually(Duration::from_secs(5), || async {
            any.load(Ordering::SeqCst) >= 3
        })
        .await
    );
    assert_eq!(logins.load(Ordering::SeqCst), 2);
    assert_eq!(events.dropped(), 0);
}

/// Only addresses of one domain may register, and `mallory` may not log in: each refusal is a
/// 403 with the interceptor's reason; a wrong password is still just a wrong password.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interceptors_veto_registrations_and_logins() {
    struct Policy;
    #[async_trait::async_trait]
    impl Interceptor for Policy {
        async fn before_register(&self, attempt: RegisterAttempt<'_>) -> Result<(), Veto> {
            if attempt.email.ends_with("@example.com") {
                Ok(())
            } else {
                Err(Veto("only example.com addresses may register".to_owned()))
            }
        }

        async fn before_login(&self, user: &User) -> Result<(), Veto> {
            if user.username == "mallory" {
                Err(Veto("this account is suspended".to_owned()))
            } else {
                Ok(())
            }
        }
    }
    let h = Harness::start().await;
    h.module.service().events().intercept(Policy);
    let register = |name: &str, email: &str| {
        h.post(
            "/auth/register",
            json!({"username": name, "email": email, "password": PASSWORD}),
            None,
        )
    };
    let refused = register("eve", "eve@elsewhere.test").await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["code"], "forbidden");
    assert_eq!(body["detail"], "only example.com addresses may register");
    assert!(h
        .module
        .service()
        .users()
        .get_by_username("eve")
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        register("mallory", "mallory@example.com").await.status(),
        StatusCode::CREATED
    );
    let login = |password: &str| {
        h.post(
            "/auth/login",
            json!({"username": "mallory", "password": password}),
            None,
        )
    };
    let wrong = login("not it at all").await;
    assert_eq!(
        wrong.status(),
        StatusCode::UNAUTHORIZED,
        "the veto comes after the password"
    );
    let vetoed = login(PASSWORD).await;
    assert_eq!(vetoed.status(), StatusCode::FORBIDDEN);
    let body: Value = vetoed.json().await.unwrap();
    assert_eq!(body["detail"], "this account is suspended");
    h.login("root", PASSWORD).await;
}

/// A login over a hash of older parameters upgrades it and says so; the audit log holds it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upgraded_hash_is_an_event() {
    use auth_axum::core::audit::AuditQuery;
    use auth_axum::core::events::{AuthEvent, MemoryEventSink};
    use auth_axum::core::service::{LoginRequest, Stores};
    use auth_axum::core::store::sql::{SqlOptions, SqlStore};
    use auth_axum::core::AuthService;

    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(dir.path());
    let store = SqlStore::connect(&url, SqlOptions::default())
        .await
        .unwrap();
    let service = |iterations: u32, events: Arc<MemoryEventSink>| {
        let mut config = test_config(&url, dir.path());
        config.password.iterations = iterations;
        AuthService::builder(config)
            .with_stores(Stores::sql(store.clone()))
            .with_events(events)
            .build()
            .unwrap()
    };
    let before = service(1, Arc::new(MemoryEventSink::new()));
    let ada = before
        .register(RegisterRequest::new("ada", "ada@example.com", PASSWORD))
        .await
        .unwrap();
    let events = Arc::new(MemoryEventSink::new());
    let after = service(2, Arc::clone(&events));
    after
        .login(LoginRequest::new("ada", PASSWORD))
        .await
        .unwrap();
    assert!(events.events().contains(&AuthEvent::PasswordRehashed {
        user_id: ada.id.to_string()
    }));
    let query = AuditQuery::for_user(ada.id.as_str()).of_kind("password_rehashed");
    assert!(
        eventually(Duration::from_secs(5), || async {
            !after.audit_log(&query).await.unwrap().events.is_empty()
        })
        .await
    );
}
