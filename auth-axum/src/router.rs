//! Deny by default: an [`AuthRouter`] only takes handlers that carry a guard
//! (`#[require_auth]`, `#[require_roles]`, `#[require_permissions]`) or say `#[public]`; an
//! unguarded handler is a compile error at the line that routes it. It also keeps the
//! access-control matrix: every route with its method and requirements.
//!
//! ```
//! use auth_axum::prelude::*;
//! use auth_axum::AuthRouter;
//!
//! #[public]
//! async fn hello() -> &'static str {
//!     "hello"
//! }
//!
//! #[require_roles("admin")]
//! async fn admin() -> &'static str {
//!     "admin"
//! }
//!
//! let routes = AuthRouter::<AuthModule>::new().get("/", hello).get("/admin", admin);
//! assert_eq!(
//!     routes.table(),
//!     "GET     /       public\nGET     /admin  requires any of the roles `admin`\n"
//! );
//! let router: axum::Router = routes.into_router().with_state(AuthModule::stub());
//! ```
//!
//! Routing a handler without a guard does not compile:
//!
//! ```compile_fail
//! use auth_axum::prelude::*;
//! use auth_axum::AuthRouter;
//!
//! async fn forgotten() -> &'static str {
//!     "open to everyone by accident"
//! }
//!
//! let routes = AuthRouter::<AuthModule>::new().get("/oops", forgotten);
//! ```

use std::convert::Infallible;
use std::fmt::{self, Write as _};

use auth_core::authz::{PermissionSchema, Requirement, RoleSchema};
use axum::extract::{FromRef, FromRequestParts, Request};
use axum::handler::Handler;
use axum::http::request::Parts;
use axum::http::Method;
use axum::response::IntoResponse;
use axum::routing::{on, MethodFilter, Route};
use axum::Router;
use tower::{Layer, Service};

use crate::guard::{Guard, GuardSpec};
use crate::routes::BuiltinRoute;
use crate::{routes, AuthModule};

/// Extractor inserted by `#[public]`: marks a handler as deliberately open. Extracts nothing.
#[derive(Debug, Clone, Copy)]
pub struct Public;

impl<S: Send + Sync> FromRequestParts<S> for Public {
    type Rejection = Infallible;

    async fn from_request_parts(_: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self)
    }
}

/// Who may call a route.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Access {
    /// Anyone (`#[public]`).
    Public,
    /// An authenticated principal meeting every requirement.
    Guarded(Vec<Requirement>),
}

impl fmt::Display for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Public => f.write_str("public"),
            Self::Guarded(requirements) => {
                let described: Vec<String> =
                    requirements.iter().map(Requirement::describe).collect();
                f.write_str(&described.join("; "))
            }
        }
    }
}

/// Implemented for handlers whose first parameter is a guard or [`Public`], which is what the
/// guard attributes and `#[public]` make.
#[diagnostic::on_unimplemented(
    message = "this handler has no guard: an `AuthRouter` refuses unguarded routes",
    label = "add `#[require_auth]`, `#[require_roles(...)]`, `#[require_permissions(...)]` or `#[public]` to the handler",
    note = "deny by default: every route says who may call it"
)]
pub trait HandlerAccess<Args> {
    /// Who may call it.
    fn access() -> Access;
}

macro_rules! impl_handler_access {
    ($($ty:ident),*) => {
        impl<F, Fut, G, $($ty,)*> HandlerAccess<(Guard<G>, $($ty,)*)> for F
        where
            F: FnOnce(Guard<G>, $($ty,)*) -> Fut,
            G: GuardSpec,
        {
            fn access() -> Access {
                let mut requirements = Vec::new();
                G::requirements(&mut requirements);
                Access::Guarded(requirements)
            }
        }

        impl<F, Fut, $($ty,)*> HandlerAccess<(Public, $($ty,)*)> for F
        where
            F: FnOnce(Public, $($ty,)*) -> Fut,
        {
            fn access() -> Access {
                Access::Public
            }
        }
    };
}

impl_handler_access!();
impl_handler_access!(T1);
impl_handler_access!(T1, T2);
impl_handler_access!(T1, T2, T3);
impl_handler_access!(T1, T2, T3, T4);
impl_handler_access!(T1, T2, T3, T4, T5);
impl_handler_access!(T1, T2, T3, T4, T5, T6);
impl_handler_access!(T1, T2, T3, T4, T5, T6, T7);
impl_handler_access!(T1, T2, T3, T4, T5, T6, T7, T8);
impl_handler_access!(T1, T2, T3, T4, T5, T6, T7, T8, T9);
impl_handler_access!(T1, T2, T3, T4, T5, T6, T7, T8, T9, T10);
impl_handler_access!(T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11);
impl_handler_access!(T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12);
impl_handler_access!(T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13);
impl_handler_access!(T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13, T14);
impl_handler_access!(T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13, T14, T15);

/// One row of the access-control matrix.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RouteInfo {
    /// The method.
    pub method: Method,
    /// The path.
    pub path: String,
    /// Who may call it.
    pub access: Access,
    /// The handler's path (`my_app::routes::publish`).
    pub handler: &'static str,
    /// Which built-in route this is, for the framework's own.
    pub builtin: Option<BuiltinRoute>,
}

/// Guards that name roles or permissions no schema declares: each would be a silent 403 at
/// run time, so the router refuses to be built. One line per name, with the route and the
/// handler.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("guards name roles or permissions that no schema declares:\n{}", .problems.iter().map(|p| format!("- {p}")).collect::<Vec<_>>().join("\n"))]
#[non_exhaustive]
pub struct UndeclaredNames {
    /// What is wrong, one entry per name.
    pub problems: Vec<String>,
}

/// Builds the framework's routes that are still wanted.
type Builtins<S> = Box<dyn FnOnce(&dyn Fn(BuiltinRoute) -> bool) -> Router<S> + Send + Sync>;

/// What the names of guards are checked against when the router is built.
#[derive(Clone)]
struct Declared {
    module: AuthModule,
    permissions: Vec<&'static str>,
    /// A typed role schema that could not be added (a cycle with the configured roles).
    schema_errors: Vec<String>,
}

/// A router that only takes guarded or `#[public]` handlers, and lists them.
#[must_use]
pub struct AuthRouter<S = ()> {
    router: Router<S>,
    routes: Vec<RouteInfo>,
    /// The framework's routes, added when the router is built, less those removed or
    /// replaced by then (their rows are in `routes` meanwhile).
    builtins: Option<Builtins<S>>,
    /// When set, guard names are checked when the router is built.
    declared: Option<Declared>,
    /// Whether [`fallback`](Self::fallback) set one (else [`into_router`](Self::into_router)
    /// installs the 404 problem).
    fallback: bool,
}

impl<S> fmt::Debug for AuthRouter<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthRouter")
            .field("routes", &self.routes)
            .finish_non_exhaustive()
    }
}

impl<S> Default for AuthRouter<S>
where
    S: Clone + Send + Sync + 'static,
{
    fn default() -> Self {
        Self {
            router: Router::new(),
            routes: Vec::new(),
            builtins: None,
            declared: None,
            fallback: false,
        }
    }
}

macro_rules! method {
    ($name:ident, $filter:ident, $method:ident) => {
        #[doc = concat!("Routes `", stringify!($method), " path` to a guarded or `#[public]` handler.")]
        pub fn $name<H, T, A>(self, path: &str, handler: H) -> Self
        where
            H: Handler<T, S> + HandlerAccess<A>,
            T: 'static,
        {
            self.add(path, Method::$method, MethodFilter::$filter, handler)
        }
    };
}

impl<S> AuthRouter<S>
where
    S: Clone + Send + Sync + 'static,
{
    /// An empty router.
    pub fn new() -> Self {
        Self::default()
    }

    fn add<H, T, A>(mut self, path: &str, method: Method, filter: MethodFilter, handler: H) -> Self
    where
        H: Handler<T, S> + HandlerAccess<A>,
        T: 'static,
    {
        // A route of yours on the method and path of a built-in one replaces it.
        self.routes
            .retain(|r| !(r.builtin.is_some() && r.method == method && r.path == path));
        self.routes.push(RouteInfo {
            method,
            path: path.to_owned(),
            access: H::access(),
            handler: std::any::type_name::<H>(),
            builtin: None,
        });
        self.router = self.router.route(path, on(filter, handler));
        self
    }

    method!(get, GET, GET);
    method!(post, POST, POST);
    method!(put, PUT, PUT);
    method!(patch, PATCH, PATCH);
    method!(delete, DELETE, DELETE);

    /// Adds the framework's routes (`/auth/*`, `/health`, `/ready`). Their handlers carry
    /// guards like yours, so their rows come from the same place as their routing. Any of
    /// them can be removed by name ([`without`](Self::without)) or replaced by a route of
    /// yours on the same method and path, until the router is built.
    pub fn with_auth_routes(mut self, body_limit: usize) -> Self
    where
        AuthModule: FromRef<S>,
    {
        let rows = routes::builtin_auth_router::<S>(body_limit, &|_| true)
            .merge(routes::builtin_health_router(&|_| true))
            .routes;
        // A route of yours already on a built-in's method and path replaces it.
        let rows: Vec<RouteInfo> = rows
            .into_iter()
            .filter(|row| {
                !self
                    .routes
                    .iter()
                    .any(|r| r.method == row.method && r.path == row.path)
            })
            .map(|mut row| {
                row.builtin = BuiltinRoute::ALL
                    .into_iter()
                    .find(|b| b.route() == (row.method.clone(), row.path.as_str()));
                row
            })
            .collect();
        self.routes.extend(rows);
        self.builtins = Some(Box::new(move |keep: &dyn Fn(BuiltinRoute) -> bool| {
            routes::builtin_auth_router(body_limit, keep)
                .merge(routes::builtin_health_router(keep))
                .router
        }));
        self
    }

    /// Leaves a built-in route out (its row goes too): for a service that does not offer it,
    /// or serves it elsewhere.
    pub fn without(mut self, route: BuiltinRoute) -> Self {
        self.routes.retain(|r| r.builtin != Some(route));
        self
    }

    /// Adds the routes (and rows) of `other`. Panics like [`Router::merge`] on overlapping
    /// routes, or when both have a fallback.
    pub fn merge(mut self, mut other: AuthRouter<S>) -> Self {
        other.finish_builtins();
        self.routes.extend(other.routes);
        self.declared = self.declared.or(other.declared);
        self.router = self.router.merge(other.router);
        self.fallback |= other.fallback;
        self
    }

    /// Serves `other` under `path`; its rows get the prefix. Like [`Router::nest`], `other`'s
    /// fallback does not apply outside it.
    pub fn nest(mut self, path: &str, mut other: AuthRouter<S>) -> Self {
        other.finish_builtins();
        let prefix = path.trim_end_matches('/');
        self.routes
            .extend(other.routes.into_iter().map(|route| RouteInfo {
                path: format!("{prefix}{}", route.path),
                ..route
            }));
        self.router = self.router.nest(path, other.router);
        self.declared = self.declared.or(other.declared);
        self
    }

    /// Wraps every route added so far in `layer` ([`Router::layer`]). A layer runs around the
    /// guarded handler; it cannot remove a guard.
    pub fn layer<L>(mut self, layer: L) -> Self
    where
        L: Layer<Route> + Clone + Send + Sync + 'static,
        L::Service: Service<Request> + Clone + Send + Sync + 'static,
        <L::Service as Service<Request>>::Response: IntoResponse + 'static,
        <L::Service as Service<Request>>::Error: Into<Infallible> + 'static,
        <L::Service as Service<Request>>::Future: Send + 'static,
    {
        self.router = self.router.layer(layer);
        self
    }

    /// Wraps every route added so far in `layer`, only when a route matched
    /// ([`Router::route_layer`]).
    pub fn route_layer<L>(mut self, layer: L) -> Self
    where
        L: Layer<Route> + Clone + Send + Sync + 'static,
        L::Service: Service<Request> + Clone + Send + Sync + 'static,
        <L::Service as Service<Request>>::Response: IntoResponse + 'static,
        <L::Service as Service<Request>>::Error: Into<Infallible> + 'static,
        <L::Service as Service<Request>>::Future: Send + 'static,
    {
        self.router = self.router.route_layer(layer);
        self
    }

    /// Answers requests no route matches with `handler`, which like every handler here must
    /// carry a guard or `#[public]` (default: the 404 problem of [`routes::not_found`]).
    pub fn fallback<H, T, A>(mut self, handler: H) -> Self
    where
        H: Handler<T, S> + HandlerAccess<A>,
        T: 'static,
    {
        self.router = self.router.fallback(handler);
        self.fallback = true;
        self
    }

    /// The module given to [`declared_by`](Self::declared_by), if any.
    #[cfg(feature = "openapi")]
    pub(crate) fn declared_module(&self) -> Option<&AuthModule> {
        self.declared.as_ref().map(|d| &d.module)
    }

    /// The access-control matrix, in the order the routes were added.
    #[must_use]
    pub fn routes(&self) -> &[RouteInfo] {
        &self.routes
    }

    /// The matrix as aligned text: method, path, requirement per line.
    #[must_use]
    pub fn table(&self) -> String {
        let width = self.routes.iter().map(|r| r.path.len()).max().unwrap_or(0);
        let mut out = String::new();
        for route in &self.routes {
            let _ = writeln!(
                out,
                "{:<7} {:<width$}  {}",
                route.method.as_str(),
                route.path,
                route.access
            );
        }
        out
    }

    /// Checks, when the router is built, that every role and permission a guard names is
    /// declared: a role of `module`'s hierarchy (typed, configured or stored), a permission
    /// some role grants (other than through `*`) or a declared permission schema
    /// ([`declaring_permissions`](Self::declaring_permissions)); and, when any role is
    /// declared, that the configured default roles are too. `#[auth_module]`'s `auth_router()` turns this on.
    pub fn declared_by(mut self, module: &AuthModule) -> Self {
        self.declared = Some(Declared {
            module: module.clone(),
            permissions: Vec::new(),
            schema_errors: Vec::new(),
        });
        self
    }

    /// Adds the roles of a `#[derive(Roles)]` enum to the module given to
    /// [`declared_by`](Self::declared_by) (its hierarchy is shared by every clone, so guards
    /// see them): `#[auth_module(roles = Role)]`.
    pub fn declaring_roles<R: RoleSchema>(mut self) -> Self {
        if let Some(declared) = &mut self.declared {
            if let Err(e) = declared.module.clone().with_role_schema::<R>() {
                declared.schema_errors.push(e.to_string());
            }
        }
        self
    }

    /// Declares the permissions of a `#[derive(Permissions)]` enum for the check of
    /// [`declared_by`](Self::declared_by): `#[auth_module(permissions = Perm)]`.
    pub fn declaring_permissions<P: PermissionSchema>(mut self) -> Self {
        if let Some(declared) = &mut self.declared {
            declared
                .permissions
                .extend(P::ALL.iter().map(PermissionSchema::name));
        }
        self
    }

    /// The axum router, after the check of [`declared_by`](Self::declared_by) when it is on.
    /// An unknown path answers 404 and a method a route does not serve 405, both as
    /// `application/problem+json` like every other error ([`routes::not_found`],
    /// [`routes::method_not_allowed`]).
    ///
    /// # Errors
    /// [`UndeclaredNames`], one line per role or permission no schema declares.
    pub fn try_into_router(mut self) -> Result<Router<S>, UndeclaredNames> {
        if let Some(declared) = &self.declared {
            check_names(&self.routes, declared)?;
        }
        self.finish_builtins();
        let router = if self.fallback {
            self.router
        } else {
            self.router.fallback(routes::not_found)
        };
        Ok(router
            .method_not_allowed_fallback(routes::method_not_allowed)
            .layer(crate::OriginLayer))
    }

    /// As [`try_into_router`](Self::try_into_router).
    ///
    /// # Panics
    /// When a guard names a role or permission no schema declares (like axum's own panic on
    /// overlapping routes, at start-up): the message lists each, with its route and handler.
    pub fn into_router(self) -> Router<S> {
        self.try_into_router()
            .unwrap_or_else(|e| panic!("refusing to build the router: {e}"))
    }

    /// The routes without the fallbacks [`into_router`](Self::into_router) adds, for
    /// routers that are merged into another.
    pub(crate) fn into_plain_router(mut self) -> Router<S> {
        self.finish_builtins();
        self.router.layer(crate::OriginLayer)
    }

    /// Routes the built-in routes whose rows are still here (not removed, not replaced).
    fn finish_builtins(&mut self) {
        if let Some(build) = self.builtins.take() {
            let kept: Vec<BuiltinRoute> = self.routes.iter().filter_map(|r| r.builtin).collect();
            let builtins = build(&|route| kept.contains(&route));
            self.router = std::mem::take(&mut self.router).merge(builtins);
        }
    }
}

/// The roles and permissions the guards of `routes` name, each checked against `declared`.
fn check_names(routes: &[RouteInfo], declared: &Declared) -> Result<(), UndeclaredNames> {
    let hierarchy = declared.module.authorization().roles();
    let mut roles: Vec<&str> = hierarchy.roles().collect();
    roles.sort_unstable();
    let role_known = |name: &str| roles.contains(&name);
    let granted: Vec<String> = hierarchy
        .granted_permissions()
        .filter(|p| *p != "*")
        .chain(declared.permissions.iter().copied())
        .map(str::to_owned)
        .collect();
    let permission_known = |name: &str| auth_core::authz::any_permission_matches(&granted, name);
    let mut problems: Vec<String> = declared
        .schema_errors
        .iter()
        .map(|e| format!("a role schema does not compose with the configured roles: {e}"))
        .collect();
    let known = if roles.is_empty() {
        "none".to_owned()
    } else {
        roles.join(", ")
    };
    // A service that declares no roles at all does not use them: the default role is then
    // just a label. One that does must declare the role it gives every new user.
    let default_roles = if roles.is_empty() {
        &[][..]
    } else {
        &declared.module.config().users.default_roles[..]
    };
    for role in default_roles {
        if !role_known(role) {
            problems.push(format!(
                "AUTH__USERS__DEFAULT_ROLES names role `{role}`, which no role schema declares (declared: {known})"
            ));
        }
    }
    for route in routes {
        let Access::Guarded(requirements) = &route.access else {
            continue;
        };
        let at = format!("{} {} (`{}`)", route.method, route.path, route.handler);
        for requirement in requirements {
            match requirement {
                Requirement::AnyRole(names)
                | Requirement::AllRoles(names)
                | Requirement::TenantAnyRole(names)
                | Requirement::TenantAllRoles(names) => {
                    for name in names.iter().filter(|n| !role_known(n)) {
                        problems.push(format!(
                            "{at}: role `{name}` is declared by no role schema (declared: {known})"
                        ));
                    }
                }
                Requirement::AllPermissions(names) => {
                    for name in names.iter().filter(|n| !permission_known(n)) {
                        problems.push(format!(
                            "{at}: permission `{name}` is granted by no role and declared by no permission schema"
                        ));
                    }
                }
                _ => {}
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(UndeclaredNames { problems })
    }
}
