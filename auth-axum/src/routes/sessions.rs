//! The user's sessions: `GET /auth/sessions`, `DELETE /auth/sessions/{id}`,
//! `DELETE /auth/sessions`.

use auth_core::session::{Device, Session};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;

use crate::{require_auth, Auth, AuthModule, Problem};

/// One session as `GET /auth/sessions` shows it.
#[derive(serde::Serialize)]
pub(super) struct SessionView {
    id: String,
    /// Whether the request came through this session.
    current: bool,
    device: Device,
    created_at: i64,
    last_seen: i64,
    /// When it ends if unused from now on (idle timeout or absolute end).
    expires_at: i64,
}

impl SessionView {
    fn new(session: Session, current: Option<&str>) -> Self {
        Self {
            current: current == Some(session.id.as_str()),
            expires_at: session.ends_at(),
            created_at: session.created_at,
            last_seen: session.last_seen,
            id: session.id,
            device: session.device,
        }
    }
}

#[require_auth]
pub(super) async fn sessions(
    State(module): State<AuthModule>,
    Auth(principal): Auth,
) -> Result<Json<Vec<SessionView>>, Problem> {
    let sessions = module.service().sessions(&principal).await?;
    let current = principal.session_id.as_deref();
    Ok(Json(
        sessions
            .into_iter()
            .map(|s| SessionView::new(s, current))
            .collect(),
    ))
}

#[require_auth]
pub(super) async fn revoke_session(
    State(module): State<AuthModule>,
    Auth(principal): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    if module.service().revoke_session(&principal, &id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Problem::not_found("no such session of yours"))
    }
}

#[require_auth]
pub(super) async fn revoke_other_sessions(
    State(module): State<AuthModule>,
    Auth(principal): Auth,
) -> Result<Json<serde_json::Value>, Problem> {
    let revoked = module.service().revoke_other_sessions(&principal).await?;
    Ok(Json(serde_json::json!({ "revoked": revoked })))
}
