//! One handler served four ways, for the benchmarks and the load script: bare, behind the
//! `#[require_permissions]` macro, behind a hand-written extractor that does what the guard
//! does on the same runtime, and behind a minimal hand-written extractor that does less.
//!
//! The guard accepts a bearer token or a session cookie, verifies once per request however
//! many extractors ask (the [`Authenticated`] cache in the request extensions), and honours
//! permissions granted through roles. The equivalent hand-written extractor does the same
//! with the runtime's public pieces; the minimal one reads only a bearer token, keeps nothing
//! for later extractors and checks only the token's direct grants: what those features cost.

use auth_axum::core::{AuthError, Principal};
use auth_axum::{bearer_token, AuthModule, Authenticated, Problem};
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

fn forbidden() -> Problem {
    Problem::forbidden("requires permission `articles.read`")
}

/// What a service would write by hand for the guard's behaviour, on the same runtime.
struct CanRead;

impl<S: Send + Sync> FromRequestParts<S> for CanRead
where
    AuthModule: FromRef<S>,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        let principal = Authenticated::from_request_parts(parts, state)
            .await?
            .principal();
        let module = AuthModule::from_ref(state);
        let roles = module.authorization().roles();
        if roles.has_permission(&principal.roles, &principal.permissions, PERMISSION) {
            Ok(Self)
        } else {
            Err(forbidden())
        }
    }
}

/// Bearer tokens only, verified again by any later extractor, direct grants only.
struct CanReadMinimal;

impl<S: Send + Sync> FromRequestParts<S> for CanReadMinimal
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
            Err(forbidden())
        }
    }
}

async fn hand_written(_: CanRead) -> &'static str {
    "ok"
}

async fn hand_written_minimal(_: CanReadMinimal) -> &'static str {
    "ok"
}

/// `GET /bare`, `GET /guarded` (macro), `GET /hand-written` (the same by hand) and
/// `GET /hand-written-minimal`, all answering `ok`.
pub fn routes(module: AuthModule) -> Router {
    Router::new()
        .route("/bare", get(bare))
        .route("/guarded", get(guarded))
        .route("/hand-written", get(hand_written))
        .route("/hand-written-minimal", get(hand_written_minimal))
        .with_state(module)
}
