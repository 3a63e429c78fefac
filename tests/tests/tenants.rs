//! `#[require_tenant_roles]` over real HTTP: a user who is admin in tenant `acme` and viewer in
//! tenant `globex` passes admin routes only in `acme`, with the tenant taken from the token,
//! a header or a path parameter as configured; requests naming no tenant, or a tenant where
//! the user lacks the role, are refused before the handler runs.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use auth_axum::core::authz::engine::{PolicyEngine, TENANT_MODEL};
use auth_axum::core::config::TenantConfig;
use auth_axum::core::service::Stores;
use auth_axum::core::token::TokenSubject;
use auth_axum::core::AuthService;
use auth_axum::prelude::*;
use axum::extract::{FromRef, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use serde_json::Value;
use tests::{test_config, TestServer};

#[derive(Debug, Clone, Copy, Roles)]
enum Role {
    Viewer,
    #[role(inherits(Viewer))]
    Admin,
    Auditor,
}

#[derive(Clone)]
struct AppState {
    auth: AuthModule,
    ran: Arc<AtomicUsize>,
}

impl FromRef<AppState> for AuthModule {
    fn from_ref(state: &AppState) -> Self {
        state.auth.clone()
    }
}

#[require_tenant_roles(Role::Admin)]
async fn admin(State(state): State<AppState>) -> &'static str {
    state.ran.fetch_add(1, Ordering::SeqCst);
    "admin"
}

#[require_tenant_roles("viewer")]
async fn view(State(state): State<AppState>) -> &'static str {
    state.ran.fetch_add(1, Ordering::SeqCst);
    "view"
}

#[require_tenant_roles(all("admin", "auditor"))]
async fn audit(State(state): State<AppState>) -> &'static str {
    state.ran.fetch_add(1, Ordering::SeqCst);
    "audit"
}

/// Answers the tenant the guard checked.
#[require_tenant_roles(Role::Admin)]
async fn checked(RequestTenant(tenant): RequestTenant) -> String {
    tenant
}

/// Asks for a checked tenant without a tenant guard: a wiring mistake.
#[require_auth]
async fn unchecked(State(state): State<AppState>, RequestTenant(tenant): RequestTenant) -> String {
    state.ran.fetch_add(1, Ordering::SeqCst);
    tenant
}

struct Harness {
    server: TestServer,
    module: AuthModule,
    ran: Arc<AtomicUsize>,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
}

impl Harness {
    /// A server whose tenant comes from `tenant`; `engine` false leaves the policy engine out.
    async fn start(tenant: TenantConfig, engine: bool) -> Self {
        Self::configured(tenant, engine, |_| {}).await
    }

    /// [`start`](Self::start) with the configuration as `change` leaves it.
    async fn configured(
        tenant: TenantConfig,
        engine: bool,
        change: impl FnOnce(&mut auth_axum::core::AuthConfig),
    ) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut config = test_config("sqlite::memory:", dir.path());
        config.authz.tenant = tenant;
        change(&mut config);
        let service = AuthService::builder(config.clone())
            .with_stores(Stores::memory())
            .build()
            .unwrap();
        let mut module = AuthModule::new(service, config)
            .with_role_schema::<Role>()
            .unwrap();
        if engine {
            let policies = PolicyEngine::in_memory(TENANT_MODEL).await.unwrap();
            for rule in [
                ["user-1", "admin", "acme"],
                ["user-1", "viewer", "globex"],
                ["user-2", "admin", "acme"],
                ["user-2", "auditor", "acme"],
            ] {
                assert!(policies.add_grouping_policy(rule).await.unwrap());
            }
            module = module.with_policy_engine(Arc::new(policies));
        }
        let ran = Arc::new(AtomicUsize::new(0));
        let state = AppState {
            auth: module.clone(),
            ran: Arc::clone(&ran),
        };
        let router = Router::new()
            .route("/admin", get(admin))
            .route("/view", get(view))
            .route("/audit", get(audit))
            .route("/checked", get(checked))
            .route("/unchecked", get(unchecked))
            .route("/tenants/{tenant}/checked", get(checked))
            .route("/tenants/{tenant}/admin", get(admin))
            .route("/tenants/{tenant}/view", get(view))
            .with_state(state);
        Self {
            server: TestServer::spawn(router).await,
            module,
            ran,
            http: reqwest::Client::new(),
            _dir: dir,
        }
    }

    fn token(&self, user: &str, tenant: Option<&str>) -> String {
        let mut subject = TokenSubject::access(user);
        if let Some(tenant) = tenant {
            subject = subject.with_tenant(tenant);
        }
        self.module
            .service()
            .tokens()
            .issue(&subject)
            .unwrap()
            .token
    }

    async fn get(
        &self,
        path: &str,
        token: Option<&str>,
        header: Option<&str>,
    ) -> (StatusCode, String) {
        let mut request = self.http.get(self.server.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(tenant) = header {
            request = request.header("x-tenant-id", tenant);
        }
        let response = request.send().await.unwrap();
        (response.status(), response.text().await.unwrap())
    }

    /// Asserts a refusal with `status`, `code` and `detail`, and that no handler ran.
    async fn refused(
        &self,
        path: &str,
        token: Option<&str>,
        header: Option<&str>,
        status: StatusCode,
        code: &str,
        detail: &str,
    ) {
        let before = self.ran.load(Ordering::SeqCst);
        let (got, body) = self.get(path, token, header).await;
        assert_eq!(got, status, "{path}: {body}");
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["code"], code, "{body}");
        assert_eq!(body["detail"], detail, "{body}");
        assert_eq!(
            self.ran.load(Ordering::SeqCst),
            before,
            "{path}: handler ran"
        );
    }
}

const NO_TENANT: &str = "this route requires a tenant and the request names none";
const NOT_ADMIN: &str = "requires any of the roles `admin` in the request's tenant";

#[tokio::test]
async fn tenant_from_the_token() {
    let h = Harness::start(TenantConfig::token(), true).await;
    let acme = h.token("user-1", Some("acme"));
    let globex = h.token("user-1", Some("globex"));
    assert_eq!(
        h.get("/admin", Some(&acme), None).await,
        (StatusCode::OK, "admin".to_owned())
    );
    // `admin` inherits `viewer` in the role hierarchy.
    assert_eq!(h.get("/view", Some(&acme), None).await.0, StatusCode::OK);
    assert_eq!(h.get("/view", Some(&globex), None).await.0, StatusCode::OK);
    h.refused(
        "/admin",
        Some(&globex),
        None,
        StatusCode::FORBIDDEN,
        "forbidden",
        NOT_ADMIN,
    )
    .await;
    // A header naming another tenant is not where this server looks.
    h.refused(
        "/admin",
        Some(&globex),
        Some("acme"),
        StatusCode::FORBIDDEN,
        "forbidden",
        NOT_ADMIN,
    )
    .await;
    let untenanted = h.token("user-1", None);
    h.refused(
        "/admin",
        Some(&untenanted),
        None,
        StatusCode::FORBIDDEN,
        "forbidden",
        NO_TENANT,
    )
    .await;
    h.refused(
        "/admin",
        None,
        None,
        StatusCode::UNAUTHORIZED,
        "not_authenticated",
        "send `Authorization: Bearer <access token>`",
    )
    .await;
    // A user with no roles anywhere.
    let stranger = h.token("user-9", Some("acme"));
    h.refused(
        "/view",
        Some(&stranger),
        None,
        StatusCode::FORBIDDEN,
        "forbidden",
        "requires any of the roles `viewer` in the request's tenant",
    )
    .await;
    // `all(...)`: user-2 is admin and auditor in acme, user-1 only admin.
    assert_eq!(
        h.get("/audit", Some(&h.token("user-2", Some("acme"))), None)
            .await
            .0,
        StatusCode::OK
    );
    h.refused(
        "/audit",
        Some(&acme),
        None,
        StatusCode::FORBIDDEN,
        "forbidden",
        "requires all of the roles `admin`, `auditor` in the request's tenant",
    )
    .await;
    assert_eq!(h.ran.load(Ordering::SeqCst), 4);
}

#[tokio::test]
async fn tenant_from_a_header() {
    let h = Harness::start(TenantConfig::header("x-tenant-id"), true).await;
    // The token's tenant does not matter here: the header names the tenant.
    let token = h.token("user-1", Some("globex"));
    assert_eq!(
        h.get("/admin", Some(&token), Some("acme")).await.0,
        StatusCode::OK
    );
    h.refused(
        "/admin",
        Some(&token),
        Some("globex"),
        StatusCode::FORBIDDEN,
        "forbidden",
        NOT_ADMIN,
    )
    .await;
    h.refused(
        "/admin",
        Some(&token),
        None,
        StatusCode::FORBIDDEN,
        "forbidden",
        NO_TENANT,
    )
    .await;
    h.refused(
        "/admin",
        Some(&token),
        Some(""),
        StatusCode::FORBIDDEN,
        "forbidden",
        NO_TENANT,
    )
    .await;
    assert_eq!(
        h.get("/view", Some(&token), Some("globex")).await.0,
        StatusCode::OK
    );
    // Two tenant headers: which one would the guard check and which the handler read?
    let before = h.ran.load(Ordering::SeqCst);
    let twice = h
        .http
        .get(h.server.url("/admin"))
        .bearer_auth(&token)
        .header("x-tenant-id", "acme")
        .header("x-tenant-id", "globex")
        .send()
        .await
        .unwrap();
    assert_eq!(twice.status(), StatusCode::BAD_REQUEST);
    let body: Value = twice.json().await.unwrap();
    assert_eq!(body["code"], "ambiguous_request");
    assert_eq!(
        body["detail"],
        "the tenant header `x-tenant-id` is given more than once; send it once"
    );
    assert_eq!(h.ran.load(Ordering::SeqCst), before, "no handler ran");
    // The handler sees the tenant that was checked, not the token's.
    assert_eq!(
        h.get("/checked", Some(&token), Some("acme")).await,
        (StatusCode::OK, "acme".to_owned())
    );
    h.refused(
        "/checked",
        Some(&token),
        Some("globex"),
        StatusCode::FORBIDDEN,
        "forbidden",
        NOT_ADMIN,
    )
    .await;
}

#[tokio::test]
async fn the_checked_tenant_of_a_path_and_the_token() {
    let h = Harness::start(TenantConfig::path("tenant"), true).await;
    let token = h.token("user-1", Some("globex"));
    assert_eq!(
        h.get("/tenants/acme/checked", Some(&token), Some("globex"))
            .await,
        (StatusCode::OK, "acme".to_owned())
    );
    let h = Harness::start(TenantConfig::token(), true).await;
    let token = h.token("user-1", Some("acme"));
    assert_eq!(
        h.get("/checked", Some(&token), Some("globex")).await,
        (StatusCode::OK, "acme".to_owned())
    );
}

#[tokio::test]
async fn a_checked_tenant_without_a_tenant_guard_is_a_server_error() {
    let h = Harness::start(TenantConfig::header("x-tenant-id"), true).await;
    let token = h.token("user-1", Some("acme"));
    h.refused(
        "/unchecked",
        Some(&token),
        Some("acme"),
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal_error",
        "internal error",
    )
    .await;
}

/// The example service's `GET /tenant/settings` with the tenant taken from a header: it
/// answers for the tenant the guard checked, even when the token's claim names another.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_service_acts_on_the_checked_tenant() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(&tests::sqlite_url(dir.path()), dir.path());
    config.authz.tenant = TenantConfig::header("x-tenant-id");
    let module = AuthModule::configure(config).await.unwrap();
    let service = module.service();
    let registered = service
        .register(auth_axum::core::service::RegisterRequest::new(
            "member",
            "member@example.com",
            "correct horse battery",
        ))
        .await
        .unwrap();
    let mut member = service
        .users()
        .get_by_username("member")
        .await
        .unwrap()
        .unwrap();
    member.tenant = Some("acme".to_owned());
    service.users().update(&member).await.unwrap();
    module
        .policy_engine()
        .unwrap()
        .add_grouping_policy([registered.id.as_str(), "admin", "globex"])
        .await
        .unwrap();
    let token = service
        .login(auth_axum::core::service::LoginRequest::new(
            "member",
            "correct horse battery",
        ))
        .await
        .unwrap()
        .access_token;
    let server = TestServer::spawn(auth_service::app(module).unwrap()).await;
    let http = reqwest::Client::new();
    let settings = |tenant: &'static str| {
        http.get(server.url("/tenant/settings"))
            .bearer_auth(&token)
            .header("x-tenant-id", tenant)
            .send()
    };
    let globex = settings("globex").await.unwrap();
    assert_eq!(globex.status(), StatusCode::OK);
    assert_eq!(
        globex.json::<Value>().await.unwrap(),
        serde_json::json!({"tenant": "globex"}),
        "the checked tenant, not the token's `acme`"
    );
    assert_eq!(
        settings("acme").await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn tenant_from_a_path_parameter() {
    let h = Harness::start(TenantConfig::path("tenant"), true).await;
    let token = h.token("user-1", None);
    assert_eq!(
        h.get("/tenants/acme/admin", Some(&token), None).await,
        (StatusCode::OK, "admin".to_owned())
    );
    h.refused(
        "/tenants/globex/admin",
        Some(&token),
        Some("acme"),
        StatusCode::FORBIDDEN,
        "forbidden",
        NOT_ADMIN,
    )
    .await;
    assert_eq!(
        h.get("/tenants/globex/view", Some(&token), None).await.0,
        StatusCode::OK
    );
    // A route without the parameter names no tenant.
    h.refused(
        "/admin",
        Some(&token),
        None,
        StatusCode::FORBIDDEN,
        "forbidden",
        NO_TENANT,
    )
    .await;
}

#[tokio::test]
async fn tenant_guards_without_a_policy_engine_fail_closed() {
    let h = Harness::start(TenantConfig::token(), false).await;
    let token = h.token("user-1", Some("acme"));
    h.refused(
        "/admin",
        Some(&token),
        None,
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal_error",
        "internal error",
    )
    .await;
}

#[tokio::test]
async fn tenant_roles_follow_policy_changes_at_once() {
    let h = Harness::start(TenantConfig::token(), true).await;
    let token = h.token("user-3", Some("acme"));
    h.refused(
        "/admin",
        Some(&token),
        None,
        StatusCode::FORBIDDEN,
        "forbidden",
        NOT_ADMIN,
    )
    .await;
    let engine = h.module.policy_engine().unwrap();
    engine
        .add_grouping_policy(["user-3", "admin", "acme"])
        .await
        .unwrap();
    assert_eq!(h.get("/admin", Some(&token), None).await.0, StatusCode::OK);
    engine
        .remove_grouping_policy(["user-3", "admin", "acme"])
        .await
        .unwrap();
    h.refused(
        "/admin",
        Some(&token),
        None,
        StatusCode::FORBIDDEN,
        "forbidden",
        NOT_ADMIN,
    )
    .await;
}

/// A tenant that demands MFA (`AUTH__MFA__REQUIRED_FOR_TENANTS`): its roles count only with
/// a second factor, and without one the answer asks for it; other tenants are unchanged.
#[tokio::test]
async fn a_tenant_that_demands_mfa_asks_for_a_second_factor() {
    let h = Harness::configured(TenantConfig::token(), true, |config| {
        config.mfa.required_for_tenants = vec!["acme".to_owned()];
    })
    .await;
    let password_only = h.token("user-1", Some("acme"));
    let before = h.ran.load(Ordering::SeqCst);
    let response = h
        .http
        .get(h.server.url("/admin"))
        .bearer_auth(&password_only)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let challenge = response.headers()["www-authenticate"].to_str().unwrap();
    assert!(
        challenge.contains("error=\"insufficient_user_authentication\""),
        "{challenge}"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "insufficient_user_authentication");
    assert_eq!(h.ran.load(Ordering::SeqCst), before, "handler ran");
    // Without the role there, MFA or not, it stays a 403.
    let auditor_route = h.token("user-1", Some("acme"));
    h.refused(
        "/audit",
        Some(&auditor_route),
        None,
        StatusCode::FORBIDDEN,
        "forbidden",
        "requires all of the roles `admin`, `auditor` in the request's tenant",
    )
    .await;
    // Another tenant does not demand it.
    let globex = h.token("user-1", Some("globex"));
    assert_eq!(h.get("/view", Some(&globex), None).await.0, StatusCode::OK);
    // With a second factor, acme's roles count.
    let mut subject = TokenSubject::access("user-1").with_tenant("acme");
    subject.amr = vec!["pwd".to_owned(), "otp".to_owned()];
    let strong = h.module.service().tokens().issue(&subject).unwrap().token;
    assert_eq!(
        h.get("/admin", Some(&strong), None).await,
        (StatusCode::OK, "admin".to_owned())
    );
}
