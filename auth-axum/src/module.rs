use std::fmt;
use std::sync::Arc;

use auth_core::authz::engine::PolicyEngine;
use auth_core::authz::{AuthorizationService, RoleError, RoleHierarchy, RoleSchema};
use auth_core::service::SetupError;
use auth_core::{AuthConfig, AuthService};
use axum::extract::FromRef;
use axum::Router;

use crate::routes;

struct Inner {
    service: AuthService,
    config: AuthConfig,
    authz: Arc<AuthorizationService>,
    policies: Option<Arc<PolicyEngine>>,
}

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
#[derive(Clone)]
pub struct AuthModule {
    inner: Arc<Inner>,
}

impl fmt::Debug for AuthModule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthModule")
            .field("service", &self.inner.service)
            .finish_non_exhaustive()
    }
}

impl AuthModule {
    /// Builds the whole stack from configuration: database (SQLite created and migrated on
    /// first start, or PostgreSQL), keys (generated and kept in development), service.
    ///
    /// # Errors
    /// [`SetupError`] naming what to fix.
    pub async fn configure(config: AuthConfig) -> Result<Self, SetupError> {
        let service = AuthService::from_config(&config).await?;
        Ok(Self::new(service, config))
    }

    /// A module over an already built service, with the roles of `config.authz` (an invalid
    /// role configuration is refused earlier, by [`AuthConfig::validate`]).
    #[must_use]
    pub fn new(service: AuthService, config: AuthConfig) -> Self {
        let roles = config.authz.hierarchy().unwrap_or_else(|e| {
            tracing::error!(error = %e, "ignoring the configured roles");
            RoleHierarchy::default()
        });
        Self {
            inner: Arc::new(Inner {
                service,
                config,
                authz: Arc::new(AuthorizationService::new(roles)),
                policies: None,
            }),
        }
    }

    /// Adds these roles to the module's (configured ones included): role inheritance and
    /// the permissions roles grant, for guards and [`authorization`](Self::authorization).
    ///
    /// # Errors
    /// [`RoleError`] when the union has a cycle or an unknown parent.
    pub fn with_roles(self, roles: &RoleHierarchy) -> Result<Self, RoleError> {
        let composed = self.inner.authz.roles().compose(roles)?;
        Ok(Self {
            inner: Arc::new(Inner {
                service: self.inner.service.clone(),
                config: self.inner.config.clone(),
                authz: Arc::new(AuthorizationService::new(composed)),
                policies: self.inner.policies.clone(),
            }),
        })
    }

    /// Adds the hierarchy of a `#[derive(Roles)]` enum.
    ///
    /// # Errors
    /// As [`with_roles`](Self::with_roles).
    pub fn with_role_schema<R: RoleSchema>(self) -> Result<Self, RoleError> {
        self.with_roles(&R::hierarchy())
    }

    /// Attaches a casbin [`PolicyEngine`]: `#[require_tenant_roles]` guards ask it for the
    /// roles a user holds in the request's tenant (its model's `g` rules with domains). Join
    /// it to a change bus with [`PolicyEngine::follow`] so that changes made on other
    /// instances reach it.
    #[must_use]
    pub fn with_policy_engine(self, engine: Arc<PolicyEngine>) -> Self {
        Self {
            inner: Arc::new(Inner {
                service: self.inner.service.clone(),
                config: self.inner.config.clone(),
                authz: Arc::clone(&self.inner.authz),
                policies: Some(engine),
            }),
        }
    }

    /// The casbin policy engine, when one was attached.
    #[must_use]
    pub fn policy_engine(&self) -> Option<&Arc<PolicyEngine>> {
        self.inner.policies.as_ref()
    }

    /// Authorization decisions, and the hierarchy guards use; roles can be replaced at run
    /// time with [`AuthorizationService::set_roles`].
    #[must_use]
    pub fn authorization(&self) -> &AuthorizationService {
        &self.inner.authz
    }

    /// The authentication flows.
    #[must_use]
    pub fn service(&self) -> &AuthService {
        &self.inner.service
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &AuthConfig {
        &self.inner.config
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
