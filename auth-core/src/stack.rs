//! The one composition root: configuration in, the configured runtime out.
//!
//! [`AuthStack`] assembles what a service runs on: the stores, the keys, the
//! [`AuthService`] flows, the role hierarchy (typed, configured and stored roles), the casbin
//! policy engine for tenants and attribute rules (feature `casbin`), and, with Redis, the change-bus
//! followers that keep several instances in agreement. Web adapters hold a handle to it and
//! add only HTTP glue (`auth_axum::AuthModule`); a second adapter would copy nothing.
//!
//! ```no_run
//! use auth_core::{AuthConfig, AuthStack};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let stack = AuthStack::configure(AuthConfig::load()?).await?;
//! let roles = stack.authorization().roles();
//! # let _ = roles;
//! # Ok(()) }
//! ```

use std::fmt;
use std::sync::{Arc, OnceLock, PoisonError, RwLock};

use tokio::sync::broadcast;
use tokio::task::JoinHandle;

#[cfg(feature = "casbin")]
use crate::authz::engine::{PolicyEngine, TENANT_MODEL};
use crate::authz::{compose_roles, load_roles, LoadRolesError, RoleRecord};
use crate::authz::{AuthorizationService, RoleError, RoleHierarchy, RoleSchema};
use crate::client::TrustedProxies;
use crate::config::{AuthConfig, ConfigError};
use crate::invalidation::{Change, ChangeBus, Notice, Origin};
use crate::service::{AuthService, SetupError};
#[cfg(all(feature = "casbin", any(feature = "sqlite", feature = "postgres")))]
use crate::store::sql::SqlCasbinAdapter;

#[derive(Clone)]
struct Inner {
    service: AuthService,
    config: AuthConfig,
    authz: Arc<AuthorizationService>,
    /// Typed and configured roles: what stored roles compose with on every reload. Shared
    /// by every clone, like `authz`, so a bus listener started earlier sees roles added later.
    base: Arc<RwLock<RoleHierarchy>>,
    #[cfg(feature = "casbin")]
    policies: Option<Arc<PolicyEngine>>,
    bus: OnceLock<ChangeBus>,
    origin: Origin,
    /// `AUTH__SERVER__TRUSTED_PROXIES`, parsed.
    proxies: Arc<TrustedProxies>,
}

/// The configured auth runtime: flows, roles, policies and cross-instance followers. Cheap
/// to clone; clones share everything.
#[derive(Clone)]
pub struct AuthStack {
    inner: Arc<Inner>,
}

impl fmt::Debug for AuthStack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthStack")
            .field("service", &self.inner.service)
            .finish_non_exhaustive()
    }
}

impl AuthStack {
    /// Builds the whole stack from configuration: database (SQLite created and migrated on
    /// first start, or PostgreSQL), keys (generated and kept in development), service, the
    /// stored roles, a casbin policy engine over the same database (feature `casbin`;
    /// `AUTH__AUTHZ__MODEL`, default the tenant model) and, when `AUTH__REDIS__URL` is set, the change bus that
    /// keeps several instances in agreement ([`follow`](Self::follow)).
    ///
    /// # Errors
    /// [`SetupError`] naming what to fix.
    pub async fn configure(config: AuthConfig) -> Result<Self, SetupError> {
        let connected = crate::service::setup::connect(&config).await?;
        let service =
            crate::service::AuthServiceBuilder::connected(config.clone(), connected.stores)
                .build()?;
        service.warm_up().await?;
        #[cfg(feature = "casbin")]
        let stack = {
            let engine = policy_engine(&config, connected.sql).await?;
            Self::new(service, config).with_policy_engine(Arc::new(engine))
        };
        #[cfg(not(feature = "casbin"))]
        let stack = Self::new(service, config);
        let bus = stack.service().bus().cloned();
        stack.reload_roles().await?;
        bootstrap_admin(stack.service(), &stack.config().bootstrap).await?;
        if let Some(bus) = bus {
            // The tasks live as long as the process; nothing needs to stop them.
            drop(stack.follow(&bus));
        }
        if stack.config().maintenance.enabled {
            // As long as the process, too.
            drop(stack.service().maintenance().spawn());
        }
        Ok(stack)
    }

    fn base(&self) -> RoleHierarchy {
        self.inner
            .base
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn with_inner(&self, change: impl FnOnce(&mut Inner)) -> Self {
        let mut inner = (*self.inner).clone();
        change(&mut inner);
        Self {
            inner: Arc::new(inner),
        }
    }

    /// Recompiles the hierarchy from the typed and configured roles and every role in the
    /// store, and swaps it in atomically. Runs at [`configure`](Self::configure), after
    /// [`put_role`](Self::put_role) and [`delete_role`](Self::delete_role), and when another
    /// instance announces a role change on the bus ([`follow`](Self::follow)).
    ///
    /// # Errors
    /// [`LoadRolesError`]; the hierarchy in use stays as it was.
    pub async fn reload_roles(&self) -> Result<(), LoadRolesError> {
        let base = self.base();
        let roles = load_roles(self.inner.service.role_store().as_ref(), &base).await?;
        self.inner.authz.set_roles(roles);
        Ok(())
    }

    /// Creates or replaces a stored role definition, after checking that the hierarchy stays
    /// free of cycles and unknown parents; guards here use it at once, other instances once
    /// the bus delivers the change.
    ///
    /// # Errors
    /// [`LoadRolesError::Roles`] naming the roles of a cycle or an unknown parent (nothing is
    /// stored), or [`LoadRolesError::Store`].
    pub async fn put_role(&self, role: RoleRecord) -> Result<(), LoadRolesError> {
        let store = self.inner.service.role_store();
        let mut records = store.list_roles().await?;
        records.retain(|r| r.name != role.name);
        records.push(role.clone());
        let roles = compose_roles(&self.base(), &records)?;
        store.put_role(&role).await?;
        self.inner.authz.set_roles(roles);
        self.announce(Change::Roles).await;
        Ok(())
    }

    /// Deletes a stored role definition; returns whether it existed. Refused while another
    /// role inherits from it.
    ///
    /// # Errors
    /// As [`put_role`](Self::put_role).
    pub async fn delete_role(&self, name: &str) -> Result<bool, LoadRolesError> {
        let store = self.inner.service.role_store();
        let mut records = store.list_roles().await?;
        records.retain(|r| r.name != name);
        let roles = compose_roles(&self.base(), &records)?;
        let existed = store.delete_role(name).await?;
        self.inner.authz.set_roles(roles);
        if existed {
            self.announce(Change::Roles).await;
        }
        Ok(existed)
    }

    async fn announce(&self, change: Change) {
        if let Some(bus) = self.inner.bus.get() {
            bus.publish_or_warn(self.inner.origin, change, "at their next resync")
                .await;
        }
    }

    /// Joins `bus` so that several instances agree: role changes made here are published, and
    /// a background task reloads the roles when another instance changed them (or after a
    /// [`Notice::Resync`]). The policy engine, when attached, joins the same bus. Abort the
    /// returned handles to leave.
    pub fn follow(&self, bus: &ChangeBus) -> Vec<JoinHandle<()>> {
        let _ = self.inner.bus.set(bus.clone());
        let mut tasks = Vec::new();
        #[cfg(feature = "casbin")]
        if let Some(engine) = &self.inner.policies {
            tasks.push(engine.follow(bus));
        }
        let mut notices = bus.subscribe();
        let stack = self.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                let reload = match notices.recv().await {
                    Ok(Notice::Change(envelope)) => {
                        envelope.origin != stack.inner.origin && envelope.change == Change::Roles
                    }
                    Ok(Notice::Resync) | Err(broadcast::error::RecvError::Lagged(_)) => true,
                    Ok(_) => false,
                    Err(broadcast::error::RecvError::Closed) => return,
                };
                if reload {
                    if let Err(e) = stack.reload_roles().await {
                        tracing::error!(error = %e, "roles not reloaded after a change on another instance");
                    }
                }
            }
        }));
        tasks
    }

    /// A stack over an already built service, with the roles of `config.authz` (an invalid
    /// role configuration is refused earlier, by [`AuthConfig::validate`]).
    #[must_use]
    pub fn new(service: AuthService, config: AuthConfig) -> Self {
        let roles = config.authz.hierarchy().unwrap_or_else(|e| {
            tracing::error!(error = %e, "ignoring the configured roles");
            RoleHierarchy::default()
        });
        let proxies = config.server.trusted_proxies().unwrap_or_else(|e| {
            // `AuthConfig::validate` refuses this before a stack is built from loaded
            // configuration; a hand-built one trusts no proxy rather than a wrong one.
            tracing::error!(error = %e, "trusting no proxy");
            TrustedProxies::none()
        });
        Self {
            inner: Arc::new(Inner {
                proxies: Arc::new(proxies),
                service,
                config,
                authz: Arc::new(AuthorizationService::new(roles.clone())),
                base: Arc::new(RwLock::new(roles)),
                #[cfg(feature = "casbin")]
                policies: None,
                bus: OnceLock::new(),
                origin: Origin::new(),
            }),
        }
    }

    /// Adds these roles to the stack's (configured and stored ones included): role
    /// inheritance and the permissions roles grant, for guards and
    /// [`authorization`](Self::authorization). Every clone of the stack shares its roles, so
    /// they also hold for the bus listener [`configure`](Self::configure) started.
    ///
    /// # Errors
    /// [`RoleError`] when the union has a cycle or an unknown parent; nothing changes then.
    pub fn with_roles(self, roles: &RoleHierarchy) -> Result<Self, RoleError> {
        let composed = self.inner.authz.roles().compose(roles)?;
        let base = self.base().compose(roles)?;
        *self
            .inner
            .base
            .write()
            .unwrap_or_else(PoisonError::into_inner) = base;
        self.inner.authz.set_roles(composed);
        Ok(self)
    }

    /// Runs the flows with a user model of the service's own
    /// ([`AuthService::with_user_model`]): registration reads and checks its profile fields,
    /// and the public user shows them.
    #[must_use]
    pub fn with_user_model<M: crate::user::UserModel>(self) -> Self {
        self.with_inner(|inner| {
            inner.service = inner.service.clone().with_user_model::<M>();
        })
    }

    /// Adds the hierarchy of a `#[derive(Roles)]` enum.
    ///
    /// # Errors
    /// As [`with_roles`](Self::with_roles).
    pub fn with_role_schema<R: RoleSchema>(self) -> Result<Self, RoleError> {
        self.with_roles(&R::hierarchy())
    }

    #[cfg(feature = "casbin")]
    /// Attaches a casbin [`PolicyEngine`]: `#[require_tenant_roles]` guards ask it for the
    /// roles a user holds in the request's tenant (its model's `g` rules with domains). Join
    /// it to a change bus with [`PolicyEngine::follow`] so that changes made on other
    /// instances reach it.
    #[must_use]
    pub fn with_policy_engine(self, engine: Arc<PolicyEngine>) -> Self {
        self.with_inner(|inner| inner.policies = Some(engine))
    }

    #[cfg(feature = "casbin")]
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

    /// The proxies whose forwarding headers name the client (`AUTH__SERVER__TRUSTED_PROXIES`):
    /// one resolution of the client address for sessions, lockout, rate limits and audit.
    #[must_use]
    pub fn trusted_proxies(&self) -> &TrustedProxies {
        &self.inner.proxies
    }
}

/// The casbin engine over the stack's database (or in memory without one), with the model of
/// `AUTH__AUTHZ__MODEL` or the default [`TENANT_MODEL`].
#[cfg(feature = "casbin")]
async fn policy_engine(
    config: &AuthConfig,
    sql: crate::service::setup::SqlHandle,
) -> Result<PolicyEngine, SetupError> {
    let model = match &config.authz.model {
        Some(path) => tokio::fs::read_to_string(path)
            .await
            .map_err(|e| ConfigError::Invalid {
                var: "AUTH__AUTHZ__MODEL",
                reason: format!("cannot read the casbin model `{}`: {e}", path.display()),
            })?,
        None => TENANT_MODEL.to_owned(),
    };
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    let engine = match sql {
        Some(store) => PolicyEngine::new(&model, SqlCasbinAdapter::new(store)).await?,
        None => PolicyEngine::in_memory(&model).await?,
    };
    #[cfg(not(any(feature = "sqlite", feature = "postgres")))]
    let engine = {
        let _: Option<()> = sql;
        PolicyEngine::in_memory(&model).await?
    };
    Ok(engine)
}

/// Creates the first admin `[bootstrap]` names, when no user has that username yet (an
/// existing account is left as it is, its password too).
async fn bootstrap_admin(
    service: &AuthService,
    bootstrap: &crate::config::BootstrapConfig,
) -> Result<(), SetupError> {
    use secrecy::ExposeSecret as _;
    let (Some(username), Some(password)) = (&bootstrap.admin_username, &bootstrap.admin_password)
    else {
        return Ok(());
    };
    if service.users().get_by_username(username).await?.is_some() {
        return Ok(());
    }
    let email = bootstrap
        .admin_email
        .clone()
        .unwrap_or_else(|| format!("{username}@localhost.invalid"));
    let invalid = |e: crate::error::AuthError| ConfigError::Invalid {
        var: "AUTH__BOOTSTRAP__ADMIN_USERNAME",
        reason: format!("cannot create the first admin: {e}"),
    };
    let user = service
        .register(crate::service::RegisterRequest::new(
            username.as_str(),
            email,
            password.expose_secret(),
        ))
        .await
        .map_err(invalid)?;
    service
        .assign_role(&user.id, "admin")
        .await
        .map_err(invalid)?;
    tracing::info!(username = %username, "created the first admin (AUTH__BOOTSTRAP__ADMIN_USERNAME)");
    Ok(())
}
