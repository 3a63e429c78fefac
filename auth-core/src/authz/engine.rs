//! Attribute rules and RBAC with domains on casbin: a service supplies a casbin model (ABAC
//! over subject, resource and environment attributes; tenants as RBAC domains) and its
//! policies live in our store through [`SqlCasbinAdapter`](crate::store::sql::SqlCasbinAdapter).
//!
//! ```
//! use auth_core::authz::engine::PolicyEngine;
//!
//! const RBAC_WITH_DOMAINS: &str = "
//! [request_definition]
//! r = sub, dom, obj, act
//! [policy_definition]
//! p = sub, dom, obj, act
//! [role_definition]
//! g = _, _, _
//! [policy_effect]
//! e = some(where (p.eft == allow))
//! [matchers]
//! m = g(r.sub, p.sub, r.dom) && r.dom == p.dom && r.obj == p.obj && r.act == p.act
//! ";
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), auth_core::authz::engine::PolicyError> {
//! let engine = PolicyEngine::in_memory(RBAC_WITH_DOMAINS).await?;
//! engine.add_policy(["admin", "tenant-a", "articles", "write"]).await?;
//! engine.add_grouping_policy(["alice", "admin", "tenant-a"]).await?;
//! // Admin in tenant A, nothing in tenant B.
//! assert!(engine.enforce(["alice", "tenant-a", "articles", "write"]).await?);
//! assert!(!engine.enforce(["alice", "tenant-b", "articles", "write"]).await?);
//! # Ok(()) }
//! ```

use casbin::{CoreApi, DefaultModel, EnforceArgs, Enforcer, MemoryAdapter, MgmtApi};
use tokio::sync::RwLock;

/// A casbin failure: a bad model, a policy the adapter could not store, an enforce error.
#[derive(Debug, thiserror::Error)]
#[error("policy engine: {0}")]
pub struct PolicyError(#[from] casbin::Error);

/// A casbin enforcer behind our API. Decisions read-lock; policy changes write-lock and are
/// persisted through the adapter.
pub struct PolicyEngine {
    enforcer: RwLock<Enforcer>,
}

impl std::fmt::Debug for PolicyEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PolicyEngine").finish_non_exhaustive()
    }
}

fn strings<const N: usize>(rule: [&str; N]) -> Vec<String> {
    rule.iter().map(|s| (*s).to_owned()).collect()
}

impl PolicyEngine {
    /// An engine over `model` (casbin model text) with policies loaded from `adapter`.
    ///
    /// # Errors
    /// [`PolicyError`] when the model does not parse or the policies cannot be loaded.
    pub async fn new(
        model: &str,
        adapter: impl casbin::Adapter + 'static,
    ) -> Result<Self, PolicyError> {
        let model = DefaultModel::from_str(model).await?;
        let enforcer = Enforcer::new(model, adapter).await?;
        Ok(Self {
            enforcer: RwLock::new(enforcer),
        })
    }

    /// An engine whose policies live only in memory (tests, examples).
    ///
    /// # Errors
    /// As [`new`](Self::new).
    pub async fn in_memory(model: &str) -> Result<Self, PolicyError> {
        Self::new(model, MemoryAdapter::default()).await
    }

    /// Decides a request of plain strings (`sub, obj, act` or as the model defines).
    ///
    /// # Errors
    /// [`PolicyError`] when the request does not fit the model.
    pub async fn enforce<const N: usize>(&self, request: [&str; N]) -> Result<bool, PolicyError> {
        self.enforce_with(strings(request)).await
    }

    /// Decides a request of any casbin arguments, e.g. serializable attribute structs for
    /// ABAC matchers such as `r.sub.owner == r.obj.owner`.
    ///
    /// # Errors
    /// [`PolicyError`] when the request does not fit the model.
    pub async fn enforce_with(&self, request: impl EnforceArgs) -> Result<bool, PolicyError> {
        Ok(self.enforcer.read().await.enforce(request)?)
    }

    /// Adds a `p` rule; returns whether it was new.
    ///
    /// # Errors
    /// [`PolicyError`] when the adapter cannot store it.
    pub async fn add_policy<const N: usize>(&self, rule: [&str; N]) -> Result<bool, PolicyError> {
        Ok(self
            .enforcer
            .write()
            .await
            .add_policy(strings(rule))
            .await?)
    }

    /// Removes a `p` rule; returns whether it existed.
    ///
    /// # Errors
    /// [`PolicyError`] when the adapter cannot remove it.
    pub async fn remove_policy<const N: usize>(
        &self,
        rule: [&str; N],
    ) -> Result<bool, PolicyError> {
        Ok(self
            .enforcer
            .write()
            .await
            .remove_policy(strings(rule))
            .await?)
    }

    /// Adds a `g` rule (role assignment, with a domain where the model has one).
    ///
    /// # Errors
    /// [`PolicyError`] when the adapter cannot store it.
    pub async fn add_grouping_policy<const N: usize>(
        &self,
        rule: [&str; N],
    ) -> Result<bool, PolicyError> {
        Ok(self
            .enforcer
            .write()
            .await
            .add_grouping_policy(strings(rule))
            .await?)
    }

    /// Reloads every policy from the adapter (another instance changed them).
    ///
    /// # Errors
    /// [`PolicyError`] when the adapter cannot load them.
    pub async fn reload(&self) -> Result<(), PolicyError> {
        Ok(self.enforcer.write().await.load_policy().await?)
    }
}
