//! The example auth service: the framework's auth routes plus a few example resources guarded
//! by role and permission checks.
//!
//! The guards here are written by hand with [`Auth::require_permission`]; the declarative
//! layer (`#[require_permissions]` and friends) replaces this glue.

use std::sync::{Arc, Mutex, PoisonError};

use auth_axum::core::user::Page;
use auth_axum::prelude::*;
use axum::extract::{FromRef, Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

/// The service's state: the auth module and the example resources.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The auth stack.
    pub auth: AuthModule,
    articles: Arc<Mutex<Vec<Article>>>,
}

impl FromRef<AppState> for AuthModule {
    fn from_ref(state: &AppState) -> Self {
        state.auth.clone()
    }
}

/// An example resource.
#[derive(Debug, Clone, Serialize)]
pub struct Article {
    /// Id.
    pub id: u64,
    /// Title.
    pub title: String,
    /// Author's user id.
    pub author: String,
}

#[derive(Debug, Deserialize)]
struct NewArticle {
    title: String,
}

/// The permissions each built-in role grants (hand-written until the RBAC engine lands).
const ROLE_PERMISSIONS: &[(&str, &[&str])] = &[
    ("admin", &["*"]),
    ("editor", &["articles.read", "articles.write"]),
    ("user", &["articles.read"]),
];

/// Refuses with 403 unless a role or a direct permission of the caller covers `permission`.
fn require_permission(auth: &Auth, permission: &str) -> Result<(), Problem> {
    let by_role = ROLE_PERMISSIONS.iter().any(|(role, granted)| {
        auth.0.has_role(role)
            && granted
                .iter()
                .any(|g| auth_axum::core::authz::permission_matches(g, permission))
    });
    if by_role {
        Ok(())
    } else {
        auth.require_permission(permission)
    }
}

async fn list_articles(
    auth: Auth,
    State(state): State<AppState>,
) -> Result<Json<Vec<Article>>, Problem> {
    require_permission(&auth, "articles.read")?;
    let articles = state
        .articles
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    Ok(Json(articles))
}

async fn create_article(
    auth: Auth,
    State(state): State<AppState>,
    JsonBody(input): JsonBody<NewArticle>,
) -> Result<(StatusCode, Json<Article>), Problem> {
    require_permission(&auth, "articles.write")?;
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
        author: auth.0.user_id.to_string(),
    };
    articles.push(article.clone());
    Ok((StatusCode::CREATED, Json(article)))
}

async fn delete_article(
    auth: Auth,
    State(state): State<AppState>,
    Path(id): Path<u64>,
) -> Result<StatusCode, Problem> {
    auth.require_role("admin")?;
    let mut articles = state
        .articles
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    let before = articles.len();
    articles.retain(|a| a.id != id);
    Ok(if articles.len() < before {
        StatusCode::NO_CONTENT
    } else {
        StatusCode::NOT_FOUND
    })
}

async fn list_users(
    auth: Auth,
    State(state): State<AppState>,
) -> Result<Json<Vec<PublicUser>>, Problem> {
    auth.require_role("admin")?;
    let users = state
        .auth
        .service()
        .users()
        .list(Page::default())
        .await
        .map_err(AuthError::from)?;
    Ok(Json(
        users.iter().map(auth_axum::core::User::to_public).collect(),
    ))
}

/// The whole application: auth routes, health, and the example resources.
pub fn app(auth: AuthModule) -> Router {
    let state = AppState {
        auth: auth.clone(),
        articles: Arc::default(),
    };
    Router::new()
        .route("/articles", get(list_articles).post(create_article))
        .route("/articles/{id}", delete(delete_article))
        .route("/admin/users", get(list_users))
        .merge(auth.routes())
        .with_state(state)
}
