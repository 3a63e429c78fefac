//! A resource server: it keeps no users and issues no tokens. It trusts the access tokens of
//! a remote auth service (`AUTH__REMOTE__ISSUER`, checked by the issuer's published keys or by
//! introspection), and its routes carry the same guards as any service of the framework.
//!
//! Users' tokens carry their roles; this service's own role schema says what they grant
//! here. A service's own token (`client_credentials`) carries its scopes as permissions.

use auth_axum::prelude::*;
use axum::extract::Path;
use axum::Json;

/// What this service guards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Permissions)]
pub enum Perm {
    /// Read reports.
    ReportsRead,
    /// Delete reports.
    ReportsDelete,
}

/// What the auth service's roles grant here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Roles)]
pub enum Role {
    /// Every registered user of the auth service.
    #[role(permissions(Perm::ReportsRead))]
    User,
    /// Administrators.
    #[role(permissions("*"))]
    Admin,
}

/// `GET /whoami`: who the token stands for, as the guards see it.
#[require_auth]
async fn whoami(Auth(me): Auth) -> Json<serde_json::Value> {
    Json(serde_json::json!({
        "sub": me.user_id,
        "credential": me.credential.as_str(),
        "roles": me.roles,
        "permissions": me.permissions,
    }))
}

/// `GET /reports`: for users, and for services whose token has the `reports.read` scope.
#[require_permissions(Perm::ReportsRead)]
async fn reports() -> Json<serde_json::Value> {
    Json(serde_json::json!([{"id": 1, "title": "Quarterly"}]))
}

/// `DELETE /reports/{id}`: for admins.
#[require_roles(Role::Admin)]
async fn delete_report(Path(id): Path<u64>) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "deleted": id }))
}

/// The routes, guarded, and `/health` and `/ready`; no auth routes (the auth service has
/// them). A guard naming a role or permission nobody declared refuses to build.
pub fn routes(auth: &AuthModule) -> AuthRouter<AuthModule> {
    auth_axum::routes::health_router()
        .declared_by(auth)
        .declaring_roles::<Role>()
        .declaring_permissions::<Perm>()
        .get("/whoami", whoami)
        .get("/reports", reports)
        .delete("/reports/{id}", delete_report)
}

/// The whole application over `auth` (built with `AUTH__REMOTE__ISSUER`), with this
/// service's role schema.
///
/// # Errors
/// When the role schema has a cycle or a guard names an undeclared role or permission.
pub fn app(auth: AuthModule) -> Result<axum::Router, Box<dyn std::error::Error + Send + Sync>> {
    let auth = auth.with_role_schema::<Role>()?;
    Ok(routes(&auth).try_into_router()?.with_state(auth))
}
