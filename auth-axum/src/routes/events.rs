//! The audit log over HTTP: `GET /auth/me/security-events` (a user's own events), and the
//! query parameters a service's admin route takes ([`AuditParams`]).

use auth_core::audit::{AuditCursor, AuditPage, AuditQuery};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;

use crate::{require_auth, Auth, AuthModule, Problem};

/// Query parameters of an audit listing: `user`, `type`, `since` (Unix seconds), `cursor`
/// (the `next_cursor` of the page before) and `limit` (1 to 200, default 50).
///
/// ```
/// use auth_axum::routes::AuditParams;
///
/// let mut params = AuditParams::default();
/// params.kind = Some("login_failed".to_owned());
/// params.limit = Some(10);
/// let query = params.query().unwrap();
/// assert_eq!((query.kind.as_deref(), query.limit), (Some("login_failed"), 10));
/// ```
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct AuditParams {
    /// Only events about this user.
    pub user: Option<String>,
    /// Only events of this kind (`login_failed`).
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Only events at or after this time.
    pub since: Option<i64>,
    /// The page after this cursor.
    pub cursor: Option<String>,
    /// Entries per page.
    pub limit: Option<usize>,
}

impl AuditParams {
    /// The [`AuditQuery`] the parameters ask for.
    ///
    /// # Errors
    /// 400 `invalid_cursor` for a cursor no page gave.
    pub fn query(&self) -> Result<AuditQuery, Problem> {
        let mut query = AuditQuery::all().with_limit(self.limit.unwrap_or(50));
        query.user_id.clone_from(&self.user);
        query.kind.clone_from(&self.kind);
        query.since = self.since;
        if let Some(cursor) = &self.cursor {
            query.before = Some(AuditCursor::parse(cursor).ok_or_else(|| {
                Problem::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_cursor",
                    "Invalid cursor",
                    "`cursor` must be the `next_cursor` of an earlier page",
                )
            })?);
        }
        Ok(query)
    }

    /// The parameters of a request, a malformed query string being a 400 `invalid_query`.
    ///
    /// # Errors
    /// 400 `invalid_query`.
    pub fn from_query(query: Result<Query<Self>, QueryRejection>) -> Result<Self, Problem> {
        query.map(|Query(params)| params).map_err(|e| {
            Problem::new(
                StatusCode::BAD_REQUEST,
                "invalid_query",
                "Invalid query",
                e.body_text(),
            )
        })
    }
}

/// The caller's own security events, newest first: `{events, next_cursor}`.
#[require_auth]
pub(super) async fn security_events(
    State(module): State<AuthModule>,
    Auth(principal): Auth,
    params: Result<Query<AuditParams>, QueryRejection>,
) -> Result<Json<AuditPage>, Problem> {
    let mut query = AuditParams::from_query(params)?.query()?;
    query.user_id = Some(principal.user_id.to_string());
    Ok(Json(module.service().audit_log(&query).await?))
}
