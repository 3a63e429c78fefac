//! The guard attributes over real HTTP: each guard lets the right principal through, answers
//! 401 without credentials and 403 without the role or permission, and a refused request never
//! runs the handler body nor reads the request body.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use auth_axum::core::service::Stores;
use auth_axum::core::token::TokenSubject;
use auth_axum::core::AuthService;
use auth_axum::prelude::*;
use axum::extract::{FromRef, Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use reqwest::Response;
use serde_json::{json, Value};
use tests::{test_config, TestServer};

#[derive(Debug, Clone, Copy, Permissions)]
enum Perm {
    ArticlesRead,
    ArticlesWrite,
    #[permission("reports.export", label = "Export reports")]
    Export,
}

#[derive(Debug, Clone, Copy, Roles)]
enum Role {
    #[role(permissions(Perm::ArticlesRead))]
    Viewer,
    #[role(inherits(Viewer), permissions(Perm::ArticlesWrite))]
    Editor,
    #[role(name = "reviewer")]
    Reviewer,
    #[role(permissions("*"))]
    Admin,
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

/// Documented handlers keep their docs and attributes.
#[require_auth]
async fn authenticated(State(state): State<AppState>, Auth(me): Auth) -> String {
    state.ran.fetch_add(1, Ordering::SeqCst);
    me.user_id.to_string()
}

#[require_roles("viewer", "admin")]
async fn any_role(State(state): State<AppState>) -> &'static str {
    state.ran.fetch_add(1, Ordering::SeqCst);
    "any"
}

#[require_roles(all(Role::Editor, Role::Reviewer))]
async fn all_roles(State(state): State<AppState>) -> &'static str {
    state.ran.fetch_add(1, Ordering::SeqCst);
    "all"
}

#[require_permissions(Perm::ArticlesWrite)]
async fn write(
    State(state): State<AppState>,
    Path(id): Path<u32>,
    Json(body): Json<Value>,
) -> Result<Json<Value>, Problem> {
    state.ran.fetch_add(1, Ordering::SeqCst);
    Ok(Json(json!({ "id": id, "body": body })))
}

#[require_auth]
#[require_permissions("reports.export", Perm::ArticlesRead)]
async fn stacked(State(state): State<AppState>) -> impl IntoResponse {
    state.ran.fetch_add(1, Ordering::SeqCst);
    (StatusCode::ACCEPTED, "stacked")
}

#[require_auth]
async fn generic<T: Default + ToString>(State(state): State<AppState>) -> String {
    state.ran.fetch_add(1, Ordering::SeqCst);
    T::default().to_string()
}

// Guards go above `#[debug_handler]`, so it checks the handler with its guard parameter.
#[require_roles(Role::Admin)]
#[axum::debug_handler(state = AppState)]
async fn debugged(State(state): State<AppState>) -> &'static str {
    state.ran.fetch_add(1, Ordering::SeqCst);
    "debugged"
}

#[require_auth(any(bearer, api_key))]
async fn bearer_or_key() -> &'static str {
    "accepted"
}

#[require_auth(any(cookie))]
async fn cookie_only() -> &'static str {
    "cookie"
}

#[require_policy(
    r#"has_role("admin") || (has_permission("articles.write") && user.id == path.owner)"#
)]
async fn owned(Path((owner, id)): Path<(String, u32)>) -> String {
    format!("{owner}/{id}")
}

#[derive(serde::Deserialize)]
struct TenantQuery {
    tenant: String,
}

/// Answers the tenant the handler's own `Query` reads (axum keeps the last of repeated
/// values).
#[require_policy(r#"user.tenant == query.tenant && !has_role("suspended")"#)]
async fn tenant_scoped(Query(query): Query<TenantQuery>) -> String {
    query.tenant
}

struct Harness {
    server: TestServer,
    module: AuthModule,
    ran: Arc<AtomicUsize>,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
}

impl Harness {
    async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let config = test_config("sqlite::memory:", dir.path());
        let service = AuthService::builder(config.clone())
            .with_stores(Stores::memory())
            .build()
            .unwrap();
        let module = AuthModule::new(service, config)
            .with_role_schema::<Role>()
            .unwrap();
        let ran = Arc::new(AtomicUsize::new(0));
        let state = AppState {
            auth: module.clone(),
            ran: Arc::clone(&ran),
        };
        let router = Router::new()
            .route("/auth", get(authenticated))
            .route("/any", get(any_role))
            .route("/all", get(all_roles))
            .route("/write/{id}", post(write))
            .route("/stacked", get(stacked))
            .route("/generic", get(generic::<u8>))
            .route("/debugged", get(debugged))
            .route("/bearer-or-key", get(bearer_or_key))
            .route("/cookie-only", get(cookie_only))
            .route("/owned/{owner}/{id}", get(owned))
            .route("/tenant", get(tenant_scoped))
            .with_state(state);
        let server = TestServer::spawn(router).await;
        Self {
            server,
            module,
            ran,
            http: reqwest::Client::new(),
            _dir: dir,
        }
    }

    fn token(&self, roles: &[&str], permissions: &[&str]) -> String {
        self.token_in(roles, permissions, None)
    }

    fn token_in(&self, roles: &[&str], permissions: &[&str], tenant: Option<&str>) -> String {
        let mut subject = TokenSubject::access("user-1")
            .with_roles(roles.iter().copied())
            .with_permissions(permissions.iter().copied());
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

    async fn get(&self, path: &str, token: Option<&str>) -> Response {
        let mut request = self.http.get(self.server.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.unwrap()
    }

    async fn post_raw(&self, path: &str, token: Option<&str>, body: &str) -> Response {
        let mut request = self
            .http
            .post(self.server.url(path))
            .header("content-type", "application/json")
            .body(body.to_owned());
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.unwrap()
    }

    fn ran(&self) -> usize {
        self.ran.load(Ordering::SeqCst)
    }

    /// Asserts a refusal with this status and code, and that no handler body ran.
    async fn refused(&self, response: Response, status: StatusCode, code: &str) -> Value {
        let before = self.ran();
        assert_eq!(response.status(), status);
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
        if status == StatusCode::UNAUTHORIZED {
            assert!(response.headers()["www-authenticate"]
                .to_str()
                .unwrap()
                .starts_with("Bearer"));
        }
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], code, "{body}");
        assert_eq!(self.ran(), before);
        body
    }
}

#[tokio::test]
async fn require_auth_refuses_without_a_valid_token() {
    let h = Harness::start().await;
    h.refused(
        h.get("/auth", None).await,
        StatusCode::UNAUTHORIZED,
        "not_authenticated",
    )
    .await;
    h.refused(
        h.get("/auth", Some("not.a.token")).await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    )
    .await;
    assert_eq!(h.ran(), 0);
    let ok = h.get("/auth", Some(&h.token(&[], &[]))).await;
    assert_eq!(ok.status(), StatusCode::OK);
    assert_eq!(ok.text().await.unwrap(), "user-1");
    assert_eq!(h.ran(), 1);
}

#[tokio::test]
async fn require_roles_honours_any_all_and_inheritance() {
    let h = Harness::start().await;
    h.refused(
        h.get("/any", None).await,
        StatusCode::UNAUTHORIZED,
        "not_authenticated",
    )
    .await;
    let body = h
        .refused(
            h.get("/any", Some(&h.token(&["reviewer"], &[]))).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
    assert_eq!(
        body["detail"],
        "requires any of the roles `viewer`, `admin`"
    );
    // `editor` inherits `viewer`.
    assert_eq!(
        h.get("/any", Some(&h.token(&["editor"], &[])))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        h.get("/any", Some(&h.token(&["admin"], &[])))
            .await
            .status(),
        StatusCode::OK
    );

    h.refused(
        h.get("/all", Some(&h.token(&["editor"], &[]))).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    h.refused(
        h.get("/all", Some(&h.token(&["reviewer"], &[]))).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    assert_eq!(
        h.get("/all", Some(&h.token(&["editor", "reviewer"], &[])))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(h.ran(), 3);

    h.refused(
        h.get("/debugged", Some(&h.token(&["editor"], &[]))).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    assert_eq!(
        h.get("/debugged", Some(&h.token(&["admin"], &[])))
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn require_permissions_honours_wildcards_and_role_grants() {
    let h = Harness::start().await;
    let body = json!({"title": "hi"}).to_string();
    h.refused(
        h.post_raw("/write/7", None, &body).await,
        StatusCode::UNAUTHORIZED,
        "not_authenticated",
    )
    .await;
    let viewer = h.token(&["viewer"], &[]);
    let refused = h
        .refused(
            h.post_raw("/write/7", Some(&viewer), &body).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
    assert_eq!(refused["detail"], "requires permission `articles.write`");
    for token in [
        h.token(&["editor"], &[]),
        h.token(&[], &["articles.*"]),
        h.token(&[], &["*"]),
        h.token(&["admin"], &[]),
    ] {
        let ok = h.post_raw("/write/7", Some(&token), &body).await;
        assert_eq!(ok.status(), StatusCode::OK);
        let echoed: Value = ok.json().await.unwrap();
        assert_eq!(echoed, json!({"id": 7, "body": {"title": "hi"}}));
    }
    h.refused(
        h.post_raw(
            "/write/7",
            Some(&h.token(&[], &["articles.read", "articlesx.*"])),
            &body,
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    assert_eq!(h.ran(), 4);
}

#[tokio::test]
async fn refusal_comes_before_the_body_is_read() {
    let h = Harness::start().await;
    let viewer = h.token(&["viewer"], &[]);
    // Forbidden with a malformed body: 403, not 400/422 (protect-endpoints #138).
    h.refused(
        h.post_raw("/write/1", Some(&viewer), "{not json").await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    // Unauthenticated with a malformed body: 401.
    h.refused(
        h.post_raw("/write/1", None, "{not json").await,
        StatusCode::UNAUTHORIZED,
        "not_authenticated",
    )
    .await;
    // Allowed with a malformed body: now the body extractor answers.
    let editor = h.token(&["editor"], &[]);
    assert_eq!(
        h.post_raw("/write/1", Some(&editor), "{not json")
            .await
            .status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(h.ran(), 0);
}

#[tokio::test]
async fn stacked_guards_all_apply_and_handler_shapes_are_kept() {
    let h = Harness::start().await;
    h.refused(
        h.get("/stacked", None).await,
        StatusCode::UNAUTHORIZED,
        "not_authenticated",
    )
    .await;
    let body = h
        .refused(
            h.get("/stacked", Some(&h.token(&["viewer"], &[]))).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
    assert_eq!(
        body["detail"],
        "requires all of the permissions `reports.export`, `articles.read`"
    );
    let ok = h
        .get("/stacked", Some(&h.token(&["viewer"], &["reports.export"])))
        .await;
    assert_eq!(ok.status(), StatusCode::ACCEPTED);
    assert_eq!(ok.text().await.unwrap(), "stacked");
    let generic = h.get("/generic", Some(&h.token(&[], &[]))).await;
    assert_eq!(generic.text().await.unwrap(), "0");
}

#[test]
fn derives_give_names_lists_and_schema() {
    use auth_axum::core::authz::{PermissionKind, PermissionSchema, RoleSchema};
    assert_eq!(Perm::ArticlesWrite.as_str(), "articles.write");
    assert_eq!(Perm::Export.to_string(), "reports.export");
    assert_eq!(
        "articles.read".parse::<Perm>().unwrap().as_str(),
        "articles.read"
    );
    assert_eq!(
        "nope".parse::<Perm>().unwrap_err().to_string(),
        "unknown permission `nope`"
    );
    assert_eq!(Perm::ALL.len(), 3);
    let schema = <Perm as PermissionSchema>::schema();
    assert_eq!(schema[2].name, "reports.export");
    assert_eq!(schema[2].label, "Export reports");
    assert_eq!(schema[0].label, "Articles read");
    assert_eq!(schema[0].kind, PermissionKind::Boolean);

    assert_eq!(Role::Editor.as_str(), "editor");
    assert_eq!(Role::ALL.len(), 4);
    let hierarchy = Role::hierarchy();
    let editor = ["editor".to_owned()];
    assert!(hierarchy.has_role(&editor, "viewer"));
    assert!(hierarchy.has_permission(&editor, &[], "articles.read"));
    assert!(!hierarchy.has_permission(&editor, &[], "reports.export"));
    assert!(hierarchy.has_permission(&["admin".to_owned()], &[], "reports.export"));
}

#[tokio::test]
async fn require_auth_checks_the_credential_kind() {
    let h = Harness::start().await;
    let token = h.token(&[], &[]);
    h.refused(
        h.get("/bearer-or-key", None).await,
        StatusCode::UNAUTHORIZED,
        "not_authenticated",
    )
    .await;
    assert_eq!(
        h.get("/bearer-or-key", Some(&token)).await.status(),
        StatusCode::OK
    );
    let body = h
        .refused(
            h.get("/cookie-only", Some(&token)).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
    assert_eq!(
        body["detail"],
        "requires authentication with any of `cookie`"
    );
}

#[tokio::test]
async fn require_policy_evaluates_principal_and_request() {
    let h = Harness::start().await;
    h.refused(
        h.get("/owned/user-1/3", None).await,
        StatusCode::UNAUTHORIZED,
        "not_authenticated",
    )
    .await;
    let writer = h.token(&[], &["articles.write"]);
    // The owner with the permission: allowed.
    let ok = h.get("/owned/user-1/3", Some(&writer)).await;
    assert_eq!(ok.status(), StatusCode::OK);
    assert_eq!(ok.text().await.unwrap(), "user-1/3");
    // Someone else's resource: refused, with the policy in the detail.
    let body = h
        .refused(
            h.get("/owned/user-2/3", Some(&writer)).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
    assert_eq!(
        body["detail"],
        r#"requires policy `has_role("admin") || (has_permission("articles.write") && user.id == path.owner)`"#
    );
    // The owner without the permission: refused. An admin: allowed for anyone's.
    h.refused(
        h.get("/owned/user-1/3", Some(&h.token(&["viewer"], &[])))
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    assert_eq!(
        h.get("/owned/user-2/3", Some(&h.token(&["admin"], &[])))
            .await
            .status(),
        StatusCode::OK
    );

    let acme = h.token_in(&[], &[], Some("acme"));
    let ok = h.get("/tenant?tenant=acme", Some(&acme)).await;
    assert_eq!(ok.status(), StatusCode::OK);
    assert_eq!(ok.text().await.unwrap(), "acme");
    // A parameter the policy reads, given twice: the policy would check the first and the
    // handler act on the last. Refused before either runs, however the name is spelt.
    for path in [
        "/tenant?tenant=acme&tenant=other",
        "/tenant?tenant=acme&%74enant=other",
        "/tenant?tenant=acme&tenant=acme",
    ] {
        let body = h
            .refused(
                h.get(path, Some(&acme)).await,
                StatusCode::BAD_REQUEST,
                "ambiguous_request",
            )
            .await;
        assert_eq!(
            body["detail"], "the query parameter `tenant` is given more than once; send it once",
            "{path}"
        );
    }
    // Parameters the policy does not read may repeat.
    let ok = h
        .get("/tenant?tenant=acme&page=1&page=2", Some(&acme))
        .await;
    assert_eq!(ok.status(), StatusCode::OK);
    h.refused(
        h.get("/tenant?tenant=other", Some(&acme)).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    // A missing value never matches: no query parameter, or no tenant in the token, denies.
    h.refused(
        h.get("/tenant", Some(&acme)).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    h.refused(
        h.get("/tenant?tenant=acme", Some(&h.token(&[], &[]))).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let suspended = h.token_in(&["suspended"], &[], Some("acme"));
    h.refused(
        h.get("/tenant?tenant=acme", Some(&suspended)).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
}
