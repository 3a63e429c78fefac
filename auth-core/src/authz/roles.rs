use std::collections::{BTreeMap, HashMap, HashSet};

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

/// A set of granted permissions compiled for lookups: `*`, exact names, and `prefix.*`
/// wildcards kept by prefix, so a check costs one hash lookup per segment of the required
/// permission, whatever the number of grants.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Grants {
    everything: bool,
    exact: HashSet<String>,
    prefixes: HashSet<String>,
}

impl Grants {
    fn add(&mut self, permission: &str) {
        if permission == "*" {
            self.everything = true;
        } else if let Some(prefix) = permission.strip_suffix(".*") {
            self.prefixes.insert(prefix.to_owned());
        } else {
            self.exact.insert(permission.to_owned());
        }
    }

    fn extend(&mut self, other: &Self) {
        self.everything |= other.everything;
        self.exact.extend(other.exact.iter().cloned());
        self.prefixes.extend(other.prefixes.iter().cloned());
    }

    /// Whether the grants cover `required` (same rules as
    /// [`permission_matches`](super::permission_matches)).
    pub(crate) fn covers(&self, required: &str) -> bool {
        if self.everything || self.exact.contains(required) {
            return true;
        }
        if self.prefixes.is_empty() {
            return false;
        }
        // `a.b.c` is covered by `a.*` or `a.b.*`: look up each proper dotted prefix.
        required
            .match_indices('.')
            .any(|(i, _)| i > 0 && i + 1 < required.len() && self.prefixes.contains(&required[..i]))
    }
}

#[derive(Debug, Clone, Default)]
struct Resolved {
    /// The role itself and every role it inherits from.
    roles: HashSet<String>,
    /// Every permission granted by those roles.
    grants: Grants,
}

/// One role as written: its parents and its own grants.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Definition {
    inherits: Vec<String>,
    permissions: Vec<String>,
}

/// Roles with multiple parents and the permissions each grants, compiled once: a check is a
/// few hash lookups, not a graph walk. Definitions from several sources (a `#[derive(Roles)]`
/// enum, configuration, the store) compose with [`RoleHierarchy::compose`].
///
/// ```
/// use auth_core::authz::RoleHierarchy;
///
/// // The lexigram seed's example, as written there.
/// let roles = RoleHierarchy::builder()
///     .role("viewer", &[], &["articles.read"])
///     .role("editor", &["viewer"], &["articles.write"])
///     .role("admin", &[], &["*"])
///     .build()?;
/// let editor = ["editor".to_owned()];
/// assert!(roles.has_role(&editor, "viewer"));
/// assert!(roles.has_permission(&editor, &[], "articles.read"));
/// assert!(!roles.has_permission(&editor, &[], "users.delete"));
/// assert!(roles.has_permission(&["admin".to_owned()], &[], "users.delete"));
/// # Ok::<(), auth_core::authz::RoleError>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct RoleHierarchy {
    definitions: BTreeMap<String, Definition>,
    resolved: HashMap<String, Resolved>,
}

/// Builds a [`RoleHierarchy`]; see [`RoleHierarchy::builder`].
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct RoleHierarchyBuilder {
    definitions: BTreeMap<String, Definition>,
}

impl RoleHierarchyBuilder {
    /// Defines `name`, inheriting from `inherits` and granting `permissions` (wildcards
    /// allowed). Defining a role again adds to it: parents and permissions are merged.
    pub fn role(mut self, name: &str, inherits: &[&str], permissions: &[&str]) -> Self {
        let definition = self.definitions.entry(name.to_owned()).or_default();
        for parent in inherits {
            if !definition.inherits.iter().any(|p| p == parent) {
                definition.inherits.push((*parent).to_owned());
            }
        }
        for permission in permissions {
            if !definition.permissions.iter().any(|p| p == permission) {
                definition.permissions.push((*permission).to_owned());
            }
        }
        self
    }

    /// The definitions without resolving them, for composing with roles defined elsewhere
    /// (a parent may be defined in the other hierarchy).
    pub(crate) fn definitions_unresolved(self) -> RoleHierarchy {
        RoleHierarchy {
            definitions: self.definitions,
            resolved: HashMap::new(),
        }
    }

    /// Resolves every role's ancestors and permissions.
    ///
    /// # Errors
    /// [`RoleError`] naming the roles of a cycle or an unknown parent.
    pub fn build(self) -> Result<RoleHierarchy, RoleError> {
        let mut resolved = HashMap::new();
        for name in self.definitions.keys() {
            resolve(&self.definitions, name, &mut Vec::new(), &mut resolved)?;
        }
        Ok(RoleHierarchy {
            definitions: self.definitions,
            resolved,
        })
    }
}

fn resolve(
    definitions: &BTreeMap<String, Definition>,
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
    let definition = &definitions[name];
    path.push(name.to_owned());
    let mut out = Resolved {
        roles: HashSet::from([name.to_owned()]),
        grants: Grants::default(),
    };
    for permission in &definition.permissions {
        out.grants.add(permission);
    }
    for parent in &definition.inherits {
        if !definitions.contains_key(parent) {
            return Err(RoleError::UnknownParent {
                role: name.to_owned(),
                parent: parent.clone(),
            });
        }
        let inherited = resolve(definitions, parent, path, done)?;
        out.roles.extend(inherited.roles);
        out.grants.extend(&inherited.grants);
    }
    path.pop();
    done.insert(name.to_owned(), out.clone());
    Ok(out)
}

impl RoleHierarchy {
    /// A builder.
    pub fn builder() -> RoleHierarchyBuilder {
        RoleHierarchyBuilder::default()
    }

    /// The union of two hierarchies (a role defined in both gets both definitions),
    /// resolved again.
    ///
    /// # Errors
    /// [`RoleError`] if the union has a cycle or an unknown parent.
    pub fn compose(&self, other: &Self) -> Result<Self, RoleError> {
        let mut builder = RoleHierarchyBuilder {
            definitions: self.definitions.clone(),
        };
        for (name, definition) in &other.definitions {
            let inherits: Vec<&str> = definition.inherits.iter().map(String::as_str).collect();
            let permissions: Vec<&str> =
                definition.permissions.iter().map(String::as_str).collect();
            builder = builder.role(name, &inherits, &permissions);
        }
        builder.build()
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
        super::any_permission_matches(direct, permission)
            || held.iter().any(|h| {
                self.resolved
                    .get(h)
                    .is_some_and(|r| r.grants.covers(permission))
            })
    }

    /// The first of `held` whose grants (its own or inherited) cover `permission`.
    #[must_use]
    pub fn granting_role<'a>(&self, held: &'a [String], permission: &str) -> Option<&'a str> {
        held.iter()
            .find(|h| {
                self.resolved
                    .get(*h)
                    .is_some_and(|r| r.grants.covers(permission))
            })
            .map(String::as_str)
    }

    /// The defined role names.
    pub fn roles(&self) -> impl Iterator<Item = &str> {
        self.definitions.keys().map(String::as_str)
    }

    /// Every permission (or wildcard pattern) some role grants directly.
    pub fn granted_permissions(&self) -> impl Iterator<Item = &str> {
        self.definitions
            .values()
            .flat_map(|definition| definition.permissions.iter().map(String::as_str))
    }
}
