//! The auth service end to end over real HTTP on 127.0.0.1, on SQLite and on PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use auth_axum::core::service::RegisterRequest;
use auth_axum::AuthModule;
use reqwest::{Client, Response, StatusCode};
use serde_json::{json, Value};
use tests::{sqlite_url, test_config, PgDatabase, TestServer};

const PASSWORD: &str = "correct horse battery";

struct Harness {
    server: TestServer,
    module: AuthModule,
    http: Client,
    _dir: tempfile::TempDir,
}

impl Harness {
    async fn start(database_url: Option<String>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = database_url.unwrap_or_else(|| sqlite_url(dir.path()));
        let config = test_config(&url, dir.path());
        let module = AuthModule::configure(config).await.unwrap();
        let server = TestServer::spawn(auth_service::app(module.clone()).unwrap()).await;
        Self {
            server,
            module,
            http: Client::new(),
            _dir: dir,
        }
    }

    async fn send(&self, mut request: reqwest::RequestBuilder, token: Option<&str>) -> Response {
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.unwrap()
    }

    /// A GET with a raw `Authorization` header value, for malformed-header cases.
    async fn get_with_authorization(&self, path: &str, value: &str) -> Response {
        let request = self
            .http
            .get(self.server.url(path))
            .header("authorization", value);
        self.send(request, None).await
    }

    async fn post(&self, path: &str, body: &Value, token: Option<&str>) -> Response {
        self.send(self.http.post(self.server.url(path)).json(body), token)
            .await
    }

    async fn put(&self, path: &str, body: &Value, token: &str) -> Response {
        self.send(self.http.put(self.server.url(path)).json(body), Some(token))
            .await
    }

    async fn get(&self, path: &str, token: Option<&str>) -> Response {
        self.send(self.http.get(self.server.url(path)), token).await
    }

    async fn register(&self, username: &str) -> Value {
        let body = json!({"username": username, "email": format!("{username}@example.com"), "password": PASSWORD});
        let response = self.post("/auth/register", &body, None).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        response.json().await.unwrap()
    }

    async fn login(&self, username: &str) -> Value {
        let response = self
            .post(
                "/auth/login",
                &json!({"username": username, "password": PASSWORD}),
                None,
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.unwrap()
    }
}

fn token(body: &Value, field: &str) -> String {
    body[field].as_str().unwrap().to_owned()
}

/// Asserts the problem+json shape and returns the body.
async fn problem(response: Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(response.status(), status);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    if status == StatusCode::UNAUTHORIZED {
        let challenge = response.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(challenge.starts_with("Bearer realm=\"api\""), "{challenge}");
    }
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], status.as_u16());
    assert_eq!(body["code"], code, "{body}");
    assert!(body["type"].as_str().unwrap().ends_with(code));
    assert!(body["title"].is_string() && body["detail"].is_string());
    body
}

async fn register_login_me_refresh_logout(h: &Harness) {
    let user = h.register("ada").await;
    assert_eq!(user["username"], "ada");
    assert_eq!(user["roles"], json!(["user"]));
    assert!(user.get("password_hash").is_none() && user.get("password").is_none());
    assert_eq!(user["login_count"], 0);
    assert_eq!(user["last_login_at"], Value::Null);
    assert!(user["updated_at"].is_string());

    let tokens = h.login("ada").await;
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 1800);
    assert_eq!(tokens["user"]["id"], user["id"]);
    let access = token(&tokens, "access_token");
    let me: Value = h.get("/auth/me", Some(&access)).await.json().await.unwrap();
    // The same user, with the login counted and timed.
    assert_eq!(me["login_count"], 1);
    assert!(me["last_login_at"].is_string());
    assert_eq!(tokens["user"], me);
    let mut expected = user.clone();
    expected["login_count"] = me["login_count"].clone();
    expected["last_login_at"] = me["last_login_at"].clone();
    assert_eq!(me, expected);

    // Login by email, case-insensitively, and with the OAuth2 password form.
    let by_email = h
        .post(
            "/auth/login",
            &json!({"email": "ADA@example.com", "password": PASSWORD}),
            None,
        )
        .await;
    assert_eq!(by_email.status(), StatusCode::OK);
    let form = h
        .http
        .post(h.server.url("/auth/login"))
        .form(&[
            ("grant_type", "password"),
            ("username", "ada"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), StatusCode::OK);
    assert_eq!(form.headers()["cache-control"], "no-store");

    // Refresh rotates the refresh token; the form works too.
    let refreshed: Value = h
        .post(
            "/auth/refresh",
            &json!({"refresh_token": token(&tokens, "refresh_token")}),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_ne!(refreshed["refresh_token"], tokens["refresh_token"]);
    assert_eq!(refreshed["session_id"], tokens["session_id"]);
    let form = h
        .http
        .post(h.server.url("/auth/refresh"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", &token(&refreshed, "refresh_token")),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), StatusCode::OK);
    let latest: Value = form.json().await.unwrap();

    // Logout kills this session's access tokens (old and new) and its refresh token.
    let new_access = token(&latest, "access_token");
    let out = h.post("/auth/logout", &json!({}), Some(&new_access)).await;
    assert_eq!(out.status(), StatusCode::OK);
    for t in [&access, &new_access] {
        let body = problem(
            h.get("/auth/me", Some(t)).await,
            StatusCode::UNAUTHORIZED,
            "invalid_token",
        )
        .await;
        assert_eq!(body["detail"], "token has been revoked");
    }
    let again = h
        .post(
            "/auth/refresh",
            &json!({"refresh_token": token(&latest, "refresh_token")}),
            None,
        )
        .await;
    problem(again, StatusCode::BAD_REQUEST, "invalid_grant").await;
    // Another session of the same user is untouched.
    let other = token(&by_email.json::<Value>().await.unwrap(), "access_token");
    assert_eq!(
        h.get("/auth/me", Some(&other)).await.status(),
        StatusCode::OK
    );
}

async fn refresh_reuse_revokes_the_family(h: &Harness) {
    h.register("reuse").await;
    let first = h.login("reuse").await;
    let sibling = h.login("reuse").await;
    let a = token(&first, "refresh_token");
    let second: Value = h
        .post("/auth/refresh", &json!({"refresh_token": a}), None)
        .await
        .json()
        .await
        .unwrap();
    let b = token(&second, "refresh_token");
    let third: Value = h
        .post("/auth/refresh", &json!({"refresh_token": b}), None)
        .await
        .json()
        .await
        .unwrap();
    let c = token(&third, "refresh_token");

    // `a` is presented again: its successor `b` is already used, so this is reuse, not a race.
    problem(
        h.post("/auth/refresh", &json!({"refresh_token": a}), None)
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    )
    .await;
    // The whole family is dead: the newest refresh token and the session's access tokens.
    problem(
        h.post("/auth/refresh", &json!({"refresh_token": c}), None)
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    )
    .await;
    let access = token(&third, "access_token");
    problem(
        h.get("/auth/me", Some(&access)).await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    )
    .await;
    // Only that family: the user's other login still works.
    let other = h
        .post(
            "/auth/refresh",
            &json!({"refresh_token": token(&sibling, "refresh_token")}),
            None,
        )
        .await;
    assert_eq!(other.status(), StatusCode::OK);
}

async fn concurrent_refreshes_get_the_same_successor(h: &Harness) {
    h.register("tabs").await;
    let tokens = h.login("tabs").await;
    let body = json!({"refresh_token": token(&tokens, "refresh_token")});
    let responses = futures_join(h, &body).await;
    let mut successors = Vec::new();
    for response in responses {
        assert_eq!(response.status(), StatusCode::OK);
        successors.push(response.json::<Value>().await.unwrap()["refresh_token"].clone());
    }
    assert!(
        successors.windows(2).all(|w| w[0] == w[1]),
        "racing refreshes must agree: {successors:?}"
    );
    let next = h
        .post(
            "/auth/refresh",
            &json!({"refresh_token": successors[0]}),
            None,
        )
        .await;
    assert_eq!(next.status(), StatusCode::OK);
}

async fn futures_join(h: &Harness, body: &Value) -> Vec<Response> {
    let path = "/auth/refresh";
    let (a, b, c, d) = tokio::join!(
        h.post(path, body, None),
        h.post(path, body, None),
        h.post(path, body, None),
        h.post(path, body, None)
    );
    vec![a, b, c, d]
}

async fn wrong_password_and_unknown_user_look_the_same(h: &Harness) {
    h.register("known").await;
    let wrong = h
        .post(
            "/auth/login",
            &json!({"username": "known", "password": "wrong password!"}),
            None,
        )
        .await;
    let unknown = h
        .post(
            "/auth/login",
            &json!({"username": "nobody", "password": "wrong password!"}),
            None,
        )
        .await;
    assert_eq!(wrong.status(), unknown.status());
    assert_eq!(
        wrong.headers()["www-authenticate"],
        unknown.headers()["www-authenticate"]
    );
    let (wrong, unknown) = (wrong.text().await.unwrap(), unknown.text().await.unwrap());
    assert_eq!(wrong, unknown);
    let body: Value = serde_json::from_str(&wrong).unwrap();
    assert_eq!(body["code"], "invalid_credentials");
    assert_eq!(body["status"], 401);

    // An account whose stored hash cannot be checked (imported from elsewhere, damaged)
    // answers the same, after the same work: one verification, not an instant refusal.
    let service = h.module.service();
    let mut odd = service
        .users()
        .get_by_username("known")
        .await
        .unwrap()
        .unwrap();
    odd.password_hash =
        Some("$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW".to_owned());
    service.users().update(&odd).await.unwrap();
    let computed = service.passwords().stats().computed;
    let unusable = h
        .post(
            "/auth/login",
            &json!({"username": "known", "password": "wrong password!"}),
            None,
        )
        .await;
    assert_eq!(unusable.text().await.unwrap(), wrong);
    assert_eq!(service.passwords().stats().computed, computed + 1);
}

async fn bad_input_gets_precise_problems(h: &Harness) {
    problem(
        h.get("/auth/me", None).await,
        StatusCode::UNAUTHORIZED,
        "not_authenticated",
    )
    .await;
    let basic = h.get_with_authorization("/auth/me", "Basic YTpi").await;
    problem(
        basic,
        StatusCode::BAD_REQUEST,
        "invalid_authorization_header",
    )
    .await;
    let empty = h.get_with_authorization("/auth/me", "Bearer ").await;
    problem(
        empty,
        StatusCode::BAD_REQUEST,
        "invalid_authorization_header",
    )
    .await;
    let garbage = h.get("/auth/me", Some("not.a.jwt")).await;
    let body = problem(garbage, StatusCode::UNAUTHORIZED, "invalid_token").await;
    assert_eq!(body["detail"], "token is malformed");
    let huge = h.get("/auth/me", Some(&"a".repeat(9000))).await;
    let body = problem(huge, StatusCode::UNAUTHORIZED, "invalid_token").await;
    assert_eq!(body["detail"], "token is larger than 8192 bytes");
    // An opaque refresh token is not an access token.
    h.register("mixup").await;
    let tokens = h.login("mixup").await;
    problem(
        h.get("/auth/me", Some(&token(&tokens, "refresh_token")))
            .await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    )
    .await;
    // A logout body that is not JSON is refused, and the session is not ended.
    let access = token(&tokens, "access_token");
    let bad_logout = h
        .send(
            h.http.post(h.server.url("/auth/logout")).body("{not json"),
            Some(&access),
        )
        .await;
    problem(bad_logout, StatusCode::BAD_REQUEST, "malformed_json").await;
    assert_eq!(
        h.get("/auth/me", Some(&access)).await.status(),
        StatusCode::OK
    );

    let malformed = h
        .http
        .post(h.server.url("/auth/login"))
        .header("content-type", "application/json")
        .body("{\"username\":")
        .send()
        .await
        .unwrap();
    problem(malformed, StatusCode::BAD_REQUEST, "malformed_json").await;
    let text = h
        .http
        .post(h.server.url("/auth/register"))
        .body("hello")
        .send()
        .await
        .unwrap();
    problem(
        text,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;
    let missing = h
        .post("/auth/register", &json!({"username": "x"}), None)
        .await;
    problem(missing, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body").await;
    let oversized = h
        .post(
            "/auth/register",
            &json!({"username": "x".repeat(20_000), "email": "a@b.c", "password": PASSWORD}),
            None,
        )
        .await;
    problem(
        oversized,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
    )
    .await;

    let invalid = h
        .post(
            "/auth/register",
            &json!({"username": "a b", "email": "nope", "password": "short"}),
            None,
        )
        .await;
    let body = problem(
        invalid,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        ["username", "email", "password", "password", "password"],
        "{body}"
    );
    let codes: Vec<&Value> = body["errors"].as_array().unwrap()[2..]
        .iter()
        .map(|e| &e["code"])
        .collect();
    assert_eq!(
        codes,
        [
            "password_too_short",
            "password_too_weak",
            "password_breached"
        ],
        "every rule the password breaks, each with its code"
    );
    let too_long = h
        .post(
            "/auth/login",
            &json!({"username": "mixup", "password": "x".repeat(129)}),
            None,
        )
        .await;
    problem(
        too_long,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;

    let duplicate = h
        .post(
            "/auth/register",
            &json!({"username": "MIXUP", "email": "new@example.com", "password": PASSWORD}),
            None,
        )
        .await;
    let body = problem(duplicate, StatusCode::CONFLICT, "conflict").await;
    assert_eq!(body["detail"], "username is already taken");

    let grant = h
        .http
        .post(h.server.url("/auth/login"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    problem(grant, StatusCode::BAD_REQUEST, "unsupported_grant_type").await;
    let unknown = h
        .post("/auth/refresh", &json!({"refresh_token": "nope"}), None)
        .await;
    problem(unknown, StatusCode::BAD_REQUEST, "invalid_grant").await;
    problem(
        h.post("/auth/logout", &json!({}), None).await,
        StatusCode::UNAUTHORIZED,
        "not_authenticated",
    )
    .await;
}

async fn example_resources_check_roles_and_permissions(h: &Harness) {
    h.register("reader").await;
    let reader = token(&h.login("reader").await, "access_token");
    assert_eq!(
        h.get("/articles", Some(&reader)).await.status(),
        StatusCode::OK
    );
    problem(
        h.get("/articles", None).await,
        StatusCode::UNAUTHORIZED,
        "not_authenticated",
    )
    .await;
    let forbidden = h
        .post("/articles", &json!({"title": "hi"}), Some(&reader))
        .await;
    let body = problem(forbidden, StatusCode::FORBIDDEN, "forbidden").await;
    assert_eq!(body["detail"], "requires permission `articles.write`");
    // The guard answers before the body is read: malformed JSON from a forbidden caller is
    // 403, not 400 or 422.
    let malformed = h
        .send(
            h.http
                .post(h.server.url("/articles"))
                .header("content-type", "application/json")
                .body("{not json"),
            Some(&reader),
        )
        .await;
    problem(malformed, StatusCode::FORBIDDEN, "forbidden").await;
    problem(
        h.get("/admin/users", Some(&reader)).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;

    // Promote to editor and admin; roles take effect with the next token.
    let service = h.module.service();
    let user = service
        .users()
        .get_by_username("reader")
        .await
        .unwrap()
        .unwrap();
    // By name or typed.
    service
        .assign_role(&user.id, auth_service::Role::Editor)
        .await
        .unwrap();
    let promoted = service.assign_role(&user.id, "admin").await.unwrap();
    assert_eq!(promoted.roles, ["user", "editor", "admin"]);
    assert_eq!(
        service
            .assign_role(&user.id, "admin")
            .await
            .unwrap()
            .roles
            .len(),
        3,
        "idempotent"
    );
    let editor = token(&h.login("reader").await, "access_token");
    let created = h
        .post("/articles", &json!({"title": "hi"}), Some(&editor))
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    // The policy route: a user's articles for that user and for admins only.
    let mine = format!("/users/{}/articles", user.id);
    let articles: Value = h.get(&mine, Some(&editor)).await.json().await.unwrap();
    assert_eq!(articles[0]["title"], "hi");
    h.register("outsider").await;
    let outsider = token(&h.login("outsider").await, "access_token");
    let body = problem(
        h.get(&mine, Some(&outsider)).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    assert_eq!(
        body["detail"],
        r#"requires policy `has_role("admin") || user.id == path.user_id`"#
    );
    let listed: Value = h
        .get("/admin/users", Some(&editor))
        .await
        .json()
        .await
        .unwrap();
    assert!(listed
        .as_array()
        .unwrap()
        .iter()
        .all(|u| u.get("password_hash").is_none() && u["plan"] == "free"));
    let deleted = h
        .http
        .delete(h.server.url("/articles/1"))
        .bearer_auth(&editor)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);

    // Revoking a role applies to the next token.
    let demoted = service.revoke_role(&user.id, "admin").await.unwrap();
    assert_eq!(demoted.roles, ["user", "editor"]);
    let after = token(&h.login("reader").await, "access_token");
    problem(
        h.get("/admin/users", Some(&after)).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let ghost = auth_axum::core::UserId::from("no-such-user");
    assert_eq!(
        service
            .assign_role(&ghost, "admin")
            .await
            .unwrap_err()
            .code(),
        "user_not_found"
    );
}

/// The example's own user model (`auth_service::Member`): registration checks its fields,
/// every public user shows them, `GET /profile` answers the typed projection.
async fn the_example_member_model(h: &Harness) {
    let response = h
        .post(
            "/auth/register",
            &json!({"username": "grace", "email": "grace@example.com", "password": PASSWORD,
                    "display_name": "Grace H.", "locale": "pt-BR"}),
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let user: Value = response.json().await.unwrap();
    assert_eq!(
        (&user["display_name"], &user["locale"], &user["plan"]),
        (&json!("Grace H."), &json!("pt-BR"), &json!("free"))
    );
    let refused = h
        .post(
            "/auth/register",
            &json!({"username": "mallory", "email": "mallory@example.com", "password": PASSWORD,
                    "display_name": " ", "locale": "klingon!", "plan": "pro"}),
            None,
        )
        .await;
    let body = problem(
        refused,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(
        body["errors"],
        json!([
            {"field": "display_name", "message": "must be 1 to 64 characters"},
            {"field": "locale", "message": "must be a language tag such as `en` or `pt-BR`"},
            {"field": "plan", "message": "cannot be set at registration"},
        ])
    );

    let tokens = h.login("grace").await;
    assert_eq!(tokens["user"]["locale"], "pt-BR");
    let access = token(&tokens, "access_token");
    let profile: Value = h.get("/profile", Some(&access)).await.json().await.unwrap();
    assert_eq!(
        profile,
        json!({"id": user["id"], "username": "grace", "email": "grace@example.com",
               "roles": ["user"], "login_count": 1, "display_name": "Grace H.",
               "locale": "pt-BR", "plan": "free"})
    );
    problem(
        h.get("/profile", None).await,
        StatusCode::UNAUTHORIZED,
        "not_authenticated",
    )
    .await;

    // The member edits their own fields, never the plan.
    let edit = |body: Value| {
        h.http
            .patch(h.server.url("/auth/me"))
            .bearer_auth(&access)
            .json(&body)
            .send()
    };
    let edited: Value = edit(json!({"locale": "de"}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (&edited["locale"], &edited["plan"]),
        (&json!("de"), &json!("free"))
    );
    let refused = problem(
        edit(json!({"plan": "pro"})).await.unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(
        refused["errors"],
        json!([{"field": "plan", "message": "cannot be changed here"}])
    );
}

async fn logout_everywhere_and_deactivation_kill_tokens(h: &Harness) {
    let user = h.register("everywhere").await;
    let one = token(&h.login("everywhere").await, "access_token");
    let two = h.login("everywhere").await;
    let id = auth_axum::core::UserId(user["id"].as_str().unwrap().to_owned());
    h.module.service().logout_all(&id).await.unwrap();
    problem(
        h.get("/auth/me", Some(&one)).await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    )
    .await;
    problem(
        h.post(
            "/auth/refresh",
            &json!({"refresh_token": token(&two, "refresh_token")}),
            None,
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    )
    .await;
    // A login after the cut-off works, even within the same second.
    let fresh = token(&h.login("everywhere").await, "access_token");
    assert_eq!(
        h.get("/auth/me", Some(&fresh)).await.status(),
        StatusCode::OK
    );

    // Deactivation by an admin ends every credential at once: the bearer guards of ordinary
    // routes (which load no user) refuse the token, the refresh token and the cookie die,
    // and logins are refused.
    let cookie = h
        .post(
            "/auth/login",
            &json!({"username": "everywhere", "password": PASSWORD, "cookie": true}),
            None,
        )
        .await;
    assert_eq!(cookie.status(), StatusCode::OK);
    let cookie = cookie
        .headers()
        .get_all("set-cookie")
        .iter()
        .find_map(|v| v.to_str().unwrap().strip_prefix("__Host-session="))
        .and_then(|rest| rest.split(';').next())
        .unwrap()
        .to_owned();
    let with_cookie = || {
        h.http
            .get(h.server.url("/articles"))
            .header("cookie", format!("__Host-session={cookie}"))
            .send()
    };
    assert_eq!(with_cookie().await.unwrap().status(), StatusCode::OK);
    let refreshable = h.login("everywhere").await;
    assert_eq!(
        h.get("/articles", Some(&fresh)).await.status(),
        StatusCode::OK
    );
    let deactivate = format!("/admin/users/{}/deactivate", id.as_str());
    let admin = h.register("deactivator").await;
    let admin_id = auth_axum::core::UserId(admin["id"].as_str().unwrap().to_owned());
    h.module
        .service()
        .assign_role(&admin_id, "admin")
        .await
        .unwrap();
    let admin_token = token(&h.login("deactivator").await, "access_token");
    problem(
        h.post(&deactivate, &json!({}), Some(&fresh)).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    assert_eq!(
        h.post(&deactivate, &json!({}), Some(&admin_token))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    problem(
        h.get("/articles", Some(&fresh)).await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    )
    .await;
    problem(
        h.get("/auth/me", Some(&fresh)).await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    )
    .await;
    assert_eq!(
        with_cookie().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    problem(
        h.post(
            "/auth/refresh",
            &json!({"refresh_token": token(&refreshable, "refresh_token")}),
            None,
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    )
    .await;
    let login = h
        .post(
            "/auth/login",
            &json!({"username": "everywhere", "password": PASSWORD}),
            None,
        )
        .await;
    problem(login, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    let unknown = problem(
        h.post(
            "/admin/users/no-such-user/deactivate",
            &json!({}),
            Some(&admin_token),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_eq!(unknown["detail"], "no such user");

    // Reactivated, the account logs in again; the ended credentials stay ended.
    let reactivate = format!("/admin/users/{}/reactivate", id.as_str());
    assert_eq!(
        h.post(&reactivate, &json!({}), Some(&admin_token))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    problem(
        h.get("/articles", Some(&fresh)).await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    )
    .await;
    let again = token(&h.login("everywhere").await, "access_token");
    assert_eq!(
        h.get("/articles", Some(&again)).await.status(),
        StatusCode::OK
    );
}

async fn health_and_readiness(h: &Harness) {
    let health: Value = h.get("/health", None).await.json().await.unwrap();
    assert_eq!(health["status"], "ok");
    let ready = h.get("/ready", None).await;
    assert_eq!(ready.status(), StatusCode::OK);

    // An unknown path and a wrong method answer in the one problem shape too.
    let body = problem(
        h.get("/no/such/route?secret=1", None).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_eq!(body["detail"], "no route for `/no/such/route`");
    let wrong = h.send(h.http.delete(h.server.url("/auth/me")), None).await;
    assert_eq!(wrong.headers()["allow"], "GET,HEAD,PATCH");
    let body = problem(wrong, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await;
    assert_eq!(body["detail"], "`DELETE` is not allowed on `/auth/me`");
}

async fn service_permissions_over_http(h: &Harness) {
    h.register("svcadmin").await;
    h.register("svcuser").await;
    let service = h.module.service();
    let admin = service
        .users()
        .get_by_username("svcadmin")
        .await
        .unwrap()
        .unwrap();
    let member = service
        .users()
        .get_by_username("svcuser")
        .await
        .unwrap()
        .unwrap();
    let plain = token(&h.login("svcuser").await, "access_token");
    let schema = json!([
        {"name": "reports.limit", "label": "Report limit", "type": "integer", "default": 10},
        {"name": "region", "type": "string", "allowed_values": ["eu", "us"]}
    ]);
    let schema_url = "/services/billing/permissions";
    problem(
        h.put(schema_url, &schema, &plain).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    service.assign_role(&admin.id, "admin").await.unwrap();
    let admin_token = token(&h.login("svcadmin").await, "access_token");
    let report: Value = h
        .put(schema_url, &schema, &admin_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        report,
        json!({"created": ["region", "reports.limit"], "updated": [], "deleted": []})
    );
    let listed: Value = h
        .get("/services/billing/permissions", Some(&plain))
        .await
        .json()
        .await
        .unwrap();
    // apexauthlib's shape: an envelope, the name as id, a default always present.
    let permissions = &listed["data"]["permissions"];
    assert_eq!(permissions[1]["label"], "Report limit");
    assert_eq!(permissions[1]["id"], "reports.limit");
    assert_eq!(permissions[0]["values"], json!(["eu", "us"]));
    assert_eq!(permissions[0]["default"], "");

    let values_url = format!("/services/billing/users/{}/permissions", member.id);
    problem(
        h.put(&values_url, &json!({"region": "eu"}), &plain).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let bad = h
        .put(
            &values_url,
            &json!({"region": "mars", "reports.limit": "lots"}),
            &admin_token,
        )
        .await;
    let body = problem(bad, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(body["errors"].as_array().unwrap().len(), 2);
    let effective: Value = h
        .put(&values_url, &json!({"region": "us"}), &admin_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(effective, json!({"region": "us", "reports.limit": 10}));
    // A service admin (without the admin role) may manage the service's values too.
    service
        .service_permissions()
        .add_admin("billing", member.id.as_str())
        .await
        .unwrap();
    let own: Value = h
        .put(&values_url, &json!({"reports.limit": 25}), &plain)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(own, json!({"region": "us", "reports.limit": 25}));
}

async fn delete(self_: &Harness, path: &str, token: &str) -> Response {
    self_
        .send(self_.http.delete(self_.server.url(path)), Some(token))
        .await
}

/// Tenant roles through the example routes: admin of `acme` only, on the policies in this
/// database.
async fn tenant_roles_over_http(h: &Harness) {
    h.register("boss").await;
    h.register("tenant-admin").await;
    let service = h.module.service();
    let boss = service
        .users()
        .get_by_username("boss")
        .await
        .unwrap()
        .unwrap();
    service.assign_role(&boss.id, "admin").await.unwrap();
    let mut member = service
        .users()
        .get_by_username("tenant-admin")
        .await
        .unwrap()
        .unwrap();
    member.tenant = Some("acme".to_owned());
    service.users().update(&member).await.unwrap();
    let boss_token = token(&h.login("boss").await, "access_token");
    let member_token = token(&h.login("tenant-admin").await, "access_token");

    let body = problem(
        h.get("/tenant/settings", Some(&member_token)).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    assert_eq!(
        body["detail"],
        "requires any of the roles `admin` in the request's tenant"
    );
    let grant = format!("/tenants/acme/users/{}/roles/admin", member.id);
    // Only admins grant tenant roles; a tenant role is not the global one.
    problem(
        h.put(&grant, &json!({}), &member_token).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let elsewhere = format!("/tenants/globex/users/{}/roles/admin", member.id);
    assert_eq!(
        h.put(&elsewhere, &json!({}), &boss_token).await.status(),
        StatusCode::NO_CONTENT
    );
    problem(
        h.get("/tenant/settings", Some(&member_token)).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    assert_eq!(
        h.put(&grant, &json!({}), &boss_token).await.status(),
        StatusCode::NO_CONTENT
    );
    let settings = h.get("/tenant/settings", Some(&member_token)).await;
    assert_eq!(settings.status(), StatusCode::OK);
    assert_eq!(
        settings.json::<Value>().await.unwrap(),
        json!({"tenant": "acme"})
    );
    assert_eq!(
        delete(h, &grant, &boss_token).await.status(),
        StatusCode::NO_CONTENT
    );
    let body = problem(
        delete(h, &grant, &boss_token).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_eq!(
        body["detail"],
        format!("`{}` holds no role `admin` in tenant `acme`", member.id)
    );
    problem(
        h.get("/tenant/settings", Some(&member_token)).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    // The globex grant is untouched.
    let engine = h.module.policy_engine().unwrap();
    assert_eq!(
        engine.roles_in_domain(member.id.as_str(), "globex").await,
        vec!["admin"]
    );
}

async fn login_from(h: &Harness, username: &str, device: &str) -> Value {
    let response = h
        .send(
            h.http
                .post(h.server.url("/auth/login"))
                .header("user-agent", format!("agent-{device}"))
                .json(&json!({"username": username, "password": PASSWORD, "device_name": device})),
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

async fn assert_revoked(h: &Harness, tokens: &Value) {
    let body = problem(
        h.get("/auth/me", Some(&token(tokens, "access_token")))
            .await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    )
    .await;
    assert_eq!(body["detail"], "token has been revoked");
    problem(
        h.post(
            "/auth/refresh",
            &json!({"refresh_token": token(tokens, "refresh_token")}),
            None,
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    )
    .await;
}

/// `GET /auth/sessions`, `DELETE /auth/sessions/{id}`, `DELETE /auth/sessions`.
async fn sessions_over_http(h: &Harness) {
    h.register("sam").await;
    h.register("sid").await;
    let laptop = login_from(h, "sam", "laptop").await;
    let phone = login_from(h, "sam", "phone").await;
    let laptop_access = token(&laptop, "access_token");
    problem(
        h.get("/auth/sessions", None).await,
        StatusCode::UNAUTHORIZED,
        "not_authenticated",
    )
    .await;

    let listed: Value = h
        .get("/auth/sessions", Some(&laptop_access))
        .await
        .json()
        .await
        .unwrap();
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 2);
    let find = |id: &Value| {
        listed
            .iter()
            .find(|s| &s["id"] == id)
            .unwrap_or_else(|| panic!("session {id} listed"))
            .clone()
    };
    let mine = find(&laptop["session_id"]);
    assert_eq!(mine["current"], true);
    assert_eq!(mine["device"]["name"], "laptop");
    assert_eq!(mine["device"]["user_agent"], "agent-laptop");
    assert!(mine["created_at"].as_i64().unwrap() <= mine["last_seen"].as_i64().unwrap());
    assert!(mine["expires_at"].as_i64().unwrap() > mine["last_seen"].as_i64().unwrap());
    assert_eq!(find(&phone["session_id"])["current"], false);

    // Someone else cannot end sam's session: it is simply not theirs.
    let sid = token(&h.login("sid").await, "access_token");
    let phone_url = format!("/auth/sessions/{}", phone["session_id"].as_str().unwrap());
    let body = problem(
        delete(h, &phone_url, &sid).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_eq!(body["detail"], "no such session of yours");
    assert_eq!(
        h.get("/auth/me", Some(&token(&phone, "access_token")))
            .await
            .status(),
        StatusCode::OK
    );

    // Ending the phone's session from the laptop logs the phone out, tokens and all.
    assert_eq!(
        delete(h, &phone_url, &laptop_access).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_revoked(h, &phone).await;
    problem(
        delete(h, &phone_url, &laptop_access).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;

    // "Log out every other device".
    let tablet = login_from(h, "sam", "tablet").await;
    let desktop = login_from(h, "sam", "desktop").await;
    let revoked: Value = delete(h, "/auth/sessions", &laptop_access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(revoked, json!({"revoked": 2}));
    assert_revoked(h, &tablet).await;
    assert_revoked(h, &desktop).await;
    assert_eq!(
        h.get("/auth/me", Some(&laptop_access)).await.status(),
        StatusCode::OK
    );
    let listed: Value = h
        .get("/auth/sessions", Some(&laptop_access))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    // Refreshing keeps the session (same id, still current).
    let refreshed: Value = h
        .post(
            "/auth/refresh",
            &json!({"refresh_token": token(&laptop, "refresh_token")}),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(refreshed["session_id"], laptop["session_id"]);
}

async fn all_flows(h: &Harness) {
    sessions_over_http(h).await;
    tenant_roles_over_http(h).await;
    service_permissions_over_http(h).await;
    health_and_readiness(h).await;
    register_login_me_refresh_logout(h).await;
    refresh_reuse_revokes_the_family(h).await;
    concurrent_refreshes_get_the_same_successor(h).await;
    wrong_password_and_unknown_user_look_the_same(h).await;
    bad_input_gets_precise_problems(h).await;
    example_resources_check_roles_and_permissions(h).await;
    logout_everywhere_and_deactivation_kill_tokens(h).await;
    the_example_member_model(h).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flows_on_sqlite() {
    let h = Harness::start(None).await;
    all_flows(&h).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flows_on_postgres() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    let h = Harness::start(Some(db.url.clone())).await;
    all_flows(&h).await;
    drop(h);
    db.drop_database().await;
}

/// The access-control matrix is derived from the routing, so every row is served: a request
/// to each (without credentials, parameters filled in) reaches its route, never the 404 of an
/// unknown path or a 405.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_in_the_matrix_is_served() {
    let h = Harness::start(None).await;
    let state = auth_service::state(h.module.clone()).unwrap();
    let rows = auth_service::routes(&state).routes().to_vec();
    for path in [
        "/auth/sessions",
        "/auth/sessions/{id}",
        "/auth/me",
        "/health",
    ] {
        assert!(
            rows.iter().any(|r| r.path == path),
            "{path} is in the matrix"
        );
    }
    for row in rows {
        let path = row
            .path
            .split('/')
            .map(|part| if part.starts_with('{') { "x" } else { part })
            .collect::<Vec<_>>()
            .join("/");
        let response = h
            .send(
                h.http.request(row.method.clone(), h.server.url(&path)),
                None,
            )
            .await;
        let status = response.status();
        let body = response.text().await.unwrap();
        assert_ne!(
            status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{} {path}",
            row.method
        );
        assert!(
            !body.contains("no route for"),
            "{} {path}: {body}",
            row.method
        );
    }
}

#[tokio::test]
async fn outdated_hash_is_upgraded_at_login() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(dir.path());
    let config = test_config(&url, dir.path());
    let module = AuthModule::configure(config.clone()).await.unwrap();
    module
        .service()
        .register(RegisterRequest::new(
            "upgrade",
            "upgrade@example.com",
            PASSWORD,
        ))
        .await
        .unwrap();
    let before = module
        .service()
        .users()
        .get_by_username("upgrade")
        .await
        .unwrap()
        .unwrap()
        .password_hash
        .unwrap();
    assert!(before.contains("m=1024,t=1,p=1"), "{before}");

    let mut stronger = config;
    stronger.password.iterations = 2;
    let module = AuthModule::configure(stronger).await.unwrap();
    module
        .service()
        .login(auth_axum::core::service::LoginRequest::new(
            "upgrade", PASSWORD,
        ))
        .await
        .unwrap();
    let after = module
        .service()
        .users()
        .get_by_username("upgrade")
        .await
        .unwrap()
        .unwrap()
        .password_hash
        .unwrap();
    assert!(after.contains("m=1024,t=2,p=1"), "{after}");
}

#[tokio::test]
async fn introspection_and_authenticate_request() {
    let h = Harness::start(None).await;
    h.register("intro").await;
    let access = token(&h.login("intro").await, "access_token");
    let service = h.module.service();
    let active = service.introspect(&access).await;
    assert!(active.active);
    assert_eq!(active.user.unwrap().username, "intro");
    let inactive = service.introspect("garbage").await;
    assert!(!inactive.active && inactive.user.is_none());

    let public = |_: &str, path: &str| path == "/public";
    assert!(service
        .authenticate_request(public, "GET", "/public", None)
        .await
        .unwrap()
        .is_none());
    let err = service
        .authenticate_request(public, "GET", "/private", None)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "not_authenticated");
    let user = service
        .authenticate_request(public, "GET", "/private", Some(&access))
        .await
        .unwrap();
    assert_eq!(user.unwrap().username, "intro");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_outage_answers_503_and_never_passes() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    let h = Harness::start(Some(db.url.clone())).await;
    h.register("outage").await;
    let tokens = h.login("outage").await;
    let access = token(&tokens, "access_token");
    assert_eq!(
        h.get("/auth/me", Some(&access)).await.status(),
        StatusCode::OK
    );

    // The database goes away under the running service (connections are terminated).
    db.drop_database().await;
    problem(
        h.get("/auth/me", Some(&access)).await,
        StatusCode::SERVICE_UNAVAILABLE,
        "service_unavailable",
    )
    .await;
    let guarded = h.get("/articles", Some(&access)).await;
    assert_eq!(guarded.headers()["retry-after"], "1");
    problem(
        guarded,
        StatusCode::SERVICE_UNAVAILABLE,
        "service_unavailable",
    )
    .await;
    problem(
        h.get("/ready", None).await,
        StatusCode::SERVICE_UNAVAILABLE,
        "service_unavailable",
    )
    .await;
    let login = h
        .post(
            "/auth/login",
            &json!({"username": "outage", "password": PASSWORD}),
            None,
        )
        .await;
    problem(
        login,
        StatusCode::SERVICE_UNAVAILABLE,
        "service_unavailable",
    )
    .await;
    // Liveness does not depend on the database.
    assert_eq!(h.get("/health", None).await.status(), StatusCode::OK);
}
