use auth_axum::prelude::*;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};

#[derive(Clone, Copy, Permissions)]
enum Perm {
    ArticlesWrite,
}

#[derive(Clone, Copy, Roles)]
enum Role {
    Editor,
    Admin,
}

/// Doc comments stay.
#[require_auth]
async fn authenticated() -> &'static str {
    "ok"
}

#[require_roles("editor", "admin")]
async fn any_role(State(_module): State<AuthModule>) -> String {
    String::new()
}

#[require_roles(all(Role::Editor, Role::Admin))]
async fn all_roles() {}

#[require_permissions(Perm::ArticlesWrite, "articles.publish")]
async fn with_body(
    Path(id): Path<u64>,
    Json(body): Json<serde_json::Value>,
) -> Result<Json<serde_json::Value>, Problem> {
    let _ = id;
    Ok(Json(body))
}

#[require_auth]
#[require_roles(Role::Admin)]
pub async fn stacked<T: Default + ToString>(Auth(me): Auth) -> String {
    format!("{}{}", me.user_id, T::default().to_string())
}

fn main() {
    let _app: Router<AuthModule> = Router::new()
        .route("/a", get(authenticated))
        .route("/b", get(any_role))
        .route("/c", get(all_roles))
        .route("/d/{id}", post(with_body))
        .route("/e", get(stacked::<u8>));
}

#[require_auth(any(bearer, cookie, api_key, client_credentials))]
async fn any_credential() {}

fn _credentials() -> Router<AuthModule> {
    Router::new().route("/f", get(any_credential))
}

#[require_auth]
#[require_policy(r#"has_role("admin") || (has_permission("articles.write") && user.id == path.owner_id)"#)]
async fn policy(Path(owner_id): Path<String>) -> String {
    owner_id
}

fn _policy() -> Router<AuthModule> {
    Router::new().route("/g/{owner_id}", get(policy))
}
