//! Cookie authentication for browser apps, over real HTTP: an HttpOnly `__Host-` session
//! cookie, CSRF checks (Origin/Referer and a token) on state-changing requests, bearer tokens
//! and cookies on the same routes, fixation and revocation.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use auth_axum::core::session::cookie::csrf_token;
use auth_axum::{require_auth, Auth, AuthModule, Authenticated};
use axum::routing::get;
use axum::Router;
use reqwest::{Client, Method, Response, StatusCode};
use serde_json::{json, Value};
use tests::{sqlite_url, test_config, TestServer};

const PASSWORD: &str = "correct horse battery";

/// Which credential a cookie-only guard, [`Authenticated`] and [`Auth`] each saw.
#[require_auth(any(cookie))]
async fn cookie_only(auth: Authenticated, Auth(principal): Auth) -> String {
    format!(
        "{} {} {}",
        auth.credential.as_str(),
        principal.credential.as_str(),
        auth.claims.sub
    )
}

/// The credential of the request, if it has one.
async fn maybe(auth: Option<Authenticated>) -> String {
    auth.map_or("anonymous", |auth| auth.credential.as_str())
        .to_owned()
}

fn credential_routes(module: AuthModule) -> Router {
    Router::new()
        .route("/credential/cookie-only", get(cookie_only))
        .route("/credential/maybe", get(maybe))
        .with_state(module)
}

struct Browser {
    server: TestServer,
    module: AuthModule,
    http: Client,
    _dir: tempfile::TempDir,
}

/// What a cookie login hands the browser.
struct CookieLogin {
    secret: String,
    csrf: String,
    body: Value,
    set_cookies: Vec<String>,
}

impl Browser {
    async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let config = test_config(&sqlite_url(dir.path()), dir.path());
        let module = AuthModule::configure(config).await.unwrap();
        let app = auth_service::app(module.clone())
            .unwrap()
            .merge(credential_routes(module.clone()));
        let server = TestServer::spawn(app).await;
        let http = Client::new();
        let body = json!({"username": "ada", "email": "ada@example.com", "password": PASSWORD});
        let response = http
            .post(server.url("/auth/register"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        Self {
            server,
            module,
            http,
            _dir: dir,
        }
    }

    fn origin(&self) -> String {
        self.server.url("")
    }

    async fn login_with_cookie(&self, planted: Option<&str>) -> CookieLogin {
        let mut request = self
            .http
            .post(self.server.url("/auth/login"))
            .json(&json!({"username": "ada", "password": PASSWORD, "cookie": true}));
        if let Some(planted) = planted {
            request = request.header("cookie", format!("__Host-session={planted}"));
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["cache-control"], "no-store");
        let set_cookies: Vec<String> = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect();
        let body: Value = response.json().await.unwrap();
        let value = |name: &str| {
            set_cookies
                .iter()
                .find_map(|c| c.strip_prefix(&format!("{name}=")))
                .and_then(|rest| rest.split(';').next())
                .unwrap()
                .to_owned()
        };
        CookieLogin {
            secret: value("__Host-session"),
            csrf: value("__Host-csrf"),
            body,
            set_cookies,
        }
    }

    async fn bearer(&self) -> Value {
        let response = self
            .http
            .post(self.server.url("/auth/login"))
            .json(&json!({"username": "ada", "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        response.json().await.unwrap()
    }

    /// A request with the session cookie, and optionally Origin and X-CSRF-Token.
    async fn send(
        &self,
        method: Method,
        path: &str,
        secret: &str,
        origin: Option<&str>,
        csrf: Option<&str>,
        body: Option<Value>,
    ) -> Response {
        let mut request = self
            .http
            .request(method, self.server.url(path))
            .header("cookie", format!("theme=dark; __Host-session={secret}"));
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        if let Some(csrf) = csrf {
            request = request.header("x-csrf-token", csrf);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.unwrap()
    }
}

/// The principal of a session cookie's claims, as the extractors build it.
fn cookie_principal(claims: &auth_axum::core::token::Claims) -> auth_axum::core::Principal {
    auth_axum::core::Principal::from_claims(claims)
        .with_credential(auth_axum::core::principal::CredentialKind::Cookie)
}

async fn problem(response: Response, status: StatusCode, code: &str, detail: &str) {
    assert_eq!(response.status(), status);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["detail"], detail, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cookie_login_sets_a_host_only_httponly_cookie_and_no_tokens() {
    let b = Browser::start().await;
    let login = b.login_with_cookie(None).await;
    assert!(login.body.get("access_token").is_none() && login.body.get("refresh_token").is_none());
    assert_eq!(login.body["user"]["username"], "ada");
    assert_eq!(login.body["csrf_token"], login.csrf.as_str());
    assert_eq!(login.csrf, csrf_token(&login.secret));
    let max_age = login.body["expires_in"].as_i64().unwrap();
    assert_eq!(
        login.set_cookies,
        [
            format!(
                "__Host-session={}; Path=/; Max-Age={max_age}; SameSite=Lax; HttpOnly; Secure",
                login.secret
            ),
            format!(
                "__Host-csrf={}; Path=/; Max-Age={max_age}; SameSite=Lax; Secure",
                login.csrf
            ),
        ]
    );
    // The session is listed, and it is the current one when asked by cookie.
    let sessions: Value = b
        .send(
            Method::GET,
            "/auth/sessions",
            &login.secret,
            None,
            None,
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(sessions[0]["id"], login.body["session_id"]);
    assert_eq!(sessions[0]["current"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cookies_and_bearer_tokens_work_on_the_same_routes() {
    let b = Browser::start().await;
    let login = b.login_with_cookie(None).await;
    let me = b
        .send(Method::GET, "/auth/me", &login.secret, None, None, None)
        .await;
    assert_eq!(me.status(), StatusCode::OK);
    assert_eq!(me.json::<Value>().await.unwrap()["username"], "ada");
    assert_eq!(
        b.send(Method::GET, "/articles", &login.secret, None, None, None)
            .await
            .status(),
        StatusCode::OK
    );
    // Bearer tokens on the same guarded routes, and no CSRF checks for them.
    let tokens = b.bearer().await;
    let access = tokens["access_token"].as_str().unwrap();
    let created = b
        .http
        .post(b.server.url("/articles"))
        .bearer_auth(access)
        .json(&json!({"title": "by bearer"}))
        .send()
        .await
        .unwrap();
    // Refused by the permission guard, not by CSRF checks: those are for cookies only.
    problem(
        created,
        StatusCode::FORBIDDEN,
        "forbidden",
        "requires permission `articles.write`",
    )
    .await;
    let me = b
        .http
        .get(b.server.url("/auth/me"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    // No credentials at all, and a cookie nobody issued.
    let anonymous = b.http.get(b.server.url("/auth/me")).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    problem(
        b.send(
            Method::GET,
            "/auth/me",
            "forged-cookie-value",
            None,
            None,
            None,
        )
        .await,
        StatusCode::UNAUTHORIZED,
        "invalid_session",
        "the session cookie is unknown, expired or revoked; log in again",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extractors_and_guards_see_which_credential_the_request_used() {
    let b = Browser::start().await;
    let login = b.login_with_cookie(None).await;
    let user_id = login.body["user"]["id"].as_str().unwrap().to_owned();
    let by_cookie = b
        .send(
            Method::GET,
            "/credential/cookie-only",
            &login.secret,
            None,
            None,
            None,
        )
        .await;
    assert_eq!(by_cookie.status(), StatusCode::OK);
    assert_eq!(
        by_cookie.text().await.unwrap(),
        format!("cookie cookie {user_id}")
    );
    let by_cookie = b
        .send(
            Method::GET,
            "/credential/maybe",
            &login.secret,
            None,
            None,
            None,
        )
        .await;
    assert_eq!(by_cookie.text().await.unwrap(), "cookie");

    let tokens = b.bearer().await;
    let access = tokens["access_token"].as_str().unwrap();
    let get = |path: &str| b.http.get(b.server.url(path));
    let bearer = |path: &str, token: &str| get(path).bearer_auth(token).send();
    problem(
        bearer("/credential/cookie-only", access).await.unwrap(),
        StatusCode::FORBIDDEN,
        "forbidden",
        "requires authentication with any of `cookie`",
    )
    .await;
    let maybe = bearer("/credential/maybe", access).await.unwrap();
    assert_eq!(maybe.text().await.unwrap(), "bearer");
    // An explicit bearer token wins over the ambient cookie.
    let both = get("/credential/maybe")
        .bearer_auth(access)
        .header("cookie", format!("__Host-session={}", login.secret))
        .send()
        .await
        .unwrap();
    assert_eq!(both.text().await.unwrap(), "bearer");

    // Without credentials the optional extractor gives none and the guard refuses; a bad
    // credential is refused by both.
    let anonymous = get("/credential/maybe").send().await.unwrap();
    assert_eq!(anonymous.text().await.unwrap(), "anonymous");
    problem(
        get("/credential/cookie-only").send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
        "not_authenticated",
        "send `Authorization: Bearer <access token>`",
    )
    .await;
    for path in ["/credential/maybe", "/credential/cookie-only"] {
        let forged = bearer(path, "not.a.token").await.unwrap();
        assert_eq!(forged.status(), StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(
            forged.json::<Value>().await.unwrap()["code"],
            "invalid_token",
            "{path}"
        );
    }
}

async fn logout(b: &Browser, secret: &str, origin: Option<&str>, csrf: Option<&str>) -> Response {
    b.send(Method::POST, "/auth/logout", secret, origin, csrf, None)
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_changing_cookie_requests_need_same_origin_and_the_csrf_token() {
    let b = Browser::start().await;
    let login = b.login_with_cookie(None).await;
    let origin = b.origin();

    problem(
        logout(&b, &login.secret, None, Some(&login.csrf)).await,
        StatusCode::FORBIDDEN,
        "csrf_failed",
        "a state-changing request with the session cookie must carry Origin or Referer",
    )
    .await;
    problem(
        logout(
            &b,
            &login.secret,
            Some("https://evil.example"),
            Some(&login.csrf),
        )
        .await,
        StatusCode::FORBIDDEN,
        "csrf_failed",
        "the request comes from another site",
    )
    .await;
    problem(
        logout(&b, &login.secret, Some(&origin), None).await,
        StatusCode::FORBIDDEN,
        "csrf_failed",
        "send the CSRF token in the X-CSRF-Token header",
    )
    .await;
    problem(
        logout(
            &b,
            &login.secret,
            Some(&origin),
            Some(&csrf_token("another session")),
        )
        .await,
        StatusCode::FORBIDDEN,
        "csrf_failed",
        "the CSRF token does not match the session",
    )
    .await;
    // Still logged in after all the refusals; a Referer does when there is no Origin.
    assert_eq!(
        b.send(Method::GET, "/auth/me", &login.secret, None, None, None)
            .await
            .status(),
        StatusCode::OK
    );
    let referer = b
        .http
        .post(b.server.url("/auth/logout"))
        .header("cookie", format!("__Host-session={}", login.secret))
        .header("referer", format!("{origin}/account"))
        .header("x-csrf-token", &login.csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(referer.status(), StatusCode::OK);
    let cleared: Vec<String> = referer
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        cleared,
        [
            "__Host-session=; Path=/; Max-Age=0; SameSite=Lax; HttpOnly; Secure",
            "__Host-csrf=; Path=/; Max-Age=0; SameSite=Lax; HttpOnly; Secure",
        ]
    );
    problem(
        b.send(Method::GET, "/auth/me", &login.secret, None, None, None)
            .await,
        StatusCode::UNAUTHORIZED,
        "invalid_session",
        "the session cookie is unknown, expired or revoked; log in again",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fixation_rotation_and_revocation() {
    let b = Browser::start().await;
    // A cookie planted before login is never upgraded: login issues a new one.
    let planted = "attacker-chosen-value";
    let login = b.login_with_cookie(Some(planted)).await;
    assert_ne!(login.secret, planted);
    problem(
        b.send(Method::GET, "/auth/me", planted, None, None, None)
            .await,
        StatusCode::UNAUTHORIZED,
        "invalid_session",
        "the session cookie is unknown, expired or revoked; log in again",
    )
    .await;

    // A privilege change rotates the cookie: the old one stops working at once.
    let principal = b
        .module
        .service()
        .verify_cookie(&login.secret)
        .await
        .map(|claims| cookie_principal(&claims))
        .unwrap();
    let rotated = b.module.service().rotate_cookie(&principal).await.unwrap();
    assert_eq!(
        rotated.session_id,
        login.body["session_id"].as_str().unwrap()
    );
    use secrecy::ExposeSecret;
    let new_secret = rotated.secret.expose_secret().to_owned();
    assert_eq!(
        b.send(Method::GET, "/auth/me", &new_secret, None, None, None)
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        b.send(Method::GET, "/auth/me", &login.secret, None, None, None)
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );

    // Revoked from another device (bearer): the cookie fails on its next request, even
    // though it was verified a moment ago.
    let tokens = b.bearer().await;
    let revoke = b
        .http
        .delete(b.server.url(&format!(
            "/auth/sessions/{}",
            login.body["session_id"].as_str().unwrap()
        )))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), StatusCode::NO_CONTENT);
    problem(
        b.send(Method::GET, "/auth/me", &new_secret, None, None, None)
            .await,
        StatusCode::UNAUTHORIZED,
        "invalid_session",
        "the session cookie is unknown, expired or revoked; log in again",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_cookie_is_refused_by_instances_that_cached_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = test_config(&sqlite_url(dir.path()), dir.path());
    let a = AuthModule::configure(config.clone()).await.unwrap();
    let b = AuthModule::configure(config).await.unwrap();
    a.service()
        .register(auth_axum::core::service::RegisterRequest::new(
            "ada",
            "ada@example.com",
            PASSWORD,
        ))
        .await
        .unwrap();
    let login = a
        .service()
        .login_with_cookie(auth_axum::core::service::LoginRequest::new("ada", PASSWORD))
        .await
        .unwrap();
    use secrecy::ExposeSecret;
    let old = login.secret.expose_secret().to_owned();
    // B verifies the cookie and caches it; A rotates it.
    let claims = b.service().verify_cookie(&old).await.unwrap();
    a.service()
        .rotate_cookie(&cookie_principal(&claims))
        .await
        .unwrap();
    assert!(
        matches!(
            b.service().verify_cookie(&old).await,
            Err(auth_axum::core::AuthError::InvalidSession)
        ),
        "the old cookie is refused on B at once, cache or not"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_a_cookie_session_of_an_active_user_is_rotated() {
    use auth_axum::core::principal::CredentialKind;
    use auth_axum::core::AuthError;
    let b = Browser::start().await;
    let service = b.module.service();

    // A stolen access token names its session, but must not become a long-lived cookie:
    // neither as the bearer principal it is, nor relabelled as a cookie one.
    let tokens = b.bearer().await;
    let bearer = service
        .authenticate(tokens["access_token"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(bearer.credential, CredentialKind::Bearer);
    assert!(matches!(
        service.rotate_cookie(&bearer).await,
        Err(AuthError::InvalidSession)
    ));
    assert!(matches!(
        service
            .rotate_cookie(&bearer.with_credential(CredentialKind::Cookie))
            .await,
        Err(AuthError::InvalidSession)
    ));

    // A cookie session of a user deactivated in the store (sessions still there) is not
    // rotated either.
    let login = b.login_with_cookie(None).await;
    let principal = cookie_principal(&service.verify_cookie(&login.secret).await.unwrap());
    let user = service
        .users()
        .get_by_username("ada")
        .await
        .unwrap()
        .unwrap();
    service.users().deactivate(&user.id).await.unwrap();
    assert!(matches!(
        service.rotate_cookie(&principal).await,
        Err(AuthError::InvalidSession)
    ));
    service.users().activate(&user.id).await.unwrap();
    assert!(service.rotate_cookie(&principal).await.is_ok());
}
