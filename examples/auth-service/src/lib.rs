//! The example auth service: the framework's auth routes plus a few example resources guarded
//! by role and permission checks.
//!
//! Permissions and roles are typed enums; the guards name them, so a typo is a compile error,
//! and a refused request is answered before its body is read.

use std::sync::{Arc, Mutex, PoisonError};

use auth_axum::core::audit::AuditPage;
use auth_axum::core::authz::RoleError;
use auth_axum::core::user::{Page, UserId};
use auth_axum::prelude::*;
use auth_axum::routes::AuditParams;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

pub mod docs;
mod pages;
mod services;
pub mod telemetry;

/// The service's state: the auth module and the example resources. `#[auth_module]` wires
/// the auth stack in (`FromRef`, and `auth_router()` with the auth routes), with the typed
/// roles and permissions: a guard naming anything else refuses to build the router.
#[auth_module(roles = Role, permissions = Perm)]
#[derive(Clone, Debug)]
pub struct AppState {
    /// The auth stack.
    pub auth: AuthModule,
    articles: Arc<Mutex<Vec<Article>>>,
    docs: docs::Document,
}

/// An example resource.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Article {
    /// Id.
    pub id: u64,
    /// Title.
    pub title: String,
    /// Author's user id.
    pub author: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
struct NewArticle {
    title: String,
}

/// The service's users: the framework's fields it reads, and fields of its own that
/// registration accepts and checks (`display_name`, `locale`) or refuses (`plan`, set by the
/// service). They are stored with the user (its JSON profile), shown in every public user the
/// auth routes answer with, and given typed to handlers by `CurrentUser<Member>`.
#[derive(Debug, Clone, AuthUser)]
#[auth(public = "PublicMember")]
pub struct Member {
    /// Id.
    #[auth(id)]
    pub id: UserId,
    /// Login name.
    #[auth(username)]
    pub username: String,
    /// Email.
    #[auth(email)]
    pub email: String,
    /// Argon2 hash: never in the projection.
    #[auth(password_hash)]
    pub password_hash: Option<String>,
    /// Roles.
    #[auth(roles)]
    pub roles: Vec<String>,
    /// How many times the member logged in (kept by the framework).
    #[auth(record)]
    pub login_count: i64,
    /// How the member is greeted: 1 to 64 characters, optional.
    #[auth(validate = display_name)]
    pub display_name: Option<String>,
    /// Preferred language, a BCP 47 tag such as `en` or `pt-BR`; `en` unless given.
    #[auth(default = english, validate = language_tag)]
    pub locale: String,
    /// The member's plan: `free` at registration, changed by the service only.
    #[auth(readonly, default)]
    pub plan: Plan,
}

/// A member's plan.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Plan {
    /// Everyone starts here.
    #[default]
    Free,
    /// Paying members.
    Pro,
}

fn display_name(name: &Option<String>) -> Result<(), &'static str> {
    match name {
        Some(name) if name.trim().is_empty() || name.chars().count() > 64 => {
            Err("must be 1 to 64 characters")
        }
        _ => Ok(()),
    }
}

fn english() -> String {
    "en".to_owned()
}

/// A language tag in the shape of BCP 47's common forms: `en`, `pt-BR`, `zh-Hant`.
fn language_tag(tag: &str) -> Result<(), &'static str> {
    let mut parts = tag.split('-');
    let language = parts.next().unwrap_or_default();
    let well_formed = (2..=3).contains(&language.len())
        && language.chars().all(|c| c.is_ascii_lowercase())
        && parts
            .all(|p| (2..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()));
    if well_formed {
        Ok(())
    } else {
        Err("must be a language tag such as `en` or `pt-BR`")
    }
}

/// `GET /profile`: the caller as the service's own user model (typed, from the store).
#[require_auth]
async fn profile(CurrentUser(me): CurrentUser<Member>) -> Json<PublicMember> {
    Json(me)
}

/// The service's permissions: a misspelt one in a guard is a compile error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Permissions)]
pub enum Perm {
    /// Read articles.
    ArticlesRead,
    /// Create and edit articles.
    #[permission(label = "Write articles", description = "Create and edit articles")]
    ArticlesWrite,
}

/// The service's roles and what they grant; an inheritance cycle is a compile error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Roles)]
pub enum Role {
    /// Registered users (the default role).
    #[role(permissions(Perm::ArticlesRead))]
    User,
    /// Writes articles.
    #[role(inherits(User), permissions(Perm::ArticlesWrite))]
    Editor,
    /// Everything.
    #[role(permissions("*"))]
    Admin,
}

/// The articles.
#[require_permissions(Perm::ArticlesRead)]
#[utoipa::path(get, path = "/articles", tag = "articles", responses((status = 200, description = "every article", body = [Article])))]
async fn list_articles(State(state): State<AppState>) -> Json<Vec<Article>> {
    let articles = state
        .articles
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    Json(articles)
}

/// Writes an article.
#[require_permissions(Perm::ArticlesWrite)]
#[utoipa::path(post, path = "/articles", tag = "articles", request_body = NewArticle, responses((status = 201, description = "the new article", body = Article), (status = 422, description = "the title is empty or longer than 200 characters")))]
async fn create_article(
    Auth(me): Auth,
    State(state): State<AppState>,
    JsonBody(input): JsonBody<NewArticle>,
) -> Result<(StatusCode, Json<Article>), Problem> {
    if input.title.trim().is_empty() || input.title.len() > 200 {
        return Err(AuthError::invalid("title", "must be 1 to 200 characters").into());
    }
    let mut articles = state
        .articles
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    let article = Article {
        id: articles.len() as u64 + 1,
        title: input.title,
        author: me.user_id.to_string(),
    };
    articles.push(article.clone());
    Ok((StatusCode::CREATED, Json(article)))
}

/// `GET /users/{user_id}/articles`: the articles a user wrote, for that user and for admins
/// (a policy over the principal and the path, checked before the handler runs).
#[require_policy(r#"has_role("admin") || user.id == path.user_id"#)]
async fn user_articles(
    State(state): State<AppState>,
    Path(user_id): Path<String>,
) -> Json<Vec<Article>> {
    let articles = state
        .articles
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
        .filter(|a| a.author == user_id)
        .cloned()
        .collect();
    Json(articles)
}

#[require_roles(Role::Admin)]
async fn delete_article(State(state): State<AppState>, Path(id): Path<u64>) -> StatusCode {
    let mut articles = state
        .articles
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    let before = articles.len();
    articles.retain(|a| a.id != id);
    if articles.len() < before {
        StatusCode::NO_CONTENT
    } else {
        StatusCode::NOT_FOUND
    }
}

#[require_roles(Role::Admin)]
async fn list_users(State(state): State<AppState>) -> Result<Json<Vec<PublicUser>>, Problem> {
    let users = state
        .auth
        .service()
        .users()
        .list(Page::default())
        .await
        .map_err(AuthError::from)?;
    Ok(Json(users.iter().map(AuthUser::to_public).collect()))
}

/// `POST /admin/users/{user_id}/deactivate`: admins disable an account (204, or 404 for an
/// unknown user): logins are refused and every session and token of the user ends at once,
/// on every instance.
#[require_roles(Role::Admin)]
async fn deactivate_user(
    State(state): State<AppState>,
    Path(user_id): Path<String>,
) -> Result<StatusCode, Problem> {
    match state.auth.service().deactivate_user(&UserId(user_id)).await {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        Err(AuthError::UserNotFound) => Err(Problem::not_found("no such user")),
        Err(e) => Err(e.into()),
    }
}

/// `POST /admin/users/{user_id}/reactivate`: admins let a deactivated account log in again
/// (204, or 404 for an unknown user).
#[require_roles(Role::Admin)]
async fn reactivate_user(
    State(state): State<AppState>,
    Path(user_id): Path<String>,
) -> Result<StatusCode, Problem> {
    match state.auth.service().reactivate_user(&UserId(user_id)).await {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        Err(AuthError::UserNotFound) => Err(Problem::not_found("no such user")),
        Err(e) => Err(e.into()),
    }
}

/// `POST /admin/users/{user_id}/unlock`: admins forget an account's failed logins, so no
/// attempt from anywhere waits any longer (200 `{"forgiven": bool}`, or 404 for an unknown
/// user). Emits `login_unlocked`.
#[require_roles(Role::Admin)]
async fn unlock_user(
    State(state): State<AppState>,
    Path(user_id): Path<String>,
) -> Result<Json<serde_json::Value>, Problem> {
    match state.auth.service().unlock_user(&UserId(user_id)).await {
        Ok(forgiven) => Ok(Json(serde_json::json!({ "forgiven": forgiven }))),
        Err(AuthError::UserNotFound) => Err(Problem::not_found("no such user")),
        Err(e) => Err(e.into()),
    }
}

/// `GET /admin/audit?user=&type=&since=&cursor=&limit=`: admins read the audit log, newest
/// first, a page at a time (`{events, next_cursor}`).
#[require_roles(Role::Admin)]
async fn audit_log(
    State(state): State<AppState>,
    params: Result<Query<AuditParams>, QueryRejection>,
) -> Result<Json<AuditPage>, Problem> {
    let query = AuditParams::from_query(params)?.query()?;
    Ok(Json(state.auth.service().audit_log(&query).await?))
}

/// `GET /tenant/settings`: only for admins of the request's tenant (the token's `tenant`
/// claim; `[authz.tenant]` can take it from a header or a path parameter instead). It answers
/// for the tenant the guard checked, whatever the token's claim says.
#[require_tenant_roles(Role::Admin)]
async fn tenant_settings(RequestTenant(tenant): RequestTenant) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "tenant": tenant }))
}

fn policies(state: &AppState) -> Result<&auth_axum::core::authz::engine::PolicyEngine, Problem> {
    state
        .auth
        .policy_engine()
        .map(AsRef::as_ref)
        .ok_or_else(|| AuthError::Internal("no policy engine".to_owned()).into())
}

fn policy_failure(e: &auth_axum::core::authz::engine::PolicyError) -> Problem {
    tracing::error!(error = %e, "tenant role change failed");
    AuthError::Internal("policy store".to_owned()).into()
}

/// `PUT /tenants/{tenant}/users/{user_id}/roles/{role}`: admins give a user a role in one
/// tenant (204; idempotent).
#[require_roles(Role::Admin)]
async fn grant_tenant_role(
    State(state): State<AppState>,
    Path((tenant, user_id, role)): Path<(String, String, String)>,
) -> Result<StatusCode, Problem> {
    policies(&state)?
        .add_grouping_policy([user_id.as_str(), role.as_str(), tenant.as_str()])
        .await
        .map_err(|e| policy_failure(&e))?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /tenants/{tenant}/users/{user_id}/roles/{role}`: admins take it back (204, or 404
/// when the user did not hold it).
#[require_roles(Role::Admin)]
async fn revoke_tenant_role(
    State(state): State<AppState>,
    Path((tenant, user_id, role)): Path<(String, String, String)>,
) -> Result<StatusCode, Problem> {
    let removed = policies(&state)?
        .remove_grouping_policy([user_id.as_str(), role.as_str(), tenant.as_str()])
        .await
        .map_err(|e| policy_failure(&e))?;
    if removed {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Problem::not_found(format!(
            "`{user_id}` holds no role `{role}` in tenant `{tenant}`"
        )))
    }
}

/// Who may call what: deny by default, so every route below is guarded or `#[public]`, and
/// the table doubles as the access-control matrix (`auth-service routes`).
pub fn routes(state: &AppState) -> AuthRouter<AppState> {
    let router = state
        .auth_router()
        .get("/articles", list_articles)
        .post("/articles", create_article)
        .delete("/articles/{id}", delete_article)
        .get("/users/{user_id}/articles", user_articles)
        .get("/profile", profile)
        .get("/admin/users", list_users)
        .post("/admin/users/{user_id}/deactivate", deactivate_user)
        .post("/admin/users/{user_id}/reactivate", reactivate_user)
        .post("/admin/users/{user_id}/unlock", unlock_user)
        .get("/admin/audit", audit_log)
        .get("/login", pages::login)
        .get(docs::OPENAPI_PATH, docs::openapi_json);
    services::routes(router)
        .get("/tenant/settings", tenant_settings)
        .put(
            "/tenants/{tenant}/users/{user_id}/roles/{role}",
            grant_tenant_role,
        )
        .delete(
            "/tenants/{tenant}/users/{user_id}/roles/{role}",
            revoke_tenant_role,
        )
}

/// The service's state over `auth`, with the role hierarchy of [`Role`] added to the
/// configured roles, and [`Member`] as its user model.
///
/// # Errors
/// [`RoleError`] when the configured roles and [`Role`] together have a cycle.
pub fn state(auth: AuthModule) -> Result<AppState, RoleError> {
    Ok(AppState {
        auth: auth.with_role_schema::<Role>()?.with_user_model::<Member>(),
        articles: Arc::default(),
        docs: docs::Document::default(),
    })
}

/// The access-control matrix of [`routes`], from an in-memory stack with a throwaway key:
/// it needs no database, no configuration and writes no key file.
///
/// # Errors
/// A message when the in-memory stack cannot be built.
pub fn route_table() -> Result<String, String> {
    use auth_axum::core::config::JwtAlgorithm;
    use auth_axum::core::service::Stores;
    use auth_axum::core::token::{JwtKey, KeySet};
    let (key, _) = JwtKey::generate(JwtAlgorithm::HS256).map_err(|e| e.to_string())?;
    let (_, refresh_secret) = JwtKey::generate(JwtAlgorithm::HS256).map_err(|e| e.to_string())?;
    let config = AuthConfig::default();
    let service = AuthService::builder(config.clone())
        .with_stores(Stores::memory())
        .with_keys(KeySet::new(key).map_err(|e| e.to_string())?, refresh_secret)
        .build()
        .map_err(|e| e.to_string())?;
    let state = state(AuthModule::new(service, config)).map_err(|e| e.to_string())?;
    Ok(routes(&state).table())
}

/// The whole application: auth routes, health, the example resources, the API document
/// (`GET /openapi.json`) and its Swagger UI page (`/docs`) and, with `AUTH__METRICS__ENABLED`
/// and no `AUTH__METRICS__ADDRESS` of their own, `GET /metrics`.
///
/// # Errors
/// As [`state`], or [`auth_axum::UndeclaredNames`] when a guard names a role or permission
/// that no schema declares, or the metrics recorder cannot be installed.
pub fn app(auth: AuthModule) -> Result<Router, Box<dyn std::error::Error + Send + Sync>> {
    let metrics = auth.config().metrics.clone();
    let state = state(auth)?;
    let routes = routes(&state);
    state.docs.write(&routes)?;
    // The page's files are static and open to all, like the document they read.
    let app = routes
        .try_into_router()?
        .with_state(state)
        .merge(docs::swagger_ui());
    if metrics.enabled && metrics.address()?.is_none() {
        return Ok(app.merge(auth_axum::metrics::router(auth_axum::metrics::install()?)));
    }
    Ok(app)
}
