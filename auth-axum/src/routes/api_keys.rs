//! API keys of the signed-in user: `POST /auth/api-keys` (the key, shown once),
//! `GET /auth/api-keys` (never the key), `DELETE /auth/api-keys/{id}`.

use auth_core::api_key::ApiKey;
use auth_core::service::NewApiKey;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use secrecy::ExposeSecret;
use serde::Serialize;

use crate::{require_auth, Auth, AuthModule, JsonBody, Problem};

/// A key as its owner sees it: everything but the secret (`key` only in the answer that
/// created it).
#[derive(Serialize)]
pub(super) struct KeyView {
    #[serde(flatten)]
    key: ApiKey,
    revoked: bool,
}

impl KeyView {
    fn new(key: ApiKey) -> Self {
        Self {
            revoked: key.revoked_at.is_some(),
            key,
        }
    }
}

/// 201 `{id, name, scopes, prefix, created_at, expires_at, ..., key}`: the key is in this
/// answer only.
#[require_auth]
pub(super) async fn create_api_key(
    State(module): State<AuthModule>,
    Auth(principal): Auth,
    JsonBody(request): JsonBody<NewApiKey>,
) -> Result<(StatusCode, Json<serde_json::Value>), Problem> {
    let (key, secret) = module.service().create_api_key(&principal, request).await?;
    let mut view = serde_json::to_value(KeyView::new(key)).unwrap_or_default();
    view["key"] = serde_json::Value::String(secret.expose_secret().to_owned());
    Ok((StatusCode::CREATED, Json(view)))
}

#[require_auth]
pub(super) async fn api_keys(
    State(module): State<AuthModule>,
    Auth(principal): Auth,
) -> Result<Json<Vec<KeyView>>, Problem> {
    let keys = module.service().api_keys(&principal).await?;
    Ok(Json(keys.into_iter().map(KeyView::new).collect()))
}

/// 204, or 404 when the caller has no such live key.
#[require_auth]
pub(super) async fn revoke_api_key(
    State(module): State<AuthModule>,
    Auth(principal): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    if module.service().revoke_api_key(&principal, &id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Problem::not_found("no such live API key of yours"))
    }
}
