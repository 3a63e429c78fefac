//! A resource server (examples/resource-server) trusting the example auth service, both on
//! 127.0.0.1: the same guards pass and refuse the auth service's tokens whether checked by its
//! published keys (across a rotation, refetched for an unknown key id only after the
//! cooldown) or by introspection (which sees revocations); an issuer that cannot be reached is
//! 503 `auth_service_unavailable`, never a pass; and jwtlib's client surface (`RemoteAuth`).

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use auth_axum::core::config::{AuthConfig, JwtAlgorithm, RemoteConfig, RemoteMode};
use auth_axum::core::oauth::{GrantType, NewClient};
use auth_axum::core::remote::RemoteAuth;
use auth_axum::core::token::JwtKey;
use auth_axum::core::AuthError;
use auth_axum::AuthModule;
use reqwest::StatusCode;
use secrecy::SecretString;
use serde_json::{json, Value};
use tests::example::ExampleService;
use tests::provider::es256;
use tests::TestServer;

/// The example auth service with an ES256 key, its issuer its own address.
struct Issuer(ExampleService);

impl std::ops::Deref for Issuer {
    type Target = ExampleService;
    fn deref(&self) -> &ExampleService {
        &self.0
    }
}

impl Issuer {
    async fn start() -> Self {
        Self(ExampleService::start(es256).await)
    }

    /// Registers `name` (with `role` too, when given) and logs in: the token response.
    async fn user(&self, name: &str, role: Option<&str>) -> Value {
        self.register(name, role).await;
        self.login(name).await
    }

    /// A client of `grants` and `scope`: its id and secret.
    async fn client(&self, grants: Vec<GrantType>, scope: &str) -> (String, String) {
        let registered = self
            .module
            .service()
            .register_client(&NewClient::new("Service", grants, scope), None)
            .await
            .unwrap();
        (
            registered.client.client_id.clone(),
            registered.client_secret.clone().unwrap(),
        )
    }

    /// A `client_credentials` token of the client `(id, secret)` for `scope`.
    async fn client_token(&self, (id, secret): &(String, String), scope: &str) -> String {
        let response = self
            .http
            .post(self.server.url("/oauth/token"))
            .basic_auth(id, Some(secret))
            .form(&[("grant_type", "client_credentials"), ("scope", scope)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_owned()
    }
}

fn remote(issuer: &str, change: impl FnOnce(&mut RemoteConfig)) -> AuthConfig {
    let mut config = AuthConfig::default();
    config.remote.issuer = Some(issuer.to_owned());
    change(&mut config.remote);
    config
}

/// The example resource server trusting `issuer` as `change` says.
async fn resource_server(issuer: &str, change: impl FnOnce(&mut RemoteConfig)) -> TestServer {
    let module = AuthModule::configure(remote(issuer, change)).await.unwrap();
    TestServer::spawn(resource_server::app(module).unwrap()).await
}

/// The status of `method path` on `server` with `token` as bearer (none when empty), and
/// the body.
async fn call(server: &TestServer, method: &str, path: &str, token: &str) -> (StatusCode, Value) {
    let mut request = reqwest::Client::new().request(method.parse().unwrap(), server.url(path));
    if !token.is_empty() {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn token(body: &Value) -> String {
    body["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_issuers_tokens_pass_the_same_guards_and_its_new_keys_are_fetched_after_a_rotation() {
    let issuer = Issuer::start().await;
    let eager = resource_server(&issuer.url, |r| r.refresh_cooldown_seconds = 0).await;
    let patient = resource_server(&issuer.url, |r| r.refresh_cooldown_seconds = 3600).await;
    let ada = issuer.user("ada", None).await;
    let root = issuer.user("root", Some("admin")).await;
    let (ada, root) = (token(&ada), token(&root));

    let (status, me) = call(&eager, "GET", "/whoami", &ada).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["credential"], "bearer");
    assert_eq!(me["roles"], json!(["user"]));
    assert_eq!(
        call(&eager, "GET", "/reports", &ada).await.0,
        StatusCode::OK
    );
    let (status, body) = call(&eager, "DELETE", "/reports/1", &ada).await;
    assert_eq!(
        (status, &body["code"]),
        (StatusCode::FORBIDDEN, &json!("forbidden"))
    );
    assert_eq!(
        call(&eager, "DELETE", "/reports/1", &root).await.0,
        StatusCode::OK
    );
    assert_eq!(
        call(&patient, "GET", "/reports", &ada).await.0,
        StatusCode::OK
    );

    // Refused: no token, a malformed one, a refresh token, a token of this service's own
    // signing (not the issuer's), a tampered one.
    let (status, body) = call(&eager, "GET", "/reports", "").await;
    assert_eq!(
        (status, &body["code"]),
        (StatusCode::UNAUTHORIZED, &json!("not_authenticated"))
    );
    let refresh = issuer.login("ada").await["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (key, _) = JwtKey::generate(JwtAlgorithm::ES256).unwrap();
    let stranger = auth_axum::core::token::TokenManager::new(
        auth_axum::core::token::KeySet::new(key).unwrap(),
        &AuthConfig::default().jwt,
        std::sync::Arc::new(auth_axum::core::SystemClock),
    )
    .issue(&auth_axum::core::token::TokenSubject::access("ada").with_roles(["admin"]))
    .unwrap()
    .token;
    let mut tampered = ada.clone();
    tampered.pop();
    tampered.push(if ada.ends_with('A') { 'B' } else { 'A' });
    for bad in [
        "not.a.token",
        refresh.as_str(),
        stranger.as_str(),
        tampered.as_str(),
    ] {
        let (status, body) = call(&eager, "GET", "/reports", bad).await;
        assert_eq!(
            (status, &body["code"]),
            (StatusCode::UNAUTHORIZED, &json!("invalid_token")),
            "{bad}"
        );
    }

    // A service's own token: its scopes are its permissions.
    let reports = issuer
        .client(
            vec![GrantType::ClientCredentials],
            "reports.read billing.read",
        )
        .await;
    let (status, me) = call(
        &eager,
        "GET",
        "/whoami",
        &issuer.client_token(&reports, "reports.read").await,
    )
    .await;
    assert_eq!(
        (status, &me["credential"]),
        (StatusCode::OK, &json!("client_credentials"))
    );
    let reader = issuer.client_token(&reports, "reports.read").await;
    assert_eq!(
        call(&eager, "GET", "/reports", &reader).await.0,
        StatusCode::OK
    );
    let billing = issuer.client_token(&reports, "billing.read").await;
    assert_eq!(
        call(&eager, "GET", "/reports", &billing).await.0,
        StatusCode::FORBIDDEN
    );

    // The issuer rotates its key: old tokens stay good through the grace period, new ones
    // name a key the resource servers have not seen.
    let (next, _) = JwtKey::generate(JwtAlgorithm::ES256).unwrap();
    issuer.module.service().tokens().rotate(next).unwrap();
    let fresh = token(&issuer.login("ada").await);
    assert_eq!(
        call(&eager, "GET", "/reports", &ada).await.0,
        StatusCode::OK
    );
    assert_eq!(
        call(&eager, "GET", "/reports", &fresh).await.0,
        StatusCode::OK,
        "refetched"
    );
    let (status, _) = call(&patient, "GET", "/reports", &fresh).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "no refetch within the cooldown"
    );
}

#[tokio::test]
async fn introspection_sees_revocations_and_refresh_tokens_never_pass() {
    let issuer = Issuer::start().await;
    let (id, secret) = issuer.client(vec![GrantType::ClientCredentials], "").await;
    let with = |cache: u64, secret: String| {
        let id = id.clone();
        move |r: &mut RemoteConfig| {
            r.mode = RemoteMode::Introspection;
            r.client_id = Some(id);
            r.client_secret = Some(SecretString::from(secret));
            r.cache_seconds = cache;
        }
    };
    let server = resource_server(&issuer.url, with(0, secret.clone())).await;
    let tokens = issuer.user("ada", None).await;
    let ada = token(&tokens);
    let (status, me) = call(&server, "GET", "/whoami", &ada).await;
    assert_eq!((status, &me["roles"]), (StatusCode::OK, &json!(["user"])));
    assert_eq!(
        call(&server, "GET", "/reports", &ada).await.0,
        StatusCode::OK
    );
    let refresh = tokens["refresh_token"].as_str().unwrap();
    assert_eq!(
        call(&server, "GET", "/reports", refresh).await.0,
        StatusCode::UNAUTHORIZED
    );

    // Logged out at the issuer: refused here at once (no cache).
    let logout = issuer
        .http
        .post(issuer.server.url("/auth/logout"))
        .bearer_auth(&ada)
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), StatusCode::OK);
    let (status, body) = call(&server, "GET", "/reports", &ada).await;
    assert_eq!(
        (status, &body["code"]),
        (StatusCode::UNAUTHORIZED, &json!("invalid_token"))
    );

    // A resource server whose own credentials the issuer refuses lets nothing through.
    let refused = resource_server(&issuer.url, with(0, "cs_wrong".to_owned())).await;
    let other = token(&issuer.login("ada").await);
    let (status, body) = call(&refused, "GET", "/reports", &other).await;
    assert_eq!(
        (status, &body["code"]),
        (
            StatusCode::SERVICE_UNAVAILABLE,
            &json!("auth_service_unavailable")
        )
    );
}

#[tokio::test]
async fn an_unreachable_issuer_is_503_and_never_a_pass() {
    let issuer = Issuer::start().await;
    let ada = token(&issuer.user("ada", None).await);
    let (id, secret) = issuer.client(vec![GrantType::ClientCredentials], "").await;
    let url = issuer.url.clone();
    let jwt_config = remote(&url, |_| {});
    let reachable = RemoteAuth::from_config(&jwt_config.remote).unwrap();
    // jwtlib's surface while the issuer answers.
    let principal = reachable
        .authenticate_request(|_, _| false, "GET", "/reports", Some(&ada))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(principal.roles, ["user"]);
    assert!(reachable.introspect_token(&ada).await.active);
    assert!(matches!(
        reachable
            .authenticate_request(|_, _| false, "GET", "/reports", Some("junk"))
            .await,
        Err(AuthError::InvalidToken(_))
    ));
    drop(issuer);

    // Fresh resource servers, nothing cached: the issuer is needed and is down.
    let by_keys = resource_server(&url, |_| {}).await;
    let by_introspection = resource_server(&url, |r| {
        r.mode = RemoteMode::Introspection;
        r.client_id = Some(id);
        r.client_secret = Some(SecretString::from(secret));
    })
    .await;
    for server in [&by_keys, &by_introspection] {
        let response = reqwest::Client::new()
            .get(server.url("/reports"))
            .bearer_auth(&ada)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(response.headers().contains_key("retry-after"));
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], "auth_service_unavailable");
    }
    let down = RemoteAuth::from_config(&remote(&url, |_| {}).remote).unwrap();
    assert!(matches!(
        down.authenticate_request(
            |method, path| method == "GET" && path == "/health",
            "GET",
            "/health",
            None
        )
        .await,
        Ok(None)
    ));
    assert!(matches!(
        down.authenticate_request(|_, _| false, "GET", "/reports", None)
            .await,
        Err(AuthError::NotAuthenticated)
    ));
    assert!(matches!(
        down.authenticate_request(|_, _| false, "GET", "/reports", Some(&ada))
            .await,
        Err(AuthError::AuthServiceUnavailable(_))
    ));
    assert!(!down.introspect_token(&ada).await.active, "never raises");
    // The one that fetched the keys while the issuer was up still verifies by them.
    assert!(reachable.introspect_token(&ada).await.active);
}
