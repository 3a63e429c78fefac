use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::any_permission_matches;

/// Why a role hierarchy was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RoleError {
    /// A role inherits, directly or not, from itself.
    #[error("role inheritance cycle: {}", .0.join(" -> "))]
    Cycle(Vec<String>),
    /// A role inherits from a role that is not defined.
    #[error("role `{role}` inherits from unknown role `{parent}`")]
    UnknownParent {
        /// The inheriting role.
        role: String,
        /// The missing parent.
        parent: String,
    },
}

#[derive(Debug, Clone, Default)]
struct Resolved {
    /// The role itself and every role it inherits from.
    roles: BTreeSet<String>,
    /// Every permission granted by those roles.
    permissions: Vec<String>,
}

/// Roles with multiple parents and the permissions each grants, resolved once: a check is a
/// map lookup, not a graph walk.
///
/// ```
/// use auth_core::authz::RoleHierarchy;
///
/// let roles = RoleHierarchy::builder()
///     .role("viewer", &[], &["articles.read"])
///     .role("editor", &["viewer"], &["articles.write"])
///     .role("admin", &[], &["*"])
///     .build()?;
/// let editor = ["editor".to_owned()];
/// assert!(roles.has_role(&editor, "viewer"));
/// assert!(roles.has_permission(&editor, &[], "articles.read"));
/// assert!(!roles.has_permission(&editor, &[], "users.delete"));
/// # Ok::<(), auth_core::authz::RoleError>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct RoleHierarchy {
    resolved: HashMap<String, Resolved>,
}

/// Builds a [`RoleHierarchy`]; see [`RoleHierarchy::builder`].
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct RoleHierarchyBuilder {
    roles: BTreeMap<String, (Vec<String>, Vec<String>)>,
}

impl RoleHierarchyBuilder {
    /// Defines `name`, inheriting from `inherits` and granting `permissions` (wildcards allowed).
    pub fn role(mut self, name: &str, inherits: &[&str], permissions: &[&str]) -> Self {
        let owned = |items: &[&str]| items.iter().map(|i| (*i).to_owned()).collect();
        self.roles
            .insert(name.to_owned(), (owned(inherits), owned(permissions)));
        self
    }

    /// Resolves every role's ancestors and permissions.
    ///
    /// # Errors
    /// [`RoleError`] naming the roles of a cycle or an unknown parent.
    pub fn build(self) -> Result<RoleHierarchy, RoleError> {
        let mut resolved = HashMap::new();
        for name in self.roles.keys() {
            let mut path = Vec::new();
            resolve(&self.roles, name, &mut path, &mut resolved)?;
        }
        Ok(RoleHierarchy { resolved })
    }
}

fn resolve(
    roles: &BTreeMap<String, (Vec<String>, Vec<String>)>,
    name: &str,
    path: &mut Vec<String>,
    done: &mut HashMap<String, Resolved>,
) -> Result<Resolved, RoleError> {
    if let Some(r) = done.get(name) {
        return Ok(r.clone());
    }
    if let Some(start) = path.iter().position(|p| p == name) {
        let mut cycle = path[start..].to_vec();
        cycle.push(name.to_owned());
        return Err(RoleError::Cycle(cycle));
    }
    let (parents, permissions) = &roles[name];
    path.push(name.to_owned());
    let mut out = Resolved {
        roles: BTreeSet::from([name.to_owned()]),
        permissions: permissions.clone(),
    };
    for parent in parents {
        if !roles.contains_key(parent) {
            return Err(RoleError::UnknownParent {
                role: name.to_owned(),
                parent: parent.clone(),
            });
        }
        let inherited = resolve(roles, parent, path, done)?;
        out.roles.extend(inherited.roles);
        out.permissions.extend(inherited.permissions);
    }
    path.pop();
    out.permissions.sort();
    out.permissions.dedup();
    done.insert(name.to_owned(), out.clone());
    Ok(out)
}

impl RoleHierarchy {
    /// A builder.
    pub fn builder() -> RoleHierarchyBuilder {
        RoleHierarchyBuilder::default()
    }

    /// Whether a holder of `held` roles has `role`, directly or by inheritance.
    #[must_use]
    pub fn has_role(&self, held: &[String], role: &str) -> bool {
        held.iter()
            .any(|h| h == role || self.resolved.get(h).is_some_and(|r| r.roles.contains(role)))
    }

    /// Whether `direct` permissions or the permissions of the `held` roles (inherited ones
    /// included) cover `permission`.
    #[must_use]
    pub fn has_permission(&self, held: &[String], direct: &[String], permission: &str) -> bool {
        any_permission_matches(direct, permission)
            || held.iter().any(|h| {
                self.resolved
                    .get(h)
                    .is_some_and(|r| any_permission_matches(&r.permissions, permission))
            })
    }

    /// The defined role names.
    pub fn roles(&self) -> impl Iterator<Item = &str> {
        self.resolved.keys().map(String::as_str)
    }
}
