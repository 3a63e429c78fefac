//! One handler served three ways, for the benchmarks and the load script: bare, behind the
//! `#[require_permissions]` macro, and behind a hand-written extractor that calls the same
//! runtime (bearer parsing, `AuthService::verify_access`, a permission check).

use auth_axum::core::{AuthError, Principal};
use auth_axum::{bearer_token, AuthModule, Problem};
use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::routing::get;
use axum::Router;

/// The permission every guarded route asks for.
pub const PERMISSION: &str = "articles.read";

async fn bare() -> &'static str {
    "ok"
}

#[auth_axum::require_permissions("articles.read")]
async fn guarded() -> &'static str {
    "ok"
}

/// What a service would write by hand on the same runtime.
struct CanRead;

impl<S: Send + Sync> FromRequestParts<S> for CanRead
where
    AuthModule: FromRef<S>,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        let module = AuthModule::from_ref(state);
        let token = bearer_token(&parts.headers)?.ok_or(AuthError::NotAuthenticated)?;
        let claims = module.service().verify_access_shared(token).await?;
        if Principal::from_claims(&claims).has_permission(PERMISSION) {
            Ok(Self)
        } else {
            Err(Problem::forbidden("requires permission `articles.read`"))
        }
    }
}

async fn hand_written(_: CanRead) -> &'static str {
    "ok"
}

/// `GET /bare`, `GET /guarded` (macro) and `GET /hand-written`, all answering `ok`.
pub fn routes(module: AuthModule) -> Router {
    Router::new()
        .route("/bare", get(bare))
        .route("/guarded", get(guarded))
        .route("/hand-written", get(hand_written))
        .with_state(module)
}
