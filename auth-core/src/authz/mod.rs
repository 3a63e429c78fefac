//! Authorization primitives shared by guards: permission matching with wildcards.
//!
//! A granted permission matches a required one when they are equal, when it is `*`, or when it
//! ends in `.*` and the required permission starts with the part before it:
//! `articles.*` grants `articles.write` and `articles.drafts.delete`, but not `articles` itself
//! nor `articlesx.read`.
//!
//! ```
//! use auth_core::authz::permission_matches;
//!
//! assert!(permission_matches("*", "users.delete"));
//! assert!(permission_matches("articles.*", "articles.write"));
//! assert!(!permission_matches("articles.*", "comments.write"));
//! assert!(!permission_matches("articles.read", "articles.write"));
//! ```

/// Whether `granted` covers `required`.
#[must_use]
pub fn permission_matches(granted: &str, required: &str) -> bool {
    if granted == "*" || granted == required {
        return true;
    }
    granted.strip_suffix(".*").is_some_and(|prefix| {
        required.len() > prefix.len() + 1
            && required.starts_with(prefix)
            && required.as_bytes()[prefix.len()] == b'.'
    })
}

/// Whether any of `granted` covers `required`.
#[must_use]
pub fn any_permission_matches<'a>(
    granted: impl IntoIterator<Item = &'a String>,
    required: &str,
) -> bool {
    granted.into_iter().any(|g| permission_matches(g, required))
}

#[cfg(feature = "casbin")]
pub mod engine;
mod policy;
mod requirement;
mod roles;
mod schema;
mod service;
pub mod services;
mod store;

pub use self::policy::{policy_eq, policy_ne, Policy, PolicyContext};
pub use self::requirement::Requirement;
pub use self::roles::{RoleError, RoleHierarchy};
pub use self::schema::{
    PermissionDef, PermissionKind, PermissionSchema, RoleName, RoleSchema, UnknownName,
};
pub use self::service::{AuthorizationService, Decision, Reason};
pub use self::store::{compose_roles, load_roles, LoadRolesError, RoleRecord, RoleStore};
