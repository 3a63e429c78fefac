//! `auth-axum`: authentication and authorization for [axum], over the `auth-core` runtime.
//!
//! The one crate a service depends on. It re-exports the core ([`core`]), the macros
//! ([`macros`]) and a [`prelude`], and adds the axum glue:
//!
//! | item | what it does |
//! |---|---|
//! | [`AuthModule`] | the configured auth stack, as axum state (`FromRef`) |
//! | [`Auth`] | extractor: the verified, unrevoked [`Principal`](auth_core::Principal) of a bearer token; `Option<Auth>` for optional auth |
//! | [`CurrentUser`] | extractor: the [`PublicUser`](auth_core::PublicUser) behind the token |
//! | [`VerifiedClaims`] | extractor: the verified claims |
//! | [`Problem`] | every rejection as `application/problem+json` (RFC 9457), 401 with `WWW-Authenticate` |
//! | [`routes::auth_routes`] | `POST /auth/register`, `/auth/login`, `/auth/refresh`, `/auth/logout`, `GET /auth/me` |
//! | [`routes::health_routes`] | `GET /health`, `GET /ready` |
//!
//! ```no_run
//! use auth_axum::prelude::*;
//! use axum::{routing::get, Router};
//!
//! async fn hello(Auth(principal): Auth) -> String {
//!     format!("hello {}", principal.user_id)
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let module = AuthModule::configure(AuthConfig::load()?).await?;
//! let app: Router = Router::new()
//!     .route("/hello", get(hello))
//!     .merge(module.routes())
//!     .with_state(module);
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! axum::serve(listener, app).await?;
//! # Ok(()) }
//! ```

// The macros name this crate `::auth_axum`, also inside its own tests and doc tests.
#[allow(
    unused_extern_crates,
    reason = "used by macro expansions, not by this crate's own code"
)]
extern crate self as auth_axum;

mod extract;
mod guard;
mod module;
mod problem;
pub mod routes;

pub use auth_core as core;
pub use auth_macros as macros;

pub use self::extract::{bearer_token, Auth, CurrentUser, JsonBody, VerifiedClaims};
pub use self::module::AuthModule;
pub use self::problem::Problem;
pub use auth_macros::{require_auth, require_permissions, require_roles, Permissions, Roles};

/// Support for the code the macros generate. Not public API: it may change in any release.
#[doc(hidden)]
pub mod __private {
    pub use crate::guard::{Guard, GuardSpec};
    pub use auth_core::authz::{
        PermissionDef, PermissionKind, PermissionSchema, Requirement, RoleHierarchy, RoleSchema,
        UnknownName,
    };
}

/// Everything a handler file usually needs.
pub mod prelude {
    pub use crate::{
        require_auth, require_permissions, require_roles, Auth, AuthModule, CurrentUser, JsonBody,
        Permissions, Problem, Roles, VerifiedClaims,
    };
    pub use auth_core::{AuthConfig, AuthError, AuthService, Principal, PublicUser};
}
