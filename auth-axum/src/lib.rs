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
//! | [`Authenticated`] | extractor: the verified claims, shared, and the credential kind; the building block for your own extractors |
//! | [`RequestTenant`] | extractor: the tenant a `#[require_tenant_roles]` guard checked for this request |
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
//!
//! ## Features
//!
//! Every backend or protocol a service may not use is an additive cargo feature, passed on
//! to `auth-core`:
//!
//! | feature | default | what it brings |
//! |---|---|---|
//! | `sqlite` | yes | the embedded SQLite store (users, credentials, policies) |
//! | `postgres` | | the PostgreSQL store (`AUTH__DATABASE__URL=postgres://...`) |
//! | `redis` | | sessions, revocations, refresh families and counters in Redis, and the change bus between instances (`AUTH__REDIS__URL`) |
//! | `casbin` | | the policy engine: `#[require_tenant_roles]` (without it tenant guards refuse) and attribute rules |
//! | `totp` | | one-time passwords of authenticator apps (`auth_core::mfa::totp`) |
//! | `test-util` | | the test kit (`testing`, `AuthModule::stub()`) and `auth_core::testing`'s store conformance suites; for `[dev-dependencies]` |
//!
//! A configuration that names a backend the build lacks is refused at start-up, naming the
//! feature to enable.
//!
//! ## Declarative guards
//!
//! Permissions and roles are typed enums; guards name them, so a misspelt permission or a role
//! inheritance cycle is a compile error. A guard expands into a leading extractor: a refused
//! request gets 401 or 403 before any body extractor runs, and the handler keeps its
//! signature otherwise. Put guards above `#[axum::debug_handler]`.
//!
//! ```
//! use auth_axum::prelude::*;
//! use auth_axum::testing::{MockUser, TestKit};
//! use axum::{routing::{get, post}, Json, Router};
//!
//! #[derive(Clone, Copy, Permissions)]
//! enum Perm {
//!     ArticlesRead,
//!     #[permission("articles.write", label = "Write articles")]
//!     ArticlesWrite,
//! }
//!
//! #[derive(Clone, Copy, Roles)]
//! enum Role {
//!     #[role(permissions(Perm::ArticlesRead))]
//!     Viewer,
//!     #[role(inherits(Viewer), permissions(Perm::ArticlesWrite))]
//!     Editor,
//! }
//!
//! #[require_auth]
//! async fn me(Auth(me): Auth) -> String {
//!     me.user_id.to_string()
//! }
//!
//! #[require_roles(Role::Viewer)]
//! async fn read() -> &'static str {
//!     "articles"
//! }
//!
//! #[require_permissions(Perm::ArticlesWrite)]
//! async fn write(Json(body): Json<serde_json::Value>) -> Json<serde_json::Value> {
//!     Json(body)
//! }
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), auth_axum::core::authz::RoleError> {
//! let kit = TestKit::new().with_role_schema::<Role>()?;
//! let app = Router::new()
//!     .route("/me", get(me))
//!     .route("/articles", get(read).post(write))
//!     .with_state(kit.module());
//!
//! let editor = MockUser::new("ada").with_roles(["editor"]);
//! let viewer = MockUser::new("bob").with_roles(["viewer"]);
//! assert_eq!(kit.get("/me").send(&app).await.status, 401);
//! assert_eq!(kit.get("/articles").as_user(&editor).send(&app).await.status, 200); // inherited
//! let forbidden = kit.post("/articles").as_user(&viewer).body("{not json").send(&app).await;
//! assert_eq!(forbidden.status, 403); // refused before the body is parsed
//! # Ok(()) }
//! ```
//!
//! ## Wiring, deny by default, and user models
//!
//! `#[auth_module]` on the state finds its `AuthModule` field and generates the `FromRef`
//! glue and `auth_router()`: an [`AuthRouter`] with the auth routes registered that accepts
//! only guarded or `#[public]` handlers, and keeps the access-control matrix.
//! `#[derive(AuthUser)]` makes a struct the service's own user model: its public projection
//! never contains the password hash or `#[auth(secret)]` fields, and its unmarked fields are
//! the service's own, read and checked at registration and stored with the user
//! ([`AuthModule::with_user_model`]; [`CurrentUser<Account>`](CurrentUser) in handlers).
//!
//! ```
//! use auth_axum::prelude::*;
//!
//! #[derive(Clone, AuthUser)]
//! #[auth(public = "PublicAccount")]
//! struct Account {
//!     #[auth(id)]
//!     id: String,
//!     #[auth(username)]
//!     login: String,
//!     #[auth(password_hash)]
//!     hash: Option<String>,
//!     /// The service's own field.
//!     display_name: Option<String>,
//!     #[auth(secret)]
//!     recovery_code: Option<String>,
//! }
//!
//! #[auth_module]
//! #[derive(Clone)]
//! struct AppState {
//!     auth: AuthModule,
//! }
//!
//! #[public]
//! async fn about() -> &'static str {
//!     "a service"
//! }
//!
//! #[require_auth]
//! async fn account(CurrentUser(me): CurrentUser<Account>) -> axum::Json<PublicAccount> {
//!     axum::Json(me)
//! }
//!
//! let state = AppState { auth: AuthModule::stub().with_user_model::<Account>() };
//! let routes = state.auth_router().get("/about", about).get("/account", account);
//! let row = routes.routes().iter().find(|r| r.path == "/account").unwrap();
//! assert_eq!(row.access.to_string(), "requires authentication");
//! let app: axum::Router = routes.into_router().with_state(state);
//! ```

/// The README's Rust examples, compiled as doc tests so that they cannot drift.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
mod readme {}

// The macros name this crate `::auth_axum`, also inside its own tests and doc tests.
#[allow(
    unused_extern_crates,
    reason = "used by macro expansions, not by this crate's own code"
)]
extern crate self as auth_axum;

mod client;
mod extract;
mod guard;
#[cfg(feature = "metrics")]
pub mod metrics;
mod module;
#[cfg(feature = "openapi")]
pub mod openapi;
mod problem;
pub mod rate_limit;
mod router;
pub mod routes;
#[cfg(feature = "test-util")]
pub mod testing;

pub use auth_core as core;
pub use auth_macros as macros;

pub use self::client::{client_addr, ClientAddr, OriginLayer, OriginService};
pub use self::extract::{
    api_key, bearer_token, Auth, Authenticated, CurrentUser, JsonBody, VerifiedClaims,
};
pub use self::guard::RequestTenant;
pub use self::module::AuthModule;
pub use self::problem::Problem;
pub use self::router::{Access, AuthRouter, HandlerAccess, Public, RouteInfo, UndeclaredNames};
pub use auth_core::user::AuthUser;
pub use auth_macros::{
    auth_module, public, require_auth, require_factors, require_mfa, require_permissions,
    require_policy, require_recent_auth, require_roles, require_tenant_roles, AuthUser,
    Permissions, Roles,
};

/// Support for the code the macros generate. Not public API: it may change in any release.
#[doc(hidden)]
pub mod __private {
    pub use crate::guard::{Both, Guard, GuardSpec, SingleGuard};
    pub use crate::router::Public;
    pub use crate::{AuthModule, AuthRouter};
    pub use auth_core::__private::serde_json;
    pub use auth_core::authz::{
        policy_eq, policy_ne, PermissionDef, PermissionKind, PermissionSchema, Policy,
        PolicyContext, Requirement, RoleHierarchy, RoleSchema, UnknownName,
    };
    pub use auth_core::error::ValidationErrors;
    pub use auth_core::mfa::FactorKind;
    pub use auth_core::principal::CredentialKind;
    pub use auth_core::user::{
        record_field, AuthUser, FieldSpec, FromRecordField, OptionalStr, Profile, ProfileError,
        User, UserModel,
    };
    pub use axum;
    pub use serde;
}

/// Everything a handler file usually needs.
pub mod prelude {
    pub use crate::{
        auth_module, public, require_auth, require_factors, require_mfa, require_permissions,
        require_policy, require_recent_auth, require_roles, require_tenant_roles, Auth, AuthModule,
        AuthRouter, AuthUser, CurrentUser, JsonBody, Permissions, Problem, RequestTenant, Roles,
        VerifiedClaims,
    };
    pub use auth_core::{AuthConfig, AuthError, AuthService, Principal, PublicUser};
}
