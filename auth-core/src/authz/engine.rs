//! Attribute rules and RBAC with domains on casbin: a service supplies a casbin model (ABAC
//! over subject, resource and environment attributes; tenants as RBAC domains) and its
//! policies live in our store through [`SqlCasbinAdapter`](crate::store::sql::SqlCasbinAdapter).
//!
//! - Decisions on string requests are cached; the cache is emptied on every policy change,
//!   local or remote, under the same lock as the change, so no stale decision survives it.
//! - [`explain`](PolicyEngine::explain) says which rules allowed a request.
//! - [`follow`](PolicyEngine::follow) joins a [`ChangeBus`]: changes made here are published
//!   and changes made on other instances are applied incrementally (a whole reload only when
//!   the bus may have lost messages).
//! - ABAC models can use the request's [`Environment`] (client IP, method, UTC time, weekday),
//!   casbin's `ipMatch` and our `timeWindow(r.env.time, "09:00-17:00")`; see
//!   [`ENVIRONMENT_MODEL`] for a complete model.
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

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, OnceLock};

use casbin::function_map::{dynamic_to_str, OperatorFunction};
use casbin::rhai::Dynamic;
use casbin::{
    CoreApi, DefaultModel, EnforceArgs, Enforcer, EventData, MemoryAdapter, MgmtApi, RbacApi,
};
use serde::Serialize;
use tokio::sync::{broadcast, RwLock};
use tokio::task::JoinHandle;

use crate::invalidation::{Change, ChangeBus, Notice, Origin, PolicyOp};

/// A casbin failure: a bad model, a policy the adapter could not store, an enforce error.
#[derive(Debug, thiserror::Error)]
#[error("policy engine: {0}")]
pub struct PolicyError(#[from] casbin::Error);

/// casbin's RBAC with domains: `g, user, role, tenant` gives a user a role in one tenant, and
/// `p, role, tenant, object, action` what the role may do there (objects may use `keyMatch`
/// wildcards, actions `*`). The default model of `auth_axum::AuthModule::configure`, which
/// `#[require_tenant_roles]` guards read.
pub const TENANT_MODEL: &str = "
[request_definition]
r = sub, dom, obj, act
[policy_definition]
p = sub, dom, obj, act
[role_definition]
g = _, _, _
[policy_effect]
e = some(where (p.eft == allow))
[matchers]
m = g(r.sub, p.sub, r.dom) && r.dom == p.dom && keyMatch(r.obj, p.obj) && (r.act == p.act || p.act == \"*\")
";

/// An ABAC model over subject, resource and environment attributes, ready to use with
/// [`Subject`], [`Resource`] and [`Environment`]. A rule allows an action on a kind of
/// resource to a subject condition, within a UTC time window, from an IP range, for matching
/// request methods:
///
/// ```text
/// p, r.sub.tenant == r.obj.tenant, report, read, 09:00-17:00, 10.0.0.0/8, GET|HEAD
/// p, r.sub.id == r.obj.owner, report, write, *, 0.0.0.0/0, .*
/// ```
pub const ENVIRONMENT_MODEL: &str = r#"
[request_definition]
r = sub, obj, act, env
[policy_definition]
p = sub_rule, kind, act, window, cidr, methods
[policy_effect]
e = some(where (p.eft == allow))
[matchers]
m = r.obj.kind == p.kind && r.act == p.act && eval(p.sub_rule) && timeWindow(r.env.time, p.window) && ipMatch(r.env.ip, p.cidr) && regexMatch(r.env.method, "^(" + p.methods + ")$")
"#;

/// The subject of an ABAC request: `r.sub.id`, `r.sub.tenant`, `r.sub.roles`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[non_exhaustive]
pub struct Subject {
    /// The user id.
    pub id: String,
    /// The tenant, empty when none.
    pub tenant: String,
    /// The roles.
    pub roles: Vec<String>,
}

impl Subject {
    /// The subject a principal describes.
    #[must_use]
    pub fn from_principal(principal: &crate::Principal) -> Self {
        Self {
            id: principal.user_id.as_str().to_owned(),
            tenant: principal.tenant.clone().unwrap_or_default(),
            roles: principal.roles.clone(),
        }
    }
}

/// The resource of an ABAC request: `r.obj.kind`, `r.obj.id`, `r.obj.owner`, `r.obj.tenant`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[non_exhaustive]
pub struct Resource {
    /// The kind of resource, e.g. `report`.
    pub kind: String,
    /// Its id.
    pub id: String,
    /// The owning user id, empty when none.
    pub owner: String,
    /// The owning tenant, empty when none.
    pub tenant: String,
}

impl Resource {
    /// A resource of `kind` with `id`, no owner or tenant yet.
    #[must_use]
    pub fn new(kind: impl Into<String>, id: impl Into<String>) -> Self {
        Self {
            kind: kind.into(),
            id: id.into(),
            owner: String::new(),
            tenant: String::new(),
        }
    }

    /// Sets the owning user.
    #[must_use]
    pub fn owned_by(mut self, owner: impl Into<String>) -> Self {
        self.owner = owner.into();
        self
    }

    /// Sets the owning tenant.
    #[must_use]
    pub fn in_tenant(mut self, tenant: impl Into<String>) -> Self {
        self.tenant = tenant.into();
        self
    }
}

/// The environment of an ABAC request: `r.env.ip`, `r.env.method`, `r.env.time` (UTC
/// `HH:MM`), `r.env.weekday` (1 = Monday … 7 = Sunday).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[non_exhaustive]
pub struct Environment {
    /// The client IP address.
    pub ip: String,
    /// The request method, upper case.
    pub method: String,
    /// UTC time of day, `HH:MM`.
    pub time: String,
    /// ISO weekday, 1 = Monday.
    pub weekday: u8,
}

impl Environment {
    /// The environment of a request from `ip` with `method` at `at`.
    #[must_use]
    pub fn new(ip: IpAddr, method: &str, at: time::OffsetDateTime) -> Self {
        let at = at.to_offset(time::UtcOffset::UTC);
        Self {
            ip: ip.to_string(),
            method: method.to_ascii_uppercase(),
            time: format!("{:02}:{:02}", at.hour(), at.minute()),
            weekday: at.weekday().number_from_monday(),
        }
    }
}

/// Minutes since midnight of `HH:MM`.
fn minutes(hhmm: &str) -> Option<u16> {
    let (h, m) = hhmm.trim().split_once(':')?;
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some(h * 60 + m)
}

/// `timeWindow(time, window)`: whether `HH:MM` lies in `HH:MM-HH:MM` (start inclusive, end
/// exclusive; a window that ends before it starts spans midnight; `*` is always). A malformed
/// time or window never matches.
#[must_use]
pub fn time_window(time: &str, window: &str) -> bool {
    if window.trim() == "*" {
        return true;
    }
    let parsed = window
        .split_once('-')
        .and_then(|(start, end)| Some((minutes(start)?, minutes(end)?, minutes(time)?)));
    match parsed {
        Some((start, end, t)) if start <= end => start <= t && t < end,
        Some((start, end, t)) => t >= start || t < end,
        None => false,
    }
}

/// Why a request was allowed: the policy rules that matched (empty when denied).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Explanation {
    /// Whether the request is allowed.
    pub allowed: bool,
    /// The `p` rules that allowed it.
    pub rules: Vec<Vec<String>>,
}

/// Decisions cached for string requests; bounded, emptied whenever the policies change.
const CACHE_CAPACITY: usize = 65_536;

/// A casbin enforcer behind our API. Decisions read-lock; policy changes write-lock, are
/// persisted through the adapter and, once [`follow`](Self::follow) joined a bus, published
/// to the other instances.
pub struct PolicyEngine {
    enforcer: RwLock<Enforcer>,
    cache: std::sync::RwLock<HashMap<Vec<String>, bool>>,
    bus: OnceLock<ChangeBus>,
    origin: Origin,
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
        let mut enforcer = Enforcer::new(model, adapter).await?;
        enforcer.add_function(
            "timeWindow",
            OperatorFunction::Arg2(|time: Dynamic, window: Dynamic| {
                time_window(&dynamic_to_str(&time), &dynamic_to_str(&window)).into()
            }),
        );
        Ok(Self {
            enforcer: RwLock::new(enforcer),
            cache: std::sync::RwLock::default(),
            bus: OnceLock::new(),
            origin: Origin::new(),
        })
    }

    /// An engine whose policies live only in memory (tests, examples).
    ///
    /// # Errors
    /// As [`new`](Self::new).
    pub async fn in_memory(model: &str) -> Result<Self, PolicyError> {
        Self::new(model, MemoryAdapter::default()).await
    }

    fn cached(&self, request: &[String]) -> Option<bool> {
        self.cache
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(request)
            .copied()
    }

    fn clear_cache(&self) {
        self.cache
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
    }

    /// Decides a request of plain strings (`sub, obj, act` or as the model defines). Decisions
    /// are cached until the policies change.
    ///
    /// # Errors
    /// [`PolicyError`] when the request does not fit the model.
    pub async fn enforce<const N: usize>(&self, request: [&str; N]) -> Result<bool, PolicyError> {
        let request = strings(request);
        if let Some(hit) = self.cached(&request) {
            return Ok(hit);
        }
        // Decide and cache under the read lock: a change (write lock) cannot slip between,
        // and it empties the cache after itself.
        let enforcer = self.enforcer.read().await;
        let allowed = enforcer.enforce(request.clone())?;
        let mut cache = self
            .cache
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if cache.len() >= CACHE_CAPACITY {
            cache.clear();
        }
        cache.insert(request, allowed);
        Ok(allowed)
    }

    /// Decides a request of any casbin arguments, e.g. serializable attribute structs for
    /// ABAC matchers such as `r.sub.id == r.obj.owner`. Not cached: attributes vary per
    /// request.
    ///
    /// # Errors
    /// [`PolicyError`] when the request does not fit the model.
    pub async fn enforce_with(&self, request: impl EnforceArgs) -> Result<bool, PolicyError> {
        Ok(self.enforcer.read().await.enforce(request)?)
    }

    /// Decides a request and says which policy rules allowed it.
    ///
    /// ```
    /// # use auth_core::authz::engine::PolicyEngine;
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), auth_core::authz::engine::PolicyError> {
    /// let engine = PolicyEngine::in_memory("
    /// [request_definition]
    /// r = sub, obj, act
    /// [policy_definition]
    /// p = sub, obj, act
    /// [role_definition]
    /// g = _, _
    /// [policy_effect]
    /// e = some(where (p.eft == allow))
    /// [matchers]
    /// m = g(r.sub, p.sub) && r.obj == p.obj && r.act == p.act
    /// ").await?;
    /// engine.add_policy(["editor", "articles", "write"]).await?;
    /// engine.add_grouping_policy(["alice", "editor"]).await?;
    /// let why = engine.explain(("alice", "articles", "write")).await?;
    /// assert!(why.allowed);
    /// assert_eq!(why.rules, vec![vec!["editor", "articles", "write"]]);
    /// assert!(engine.explain(("alice", "articles", "delete")).await?.rules.is_empty());
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`PolicyError`] when the request does not fit the model.
    pub async fn explain(&self, request: impl EnforceArgs) -> Result<Explanation, PolicyError> {
        let (allowed, rules) = self.enforcer.read().await.enforce_ex(request)?;
        Ok(Explanation { allowed, rules })
    }

    /// The roles `user` holds in `domain` (tenant), inherited ones included, as the model's
    /// `g` rules with domains define them.
    pub async fn roles_in_domain(&self, user: &str, domain: &str) -> Vec<String> {
        self.enforcer
            .read()
            .await
            .get_implicit_roles_for_user(user, Some(domain))
    }

    /// Tells the other instances about a change made here.
    async fn publish(&self, op: PolicyOp, sec: &str, ptype: &str, rule: Vec<String>) {
        if let Some(bus) = self.bus.get() {
            let change = Change::Policy {
                op,
                sec: sec.to_owned(),
                ptype: ptype.to_owned(),
                rules: vec![rule],
            };
            bus.publish_or_warn(self.origin, change, "at their next resync")
                .await;
        }
    }

    /// Applies one rule change here (adapter, model, role links), empties the cache under the
    /// same lock, and tells the other instances when something changed.
    async fn change(
        &self,
        op: PolicyOp,
        sec: &str,
        rule: Vec<String>,
    ) -> Result<bool, PolicyError> {
        let changed = {
            let mut enforcer = self.enforcer.write().await;
            let changed = match (op, sec) {
                (PolicyOp::Add, "p") => enforcer.add_policy(rule.clone()).await?,
                (PolicyOp::Remove, "p") => enforcer.remove_policy(rule.clone()).await?,
                (PolicyOp::Add, _) => enforcer.add_grouping_policy(rule.clone()).await?,
                (PolicyOp::Remove, _) => enforcer.remove_grouping_policy(rule.clone()).await?,
            };
            self.clear_cache();
            changed
        };
        if changed {
            self.publish(op, sec, sec, rule).await;
        }
        Ok(changed)
    }

    /// Adds a `p` rule; returns whether it was new.
    ///
    /// # Errors
    /// [`PolicyError`] when the adapter cannot store it.
    pub async fn add_policy<const N: usize>(&self, rule: [&str; N]) -> Result<bool, PolicyError> {
        self.change(PolicyOp::Add, "p", strings(rule)).await
    }

    /// Removes a `p` rule; returns whether it existed.
    ///
    /// # Errors
    /// [`PolicyError`] when the adapter cannot remove it.
    pub async fn remove_policy<const N: usize>(
        &self,
        rule: [&str; N],
    ) -> Result<bool, PolicyError> {
        self.change(PolicyOp::Remove, "p", strings(rule)).await
    }

    /// Adds a `g` rule (role assignment, with a domain where the model has one).
    ///
    /// # Errors
    /// [`PolicyError`] when the adapter cannot store it.
    pub async fn add_grouping_policy<const N: usize>(
        &self,
        rule: [&str; N],
    ) -> Result<bool, PolicyError> {
        self.change(PolicyOp::Add, "g", strings(rule)).await
    }

    /// Removes a `g` rule; returns whether it existed.
    ///
    /// # Errors
    /// [`PolicyError`] when the adapter cannot remove it.
    pub async fn remove_grouping_policy<const N: usize>(
        &self,
        rule: [&str; N],
    ) -> Result<bool, PolicyError> {
        self.change(PolicyOp::Remove, "g", strings(rule)).await
    }

    /// Reloads every policy from the adapter.
    ///
    /// # Errors
    /// [`PolicyError`] when the adapter cannot load them.
    pub async fn reload(&self) -> Result<(), PolicyError> {
        let mut enforcer = self.enforcer.write().await;
        enforcer.load_policy().await?;
        self.clear_cache();
        Ok(())
    }

    /// Applies a change another instance made (and already stored) to this engine's model
    /// only: rules and role links incrementally, nothing written to the adapter.
    ///
    /// # Errors
    /// [`PolicyError`] when role links cannot be rebuilt for the rules.
    pub async fn apply(&self, change: &Change) -> Result<(), PolicyError> {
        let Change::Policy {
            op,
            sec,
            ptype,
            rules,
        } = change
        else {
            return match change {
                Change::PolicyReload => self.reload().await,
                _ => Ok(()),
            };
        };
        let mut enforcer = self.enforcer.write().await;
        let model = enforcer.get_mut_model();
        let event = match op {
            PolicyOp::Add => {
                model.add_policies(sec, ptype, rules.clone());
                EventData::AddPolicies(sec.clone(), ptype.clone(), rules.clone())
            }
            PolicyOp::Remove => {
                model.remove_policies(sec, ptype, rules.clone());
                EventData::RemovePolicies(sec.clone(), ptype.clone(), rules.clone())
            }
        };
        if sec == "g" {
            enforcer.build_incremental_role_links(event)?;
        }
        self.clear_cache();
        Ok(())
    }

    /// Joins `bus`: from now on changes made here are published, and a background task applies
    /// the changes of other instances (incrementally; a full reload after a
    /// [`Notice::Resync`]). The task ends when the bus closes or the returned handle is
    /// aborted.
    ///
    /// A bus can be joined once; later calls only start another listener.
    pub fn follow(self: &Arc<Self>, bus: &ChangeBus) -> JoinHandle<()> {
        let _ = self.bus.set(bus.clone());
        let mut notices = bus.subscribe();
        let engine = Arc::downgrade(self);
        tokio::spawn(async move {
            loop {
                let notice = match notices.recv().await {
                    Ok(notice) => notice,
                    Err(broadcast::error::RecvError::Lagged(_)) => Notice::Resync,
                    Err(broadcast::error::RecvError::Closed) => return,
                };
                let Some(engine) = engine.upgrade() else {
                    return;
                };
                let applied = match notice {
                    Notice::Change(envelope) if envelope.origin == engine.origin => Ok(()),
                    Notice::Change(envelope) => engine.apply(&envelope.change).await,
                    Notice::Resync => engine.reload().await,
                    // Policies may lag until the resync that follows; a policy check is not a
                    // revocation, so it keeps answering from what it has.
                    _ => Ok(()),
                };
                if let Err(e) = applied {
                    tracing::error!(error = %e, "policy change from another instance not applied; reloading");
                    if let Err(e) = engine.reload().await {
                        tracing::error!(error = %e, "policy reload failed");
                    }
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::time_window;

    #[test]
    fn time_windows_include_the_start_exclude_the_end_and_may_span_midnight() {
        assert!(time_window("09:00", "09:00-17:00"));
        assert!(time_window("16:59", "09:00-17:00"));
        assert!(!time_window("17:00", "09:00-17:00"));
        assert!(!time_window("08:59", "09:00-17:00"));
        assert!(time_window("23:00", "22:00-06:00"));
        assert!(time_window("00:00", "22:00-06:00"));
        assert!(!time_window("06:00", "22:00-06:00"));
        assert!(!time_window("12:00", "22:00-06:00"));
        assert!(time_window("12:00", "*"));
        assert!(time_window("12:00", " 09:00 - 17:00 "));
    }

    #[test]
    fn malformed_times_and_windows_never_match() {
        for (time, window) in [
            ("12:00", "09:00"),
            ("12:00", "9-17"),
            ("12:00", "09:00-24:00"),
            ("12:60", "00:00-23:59"),
            ("noon", "00:00-23:59"),
            ("", "00:00-23:59"),
            ("12:00", ""),
        ] {
            assert!(!time_window(time, window), "{time} in {window}");
        }
    }
}
