use std::fmt;
#[cfg(feature = "casbin")]
use std::sync::Arc;

#[cfg(feature = "casbin")]
use auth_core::authz::engine::PolicyEngine;
use auth_core::authz::{AuthorizationService, LoadRolesError, RoleError, RoleHierarchy};
use auth_core::authz::{RoleRecord, RoleSchema};
use auth_core::invalidation::ChangeBus;
use auth_core::service::SetupError;
use auth_core::user::UserModel;
use auth_core::{AuthConfig, AuthService, AuthStack};
use axum::extract::FromRef;
use axum::Router;
use tokio::task::JoinHandle;

use crate::routes;

/// The configured auth stack, used as (part of) axum state.
///
/// Every extractor of this crate finds it through `AuthModule: FromRef<S>`: use it as the state
/// directly, or implement `FromRef<YourState> for AuthModule` (one line returning a clone of
/// your field).
///
/// ```no_run
/// use auth_axum::AuthModule;
/// use axum::extract::FromRef;
///
/// #[derive(Clone)]
/// struct AppState {
///     auth: AuthModule,
///     // ... your own state
/// }
///
/// impl FromRef<AppState> for AuthModule {
///     fn from_ref(state: &AppState) -> Self {
///         state.auth.clone()
///     }
/// }
/// ```
///
/// It is a handle to the [`AuthStack`] that `auth-core` assembles (flows, roles, policies,
/// cross-instance followers); this crate adds only the HTTP glue. The methods below forward
/// to the stack.
#[derive(Clone)]
pub struct AuthModule {
    stack: AuthStack,
}

impl fmt::Debug for AuthModule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthModule")
            .field("service", self.stack.service())
            .finish_non_exhaustive()
    }
}

impl From<AuthStack> for AuthModule {
    fn from(stack: AuthStack) -> Self {
        Self { stack }
    }
}

impl AuthModule {
    /// Builds the whole stack from configuration ([`AuthStack::configure`]).
    ///
    /// # Errors
    /// [`SetupError`] naming what to fix.
    pub async fn configure(config: AuthConfig) -> Result<Self, SetupError> {
        Ok(AuthStack::configure(config).await?.into())
    }

    /// A module over an already built service ([`AuthStack::new`]).
    #[must_use]
    pub fn new(service: AuthService, config: AuthConfig) -> Self {
        AuthStack::new(service, config).into()
    }

    /// The stack this module is a handle to.
    #[must_use]
    pub fn stack(&self) -> &AuthStack {
        &self.stack
    }

    /// See [`AuthStack::reload_roles`].
    ///
    /// # Errors
    /// [`LoadRolesError`]; the hierarchy in use stays as it was.
    pub async fn reload_roles(&self) -> Result<(), LoadRolesError> {
        self.stack.reload_roles().await
    }

    /// See [`AuthStack::put_role`].
    ///
    /// # Errors
    /// As [`AuthStack::put_role`].
    pub async fn put_role(&self, role: RoleRecord) -> Result<(), LoadRolesError> {
        self.stack.put_role(role).await
    }

    /// See [`AuthStack::delete_role`].
    ///
    /// # Errors
    /// As [`AuthStack::put_role`].
    pub async fn delete_role(&self, name: &str) -> Result<bool, LoadRolesError> {
        self.stack.delete_role(name).await
    }

    /// See [`AuthStack::follow`].
    pub fn follow(&self, bus: &ChangeBus) -> Vec<JoinHandle<()>> {
        self.stack.follow(bus)
    }

    /// See [`AuthStack::with_roles`].
    ///
    /// # Errors
    /// [`RoleError`] when the union has a cycle or an unknown parent; nothing changes then.
    pub fn with_roles(self, roles: &RoleHierarchy) -> Result<Self, RoleError> {
        Ok(self.stack.with_roles(roles)?.into())
    }

    /// See [`AuthStack::with_role_schema`].
    ///
    /// # Errors
    /// As [`with_roles`](Self::with_roles).
    pub fn with_role_schema<R: RoleSchema>(self) -> Result<Self, RoleError> {
        Ok(self.stack.with_role_schema::<R>()?.into())
    }

    /// See [`AuthStack::with_user_model`]: registration reads and checks the profile fields
    /// of `M`, and the public user shows them. Read the typed projection in handlers with
    /// [`CurrentUser<M>`](crate::CurrentUser).
    #[must_use]
    pub fn with_user_model<M: UserModel>(self) -> Self {
        self.stack.with_user_model::<M>().into()
    }

    #[cfg(feature = "casbin")]
    /// See [`AuthStack::with_policy_engine`].
    #[must_use]
    pub fn with_policy_engine(self, engine: Arc<PolicyEngine>) -> Self {
        self.stack.with_policy_engine(engine).into()
    }

    #[cfg(feature = "casbin")]
    /// The casbin policy engine, when one was attached.
    #[must_use]
    pub fn policy_engine(&self) -> Option<&Arc<PolicyEngine>> {
        self.stack.policy_engine()
    }

    /// Authorization decisions, and the hierarchy guards use.
    #[must_use]
    pub fn authorization(&self) -> &AuthorizationService {
        self.stack.authorization()
    }

    /// The authentication flows.
    #[must_use]
    pub fn service(&self) -> &AuthService {
        self.stack.service()
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &AuthConfig {
        self.stack.config()
    }

    /// The proxies whose forwarding headers name the client (`AUTH__SERVER__TRUSTED_PROXIES`;
    /// see [`ClientAddr`](crate::ClientAddr)).
    #[must_use]
    pub fn trusted_proxies(&self) -> &auth_core::client::TrustedProxies {
        self.stack.trusted_proxies()
    }

    /// The auth routes (`/auth/register`, `/auth/login`, `/auth/refresh`, `/auth/logout`,
    /// `/auth/me`) and `/health`, `/ready`, for any state the module can be taken from.
    pub fn routes<S>(&self) -> Router<S>
    where
        S: Clone + Send + Sync + 'static,
        AuthModule: FromRef<S>,
    {
        routes::auth_routes(self.config().server.body_limit_bytes).merge(routes::health_routes())
    }
}
