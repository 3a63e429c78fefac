//! Service-scoped permissions over HTTP, in the shapes apexauthlib 0.3.1's client reads (its
//! calls are the contract; `{"data": {...}}` envelopes and all), plus this service's own
//! extensions: the bulk sync by update (`PUT /services/{service}/permissions`) and values by
//! name (`PUT /services/{service}/users/{user_id}/permissions`).
//!
//! "The service's admins" are the users registered as its admins and the service's own OAuth
//! client: a `client_credentials` token with the scope `services:<service>`.
//!
//! | route | who |
//! |---|---|
//! | `GET /auth/user` | the caller: `{id, username, first_name, last_name, email, phone_number, is_admin, hashed_password}` (`hashed_password` is always `""`: apexauthlib's data class needs the field, never a hash) |
//! | `POST /services` | admins: `{service, admins: [user ids]}` registers a service and its admins |
//! | `GET /services/{service}/permissions` | signed-in users: `{data: {permissions: [{id, name, label, description, type, values, default}]}}` (`id` is the name) |
//! | `POST /services/{service}/permissions` | admins and the service's admins: one permission |
//! | `DELETE /services/{service}/permissions/{id}` | the same: removes it and every user's value of it |
//! | `PUT /services/{service}/permissions` | admins, the service's admins and its own client: the whole schema, synced by update |
//! | `GET /services/{service}/metadata/{user_id}` | the user, admins and the service's admins: `{data: {metadata: {metadata: {...}}}}` |
//! | `PUT /services/{service}/metadata/{user_id}` | admins and the service's admins: set values, checked against the schema |
//! | `GET /services/{service}/users/{user_id}` | the user, admins and the service's admins: `{data: {user: {user, is_service_admin, metadata}}}` |
//! | `GET /services/{service}/users` | admins and the service's admins: `{data: {users: [...]}}` |

use std::collections::BTreeMap;

use auth_axum::core::authz::services::{self, PermissionSpec, SyncReport};
use auth_axum::core::authz::PermissionKind;
use auth_axum::core::principal::CredentialKind;
use auth_axum::core::user::{Page, UserId};
use auth_axum::prelude::*;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::{AppState, Role};

/// The routes of this module on `router`.
pub(crate) fn routes(router: AuthRouter<AppState>) -> AuthRouter<AppState> {
    router
        .get("/auth/user", apex_user)
        .post("/services", register_service)
        .put("/services/{service}/permissions", sync_service_schema)
        .get("/services/{service}/permissions", service_schema)
        .post("/services/{service}/permissions", create_permission)
        .delete("/services/{service}/permissions/{id}", delete_permission)
        .put(
            "/services/{service}/users/{user_id}/permissions",
            set_service_values,
        )
        .get("/services/{service}/metadata/{user_id}", metadata)
        .put("/services/{service}/metadata/{user_id}", set_metadata)
        .get("/services/{service}/users/{user_id}", service_user)
        .get("/services/{service}/users", service_users)
}

fn store(state: &AppState) -> &std::sync::Arc<dyn services::ServicePermissionStore> {
    state.auth.service().service_permissions()
}

/// The scope that makes a service's own OAuth client (a `client_credentials` token) an
/// admin of the service: `services:<service>`.
fn service_scope(service: &str) -> String {
    format!("services:{service}")
}

/// Whether `me` administers everything or `service`: the admin role, an admin of the
/// service, or the service's own client (scope `services:<service>`), so a service manages
/// its schema with its client credentials instead of anyone's password.
async fn is_service_admin(
    state: &AppState,
    me: &Principal,
    service: &str,
) -> Result<bool, Problem> {
    if me.has_role("admin") {
        return Ok(true);
    }
    if me.credential == CredentialKind::ClientCredentials {
        return Ok(me.permissions.iter().any(|p| *p == service_scope(service)));
    }
    Ok(store(state)
        .is_admin(service, me.user_id.as_str())
        .await
        .map_err(AuthError::from)?)
}

/// Admins, and the service's own admins, manage a service's values.
async fn require_service_admin(
    state: &AppState,
    me: &Principal,
    service: &str,
) -> Result<(), Problem> {
    if is_service_admin(state, me, service).await? {
        Ok(())
    } else {
        Err(Problem::forbidden(format!(
            "requires role `admin` or being an admin of `{service}`"
        )))
    }
}

/// The user themselves, admins and the service's admins read a user's values.
async fn require_self_or_service_admin(
    state: &AppState,
    me: &Principal,
    service: &str,
    user_id: &str,
) -> Result<(), Problem> {
    if me.user_id.as_str() == user_id {
        return Ok(());
    }
    require_service_admin(state, me, service).await
}

/// A user as apexauthlib's `User` reads one. Names and phone come from the user's profile
/// when the user model has such fields; `hashed_password` is never a hash.
fn apex_shape(user: &PublicUser) -> Value {
    let profile = serde_json::to_value(user).unwrap_or(Value::Null);
    let field = |name: &str| {
        profile
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    json!({
        "id": user.id,
        "username": user.username,
        "first_name": field("first_name"),
        "last_name": field("last_name"),
        "email": user.email,
        "phone_number": field("phone_number"),
        "is_admin": user.roles.iter().any(|r| r == "admin"),
        "hashed_password": "",
    })
}

/// A permission as apexauthlib's formatter reads one: `values` for string choices, and a
/// default always present (its loader converts it without a check).
fn apex_permission(spec: &PermissionSpec) -> Value {
    let default = spec.default.clone().unwrap_or(match spec.kind {
        PermissionKind::Boolean => Value::Bool(false),
        PermissionKind::Integer => Value::from(0),
        _ => Value::from(""),
    });
    json!({
        "id": spec.name,
        "name": spec.name,
        "label": spec.label,
        "description": spec.description,
        "type": spec.kind.as_str(),
        "values": spec.allowed_values,
        "default": default,
    })
}

/// `GET /auth/user`: the caller, as apexauthlib's client reads it.
#[require_auth]
async fn apex_user(CurrentUser(me): CurrentUser) -> Json<Value> {
    Json(apex_shape(&me))
}

#[derive(Deserialize)]
struct NewService {
    service: String,
    #[serde(default)]
    admins: Vec<String>,
}

/// `POST /services`: admins register a service and its admins (201).
#[require_roles(Role::Admin)]
async fn register_service(
    State(state): State<AppState>,
    JsonBody(new): JsonBody<NewService>,
) -> Result<(StatusCode, Json<Value>), Problem> {
    let name = new.service.trim();
    if name.is_empty() || name.len() > 100 {
        return Err(AuthError::invalid("service", "must be 1 to 100 characters").into());
    }
    let users = state.auth.service().users();
    for admin in &new.admins {
        if users
            .get_by_id(&UserId(admin.clone()))
            .await
            .map_err(AuthError::from)?
            .is_none()
        {
            return Err(AuthError::invalid("admins", format!("no user `{admin}`")).into());
        }
    }
    for admin in &new.admins {
        store(&state)
            .add_admin(name, admin)
            .await
            .map_err(AuthError::from)?;
    }
    Ok((
        StatusCode::CREATED,
        Json(json!({"data": {"service": {"service": name, "admins": new.admins}}})),
    ))
}

/// `PUT /services/{service}/permissions`: register (sync) a service's whole schema; changed
/// definitions are updated in place, so users' values survive. Admins, the service's admins
/// and the service's own client.
#[require_auth]
async fn sync_service_schema(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(service): Path<String>,
    JsonBody(schema): JsonBody<Vec<PermissionSpec>>,
) -> Result<Json<SyncReport>, Problem> {
    require_service_admin(&state, &me, &service).await?;
    Ok(Json(
        services::sync_schema(store(&state).as_ref(), &service, &schema).await?,
    ))
}

/// `GET /services/{service}/permissions`: a service's schema.
#[require_auth]
async fn service_schema(
    State(state): State<AppState>,
    Path(service): Path<String>,
) -> Result<Json<Value>, Problem> {
    let schema = store(&state)
        .schema(&service)
        .await
        .map_err(AuthError::from)?;
    let permissions: Vec<Value> = schema.iter().map(apex_permission).collect();
    Ok(Json(json!({"data": {"permissions": permissions}})))
}

/// One permission as apexauthlib sends it.
#[derive(Deserialize)]
struct ApexPermission {
    name: String,
    #[serde(default)]
    label: String,
    #[serde(default)]
    description: String,
    #[serde(rename = "type")]
    kind: PermissionKind,
    #[serde(default)]
    values: Vec<Value>,
    #[serde(default)]
    default: Option<Value>,
}

/// `POST /services/{service}/permissions`: adds (or redefines) one permission (201).
#[require_auth]
async fn create_permission(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(service): Path<String>,
    JsonBody(new): JsonBody<ApexPermission>,
) -> Result<(StatusCode, Json<Value>), Problem> {
    require_service_admin(&state, &me, &service).await?;
    let spec: PermissionSpec = serde_json::from_value(json!({
        "name": new.name,
        "label": new.label,
        "description": new.description,
        "type": new.kind,
        "allowed_values": new.values.iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect::<Vec<_>>(),
        "default": new.default,
    }))
    .map_err(|e| AuthError::invalid("permission", e.to_string()))?;
    if let Some(default) = &spec.default {
        spec.validate(default)
            .map_err(|e| AuthError::invalid("default", e))?;
    }
    if spec.name.trim().is_empty() || spec.name.len() > 100 {
        return Err(AuthError::invalid("name", "must be 1 to 100 characters").into());
    }
    store(&state)
        .upsert_permission(&service, &spec)
        .await
        .map_err(AuthError::from)?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"data": {"permission": apex_permission(&spec)}})),
    ))
}

/// `DELETE /services/{service}/permissions/{id}`: removes a permission and every user's
/// value of it (200 `{}`; 404 when the service has none of that id).
#[require_auth]
async fn delete_permission(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path((service, id)): Path<(String, String)>,
) -> Result<Json<Value>, Problem> {
    require_service_admin(&state, &me, &service).await?;
    let known = store(&state)
        .schema(&service)
        .await
        .map_err(AuthError::from)?
        .iter()
        .any(|p| p.name == id);
    if !known {
        return Err(Problem::not_found(format!(
            "`{service}` has no permission `{id}`"
        )));
    }
    store(&state)
        .delete_permission(&service, &id)
        .await
        .map_err(AuthError::from)?;
    Ok(Json(json!({})))
}

/// `PUT /services/{service}/users/{user_id}/permissions`: set a user's values, validated
/// against the schema; answers the user's effective values.
#[require_auth]
async fn set_service_values(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path((service, user_id)): Path<(String, String)>,
    JsonBody(values): JsonBody<BTreeMap<String, Value>>,
) -> Result<Json<BTreeMap<String, Value>>, Problem> {
    require_service_admin(&state, &me, &service).await?;
    Ok(Json(
        services::set_user_values(store(&state).as_ref(), &service, &user_id, &values).await?,
    ))
}

/// A user's effective values for a service: stored ones over the schema's defaults.
async fn effective(state: &AppState, service: &str, user_id: &str) -> Result<Value, Problem> {
    Ok(json!(
        services::effective_values(store(state).as_ref(), service, user_id).await?
    ))
}

/// `GET /services/{service}/metadata/{user_id}`: a user's values.
#[require_auth]
async fn metadata(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path((service, user_id)): Path<(String, String)>,
) -> Result<Json<Value>, Problem> {
    require_self_or_service_admin(&state, &me, &service, &user_id).await?;
    let values = effective(&state, &service, &user_id).await?;
    Ok(Json(json!({"data": {"metadata": {"metadata": values}}})))
}

/// `PUT /services/{service}/metadata/{user_id}`: sets a user's values (checked against the
/// schema; nothing written when one is refused).
#[require_auth]
async fn set_metadata(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path((service, user_id)): Path<(String, String)>,
    JsonBody(values): JsonBody<BTreeMap<String, Value>>,
) -> Result<Json<Value>, Problem> {
    require_service_admin(&state, &me, &service).await?;
    let values =
        services::set_user_values(store(&state).as_ref(), &service, &user_id, &values).await?;
    Ok(Json(json!({"data": {"metadata": {"metadata": values}}})))
}

/// A user of a service with their values, as apexauthlib's `ServiceUserInfo` reads one.
async fn service_user_info(
    state: &AppState,
    service: &str,
    user: &PublicUser,
) -> Result<Value, Problem> {
    Ok(json!({
        "user": apex_shape(user),
        "is_service_admin": store(state)
            .is_admin(service, user.id.as_str())
            .await
            .map_err(AuthError::from)?,
        "metadata": effective(state, service, user.id.as_str()).await?,
    }))
}

/// `GET /services/{service}/users/{user_id}`.
#[require_auth]
async fn service_user(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path((service, user_id)): Path<(String, String)>,
) -> Result<Json<Value>, Problem> {
    require_self_or_service_admin(&state, &me, &service, &user_id).await?;
    let user = state
        .auth
        .service()
        .users()
        .get_by_id(&UserId(user_id))
        .await
        .map_err(AuthError::from)?
        .ok_or_else(|| Problem::not_found("no such user"))?;
    let info = service_user_info(&state, &service, &user.to_public()).await?;
    Ok(Json(json!({"data": {"user": info}})))
}

/// `GET /services/{service}/users`: every user with their values for the service.
#[require_auth]
async fn service_users(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(service): Path<String>,
) -> Result<Json<Value>, Problem> {
    require_service_admin(&state, &me, &service).await?;
    let users = state
        .auth
        .service()
        .users()
        .list(Page::default())
        .await
        .map_err(AuthError::from)?;
    let mut out = Vec::with_capacity(users.len());
    for user in users.iter().filter(|u| u.is_active) {
        out.push(service_user_info(&state, &service, &user.to_public()).await?);
    }
    Ok(Json(json!({"data": {"users": out}})))
}
