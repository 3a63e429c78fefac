use std::fmt;

use super::RoleHierarchy;
use crate::principal::Principal;

/// What a policy expression can see: the principal, the role hierarchy, and the request's
/// path and query parameters.
#[derive(Debug, Clone, Copy)]
pub struct PolicyContext<'a> {
    principal: &'a Principal,
    roles: &'a RoleHierarchy,
    path: &'a [(String, String)],
    query: &'a [(String, String)],
    tenant: Option<(&'a str, &'a [String])>,
    /// The request's time, when set ([`at`](Self::at)); the system's otherwise.
    now: Option<i64>,
}

impl<'a> PolicyContext<'a> {
    /// A context over a request.
    #[must_use]
    pub fn new(
        principal: &'a Principal,
        roles: &'a RoleHierarchy,
        path: &'a [(String, String)],
        query: &'a [(String, String)],
    ) -> Self {
        Self {
            principal,
            roles,
            path,
            query,
            tenant: None,
            now: None,
        }
    }

    /// The same context at `now` (seconds since the Unix epoch), for requirements on how
    /// recently the principal authenticated.
    #[must_use]
    pub fn at(mut self, now: i64) -> Self {
        self.now = Some(now);
        self
    }

    /// The request's time: as [`at`](Self::at) set it, else the system's.
    #[must_use]
    pub fn now(&self) -> i64 {
        self.now
            .unwrap_or_else(|| crate::clock::Clock::now(&crate::clock::SystemClock))
    }

    /// The same request, as `principal` makes it (the owner of an API key, to tell a missing
    /// scope from a missing grant).
    #[must_use]
    pub fn for_principal<'b>(&self, principal: &'b Principal) -> PolicyContext<'b>
    where
        'a: 'b,
    {
        PolicyContext {
            principal,
            roles: self.roles,
            path: self.path,
            query: self.query,
            tenant: self.tenant,
            now: self.now,
        }
    }

    /// The same context with the request's tenant and the roles the principal holds there
    /// (for `#[require_tenant_roles]`).
    #[must_use]
    pub fn with_tenant(mut self, tenant: &'a str, roles: &'a [String]) -> Self {
        self.tenant = Some((tenant, roles));
        self
    }

    /// The request's tenant and the principal's roles in it, when a tenant guard resolved
    /// them.
    #[must_use]
    pub fn request_tenant(&self) -> Option<(&'a str, &'a [String])> {
        self.tenant
    }

    /// Whether the principal holds `role` in the request's tenant, directly, through casbin's
    /// domain role links, or by inheritance in the role hierarchy.
    #[must_use]
    pub fn has_tenant_role(&self, role: &str) -> bool {
        self.tenant
            .is_some_and(|(_, held)| self.roles.has_role(held, role))
    }

    /// The principal.
    #[must_use]
    pub fn principal(&self) -> &'a Principal {
        self.principal
    }

    /// The role hierarchy.
    #[must_use]
    pub fn roles(&self) -> &'a RoleHierarchy {
        self.roles
    }

    /// `has_role("x")`: the principal has the role, directly or by inheritance.
    #[must_use]
    pub fn has_role(&self, role: &str) -> bool {
        self.principal.may_use_roles() && self.roles.has_role(&self.principal.roles, role)
    }

    /// `has_permission("x.y")`: a direct or role grant covers it.
    #[must_use]
    pub fn has_permission(&self, permission: &str) -> bool {
        self.principal.scope_covers(permission)
            && self.roles.has_permission(
                &self.principal.roles,
                &self.principal.permissions,
                permission,
            )
    }

    /// `user.id`.
    #[must_use]
    pub fn user_id(&self) -> Option<&str> {
        Some(self.principal.user_id.as_str())
    }

    /// `user.tenant`.
    #[must_use]
    pub fn tenant(&self) -> Option<&str> {
        self.principal.tenant.as_deref()
    }

    /// `path.<name>`: a path parameter.
    #[must_use]
    pub fn path(&self, name: &str) -> Option<&str> {
        self.path
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// `query.<name>`: a query parameter.
    #[must_use]
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// `a == b` in a policy: true only when both sides are present and equal (a missing value
/// never matches, so a missing path parameter denies).
#[must_use]
pub fn policy_eq(a: Option<&str>, b: Option<&str>) -> bool {
    matches!((a, b), (Some(x), Some(y)) if x == y)
}

/// `a != b` in a policy: true only when both sides are present and differ.
#[must_use]
pub fn policy_ne(a: Option<&str>, b: Option<&str>) -> bool {
    matches!((a, b), (Some(x), Some(y)) if x != y)
}

/// A policy expression, parsed and checked when the handler compiled
/// (`#[require_policy("...")]`) and evaluated as generated Rust code: no parsing at run time.
#[derive(Clone, Copy)]
pub struct Policy {
    /// The expression as written.
    pub source: &'static str,
    /// The compiled expression.
    pub eval: fn(&PolicyContext<'_>) -> bool,
    /// The query parameters the expression reads (`query.<name>`). A request naming one of
    /// them more than once is refused before the policy runs: the policy would read one
    /// value and the handler's `Query` another.
    pub query: &'static [&'static str],
}

impl fmt::Debug for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Policy")
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

impl PartialEq for Policy {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Eq for Policy {}
