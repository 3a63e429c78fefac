use std::fmt;
use std::sync::Arc;

use arc_swap::ArcSwap;

use super::{permission_matches, RoleHierarchy};
use crate::principal::Principal;

/// Why a request was allowed or denied.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reason {
    /// A permission granted to the principal directly covers it.
    DirectGrant {
        /// The grant that matched (possibly a wildcard).
        granted: String,
    },
    /// A role of the principal (or a role it inherits) grants it.
    Role {
        /// The principal's role through which it is granted.
        role: String,
    },
    /// Nothing grants it: denied by default.
    NoGrant,
    /// The owner holds it, but the API key's scopes do not cover it.
    OutOfScope,
}

/// An authorization decision, with its explanation.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Decision {
    /// The permission that was checked.
    pub permission: String,
    /// Whether it is granted.
    pub allowed: bool,
    /// Why.
    pub reason: Reason,
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verdict = if self.allowed { "allowed" } else { "denied" };
        match &self.reason {
            Reason::DirectGrant { granted } => write!(
                f,
                "{verdict} `{}`: granted directly by `{granted}`",
                self.permission
            ),
            Reason::Role { role } => write!(
                f,
                "{verdict} `{}`: granted through role `{role}`",
                self.permission
            ),
            Reason::NoGrant => write!(
                f,
                "{verdict} `{}`: no role or grant covers it",
                self.permission
            ),
            Reason::OutOfScope => write!(
                f,
                "{verdict} `{}`: the API key's scopes do not cover it",
                self.permission
            ),
        }
    }
}

/// Authorization decisions over a role hierarchy that can be replaced at run time
/// atomically: requests in flight finish on the old hierarchy, later ones see the new one.
///
/// ```
/// use auth_core::authz::{AuthorizationService, RoleHierarchy};
/// use auth_core::token::Claims;
/// # let claims: Claims = serde_json::from_value(serde_json::json!({
/// #     "sub": "u1", "exp": 2, "iat": 1, "nbf": 1, "jti": "j", "typ": "access", "roles": ["editor"]
/// # })).unwrap();
/// let principal = auth_core::Principal::from_claims(&claims);
///
/// let roles = RoleHierarchy::builder()
///     .role("viewer", &[], &["articles.read"])
///     .role("editor", &["viewer"], &["articles.write"])
///     .build()?;
/// let authz = AuthorizationService::new(roles);
/// let decision = authz.authorize(&principal, "articles", "read");
/// assert!(decision.allowed);
/// assert_eq!(decision.to_string(), "allowed `articles.read`: granted through role `editor`");
/// assert!(!authz.authorize(&principal, "users", "delete").allowed); // deny by default
/// # Ok::<(), auth_core::authz::RoleError>(())
/// ```
#[derive(Debug, Default)]
pub struct AuthorizationService {
    roles: ArcSwap<RoleHierarchy>,
}

impl AuthorizationService {
    /// A service over `roles`.
    #[must_use]
    pub fn new(roles: RoleHierarchy) -> Self {
        Self {
            roles: ArcSwap::from_pointee(roles),
        }
    }

    /// The current hierarchy.
    #[must_use]
    pub fn roles(&self) -> Arc<RoleHierarchy> {
        self.roles.load_full()
    }

    /// Replaces the hierarchy atomically (roles changed at run time).
    pub fn set_roles(&self, roles: RoleHierarchy) {
        self.roles.store(Arc::new(roles));
    }

    /// Whether `principal` may do `action` on `resource`: the permission `resource.action`.
    #[must_use]
    pub fn authorize(&self, principal: &Principal, resource: &str, action: &str) -> Decision {
        self.check_permission(principal, &format!("{resource}.{action}"))
    }

    /// Whether `principal` holds `permission`, directly or through its roles. Deny by default.
    #[must_use]
    pub fn check_permission(&self, principal: &Principal, permission: &str) -> Decision {
        let decided = |allowed, reason| Decision {
            permission: permission.to_owned(),
            allowed,
            reason,
        };
        if !principal.scope_covers(permission) {
            return decided(false, Reason::OutOfScope);
        }
        if let Some(granted) = principal
            .permissions
            .iter()
            .find(|g| permission_matches(g, permission))
        {
            return decided(
                true,
                Reason::DirectGrant {
                    granted: granted.clone(),
                },
            );
        }
        match self
            .roles
            .load()
            .granting_role(&principal.roles, permission)
        {
            Some(role) => decided(
                true,
                Reason::Role {
                    role: role.to_owned(),
                },
            ),
            None => decided(false, Reason::NoGrant),
        }
    }
}
